//! The log's lookup indexes (leaf hash → index, search key → indices), held in memory in a
//! compact form ([`MemIndex`]: ~24 bytes per leaf and per key) and persisted as one
//! sequential record per commit.
//!
//! Why not a sled key per lookup entry: those keys are hashes, so every insert lands on a
//! random page, and sled writes each as a page delta and later rewrites the page; measured,
//! two search keys per entry cost ~720 bytes of disk per entry (1,677 → 955 bytes/entry at
//! 300,000 entries without them) and a sled insert each on the sequencer. One record per
//! commit under a sequential key costs ~49 bytes per entry; on open the records are read back
//! in one scan.
//!
//! Record layout (`x<first index:8>` → value): per entry, in index order: its leaf hash
//! (32 bytes), the number of search keys (1 byte), then each key as 16 bytes of its SHA-256.

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

/// The first 16 bytes of a leaf hash: what the leaf index keys on. Two different entries
/// share one only by a 2^128 second-preimage search (or a 2^64 birthday search over the
/// searcher's *own* entries, which then answer as duplicates of each other); the same
/// argument as for [`KeyHash`].
type LeafKey = [u8; 16];

/// The in-memory indexes: leaf hash → index and search key → indices.
///
/// Why this shape: the log's size in memory is what bounds a long-running server (the
/// 10-minute soak of issue #15 saw ~420 bytes per entry with hash maps of full hashes, and
/// RSS growing with it). Each index is a [`Pairs`]: one sorted array of 24-byte
/// `(key, index)` pairs plus a small ordered set of the newest, merged into the array in
/// place — about 24 bytes per leaf and per search key, ~72 bytes for a typical entry.
#[derive(Debug, Default)]
pub struct MemIndex {
    leaves: Pairs,
    keys: Pairs,
}

impl MemIndex {
    /// Adds one entry. Entries must come in index order (searches answer ascending).
    pub fn add(&mut self, index: u64, leaf: Hash, keys: &[KeyHash]) {
        self.leaves.insert(leaf_key(&leaf), index);
        for k in keys {
            self.keys.insert(*k, index);
        }
    }

    /// The index of the entry with this leaf hash (the first, should a leaf be indexed
    /// twice).
    pub fn index_of(&self, leaf: &Hash) -> Option<u64> {
        self.leaves.get(&leaf_key(leaf)).into_iter().min()
    }

    /// Indices of the entries under `key`, ascending and distinct.
    pub fn search(&self, key: &KeyHash) -> Vec<u64> {
        let mut out = self.keys.get(key);
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Heap bytes the indexes hold (capacity, not length: what the process pays).
    pub fn heap_bytes(&self) -> usize {
        self.leaves.heap_bytes() + self.keys.heap_bytes()
    }

    /// Number of distinct leaf hashes indexed.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        let mut leaves = self.leaves.sorted.clone();
        leaves.extend(self.leaves.recent.iter().copied());
        leaves.sort_unstable();
        leaves.dedup_by_key(|p| p.0);
        leaves.len()
    }
}

fn leaf_key(leaf: &Hash) -> LeafKey {
    let mut out = [0u8; 16];
    out.copy_from_slice(&leaf[..16]);
    out
}

/// A multimap from 16-byte keys to indices: a sorted array and the newest pairs in a
/// B-tree, merged into the array once they reach [`Pairs::merge_at`].
#[derive(Debug, Default)]
struct Pairs {
    sorted: Vec<(KeyHash, u64)>,
    recent: std::collections::BTreeSet<(KeyHash, u64)>,
}

/// The recent set is merged at `max(MIN_RECENT, sorted / RECENT_FRACTION)` pairs: each pair
/// is moved about `RECENT_FRACTION` times in all, and a merge holds the index's lock for one
/// pass over the array (~20 ms at three million pairs).
const MIN_RECENT: usize = 4096;
const RECENT_FRACTION: usize = 16;

