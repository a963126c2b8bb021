//! The sequencer of a log on PostgreSQL (several servers, one log): while this server holds
//! the leader lock it integrates its own queue and the writes other servers handed over;
//! otherwise it hands its queue over through the database and answers each submitter once
//! the leader has committed the entry.

use super::*;

/// How often a server that does not lead tries to take the leader lock.
const LEAD_RETRY: Duration = Duration::from_millis(300);

/// How often the coordinator looks at the database without a notification (lost
/// notifications, a listener reconnecting).
const POLL: Duration = Duration::from_millis(50);

/// How long a handed-over write waits for the leader before its submitter gets a 503.
const HANDOVER_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a follower holds its submissions to hand them over together: one insert and
/// one wake-up of the leader for several writes instead of one each. Short beside the
/// leader's commit cycle (a synchronous commit: milliseconds), which they wait for anyway.
const LINGER: Duration = Duration::from_millis(2);

/// How often the leader sweeps answers nobody read; answers younger than twice the
/// hand-over timeout are kept (their server may still be reading them).
const SWEEP: Duration = Duration::from_secs(60);

/// A handed-over write awaiting the leader.
struct Waiter {
    reply: tokio::sync::oneshot::Sender<Result<Integrated>>,
    leaf: Hash,
    since: Instant,
}

/// The sequencer of a log on PostgreSQL (several servers, one log): leads while it holds
/// the leader lock, hands its writes over otherwise, and keeps the head fresh.
pub(super) fn coordinate(shared: &Shared, pg: &PgStore, rx: mpsc::Receiver<Pending>, clock: Clock) {
    let mut range: Option<CompactRange> = None;
    let mut waiting: HashMap<i64, Waiter> = HashMap::new();
    let mut last_lead_try: Option<Instant> = None;
    let mut seen = pg.hints();
    let mut last_poll = Instant::now();
    let mut open = true;
    let mut last_sweep = Instant::now();
    // A follower's submissions held for [`LINGER`], and since when.
    let mut held: Vec<Pending> = Vec::new();
    let mut held_since = Instant::now();
    while open || !waiting.is_empty() || !held.is_empty() {
        if range.is_some() && !pg.is_leader() {
            tracing::warn!("lost the leader lock's connection; following");
            range = None;
        }
        if range.is_none() && !last_lead_try.is_some_and(|t| t.elapsed() < LEAD_RETRY) {
            last_lead_try = Some(Instant::now());
            range = take_lead(shared, pg);
        }
        let busy = range.is_some() || !waiting.is_empty();
        let mut local = Vec::new();
        if open {
            let wait = if !held.is_empty() {
                LINGER.saturating_sub(held_since.elapsed())
            } else if busy {
                Duration::from_millis(2)
            } else {
                POLL
            };
            match rx.recv_timeout(wait) {
                Ok(p) => local.push(p),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => open = false,
            }
            while local.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(p) => local.push(p),
                    Err(_) => break,
                }
            }
        } else {
            std::thread::park_timeout(Duration::from_millis(2));
        }
        let hints = pg.hints();
        let poll_due = last_poll.elapsed() >= POLL;
        if poll_due {
            last_poll = Instant::now();
        }
        if let Some(r) = range.as_mut() {
            // Writes held while following go first (they came first).
            let mut batch: Vec<Item> = held.drain(..).chain(local).map(Item::from).collect();
            if hints.0 != seen.0 || poll_due {
                match pg.take_pending(MAX_BATCH.saturating_sub(batch.len()).max(1)) {
                    Ok(rows) => batch.extend(rows.into_iter().map(|w| Item {
                        body: w.body,
                        search_keys: w.search_keys,
                        reply: Reply::Remote(w.id),
                    })),
                    Err(e) => tracing::warn!(error = %e, "reading handed-over writes"),
                }
            }
            if !batch.is_empty() {
                if let Err(e) = integrate(shared, r, batch, &clock) {
                    tracing::error!(error = %e, "batch commit failed; reloading the tree");
                    match (&e, pg.compact_range()) {
                        (Error::Database(m), _) if m.contains("log moved on") => {
                            pg.resign();
                            range = None;
                        }
                        (_, Ok(fresh)) => *r = fresh,
                        (_, Err(_)) => {
                            pg.resign();
                            range = None;
                        }
                    }
                }
            }
            if last_sweep.elapsed() >= SWEEP {
                last_sweep = Instant::now();
                match pg.sweep_answered(2 * HANDOVER_TIMEOUT) {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(rows = n, "swept answers no server read"),
                    Err(e) => tracing::debug!(error = %e, "sweeping old answers"),
                }
            }
        } else {
            if held.is_empty() {
                held_since = Instant::now();
            }
            held.extend(local);
            let due = held.len() >= MAX_BATCH || held_since.elapsed() >= LINGER || !open;
            if !held.is_empty() && due {
                hand_over(pg, std::mem::take(&mut held), &mut waiting);
            }
        }
        let mut head_read = false;
        if !waiting.is_empty() && (hints.1 != seen.1 || poll_due || range.is_some()) {
            head_read = answer_handed_over(shared, pg, &mut waiting);
        }
        // The answers came with the head of the same snapshot: no second read for it.
        if range.is_none() && !head_read && (hints.1 != seen.1 || poll_due) {
            refresh_head(shared, pg);
        }
        seen = hints;
    }
}

