//! What several servers on one log need of the store: the leader lock, and the `pending`
//! table through which followers hand writes to the leader and read back its answers.

use super::*;

/// Hands writes over (`$1` leaf hashes, `$2` bodies, `$3` search keys as JSON, `$4` their
/// order, `$5` the channel to wake the leader on) in one statement: the insert, the
/// notification (sent at commit) and `synchronous_commit` off for this statement's own
/// transaction. Nothing waits for the disk: no write is acknowledged before the leader's
/// own, synchronous, commit, which flushes the log up to and past these rows.
pub(super) const ENQUEUE: &str =
    "WITH quick AS (SELECT set_config('synchronous_commit', 'off', true)), \
     wake AS (SELECT pg_notify($5, '')), \
     ins AS (INSERT INTO pending (leaf_hash, body, search_keys) \
             SELECT l, b, k FROM unnest($1::bytea[], $2::bytea[], $3::text[], $4::bigint[]) \
             AS u(l, b, k, n) ORDER BY n RETURNING id, leaf_hash) \
     SELECT ins.id, ins.leaf_hash FROM ins CROSS JOIN quick CROSS JOIN wake";

/// The oldest `$1` writes not answered yet.
pub(super) const TAKE_PENDING: &str =
    "SELECT id, body, search_keys FROM pending WHERE status = 0 ORDER BY id LIMIT $1";

/// Answers to `$1` (removing them, without waiting for the disk) with the stored records
/// and the head, all in one snapshot; see [`PgStore::outcomes`].
pub(super) const OUTCOMES: &str =
    "WITH quick AS (SELECT set_config('synchronous_commit', 'off', true)), \
     done AS (DELETE FROM pending WHERE id = ANY($1) AND status <> 0 \
     RETURNING id, status, idx) \
     SELECT done.id, done.status, done.idx, e.record, t.size, t.checkpoint \
     FROM done CROSS JOIN quick CROSS JOIN tree t \
     LEFT JOIN entries e ON e.idx = done.idx AND done.status = 1 \
     WHERE t.id = 1";

