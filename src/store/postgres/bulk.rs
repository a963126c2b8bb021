//! Moving a whole log into or out of a PostgreSQL schema (`sigbox log export | import`).
//!
//! [`BulkLoad`] fills an empty schema in ONE transaction on a connection of its own: the
//! tables are locked and checked empty first, rows go in as large multi-row
//! `INSERT … SELECT FROM unnest(…)` statements (the commit path's form, thousands of rows a
//! statement), and the loader can read its own uncommitted rows back so that the caller
//! proves the copy before [`BulkLoad::commit`]. Dropping it without committing rolls
//! everything back, so a failed move leaves the schema as empty as it was.
//!
//! The reading side ([`PgStore::bulk_entries`], [`PgStore::all_meta`]) serves `import`.
//! What the rows mean (leaf hashes, checkpoints) is the caller's business: this file only
//! moves bytes in the layout of `schema.rs`.

use super::*;
use crate::store::KeyHash;

/// One entry as a bulk load writes or reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkEntry {
    /// Its leaf index.
    pub index: u64,
    /// Its RFC 6962 leaf hash.
    pub leaf_hash: Hash,
    /// The stored record bytes.
    pub record: Vec<u8>,
    /// Its hashed search keys (as the lookup index keeps them).
    pub key_hashes: Vec<KeyHash>,
}

/// An open bulk-load transaction on an empty schema (see the module documentation).
pub struct BulkLoad<'a> {
    store: &'a PgStore,
    client: Arc<Client>,
    committed: bool,
}

impl std::fmt::Debug for BulkLoad<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkLoad").field("target", &self.store.inner.target).finish()
    }
}

