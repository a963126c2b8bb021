//! L2 durable storage: the only module that touches `sled`.
//!
//! [`LogStore`] keeps a Merkle log's entries, the tree as small hash tiles (with their inner
//! rows, so every perfect node is stored), the latest signed checkpoint, and the leaf-hash
//! and search indexes (in memory, persisted as one record per commit), all in one sled tree
//! with key prefixes so that one batch is applied atomically. [`LogStore::commit`] writes a whole
//! batch and flushes it to disk before returning: callers acknowledge entries only after it
//! returns (flush-before-ack). The store knows nothing about Rekor: records are opaque bytes.

mod backend;
mod error;
mod hash_tiles;
mod index;
mod log_store;
pub mod postgres;
mod witness;

pub use backend::Store;
pub use error::{Error, Result};
pub use hash_tiles::{EncodedTile, HashTileWriter};
pub use index::KeyHash;
pub use log_store::{
    decode_index_record, encode_index_record, index_record_leaves, Commit, CommittedEntry,
    LogStore, NodeReader, DEFAULT_RESERVE,
};
pub use witness::{Witness, WitnessError};
