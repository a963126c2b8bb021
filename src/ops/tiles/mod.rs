//! Exporting a log as C2SP tlog-tiles files (<https://c2sp.org/tlog-tiles>) for static
//! serving: `checkpoint`, `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]` in a
//! directory that any web server, object store or CDN can serve as it is.
//!
//! Readers must never see a checkpoint whose tiles are missing, and tiles are immutable, so
//! every file is written under a temporary name, synced and renamed into place; the
//! directories are synced; and only then is `checkpoint` replaced, last. A full tile is never
//! rewritten; a partial tile is written once per exported size and removed once its full
//! tile exists (the spec allows that: readers fall back to the full tile).
//!
//! Nothing is published that a reader would reject: before a file is written it is checked
//! against the tree above it (a full hash tile hashes to its parent node, an entry bundle's
//! entries hash to the leaf hashes of its level-0 tile), and the partial tiles of the right
//! edge must hash to the signed root. The export reads the log through [`TileSource`], so it
//! works over a running [`crate::rekor::Log`] (whatever stores it) or a stopped store
//! ([`export_data_dir`]). [`live`] runs it in the background of a server.

mod dir;
pub mod live;

use std::path::Path;

use serde::Serialize;

use super::{Damage, Error, LogKind, Progress, Result};
use crate::crypto::PublicKey;
use crate::encoding::hex_encode;
use crate::store::LogStore;
use crate::tlog::{self, Hash, NodeId, TilePath, TILE_HEIGHT, TILE_WIDTH};

pub use dir::TileDir;

/// The signed tree an export publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTree {
    /// Number of entries.
    pub size: u64,
    /// Root hash at `size`.
    pub root: Hash,
    /// The checkpoint (C2SP signed note) over (`size`, `root`).
    pub checkpoint: String,
}

/// What an export reads: one signed tree and the hashes and leaves under it.
pub trait TileSource {
    /// The tree to export (the latest signed one).
    fn signed_tree(&self) -> Result<SignedTree>;
    /// The hashes of tree level `level` (a multiple of 8), nodes `first..end`.
    fn level_nodes(&self, level: u8, first: u64, end: u64) -> Result<Vec<Hash>>;
    /// The leaf data (what each leaf hash covers) of entries `first..end`.
    fn leaf_data(&self, first: u64, end: u64) -> Result<Vec<Vec<u8>>>;
    /// The root of the tree at an earlier `size`.
    fn root_at(&self, size: u64) -> Result<Hash>;
}

/// What one export did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Exported {
    /// The exported tree size.
    pub size: u64,
    /// Its root, hex.
    pub root: String,
    /// Tile and entry-bundle files written.
    pub written: u64,
    /// Files already present and complete, left alone.
    pub skipped: u64,
    /// Partial tiles removed because their full tile now exists.
    pub removed: u64,
    /// Bytes written (tiles, bundles and checkpoint).
    pub bytes: u64,
    /// Whether `checkpoint` was replaced (false: it already held this one).
    pub checkpoint_written: bool,
}

/// A running Rekor log: its head and its stored tree.
impl TileSource for crate::rekor::Log {
    fn signed_tree(&self) -> Result<SignedTree> {
        let head = self.head();
        Ok(SignedTree { size: head.size, root: head.root, checkpoint: head.checkpoint })
    }

    fn level_nodes(&self, level: u8, first: u64, end: u64) -> Result<Vec<Hash>> {
        Ok(crate::rekor::Log::level_nodes(self, level, first, end)?)
    }

    fn leaf_data(&self, first: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        Ok(self.bodies(first, end)?)
    }

    fn root_at(&self, size: u64) -> Result<Hash> {
        Ok(crate::rekor::Log::root_at(self, size)?)
    }
}

/// A stopped log's store, its latest checkpoint verified with the log key.
pub struct StoreSource<'a> {
    store: &'a LogStore,
    kind: LogKind,
    key: PublicKey,
}

