//! The integrity check: every leaf recomputed from the stored entries, the tree rebuilt and
//! compared node by node with the stored one, the root compared with the latest signed
//! checkpoint (whose signature is checked), and every lookup-index leaf hash compared with
//! its entry's. Linear in the log's size; stops at the first bad thing and names it; never
//! writes.

use std::path::Path;

use super::{Damage, Error, LogKind, Progress, Result};
use crate::crypto::PublicKey;
use crate::store::{index_record_leaves, LogStore};
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
    let store = LogStore::open_unindexed(&kind.store_dir(data_dir))?;
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
    for i in 0..size {
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
        let tree_leaf = stored_node(store, NodeId { level: 0, index: i })?;
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
            if id.level > 0 && stored_node(store, *id)? != *hash {
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
fn stored_node(store: &LogStore, id: NodeId) -> Result<Hash> {
    match store.node(id) {
        Ok(h) => Ok(h),
        Err(crate::store::Error::Tree(tlog::Error::MissingNode { .. })) => {
            Err(Damage::TreeNode { level: id.level, index: id.index }.into())
        }
        Err(e) => Err(e.into()),
    }
}