impl PgStore {
    /// Begins a bulk load: opens a connection of its own, starts a transaction, locks the
    /// log's tables against every other writer (waiting at most [`LOCK_WAIT`]) and checks
    /// that the schema holds no log: no entries, tiles, checkpoints, metadata, pending writes
    /// and a tree of size 0.
    ///
    /// Errors: [`Error::NotEmpty`] naming what was found (nothing is written);
    /// [`Error::Postgres`].
    pub fn bulk_load(&self) -> Result<BulkLoad<'_>> {
        let client = Arc::new(self.connect_raw()?);
        let c = client.clone();
        let failed = self.error("starting the bulk load");
        let found = self.block(async move {
            let lock = format!(
                "BEGIN; SET LOCAL lock_timeout = '{}s'; \
                 LOCK TABLE tree, entries, search_keys, tiles, checkpoints, meta, pending \
                 IN EXCLUSIVE MODE",
                LOCK_WAIT.as_secs()
            );
            if let Err(e) = c.batch_execute(&lock).await {
                return Ok(Err(e));
            }
            Ok(c.query_one(
                "SELECT (SELECT size FROM tree WHERE id = 1), \
                        (SELECT count(*) FROM (SELECT 1 FROM entries LIMIT 1) e), \
                        (SELECT count(*) FROM (SELECT 1 FROM tiles LIMIT 1) t), \
                        (SELECT count(*) FROM (SELECT 1 FROM checkpoints LIMIT 1) c), \
                        (SELECT count(*) FROM (SELECT 1 FROM search_keys LIMIT 1) s), \
                        (SELECT count(*) FROM (SELECT 1 FROM pending LIMIT 1) p), \
                        (SELECT string_agg(name, ', ' ORDER BY name) FROM meta)",
                &[],
            )
            .await)
        })?;
        let load = BulkLoad { store: self, client, committed: false };
        let row = found.map_err(failed)?;
        let size: Option<i64> = row.get(0);
        let counts: Vec<i64> = (1..6).map(|i| row.get(i)).collect();
        let meta: Option<String> = row.get(6);
        let mut what = Vec::new();
        match size {
            None => what.push("no tree row".to_string()),
            Some(0) => {}
            Some(n) => what.push(format!("a tree of {n} entries")),
        }
        for (count, name) in counts.iter().zip(["entries", "tiles", "checkpoints", "search keys"]) {
            if *count > 0 {
                what.push(name.to_string());
            }
        }
        if counts.get(4).is_some_and(|c| *c > 0) {
            what.push("pending writes".to_string());
        }
        if let Some(meta) = meta {
            what.push(format!("metadata ({meta})"));
        }
        if !what.is_empty() {
            return Err(Error::NotEmpty {
                target: self.inner.target.clone(),
                schema: self.inner.schema.clone(),
                found: what.join(", "),
            });
        }
        Ok(load)
    }

    /// The entries `start..end` with their leaf hashes and hashed search keys, in index
    /// order (as many as are stored: a gap shows as a jump in `index`).
    ///
    /// Errors: [`Error::Postgres`]; [`Error::Corrupt`] for a leaf or key hash of the wrong
    /// length.
    pub fn bulk_entries(&self, start: u64, end: u64) -> Result<Vec<BulkEntry>> {
        let conn = self.conn()?;
        let failed = self.error("reading entries");
        let (lo, hi) = (to_i64(start), to_i64(end));
        let rows = self.block(async move {
            let c = &conn.client;
            let args: [&Param; 2] = [&lo, &hi];
            Ok(futures_util::try_join!(
                c.query(
                    "SELECT idx, leaf_hash, record FROM entries \
                     WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                    &args,
                ),
                c.query(
                    "SELECT idx, key_hash FROM search_keys \
                     WHERE idx >= $1 AND idx < $2 ORDER BY idx, key_hash",
                    &args,
                ),
            ))
        })?;
        let (entries, keys) = rows.map_err(failed)?;
        let mut by_index: HashMap<u64, Vec<KeyHash>> = HashMap::new();
        for row in keys {
            let key: Vec<u8> = row.get(1);
            let key: KeyHash = key.try_into().map_err(|_| Error::Corrupt("search key hash"))?;
            by_index.entry(to_u64(row.get(0))).or_default().push(key);
        }
        entries
            .into_iter()
            .map(|row| {
                let index = to_u64(row.get(0));
                let leaf: Vec<u8> = row.get(1);
                Ok(BulkEntry {
                    index,
                    leaf_hash: leaf.try_into().map_err(|_| Error::Corrupt("leaf hash"))?,
                    record: row.get(2),
                    key_hashes: by_index.remove(&index).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Every metadata value, by name.
    ///
    /// Errors: [`Error::Postgres`].
    pub fn all_meta(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let conn = self.conn()?;
        let failed = self.error("reading metadata");
        let rows = self.block(async move {
            Ok(conn.client.query("SELECT name, value FROM meta ORDER BY name", &[]).await)
        })?;
        Ok(rows.map_err(failed)?.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

impl BulkLoad<'_> {
    /// Inserts entries (their records, leaf hashes and search keys).
    ///
    /// Errors: [`Error::Postgres`] (e.g. an index written twice).
    pub fn entries(&mut self, entries: &[BulkEntry]) -> Result<()> {
        let idx: Vec<i64> = entries.iter().map(|e| to_i64(e.index)).collect();
        let leaves: Vec<Vec<u8>> = entries.iter().map(|e| e.leaf_hash.to_vec()).collect();
        let records: Vec<Vec<u8>> = entries.iter().map(|e| e.record.clone()).collect();
        let (mut key_hashes, mut key_idx) = (Vec::new(), Vec::new());
        for e in entries {
            for k in &e.key_hashes {
                key_hashes.push(k.to_vec());
                key_idx.push(to_i64(e.index));
            }
        }
        self.run("copying entries", move |c| async move {
            let entry_args: [&Param; 3] = [&idx, &leaves, &records];
            let key_args: [&Param; 2] = [&key_hashes, &key_idx];
            futures_util::try_join!(
                c.execute(
                    "INSERT INTO entries \
                     SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[])",
                    &entry_args,
                ),
                c.execute(
                    "INSERT INTO search_keys SELECT * FROM unnest($1::bytea[], $2::bigint[]) \
                     ON CONFLICT DO NOTHING",
                    &key_args,
                ),
            )
            .map(drop)
        })
    }

    /// Inserts hash tiles: ((tile level, tile index), the tile's stored bytes).
    ///
    /// Errors: [`Error::Postgres`].
    pub fn tiles(&mut self, tiles: &[((u8, u64), Vec<u8>)]) -> Result<()> {
        let levels: Vec<i16> = tiles.iter().map(|(k, _)| i16::from(k.0)).collect();
        let idx: Vec<i64> = tiles.iter().map(|(k, _)| to_i64(k.1)).collect();
        let data: Vec<Vec<u8>> = tiles.iter().map(|(_, d)| d.clone()).collect();
        self.run("copying hash tiles", move |c| async move {
            let args: [&Param; 3] = [&levels, &idx, &data];
            c.execute(
                "INSERT INTO tiles SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])",
                &args,
            )
            .await
            .map(drop)
        })
    }

    /// Inserts one metadata value.
    ///
    /// Errors: [`Error::Postgres`].
    pub fn meta(&mut self, name: &str, value: &[u8]) -> Result<()> {
        let (name, value) = (name.to_string(), value.to_vec());
        self.run("copying metadata", move |c| async move {
            c.execute("INSERT INTO meta VALUES ($1, $2)", &[&name, &value]).await.map(drop)
        })
    }

    /// Sets the tree to `size` under `checkpoint` and records the checkpoint by size.
    ///
    /// Errors: [`Error::Postgres`].
    pub fn head(&mut self, size: u64, checkpoint: &str) -> Result<()> {
        let (size, checkpoint) = (to_i64(size), checkpoint.to_string());
        self.run("writing the tree head", move |c| async move {
            c.execute(
                "UPDATE tree SET size = $1, checkpoint = $2 WHERE id = 1",
                &[&size, &checkpoint],
            )
            .await?;
            if size > 0 {
                c.execute("INSERT INTO checkpoints VALUES ($1, $2)", &[&size, &checkpoint]).await?;
            }
            Ok::<(), tokio_postgres::Error>(())
        })
    }

    /// The tree head as this transaction sees it: (size, checkpoint).
    ///
    /// Errors: [`Error::Postgres`].
    pub fn read_head(&mut self) -> Result<(u64, String)> {
        let row =
            self.query("reading the tree head back", "SELECT size, checkpoint FROM tree", None)?;
        let row = row.first().ok_or(Error::Corrupt("tree row"))?;
        Ok((to_u64(row.get(0)), row.get(1)))
    }

    /// The leaf hashes of entries `start..end` as this transaction sees them, with their
    /// indices, in index order.
    ///
    /// Errors: [`Error::Postgres`]; [`Error::Corrupt`] for a hash of the wrong length.
    pub fn read_leaves(&mut self, start: u64, end: u64) -> Result<Vec<(u64, Hash)>> {
        let rows = self.query(
            "reading leaf hashes back",
            "SELECT idx, leaf_hash FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
            Some((to_i64(start), to_i64(end))),
        )?;
        rows.iter()
            .map(|r| {
                let leaf: Vec<u8> = r.get(1);
                Ok((to_u64(r.get(0)), leaf.try_into().map_err(|_| Error::Corrupt("leaf hash"))?))
            })
            .collect()
    }

    /// The stored perfect node `id` as this transaction sees it (read from its hash tile).
    ///
    /// Errors: [`Error::Tree`] with [`tlog::Error::MissingNode`] when absent;
    /// [`Error::Postgres`].
    pub fn read_node(&mut self, id: NodeId) -> Result<Hash> {
        let at = Address::of(id);
        let rows = self.query(
            "reading a hash tile back",
            "SELECT data FROM tiles WHERE level = $1::bigint AND idx = $2",
            Some((i64::from(at.tile_level), to_i64(at.tile_index))),
        )?;
        let missing = || tlog::Error::MissingNode { level: id.level, index: id.index };
        let bytes: Vec<u8> = rows.first().ok_or_else(missing)?.get(0);
        Ok(tile::node_in(&bytes, at.row, at.pos).ok_or_else(missing)?)
    }

    /// Commits the transaction: the whole log appears at once.
    ///
    /// Errors: [`Error::Postgres`] (nothing is then stored).
    pub fn commit(mut self) -> Result<()> {
        self.run("committing the bulk load", |c| async move { c.batch_execute("COMMIT").await })?;
        self.committed = true;
        Ok(())
    }

    /// Runs one step of the transaction on its connection.
    fn run<F, Fut>(&mut self, what: &'static str, step: F) -> Result<()>
    where
        F: FnOnce(Arc<Client>) -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<(), tokio_postgres::Error>> + Send,
    {
        let client = self.client.clone();
        let done = self.store.block(async move { Ok(step(client).await) })?;
        done.map_err(self.store.error(what))
    }

    /// Runs one query of the transaction (with two `bigint` parameters when given).
    fn query(
        &mut self,
        what: &'static str,
        sql: &'static str,
        args: Option<(i64, i64)>,
    ) -> Result<Vec<tokio_postgres::Row>> {
        let client = self.client.clone();
        let rows = self.store.block(async move {
            Ok(match args {
                Some((a, b)) => client.query(sql, &[&a, &b]).await,
                None => client.query(sql, &[]).await,
            })
        })?;
        rows.map_err(self.store.error(what))
    }
}

impl Drop for BulkLoad<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // Closing the connection would roll back too; saying so is quicker and certain.
        let client = self.client.clone();
        let _ = self.store.block(async move { Ok(client.batch_execute("ROLLBACK").await) });
    }
}

/// How long [`PgStore::bulk_load`] waits for a server's transaction to let go of the tables.
const LOCK_WAIT: Duration = Duration::from_secs(5);
