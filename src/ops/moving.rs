//! Moving a log between the embedded store and PostgreSQL: `sigbox log export` copies a
//! stopped server's sled store into an empty PostgreSQL schema, `sigbox log import` copies a
//! schema into a new data directory.
//!
//! Both directions copy everything a server reads (entries with their records, the leaf
//! hash and search-key indexes, the tree as hash tiles, the latest signed checkpoint and the
//! store's metadata such as Rekor's tree ID) and prove the copy before they finish: the
//! checkpoint verifies with the log's public key, every record hashes to its stored leaf
//! hash, and the root recomputed from the leaf hashes *as written to the target* (and the
//! root of the target's own tree nodes) equals the checkpoint's root. An export writes in
//! one transaction ([`crate::store::postgres::BulkLoad`]) and commits only after that
//! proof; an import removes the new directory again on any failure.
//!
//! The log's signing key never goes into the database: it stays a file, given to the server
//! with `--signer-key` (an import can copy it into the new data directory).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Damage, Error, LogKind, Progress, Result};
use crate::crypto::{KeyKind, PublicKey};
use crate::store::postgres::{BulkEntry, BulkLoad, PgStore};
use crate::store::{decode_index_record, encode_index_record, LogStore};
use crate::store::{HashTileWriter, KeyHash};
use crate::tlog::{self, CompactRange, Hash, NodeId};

/// Which log is moved: the data directory's layout and key ([`LogKind`]) and the
/// PostgreSQL schema the servers use for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveKind {
    /// A Rekor v1 log (`rekor-server`), schema `rekor`.
    Rekor,
    /// A Rekor v2 log (`rekor-server --v2`, Ed25519 key), schema `rekor_v2`.
    RekorV2,
    /// The CA's CT log (`fulcio-server`), schema `ct`.
    Ct,
}

impl MoveKind {
    /// The name on the command line and in summaries.
    pub fn name(self) -> &'static str {
        match self {
            MoveKind::Rekor => "rekor",
            MoveKind::RekorV2 => "rekor-v2",
            MoveKind::Ct => "ct",
        }
    }

    /// The data directory's kind of log.
    pub fn log_kind(self) -> LogKind {
        match self {
            MoveKind::Rekor | MoveKind::RekorV2 => LogKind::Rekor,
            MoveKind::Ct => LogKind::Ct,
        }
    }

    /// The PostgreSQL schema the server keeps this log in (`rekor-server --storage`,
    /// `fulcio-server --storage`).
    pub fn schema(self) -> &'static str {
        match self {
            MoveKind::Rekor => "rekor",
            MoveKind::RekorV2 => "rekor_v2",
            MoveKind::Ct => "ct",
        }
    }

    /// The private key file's name in a data directory.
    pub fn key_file(self) -> &'static str {
        match self {
            MoveKind::Rekor | MoveKind::RekorV2 => "signer.key",
            MoveKind::Ct => "ct.key",
        }
    }

    /// Which log `data_dir` holds: `ct/` is the CT log; `db/` a Rekor log, v2 when its
    /// `signer.key` is an Ed25519 key.
    ///
    /// Errors: as [`LogKind::detect`] and [`LogKind::public_key`].
    pub fn detect(data_dir: &Path) -> Result<MoveKind> {
        match LogKind::detect(data_dir)? {
            LogKind::Ct => Ok(MoveKind::Ct),
            LogKind::Rekor => Ok(Self::rekor_for(&LogKind::Rekor.public_key(data_dir)?)),
        }
    }

    /// The Rekor version a log signed by `key` is: Ed25519 keys are Rekor v2's.
    pub fn rekor_for(key: &PublicKey) -> MoveKind {
        match key.kind() {
            KeyKind::Ed25519 => MoveKind::RekorV2,
            _ => MoveKind::Rekor,
        }
    }
}

