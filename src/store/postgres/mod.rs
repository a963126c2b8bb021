//! The log on PostgreSQL: the one home of `tokio-postgres`.
//!
//! [`PgStore`] offers what the log core asks of [`super::LogStore`] (entries, hash tiles,
//! lookup indexes, the signed checkpoint, metadata, atomic commits) on a database that
//! several servers share, plus what sharing needs: a leader lock (a session-level advisory
//! lock held on a connection of its own: it goes when the process or its connection dies), a
//! `pending` table through which followers hand writes to the leader, and notifications
//! (LISTEN/NOTIFY) that wake the leader and the waiting followers; every waiter also polls,
//! so a lost notification only delays.
//!
//! Why a blocking API over an async client: the log core's sequencer is a plain thread and
//! its readers call the store from request handlers as they call sled. The store runs its
//! own small tokio runtime that drives the connections; a call hands a future to it and
//! waits on a channel, so it never nests a runtime inside the server's.
//!
//! Every commit is one transaction with `synchronous_commit` on, fenced by
//! `UPDATE tree SET size = new WHERE size = old`: two servers that both believe they lead can
//! never commit two different trees of one size. Rows are written with multi-row
//! `INSERT … SELECT FROM unnest(…)`, all statements of a commit pipelined on one connection.
//!
//! Schema (one PostgreSQL schema per log, `rekor`, `rekor_v2` or `ct`, versioned by its
//! `schema_version` table and migrated under a transaction-level advisory lock): `meta`,
//! `tree` (the one row: size and signed checkpoint), `entries` (index, leaf hash, record;
//! indexed by leaf hash), `search_keys` (hashed key, index), `tiles` (the 4-high hash tiles
//! of [`super::hash_tiles`]), `checkpoints` (every signed checkpoint by size) and `pending`.

mod bulk;
mod schema;
mod shared;
mod tiles;
mod tls;
mod url;

pub use bulk::{BulkEntry, BulkLoad};
use shared::{lock_key, outcome_columns};
use url::{describe, parse_url, pg_detail};

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio_postgres::{Client, NoTls, Statement};

use super::hash_tiles::{self as tile, Address, TileRows};
use super::index::key_hash;
use super::{Commit, Error, Result};
use crate::tlog::{self, CompactRange, Hash, NodeId};

/// The schema version this build writes; older databases are migrated on open.
const SCHEMA_VERSION: i32 = 1;

/// Connections used for reads and commits (queries pipeline on each).
const POOL: usize = 4;

/// Most tiles kept in memory. Stored nodes never change (a perfect subtree's hash is
/// final), so a cached tile is right forever as far as it goes; a node past its end is
/// fetched again.
const CACHED_TILES: usize = 32_768;

/// How long a connection attempt may take before the call fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A pending write's answer: row ID, outcome, and the stored record of a logged entry.
pub type Answer = (i64, Outcome, Option<Vec<u8>>);

/// What [`PgStore::outcomes`] found: the answered writes and, if there were any, the
/// committed head (size, checkpoint) read in the same snapshot, which covers all of them.
#[derive(Debug, Default)]
pub struct Outcomes {
    /// The answered writes.
    pub answers: Vec<Answer>,
    /// The head they were read with (none when no write was answered).
    pub head: Option<(u64, String)>,
}

/// A tile's (tile level, tile index).
type TileKey = (u8, u64);

/// A statement parameter.
type Param = dyn tokio_postgres::types::ToSql + Sync;

/// Records the outcomes of handed-over writes (`$1` IDs, `$2` statuses, `$3` indices).
const UPDATE_PENDING: &str = "UPDATE pending SET status = u.s, idx = u.i \
     FROM unnest($1::bigint[], $2::smallint[], $3::bigint[]) AS u(id, s, i) \
     WHERE pending.id = u.id";

/// A write handed to the leader through the `pending` table.
#[derive(Debug, Clone)]
pub struct PendingWrite {
    /// Row ID.
    pub id: i64,
    /// The canonical body.
    pub body: Vec<u8>,
    /// Its search keys.
    pub search_keys: Vec<String>,
}

