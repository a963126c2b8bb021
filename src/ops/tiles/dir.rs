//! The exported directory: one exporter at a time (an advisory lock on the directory),
//! files written under a temporary name, synced and renamed, directories synced before the
//! checkpoint is replaced.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{
    check_full_tile, entry_bundle, plan, right_edge, root_from_edge, tile_hashes, Exported,
    TileSource,
};
use crate::encoding::hex_encode;
use crate::ops::{Damage, Error, Progress, Result};
use crate::tlog::{Checkpoint, TilePath, TILE_WIDTH};

/// The file readers fetch first; replaced atomically, last.
const CHECKPOINT: &str = "checkpoint";

/// An export directory, locked against other exporters for as long as this value lives.
pub struct TileDir {
    path: PathBuf,
    /// The open directory, holding the lock.
    _lock: std::fs::File,
}

impl TileDir {
    /// Opens (creating it if needed) the export directory `path` and locks it.
    ///
    /// Errors: [`Error::Refused`] if another exporter (a server's `--tiles-dir`, or
    /// `export-tiles`) holds it; [`Error::Io`].
    pub fn open(path: &Path) -> Result<TileDir> {
        std::fs::create_dir_all(path).map_err(Error::io(path))?;
        let lock = std::fs::File::open(path).map_err(Error::io(path))?;
        if !crate::sys::try_lock_exclusive(&lock).map_err(Error::io(path))? {
            return Err(Error::Refused(format!(
                "another exporter (a server's --tiles-dir or export-tiles) is writing to {}",
                path.display()
            )));
        }
        Ok(TileDir { path: path.to_path_buf(), _lock: lock })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The checkpoint the directory publishes now, if any (its note text, unverified: the
    /// exporter only compares it with its own tree).
    ///
    /// Errors: [`Error::Refused`] when `checkpoint` is not a checkpoint; [`Error::Io`].
    pub fn published(&self) -> Result<Option<Checkpoint>> {
        let path = self.path.join(CHECKPOINT);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path)(e)),
        };
        let body = text.split_once("\n\n").map(|(body, _)| format!("{body}\n"));
        let parsed = body.as_deref().map(Checkpoint::parse_note_body);
        match parsed {
            Some(Ok(cp)) => Ok(Some(cp)),
            Some(Err(e)) => {
                Err(Error::Refused(format!("{} is not a checkpoint: {e}", path.display())))
            }
            None => Err(Error::Refused(format!("{} is not a signed note", path.display()))),
        }
    }

    /// The size up to which this directory's files are complete: its published checkpoint's
    /// size, after checking that it is a checkpoint of `source`'s tree (same root at that
    /// size) no larger than the tree; 0 for a new directory.
    ///
    /// Errors: [`Error::Refused`] when the directory publishes another tree or a larger one.
    pub fn check_published(&self, source: &dyn TileSource, size: u64) -> Result<u64> {
        let Some(published) = self.published()? else {
            return Ok(0);
        };
        if published.size > size {
            return Err(Error::Refused(format!(
                "{} publishes a checkpoint of size {}, larger than this log's {size}: another \
                 log's tiles? (use another directory)",
                self.path.display(),
                published.size
            )));
        }
        let ours = source.root_at(published.size)?;
        if ours != published.root_hash {
            return Err(Error::Refused(format!(
                "{} publishes another tree: its checkpoint at size {} has root {}, this log's \
                 root at that size is {} (use another directory)",
                self.path.display(),
                published.size,
                hex_encode(published.root_hash),
                hex_encode(ours)
            )));
        }
        Ok(published.size)
    }

    /// Exports `source`'s signed tree. Files for trees up to `from` are taken to be in place
    /// (never beyond what the directory publishes); `from = 0` checks every file.
    ///
    /// Errors: [`Error::Refused`] (see [`TileDir::check_published`]); [`Error::Damaged`]
    /// when a tile disagrees with the tree above it or with the signed root (nothing is then
    /// published); store and I/O errors.
    pub fn export(
        &self,
        source: &dyn TileSource,
        from: u64,
        progress: Progress<'_>,
    ) -> Result<Exported> {
        let tree = source.signed_tree()?;
        let from = from.min(self.check_published(source, tree.size)?);
        let mut out =
            Exported { size: tree.size, root: hex_encode(tree.root), ..Exported::default() };
        // The right edge first: it must hash to the signed root before anything is written.
        let edge = right_edge(source, tree.size)?;
        if root_from_edge(tree.size, &edge) != Some(tree.root) {
            return Err(Damage::Tile {
                path: CHECKPOINT.into(),
                problem: format!(
                    "the partial tiles at size {} do not hash to the signed root {}",
                    tree.size,
                    hex_encode(tree.root)
                ),
            }
            .into());
        }
        let tiles = plan(tree.size, from);
        let mut writer = Writer { root: &self.path, dirty: BTreeSet::new() };
        for (done, &tile) in tiles.iter().enumerate() {
            let path = tile.to_path();
            if writer.present(&path, tile)? {
                out.skipped += 1;
            } else {
                let bytes = match tile {
                    TilePath::Hashes { level, width, .. } => {
                        let hashes = match edge.iter().find(|(l, _)| *l == level) {
                            Some((_, hashes)) if u64::from(width) < TILE_WIDTH => hashes.clone(),
                            _ => tile_hashes(source, tile)?,
                        };
                        if u64::from(width) == TILE_WIDTH {
                            check_full_tile(source, tile, &hashes)?;
                        }
                        hashes.concat()
                    }
                    TilePath::Entries { .. } => entry_bundle(source, tile)?,
                };
                writer.write(&path, &bytes)?;
                out.written += 1;
                out.bytes += bytes.len() as u64;
            }
            progress(done as u64 + 1, tiles.len() as u64);
        }
        // Every tile is durable, then the checkpoint that needs them.
        writer.sync_dirs()?;
        if std::fs::read(self.path.join(CHECKPOINT)).ok().as_deref()
            != Some(tree.checkpoint.as_bytes())
        {
            writer.write(CHECKPOINT, tree.checkpoint.as_bytes())?;
            writer.sync_dirs()?;
            out.checkpoint_written = true;
            out.bytes += tree.checkpoint.len() as u64;
        }
        out.removed = writer.remove_superseded(&tiles)?;
        Ok(out)
    }
}