/// What an export or import moved, proven equal to the signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Which log.
    pub kind: MoveKind,
    /// Entries copied (the checkpoint's size).
    pub entries: u64,
    /// Bytes of records copied.
    pub record_bytes: u64,
    /// The verified root.
    pub root: Hash,
    /// Files written into the data directory (import with a key).
    pub files: Vec<String>,
}

/// What [`export`] needs.
#[derive(Debug, Clone)]
pub struct ExportConfig {
    /// The stopped server's data directory.
    pub data_dir: PathBuf,
    /// The `postgres://` URL of the target database.
    pub storage: String,
    /// Which log (detected from the data directory when `None`).
    pub kind: Option<MoveKind>,
    /// The log's public key, when not the one of the data directory's key file.
    pub public_key: Option<PublicKey>,
}

/// Copies the embedded store of the stopped server in `config.data_dir` into the empty
/// PostgreSQL schema of its kind, in one transaction that commits only once the copy is
/// proven (see the module documentation).
///
/// Errors: [`Error::Store`] with [`crate::store::Error::NotEmpty`] for a target that holds
/// anything (nothing written); [`Error::Damaged`] when the store does not add up to its
/// signed checkpoint (also when the key is not the log's); store, key and database errors.
/// On every error the schema is left as it was.
pub fn export(config: &ExportConfig, progress: Progress<'_>) -> Result<Moved> {
    let kind = match config.kind {
        Some(k) => k,
        None => MoveKind::detect(&config.data_dir)?,
    };
    let key = match &config.public_key {
        Some(k) => k.clone(),
        None => kind.log_kind().public_key(&config.data_dir)?,
    };
    let store = match LogStore::open_unindexed(&kind.log_kind().store_dir(&config.data_dir)) {
        Ok(store) => store,
        Err(crate::store::Error::Refused(e)) => return Err(Damage::Witness(e.to_string()).into()),
        Err(e) => return Err(e.into()),
    };
    let result = export_store(&store, kind, &key, &config.storage, progress);
    store.close()?;
    result
}

fn export_store(
    store: &LogStore,
    kind: MoveKind,
    key: &PublicKey,
    url: &str,
    progress: Progress<'_>,
) -> Result<Moved> {
    let size = store.size()?;
    let checkpoint = store.checkpoint()?.unwrap_or_default();
    let (signed_size, root) = verify_head(kind, &checkpoint, size, key)?;
    if signed_size != size {
        return Err(Damage::Size { checkpoint: signed_size, stored: size }.into());
    }
    let target = PgStore::open(url, kind.schema())?;
    let mut load = target.bulk_load()?;
    let mut range = CompactRange::new();
    let mut tiles = HashTileWriter::default();
    let mut record_bytes = 0u64;
    let mut covered = 0u64;
    let mut entries = store.scan_entries(0, size);
    let mut batch: Vec<BulkEntry> = Vec::with_capacity(BATCH);
    for item in store.index_records() {
        let (first, bytes) = item?;
        if first >= size {
            break;
        }
        if first != covered {
            return Err(Damage::IndexRecord { first: covered, problem: "missing" }.into());
        }
        let decoded = decode_index_record(&bytes)
            .ok_or(Damage::IndexRecord { first, problem: "malformed" })?;
        for (leaf_hash, key_hashes) in decoded {
            let index = covered;
            let record = match entries.next().transpose()? {
                Some((at, record)) if at == index => record,
                _ => return Err(Damage::MissingEntry(index).into()),
            };
            let leaf = tlog::hash_leaf(&kind.log_kind().check_record(&record, index, key, false)?);
            if leaf != leaf_hash {
                return Err(Damage::Entry(index).into());
            }
            range.append(leaf, |id, h| tiles.push(id, *h))?;
            record_bytes += record.len() as u64;
            batch.push(BulkEntry { index, leaf_hash, record, key_hashes });
            covered += 1;
            if batch.len() == BATCH {
                load.entries(&batch)?;
                batch.clear();
                load.tiles(&tiles.take_complete(covered).map_err(Error::Store)?)?;
                progress(covered, size);
            }
        }
    }
    if covered != size {
        return Err(
            Damage::IndexRecord { first: covered, problem: "does not end at the size" }.into()
        );
    }
    if !batch.is_empty() {
        load.entries(&batch)?;
    }
    load.tiles(&tiles.take_all().map_err(Error::Store)?)?;
    progress(size, size);
    if range.root() != root {
        return Err(Damage::Root(size).into());
    }
    let mut meta: BTreeMap<String, Vec<u8>> = store.caller_meta()?.into_iter().collect();
    if kind.log_kind() == LogKind::Rekor && size > 0 {
        // What every PostgreSQL server of the log checks it is started with (`Log::open`):
        // the same key, and the name the checkpoint is signed under.
        meta.entry("log_key".into()).or_insert_with(|| key.to_pem().into_bytes());
        if let Some(name) = signer_name(&checkpoint) {
            meta.entry("name".into()).or_insert_with(|| name.as_bytes().to_vec());
        }
    }
    for (name, value) in &meta {
        load.meta(name, value)?;
    }
    load.head(size, &checkpoint)?;
    prove_target(&mut load, kind, key, size, root)?;
    load.commit()?;
    Ok(Moved { kind, entries: size, record_bytes, root, files: Vec::new() })
}