/// What became of a pending write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Integrated at this index.
    Logged(u64),
    /// The same body was already logged, at this index.
    Duplicate(u64),
}

/// A log in a PostgreSQL schema. Cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("target", &self.inner.target).finish()
    }
}

struct Inner {
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    /// `user@host:port/db` for messages (no password).
    target: String,
    config: tokio_postgres::Config,
    tls: Option<tls::RustlsConnect>,
    schema: String,
    pool: Vec<Mutex<Option<Arc<Conn>>>>,
    next: AtomicUsize,
    /// The connection for transactions (commits, hand-overs): a transaction on a pooled
    /// connection would take in the reads pipelined on it by other threads.
    writer: Mutex<Option<Arc<Conn>>>,
    /// The connection holding the leader lock, while this server leads.
    lead: Mutex<Option<Arc<Conn>>>,
    tiles: RwLock<HashMap<TileKey, Arc<[u8]>>>,
    hints: Arc<Hints>,
    /// Entry reads waiting to go to the database together ([`PgStore::entry`]).
    reads: Mutex<EntryReads>,
}

/// Entry reads that arrived while [`READ_BATCHES`] batches were in flight; the first batch
/// to come back takes them all.
#[derive(Default)]
struct EntryReads {
    waiting: Vec<(i64, std::sync::mpsc::SyncSender<ReadReply>)>,
    running: usize,
}

/// What a waiting entry read is told.
enum ReadReply {
    /// Its record (or none, or the batch's error).
    Answer(Result<Option<Vec<u8>>>),
    /// Its turn to run this batch of waiting reads (itself among them).
    Run(Vec<(i64, std::sync::mpsc::SyncSender<ReadReply>)>),
}

/// Entry-read batches in flight at once per server. Why a small number: a read that finds
/// them all busy waits for the next one, together with every read that arrives meanwhile,
/// and the database answers the lot with one statement instead of one each (its cost is
/// mostly per statement and per wake-up, not per row).
const READ_BATCHES: usize = 2;

impl Drop for Inner {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which a handler thread of the server may not do.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Notification counters, bumped by the listening connection.
#[derive(Default)]
struct Hints {
    pending: AtomicU64,
    integrated: AtomicU64,
}

/// A connection with its prepared statements.
struct Conn {
    client: Client,
    st: Statements,
}

struct Statements {
    head: Statement,
    entries: Statement,
    entries_at: Statement,
    index_of: Statement,
    indices_of: Statement,
    search: Statement,
    tile: Statement,
    tiles_in: Statement,
    tile_range: Statement,
    meta: Statement,
    /// The commit's statements (prepared once: a commit then costs no parse round trip).
    write: WriteStatements,
    /// The hand-over table's statements, prepared for the same reason.
    share: ShareStatements,
}

/// See [`shared`]: each is one statement, so one round trip on a shared connection.
struct ShareStatements {
    enqueue: Statement,
    take_pending: Statement,
    outcomes: Statement,
}

struct WriteStatements {
    fence: Statement,
    entries: Statement,
    keys: Statement,
    tiles: Statement,
    checkpoint: Statement,
    outcomes: Statement,
    notify: Statement,
}

impl PgStore {
    /// Connects to the database of `url` (`postgres://user[:password]@host:port/db?…`),
    /// creates or migrates the log's schema `schema` and returns the store.
    ///
    /// TLS: `sslmode=require` (or `verify-ca`, `verify-full`) with `sslrootcert=FILE`, the
    /// CA of the database's certificate; the certificate and host name are always verified.
    ///
    /// Errors: [`Error::BadUrl`]; [`Error::Postgres`] if the database cannot be reached or
    /// the schema is newer than this build.
    pub fn open(url: &str, schema: &str) -> Result<PgStore> {
        if !schema.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') || schema.is_empty() {
            return Err(Error::BadUrl(format!("schema name {schema:?}")));
        }
        let (config, tls) = parse_url(url)?;
        let target = describe(&config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sigbox-pg")
            .enable_all()
            .build()
            .map_err(|e| Error::Postgres {
                target: target.clone(),
                what: "starting the client runtime",
                detail: e.to_string(),
            })?;
        let handle = runtime.handle().clone();
        let store = PgStore {
            inner: Arc::new(Inner {
                runtime: Some(runtime),
                handle,
                target,
                config,
                tls,
                schema: schema.to_string(),
                pool: (0..POOL).map(|_| Mutex::new(None)).collect(),
                next: AtomicUsize::new(0),
                writer: Mutex::new(None),
                lead: Mutex::new(None),
                tiles: RwLock::default(),
                hints: Arc::default(),
                reads: Mutex::default(),
            }),
        };
        store.migrate()?;
        store.spawn_listener();
        Ok(store)
    }

