//! The log's lookup indexes (leaf hash → index, search key → indices), held in memory and
//! persisted as one sequential record per commit.
//!
//! Why not a sled key per lookup entry: those keys are hashes, so every insert lands on a
//! random page, and sled writes each as a page delta and later rewrites the page; measured,
//! two search keys per entry cost ~720 bytes of disk per entry (1,677 → 955 bytes/entry at
//! 300,000 entries without them) and a sled insert each on the sequencer. One record per
//! commit under a sequential key costs ~49 bytes per entry; on open the records are read back
//! in one scan (about 1 s and ~100 MiB of memory at a million entries).
//!
//! Record layout (`x<first index:8>` → value): per entry, in index order: its leaf hash
//! (32 bytes), the number of search keys (1 byte), then each key as 16 bytes of its SHA-256.

use std::collections::HashMap;

use crate::tlog::Hash;

/// 16 bytes of a search key's SHA-256 (a false match needs a 2^128 search).
pub type KeyHash = [u8; 16];

/// The hash under which `key` is indexed.
pub fn key_hash(key: &str) -> KeyHash {
    let d = crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, key.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&d.as_bytes()[..16]);
    out
}

/// The in-memory indexes.
#[derive(Debug, Default)]
pub struct MemIndex {
    leaves: HashMap<Hash, u64>,
    /// The first entry under each key; most keys (artifact digests) have only one.
    first: HashMap<KeyHash, u64>,
    /// Further entries under keys that have more (e.g. one signing key, many entries).
    more: HashMap<KeyHash, Vec<u64>>,
}

impl MemIndex {
    /// Adds one entry. Entries must come in index order (searches answer ascending).
    pub fn add(&mut self, index: u64, leaf: Hash, keys: &[KeyHash]) {
        self.leaves.insert(leaf, index);
        for k in keys {
            match self.first.get(k) {
                None => {
                    self.first.insert(*k, index);
                }
                Some(&i) if i == index => {} // the same key twice for one entry
                Some(_) => {
                    let more = self.more.entry(*k).or_default();
                    if more.last() != Some(&index) {
                        more.push(index);
                    }
                }
            }
        }
    }

    /// The index of the entry with this leaf hash.
    pub fn index_of(&self, leaf: &Hash) -> Option<u64> {
        self.leaves.get(leaf).copied()
    }

    /// Indices of the entries under `key`, ascending.
    pub fn search(&self, key: &KeyHash) -> Vec<u64> {
        let mut out: Vec<u64> = self.first.get(key).copied().into_iter().collect();
        if let Some(more) = self.more.get(key) {
            out.extend_from_slice(more);
        }
        out
    }

    /// Number of distinct leaf hashes indexed.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.leaves.len()
    }
}

/// Appends one entry to a commit's index record.
pub fn encode_entry(out: &mut Vec<u8>, leaf: &Hash, keys: &[KeyHash]) -> Option<()> {
    out.extend_from_slice(leaf);
    out.push(u8::try_from(keys.len()).ok()?);
    for k in keys {
        out.extend_from_slice(k);
    }
    Some(())
}

/// The entries of an index record: `(leaf, keys)` in index order; `None` if malformed.
pub fn decode(mut bytes: &[u8]) -> Option<Vec<(Hash, Vec<KeyHash>)>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (leaf, rest) = bytes.split_first_chunk::<32>()?;
        let (&n, mut rest) = rest.split_first()?;
        let mut keys = Vec::with_capacity(usize::from(n));
        for _ in 0..n {
            let (k, r) = rest.split_first_chunk::<16>()?;
            keys.push(*k);
            rest = r;
        }
        out.push((*leaf, keys));
        bytes = rest;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_searches_answer_ascending() {
        let (a, b) = (key_hash("sha256:aa"), key_hash("fingerprint"));
        let mut record = Vec::new();
        encode_entry(&mut record, &[1; 32], &[a, b]).unwrap();
        encode_entry(&mut record, &[2; 32], &[b]).unwrap();
        encode_entry(&mut record, &[3; 32], &[]).unwrap();
        let entries = decode(&record).expect("well formed");
        assert_eq!(entries.len(), 3);
        let mut index = MemIndex::default();
        for (i, (leaf, keys)) in entries.iter().enumerate() {
            index.add(10 + i as u64, *leaf, keys);
        }
        index.add(13, [4; 32], &[b, b]);
        assert_eq!(index.index_of(&[2; 32]), Some(11));
        assert_eq!(index.index_of(&[9; 32]), None);
        assert_eq!(index.search(&a), vec![10]);
        assert_eq!(index.search(&b), vec![10, 11, 13]);
        assert!(index.search(&key_hash("other")).is_empty());
        assert_eq!(index.len(), 4);
    }

    #[test]
    fn malformed_records_do_not_decode() {
        let mut record = Vec::new();
        encode_entry(&mut record, &[1; 32], &[[7; 16]]).unwrap();
        assert!(decode(&record[..record.len() - 1]).is_none(), "cut key");
        assert!(decode(&record[..20]).is_none(), "cut leaf");
        assert_eq!(decode(&[]), Some(vec![]));
    }
}
