//! The tables of one log's schema, and their migrations: versioned by `schema_version`,
//! applied under a transaction-level advisory lock so servers starting together migrate once.

use super::*;

/// The migrations, by the version they bring the schema to.
const MIGRATIONS: &[(i32, &str)] = &[(
    1,
    "CREATE TABLE meta (name text PRIMARY KEY, value bytea NOT NULL);
     CREATE TABLE tree (id integer PRIMARY KEY CHECK (id = 1), size bigint NOT NULL,
                        checkpoint text NOT NULL);
     INSERT INTO tree VALUES (1, 0, '');
     CREATE TABLE entries (idx bigint PRIMARY KEY, leaf_hash bytea NOT NULL, record bytea NOT NULL);
     CREATE INDEX entries_by_leaf ON entries (leaf_hash);
     CREATE TABLE search_keys (key_hash bytea NOT NULL, idx bigint NOT NULL,
                               PRIMARY KEY (key_hash, idx));
     CREATE TABLE tiles (level smallint NOT NULL, idx bigint NOT NULL, data bytea NOT NULL,
                         PRIMARY KEY (level, idx));
     CREATE TABLE checkpoints (size bigint PRIMARY KEY, checkpoint text NOT NULL);
     CREATE TABLE pending (id bigserial PRIMARY KEY, leaf_hash bytea NOT NULL,
                           body bytea NOT NULL, search_keys text NOT NULL,
                           status smallint NOT NULL DEFAULT 0, idx bigint,
                           created timestamptz NOT NULL DEFAULT now());
     CREATE INDEX pending_waiting ON pending (id) WHERE status = 0;",
)];

impl PgStore {
    /// Creates the schema or brings it to [`SCHEMA_VERSION`].
    pub(super) fn migrate(&self) -> Result<()> {
        let mut client = self.connect_raw()?;
        let schema = self.inner.schema.clone();
        let lock = lock_key(&schema, 1);
        let target = self.inner.target.clone();
        self.block(async move {
            let failed = |e: tokio_postgres::Error| Error::Postgres {
                target: target.clone(),
                what: "creating or migrating the schema",
                detail: pg_detail(&e),
            };
            let tx = client.transaction().await.map_err(failed)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock]).await.map_err(failed)?;
            tx.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema};
                 CREATE TABLE IF NOT EXISTS {schema}.schema_version (version integer NOT NULL)"
            ))
            .await
            .map_err(failed)?;
            let row = tx
                .query_opt(&format!("SELECT max(version) FROM {schema}.schema_version"), &[])
                .await
                .map_err(failed)?;
            let current: i32 = row.and_then(|r| r.get::<_, Option<i32>>(0)).unwrap_or(0);
            if current > SCHEMA_VERSION {
                return Err(Error::Postgres {
                    target,
                    what: "opening the schema",
                    detail: format!(
                        "schema {schema} is at version {current}, newer than this sigbox \
                         ({SCHEMA_VERSION})"
                    ),
                });
            }
            for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
                tx.batch_execute(sql).await.map_err(failed)?;
                tx.execute(&format!("INSERT INTO {schema}.schema_version VALUES ($1)"), &[version])
                    .await
                    .map_err(failed)?;
                tracing::info!(schema, version, "PostgreSQL schema migrated");
            }
            tx.commit().await.map_err(failed)?;
            Ok(())
        })
    }
}
