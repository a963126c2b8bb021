//! The log: a Merkle tree (`tlog`) over a durable store (`store`), with one sequencer thread
//! that integrates entries in batches (group commit).
//!
//! A submitted entry waits in a queue. The sequencer takes everything queued (up to
//! [`MAX_BATCH`]), drops duplicates, assigns indices, signs each SET, appends the leaves,
//! signs one checkpoint for the new tree, writes the whole batch in one atomic write and
//! flushes it to disk. Only then are the submitters answered, so a 201 always means durable.
//!
//! On PostgreSQL ([`crate::store::Store::Postgres`]) several servers share one log: the
//! sequencer thread of each is then a coordinator ([`coordinate`]): while it holds the
//! leader lock it integrates its own queue and the writes other servers handed over
//! through the database; otherwise it hands its queue over and answers each submitter once
//! the leader has committed the entry (or found it logged already).

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, RwLock, RwLockWriteGuard};
use std::time::{Duration, Instant};

use super::entry::{entry_id, EntryView, InclusionProof, Record};
use super::kinds::CanonicalEntry;
use super::{Error, Result};
use crate::crypto::Signer;
use crate::encoding::hex_encode;
use crate::store::postgres::{Outcome, PgStore};
use crate::store::{Commit, CommittedEntry, Store};
use crate::tlog::{self, Checkpoint, CompactRange, Hash};

/// Most entries integrated by one commit.
pub const MAX_BATCH: usize = 1024;

/// Where the log gets the time (Unix seconds); the CLI passes the system clock.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Which Rekor API generation a log speaks (PROTOCOLS §4 and §4.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogVersion {
    /// Rekor v1: ECDSA key, origin `<name> - <tree ID>`, a SET and integrated time per entry,
    /// kinds `hashedrekord` 0.0.1, `dsse` 0.0.1, `intoto` 0.0.2.
    V1,
    /// Rekor v2 (rekor-tiles): origin = key name = the host, no SET and no integrated time,
    /// only `hashedrekord` 0.0.2; the log ID is the C2SP key ID of the (Ed25519) key.
    V2,
}

/// The latest signed state of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Number of entries.
    pub size: u64,
    /// Root hash at `size`.
    pub root: Hash,
    /// Signed checkpoint for (`size`, `root`).
    pub checkpoint: String,
}

/// A handle to the running log. Cheap to clone; the sequencer stops when every handle is
/// gone, or at once with [`Log::close`] on the last handle.
#[derive(Clone)]
pub struct Log {
    shared: Arc<Shared>,
    queue: mpsc::SyncSender<Pending>,
    sequencer: Arc<std::sync::Mutex<Option<std::thread::JoinHandle<()>>>>,
}

struct Shared {
    store: Store,
    /// The signing key. A batch holds the read lock from its clock reading to its commit,
    /// so its SETs and checkpoint are by one key; a rotation holds the write lock.
    key: RwLock<LogKey>,
    /// Keys retired by live rotations, oldest first (store meta `retired_keys`).
    retired: RwLock<Vec<RetiredKey>>,
    name: String,
    origin: String,
    version: LogVersion,
    tree_id: u64,
    head: RwLock<Head>,
}

/// The log's current key and its log ID.
struct LogKey {
    signer: Arc<dyn Signer>,
    log_id: Hash,
}

struct Pending {
    entry: CanonicalEntry,
    reply: tokio::sync::oneshot::Sender<Result<Integrated>>,
}

/// Who waits for an entry of a batch: a submitter on this server, or (PostgreSQL) a row of
/// the `pending` table another server waits on.
enum Reply {
    Local(tokio::sync::oneshot::Sender<Result<Integrated>>),
    Remote(i64),
}

/// One entry of a batch.
struct Item {
    body: Vec<u8>,
    search_keys: Vec<String>,
    reply: Reply,
}

/// What the sequencer hands back for a durable entry, so that the answer needs no read of
/// what was just written.
struct Integrated {
    index: u64,
    record: Record,
    leaf: Hash,
    /// The batch's head and key: the answer's proof and log ID are those its SET was made
    /// with, even if the key is rotated before the answer is built.
    head: Head,
    log_id: Hash,
}