    /// The database, as messages name it.
    pub fn target(&self) -> &str {
        &self.inner.target
    }

    fn error(&self, what: &'static str) -> impl Fn(tokio_postgres::Error) -> Error + '_ {
        move |e| Error::Postgres { target: self.inner.target.clone(), what, detail: pg_detail(&e) }
    }

    /// Runs `future` on the store's runtime and waits for it.
    fn block<T: Send + 'static>(
        &self,
        future: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.inner.handle.spawn(async move {
            let _ = tx.send(future.await);
        });
        rx.recv().map_err(|_| Error::Postgres {
            target: self.inner.target.clone(),
            what: "client runtime",
            detail: "stopped".into(),
        })?
    }

    /// Opens a new connection (search path set to the log's schema), driven on the runtime.
    fn connect_raw(&self) -> Result<Client> {
        let config = self.inner.config.clone();
        let tls = self.inner.tls.clone();
        let hints = self.inner.hints.clone();
        let schema = self.inner.schema.clone();
        let target = self.inner.target.clone();
        self.block(async move {
            let failed = |e: tokio_postgres::Error| Error::Postgres {
                target: target.clone(),
                what: "connecting",
                detail: pg_detail(&e),
            };
            let client = match tls {
                Some(tls) => {
                    let (client, connection) = config.connect(tls).await.map_err(failed)?;
                    tokio::spawn(drive(connection, hints, schema.clone()));
                    client
                }
                None => {
                    let (client, connection) = config.connect(NoTls).await.map_err(failed)?;
                    tokio::spawn(drive(connection, hints, schema.clone()));
                    client
                }
            };
            client
                .batch_execute(&format!(
                    "SET search_path TO {schema}; SET synchronous_commit TO on"
                ))
                .await
                .map_err(failed)?;
            Ok(client)
        })
    }

    /// A pooled connection, reconnecting a closed one.
    fn conn(&self) -> Result<Arc<Conn>> {
        let slot = self.inner.next.fetch_add(1, Ordering::Relaxed) % POOL;
        let mut guard = self.inner.pool[slot].lock().unwrap_or_else(|p| p.into_inner());
        if let Some(conn) = guard.as_ref().filter(|c| !c.client.is_closed()) {
            return Ok(conn.clone());
        }
        *guard = None;
        let client = self.connect_raw()?;
        let conn = Arc::new(self.prepare(client)?);
        *guard = Some(conn.clone());
        Ok(conn)
    }

    /// Runs `f` with the writer connection, one transaction at a time.
    fn with_writer<T>(&self, f: impl FnOnce(Arc<Conn>) -> Result<T>) -> Result<T> {
        let mut guard = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        let conn = match guard.as_ref().filter(|c| !c.client.is_closed()) {
            Some(conn) => conn.clone(),
            None => {
                *guard = None;
                let conn = Arc::new(self.prepare(self.connect_raw()?)?);
                *guard = Some(conn.clone());
                conn
            }
        };
        f(conn)
    }

