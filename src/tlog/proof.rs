//! Which tree nodes a Merkle proof needs: RFC 6962 §2.1.1 PATH and §2.1.2 SUBPROOF as pure
//! arithmetic over leaf ranges. No hashes and no I/O here; `storage.rs` fetches the nodes and
//! folds them into proof hashes.
//!
//! A node is a perfect subtree, named by [`NodeId`] `(level, index)`: it covers leaves
//! `index << level .. (index + 1) << level`. A proof hash over the ragged right edge of the
//! tree is not a stored node; it is the fold (right to left) of several perfect subtrees,
//! which is why each proof item is a list of nodes.

use super::{Error, Result};

/// A perfect subtree: `level` 0 is a leaf; it covers `2^level` leaves from `index << level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves.
    pub level: u8,
    /// Position within the level.
    pub index: u64,
}

/// The nodes behind each hash of a proof, in proof order (leaf to root).
///
/// Item `i` is the hash of `items()[i]` folded right to left with `hash_children`
/// (a single node stands for itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofPlan {
    items: Vec<Vec<NodeId>>,
}

impl ProofPlan {
    /// The node lists, one per proof hash.
    pub fn items(&self) -> &[Vec<NodeId>] {
        &self.items
    }

    /// Number of hashes the finished proof has.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when the proof has no hashes (single-leaf tree, or equal sizes).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// The nodes of the inclusion proof (audit path) for leaf `index` in a tree of `size`
/// leaves, RFC 6962 §2.1.1 PATH.
///
/// Errors: [`Error::IndexOutOfRange`] unless `index < size`; [`Error::TreeTooLarge`] above
/// 2^63 leaves.
pub fn inclusion_plan(index: u64, size: u64) -> Result<ProofPlan> {
    check_size(size)?;
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let mut items = Vec::new();
    let (mut lo, mut hi, mut m) = (0u64, size, index);
    // Walk from the root down, collecting siblings; reverse at the end (leaf first).
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if m < k {
            items.push(subtrees(lo + k, hi));
            hi = lo + k;
        } else {
            items.push(subtrees(lo, lo + k));
            lo += k;
            m -= k;
        }
    }
    items.reverse();
    Ok(ProofPlan { items })
}

/// The nodes of the consistency proof between tree sizes `size1 <= size2`,
/// RFC 6962 §2.1.2 SUBPROOF(size1, D[size2], true).
///
/// Equal sizes give an empty plan. Errors: [`Error::SizesOutOfOrder`] when `size1 > size2`
/// or `size1 == 0 < size2`.
pub fn consistency_plan(size1: u64, size2: u64) -> Result<ProofPlan> {
    check_size(size2)?;
    if size1 > size2 || (size1 == 0 && size2 > 0) {
        return Err(Error::SizesOutOfOrder { size1, size2 });
    }
    let mut items = Vec::new();
    let (mut lo, mut hi, mut m, mut whole) = (0u64, size2, size1, true);
    loop {
        let n = hi - lo;
        if m == n {
            if !whole {
                items.push(subtrees(lo, hi));
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            items.push(subtrees(lo + k, hi));
            hi = lo + k;
        } else {
            items.push(subtrees(lo, lo + k));
            lo += k;
            m -= k;
            whole = false;
        }
    }
    items.reverse();
    Ok(ProofPlan { items })
}

/// Splits the leaf range `begin..end` into maximal perfect subtrees, left to right.
///
/// For the ranges proofs use (`begin` aligned, or `end` the tree size) the Merkle tree hash
/// of the range is these nodes folded right to left. An empty range gives no nodes.
pub fn subtrees(begin: u64, end: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut pos = begin;
    while pos < end {
        let align = if pos == 0 { 63 } else { pos.trailing_zeros() };
        let fit = 63 - (end - pos).leading_zeros();
        let level = align.min(fit);
        out.push(NodeId { level: level as u8, index: pos >> level });
        pos += 1u64 << level;
    }
    out
}

/// The largest power of two strictly less than `n` (`n >= 2`).
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

fn check_size(size: u64) -> Result<()> {
    if size > 1u64 << 63 {
        return Err(Error::TreeTooLarge(size));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
    }

    #[test]
    fn subtrees_of_seven_leaves_are_four_two_one() {
        let ids = subtrees(0, 7);
        assert_eq!(
            ids,
            vec![
                NodeId { level: 2, index: 0 },
                NodeId { level: 1, index: 2 },
                NodeId { level: 0, index: 6 }
            ]
        );
    }

    #[test]
    fn inclusion_plan_index_equal_to_size_is_rejected() {
        assert!(matches!(inclusion_plan(5, 5), Err(Error::IndexOutOfRange { index: 5, size: 5 })));
    }

    #[test]
    fn inclusion_plan_of_single_leaf_is_empty() {
        assert!(inclusion_plan(0, 1).unwrap().is_empty());
    }

    #[test]
    fn consistency_plan_from_zero_is_rejected() {
        assert!(matches!(
            consistency_plan(0, 3),
            Err(Error::SizesOutOfOrder { size1: 0, size2: 3 })
        ));
        assert!(matches!(
            consistency_plan(4, 3),
            Err(Error::SizesOutOfOrder { size1: 4, size2: 3 })
        ));
        assert!(consistency_plan(3, 3).unwrap().is_empty());
    }
}