/// The proof an export gives before it commits, from the target's rows as the transaction
/// sees them: its checkpoint verifies with `key` at (`size`, `root`), its leaf hashes
/// rebuild `root`, and its own tree nodes give `root`.
fn prove_target(
    load: &mut BulkLoad<'_>,
    kind: MoveKind,
    key: &PublicKey,
    size: u64,
    root: Hash,
) -> Result<()> {
    let (stored_size, checkpoint) = load.read_head()?;
    let (signed_size, signed_root) = verify_head(kind, &checkpoint, stored_size, key)?;
    if signed_size != size || stored_size != size || signed_root != root {
        return Err(Damage::Size { checkpoint: signed_size, stored: stored_size }.into());
    }
    let mut range = CompactRange::new();
    while range.size() < size {
        let start = range.size();
        let end = start.saturating_add(READ_BATCH).min(size);
        let leaves = load.read_leaves(start, end)?;
        for (index, leaf) in leaves {
            if index != range.size() {
                return Err(Damage::MissingEntry(range.size()).into());
            }
            range.append(leaf, |_, _| {})?;
        }
        if range.size() != end {
            return Err(Damage::MissingEntry(range.size()).into());
        }
    }
    if range.root() != root {
        return Err(Damage::Root(size).into());
    }
    let frontier = CompactRange::frontier_ids(size)
        .into_iter()
        .map(|id| load.read_node(id))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if CompactRange::from_hashes(size, frontier)?.root() != root {
        return Err(Damage::Root(size).into());
    }
    Ok(())
}

/// What [`import`] needs.
#[derive(Debug, Clone)]
pub struct ImportConfig {
    /// The `postgres://` URL of the source database.
    pub storage: String,
    /// The new data directory (must not exist or be empty).
    pub data_dir: PathBuf,
    /// Which log (from the key when `None`: Ed25519 is Rekor v2, else Rekor v1).
    pub kind: Option<MoveKind>,
    /// The log's private key file, copied into the new data directory under the name its
    /// server reads (mode 0600), and whose public half verifies the checkpoint.
    pub signer_key: Option<PathBuf>,
}