    fn prepare(&self, client: Client) -> Result<Conn> {
        let target = self.inner.target.clone();
        self.block(async move {
            let failed = |e: tokio_postgres::Error| Error::Postgres {
                target: target.clone(),
                what: "preparing statements",
                detail: pg_detail(&e),
            };
            let c = &client;
            let (head, entries_at, entries, index_of, indices_of) = futures_util::try_join!(
                c.prepare("SELECT size, checkpoint FROM tree WHERE id = 1"),
                c.prepare("SELECT idx, record FROM entries WHERE idx = ANY($1)"),
                c.prepare("SELECT record FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx"),
                c.prepare("SELECT min(idx) FROM entries WHERE leaf_hash = $1"),
                c.prepare(
                    "SELECT leaf_hash, min(idx) FROM entries WHERE leaf_hash = ANY($1) \
                     GROUP BY leaf_hash"
                ),
            )
            .map_err(failed)?;
            let (search, tile, tiles_in, tile_range, meta) = futures_util::try_join!(
                c.prepare("SELECT idx FROM search_keys WHERE key_hash = $1 ORDER BY idx"),
                c.prepare("SELECT data FROM tiles WHERE level = $1 AND idx = $2"),
                c.prepare(
                    "SELECT t.level, t.idx, t.data FROM tiles t \
                     JOIN unnest($1::smallint[], $2::bigint[]) AS u(level, idx) \
                     ON t.level = u.level AND t.idx = u.idx"
                ),
                c.prepare(
                    "SELECT idx, data FROM tiles WHERE level = $1 AND idx >= $2 AND idx < $3 \
                     ORDER BY idx"
                ),
                c.prepare("SELECT value FROM meta WHERE name = $1"),
            )
            .map_err(failed)?;
            let (fence, entries_in, keys, tiles, checkpoint, outcomes, notify) = futures_util::try_join!(
                c.prepare("UPDATE tree SET size = $2, checkpoint = $3 WHERE id = 1 AND size = $1"),
                c.prepare(
                    "INSERT INTO entries SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[])"
                ),
                c.prepare(
                    "INSERT INTO search_keys SELECT * FROM unnest($1::bytea[], $2::bigint[]) \
                     ON CONFLICT DO NOTHING"
                ),
                c.prepare(
                    "INSERT INTO tiles SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[]) \
                     ON CONFLICT (level, idx) DO UPDATE SET data = excluded.data"
                ),
                c.prepare("INSERT INTO checkpoints VALUES ($1, $2)"),
                c.prepare(UPDATE_PENDING),
                c.prepare("SELECT pg_notify($1, '')"),
            )
            .map_err(failed)?;
            let (enqueue, take_pending, outcomes_read) = futures_util::try_join!(
                c.prepare(shared::ENQUEUE),
                c.prepare(shared::TAKE_PENDING),
                c.prepare(shared::OUTCOMES),
            )
            .map_err(failed)?;
            let share = ShareStatements { enqueue, take_pending, outcomes: outcomes_read };
            let write = WriteStatements {
                fence,
                entries: entries_in,
                keys,
                tiles,
                checkpoint,
                outcomes,
                notify,
            };
            let st = Statements {
                head,
                entries,
                entries_at,
                index_of,
                indices_of,
                search,
                tile,
                tiles_in,
                tile_range,
                meta,
                write,
                share,
            };
            Ok(Conn { client, st })
        })
    }

