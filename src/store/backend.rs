//! [`Store`]: the storage the log core runs on, the embedded sled store or PostgreSQL.
//!
//! An enum rather than a trait object: the sled path keeps its direct calls (its figures
//! are unchanged), and the few operations only one side has (sled's offline tools, the
//! PostgreSQL leader lock and hand-over table) stay on the concrete types, reached with
//! [`Store::as_sled`] and [`Store::as_postgres`].

use std::collections::HashMap;

use super::postgres::PgStore;
use super::{Commit, LogStore, Result};
use crate::tlog::{self, CompactRange, Hash, NodeId};

/// Where a log keeps its entries, tree and indexes.
#[derive(Debug, Clone)]
pub enum Store {
    /// The embedded store in a local directory (the default).
    Sled(LogStore),
    /// A PostgreSQL schema, possibly shared by several servers.
    Postgres(PgStore),
}

impl From<LogStore> for Store {
    fn from(store: LogStore) -> Self {
        Store::Sled(store)
    }
}

impl From<PgStore> for Store {
    fn from(store: PgStore) -> Self {
        Store::Postgres(store)
    }
}

macro_rules! both {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Store::Sled($s) => $e,
            Store::Postgres($s) => $e,
        }
    };
}

impl Store {
    /// The sled store, if that is what this is.
    pub fn as_sled(&self) -> Option<&LogStore> {
        match self {
            Store::Sled(s) => Some(s),
            Store::Postgres(_) => None,
        }
    }

    /// The PostgreSQL store, if that is what this is.
    pub fn as_postgres(&self) -> Option<&PgStore> {
        match self {
            Store::Sled(_) => None,
            Store::Postgres(s) => Some(s),
        }
    }

    /// Number of committed entries.
    pub fn size(&self) -> Result<u64> {
        both!(self, s => s.size())
    }

    /// The latest signed checkpoint, if any batch was committed.
    pub fn checkpoint(&self) -> Result<Option<String>> {
        both!(self, s => s.checkpoint())
    }

    /// The frontier of the committed tree.
    pub fn compact_range(&self) -> Result<CompactRange> {
        both!(self, s => s.compact_range())
    }

    /// Refuses a commit while the disk is below the reserve (sled; a database manages its
    /// own space).
    pub fn check_room(&self) -> Result<()> {
        match self {
            Store::Sled(s) => s.check_room(),
            Store::Postgres(_) => Ok(()),
        }
    }

    /// Sets the free space kept on the store's disk (sled only).
    pub fn set_reserve(&self, bytes: u64) {
        if let Store::Sled(s) = self {
            s.set_reserve(bytes);
        }
    }

    /// Writes a batch atomically; returns once it is durable.
    pub fn commit(&self, commit: &Commit) -> Result<()> {
        match self {
            Store::Sled(s) => s.commit(commit),
            Store::Postgres(s) => s.commit(commit, &[]),
        }
    }

    /// The record of entry `index`, if committed.
    pub fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        both!(self, s => s.entry(index))
    }

    /// The records of entries `start..end` (as many as exist), in order.
    pub fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        both!(self, s => s.entries(start, end))
    }

    /// The index of the committed entry with this leaf hash.
    pub fn index_of(&self, leaf_hash: &Hash) -> Result<Option<u64>> {
        both!(self, s => s.index_of(leaf_hash))
    }

    /// The indices of the committed entries with these leaf hashes (one round trip on
    /// PostgreSQL), by leaf hash; absent ones are left out.
    pub fn indices_of(&self, leaves: &[Hash]) -> Result<HashMap<Hash, u64>> {
        match self {
            Store::Sled(s) => {
                let mut out = HashMap::new();
                for leaf in leaves {
                    if let Some(i) = s.index_of(leaf)? {
                        out.insert(*leaf, i);
                    }
                }
                Ok(out)
            }
            Store::Postgres(s) => s.indices_of(leaves),
        }
    }

    /// The indices of entries stored under search key `key`, ascending.
    pub fn search(&self, key: &str) -> Result<Vec<u64>> {
        both!(self, s => s.search(key))
    }

    /// The hash of a stored perfect node.
    pub fn node(&self, id: NodeId) -> Result<Hash> {
        both!(self, s => s.node(id))
    }

    /// Makes the nodes `ids` cheap to read next (one query on PostgreSQL; nothing on sled,
    /// whose reads are local).
    pub fn prefetch(&self, ids: &[NodeId]) -> Result<()> {
        match self {
            Store::Sled(_) => Ok(()),
            Store::Postgres(s) => s.prefetch(ids),
        }
    }

    /// The hashes of nodes `first..end` at tree `level`.
    pub fn level_nodes(&self, level: u8, first: u64, end: u64) -> Result<Vec<Hash>> {
        both!(self, s => s.level_nodes(level, first, end))
    }

    /// Reads a metadata value.
    pub fn meta(&self, name: &str) -> Result<Option<Vec<u8>>> {
        both!(self, s => s.meta(name))
    }

    /// Writes a metadata value.
    pub fn set_meta(&self, name: &str, value: &[u8]) -> Result<()> {
        both!(self, s => s.set_meta(name, value))
    }

    /// The value under `name`, storing `value` first if there is none.
    pub fn meta_or_insert(&self, name: &str, value: &[u8]) -> Result<Vec<u8>> {
        match self {
            Store::Sled(s) => match s.meta(name)? {
                Some(v) => Ok(v),
                None => {
                    s.set_meta(name, value)?;
                    Ok(value.to_vec())
                }
            },
            Store::Postgres(s) => s.meta_or_insert(name, value),
        }
    }

    /// Flushes and closes (sled); a PostgreSQL store just lets go of its connections.
    pub fn close(self) -> Result<()> {
        match self {
            Store::Sled(s) => s.close(),
            Store::Postgres(_) => Ok(()),
        }
    }
}

impl tlog::NodeStore for Store {
    type Error = super::Error;

    fn node(&self, id: NodeId) -> Result<Hash> {
        Store::node(self, id)
    }
}
