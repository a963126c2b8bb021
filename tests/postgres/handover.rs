//! The hand-over table at the store level, between two `PgStore`s on one database (as two
//! servers): a follower's writes, the leader's commit answering them, and the follower
//! reading the answers together with a head that covers every one of them.

use sigbox::store::postgres::{Outcome, PgStore};
use sigbox::store::{Commit, CommittedEntry};
use sigbox::tlog::{self, CompactRange};

use super::Postgres;

/// A commit of `bodies` at the end of `range`.
fn commit_of(range: &mut CompactRange, bodies: &[&[u8]]) -> Commit {
    let mut commit = Commit::default();
    for body in bodies {
        let index = range.size();
        let leaf = tlog::hash_leaf(body);
        range.append(leaf, |id, h| commit.nodes.push((id, *h))).expect("append");
        commit.entries.push(CommittedEntry {
            index,
            leaf_hash: leaf,
            record: format!("record {index}").into_bytes(),
            search_keys: vec![format!("key:{index}")],
        });
    }
    commit.checkpoint = format!("handover.test\n{}\n", range.size());
    commit
}

#[test]
fn postgres_answers_to_handed_over_writes_come_with_a_head_covering_them() {
    let pg = Postgres::start();
    let leader = PgStore::open(&pg.url(), "rekor").expect("leader store");
    let follower = PgStore::open(&pg.url(), "rekor").expect("follower store");
    let bodies: [&[u8]; 3] = [b"first", b"second", b"first"];
    let writes: Vec<_> =
        bodies.iter().map(|b| (tlog::hash_leaf(b), b.to_vec(), vec!["k".to_string()])).collect();
    let ids = follower.enqueue(&writes).expect("enqueue");
    assert_eq!(ids.len(), 3);

    // Nothing answered yet: no answers, and no head to move to.
    let none = follower.outcomes(&ids).expect("outcomes");
    assert!(none.answers.is_empty() && none.head.is_none(), "{none:?}");

    // The leader logs the first two and finds the third a duplicate of the first.
    let pending = leader.take_pending(10).expect("take_pending");
    assert_eq!(pending.iter().map(|p| p.id).collect::<Vec<_>>(), ids);
    let mut range = CompactRange::new();
    let commit = commit_of(&mut range, &bodies[..2]);
    let outcomes = [
        (ids[0], Outcome::Logged(0)),
        (ids[1], Outcome::Logged(1)),
        (ids[2], Outcome::Duplicate(0)),
    ];
    leader.commit(&commit, &outcomes).expect("commit");

    let found = follower.outcomes(&ids).expect("outcomes");
    let (size, checkpoint) = found.head.clone().expect("a head with the answers");
    assert_eq!((size, checkpoint.as_str()), (2, commit.checkpoint.as_str()));
    let mut answers = found.answers;
    answers.sort_by_key(|a| a.0);
    assert_eq!(answers.len(), 3);
    for (id, outcome, record) in &answers {
        match outcome {
            Outcome::Logged(index) => {
                assert!(*index < size, "answer {id} at {index} beyond the head {size}");
                assert_eq!(record.as_deref(), Some(format!("record {index}").as_bytes()));
            }
            Outcome::Duplicate(index) => {
                assert_eq!((*id, *index), (ids[2], 0));
                assert!(record.is_none());
            }
        }
    }
    // Answers are read once: their rows are gone.
    let again = follower.outcomes(&ids).expect("outcomes");
    assert!(again.answers.is_empty() && again.head.is_none(), "{again:?}");
    assert!(leader.take_pending(10).expect("take_pending").is_empty());
}

#[test]
fn postgres_leader_sweeps_answers_no_server_read_and_keeps_waiting_writes() {
    let pg = Postgres::start();
    let leader = PgStore::open(&pg.url(), "rekor").expect("leader store");
    let follower = PgStore::open(&pg.url(), "rekor").expect("follower store");
    let write = |b: &[u8]| (tlog::hash_leaf(b), b.to_vec(), vec!["k".to_string()]);
    let answered = follower.enqueue(&[write(b"one")]).expect("enqueue");
    let waiting = follower.enqueue(&[write(b"two")]).expect("enqueue");
    // The leader answers the first (a duplicate: no entries, outcomes only) but its
    // submitter's server never reads the answer.
    leader.commit(&Commit::default(), &[(answered[0], Outcome::Duplicate(0))]).expect("resolve");
    // Young answers stay.
    assert_eq!(leader.sweep_answered(std::time::Duration::from_secs(60)).expect("sweep"), 0);
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(leader.sweep_answered(std::time::Duration::from_millis(1)).expect("sweep"), 1);
    assert!(follower.outcomes(&answered).expect("outcomes").answers.is_empty());
    // The unanswered write is still there for the leader.
    let pending = leader.take_pending(10).expect("take_pending");
    assert_eq!(pending.iter().map(|p| p.id).collect::<Vec<_>>(), waiting);
}

#[test]
fn postgres_concurrent_entry_reads_share_statements_and_each_gets_its_own_record() {
    let pg = Postgres::start();
    let store = PgStore::open(&pg.url(), "rekor").expect("store");
    let bodies: Vec<Vec<u8>> = (0..64).map(|i| format!("body {i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let mut range = CompactRange::new();
    store.commit(&commit_of(&mut range, &refs), &[]).expect("commit");
    // Many more readers than batches in flight, so most reads wait and go in shared
    // batches; each must still get the record at its own index (or none past the end).
    let threads: Vec<_> = (0..24u64)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for k in 0..150u64 {
                    let index = (t * 7 + k * 13) % 70;
                    let got = store.entry(index).expect("entry");
                    if index < 64 {
                        assert_eq!(
                            got,
                            Some(format!("record {index}").into_bytes()),
                            "entry {index}"
                        );
                    } else {
                        assert_eq!(got, None, "entry {index} past the end");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("reader thread");
    }
}