    /// Keeps one connection listening for the log's notifications (reconnecting while the
    /// database is away); they bump [`Hints`].
    fn spawn_listener(&self) {
        let store = Arc::downgrade(&self.inner);
        let schema = self.inner.schema.clone();
        std::thread::Builder::new()
            .name("sigbox-pg-listen".into())
            .spawn(move || loop {
                let Some(inner) = store.upgrade() else { return };
                let this = PgStore { inner };
                if let Ok(client) = this.connect_raw() {
                    let listen = format!("LISTEN {schema}_pending; LISTEN {schema}_integrated");
                    let client = Arc::new(client);
                    let c = client.clone();
                    let ok = this.block(async move { Ok(c.batch_execute(&listen).await.is_ok()) });
                    if matches!(ok, Ok(true)) {
                        // Poll for the end of the connection (or of the store).
                        while !client.is_closed() && Arc::strong_count(&this.inner) > 1 {
                            std::thread::park_timeout(Duration::from_millis(200));
                        }
                    }
                }
                if Arc::strong_count(&this.inner) <= 1 {
                    return;
                }
                drop(this);
                std::thread::park_timeout(Duration::from_millis(500));
            })
            .map(drop)
            .unwrap_or_else(|e| tracing::warn!(error = %e, "no notification listener; polling"));
    }

    /// The committed size and signed checkpoint (empty before the first commit).
    pub fn head(&self) -> Result<(u64, String)> {
        let conn = self.conn()?;
        let failed = self.error("reading the tree head");
        let row = self.block(async move { Ok(conn.client.query_one(&conn.st.head, &[]).await) })?;
        let row = row.map_err(failed)?;
        Ok((to_u64(row.get(0)), row.get(1)))
    }

    /// Number of committed entries.
    pub fn size(&self) -> Result<u64> {
        Ok(self.head()?.0)
    }

    /// The latest signed checkpoint, if any batch was committed.
    pub fn checkpoint(&self) -> Result<Option<String>> {
        let (_, checkpoint) = self.head()?;
        Ok(Some(checkpoint).filter(|c| !c.is_empty()))
    }

    /// The frontier of the committed tree.
    pub fn compact_range(&self) -> Result<CompactRange> {
        let size = self.size()?;
        let hashes = CompactRange::frontier_ids(size)
            .into_iter()
            .map(|id| self.node(id))
            .collect::<Result<Vec<_>>>()?;
        Ok(CompactRange::from_hashes(size, hashes)?)
    }

    /// The record of entry `index`, if committed.
    ///
    /// Concurrent calls share statements: see [`READ_BATCHES`].
    pub fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        let index = to_i64(index);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let mut batch = {
            let mut reads = self.inner.reads.lock().unwrap_or_else(|p| p.into_inner());
            reads.waiting.push((index, tx));
            if reads.running < READ_BATCHES {
                reads.running += 1;
                std::mem::take(&mut reads.waiting)
            } else {
                drop(reads);
                // Either the answer, or the next batch (this read among them) to run.
                match rx.recv() {
                    Ok(ReadReply::Answer(answer)) => return answer,
                    Ok(ReadReply::Run(batch)) => batch,
                    Err(_) => return Err(self.read_failed("reader gone".into())),
                }
            }
        };
        loop {
            let found = self.entries_at(batch.iter().map(|(i, _)| *i).collect());
            for (i, reply) in batch {
                let answer = match &found {
                    Ok(rows) => Ok(rows.get(&i).cloned()),
                    Err(detail) => Err(self.read_failed(detail.clone())),
                };
                let _ = reply.try_send(ReadReply::Answer(answer));
            }
            // Reads that came meanwhile go, as one batch, to the first of them to run (this
            // thread goes back to its own request rather than serve others while load
            // lasts). Each waiting read is in exactly one batch and hears exactly once, so
            // its channel has room.
            let mut reads = self.inner.reads.lock().unwrap_or_else(|p| p.into_inner());
            if reads.waiting.is_empty() {
                reads.running -= 1;
                break;
            }
            let next = std::mem::take(&mut reads.waiting);
            drop(reads);
            let first = next[0].1.clone();
            match first.try_send(ReadReply::Run(next)) {
                Ok(()) => break,
                // Its thread is gone: run the batch here.
                Err(std::sync::mpsc::TrySendError::Full(ReadReply::Run(next)))
                | Err(std::sync::mpsc::TrySendError::Disconnected(ReadReply::Run(next))) => {
                    batch = next;
                }
                Err(_) => break,
            }
        }
        match rx.recv() {
            Ok(ReadReply::Answer(answer)) => answer,
            _ => Err(self.read_failed("reader gone".into())),
        }
    }

