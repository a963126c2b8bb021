//! The stored form of the tree: small tiles of height [`HEIGHT`] holding their own row of
//! hashes plus the rows of nodes built from them, so any node is one slice away (no
//! rehashing on reads).
//!
//! Layout of a stored tile: one byte `width - 1`, then rows `0..HEIGHT`, row `k` holding
//! `width >> k` hashes of 32 bytes. A full tile is 1 + 32·30 = 961 bytes.
//!
//! Why height 4 and not the C2SP height 8: sled keeps at most 16 items per leaf page, so
//! a page of full 8-high tiles (16 KiB each) would be 256 KiB and read from a blob file on a
//! cold lookup; 4-high tiles keep pages near 15 KiB. A proof at a million entries reads
//! five tiles; a C2SP tile (row 0 of 16 consecutive stored tiles) is one range scan.

use std::collections::BTreeMap;

use super::{Error, Result};
use crate::tlog::{Hash, NodeId};

/// Tree levels per stored tile (divides the C2SP tile height, 8).
pub const HEIGHT: u8 = 4;
/// Hashes in a stored tile's bottom row.
pub const WIDTH: u64 = 1 << HEIGHT;

/// Where a tree node lives: stored-tile level (tree level / [`HEIGHT`]), tile index, row
/// within the tile and position within the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address {
    /// Tree level / [`HEIGHT`].
    pub tile_level: u8,
    /// Tile index within that level.
    pub tile_index: u64,
    /// Tree level within the tile, `0..HEIGHT`.
    pub row: u8,
    /// Position within the row, `0..WIDTH >> row`.
    pub pos: u64,
}

impl Address {
    /// The stored tile holding node `id` (each node belongs to exactly one).
    pub fn of(id: NodeId) -> Address {
        let row = id.level % HEIGHT;
        let per_tile = WIDTH >> row;
        Address {
            tile_level: id.level / HEIGHT,
            tile_index: id.index / per_tile,
            row,
            pos: id.index % per_tile,
        }
    }
}

/// The rows of a (possibly partial) tile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TileRows {
    rows: [Vec<Hash>; HEIGHT as usize],
}

impl TileRows {
    /// Decodes a stored tile; `None` if the bytes are not a well-formed tile.
    pub fn decode(bytes: &[u8]) -> Option<TileRows> {
        let (&w, mut rest) = bytes.split_first()?;
        let width = usize::from(w) + 1;
        if width as u64 > WIDTH || rest.len() != 32 * stored_hashes(width) {
            return None;
        }
        let mut tile = TileRows::default();
        for (k, row) in tile.rows.iter_mut().enumerate() {
            let (this, next) = rest.split_at(32 * (width >> k));
            row.extend(this.chunks_exact(32).map(|c| <Hash>::try_from(c).expect("32-byte chunk")));
            rest = next;
        }
        Some(tile)
    }

    /// Encodes the tile; `None` when it is empty or its rows do not fit together (row `k`
    /// must hold exactly `width >> k` nodes, which holds after every whole append).
    pub fn encode(&self) -> Option<Vec<u8>> {
        let width = self.rows[0].len();
        if width == 0 || self.rows.iter().enumerate().any(|(k, r)| r.len() != width >> k) {
            return None;
        }
        let mut out = Vec::with_capacity(1 + 32 * stored_hashes(width));
        out.push((width - 1) as u8);
        for row in &self.rows {
            for h in row {
                out.extend_from_slice(h);
            }
        }
        Some(out)
    }

    /// Appends `hash` at position `pos` of `row`; `false` (and no change) unless `pos` is
    /// the next free position of that row and the row has room.
    pub fn push(&mut self, row: u8, pos: u64, hash: Hash) -> bool {
        let Some(r) = self.rows.get_mut(usize::from(row)) else { return false };
        let room = (WIDTH >> row) as usize;
        if pos != r.len() as u64 || r.len() >= room {
            return false;
        }
        r.push(hash);
        true
    }
}