/// Writes files under one directory and remembers which directories to sync.
struct Writer<'a> {
    root: &'a Path,
    dirty: BTreeSet<PathBuf>,
}

impl Writer<'_> {
    /// Whether `tile` is in place and complete (hash tiles: the right length; an entry
    /// bundle, whose length is not known in advance, is complete once renamed into place).
    fn present(&self, path: &str, tile: TilePath) -> Result<bool> {
        let full = self.root.join(path);
        match std::fs::metadata(&full) {
            Ok(meta) => Ok(match tile {
                TilePath::Hashes { width, .. } => meta.len() == u64::from(width) * 32,
                TilePath::Entries { .. } => meta.is_file(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(&full)(e)),
        }
    }

    /// Writes `bytes` to `rel` (below the root): a temporary file beside it, synced, then
    /// renamed over it.
    fn write(&mut self, rel: &str, bytes: &[u8]) -> Result<()> {
        let path = self.root.join(rel);
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(Error::Refused(format!("{rel:?} names no file")));
        };
        if !dir.is_dir() {
            std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
            // New directories are entries of their parents: sync those too.
            let mut up = dir;
            while let Some(parent) = up.parent().filter(|_| up != self.root) {
                self.dirty.insert(parent.to_path_buf());
                up = parent;
            }
        }
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(".tmp");
        let temp = dir.join(temp_name);
        let written = (|| {
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(bytes)?;
            file.sync_data()
        })();
        written.map_err(Error::io(&temp))?;
        std::fs::rename(&temp, &path).map_err(Error::io(&path))?;
        self.dirty.insert(dir.to_path_buf());
        Ok(())
    }

    /// Syncs every directory a file was renamed into (or created in).
    fn sync_dirs(&mut self) -> Result<()> {
        // Deepest first, so a parent's entry for a new child comes after the child's own.
        for dir in std::mem::take(&mut self.dirty).iter().rev() {
            std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(Error::io(dir))?;
        }
        Ok(())
    }

    /// Removes the partial tiles (`<N>.p/`) of the full tiles in `tiles`; returns how many
    /// files went.
    fn remove_superseded(&self, tiles: &[TilePath]) -> Result<u64> {
        let mut removed = 0;
        for tile in tiles {
            let (TilePath::Hashes { width, .. } | TilePath::Entries { width, .. }) = *tile;
            if u64::from(width) != TILE_WIDTH {
                continue;
            }
            let dir = self.root.join(format!("{}.p", tile.to_path()));
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(&dir)(e)),
            };
            removed += entries.filter_map(|e| e.ok()).filter(is_tile_name).count() as u64;
            std::fs::remove_dir_all(&dir).map_err(Error::io(&dir))?;
        }
        Ok(removed)
    }
}

/// A published partial tile (a width), not a leftover temporary file.
fn is_tile_name(entry: &std::fs::DirEntry) -> bool {
    entry.file_name().to_str().is_some_and(|n| !n.starts_with('.'))
}
