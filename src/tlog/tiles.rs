//! C2SP tlog-tiles path arithmetic, pure: which tile holds a node, how wide a tile is at a
//! tree size, and the `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]` paths.
//!
//! A tile at tile level `L`, index `N` holds the hashes of tree level `8·L`, nodes
//! `256·N .. 256·N + W`. Serving the bytes is the `rekor` module's job.

use super::{Error, Result};

/// Tree levels per tile level.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 256;

/// A parsed tile path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TilePath {
    /// `tile/<level>/<index>[.p/<width>]`: hashes of tree level `8·level`.
    Hashes {
        /// Tile level.
        level: u8,
        /// Tile index within the level.
        index: u64,
        /// Number of hashes, 1..=256 (256 = full tile, written without `.p/`).
        width: u16,
    },
    /// `tile/entries/<index>[.p/<width>]`: an entry bundle.
    Entries {
        /// Bundle index (entries `256·index ..`).
        index: u64,
        /// Number of entries, 1..=256.
        width: u16,
    },
}

impl TilePath {
    /// The path in C2SP form, without a leading `/`.
    pub fn to_path(&self) -> String {
        match *self {
            TilePath::Hashes { level, index, width } => tile_path(level, index, width),
            TilePath::Entries { index, width } => entries_path(index, width),
        }
    }

    /// The tree-level node range `(tree level, first index, end index)` a hash tile covers,
    /// or the entry range `(0, first, end)` for an entry bundle.
    pub fn node_range(&self) -> (u8, u64, u64) {
        match *self {
            TilePath::Hashes { level, index, width } => {
                let first = index.saturating_mul(TILE_WIDTH);
                (level.saturating_mul(TILE_HEIGHT), first, first.saturating_add(width as u64))
            }
            TilePath::Entries { index, width } => {
                let first = index.saturating_mul(TILE_WIDTH);
                (0, first, first.saturating_add(width as u64))
            }
        }
    }
}

/// `tile/<level>/<N>` for a full tile (`width == 256`), else `tile/<level>/<N>.p/<width>`.
pub fn tile_path(level: u8, index: u64, width: u16) -> String {
    format!("tile/{level}/{}{}", encode_index(index), partial_suffix(width))
}

/// `tile/entries/<N>[.p/<width>]`.
pub fn entries_path(index: u64, width: u16) -> String {
    format!("tile/entries/{}{}", encode_index(index), partial_suffix(width))
}

/// The width of hash tile (`level`, `index`) in a tree of `tree_size` leaves, or `None` when
/// that tile has no hashes yet. Full tiles are 256 wide.
pub fn tile_width(level: u8, index: u64, tree_size: u64) -> Option<u16> {
    let shift = u32::from(level).checked_mul(u32::from(TILE_HEIGHT))?;
    let nodes = tree_size.checked_shr(shift).unwrap_or(0);
    let first = index.checked_mul(TILE_WIDTH)?;
    let width = nodes.checked_sub(first)?.min(TILE_WIDTH);
    (width > 0).then_some(width as u16)
}

/// Parses `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` (no leading `/`), in the
/// canonical spelling only: 3-digit groups, `x` on all but the last, no leading zero groups,
/// `W` in 1..=255.
///
/// Errors: [`Error::MalformedTilePath`] quoting the path.
pub fn parse_tile_path(path: &str) -> Result<TilePath> {
    let bad = || Error::MalformedTilePath(path.to_string());
    let rest = path.strip_prefix("tile/").ok_or_else(bad)?;
    let (kind, rest) = rest.split_once('/').ok_or_else(bad)?;
    let (index_part, width) = match rest.split_once(".p/") {
        Some((idx, w)) => (idx, parse_width(w).ok_or_else(bad)?),
        None => (rest, TILE_WIDTH as u16),
    };
    let index = decode_index(index_part).ok_or_else(bad)?;
    if kind == "entries" {
        return Ok(TilePath::Entries { index, width });
    }
    let level: u8 = parse_small(kind).ok_or_else(bad)?;
    if level > MAX_TILE_LEVEL {
        return Err(bad());
    }
    Ok(TilePath::Hashes { level, index, width })
}

fn partial_suffix(width: u16) -> String {
    if u64::from(width) >= TILE_WIDTH {
        String::new()
    } else {
        format!(".p/{width}")
    }
}

/// 1234067 → `x001/x234/067`.
fn encode_index(mut index: u64) -> String {
    let mut groups = vec![format!("{:03}", index % 1000)];
    index /= 1000;
    while index > 0 {
        groups.push(format!("x{:03}", index % 1000));
        index /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

fn decode_index(text: &str) -> Option<u64> {
    let groups: Vec<&str> = text.split('/').collect();
    let (last, leading) = groups.split_last()?;
    let mut value: u64 = 0;
    for (i, g) in leading.iter().enumerate() {
        let digits = g.strip_prefix('x')?;
        if i == 0 && digits == "000" {
            return None;
        }
        value = value.checked_mul(1000)?.checked_add(three_digits(digits)?)?;
    }
    value.checked_mul(1000)?.checked_add(three_digits(last)?)
}

fn three_digits(text: &str) -> Option<u64> {
    if text.len() != 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_width(text: &str) -> Option<u16> {
    let w: u16 = parse_small(text)?;
    (1..TILE_WIDTH as u16).contains(&w).then_some(w)
}

fn parse_small<T: std::str::FromStr>(text: &str) -> Option<T> {
    let canonical = !text.is_empty()
        && text.len() <= 3
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// 64 tree levels need at most 8 tile levels (0..=7).
const MAX_TILE_LEVEL: u8 = 7;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_groups_match_the_spec_example() {
        assert_eq!(tile_path(0, 1234067, 256), "tile/0/x001/x234/067");
        assert_eq!(entries_path(5, 7), "tile/entries/005.p/7");
        assert_eq!(tile_path(1, 0, 256), "tile/1/000");
    }

    #[test]
    fn parse_round_trips_and_rejects_noncanonical() {
        for p in ["tile/0/x001/x234/067", "tile/2/000.p/1", "tile/entries/x002/000.p/255"] {
            assert_eq!(parse_tile_path(p).unwrap().to_path(), p);
        }
        for bad in [
            "tile/0/1",
            "tile/0/x000/001",
            "tile/0/001.p/256",
            "tile/0/001.p/0",
            "tile/0/001.p/07",
            "tile/8/001",
            "tile/01/001",
            "tile/0/001/",
            "tiles/0/001",
        ] {
            assert!(parse_tile_path(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn tile_width_follows_tree_size() {
        assert_eq!(tile_width(0, 0, 0), None);
        assert_eq!(tile_width(0, 0, 1), Some(1));
        assert_eq!(tile_width(0, 0, 300), Some(256));
        assert_eq!(tile_width(0, 1, 300), Some(44));
        assert_eq!(tile_width(0, 2, 300), None);
        assert_eq!(tile_width(1, 0, 300), Some(1));
        assert_eq!(tile_width(1, 0, 255), None);
    }
}