/// Bytes per element of a `BTreeSet<(KeyHash, u64)>`: 24 bytes of payload in nodes of at
/// most 11 (the standard library's B = 6), kept between half and full.
const BTREE_BYTES_PER_PAIR: usize = 40;

impl Pairs {
    fn insert(&mut self, key: KeyHash, index: u64) {
        self.recent.insert((key, index));
        if self.recent.len() >= self.merge_at() {
            self.merge();
        }
    }

    fn merge_at(&self) -> usize {
        MIN_RECENT.max(self.sorted.len() / RECENT_FRACTION)
    }

    /// Merges the recent pairs into the sorted array in place, from the back: the array
    /// grows by the recent count (a `realloc`, which the allocator can do by remapping)
    /// and no second copy of it is ever held.
    fn merge(&mut self) {
        let recent: Vec<(KeyHash, u64)> = std::mem::take(&mut self.recent).into_iter().collect();
        let old = self.sorted.len();
        self.sorted.reserve_exact(recent.len());
        self.sorted.resize(old + recent.len(), ([0; 16], 0));
        let (mut i, mut j, mut k) = (old, recent.len(), old + recent.len());
        while j > 0 {
            k -= 1;
            if i > 0 && self.sorted[i - 1] > recent[j - 1] {
                self.sorted[k] = self.sorted[i - 1];
                i -= 1;
            } else {
                self.sorted[k] = recent[j - 1];
                j -= 1;
            }
        }
    }

    /// Every index stored under `key`, in no particular order.
    fn get(&self, key: &KeyHash) -> Vec<u64> {
        let from = self.sorted.partition_point(|(k, _)| k < key);
        let mut out: Vec<u64> =
            self.sorted[from..].iter().take_while(|(k, _)| k == key).map(|&(_, i)| i).collect();
        out.extend(self.recent.range((*key, 0)..=(*key, u64::MAX)).map(|&(_, i)| i));
        out
    }

    fn heap_bytes(&self) -> usize {
        self.sorted.capacity() * std::mem::size_of::<(KeyHash, u64)>()
            + self.recent.len() * BTREE_BYTES_PER_PAIR
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
    fn merged_and_recent_pairs_answer_alike() {
        // Enough entries for several merges, keys shared across them, and a reference map.
        let mut index = MemIndex::default();
        let mut reference: std::collections::BTreeMap<KeyHash, Vec<u64>> = Default::default();
        for i in 0..50_000u64 {
            let leaf =
                crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, &i.to_be_bytes());
            let mut l = [0u8; 32];
            l.copy_from_slice(leaf.as_bytes());
            let keys = [key_hash(&format!("k{}", i % 7_919)), key_hash(&format!("u{i}"))];
            index.add(i, l, &keys);
            for k in keys {
                reference.entry(k).or_default().push(i);
            }
        }
        for i in (0..50_000u64).step_by(997) {
            let leaf =
                crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, &i.to_be_bytes());
            let mut l = [0u8; 32];
            l.copy_from_slice(leaf.as_bytes());
            assert_eq!(index.index_of(&l), Some(i));
        }
        for (k, v) in reference.iter().step_by(101) {
            assert_eq!(&index.search(k), v);
        }
        assert_eq!(index.index_of(&[0xee; 32]), None);
        assert!(index.search(&key_hash("absent")).is_empty());
        assert_eq!(index.len(), 50_000);
    }

    #[test]
    fn memory_per_entry_stays_near_the_pairs_it_holds() {
        // 200,000 entries with two search keys each: 600,000 pairs of 24 bytes. The hash
        // maps this replaced held ~420 bytes per entry (issue #15's soak).
        let mut index = MemIndex::default();
        for i in 0..200_000u64 {
            let mut leaf = [0u8; 32];
            leaf[..8].copy_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
            index.add(i, leaf, &[key_hash(&format!("a{i}")), key_hash("one signing key")]);
        }
        let per_entry = index.heap_bytes() / 200_000;
        assert!(per_entry <= 100, "{per_entry} bytes per entry");
        assert_eq!(index.search(&key_hash("one signing key")).len(), 200_000);
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
