//! The sled-backed log: one tree, prefixed keys, atomic batches, flush before acknowledge.
//!
//! Key layout (all integers big-endian, so sled iterates in index order):
//! `e<index:8>` → record bytes; `l<leaf hash:32>` → index; `n<level:1><index:8>` → node hash;
//! `s<key bytes>\0<index:8>` → empty (search index); `m<name>` → metadata (`size`,
//! `checkpoint`, and whatever the caller stores with [`LogStore::set_meta`]).

use std::path::Path;

use super::{Error, Result};
use crate::tlog::{self, CompactRange, Hash, NodeId};

/// A Merkle log stored in sled.
#[derive(Debug, Clone)]
pub struct LogStore {
    db: sled::Db,
    tree: sled::Tree,
}

/// One entry of a [`Commit`].
#[derive(Debug, Clone)]
pub struct CommittedEntry {
    /// The leaf index it gets.
    pub index: u64,
    /// Its RFC 6962 leaf hash.
    pub leaf_hash: Hash,
    /// Opaque record bytes (what the caller wants back from [`LogStore::entry`]).
    pub record: Vec<u8>,
    /// Search keys pointing at this entry (lowercase by convention of the caller).
    pub search_keys: Vec<String>,
}

/// A batch of new entries plus the tree nodes they completed and the new signed checkpoint.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    /// Entries with consecutive indices starting at the current size.
    pub entries: Vec<CommittedEntry>,
    /// Every perfect node created by appending them.
    pub nodes: Vec<(NodeId, Hash)>,
    /// The signed checkpoint covering the new size.
    pub checkpoint: String,
}

impl LogStore {
    /// Opens (or creates) the database in directory `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let db = sled::Config::new().path(path).mode(sled::Mode::HighThroughput).open()?;
        let tree = db.open_tree("log")?;
        Ok(LogStore { db, tree })
    }

    /// A throwaway in-memory database (tests).
    pub fn temporary() -> Result<Self> {
        let db = sled::Config::new().temporary(true).open()?;
        let tree = db.open_tree("log")?;
        Ok(LogStore { db, tree })
    }

    /// Number of committed entries.
    pub fn size(&self) -> Result<u64> {
        match self.tree.get(meta_key("size"))? {
            None => Ok(0),
            Some(v) => read_u64(&v).ok_or(Error::Corrupt("log size")),
        }
    }

    /// The latest signed checkpoint, if any batch was committed.
    pub fn checkpoint(&self) -> Result<Option<String>> {
        match self.tree.get(meta_key("checkpoint"))? {
            None => Ok(None),
            Some(v) => {
                String::from_utf8(v.to_vec()).map(Some).map_err(|_| Error::Corrupt("checkpoint"))
            }
        }
    }

    /// The frontier of the committed tree, rebuilt from stored nodes (used at start-up).
    pub fn compact_range(&self) -> Result<CompactRange> {
        let size = self.size()?;
        let hashes = CompactRange::frontier_ids(size)
            .into_iter()
            .map(|id| self.node(id))
            .collect::<Result<Vec<_>>>()?;
        Ok(CompactRange::from_hashes(size, hashes)?)
    }

    /// Writes a batch atomically and flushes it to disk; returns only once it is durable.
    ///
    /// Errors: [`Error::OutOfSequence`] if the entries do not continue the log.
    pub fn commit(&self, commit: &Commit) -> Result<()> {
        let size = self.size()?;
        let mut batch = sled::Batch::default();
        let mut next = size;
        for e in &commit.entries {
            if e.index != next {
                return Err(Error::OutOfSequence { got: e.index, want: next });
            }
            batch.insert(entry_key(e.index).to_vec(), e.record.as_slice());
            batch.insert(leaf_key(&e.leaf_hash).to_vec(), &e.index.to_be_bytes()[..]);
            for k in &e.search_keys {
                batch.insert(search_key(k, e.index), &[][..]);
            }
            next += 1;
        }
        for (id, hash) in &commit.nodes {
            batch.insert(node_key(*id).to_vec(), &hash[..]);
        }
        batch.insert(meta_key("size"), &next.to_be_bytes()[..]);
        batch.insert(meta_key("checkpoint"), commit.checkpoint.as_bytes());
        self.tree.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// The record of entry `index`, if committed.
    pub fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.tree.get(entry_key(index))?.map(|v| v.to_vec()))
    }

    /// The records of entries `start..end` (as many as exist), in order.
    pub fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        for item in self.tree.range(entry_key(start)..entry_key(end)) {
            let (_, v) = item?;
            out.push(v.to_vec());
        }
        Ok(out)
    }

    /// The index of the committed entry with this leaf hash.
    pub fn index_of(&self, leaf_hash: &Hash) -> Result<Option<u64>> {
        match self.tree.get(leaf_key(leaf_hash))? {
            None => Ok(None),
            Some(v) => read_u64(&v).map(Some).ok_or(Error::Corrupt("leaf index")),
        }
    }

    /// The indices of entries stored under search key `key` (exact match), ascending.
    pub fn search(&self, key: &str) -> Result<Vec<u64>> {
        let mut prefix = Vec::with_capacity(key.len() + 2);
        prefix.push(b's');
        prefix.extend_from_slice(key.as_bytes());
        prefix.push(0);
        let mut out = Vec::new();
        for item in self.tree.scan_prefix(&prefix) {
            let (k, _) = item?;
            let idx =
                k.get(prefix.len()..).and_then(read_u64).ok_or(Error::Corrupt("search key"))?;
            out.push(idx);
        }
        Ok(out)
    }

    /// The hash of a stored perfect node. Errors: [`Error::Tree`] with
    /// [`tlog::Error::MissingNode`] when absent.
    pub fn node(&self, id: NodeId) -> Result<Hash> {
        let v = self
            .tree
            .get(node_key(id))?
            .ok_or(tlog::Error::MissingNode { level: id.level, index: id.index })?;
        v.as_ref().try_into().map_err(|_| Error::Corrupt("tree node"))
    }

    /// The hashes of nodes `first..end` at tree `level` (a tlog-tiles tile), as many as exist.
    pub fn level_nodes(&self, level: u8, first: u64, end: u64) -> Result<Vec<Hash>> {
        let mut out = Vec::new();
        let lo = node_key(NodeId { level, index: first });
        let hi = node_key(NodeId { level, index: end });
        for item in self.tree.range(lo..hi) {
            let (_, v) = item?;
            out.push(v.as_ref().try_into().map_err(|_| Error::Corrupt("tree node"))?);
        }
        Ok(out)
    }

    /// Reads a caller-defined metadata value.
    pub fn meta(&self, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.tree.get(meta_key(name))?.map(|v| v.to_vec()))
    }

    /// Writes a caller-defined metadata value and flushes it.
    pub fn set_meta(&self, name: &str, value: &[u8]) -> Result<()> {
        self.tree.insert(meta_key(name), value)?;
        self.db.flush()?;
        Ok(())
    }
}

