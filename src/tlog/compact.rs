//! Compact range (the "frontier") of a growing Merkle tree: the roots of the maximal perfect
//! subtrees that cover leaves `0..size`, one per set bit of `size`. Appending a leaf merges
//! equal-sized subtrees; the tree root is the fold of the frontier from the right.
//!
//! This is how the log appends without reading the tree back: it keeps the frontier, and
//! every perfect node that appending creates is handed to the caller to store.

use super::hash::{empty_root, hash_children, Hash};
use super::proof::{subtrees, NodeId};
use super::{Error, Result};

/// The frontier of a Merkle tree of `size` leaves.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompactRange {
    size: u64,
    /// Subtree roots, largest (leftmost) first.
    hashes: Vec<Hash>,
}

impl CompactRange {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a frontier from its subtree roots, largest first (the nodes
    /// [`CompactRange::frontier_ids`] names).
    ///
    /// Errors: [`Error::CompactRangeLength`] unless there is one hash per set bit of `size`.
    pub fn from_hashes(size: u64, hashes: Vec<Hash>) -> Result<Self> {
        let want = size.count_ones() as usize;
        if hashes.len() != want {
            return Err(Error::CompactRangeLength { size, got: hashes.len(), want });
        }
        Ok(CompactRange { size, hashes })
    }

    /// The nodes that make up the frontier of a tree of `size` leaves, largest first.
    pub fn frontier_ids(size: u64) -> Vec<NodeId> {
        subtrees(0, size)
    }

    /// Number of leaves covered.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The subtree roots, largest first.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends one leaf hash. `visit` is called with every perfect node this creates: the leaf
    /// itself (level 0) and each parent completed by it, lowest first.
    ///
    /// Errors: [`Error::TreeTooLarge`] at 2^63 leaves.
    pub fn append(&mut self, leaf_hash: Hash, mut visit: impl FnMut(NodeId, &Hash)) -> Result<()> {
        if self.size >= 1u64 << 63 {
            return Err(Error::TreeTooLarge(self.size));
        }
        let mut node = NodeId { level: 0, index: self.size };
        let mut hash = leaf_hash;
        visit(node, &hash);
        // Each trailing one bit of the old size is a subtree of the same height to merge with.
        let merges = self.size.trailing_ones();
        for _ in 0..merges {
            let left = self.hashes.pop().expect("one frontier hash per set bit of size");
            hash = hash_children(&left, &hash);
            node = NodeId { level: node.level + 1, index: node.index >> 1 };
            visit(node, &hash);
        }
        self.hashes.push(hash);
        self.size += 1;
        Ok(())
    }

    /// The Merkle tree hash of leaves `0..size` (RFC 6962 §2.1 MTH).
    pub fn root(&self) -> Hash {
        let mut iter = self.hashes.iter().rev();
        let Some(last) = iter.next() else {
            return empty_root();
        };
        iter.fold(*last, |acc, left| hash_children(left, &acc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::hash::hash_leaf;

    #[test]
    fn empty_range_root_is_empty_root() {
        assert_eq!(CompactRange::new().root(), empty_root());
    }

    #[test]
    fn three_leaves_root_is_node_of_pair_and_leaf() {
        let l: Vec<Hash> = (0u8..3).map(|i| hash_leaf(&[i])).collect();
        let mut cr = CompactRange::new();
        let mut seen = Vec::new();
        for h in &l {
            cr.append(*h, |id, _| seen.push(id)).unwrap();
        }
        assert_eq!(cr.root(), hash_children(&hash_children(&l[0], &l[1]), &l[2]));
        assert_eq!(seen.len(), 4, "three leaves and one parent: {seen:?}");
        assert_eq!(cr.hashes().len(), 2);
    }

    #[test]
    fn from_hashes_with_wrong_count_is_rejected() {
        assert!(matches!(
            CompactRange::from_hashes(3, vec![[0; 32]]),
            Err(Error::CompactRangeLength { size: 3, got: 1, want: 2 })
        ));
    }
}