impl Log {
    /// Opens a Rekor v1 log in `store`, signing with `signer` under key name `name` (the
    /// checkpoint origin is `<name> - <tree ID>`). The tree ID is made on first open.
    /// Re-signs the current checkpoint (so a changed name takes effect) and starts the
    /// sequencer thread.
    pub fn open(
        store: impl Into<Store>,
        signer: Arc<dyn Signer>,
        name: &str,
        clock: Clock,
    ) -> Result<Log> {
        Self::open_version(store, signer, name, LogVersion::V1, clock)
    }

    /// Opens a log of the given version (see [`LogVersion`]); [`Log::open`] is `V1`.
    ///
    /// Errors: [`Error::Tree`] when `name` is not a valid signed-note key name.
    pub fn open_version(
        store: impl Into<Store>,
        signer: Arc<dyn Signer>,
        name: &str,
        version: LogVersion,
        clock: Clock,
    ) -> Result<Log> {
        let store: Store = store.into();
        let tree_id = {
            let mut b = [0u8; 8];
            crate::crypto::fill_random(&mut b).map_err(Error::Signing)?;
            // Trillian tree IDs are positive int64.
            let id = (u64::from_be_bytes(b) >> 1).max(1);
            // On a shared database the first server to start picks it.
            let v = store.meta_or_insert("tree_id", &id.to_be_bytes())?;
            let bytes: [u8; 8] =
                v.as_slice().try_into().map_err(|_| crate::store::Error::Corrupt("tree id"))?;
            u64::from_be_bytes(bytes)
        };
        if let Store::Postgres(_) = &store {
            // Every server of a shared log signs for it: same key, same name.
            let pem = signer.public_key().to_pem();
            let stored = store.meta_or_insert("log_key", pem.as_bytes())?;
            if stored != pem.as_bytes() {
                return Err(Error::SharedLog(
                    "the log in the database is signed by another key: give every server of \
                     one log the same --signer-key"
                        .into(),
                ));
            }
            let stored = store.meta_or_insert("name", name.as_bytes())?;
            if stored != name.as_bytes() {
                let stored = String::from_utf8_lossy(&stored);
                return Err(Error::SharedLog(format!(
                    "the log in the database is named {stored:?}, not {name:?}: start every \
                     server with --origin {stored}"
                )));
            }
        }
        let range = store.compact_range()?;
        let origin = match version {
            LogVersion::V1 => format!("{name} - {tree_id}"),
            LogVersion::V2 => name.to_string(),
        };
        // SHA-256(SPKI) for ECDSA keys (Rekor v1), the C2SP key ID for Ed25519 (Rekor v2).
        let log_id = tlog::NoteVerifier::for_key(name, signer.public_key().clone())?.log_id();
        let checkpoint = match &store {
            Store::Sled(_) => {
                let checkpoint = sign_head(&origin, name, &*signer, range.size(), range.root())?;
                store.set_meta("checkpoint", checkpoint.as_bytes())?;
                checkpoint
            }
            // The leader's own checkpoint (other servers serve it as it is); an empty log's
            // is signed here and not stored.
            Store::Postgres(_) => match store.checkpoint()? {
                Some(checkpoint) => checkpoint,
                None => sign_head(&origin, name, &*signer, range.size(), range.root())?,
            },
        };
        let head = Head { size: range.size(), root: range.root(), checkpoint };
        let retired: Vec<RetiredKey> = match store.meta(RETIRED_KEYS)? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|_| crate::store::Error::Corrupt("retired log keys"))?,
            None => Vec::new(),
        };
        let shared = Arc::new(Shared {
            store,
            key: RwLock::new(LogKey { signer, log_id }),
            retired: RwLock::new(retired),
            name: name.to_string(),
            origin,
            version,
            tree_id,
            head: RwLock::new(head),
        });
        let (queue, rx) = mpsc::sync_channel(4 * MAX_BATCH);
        let worker = shared.clone();
        let sequencer = std::thread::Builder::new()
            .name("rekor-sequencer".into())
            .spawn(move || match worker.store.as_postgres().cloned() {
                None => sequence(&worker, rx, range, clock),
                Some(pg) => coordinate(&worker, &pg, rx, clock),
            })
            .map_err(|_| Error::Unavailable)?;
        tracing::info!(size = shared.head().size, tree_id, "log opened");
        Ok(Log { shared, queue, sequencer: Arc::new(std::sync::Mutex::new(Some(sequencer))) })
    }

    /// Closes the log: stops the sequencer once it has integrated what it was given, waits
    /// for it, and flushes and closes the store (a restart in the same process can then
    /// open it; `LogStore::open` waits out sled's lock release). On a handle that is not
    /// the last one it only drops this handle: the log runs on for the others.
    ///
    /// Errors: [`Error::Unavailable`] if the sequencer thread panicked; store errors.
    pub fn close(self) -> Result<()> {
        let Log { shared, queue, sequencer } = self;
        drop(queue);
        // The sequencer thread holds one more reference to `shared`.
        if Arc::strong_count(&sequencer) > 1 {
            return Ok(());
        }
        let handle = sequencer.lock().map_err(|_| Error::Unavailable)?.take();
        if let Some(handle) = handle {
            handle.join().map_err(|_| Error::Unavailable)?;
        }
        match Arc::try_unwrap(shared) {
            Ok(shared) => Ok(shared.store.close()?),
            Err(_) => Ok(()),
        }
    }

    /// Whether the log lives in a database reached over the network (PostgreSQL), where
    /// every read may wait for a round trip, rather than in the embedded store.
    pub fn on_database(&self) -> bool {
        matches!(self.shared.store, Store::Postgres(_))
    }

    /// Submits a verified entry and waits until it is durable. Returns its view with an
    /// inclusion proof against the checkpoint that first covered it (or a later one).
    ///
    /// Errors: [`Error::Duplicate`] if the same body is logged already; [`Error::Unavailable`]
    /// if the sequencer stopped or the commit failed.
    pub async fn submit(&self, entry: CanonicalEntry) -> Result<EntryView> {
        if entry.body.len() > u16::MAX as usize {
            return Err(Error::BodyTooLarge(entry.body.len()));
        }
        let (reply, wait) = tokio::sync::oneshot::channel();
        match self.queue.try_send(Pending { entry, reply }) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Disconnected(_)) => return Err(Error::Unavailable),
            Err(mpsc::TrySendError::Full(pending)) => {
                // Back-pressure: wait for room on a blocking thread, not on the runtime.
                let queue = self.queue.clone();
                tokio::task::spawn_blocking(move || queue.send(pending))
                    .await
                    .map_err(|_| Error::Unavailable)?
                    .map_err(|_| Error::Unavailable)?;
            }
        }
        let done = wait.await.map_err(|_| Error::Unavailable)??;
        self.view_at(done.index, done.record, &done.leaf, done.head, &done.log_id)
    }

    /// On an empty log, logs one `hashedrekord` entry signed by the log key itself, so
    /// that no client entry gets index 0 (proto3 JSON drops a zero `logIndex`, and
    /// sigstore-python then rejects the bundle; INTEROP "Log index 0 pitfall").
    /// Returns the entry, or `None` if the log already has entries.
    pub async fn seed_genesis(&self) -> Result<Option<EntryView>> {
        // Rekor v2 logs take only hashedrekord 0.0.2 and their key is Ed25519; v2 clients
        // (sigstore-python) read index 0 fine, so there is nothing to seed.
        if self.head().size > 0 || self.shared.version == LogVersion::V2 {
            return Ok(None);
        }
        let message = format!("sigbox rekor genesis entry for tree {}", self.shared.tree_id);
        let digest =
            crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, message.as_bytes());
        let signer = self.shared.key().signer.clone();
        let signature = signer.sign(message.as_bytes()).map_err(Error::Signing)?;
        let proposed = serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": digest.to_hex()}},
                "signature": {
                    "content": crate::encoding::b64_encode(signature),
                    "publicKey": {"content": crate::encoding::b64_encode(self.public_key_pem())},
                },
            },
        });
        let entry = super::kinds::canonicalize_proposed(&proposed)?;
        match self.submit(entry).await {
            Ok(view) => Ok(Some(view)),
            Err(Error::Duplicate { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The entry at `index`, with a proof against the current head.
    /// Errors: [`Error::NotFound`].
    pub fn entry_by_index(&self, index: u64) -> Result<EntryView> {
        let head = self.shared.head();
        if index >= head.size {
            return Err(Error::NotFound(format!("entry with logIndex {index}")));
        }
        let bytes = self
            .shared
            .store
            .entry(index)?
            .ok_or_else(|| Error::NotFound(format!("entry with logIndex {index}")))?;
        let record = Record::from_bytes(&bytes)?;
        let leaf = tlog::hash_leaf(&record.body_bytes()?);
        self.view(index, record, &leaf)
    }

    /// The view of entry `index` (`record`, leaf hash `leaf`) with a proof against the head,
    /// or, for an entry whose SET a retired key made, against that key's last checkpoint.
    fn view(&self, index: u64, record: Record, leaf: &Hash) -> Result<EntryView> {
        // Cloned out at once: a rotation takes this lock while it holds the key's.
        let retired = {
            let list = self.shared.retired.read().unwrap_or_else(|p| p.into_inner());
            list.iter().find(|r| index < r.size).cloned()
        };
        if let Some(old) = retired {
            let log_id = crate::encoding::hex_decode(&old.log_id)
                .and_then(|b| Hash::try_from(b).ok())
                .ok_or(crate::store::Error::Corrupt("retired log key"))?;
            let root = self.root_at(old.size)?;
            let head = Head { size: old.size, root, checkpoint: old.checkpoint };
            return self.view_at(index, record, leaf, head, &log_id);
        }
        let (head, log_id) = {
            let key = self.shared.key();
            (self.shared.head(), key.log_id)
        };
        self.view_at(index, record, leaf, head, &log_id)
    }

    fn view_at(
        &self,
        index: u64,
        record: Record,
        leaf: &Hash,
        head: Head,
        log_id: &Hash,
    ) -> Result<EntryView> {
        if index >= head.size {
            // Never the case for a head read after the entry's commit; a server whose head
            // lags (its database went away mid-answer) says so rather than fail the proof.
            tracing::warn!(index, size = head.size, "entry beyond this server's head");
            return Err(match &self.shared.store {
                Store::Postgres(pg) => Error::Database(format!(
                    "PostgreSQL database {}: the tree head read does not cover entry {index} yet",
                    pg.target()
                )),
                Store::Sled(_) => Error::Unavailable,
            });
        }
        if let Store::Postgres(pg) = &self.shared.store {
            // One query for every tile of the proof instead of one per node.
            pg.prefetch(&proof_nodes(|f| tlog::inclusion_proof(index, head.size, f)))?;
        }
        let hashes = tlog::inclusion_proof(index, head.size, |id| self.shared.store.node(id))?;
        Ok(EntryView {
            entry_id: entry_id(self.shared.tree_id, leaf),
            record,
            log_id_hex: hex_encode(log_id),
            proof: InclusionProof {
                log_index: index,
                tree_size: head.size,
                root_hash: head.root,
                hashes,
                checkpoint: head.checkpoint,
            },
        })
    }

    /// The entry with this UUID (64 hex) or entry ID (80 hex, our tree ID first).
    /// Errors: [`Error::NotFound`], [`Error::BadRequest`] for malformed IDs.
    pub fn entry_by_uuid(&self, id: &str) -> Result<EntryView> {
        let leaf = self.parse_uuid(id)?;
        let index = self
            .shared
            .store
            .index_of(&leaf)?
            .ok_or_else(|| Error::NotFound(format!("entry {id}")))?;
        self.entry_by_index(index)
    }

    /// The index of the entry with this leaf hash, if logged and covered by the head.
    pub fn index_of(&self, leaf: &Hash) -> Result<Option<u64>> {
        let size = self.shared.head().size;
        Ok(self.shared.store.index_of(leaf)?.filter(|i| *i < size))
    }

    /// The latest signed head.
    pub fn head(&self) -> Head {
        self.shared.head()
    }

    /// The consistency proof between two sizes of the tree (`last <= head size`).
    pub fn consistency_proof(&self, first: u64, last: u64) -> Result<Vec<Hash>> {
        let size = self.shared.head().size;
        if last > size {
            return Err(Error::BadRequest(format!(
                "lastSize {last} is beyond the tree size {size}"
            )));
        }
        if let Store::Postgres(pg) = &self.shared.store {
            pg.prefetch(&proof_nodes(|f| tlog::consistency_proof(first, last, f)))?;
        }
        Ok(tlog::consistency_proof(first, last, |id| self.shared.store.node(id))?)
    }

    /// The root at an earlier size.
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        Ok(tlog::root_at(size, |id| self.shared.store.node(id))?)
    }

    /// The entry ID of entry `index` (tree ID and leaf hash), read from the stored tree: no
    /// record, no proof. Search answers are built from these.
    pub fn entry_id_at(&self, index: u64) -> Result<String> {
        let leaf = self.shared.store.node(crate::tlog::NodeId { level: 0, index })?;
        Ok(super::entry_id(self.shared.tree_id, &leaf))
    }

    /// Indices of entries under search key `key`, covered by the head.
    pub fn search(&self, key: &str) -> Result<Vec<u64>> {
        let size = self.shared.head().size;
        Ok(self.shared.store.search(key)?.into_iter().filter(|i| *i < size).collect())
    }

    /// The hashes of tree level `level`, nodes `first..end` (tlog-tiles).
    pub fn level_nodes(&self, level: u8, first: u64, end: u64) -> Result<Vec<Hash>> {
        Ok(self.shared.store.level_nodes(level, first, end)?)
    }

    /// Canonical bodies of entries `first..end`.
    pub fn bodies(&self, first: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        self.shared
            .store
            .entries(first, end)?
            .iter()
            .map(|b| Record::from_bytes(b)?.body_bytes())
            .collect()
    }

    /// The store under the log (for online backups through the admin socket; reads only).
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// Sets the free space (bytes) kept on the store's disk: below it, writes get
    /// [`Error::NoSpace`] until space returns.
    pub fn set_reserve(&self, bytes: u64) {
        self.shared.store.set_reserve(bytes);
    }

    /// The tree ID (positive, as Trillian's int64).
    pub fn tree_id(&self) -> u64 {
        self.shared.tree_id
    }

    /// SHA-256 of the current log key's SPKI (the log ID).
    pub fn log_id(&self) -> Hash {
        self.shared.key().log_id
    }

    /// The log's current public key in PEM.
    pub fn public_key_pem(&self) -> String {
        self.shared.key().signer.public_key().to_pem()
    }

    /// Starts a live key rotation: holds the key's write lock, so batches wait (one that
    /// is being integrated finishes first, under the old key) until the returned guard is
    /// dropped. See [`KeyRotation::install`].
    pub fn rotation(&self) -> KeyRotation<'_> {
        KeyRotation {
            shared: &self.shared,
            key: self.shared.key.write().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Which API generation the log speaks.
    pub fn version(&self) -> LogVersion {
        self.shared.version
    }

    /// The checkpoint key name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The checkpoint origin line.
    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    /// The entry ID of a leaf in this log.
    pub fn entry_id(&self, leaf: &Hash) -> String {
        entry_id(self.shared.tree_id, leaf)
    }

    fn parse_uuid(&self, id: &str) -> Result<Hash> {
        let bad = || Error::BadRequest(format!("{id:?} is not a 64- or 80-hex entry UUID"));
        let uuid = match id.len() {
            64 => id,
            80 => {
                let (tree, uuid) = id.split_at(16);
                if !tree.eq_ignore_ascii_case(&format!("{:016x}", self.shared.tree_id)) {
                    return Err(Error::NotFound(format!("entry {id} (other tree)")));
                }
                uuid
            }
            _ => return Err(bad()),
        };
        let bytes = crate::encoding::hex_decode(uuid).ok_or_else(bad)?;
        bytes.try_into().map_err(|_| bad())
    }
}

impl Shared {
    fn head(&self) -> Head {
        self.head.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn key(&self) -> std::sync::RwLockReadGuard<'_, LogKey> {
        self.key.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// The sequencer loop: one batch per iteration until every [`Log`] handle is dropped.
fn sequence(shared: &Shared, rx: mpsc::Receiver<Pending>, mut range: CompactRange, clock: Clock) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![Item::from(first)];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p.into()),
                Err(_) => break,
            }
        }
        if let Err(e) = integrate(shared, &mut range, batch, &clock) {
            tracing::error!(error = %e, "batch commit failed; reloading the tree from storage");
            match shared.store.compact_range() {
                Ok(r) => range = r,
                Err(e) => {
                    tracing::error!(error = %e, "cannot reload the tree; the log stops");
                    return;
                }
            }
        }
    }
}