impl<'a> StoreSource<'a> {
    /// Reads the `kind` log in `store`, whose checkpoints `key` signs.
    pub fn new(store: &'a LogStore, kind: LogKind, key: PublicKey) -> StoreSource<'a> {
        StoreSource { store, kind, key }
    }
}

impl TileSource for StoreSource<'_> {
    fn signed_tree(&self) -> Result<SignedTree> {
        let size = self.store.size()?;
        let Some(checkpoint) = self.store.checkpoint()? else {
            return Err(match size {
                0 => Error::Refused("the log has no signed checkpoint yet".into()),
                n => Damage::NoCheckpoint(n).into(),
            });
        };
        let (signed, root) =
            self.kind.verify_checkpoint(&checkpoint, &self.key).map_err(Damage::Checkpoint)?;
        if signed != size {
            return Err(Damage::Size { checkpoint: signed, stored: size }.into());
        }
        Ok(SignedTree { size, root, checkpoint })
    }

    fn level_nodes(&self, level: u8, first: u64, end: u64) -> Result<Vec<Hash>> {
        Ok(self.store.level_nodes(level, first, end)?)
    }

    fn leaf_data(&self, first: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        let records = self.store.entries(first, end)?;
        let mut out = Vec::with_capacity(records.len());
        for (index, record) in (first..).zip(records) {
            out.push(self.kind.leaf_input(&record).ok_or(Damage::UnreadableEntry(index))?);
        }
        Ok(out)
    }

    fn root_at(&self, size: u64) -> Result<Hash> {
        Ok(tlog::root_at(size, |id| self.store.node(id))?)
    }
}

/// Exports the stopped log in `data_dir` into `out` (see the module documentation):
/// incremental, files already present and complete are skipped. Only Rekor logs (v1 or v2):
/// the CA's CT log signs RFC 6962 tree heads, not C2SP checkpoints.
///
/// Errors: [`Error::Refused`] for a CT log, a running server, or an `out` holding another
/// tree's tiles; [`Error::Damaged`] when the store disagrees with its signed checkpoint;
/// store, key and I/O errors.
pub fn export_data_dir(data_dir: &Path, out: &Path, progress: Progress<'_>) -> Result<Exported> {
    let kind = LogKind::detect(data_dir)?;
    if kind == LogKind::Ct {
        return Err(Error::Refused(format!(
            "{} holds the CA's CT log, whose tree heads are RFC 6962 JSON, not C2SP checkpoints; \
             export-tiles exports Rekor logs",
            data_dir.display()
        )));
    }
    if super::admin::connect(data_dir).is_some() {
        return Err(Error::Refused(format!(
            "a server runs on {} (its admin socket answers): stop it, or let it export with \
             `rekor-server --tiles-dir`",
            data_dir.display()
        )));
    }
    let key = kind.public_key(data_dir)?;
    let tiles = TileDir::open(out)?;
    let store = match LogStore::open_unindexed(&kind.store_dir(data_dir)) {
        Ok(store) => store,
        Err(crate::store::Error::Refused(e)) => return Err(Damage::Witness(e.to_string()).into()),
        Err(e) => return Err(e.into()),
    };
    let result = tiles.export(&StoreSource::new(&store, kind, key), 0, progress);
    store.close()?;
    result
}

/// The tiles and bundles that exporting a tree of `size` writes or checks, when every file
/// for trees up to `from` is known to be in place: at each level, the full tiles that were
/// not full at `from`, and the partial tile at `size`. `from = 0` lists them all.
fn plan(size: u64, from: u64) -> Vec<TilePath> {
    let mut out = Vec::new();
    for level in 0..=MAX_LEVEL {
        let shift = u32::from(level) * u32::from(TILE_HEIGHT);
        let nodes = size >> shift;
        if nodes == 0 {
            break;
        }
        let (full, partial) = (nodes / TILE_WIDTH, (nodes % TILE_WIDTH) as u16);
        let start = (from >> shift) / TILE_WIDTH;
        for index in start..full {
            out.push(TilePath::Hashes { level, index, width: TILE_WIDTH as u16 });
            if level == 0 {
                out.push(TilePath::Entries { index, width: TILE_WIDTH as u16 });
            }
        }
        if partial > 0 {
            out.push(TilePath::Hashes { level, index: full, width: partial });
            if level == 0 {
                out.push(TilePath::Entries { index: full, width: partial });
            }
        }
    }
    out
}

/// 64 tree levels are 8 tile levels.
const MAX_LEVEL: u8 = 7;

/// The partial tile of each level of a tree of `size`: (tile level, its hashes).
fn right_edge(source: &dyn TileSource, size: u64) -> Result<Vec<(u8, Vec<Hash>)>> {
    let mut edge = Vec::new();
    for path in plan(size, size) {
        if let TilePath::Hashes { level, width, .. } = path {
            if u64::from(width) < TILE_WIDTH {
                let hashes = tile_hashes(source, path)?;
                edge.push((level, hashes));
            }
        }
    }
    Ok(edge)
}

