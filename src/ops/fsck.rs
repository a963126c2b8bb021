//! The integrity check: every leaf recomputed from the stored entries, the tree rebuilt and
//! compared node by node with the stored one, the root compared with the latest signed
//! checkpoint (whose signature is checked), and every lookup-index leaf hash compared with
//! its entry's. Linear in the log's size; stops at the first bad thing and names it; never
//! writes.

use std::path::Path;

use super::{Damage, Error, LogKind, Progress, Result};
use crate::crypto::PublicKey;
use crate::store::{index_record_leaves, LogStore, NodeReader};
use crate::tlog::{self, CompactRange, Hash, NodeId};

/// What a passed check saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Entries checked (the signed size).
    pub entries: u64,
    /// The verified root.
    pub root: Hash,
    /// Bytes of records read.
    pub record_bytes: u64,
}

/// Checks the store of the log in `data_dir` (which must not be open elsewhere: sled's
/// lock), with the log key found there unless `key` is given; `sets` also verifies every
/// Rekor entry's signed entry timestamp.
///
/// Errors: [`Error::Damaged`] with the first problem; store and key errors.
pub fn fsck_data_dir(
    data_dir: &Path,
    kind: Option<LogKind>,
    key: Option<PublicKey>,
    sets: bool,
    progress: Progress<'_>,
) -> Result<Checked> {
    let kind = match kind {
        Some(k) => k,
        None => LogKind::detect(data_dir)?,
    };
    let key = match key {
        Some(k) => k,
        None => kind.public_key(data_dir)?,
    };
    let store = match LogStore::open_unindexed(&kind.store_dir(data_dir)) {
        Ok(store) => store,
        Err(crate::store::Error::Refused(e)) => return Err(Damage::Witness(e.to_string()).into()),
        Err(e) => return Err(e.into()),
    };
    let result = fsck(&store, kind, &key, sets, progress);
    store.close()?;
    result
}

/// Checks `store` (see the module documentation).
///
/// Errors: [`Error::Damaged`] with the first problem found; [`Error::Store`] if the store
/// cannot be read at all.
pub fn fsck(
    store: &LogStore,
    kind: LogKind,
    key: &PublicKey,
    sets: bool,
    progress: Progress<'_>,
) -> Result<Checked> {
    let size = store.size()?;
    let (signed_size, signed_root) = match store.checkpoint()? {
        Some(text) => kind.verify_checkpoint(&text, key).map_err(Damage::Checkpoint)?,
        None if size == 0 => (0, tlog::empty_root()),
        None => return Err(Damage::NoCheckpoint(size).into()),
    };
    if signed_size != size {
        return Err(Damage::Size { checkpoint: signed_size, stored: size }.into());
    }
    let mut index_records = store.index_records();
    let mut leaves: std::vec::IntoIter<Hash> = Vec::new().into_iter();
    let mut entries = store.scan_entries(0, u64::MAX);
    let mut range = CompactRange::new();
    let mut made: Vec<(NodeId, Hash)> = Vec::new();
    let mut record_bytes = 0u64;
    let mut nodes = store.node_reader();
    // A Rekor log rotated live: older SETs are by the keys it retired.
    let retired = match (kind, sets) {
        (LogKind::Rekor, true) => crate::rekor::retired_keys(store)
            .map_err(|e| Damage::Checkpoint(format!("keys retired by live rotations: {e}")))?,
        _ => Vec::new(),
    };
    for i in 0..size {
        let key = retired.iter().find(|(below, _)| i < *below).map_or(key, |(_, k)| k);
        let index_leaf = match leaves.next() {
            Some(leaf) => leaf,
            None => {
                let (first, record) = match index_records.next().transpose()? {
                    Some(r) => r,
                    None => return Err(index_damage(i, "missing")),
                };
                if first != i {
                    return Err(index_damage(i, "missing (the next record starts later)"));
                }
                let decoded = index_record_leaves(&record).ok_or(index_damage(i, "malformed"))?;
                leaves = decoded.into_iter();
                leaves.next().ok_or(index_damage(i, "empty"))?
            }
        };
        let record = match entries.next().transpose()? {
            Some((at, record)) if at == i => record,
            _ => return Err(Damage::MissingEntry(i).into()),
        };
        record_bytes += record.len() as u64;
        let leaf_input = kind.check_record(&record, i, key, sets)?;
        let leaf = tlog::hash_leaf(&leaf_input);
        let tree_leaf = stored_node(&mut nodes, NodeId { level: 0, index: i })?;
        if leaf != index_leaf || leaf != tree_leaf {
            // Two of the three agreeing tell which one changed.
            return Err(if index_leaf == tree_leaf {
                Damage::Entry(i)
            } else if leaf == tree_leaf {
                Damage::IndexEntry(i)
            } else if leaf == index_leaf {
                Damage::TreeNode { level: 0, index: i }
            } else {
                Damage::Entry(i)
            }
            .into());
        }
        made.clear();
        range.append(leaf, |id, h| made.push((id, *h)))?;
        for (id, hash) in &made {
            if id.level > 0 && stored_node(&mut nodes, *id)? != *hash {
                return Err(Damage::TreeNode { level: id.level, index: id.index }.into());
            }
        }
        if i % 4096 == 4095 {
            progress(i + 1, size);
        }
    }
    progress(size, size);
    if leaves.next().is_some() {
        return Err(index_damage(size, "leaf hashes beyond the signed size"));
    }
    if let Some((first, _)) = index_records.next().transpose()? {
        return Err(index_damage(first, "beyond the signed size"));
    }
    if let Some((at, _)) = entries.next().transpose()? {
        return Err(Damage::Extra(at).into());
    }
    if range.root() != signed_root {
        return Err(Damage::Root(size).into());
    }
    Ok(Checked { entries: size, root: signed_root, record_bytes })
}