/// Takes the leader lock if it is free; returns the committed tree to extend.
fn take_lead(shared: &Shared, pg: &PgStore) -> Option<CompactRange> {
    match pg.try_lead() {
        Ok(true) => match pg.compact_range() {
            Ok(range) => {
                refresh_head(shared, pg);
                tracing::info!(size = range.size(), "leading the log");
                Some(range)
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the tree; not leading");
                pg.resign();
                None
            }
        },
        Ok(false) => None,
        Err(e) => {
            tracing::debug!(error = %e, "leader lock");
            None
        }
    }
}

/// Hands local submissions to the leader through the `pending` table.
fn hand_over(pg: &PgStore, local: Vec<Pending>, waiting: &mut HashMap<i64, Waiter>) {
    let writes: Vec<(Hash, Vec<u8>, Vec<String>)> = local
        .iter()
        .map(|p| {
            (tlog::hash_leaf(&p.entry.body), p.entry.body.clone(), p.entry.search_keys.clone())
        })
        .collect();
    match pg.enqueue(&writes) {
        Ok(ids) => {
            for ((id, p), (leaf, _, _)) in ids.into_iter().zip(local).zip(writes) {
                waiting.insert(id, Waiter { reply: p.reply, leaf, since: Instant::now() });
            }
        }
        Err(e) => {
            let error = Error::from(e);
            for p in local {
                let _ = p.reply.send(Err(failure(&error)));
            }
        }
    }
}

/// Answers the handed-over writes the leader has dealt with; gives up on old ones. Returns
/// whether the head was read with the answers (then it is as fresh as a separate read).
fn answer_handed_over(shared: &Shared, pg: &PgStore, waiting: &mut HashMap<i64, Waiter>) -> bool {
    let ids: Vec<i64> = waiting.keys().copied().collect();
    let found = match pg.outcomes(&ids) {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, "reading answers to handed-over writes");
            Default::default()
        }
    };
    // The head read with the answers covers every entry answered: move ours to it first, so
    // that each answer's proof is built against a tree that holds its entry.
    let head_read = found.head.is_some();
    if let Some((size, checkpoint)) = found.head {
        advance_head(shared, size, checkpoint);
    }
    let done = found.answers;
    // The tiles of every answer's proof in one query, so that the submitters' handlers
    // build their proofs from the cache instead of one query each.
    let size = shared.head().size;
    let mut ids = Vec::new();
    for (_, outcome, _) in &done {
        if let Outcome::Logged(index) = outcome {
            ids.extend(proof_nodes(|f| tlog::inclusion_proof(*index, size, f)));
        }
    }
    ids.sort_unstable_by_key(|id| (id.level, id.index));
    ids.dedup();
    if let Err(e) = pg.prefetch(&ids) {
        tracing::debug!(error = %e, "prefetching the answers' proof tiles");
    }
    for (id, outcome, record) in done {
        let Some(w) = waiting.remove(&id) else { continue };
        let answer = match outcome {
            Outcome::Duplicate(_) => {
                Err(Error::Duplicate { entry_id: entry_id(shared.tree_id, &w.leaf) })
            }
            Outcome::Logged(index) => record
                .map_or_else(|| shared.store.entry(index), |r| Ok(Some(r)))
                .map_err(Error::from)
                .and_then(|b| b.ok_or(Error::Unavailable))
                .and_then(|b| Record::from_bytes(&b))
                .map(|record| Integrated {
                    index,
                    record,
                    leaf: w.leaf,
                    head: shared.head(),
                    log_id: shared.key().log_id,
                }),
        };
        let _ = w.reply.send(answer);
    }
    let expired: Vec<i64> = waiting
        .iter()
        .filter(|(_, w)| w.since.elapsed() > HANDOVER_TIMEOUT)
        .map(|(id, _)| *id)
        .collect();
    if !expired.is_empty() {
        let _ = pg.drop_pending(&expired);
        for id in expired {
            if let Some(w) = waiting.remove(&id) {
                let _ = w.reply.send(Err(Error::Database(format!(
                    "no server integrated the entry within {} s (database {})",
                    HANDOVER_TIMEOUT.as_secs(),
                    pg.target()
                ))));
            }
        }
    }
    head_read
}

/// Moves the head forward to the database's (never back).
fn refresh_head(shared: &Shared, pg: &PgStore) {
    if let Ok((size, checkpoint)) = pg.head() {
        advance_head(shared, size, checkpoint);
    }
}

/// Moves the head forward to `size` with its signed `checkpoint` (never back).
fn advance_head(shared: &Shared, size: u64, checkpoint: String) {
    if checkpoint.is_empty() || size <= shared.head().size {
        return;
    }
    let body = checkpoint.split_once("\n\n").map(|(b, _)| format!("{b}\n"));
    let Some(Ok(cp)) = body.map(|b| Checkpoint::parse_note_body(&b)) else {
        tracing::warn!("the database's checkpoint does not parse");
        return;
    };
    if cp.size != size {
        return;
    }
    let mut head = shared.head.write().unwrap_or_else(|p| p.into_inner());
    if size > head.size {
        *head = Head { size, root: cp.root_hash, checkpoint };
    }
}