impl tlog::NodeStore for LogStore {
    type Error = Error;

    fn node(&self, id: NodeId) -> Result<Hash> {
        LogStore::node(self, id)
    }
}

fn entry_key(index: u64) -> [u8; 9] {
    let mut k = [b'e'; 9];
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

fn leaf_key(hash: &Hash) -> [u8; 33] {
    let mut k = [b'l'; 33];
    k[1..].copy_from_slice(hash);
    k
}

fn node_key(id: NodeId) -> [u8; 10] {
    let mut k = [b'n'; 10];
    k[1] = id.level;
    k[2..].copy_from_slice(&id.index.to_be_bytes());
    k
}

fn search_key(key: &str, index: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 10);
    k.push(b's');
    k.extend_from_slice(key.as_bytes());
    k.push(0);
    k.extend_from_slice(&index.to_be_bytes());
    k
}

fn meta_key(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 1);
    k.push(b'm');
    k.extend_from_slice(name.as_bytes());
    k
}

fn read_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::{hash_leaf, inclusion_proof, verify_inclusion};

    fn commit_leaves(store: &LogStore, range: &mut CompactRange, datas: &[&[u8]]) -> Commit {
        let mut commit = Commit::default();
        for d in datas {
            let leaf_hash = hash_leaf(d);
            let index = range.size();
            range.append(leaf_hash, |id, h| commit.nodes.push((id, *h))).unwrap();
            commit.entries.push(CommittedEntry {
                index,
                leaf_hash,
                record: d.to_vec(),
                search_keys: vec![format!("key-{}", d.len())],
            });
        }
        commit.checkpoint = format!("size {}", range.size());
        store.commit(&commit).unwrap();
        commit
    }

    #[test]
    fn committed_entries_survive_reopen_with_same_root_and_proofs() {
        let dir = tempfile::tempdir().unwrap();
        let mut range = CompactRange::new();
        let root = {
            let store = LogStore::open(dir.path()).unwrap();
            commit_leaves(&store, &mut range, &[b"a", b"bb", b"ccc"]);
            commit_leaves(&store, &mut range, &[b"dddd", b"e"]);
            range.root()
        };
        let store = LogStore::open(dir.path()).unwrap();
        assert_eq!(store.size().unwrap(), 5);
        assert_eq!(store.compact_range().unwrap().root(), root);
        assert_eq!(store.checkpoint().unwrap().as_deref(), Some("size 5"));
        assert_eq!(store.entry(3).unwrap().as_deref(), Some(&b"dddd"[..]));
        assert_eq!(store.index_of(&hash_leaf(b"ccc")).unwrap(), Some(2));
        assert_eq!(store.search("key-1").unwrap(), vec![0, 4]);
        assert_eq!(store.entries(1, 3).unwrap(), vec![b"bb".to_vec(), b"ccc".to_vec()]);
        let proof = inclusion_proof(2, 5, |id| store.node(id)).unwrap();
        assert!(verify_inclusion(2, 5, &hash_leaf(b"ccc"), &proof, &root).is_ok());
    }

    #[test]
    fn commit_not_continuing_the_log_is_rejected_and_changes_nothing() {
        let store = LogStore::temporary().unwrap();
        let mut range = CompactRange::new();
        commit_leaves(&store, &mut range, &[b"a"]);
        let bad = Commit {
            entries: vec![CommittedEntry {
                index: 5,
                leaf_hash: hash_leaf(b"x"),
                record: vec![],
                search_keys: vec![],
            }],
            nodes: vec![],
            checkpoint: "x".into(),
        };
        assert!(matches!(store.commit(&bad), Err(Error::OutOfSequence { got: 5, want: 1 })));
        assert_eq!(store.size().unwrap(), 1);
        assert_eq!(store.checkpoint().unwrap().as_deref(), Some("size 1"));
    }

    #[test]
    fn missing_node_is_a_tree_error() {
        let store = LogStore::temporary().unwrap();
        assert!(matches!(
            store.node(NodeId { level: 0, index: 0 }),
            Err(Error::Tree(tlog::Error::MissingNode { level: 0, index: 0 }))
        ));
    }
}
