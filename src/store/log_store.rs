//! The sled-backed log: one tree, prefixed keys, atomic batches, flush before acknowledge.
//!
//! Key layout (format 3; all integers big-endian, so sled iterates in index order):
//! `e<index:8>` → record bytes; `t<tile level:1><tile index:8>` → a 4-high hash tile with
//! its inner rows ([`super::tile`]); `x<first index:8>` → the lookup-index record of one
//! commit ([`super::index`]: leaf hashes and hashed search keys, held in memory after
//! open); `m<name>` → metadata (`size`, `checkpoint`, `format`, and whatever the caller
//! stores with [`LogStore::set_meta`]).
//!
//! Every key of a commit is sequential, so sled appends instead of scattering deltas over
//! random pages. Why tiles rather than a key per node: an inclusion proof at a million
//! entries needs twenty nodes but only five tiles, so a cold proof costs five page reads
//! instead of twenty, and the tree takes 1/16th of the keys. Format 1 (a key per node, per
//! leaf hash and per search key) is converted on open.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, RwLock};

use super::hash_tiles::{self as tile, Address, TileRows};
use super::index::{self as lookup, key_hash, MemIndex};
use super::{Error, Result, Witness};
use crate::tlog::{self, CompactRange, Hash, NodeId};

/// The layout [`LogStore::open`] writes (see the module documentation).
const FORMAT: u8 = 3;

/// A Merkle log stored in sled.
#[derive(Debug, Clone)]
pub struct LogStore {
    db: sled::Db,
    tree: sled::Tree,
    /// The tiles the latest commits wrote, as stored. The answer to an add-entry request
    /// carries an inclusion proof for an entry just written, whose nodes lie almost all in
    /// these right-edge tiles; serving them from here saves a sled lookup per proof node
    /// (measured: a 5-lookup proof costs about 15 µs from sled's cache).
    recent: Arc<RwLock<RecentTiles>>,
    /// Leaf hash and search key lookups, rebuilt from the `x` records on open.
    index: Arc<RwLock<MemIndex>>,
    /// The record of the last flushed tree outside sled (none for in-memory stores).
    witness: Option<Witness>,
    /// The store's directory (none for in-memory stores), for the free-space check.
    dir: Option<Arc<Path>>,
    /// Bytes kept free on the store's disk: commits are refused below it.
    reserve: Arc<std::sync::atomic::AtomicU64>,
}

/// The default of [`LogStore::set_reserve`]: 64 MiB, several hundred thousand entries'
/// worth of headroom for sled's own writes and compaction.
pub const DEFAULT_RESERVE: u64 = 64 << 20;

/// Stored tile bytes by (tile level, tile index).
type RecentTiles = HashMap<(u8, u64), Arc<[u8]>>;

/// A tile as a batch writes it: (tile level, tile index) and its bytes.
type WrittenTile = ((u8, u64), Arc<[u8]>);

/// sled's own page cache per store. sled's default (1 GiB) keeps everything a long-running
/// server writes until it reaches that size, so a server's memory grew with its log (the
/// soak of `make soak` showed +76 MiB in four minutes); reads past this cache come from the
/// OS page cache, and the hot set — the newest tiles and the lookup index — is held by the
/// store itself ([`LogStore::recent`], the in-memory index).
const CACHE_BYTES: u64 = 16 << 20;

/// [`CACHE_BYTES`], or `SIGBOX_STORE_CACHE_MIB` MiB when that is set to a number.
fn cache_bytes() -> u64 {
    std::env::var("SIGBOX_STORE_CACHE_MIB")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(CACHE_BYTES, |mib| mib.saturating_mul(1 << 20))
}