/// Builds the stored tiles of a whole tree from its nodes in creation order (a bulk copy of
/// a log), handing out each tile once it can no longer change so that memory stays bounded
/// by the right edge of the tree.
#[derive(Debug, Default)]
pub struct HashTileWriter {
    open: BTreeMap<(u8, u64), TileRows>,
    /// The first node that did not fit its tile (a caller bug or damaged input).
    misplaced: Option<NodeId>,
}

/// A tile as stored: ((tile level, tile index), its bytes).
pub type EncodedTile = ((u8, u64), Vec<u8>);

impl HashTileWriter {
    /// Adds node `id`; nodes must come in the order appending leaves creates them.
    pub fn push(&mut self, id: NodeId, hash: Hash) {
        let at = Address::of(id);
        let rows = self.open.entry((at.tile_level, at.tile_index)).or_default();
        if !rows.push(at.row, at.pos, hash) && self.misplaced.is_none() {
            self.misplaced = Some(id);
        }
    }

    /// Takes the tiles that are complete once `leaves` leaves have been appended.
    ///
    /// Errors: [`Error::Corrupt`] if a node came out of order.
    pub fn take_complete(&mut self, leaves: u64) -> Result<Vec<EncodedTile>> {
        let done: Vec<(u8, u64)> = self
            .open
            .keys()
            .filter(|(level, index)| {
                let span = u32::from(HEIGHT) * (u32::from(*level) + 1);
                let end = index.checked_add(1).and_then(|n| n.checked_shl(span));
                matches!(end, Some(end) if end <= leaves && (end >> span) == index + 1)
            })
            .copied()
            .collect();
        let mut out = Vec::with_capacity(done.len());
        for key in done {
            if let Some(rows) = self.open.remove(&key) {
                out.push((key, rows.encode().ok_or(Error::Corrupt("tile rows"))?));
            }
        }
        self.check()?;
        Ok(out)
    }

    /// Takes every tile still open (the partial ones at the tree's right edge).
    ///
    /// Errors: [`Error::Corrupt`] if a node came out of order.
    pub fn take_all(&mut self) -> Result<Vec<EncodedTile>> {
        self.check()?;
        std::mem::take(&mut self.open)
            .into_iter()
            .map(|(key, rows)| Ok((key, rows.encode().ok_or(Error::Corrupt("tile rows"))?)))
            .collect()
    }

    fn check(&self) -> Result<()> {
        match self.misplaced {
            Some(_) => Err(Error::Corrupt("tree node out of order for its tile")),
            None => Ok(()),
        }
    }
}

/// Number of hashes stored for a tile of `width` (1..=256): Σ width >> k for k in 0..8.
fn stored_hashes(width: usize) -> usize {
    (0..HEIGHT).map(|k| width >> k).sum()
}

/// Reads node (`row`, `pos`) straight from stored tile bytes, without decoding the tile.
pub fn node_in(bytes: &[u8], row: u8, pos: u64) -> Option<Hash> {
    let width = usize::from(*bytes.first()?) + 1;
    if width as u64 > WIDTH || bytes.len() != 1 + 32 * stored_hashes(width) || row >= HEIGHT {
        return None;
    }
    let row_len = width >> row;
    let pos = usize::try_from(pos).ok().filter(|p| *p < row_len)?;
    let offset = 1 + 32 * ((0..row).map(|k| width >> k).sum::<usize>() + pos);
    bytes.get(offset..offset + 32)?.try_into().ok()
}