/// Integrates one batch. On error every submitter in it gets [`Error::Unavailable`] and
/// `range` may be ahead of storage (the caller reloads it).
fn integrate(
    shared: &Shared,
    range: &mut CompactRange,
    batch: Vec<Item>,
    clock: &Clock,
) -> Result<()> {
    // One key for the whole batch, and its time read under it: a rotation at T waits for
    // this batch, so no SET by the old key is dated after T nor one by the new key before.
    let key = shared.key();
    let now = clock();
    // A full disk refuses the batch before anything is signed or written (see
    // `LogStore::check_room`); the next batch tries again.
    if let Err(crate::store::Error::NoSpace { free, reserve }) = shared.store.check_room() {
        tracing::warn!(free, reserve, entries = batch.len(), "disk below reserve; batch refused");
        for Item { reply, .. } in batch {
            if let Reply::Local(reply) = reply {
                let _ = reply.send(Err(Error::NoSpace { free, reserve }));
            }
        }
        return Ok(());
    }
    // Timing instrumentation (perf is not available): one debug event per batch.
    let started = std::time::Instant::now();
    // Pass 1: drop duplicates (stored or earlier in this batch) and assign indices.
    let mut fresh = Vec::with_capacity(batch.len());
    let mut duplicates = Vec::new();
    let failed: Vec<tokio::sync::oneshot::Sender<Result<Integrated>>> = Vec::new();
    let mut in_batch: HashMap<Hash, u64> = HashMap::new();
    let mut next = range.size();
    let mut outcomes: Vec<(i64, Outcome)> = Vec::new();
    let leaves: Vec<Hash> = batch.iter().map(|item| tlog::hash_leaf(&item.body)).collect();
    // One lookup for the whole batch (one round trip on PostgreSQL).
    let stored = match shared.store.indices_of(&leaves) {
        Ok(found) => found,
        Err(e) => {
            tracing::error!(error = %e, "duplicate check failed");
            let error = Error::from(e);
            for item in batch {
                if let Reply::Local(reply) = item.reply {
                    let _ = reply.send(Err(failure(&error)));
                }
            }
            return Ok(());
        }
    };
    for (item, leaf) in batch.into_iter().zip(leaves) {
        let existing = stored.get(&leaf).or_else(|| in_batch.get(&leaf)).copied();
        if let Some(index) = existing {
            match item.reply {
                Reply::Local(reply) => duplicates.push((reply, entry_id(shared.tree_id, &leaf))),
                Reply::Remote(id) => outcomes.push((id, Outcome::Duplicate(index))),
            }
            continue;
        }
        if let Reply::Remote(id) = item.reply {
            outcomes.push((id, Outcome::Logged(next)));
        }
        in_batch.insert(leaf, next);
        fresh.push((item, leaf, next));
        next += 1;
    }
    // Pass 2: the SETs (the costly part).
    let to_sign: Vec<(&[u8], u64)> =
        fresh.iter().map(|(item, _, index)| (item.body.as_slice(), *index)).collect();
    let deduped = started.elapsed();
    let signed = records_for(shared, &key, &to_sign, now);
    drop(to_sign);
    let sets_signed = started.elapsed();
    // Pass 3: append the leaves, then one checkpoint, one write and one flush for all.
    let mut commit = Commit::default();
    let mut accepted = Vec::with_capacity(fresh.len());
    let result = signed.and_then(|records| {
        for ((item, leaf, index), record) in fresh.into_iter().zip(records) {
            range.append(leaf, |id, h| commit.nodes.push((id, *h)))?;
            commit.entries.push(CommittedEntry {
                index,
                leaf_hash: leaf,
                record: record.to_bytes()?,
                search_keys: item.search_keys,
            });
            if let Reply::Local(reply) = item.reply {
                accepted.push((reply, index, record, leaf));
            }
        }
        if commit.entries.is_empty() && outcomes.is_empty() {
            Ok(())
        } else {
            finish(shared, &key, range, &mut commit, &outcomes, started)
        }
    });
    // The key's read lock is still held: this is the head the batch committed.
    let head = shared.head();
    tracing::debug!(
        entries = accepted.len(),
        dedupe_us = deduped.as_micros() as u64,
        sets_us = (sets_signed - deduped).as_micros() as u64,
        total_us = started.elapsed().as_micros() as u64,
        "batch integrated"
    );
    // Answer only now: a 201 means the entry is on disk.
    for (reply, index, record, leaf) in accepted {
        let answer = match &result {
            Ok(()) => {
                Ok(Integrated { index, record, leaf, head: head.clone(), log_id: key.log_id })
            }
            Err(e) => Err(failure(e)),
        };
        let _ = reply.send(answer);
    }
    for (reply, entry_id) in duplicates {
        let _ = reply.send(Err(Error::Duplicate { entry_id }));
    }
    for reply in failed {
        let _ = reply.send(Err(Error::Unavailable));
    }
    result
}