/// Most tiles kept in [`LogStore::recent`] before it is emptied and refilled.
const RECENT_TILES: usize = 256;

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
    ///
    /// A store written in an older layout is converted first, in one atomic batch.
    pub fn open(path: &Path) -> Result<Self> {
        let store = Self::open_unindexed(path)?;
        store.load_index()?;
        Ok(store)
    }

    /// Opens the database like [`LogStore::open`] but does not load the lookup indexes, so
    /// that a checker can read a store whose index records are damaged and name the first
    /// bad one ([`LogStore::index_of`] and [`LogStore::search`] find nothing on this handle).
    pub fn open_unindexed(path: &Path) -> Result<Self> {
        // sled releases its file lock from a background thread a moment after the last
        // handle of a previous open is dropped (even after a flush), so a reopen in the same
        // process waits for it — up to two seconds — instead of failing.
        let mut attempts = 0;
        let db = loop {
            let config = sled::Config::new()
                .path(path)
                .mode(sled::Mode::HighThroughput)
                .cache_capacity(cache_bytes());
            match config.open() {
                Err(sled::Error::Io(e))
                    if attempts < 100 && e.to_string().contains("could not acquire lock") =>
                {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other?,
            }
        };
        let mut store = Self::init(db)?;
        let witness = Witness::of(path);
        let size = store.size()?;
        witness.check(size, |at| tlog::root_at(at, |id| store.node(id)))??;
        store.witness = Some(witness);
        store.dir = Some(Arc::from(path));
        Ok(store)
    }

    /// Flushes every write to disk (after a run of [`LogStore::import_batch`]).
    ///
    /// Errors: [`Error::Database`].
    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        self.record_witness(self.size()?);
        Ok(())
    }

    /// Flushes everything to disk and closes the database (sled lets go of its file lock
    /// shortly after; [`LogStore::open`] waits for that).
    ///
    /// Errors: [`Error::Database`] if the final flush fails.
    pub fn close(self) -> Result<()> {
        self.db.flush()?;
        drop(self);
        Ok(())
    }

    /// A throwaway in-memory database (tests).
    pub fn temporary() -> Result<Self> {
        let store = Self::init(sled::Config::new().temporary(true).open()?)?;
        store.load_index()?;
        Ok(store)
    }

    fn init(db: sled::Db) -> Result<Self> {
        let tree = db.open_tree("log")?;
        let store = LogStore {
            db,
            tree,
            recent: Arc::default(),
            index: Arc::default(),
            witness: None,
            dir: None,
            reserve: Arc::new(DEFAULT_RESERVE.into()),
        };
        match store.tree.get(meta_key("format"))?.as_deref() {
            Some([FORMAT]) => {}
            Some(_) => return Err(Error::Corrupt("store format (written by a newer sigbox?)")),
            None if store.tree.get(meta_key("size"))?.is_some() => store.upgrade_from_format_1()?,
            None => {
                store.tree.insert(meta_key("format"), &[FORMAT])?;
                store.db.flush()?;
            }
        }
        Ok(store)
    }

    /// Reads every `x` record into the in-memory index.
    fn load_index(&self) -> Result<()> {
        let started = std::time::Instant::now();
        let mut index = MemIndex::default();
        let mut next = 0u64;
        for item in self.tree.scan_prefix(b"x") {
            let (k, v) = item?;
            let first = k.get(1..).and_then(read_u64).ok_or(Error::Corrupt("index key"))?;
            if first != next {
                return Err(Error::Corrupt("index records (gap)"));
            }
            let entries = lookup::decode(&v).ok_or(Error::Corrupt("index record"))?;
            for (leaf, keys) in &entries {
                index.add(next, *leaf, keys);
                next += 1;
            }
        }
        let size = self.size()?;
        if next != size {
            return Err(Error::Corrupt("index records do not cover the log"));
        }
        tracing::info!(
            entries = size,
            ms = started.elapsed().as_millis() as u64,
            memory_bytes = index.heap_bytes() as u64,
            "index loaded"
        );
        *self.index.write().unwrap_or_else(|p| p.into_inner()) = index;
        Ok(())
    }

    /// Converts format 1 (a key per node, per leaf hash and per search key in clear) to the
    /// current layout.
    fn upgrade_from_format_1(&self) -> Result<()> {
        let mut batch = sled::Batch::default();
        let mut tiles: BTreeMap<(u8, u64), TileRows> = BTreeMap::new();
        for item in self.tree.scan_prefix(b"n") {
            let (k, v) = item?;
            let (level, index) = match (k.get(1), k.get(2..).and_then(read_u64)) {
                (Some(level), Some(index)) if k.len() == 10 => (*level, index),
                _ => return Err(Error::Corrupt("format 1 tree node key")),
            };
            let hash: Hash = v.as_ref().try_into().map_err(|_| Error::Corrupt("tree node"))?;
            let at = Address::of(NodeId { level, index });
            // Keys iterate by (level, index), so each row fills in order.
            if !tiles.entry((at.tile_level, at.tile_index)).or_default().push(at.row, at.pos, hash)
            {
                return Err(Error::Corrupt("format 1 tree nodes (gap)"));
            }
            batch.remove(k);
        }
        for ((level, index), rows) in &tiles {
            let bytes = rows.encode().ok_or(Error::Corrupt("format 1 tree nodes (ragged)"))?;
            batch.insert(tile_key(*level, *index).to_vec(), bytes);
        }
        // Leaf hashes and search keys become index records of up to 4,096 entries.
        let mut per_entry: BTreeMap<u64, (Option<Hash>, Vec<lookup::KeyHash>)> = BTreeMap::new();
        for item in self.tree.scan_prefix(b"l") {
            let (k, v) = item?;
            let leaf: Hash = k
                .get(1..)
                .and_then(|b| b.try_into().ok())
                .ok_or(Error::Corrupt("format 1 leaf key"))?;
            let index = read_u64(&v).ok_or(Error::Corrupt("format 1 leaf index"))?;
            per_entry.entry(index).or_default().0 = Some(leaf);
            batch.remove(k);
        }
        for item in self.tree.scan_prefix(b"s") {
            let (k, _) = item?;
            let split = k.len().checked_sub(9).filter(|at| k.get(*at) == Some(&0));
            let at = split.ok_or(Error::Corrupt("format 1 search key"))?;
            let index = read_u64(&k[at + 1..]).ok_or(Error::Corrupt("format 1 search key"))?;
            let key = std::str::from_utf8(&k[1..at])
                .map_err(|_| Error::Corrupt("format 1 search key"))?;
            per_entry.entry(index).or_default().1.push(key_hash(key));
            batch.remove(k);
        }
        let size = self.size()?;
        if per_entry.len() as u64 != size
            || per_entry.keys().next_back().is_some_and(|i| *i + 1 != size)
        {
            return Err(Error::Corrupt("format 1 leaf index does not cover the log"));
        }
        let entries: Vec<_> = per_entry.into_iter().collect();
        for chunk in entries.chunks(4096) {
            let mut record = Vec::new();
            for (_, (leaf, keys)) in chunk {
                let leaf = leaf.ok_or(Error::Corrupt("format 1 entry without leaf index"))?;
                lookup::encode_entry(&mut record, &leaf, keys)
                    .ok_or(Error::Corrupt("format 1 entry with too many search keys"))?;
            }
            batch.insert(index_key(chunk[0].0).to_vec(), record);
        }
        batch.insert(meta_key("format"), &[FORMAT]);
        self.tree.apply_batch(batch)?;
        self.db.flush()?;
        tracing::info!(tiles = tiles.len(), "log store converted to format {FORMAT}");
        Ok(())
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

    /// Sets the bytes kept free on the store's disk (see [`LogStore::check_room`]).
    pub fn set_reserve(&self, bytes: u64) {
        self.reserve.store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// Refuses a commit while the store's disk has less free space than the reserve. Why
    /// before writing rather than on a failed write: sled turns a failed write into an
    /// error on every later operation, and only a restart clears it; refusing early lets
    /// the log take entries again as soon as space returns.
    ///
    /// Errors: [`Error::NoSpace`]. A free-space figure that cannot be read is not an error.
    pub fn check_room(&self) -> Result<()> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let reserve = self.reserve.load(std::sync::atomic::Ordering::Relaxed);
        match crate::sys::free_bytes(dir) {
            Ok(free) if free < reserve => Err(Error::NoSpace { free, reserve }),
            _ => Ok(()),
        }
    }

    /// Writes a batch atomically and flushes it to disk; returns only once it is durable.
    ///
    /// Errors: [`Error::OutOfSequence`] if the entries do not continue the log,
    /// [`Error::NoSpace`] when the disk is below the reserve (nothing is written).
    pub fn commit(&self, commit: &Commit) -> Result<()> {
        self.check_room()?;
        let size = self.size()?;
        let mut batch = sled::Batch::default();
        let mut next = size;
        let mut record = Vec::with_capacity(commit.entries.len() * 65);
        let mut hashed = Vec::with_capacity(commit.entries.len());
        for e in &commit.entries {
            if e.index != next {
                return Err(Error::OutOfSequence { got: e.index, want: next });
            }
            batch.insert(entry_key(e.index).to_vec(), e.record.as_slice());
            let keys: Vec<_> = e.search_keys.iter().map(|k| key_hash(k)).collect();
            lookup::encode_entry(&mut record, &e.leaf_hash, &keys)
                .ok_or(Error::Corrupt("more than 255 search keys for one entry"))?;
            hashed.push((e.index, e.leaf_hash, keys));
            next += 1;
        }
        if !record.is_empty() {
            batch.insert(index_key(size).to_vec(), record);
        }
        let written = self.tiles_into(&commit.nodes, &mut batch)?;
        batch.insert(meta_key("size"), &next.to_be_bytes()[..]);
        batch.insert(meta_key("checkpoint"), commit.checkpoint.as_bytes());
        self.tree.apply_batch(batch)?;
        // The index follows sled's view (which now has the batch, flushed or not), so that
        // a failed flush cannot leave stored entries that lookups do not find.
        {
            let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
            for (i, leaf, keys) in &hashed {
                index.add(*i, *leaf, keys);
            }
        }
        self.db.flush()?;
        self.remember(written);
        self.record_witness(next);
        Ok(())
    }

    /// Records the flushed tree at `size` in the witness (see `super::witness`).
    fn record_witness(&self, size: u64) {
        if let Some(witness) = &self.witness {
            // The batch is durable whatever happens here: a witness that cannot be written
            // (a full disk) only weakens the next open's check, so it is logged, not fatal.
            let recorded = tlog::root_at(size, |id| self.node(id))
                .map_err(|e| e.to_string())
                .and_then(|root| witness.record(size, &root).map_err(|e| e.to_string()));
            if let Err(error) = recorded {
                tracing::warn!(%error, path = %witness.path().display(), "store witness not updated");
            }
        }
    }

    /// Adds the tiles that `nodes` (in creation order) change to `batch`; returns them as
    /// written.
    fn tiles_into(
        &self,
        nodes: &[(NodeId, Hash)],
        batch: &mut sled::Batch,
    ) -> Result<Vec<WrittenTile>> {
        // Nodes come in creation order, so each tile row grows at its end.
        let mut tiles: BTreeMap<(u8, u64), TileRows> = BTreeMap::new();
        for (id, hash) in nodes {
            let at = Address::of(*id);
            let key = (at.tile_level, at.tile_index);
            let rows = match tiles.entry(key) {
                std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(match self.tree.get(tile_key(key.0, key.1))? {
                        Some(bytes) => TileRows::decode(&bytes).ok_or(Error::Corrupt("tile"))?,
                        None => TileRows::default(),
                    })
                }
            };
            if !rows.push(at.row, at.pos, *hash) {
                return Err(Error::Corrupt("tree node out of order for its tile"));
            }
        }
        let mut written = Vec::with_capacity(tiles.len());
        for ((level, index), rows) in &tiles {
            let bytes: Arc<[u8]> =
                rows.encode().ok_or(Error::Corrupt("tile rows after commit"))?.into();
            batch.insert(tile_key(*level, *index).to_vec(), &bytes[..]);
            written.push(((*level, *index), bytes));
        }
        Ok(written)
    }

    /// Keeps tiles just written and flushed in [`LogStore::recent`].
    fn remember(&self, written: Vec<WrittenTile>) {
        // Only after the flush: the tiles kept here are always on disk too.
        let mut recent = self.recent.write().unwrap_or_else(|p| p.into_inner());
        if recent.len() + written.len() > RECENT_TILES {
            recent.clear();
        }
        recent.extend(written);
    }

    /// Appends entries restored from a backup: their records, the lookup-index record they
    /// had (leaf hashes and hashed search keys, as [`LogStore::index_records`] gave it), the
    /// tree nodes they complete and the checkpoint to store. Unlike [`LogStore::commit`] it
    /// does not flush (a restore flushes once with [`LogStore::flush`] at the end).
    ///
    /// Errors: [`Error::OutOfSequence`] if `first` is not the current size;
    /// [`Error::Corrupt`] if the index record does not decode or covers another number of
    /// entries than `records`.
    pub fn import_batch(
        &self,
        first: u64,
        records: &[Vec<u8>],
        index_record: &[u8],
        nodes: &[(NodeId, Hash)],
        checkpoint: &str,
    ) -> Result<()> {
        self.check_room()?;
        let size = self.size()?;
        if first != size {
            return Err(Error::OutOfSequence { got: first, want: size });
        }
        let decoded = lookup::decode(index_record).ok_or(Error::Corrupt("index record"))?;
        if decoded.len() != records.len() {
            return Err(Error::Corrupt("index record (entry count)"));
        }
        let mut batch = sled::Batch::default();
        for (i, record) in records.iter().enumerate() {
            batch.insert(entry_key(first + i as u64).to_vec(), record.as_slice());
        }
        if !records.is_empty() {
            batch.insert(index_key(first).to_vec(), index_record);
        }
        let written = self.tiles_into(nodes, &mut batch)?;
        let next = first + records.len() as u64;
        batch.insert(meta_key("size"), &next.to_be_bytes()[..]);
        batch.insert(meta_key("checkpoint"), checkpoint.as_bytes());
        self.tree.apply_batch(batch)?;
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        for (i, (leaf, keys)) in decoded.iter().enumerate() {
            index.add(first + i as u64, *leaf, keys);
        }
        drop(index);
        self.remember(written);
        Ok(())
    }

    /// The stored records from index `start` up to `end`, each with its index, in order. A
    /// missing record shows as a jump in the indices (a checker names it).
    pub fn scan_entries(
        &self,
        start: u64,
        end: u64,
    ) -> impl Iterator<Item = Result<(u64, Vec<u8>)>> + '_ {
        self.tree.range(entry_key(start)..entry_key(end)).map(|item| {
            let (k, v) = item?;
            let index = k.get(1..).and_then(read_u64).ok_or(Error::Corrupt("entry key"))?;
            Ok((index, v.to_vec()))
        })
    }

    /// The lookup-index records as stored: (first index, record bytes), in index order. One
    /// record per commit; [`index_record_leaves`] reads the leaf hashes out of one.
    pub fn index_records(&self) -> impl Iterator<Item = Result<(u64, Vec<u8>)>> + '_ {
        self.tree.scan_prefix(b"x").map(|item| {
            let (k, v) = item?;
            let first = k.get(1..).and_then(read_u64).ok_or(Error::Corrupt("index key"))?;
            Ok((first, v.to_vec()))
        })
    }

    /// Every metadata value the caller stored with [`LogStore::set_meta`] (not the store's
    /// own `size`, `checkpoint` and `format`), by name.
    pub fn caller_meta(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        for item in self.tree.scan_prefix(b"m") {
            let (k, v) = item?;
            let name = std::str::from_utf8(&k[1..]).map_err(|_| Error::Corrupt("meta key"))?;
            if !matches!(name, "size" | "checkpoint" | "format") {
                out.push((name.to_string(), v.to_vec()));
            }
        }
        Ok(out)
    }

    /// Bytes the database takes on disk (sled's own count).
    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(self.db.size_on_disk()?)
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
        Ok(self.index.read().unwrap_or_else(|p| p.into_inner()).index_of(leaf_hash))
    }

    /// The indices of entries stored under search key `key` (exact match), ascending.
    pub fn search(&self, key: &str) -> Result<Vec<u64>> {
        Ok(self.index.read().unwrap_or_else(|p| p.into_inner()).search(&key_hash(key)))
    }

    /// The hash of a stored perfect node. Errors: [`Error::Tree`] with
    /// [`tlog::Error::MissingNode`] when absent.
    pub fn node(&self, id: NodeId) -> Result<Hash> {
        let missing = || tlog::Error::MissingNode { level: id.level, index: id.index };
        let at = Address::of(id);
        let cached = {
            let recent = self.recent.read().unwrap_or_else(|p| p.into_inner());
            recent.get(&(at.tile_level, at.tile_index)).cloned()
        };
        if let Some(node) = cached.and_then(|bytes| tile::node_in(&bytes, at.row, at.pos)) {
            return Ok(node);
        }
        let bytes = self.tree.get(tile_key(at.tile_level, at.tile_index))?.ok_or_else(missing)?;
        // `node_in` checks the tile's length against its width before slicing.
        Ok(tile::node_in(&bytes, at.row, at.pos).ok_or_else(missing)?)
    }

    /// The hashes of nodes `first..end` at tree `level` (a multiple of 8: a tlog-tiles
    /// tile's own row), as many as exist in order from `first`.
    pub fn level_nodes(&self, level: u8, first: u64, end: u64) -> Result<Vec<Hash>> {
        let mut out = Vec::new();
        if level % tile::HEIGHT != 0 || first >= end {
            return Ok(out);
        }
        let tile_level = level / tile::HEIGHT;
        let lo = tile_key(tile_level, first / tile::WIDTH);
        let hi = tile_key(tile_level, (end - 1) / tile::WIDTH + 1);
        let mut want = first;
        for item in self.tree.range(lo..hi) {
            let (k, bytes) = item?;
            let tile_index = k.get(2..).and_then(read_u64).ok_or(Error::Corrupt("tile key"))?;
            let start = tile_index * tile::WIDTH;
            if start > want || want - start >= tile::WIDTH {
                break; // a gap: nodes from here on are not stored
            }
            let (from, to) = ((want - start) as usize, (end - start).min(tile::WIDTH) as usize);
            let row = tile::row0(&bytes, from, to).ok_or(Error::Corrupt("tile"))?;
            want += row.len() as u64;
            out.extend(row);
            if want < start + to as u64 {
                break; // a partial tile ends the stored row
            }
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

/// Reads a store's nodes in the order a checker walking the whole tree meets them, keeping
/// the last tile read at each tile level: the walk then costs one sled lookup per tile
/// instead of one per node (a million-entry tree has about two million nodes).
pub struct NodeReader<'a> {
    store: &'a LogStore,
    tiles: Vec<Option<(u64, sled::IVec)>>,
}

impl NodeReader<'_> {
    /// The hash of a stored perfect node. Errors: as [`LogStore::node`].
    pub fn node(&mut self, id: NodeId) -> Result<Hash> {
        let missing = || tlog::Error::MissingNode { level: id.level, index: id.index };
        let at = Address::of(id);
        let slot = usize::from(at.tile_level);
        if self.tiles.len() <= slot {
            self.tiles.resize(slot + 1, None);
        }
        let cached = matches!(&self.tiles[slot], Some((index, _)) if *index == at.tile_index);
        if !cached {
            let bytes =
                self.store.tree.get(tile_key(at.tile_level, at.tile_index))?.ok_or_else(missing)?;
            self.tiles[slot] = Some((at.tile_index, bytes));
        }
        let bytes = self.tiles[slot].as_ref().map(|(_, b)| &b[..]).unwrap_or_default();
        Ok(tile::node_in(bytes, at.row, at.pos).ok_or_else(missing)?)
    }
}