impl PgStore {
    /// Records outcomes of pending writes outside a commit (a batch of duplicates only).
    pub(super) fn resolve(&self, outcomes: &[(i64, Outcome)]) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let (ids, statuses, idx) = outcome_columns(outcomes);
        let failed = self.error("answering pending writes");
        let channel = format!("{}_integrated", self.inner.schema);
        let done = self.with_writer(|conn| {
            self.block(async move {
                let c = &conn.client;
                let outcome_args: [&Param; 3] = [&ids, &statuses, &idx];
                let notify_args: [&Param; 1] = [&channel];
                Ok(futures_util::try_join!(
                    c.execute(UPDATE_PENDING, &outcome_args),
                    c.execute("SELECT pg_notify($1, '')", &notify_args),
                ))
            })
        })?;
        done.map(drop).map_err(failed)
    }

    /// Hands writes to the leader: inserts them into `pending` (not waiting for the disk:
    /// nothing is acknowledged until the leader's own commit) and wakes it. Returns their
    /// row IDs, in order.
    pub fn enqueue(&self, writes: &[(Hash, Vec<u8>, Vec<String>)]) -> Result<Vec<i64>> {
        let conn = self.conn()?;
        let failed = self.error("handing writes to the leader");
        let leaves: Vec<Vec<u8>> = writes.iter().map(|w| w.0.to_vec()).collect();
        let bodies: Vec<Vec<u8>> = writes.iter().map(|w| w.1.clone()).collect();
        let keys: Vec<String> =
            writes.iter().map(|w| serde_json::Value::from(w.2.clone()).to_string()).collect();
        let ords: Vec<i64> = (0..writes.len() as i64).collect();
        let channel = format!("{}_pending", self.inner.schema);
        let rows = self.block(async move {
            let args: [&Param; 5] = [&leaves, &bodies, &keys, &ords, &channel];
            Ok(conn.client.query(&conn.st.share.enqueue, &args).await)
        })?;
        // Row IDs follow the insert's order (`ORDER BY n`), so equal bodies get theirs in
        // order too.
        let mut by_leaf: HashMap<Vec<u8>, std::collections::VecDeque<i64>> = HashMap::new();
        let mut rows = rows.map_err(failed)?;
        rows.sort_by_key(|row| row.get::<_, i64>(0));
        for row in rows {
            by_leaf.entry(row.get(1)).or_default().push_back(row.get(0));
        }
        writes
            .iter()
            .map(|w| {
                by_leaf
                    .get_mut(w.0.as_slice())
                    .and_then(|ids| ids.pop_front())
                    .ok_or(Error::Corrupt("pending row IDs"))
            })
            .collect()
    }

    /// Pending writes not answered yet, oldest first (for the leader).
    pub fn take_pending(&self, limit: usize) -> Result<Vec<PendingWrite>> {
        let conn = self.conn()?;
        let failed = self.error("reading pending writes");
        let limit = limit as i64;
        let rows = self.block(async move {
            Ok(conn.client.query(&conn.st.share.take_pending, &[&limit]).await)
        })?;
        rows.map_err(failed)?
            .into_iter()
            .map(|row| {
                let keys: String = row.get(2);
                let search_keys: Vec<String> = serde_json::from_str(&keys)
                    .map_err(|_| Error::Corrupt("pending search keys"))?;
                Ok(PendingWrite { id: row.get(0), body: row.get(1), search_keys })
            })
            .collect()
    }

    /// The outcomes of those of `ids` the leader has answered (their rows are removed), and
    /// the committed head they were read with.
    ///
    /// A logged entry comes with its stored record, and the head with its checkpoint, all
    /// read by one statement: one snapshot, in which the commit that answered a write is
    /// visible together with the tree it produced. Why: reading the head in a second query
    /// can fail (the database going away between the two) and leave the server answering
    /// for an entry its head does not cover yet, whose proof then cannot be built.
    ///
    /// The removal does not wait for the disk (`synchronous_commit` off for this statement's
    /// own transaction): the answer is already durable in the leader's commit, and a removal
    /// lost in a crash leaves only an answered row, which the leader sweeps later.
    pub fn outcomes(&self, ids: &[i64]) -> Result<Outcomes> {
        let conn = self.conn()?;
        let failed = self.error("reading answers to pending writes");
        let ids = ids.to_vec();
        let rows = self
            .block(async move { Ok(conn.client.query(&conn.st.share.outcomes, &[&ids]).await) })?;
        let mut out = Outcomes::default();
        for row in rows.map_err(failed)? {
            let index = to_u64(row.get::<_, Option<i64>>(2).unwrap_or(-1));
            let outcome = match row.get::<_, i16>(1) {
                1 => Outcome::Logged(index),
                _ => Outcome::Duplicate(index),
            };
            out.answers.push((row.get(0), outcome, row.get::<_, Option<Vec<u8>>>(3)));
            if out.head.is_none() {
                out.head = Some((to_u64(row.get(4)), row.get(5)));
            }
        }
        Ok(out)
    }

    /// Removes answered rows older than `age` whose submitter's server never read them (it
    /// died first, or its removal was lost in a crash). Returns how many went.
    pub fn sweep_answered(&self, age: Duration) -> Result<u64> {
        let conn = self.conn()?;
        let failed = self.error("sweeping old answers to pending writes");
        let seconds = age.as_secs_f64();
        let done = self.block(async move {
            Ok(conn
                .client
                .execute(
                    "DELETE FROM pending WHERE status <> 0 \
                     AND created < now() - make_interval(secs => $1)",
                    &[&seconds],
                )
                .await)
        })?;
        done.map_err(failed)
    }

    /// Forgets pending writes whose submitters gave up.
    pub fn drop_pending(&self, ids: &[i64]) -> Result<()> {
        let conn = self.conn()?;
        let failed = self.error("dropping pending writes");
        let ids = ids.to_vec();
        let done = self.block(async move {
            Ok(conn.client.execute("DELETE FROM pending WHERE id = ANY($1)", &[&ids]).await)
        })?;
        done.map(drop).map_err(failed)
    }

    /// Whether this server holds the leader lock, taking it if it is free. The lock lives
    /// as long as its connection: a dead leader's goes with its session.
    pub fn try_lead(&self) -> Result<bool> {
        let mut lead = self.inner.lead.lock().unwrap_or_else(|p| p.into_inner());
        if lead.as_ref().is_some_and(|c| !c.client.is_closed()) {
            return Ok(true);
        }
        *lead = None;
        let client = self.connect_raw()?;
        let key = lock_key(&self.inner.schema, 2);
        let failed = self.error("taking the leader lock");
        let (client, got) = self.block(async move {
            let got = client.query_one("SELECT pg_try_advisory_lock($1)", &[&key]).await;
            Ok((client, got))
        })?;
        let got: bool = got.map_err(failed)?.get(0);
        if got {
            *lead = Some(Arc::new(self.prepare(client)?));
        }
        Ok(got)
    }

    /// Whether the leader lock's connection is still alive.
    pub fn is_leader(&self) -> bool {
        let lead = self.inner.lead.lock().unwrap_or_else(|p| p.into_inner());
        lead.as_ref().is_some_and(|c| !c.client.is_closed())
    }

    /// Gives up the leader lock (after a fenced commit: another server leads).
    pub fn resign(&self) {
        self.inner.lead.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Counters of the notifications seen: (pending writes, integrations).
    pub fn hints(&self) -> (u64, u64) {
        let h = &self.inner.hints;
        (h.pending.load(Ordering::Relaxed), h.integrated.load(Ordering::Relaxed))
    }
}

/// An advisory lock key for `schema` and a purpose.
pub(super) fn lock_key(schema: &str, purpose: u8) -> i64 {
    let d = crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, schema.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d.as_bytes()[..8]);
    i64::from_be_bytes(b) ^ i64::from(purpose)
}

pub(super) fn outcome_columns(outcomes: &[(i64, Outcome)]) -> (Vec<i64>, Vec<i16>, Vec<i64>) {
    let ids = outcomes.iter().map(|(id, _)| *id).collect();
    let statuses = outcomes
        .iter()
        .map(|(_, o)| match o {
            Outcome::Logged(_) => 1,
            Outcome::Duplicate(_) => 2,
        })
        .collect();
    let idx = outcomes
        .iter()
        .map(|(_, o)| match o {
            Outcome::Logged(i) | Outcome::Duplicate(i) => to_i64(*i),
        })
        .collect();
    (ids, statuses, idx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_differ_by_schema_and_purpose() {
        assert_ne!(lock_key("rekor", 1), lock_key("rekor", 2));
        assert_ne!(lock_key("rekor", 2), lock_key("ct", 2));
    }
}
