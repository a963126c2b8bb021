//! Where Merkle algorithms get their nodes: the [`NodeStore`] trait, an in-memory store for
//! tests, and proof/root builders that work over any node-fetching closure.
//!
//! Stores keep every perfect subtree hash ([`NodeId`]); proof hashes over the ragged right
//! edge are folded here from the perfect nodes that `proof.rs` names.

use std::collections::HashMap;

use super::hash::{empty_root, hash_children, Hash};
use super::proof::{consistency_plan, inclusion_plan, subtrees, NodeId, ProofPlan};
use super::{Error, Result};

/// A source of perfect-subtree hashes. The `sled` version lives in `store`.
pub trait NodeStore {
    /// The store's own error; it must be able to carry a tlog error (e.g. a bad size).
    type Error: From<Error>;

    /// The hash of node `id`. A node that is not stored is an error
    /// (usually [`Error::MissingNode`]).
    fn node(&self, id: NodeId) -> Result<Hash, Self::Error>;
}

/// An in-memory [`NodeStore`] for tests and small tools: a frontier plus every node.
#[derive(Debug, Clone, Default)]
pub struct MemoryNodeStore {
    nodes: HashMap<NodeId, Hash>,
    range: super::CompactRange,
}

impl MemoryNodeStore {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash, storing every node it completes. Returns the leaf index.
    pub fn append(&mut self, leaf_hash: Hash) -> Result<u64> {
        let index = self.range.size();
        let nodes = &mut self.nodes;
        self.range.append(leaf_hash, |id, h| {
            nodes.insert(id, *h);
        })?;
        Ok(index)
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.range.size()
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.range.root()
    }
}

impl NodeStore for MemoryNodeStore {
    type Error = Error;

    fn node(&self, id: NodeId) -> Result<Hash> {
        self.nodes.get(&id).copied().ok_or(Error::MissingNode { level: id.level, index: id.index })
    }
}

/// Builds the inclusion proof for leaf `index` in the tree of `size` leaves, fetching nodes
/// with `fetch`. Errors: those of [`inclusion_plan`] and of `fetch`.
pub fn inclusion_proof<E: From<Error>>(
    index: u64,
    size: u64,
    fetch: impl FnMut(NodeId) -> Result<Hash, E>,
) -> Result<Vec<Hash>, E> {
    let plan = inclusion_plan(index, size)?;
    assemble(&plan, fetch)
}

/// Builds the consistency proof from `size1` to `size2`, fetching nodes with `fetch`.
/// Errors: those of [`consistency_plan`] and of `fetch`.
pub fn consistency_proof<E: From<Error>>(
    size1: u64,
    size2: u64,
    fetch: impl FnMut(NodeId) -> Result<Hash, E>,
) -> Result<Vec<Hash>, E> {
    let plan = consistency_plan(size1, size2)?;
    assemble(&plan, fetch)
}

/// The root of the tree's first `size` leaves, from stored nodes (at most log2(size) reads).
pub fn root_at<E>(size: u64, mut fetch: impl FnMut(NodeId) -> Result<Hash, E>) -> Result<Hash, E> {
    let ids = subtrees(0, size);
    let mut acc: Option<Hash> = None;
    for id in ids.iter().rev() {
        let h = fetch(*id)?;
        acc = Some(match acc {
            None => h,
            Some(right) => hash_children(&h, &right),
        });
    }
    Ok(acc.unwrap_or_else(empty_root))
}

fn assemble<E>(
    plan: &ProofPlan,
    mut fetch: impl FnMut(NodeId) -> Result<Hash, E>,
) -> Result<Vec<Hash>, E> {
    let mut out = Vec::with_capacity(plan.len());
    for item in plan.items() {
        let mut acc: Option<Hash> = None;
        for id in item.iter().rev() {
            let h = fetch(*id)?;
            acc = Some(match acc {
                None => h,
                Some(right) => hash_children(&h, &right),
            });
        }
        out.push(acc.expect("every proof item names at least one node"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