/// The stored records for `(body, index)` pairs: a SET each for Rekor v1, none for v2.
///
/// Signed on the sequencer thread: at about 16 µs a signature that caps the log near 60,000
/// entries/s, far above what verifying the entries on the request threads allows, and
/// spreading a batch over threads measured no faster on this 2-core machine.
fn records_for(
    shared: &Shared,
    key: &LogKey,
    items: &[(&[u8], u64)],
    now: i64,
) -> Result<Vec<Record>> {
    items
        .iter()
        .map(|(body, index)| match shared.version {
            LogVersion::V1 => Record::new(body, now, *index, &key.log_id, &*key.signer),
            LogVersion::V2 => Ok(Record::without_set(body, *index)),
        })
        .collect()
}

fn finish(
    shared: &Shared,
    key: &LogKey,
    range: &CompactRange,
    commit: &mut Commit,
    outcomes: &[(i64, Outcome)],
    started: std::time::Instant,
) -> Result<()> {
    let (size, root) = (range.size(), range.root());
    let appended = started.elapsed();
    if commit.entries.is_empty() {
        // Only answers to handed-over duplicates (PostgreSQL).
        if let Store::Postgres(pg) = &shared.store {
            pg.commit(commit, outcomes)?;
        }
        return Ok(());
    }
    commit.checkpoint = sign_head(&shared.origin, &shared.name, &*key.signer, size, root)?;
    let signed = started.elapsed();
    match &shared.store {
        Store::Sled(s) => s.commit(commit)?,
        Store::Postgres(pg) => pg.commit(commit, outcomes)?,
    }
    tracing::debug!(
        appended_us = appended.as_micros() as u64,
        checkpoint_us = (signed - appended).as_micros() as u64,
        write_flush_us = (started.elapsed() - signed).as_micros() as u64,
        "batch written"
    );
    let mut head = shared.head.write().unwrap_or_else(|p| p.into_inner());
    *head = Head { size, root, checkpoint: std::mem::take(&mut commit.checkpoint) };
    tracing::debug!(size, entries = commit.entries.len(), "batch committed");
    Ok(())
}

