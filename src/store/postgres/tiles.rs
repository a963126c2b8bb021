//! Hash tiles on PostgreSQL: perfect-subtree nodes read through an in-memory tile cache,
//! with a proof's tiles fetched in one query.

use super::*;

impl PgStore {
    /// The hash of a stored perfect node.
    pub fn node(&self, id: NodeId) -> Result<Hash> {
        let missing = || tlog::Error::MissingNode { level: id.level, index: id.index };
        let at = Address::of(id);
        let key = (at.tile_level, at.tile_index);
        let cached = self.inner.tiles.read().unwrap_or_else(|p| p.into_inner()).get(&key).cloned();
        if let Some(node) = cached.and_then(|bytes| tile::node_in(&bytes, at.row, at.pos)) {
            return Ok(node);
        }
        let conn = self.conn()?;
        let failed = self.error("reading a hash tile");
        let (level, index) = (i16::from(key.0), to_i64(key.1));
        let row = self.block(async move {
            Ok(conn.client.query_opt(&conn.st.tile, &[&level, &index]).await)
        })?;
        let bytes: Vec<u8> = row.map_err(failed)?.ok_or_else(missing)?.get(0);
        let bytes: Arc<[u8]> = bytes.into();
        let node = tile::node_in(&bytes, at.row, at.pos).ok_or_else(missing)?;
        self.remember([(key, bytes)]);
        Ok(node)
    }

    pub(super) fn remember(&self, tiles: impl IntoIterator<Item = ((u8, u64), Arc<[u8]>)>) {
        let mut cache = self.inner.tiles.write().unwrap_or_else(|p| p.into_inner());
        for (key, bytes) in tiles {
            if cache.len() >= CACHED_TILES {
                cache.clear();
            }
            // Keep the longer version: a tile only grows.
            match cache.get(&key) {
                Some(old) if old.len() >= bytes.len() => {}
                _ => {
                    cache.insert(key, bytes);
                }
            }
        }
    }

    /// Loads the tiles holding `ids` into the cache in one query (before an inclusion or
    /// consistency proof, whose nodes are then all read from memory).
    pub fn prefetch(&self, ids: &[NodeId]) -> Result<()> {
        let mut want: Vec<(u8, u64)> = Vec::new();
        {
            let cache = self.inner.tiles.read().unwrap_or_else(|p| p.into_inner());
            for id in ids {
                let at = Address::of(*id);
                let key = (at.tile_level, at.tile_index);
                let have = cache.get(&key).and_then(|b| tile::node_in(b, at.row, at.pos));
                if have.is_none() && !want.contains(&key) {
                    want.push(key);
                }
            }
        }
        if want.is_empty() {
            return Ok(());
        }
        let found = self.fetch_tiles(&want)?;
        self.remember(found);
        Ok(())
    }

    pub(super) fn fetch_tiles(&self, keys: &[TileKey]) -> Result<Vec<(TileKey, Arc<[u8]>)>> {
        let conn = self.conn()?;
        let failed = self.error("reading hash tiles");
        let levels: Vec<i16> = keys.iter().map(|k| i16::from(k.0)).collect();
        let indices: Vec<i64> = keys.iter().map(|k| to_i64(k.1)).collect();
        let rows = self.block(async move {
            Ok(conn.client.query(&conn.st.tiles_in, &[&levels, &indices]).await)
        })?;
        rows.map_err(failed)?
            .into_iter()
            .map(|row| {
                let level =
                    u8::try_from(row.get::<_, i16>(0)).map_err(|_| Error::Corrupt("tile"))?;
                let data: Vec<u8> = row.get(2);
                Ok(((level, to_u64(row.get(1))), Arc::from(data)))
            })
            .collect()
    }

    /// The hashes of nodes `first..end` at tree `level` (a multiple of the tile height).
    pub fn level_nodes(&self, level: u8, first: u64, end: u64) -> Result<Vec<Hash>> {
        let mut out = Vec::new();
        if level % tile::HEIGHT != 0 || first >= end {
            return Ok(out);
        }
        let tile_level = level / tile::HEIGHT;
        let (lo, hi) = (first / tile::WIDTH, (end - 1) / tile::WIDTH + 1);
        let conn = self.conn()?;
        let failed = self.error("reading hash tiles");
        let args = (i16::from(tile_level), to_i64(lo), to_i64(hi));
        let rows = self.block(async move {
            Ok(conn.client.query(&conn.st.tile_range, &[&args.0, &args.1, &args.2]).await)
        })?;
        let mut want = first;
        for row in rows.map_err(failed)? {
            let bytes: Vec<u8> = row.get(1);
            let start = to_u64(row.get(0)) * tile::WIDTH;
            if start > want || want - start >= tile::WIDTH {
                break;
            }
            let (from, to) = ((want - start) as usize, (end - start).min(tile::WIDTH) as usize);
            let nodes = tile::row0(&bytes, from, to).ok_or(Error::Corrupt("tile"))?;
            want += nodes.len() as u64;
            out.extend(nodes);
            if want < start + to as u64 {
                break;
            }
        }
        Ok(out)
    }
}