    fn read_failed(&self, detail: String) -> Error {
        Error::Postgres { target: self.inner.target.clone(), what: "reading an entry", detail }
    }

    /// The records at `indices` (those that exist), by index; an error as its detail.
    fn entries_at(&self, indices: Vec<i64>) -> std::result::Result<HashMap<i64, Vec<u8>>, String> {
        let conn = self.conn().map_err(|e| e.to_string())?;
        let rows = self
            .block(async move { Ok(conn.client.query(&conn.st.entries_at, &[&indices]).await) })
            .map_err(|e| e.to_string())?
            .map_err(|e| pg_detail(&e))?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// The records of entries `start..end` (as many as exist), in order.
    pub fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        let conn = self.conn()?;
        let failed = self.error("reading entries");
        let (start, end) = (to_i64(start), to_i64(end));
        let rows = self
            .block(async move { Ok(conn.client.query(&conn.st.entries, &[&start, &end]).await) })?;
        Ok(rows.map_err(failed)?.iter().map(|r| r.get(0)).collect())
    }

    /// The index of the committed entry with this leaf hash.
    pub fn index_of(&self, leaf_hash: &Hash) -> Result<Option<u64>> {
        let conn = self.conn()?;
        let failed = self.error("looking up a leaf hash");
        let leaf = leaf_hash.to_vec();
        let row = self
            .block(async move { Ok(conn.client.query_one(&conn.st.index_of, &[&leaf]).await) })?;
        Ok(row.map_err(failed)?.get::<_, Option<i64>>(0).map(to_u64))
    }

    /// The indices of committed entries with these leaf hashes (one query), by leaf hash.
    pub fn indices_of(&self, leaves: &[Hash]) -> Result<HashMap<Hash, u64>> {
        if leaves.is_empty() {
            return Ok(HashMap::new());
        }
        let conn = self.conn()?;
        let failed = self.error("looking up leaf hashes");
        let leaves: Vec<Vec<u8>> = leaves.iter().map(|l| l.to_vec()).collect();
        let rows = self
            .block(async move { Ok(conn.client.query(&conn.st.indices_of, &[&leaves]).await) })?;
        let mut out = HashMap::new();
        for row in rows.map_err(failed)? {
            let leaf: Vec<u8> = row.get(0);
            let leaf: Hash = leaf.try_into().map_err(|_| Error::Corrupt("leaf hash"))?;
            out.insert(leaf, to_u64(row.get(1)));
        }
        Ok(out)
    }

    /// The indices of entries stored under search key `key`, ascending.
    pub fn search(&self, key: &str) -> Result<Vec<u64>> {
        let conn = self.conn()?;
        let failed = self.error("searching");
        let hashed = key_hash(key).to_vec();
        let rows =
            self.block(async move { Ok(conn.client.query(&conn.st.search, &[&hashed]).await) })?;
        Ok(rows.map_err(failed)?.iter().map(|r| to_u64(r.get(0))).collect())
    }

    /// Reads a metadata value.
    pub fn meta(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let conn = self.conn()?;
        let failed = self.error("reading metadata");
        let name = name.to_string();
        let row =
            self.block(async move { Ok(conn.client.query_opt(&conn.st.meta, &[&name]).await) })?;
        Ok(row.map_err(failed)?.map(|r| r.get(0)))
    }

    /// Writes a metadata value.
    pub fn set_meta(&self, name: &str, value: &[u8]) -> Result<()> {
        let conn = self.conn()?;
        let failed = self.error("writing metadata");
        let (name, value) = (name.to_string(), value.to_vec());
        let done = self.block(async move {
            Ok(conn
                .client
                .execute(
                    "INSERT INTO meta VALUES ($1, $2) \
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    &[&name, &value],
                )
                .await)
        })?;
        done.map(drop).map_err(failed)
    }