impl From<Pending> for Item {
    fn from(p: Pending) -> Item {
        Item { body: p.entry.body, search_keys: p.entry.search_keys, reply: Reply::Local(p.reply) }
    }
}

/// What a submitter is told when its batch failed: the sled path's "not accepting", or the
/// database's own message (503 naming the database) on PostgreSQL.
fn failure(e: &Error) -> Error {
    match e {
        Error::Database(message) => Error::Database(message.clone()),
        _ => Error::Unavailable,
    }
}

/// The node IDs a proof computation reads (its IDs depend only on the sizes, not on the
/// hashes), for [`PgStore::prefetch`].
fn proof_nodes<T>(
    run: impl FnOnce(
        &mut dyn FnMut(crate::tlog::NodeId) -> Result<Hash, tlog::Error>,
    ) -> Result<T, tlog::Error>,
) -> Vec<crate::tlog::NodeId> {
    let mut ids = Vec::new();
    let _ = run(&mut |id| {
        ids.push(id);
        Ok([0u8; 32])
    });
    ids
}

fn sign_head(
    origin: &str,
    name: &str,
    signer: &dyn Signer,
    size: u64,
    root: Hash,
) -> Result<String> {
    let cp = Checkpoint { origin: origin.to_string(), size, root_hash: root, extensions: vec![] };
    Ok(tlog::sign_checkpoint(&cp, name, signer)?)
}

mod coordinate;
mod rotation;
use coordinate::coordinate;
pub use rotation::{retired_keys, KeyRotation};
use rotation::{RetiredKey, RETIRED_KEYS};

#[cfg(test)]
mod tests;