/// Copies the log in the PostgreSQL schema of its kind into a new data directory's embedded
/// store, checking every record against its leaf hash and the rebuilt tree against the
/// signed checkpoint, then reopens the store to prove it (see the module documentation).
/// The checkpoint is verified with `signer_key`'s public half, else with the key the
/// database's servers recorded (`log_key`, Rekor only).
///
/// Errors: [`Error::Refused`] for a non-empty directory, a log with no key to verify it
/// with, or a `signer_key` that is not the one the servers recorded; [`Error::Damaged`] when
/// the log does not add up to its signed checkpoint; store, key and database errors. On any
/// failure the new directory is removed.
pub fn import(config: &ImportConfig, progress: Progress<'_>) -> Result<Moved> {
    let dir = &config.data_dir;
    let non_empty = std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(false);
    if non_empty {
        return Err(Error::Refused(format!(
            "{} exists and is not empty; import writes only into a new directory",
            dir.display()
        )));
    }
    let signer = match &config.signer_key {
        Some(path) => {
            let pem =
                zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(Error::io(path))?);
            let signer = crate::crypto::signer_from_pem(&pem, None)
                .map_err(|source| Error::KeyParse { name: path.display().to_string(), source })?;
            Some((signer, pem))
        }
        None => None,
    };
    let kind = match (config.kind, &signer) {
        (Some(k), _) => k,
        (None, Some((s, _))) => MoveKind::rekor_for(s.public_key()),
        (None, None) => MoveKind::Rekor,
    };
    let source = PgStore::open(&config.storage, kind.schema())?;
    let recorded = match source.meta("log_key")? {
        Some(pem) => Some(
            std::str::from_utf8(&pem)
                .ok()
                .and_then(|p| PublicKey::from_pem(p).ok())
                .ok_or(crate::store::Error::Corrupt("log_key"))?,
        ),
        None => None,
    };
    let key = match (&signer, recorded) {
        (Some((s, _)), Some(r)) if s.public_key().to_pem() != r.to_pem() => {
            return Err(Error::Refused(format!(
                "{} is not the key of the log in schema {} (its servers recorded another)",
                config.signer_key.as_deref().unwrap_or(Path::new("--signer-key")).display(),
                kind.schema()
            )));
        }
        (Some((s, _)), _) => s.public_key().clone(),
        (None, Some(r)) => r,
        (None, None) => {
            return Err(Error::Refused(format!(
                "schema {} records no log key: give the log's key with --signer-key",
                kind.schema()
            )));
        }
    };
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let result = import_into(&source, kind, &key, dir, progress).and_then(|mut moved| {
        if let Some((signer, pem)) = &signer {
            let path = dir.join(kind.key_file());
            crate::crypto::write_secret_file(&path, pem.as_bytes()).map_err(Error::io(&path))?;
            moved.files.push(kind.key_file().to_string());
            if kind == MoveKind::Ct {
                // fulcio-server writes ct.pub only when it generates the key.
                let path = dir.join("ct.pub");
                std::fs::write(&path, signer.public_key().to_pem()).map_err(Error::io(&path))?;
                moved.files.push("ct.pub".into());
            }
        }
        Ok(moved)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

fn import_into(
    source: &PgStore,
    kind: MoveKind,
    key: &PublicKey,
    dir: &Path,
    progress: Progress<'_>,
) -> Result<Moved> {
    let (size, checkpoint) = source.head()?;
    let (signed_size, root) = verify_head(kind, &checkpoint, size, key)?;
    if signed_size != size {
        return Err(Damage::Size { checkpoint: signed_size, stored: size }.into());
    }
    let store_dir = kind.log_kind().store_dir(dir);
    let store = LogStore::open(&store_dir)?;
    let mut range = CompactRange::new();
    let mut record_bytes = 0u64;
    let copied = (|| -> Result<()> {
        while range.size() < size {
            let first = range.size();
            let end = first.saturating_add(READ_BATCH).min(size);
            let mut records = Vec::new();
            let mut index: Vec<(Hash, Vec<KeyHash>)> = Vec::new();
            let mut nodes: Vec<(NodeId, Hash)> = Vec::new();
            for e in source.bulk_entries(first, end)? {
                let at = range.size();
                if e.index != at {
                    return Err(Damage::MissingEntry(at).into());
                }
                let input = kind.log_kind().check_record(&e.record, at, key, false)?;
                let leaf = tlog::hash_leaf(&input);
                if leaf != e.leaf_hash {
                    return Err(Damage::Entry(at).into());
                }
                range.append(leaf, |id, h| nodes.push((id, *h)))?;
                record_bytes += e.record.len() as u64;
                records.push(e.record);
                index.push((leaf, e.key_hashes));
            }
            if range.size() != end {
                return Err(Damage::MissingEntry(range.size()).into());
            }
            // One index record per sled batch, as the server's commits write them.
            for (chunk, keys) in records.chunks(SLED_BATCH).zip(index.chunks(SLED_BATCH)) {
                let record = encode_index_record(keys)
                    .ok_or(Damage::Record { index: first, problem: "more than 255 search keys" })?;
                let at = store.size()?;
                let upto = at + chunk.len() as u64;
                let batch_nodes: Vec<_> =
                    nodes.iter().filter(|(id, _)| created_below(*id, at, upto)).copied().collect();
                store.import_batch(at, chunk, &record, &batch_nodes, &checkpoint)?;
            }
            progress(range.size(), size);
        }
        if range.root() != root {
            return Err(Damage::Root(size).into());
        }
        for (name, value) in source.all_meta()? {
            // The sled store keeps these itself; a PostgreSQL meta row of that name (a CT
            // key rotation's) must not overwrite them.
            if !matches!(name.as_str(), "size" | "checkpoint" | "format") {
                store.set_meta(&name, &value)?;
            }
        }
        store.flush()?;
        Ok(())
    })();
    store.close()?;
    copied?;
    // The proof: the store as reopened has the checkpoint's size, root and text.
    let store = LogStore::open(&store_dir)?;
    let reopened = store.compact_range()?;
    let stored = store.checkpoint()?.unwrap_or_default();
    store.close()?;
    if reopened.size() != size || reopened.root() != root || stored != checkpoint {
        return Err(Damage::Root(size).into());
    }
    progress(size, size);
    Ok(Moved { kind, entries: size, record_bytes, root, files: Vec::new() })
}

/// Verifies `checkpoint` with `key`; an empty log may have none. Returns (size, root).
fn verify_head(
    kind: MoveKind,
    checkpoint: &str,
    size: u64,
    key: &PublicKey,
) -> Result<(u64, Hash)> {
    if checkpoint.is_empty() {
        return match size {
            0 => Ok((0, tlog::empty_root())),
            n => Err(Damage::NoCheckpoint(n).into()),
        };
    }
    Ok(kind.log_kind().verify_checkpoint(checkpoint, key).map_err(Damage::Checkpoint)?)
}

/// The key name of a signed note's first signature line.
fn signer_name(checkpoint: &str) -> Option<&str> {
    let (_, signatures) = checkpoint.split_once("\n\n")?;
    signatures.lines().next()?.split(' ').nth(1)
}

/// Whether appending leaves `from..upto` created node `id` (its last leaf is among them).
fn created_below(id: NodeId, from: u64, upto: u64) -> bool {
    let last = id.index.checked_add(1).and_then(|n| n.checked_shl(u32::from(id.level)));
    matches!(last, Some(last) if last > from && last <= upto)
}

/// Entries per bulk statement of an export.
const BATCH: usize = 4096;
/// Entries read from the target or source per query.
const READ_BATCH: u64 = 65_536;
/// Entries per sled batch (and lookup-index record) of an import.
const SLED_BATCH: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_below_matches_the_compact_range() {
        let mut range = CompactRange::new();
        let mut made: Vec<(NodeId, u64)> = Vec::new();
        for i in 0..100u64 {
            range.append([i as u8; 32], |id, _| made.push((id, i))).unwrap();
        }
        for (id, leaf) in made {
            assert!(created_below(id, leaf, leaf + 1), "{id:?} made by leaf {leaf}");
            assert!(!created_below(id, leaf + 1, 200), "{id:?} not made after leaf {leaf}");
        }
    }

    #[test]
    fn signer_name_is_the_first_signature_line_key_name() {
        let note = "log.example - 42\n3\nAAAA\n\n— log.example abcd\n— other efgh\n";
        assert_eq!(signer_name(note), Some("log.example"));
        assert_eq!(signer_name("no signatures"), None);
    }
}