/// The hashes of hash tile `path`, all of them (a short read is damage).
fn tile_hashes(source: &dyn TileSource, path: TilePath) -> Result<Vec<Hash>> {
    let (level, first, end) = path.node_range();
    let hashes = source.level_nodes(level, first, end)?;
    if hashes.len() as u64 != end - first {
        return Err(Damage::Tile {
            path: path.to_path(),
            problem: format!("the store holds {} of its {} hashes", hashes.len(), end - first),
        }
        .into());
    }
    Ok(hashes)
}

/// The root of a tree of `size` from the partial tiles of its right edge alone: each
/// perfect subtree of the tree's decomposition lies in the partial tile of its tile level.
fn root_from_edge(size: u64, edge: &[(u8, Vec<Hash>)]) -> Option<Hash> {
    let mut roots = Vec::new();
    for NodeId { level, index } in tlog::subtrees(0, size) {
        let tile_level = level / TILE_HEIGHT;
        let span = 1u64 << (level % TILE_HEIGHT);
        let (_, hashes) = edge.iter().find(|(l, _)| *l == tile_level)?;
        let tile_start = (index * span) / TILE_WIDTH * TILE_WIDTH;
        let first = usize::try_from(index * span - tile_start).ok()?;
        roots.push(subtree_hash(hashes.get(first..first + span as usize)?)?);
    }
    let mut acc = match roots.pop() {
        Some(last) => last,
        None => return Some(tlog::empty_root()),
    };
    while let Some(left) = roots.pop() {
        acc = tlog::hash_children(&left, &acc);
    }
    Some(acc)
}

/// The Merkle hash of a perfect subtree given its `2^k` bottom hashes (`None` otherwise).
fn subtree_hash(hashes: &[Hash]) -> Option<Hash> {
    if !hashes.len().is_power_of_two() {
        return None;
    }
    let mut row = hashes.to_vec();
    while row.len() > 1 {
        row = row.chunks_exact(2).map(|p| tlog::hash_children(&p[0], &p[1])).collect();
    }
    row.pop()
}

/// Checks a full hash tile against its parent node (level `8·(L+1)`, index `N`).
fn check_full_tile(source: &dyn TileSource, path: TilePath, hashes: &[Hash]) -> Result<()> {
    let TilePath::Hashes { level, index, .. } = path else {
        return Ok(());
    };
    let made = subtree_hash(hashes);
    let parent_level = (level + 1) * TILE_HEIGHT;
    let parent = source.level_nodes(parent_level, index, index + 1)?;
    match (made, parent.first()) {
        (Some(made), Some(parent)) if made == *parent => Ok(()),
        (made, parent) => Err(Damage::Tile {
            path: path.to_path(),
            problem: format!(
                "its hashes hash to {}, but its parent node (level {parent_level}, index \
                 {index}) is {}",
                made.map_or("nothing".into(), hex_encode),
                parent.map_or("missing".into(), hex_encode)
            ),
        }
        .into()),
    }
}

/// The entry bundle `path`: each entry's leaf data after its big-endian u16 length, checked
/// against the leaf hashes of the level-0 tile it belongs with.
fn entry_bundle(source: &dyn TileSource, path: TilePath) -> Result<Vec<u8>> {
    let (_, first, end) = path.node_range();
    let leaves = source.leaf_data(first, end)?;
    let bad = |problem: String| Error::from(Damage::Tile { path: path.to_path(), problem });
    if leaves.len() as u64 != end - first {
        return Err(bad(format!(
            "the store holds {} of its {} entries",
            leaves.len(),
            end - first
        )));
    }
    let hashes = source.level_nodes(0, first, end)?;
    let mut out = Vec::new();
    for ((index, leaf), hash) in (first..).zip(&leaves).zip(hashes.iter().map(Some).chain(None)) {
        if hash != Some(&tlog::hash_leaf(leaf)) {
            return Err(bad(format!("entry {index} does not hash to its leaf hash in the tree")));
        }
        let len = u16::try_from(leaf.len())
            .map_err(|_| bad(format!("entry {index} is {} bytes (at most 65535)", leaf.len())))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(leaf);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
