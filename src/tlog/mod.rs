//! L1 the Merkle transparency log, independent of Rekor: RFC 6962 / RFC 9162 hashing,
//! proof arithmetic, proof verification, compact ranges for appending, C2SP signed-note
//! checkpoints and C2SP tlog-tiles paths.
//!
//! Nothing here does I/O. Storage reaches the algorithms through [`NodeStore`] or a
//! fetching closure ([`inclusion_proof`], [`consistency_proof`], [`root_at`]); Rekor
//! knowledge (entry kinds, SETs) lives in `rekor`, so this module only sees leaf bytes.

mod checkpoint;
mod compact;
mod error;
mod hash;
mod proof;
mod storage;
mod tiles;
mod verify;

pub use checkpoint::{
    sign_checkpoint, verify_checkpoint, Checkpoint, NoteVerifier, VerifiedCheckpoint,
};
pub use compact::CompactRange;
pub use error::{Error, Result};
pub use hash::{empty_root, hash_children, hash_leaf, Hash};
pub use proof::{consistency_plan, inclusion_plan, subtrees, NodeId, ProofPlan};
pub use storage::{consistency_proof, inclusion_proof, root_at, MemoryNodeStore, NodeStore};
pub use tiles::{
    entries_path, parse_tile_path, tile_path, tile_width, TilePath, TILE_HEIGHT, TILE_WIDTH,
};
pub use verify::{root_from_inclusion_proof, verify_consistency, verify_inclusion};