/// Row 0 of stored tile bytes, positions `first..end` (clamped to what is stored).
pub fn row0(bytes: &[u8], first: usize, end: usize) -> Option<Vec<Hash>> {
    let width = usize::from(*bytes.first()?) + 1;
    if width as u64 > WIDTH || bytes.len() != 1 + 32 * stored_hashes(width) {
        return None;
    }
    let end = end.min(width);
    Some(
        (first.min(end)..end)
            .map(|i| bytes[1 + 32 * i..1 + 32 * (i + 1)].try_into().expect("32 bytes"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: u64) -> Hash {
        let mut out = [0u8; 32];
        out[..8].copy_from_slice(&i.to_be_bytes());
        out
    }

    #[test]
    fn rows_round_trip_and_nodes_are_found_in_place() {
        let mut t = TileRows::default();
        for k in 0..HEIGHT {
            for i in 0..(13u64 >> k) {
                assert!(t.push(k, i, h(u64::from(k) * 1000 + i)));
            }
        }
        let bytes = t.encode().expect("consistent rows");
        assert_eq!(bytes.len(), 1 + 32 * (13 + 6 + 3 + 1));
        assert_eq!(TileRows::decode(&bytes), Some(t));
        assert_eq!(node_in(&bytes, 0, 12), Some(h(12)));
        assert_eq!(node_in(&bytes, 1, 5), Some(h(1005)));
        assert_eq!(node_in(&bytes, 3, 0), Some(h(3000)));
        assert_eq!(node_in(&bytes, 0, 13), None, "past the row");
        assert_eq!(node_in(&bytes, HEIGHT, 0), None, "no such row");
        assert_eq!(row0(&bytes, 11, 16), Some(vec![h(11), h(12)]));
    }

    #[test]
    fn addresses_follow_the_levels() {
        let at = |level, index| Address::of(NodeId { level, index });
        assert_eq!(at(0, 17), Address { tile_level: 0, tile_index: 1, row: 0, pos: 1 });
        assert_eq!(at(3, 5), Address { tile_level: 0, tile_index: 2, row: 3, pos: 1 });
        assert_eq!(at(4, 0), Address { tile_level: 1, tile_index: 0, row: 0, pos: 0 });
        assert_eq!(at(9, 100), Address { tile_level: 2, tile_index: 12, row: 1, pos: 4 });
    }

    #[test]
    fn out_of_order_or_overfull_pushes_are_refused() {
        let mut t = TileRows::default();
        assert!(!t.push(0, 1, h(1)), "gap");
        assert!(t.push(0, 0, h(0)));
        assert!(!t.push(0, 0, h(0)), "twice");
        assert!(!t.push(HEIGHT, 0, h(0)), "no such row");
        let mut full = TileRows::default();
        for i in 0..8 {
            assert!(full.push(1, i, h(i)));
        }
        assert!(!full.push(1, 8, h(0)), "row 1 holds 8");
        assert_eq!(full.encode(), None, "row 1 without row 0 does not fit");
    }

    #[test]
    fn tile_writer_hands_out_the_tiles_a_commit_by_commit_log_stores() {
        let mut range = crate::tlog::CompactRange::new();
        let mut writer = HashTileWriter::default();
        let mut all: BTreeMap<(u8, u64), TileRows> = BTreeMap::new();
        let mut written = BTreeMap::new();
        for i in 0..1000u64 {
            range
                .append(h(i), |id, hash| {
                    writer.push(id, *hash);
                    let at = Address::of(id);
                    assert!(all
                        .entry((at.tile_level, at.tile_index))
                        .or_default()
                        .push(at.row, at.pos, *hash));
                })
                .unwrap();
            for (key, bytes) in writer.take_complete(i + 1).unwrap() {
                assert_eq!(bytes.len(), 961, "a complete tile is full");
                assert!(written.insert(key, bytes).is_none(), "{key:?} handed out twice");
            }
        }
        for (key, bytes) in writer.take_all().unwrap() {
            assert!(written.insert(key, bytes).is_none(), "{key:?} handed out twice");
        }
        let want: BTreeMap<_, _> =
            all.iter().map(|(k, rows)| (*k, rows.encode().unwrap())).collect();
        assert_eq!(written, want);
        assert!(written.contains_key(&(2, 0)), "1000 leaves reach tile level 2");
    }

    #[test]
    fn malformed_bytes_do_not_decode() {
        assert_eq!(TileRows::decode(&[]), None);
        assert_eq!(TileRows::decode(&[0]), None, "width 1 needs 32 bytes");
        assert_eq!(TileRows::decode(&[1; 33]), None, "width 2 needs 3 hashes");
        assert_eq!(TileRows::decode(&[16; 1000]), None, "width 17 is too wide");
        assert_eq!(node_in(&[0; 5], 0, 0), None);
    }
}