fn index_damage(first: u64, problem: &'static str) -> Error {
    Damage::IndexRecord { first, problem }.into()
}

/// A stored node; a missing one is damage, not a failure to read.
fn stored_node(nodes: &mut NodeReader<'_>, id: NodeId) -> Result<Hash> {
    match nodes.node(id) {
        Ok(h) => Ok(h),
        Err(crate::store::Error::Tree(tlog::Error::MissingNode { .. })) => {
            Err(Damage::TreeNode { level: id.level, index: id.index }.into())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{EcdsaP256Signer, Signer};
    use crate::rekor::Record;
    use crate::store::{Commit, CommittedEntry};
    use crate::tlog::Checkpoint;

    /// A store of `n` Rekor records in `dir`, whose last checkpoint is signed by `signer`
    /// over `(size, root)` as `checkpoint_for` decides.
    fn store_with(
        dir: &Path,
        signer: &EcdsaP256Signer,
        n: u64,
        checkpoint_for: impl Fn(u64, Hash) -> (u64, Hash),
    ) -> LogStore {
        let store = LogStore::open(dir).unwrap();
        let mut range = CompactRange::new();
        let mut commit = Commit::default();
        for i in 0..n {
            let body = format!("{{\"entry\":{i}}}");
            let leaf = tlog::hash_leaf(body.as_bytes());
            range.append(leaf, |id, h| commit.nodes.push((id, *h))).unwrap();
            let record = Record::new(body.as_bytes(), 1, i, &signer.public_key().key_id(), signer)
                .unwrap()
                .to_bytes()
                .unwrap();
            commit.entries.push(CommittedEntry {
                index: i,
                leaf_hash: leaf,
                record,
                search_keys: vec![],
            });
        }
        let (size, root) = checkpoint_for(range.size(), range.root());
        let cp = Checkpoint { origin: "t - 1".into(), size, root_hash: root, extensions: vec![] };
        commit.checkpoint = tlog::sign_checkpoint(&cp, "t", signer).unwrap();
        store.commit(&commit).unwrap();
        store
    }

    fn check(store: &LogStore, key: &PublicKey) -> Result<Checked> {
        fsck(store, LogKind::Rekor, key, true, &mut |_, _| {})
    }

    #[test]
    fn a_healthy_store_passes_and_wrong_checkpoints_are_named() {
        let signer = EcdsaP256Signer::generate();
        let key = signer.public_key().clone();
        let dir = tempfile::tempdir().unwrap();
        let good = store_with(&dir.path().join("good"), &signer, 300, |s, r| (s, r));
        let checked = check(&good, &key).unwrap();
        assert_eq!(checked.entries, 300);
        assert_eq!(checked.root, good.compact_range().unwrap().root());

        let other = EcdsaP256Signer::generate().public_key().clone();
        assert!(matches!(check(&good, &other), Err(Error::Damaged(Damage::Checkpoint(_)))));

        let short = store_with(&dir.path().join("short"), &signer, 10, |s, r| (s - 1, r));
        assert!(matches!(
            check(&short, &key),
            Err(Error::Damaged(Damage::Size { checkpoint: 9, stored: 10 }))
        ));
        let forked = store_with(&dir.path().join("fork"), &signer, 10, |s, _| (s, [7; 32]));
        assert!(matches!(check(&forked, &key), Err(Error::Damaged(Damage::Root(10)))));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sets_of_a_log_rotated_live_are_checked_with_the_key_that_made_them() {
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let (old, new) = (EcdsaP256Signer::generate(), EcdsaP256Signer::generate());
        let new_key = new.public_key().clone();
        let store = LogStore::open(dir.path()).unwrap();
        let log = crate::rekor::Log::open(store, Arc::new(old), "t", Arc::new(|| 5)).unwrap();
        let client = EcdsaP256Signer::generate();
        let entry = |i: u32| {
            let d = crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, &i.to_be_bytes());
            let sig = client.sign_prehashed(d.as_bytes()).unwrap();
            crate::rekor::canonicalize_proposed(&serde_json::json!({
                "apiVersion": "0.0.1", "kind": "hashedrekord",
                "spec": {"data": {"hash": {"algorithm": "sha256", "value": d.to_hex()}},
                         "signature": {"content": crate::encoding::b64_encode(sig),
                                       "publicKey": {"content": crate::encoding::b64_encode(
                                           client.public_key().to_pem())}}}}))
            .unwrap()
        };
        for i in 0..3 {
            log.submit(entry(i)).await.unwrap();
        }
        log.rotation().install(Arc::new(new)).unwrap();
        for i in 3..5 {
            log.submit(entry(i)).await.unwrap();
        }
        log.close().unwrap();
        let store = LogStore::open_unindexed(dir.path()).unwrap();
        assert_eq!(check(&store, &new_key).unwrap().entries, 5);
        // Without the list of retired keys the old SETs do not verify with the new key.
        store.set_meta("retired_keys", b"[]").unwrap();
        assert!(matches!(
            check(&store, &new_key),
            Err(Error::Damaged(Damage::Record { index: 0, .. }))
        ));
    }

    #[test]
    fn a_changed_inner_tree_node_is_named_with_its_level_and_index() {
        let signer = EcdsaP256Signer::generate();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        store_with(&path, &signer, 40, |s, r| (s, r)).close().unwrap();
        {
            // The first tile (level 0, index 0) holds rows 0..4; flip its last byte, a node
            // of its highest row that is complete at 40 leaves.
            let db = sled::open(&path).unwrap();
            let tree = db.open_tree("log").unwrap();
            let mut key = vec![b't', 0];
            key.extend_from_slice(&0u64.to_be_bytes());
            let mut tile = tree.get(&key).unwrap().unwrap().to_vec();
            let last = tile.len() - 1;
            tile[last] ^= 1;
            tree.insert(key, tile).unwrap();
            db.flush().unwrap();
        }
        let store = LogStore::open_unindexed(&path).unwrap();
        let err = check(&store, signer.public_key()).unwrap_err();
        assert!(
            matches!(err, Error::Damaged(Damage::TreeNode { level, .. }) if level > 0),
            "{err}"
        );
    }
}