    /// The value stored under `name`, storing `value` first if there is none (the first of
    /// several servers starting together wins).
    pub fn meta_or_insert(&self, name: &str, value: &[u8]) -> Result<Vec<u8>> {
        let conn = self.conn()?;
        let failed = self.error("writing metadata");
        let (name2, value) = (name.to_string(), value.to_vec());
        let done = self.block(async move {
            Ok(conn
                .client
                .execute(
                    "INSERT INTO meta VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                    &[&name2, &value],
                )
                .await)
        })?;
        done.map_err(failed)?;
        self.meta(name)?.ok_or(Error::Corrupt("metadata vanished"))
    }

    /// Commits a batch atomically (one transaction, durable on return), fenced on the tree
    /// size, and records the outcomes of the pending writes it answers.
    ///
    /// Errors: [`Error::Fenced`] if another server committed first (nothing is written);
    /// [`Error::OutOfSequence`]; [`Error::Postgres`] — after which the commit may or may not
    /// have happened (the caller reloads the tree).
    pub fn commit(&self, commit: &Commit, outcomes: &[(i64, Outcome)]) -> Result<()> {
        let Some(first) = commit.entries.first().map(|e| e.index) else {
            return self.resolve(outcomes);
        };
        let mut next = first;
        let mut idx = Vec::with_capacity(commit.entries.len());
        let mut leaves = Vec::with_capacity(commit.entries.len());
        let mut records = Vec::with_capacity(commit.entries.len());
        let (mut key_hashes, mut key_idx) = (Vec::new(), Vec::new());
        for e in &commit.entries {
            if e.index != next {
                return Err(Error::OutOfSequence { got: e.index, want: next });
            }
            idx.push(to_i64(e.index));
            leaves.push(e.leaf_hash.to_vec());
            records.push(e.record.clone());
            let mut keys: Vec<_> = e.search_keys.iter().map(|k| key_hash(k)).collect();
            keys.sort_unstable();
            keys.dedup();
            for k in keys {
                key_hashes.push(k.to_vec());
                key_idx.push(to_i64(e.index));
            }
            next += 1;
        }
        // The tiles the new nodes touch, read inside the transaction (after the fence).
        let mut touched: Vec<(u8, u64)> = Vec::new();
        for (id, _) in &commit.nodes {
            let at = Address::of(*id);
            if !touched.contains(&(at.tile_level, at.tile_index)) {
                touched.push((at.tile_level, at.tile_index));
            }
        }
        let nodes = commit.nodes.clone();
        let checkpoint = commit.checkpoint.clone();
        let (ids, statuses, out_idx) = outcome_columns(outcomes);
        let target = self.inner.target.clone();
        let channel = format!("{}_integrated", self.inner.schema);
        let (old, new) = (to_i64(first), to_i64(next));
        let written = self.with_writer(|conn| {
            self.block(async move {
                let failed = |what: &'static str| {
                    let target = target.clone();
                    move |e: tokio_postgres::Error| Error::Postgres {
                        target: target.clone(),
                        what,
                        detail: pg_detail(&e),
                    }
                };
                let c = &conn.client;
                let w = &conn.st.write;
                // Everything up to COMMIT; any error rolls the transaction back below, so
                // the writer connection never keeps a half-done one.
                let body = async {
                    let levels: Vec<i16> = touched.iter().map(|k| i16::from(k.0)).collect();
                    let indices: Vec<i64> = touched.iter().map(|k| to_i64(k.1)).collect();
                    let fence_args: [&Param; 3] = [&old, &new, &checkpoint];
                    let tiles_args: [&Param; 2] = [&levels, &indices];
                    // BEGIN, the fence and the read of the tiles to extend go out together.
                    let begin = c.batch_execute("BEGIN");
                    let fence = c.execute(&w.fence, &fence_args);
                    let existing = c.query(&conn.st.tiles_in, &tiles_args);
                    let (_, fenced, existing) =
                        match futures_util::try_join!(begin, fence, existing) {
                            Ok(found) => found,
                            Err(e) => return Err(failed("committing")(e)),
                        };
                    if fenced != 1 {
                        let found =
                            c.query_one(&conn.st.head, &[]).await.map(|r| r.get::<_, i64>(0));
                        return Err(Error::Fenced {
                            want: to_u64(old),
                            found: found.map_or(0, to_u64),
                        });
                    }
                    let mut tiles: BTreeMap<(u8, u64), TileRows> = BTreeMap::new();
                    for row in existing {
                        let level = u8::try_from(row.get::<_, i16>(0))
                            .map_err(|_| Error::Corrupt("tile"))?;
                        let data: Vec<u8> = row.get(2);
                        let rows = TileRows::decode(&data).ok_or(Error::Corrupt("tile"))?;
                        tiles.insert((level, to_u64(row.get(1))), rows);
                    }
                    for (id, hash) in &nodes {
                        let at = Address::of(*id);
                        let rows = tiles.entry((at.tile_level, at.tile_index)).or_default();
                        if !rows.push(at.row, at.pos, *hash) {
                            return Err(Error::Corrupt("tree node out of order for its tile"));
                        }
                    }
                    let mut written = Vec::with_capacity(tiles.len());
                    for (key, rows) in &tiles {
                        let bytes: Arc<[u8]> =
                            rows.encode().ok_or(Error::Corrupt("tile rows"))?.into();
                        written.push((*key, bytes));
                    }
                    let t_levels: Vec<i16> = written.iter().map(|(k, _)| i16::from(k.0)).collect();
                    let t_idx: Vec<i64> = written.iter().map(|(k, _)| to_i64(k.1)).collect();
                    let t_data: Vec<Vec<u8>> = written.iter().map(|(_, b)| b.to_vec()).collect();
                    let entry_args: [&Param; 3] = [&idx, &leaves, &records];
                    let key_args: [&Param; 2] = [&key_hashes, &key_idx];
                    let tile_args: [&Param; 3] = [&t_levels, &t_idx, &t_data];
                    let cp_args: [&Param; 2] = [&new, &checkpoint];
                    let outcome_args: [&Param; 3] = [&ids, &statuses, &out_idx];
                    let notify_args: [&Param; 1] = [&channel];
                    let result = futures_util::try_join!(
                        c.execute(&w.entries, &entry_args),
                        c.execute(&w.keys, &key_args),
                        c.execute(&w.tiles, &tile_args),
                        c.execute(&w.checkpoint, &cp_args),
                        c.execute(&w.outcomes, &outcome_args),
                        c.query(&w.notify, &notify_args),
                    );
                    result.map_err(failed("committing"))?;
                    Ok(written)
                };
                match body.await {
                    Ok(written) => {
                        c.batch_execute("COMMIT").await.map_err(failed("committing"))?;
                        Ok(written)
                    }
                    Err(e) => {
                        let _ = c.batch_execute("ROLLBACK").await;
                        Err(e)
                    }
                }
            })
        })?;
        self.remember(written);
        Ok(())
    }
}

impl tlog::NodeStore for PgStore {
    type Error = Error;

    fn node(&self, id: NodeId) -> Result<Hash> {
        PgStore::node(self, id)
    }
}

/// Drives one connection, counting the notifications it receives.
async fn drive<S, T>(
    mut connection: tokio_postgres::Connection<S, T>,
    hints: Arc<Hints>,
    schema: String,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let pending = format!("{schema}_pending");
    loop {
        let message = std::future::poll_fn(|cx| connection.poll_message(cx)).await;
        match message {
            Some(Ok(tokio_postgres::AsyncMessage::Notification(n))) => {
                let counter =
                    if n.channel() == pending { &hints.pending } else { &hints.integrated };
                counter.fetch_add(1, Ordering::Relaxed);
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                tracing::warn!(error = %pg_detail(&e), "PostgreSQL connection lost");
                return;
            }
            None => return,
        }
    }
}

/// Indices are below 2^63 (a log of 9 quintillion entries is not a concern).
fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