impl LogStore {
    /// A [`NodeReader`] over this store (for a store no one writes meanwhile).
    pub fn node_reader(&self) -> NodeReader<'_> {
        NodeReader { store: self, tiles: Vec::new() }
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

fn tile_key(level: u8, index: u64) -> [u8; 10] {
    let mut k = [b't'; 10];
    k[1] = level;
    k[2..].copy_from_slice(&index.to_be_bytes());
    k
}

fn index_key(first: u64) -> [u8; 9] {
    let mut k = [b'x'; 9];
    k[1..].copy_from_slice(&first.to_be_bytes());
    k
}

fn meta_key(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 1);
    k.push(b'm');
    k.extend_from_slice(name.as_bytes());
    k
}

/// The leaf hashes of one lookup-index record (see [`LogStore::index_records`]), in index
/// order; `None` if the record is malformed.
pub fn index_record_leaves(bytes: &[u8]) -> Option<Vec<Hash>> {
    Some(lookup::decode(bytes)?.into_iter().map(|(leaf, _)| leaf).collect())
}

/// The entries of one lookup-index record: (leaf hash, hashed search keys) in index order;
/// `None` if the record is malformed.
pub fn decode_index_record(bytes: &[u8]) -> Option<Vec<(Hash, Vec<lookup::KeyHash>)>> {
    lookup::decode(bytes)
}

/// The lookup-index record of consecutive entries given as (leaf hash, hashed search keys),
/// as [`LogStore::import_batch`] takes it; `None` if an entry has more than 255 keys.
pub fn encode_index_record(entries: &[(Hash, Vec<lookup::KeyHash>)]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(entries.len() * 49);
    for (leaf, keys) in entries {
        lookup::encode_entry(&mut out, leaf, keys)?;
    }
    Some(out)
}

fn read_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests;
