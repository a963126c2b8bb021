//! A hundred kill -9 at random moments under concurrent writers. After every restart:
//! every entry acknowledged (201) in the cycle before is at its index with a valid inclusion
//! proof under the new signed checkpoint, and every checkpoint served before is consistent
//! with the new one (no fork, nothing rewritten). At the end: every acknowledged entry of
//! every cycle, and no index acknowledged twice.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use sigbox::crypto::PublicKey;
use sigbox::encoding::hex_decode;
use sigbox::tlog::{self, Hash, NoteVerifier};

use crate::rekor::server::{check_entry, hashedrekord, signer, RekorServer};

/// Cycles of write / kill -9 / restart (SIGBOX_FAULT_CYCLES overrides).
fn cycles() -> usize {
    std::env::var("SIGBOX_FAULT_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(100)
}

/// A small xorshift generator: the moments are random, and the seed is printed so a
/// failing run can be repeated (SIGBOX_FAULT_SEED).
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        use std::hash::{BuildHasher, Hasher};
        // std's per-process random hash keys are a seed source needing no clock.
        let fresh = std::collections::hash_map::RandomState::new().build_hasher().finish() | 1;
        let seed =
            std::env::var("SIGBOX_FAULT_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(fresh);
        eprintln!("kill -9 test: seed {seed} (SIGBOX_FAULT_SEED)");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn hash_of(v: &Value) -> Hash {
    hex_decode(v.as_str().expect("a hex string")).expect("hex").try_into().expect("32 bytes")
}

/// The server's signed tree head, its signature checked: (size, root).
fn signed_head(
    http: &reqwest::blocking::Client,
    server: &RekorServer,
    key: &PublicKey,
) -> (u64, Hash) {
    let info: Value = http.get(server.at("/api/v1/log")).send().unwrap().json().unwrap();
    let verifier = NoteVerifier::ecdsa(&server.name, key.clone()).unwrap();
    let note = info["signedTreeHead"].as_str().expect("signedTreeHead");
    let cp =
        tlog::verify_checkpoint(note, &[verifier]).expect("the tree head is signed by the log");
    assert_eq!(cp.checkpoint().size, info["treeSize"].as_u64().unwrap());
    (cp.checkpoint().size, cp.checkpoint().root_hash)
}

fn assert_consistent(
    http: &reqwest::blocking::Client,
    server: &RekorServer,
    old: (u64, Hash),
    new: (u64, Hash),
) {
    assert!(old.0 <= new.0, "the tree shrank from {} to {}", old.0, new.0);
    if old.0 == new.0 {
        assert_eq!(old.1, new.1, "two different trees of size {}", old.0);
        return;
    }
    let url = server.at(&format!("/api/v1/log/proof?firstSize={}&lastSize={}", old.0, new.0));
    let proof: Value = http.get(url).send().unwrap().json().unwrap();
    let hashes: Vec<Hash> = proof["hashes"].as_array().unwrap().iter().map(hash_of).collect();
    tlog::verify_consistency(old.0, new.0, &hashes, &old.1, &new.1).unwrap_or_else(|e| {
        panic!("checkpoint of size {} is not consistent with size {}: {e}", old.0, new.0)
    });
}

/// Writers that post entries until the server goes away; every 201 is recorded.
fn writers(url: &str, acked: &Arc<Mutex<Vec<(String, u64)>>>) -> Vec<std::thread::JoinHandle<()>> {
    (0..3)
        .map(|w| {
            let (url, acked) = (url.to_string(), Arc::clone(acked));
            std::thread::spawn(move || {
                let http = sigbox::http::blocking_builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap();
                let s = signer();
                for i in 0.. {
                    let body = hashedrekord(&s, format!("writer {w} entry {i} {url}").as_bytes());
                    let Ok(resp) =
                        http.post(format!("{url}/api/v1/log/entries")).json(&body).send()
                    else {
                        return;
                    };
                    if resp.status().as_u16() != 201 {
                        return;
                    }
                    let Ok(map) = resp.json::<Value>() else { return };
                    let Some((id, e)) = map.as_object().and_then(|m| m.iter().next()) else {
                        return;
                    };
                    acked.lock().unwrap().push((id.clone(), e["logIndex"].as_u64().unwrap()));
                }
            })
        })
        .collect()
}

#[test]
fn a_hundred_kill_9_under_concurrent_writers_lose_and_fork_nothing() {
    let cycles = cycles();
    let mut rng = Rng::new();
    let dir = tempfile::tempdir().unwrap();
    let http = crate::rekor::server::client();
    let mut server = RekorServer::start(dir.path(), &[]);
    let listen = server.name.clone();
    let key = server.public_key(&http);
    let mut heads: Vec<(u64, Hash)> = vec![signed_head(&http, &server, &key)];
    let mut all_acked: BTreeMap<u64, String> = BTreeMap::new();
    let started = Instant::now();
    for cycle in 0..cycles {
        let acked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
        let threads = writers(&server.url, &acked);
        // A random moment: after 0–15 acknowledged writes, plus 0–30 ms.
        let want = rng.below(16) as usize;
        let deadline = Instant::now() + Duration::from_secs(30);
        while acked.lock().unwrap().len() < want && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(rng.below(31)));
        server.kill_9();
        for t in threads {
            t.join().unwrap();
        }
        server = RekorServer::start_on(dir.path(), &listen, &[]);
        let head = signed_head(&http, &server, &key);
        for old in &heads {
            assert_consistent(&http, &server, *old, head);
        }
        heads.push(head);
        let acked = acked.lock().unwrap().clone();
        for (id, index) in &acked {
            let resp = http
                .get(server.at(&format!("/api/v1/log/entries?logIndex={index}")))
                .send()
                .unwrap();
            assert_eq!(
                resp.status().as_u16(),
                200,
                "cycle {cycle}: acknowledged entry {index} is gone"
            );
            let map: Value = resp.json().unwrap();
            assert_eq!(&check_entry(&map, &key, &server.name), &(id.clone(), *index));
            if let Some(other) = all_acked.insert(*index, id.clone()) {
                panic!("cycle {cycle}: index {index} acknowledged for {other} and for {id}");
            }
        }
        heads.dedup();
    }
    // Everything acknowledged across all cycles is still there under the final head.
    let last = *heads.last().unwrap();
    for (index, id) in &all_acked {
        let map: Value = http
            .get(server.at(&format!("/api/v1/log/entries?logIndex={index}")))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(&check_entry(&map, &key, &server.name), &(id.clone(), *index));
    }
    assert!(
        last.0 as usize > all_acked.len(),
        "the log holds fewer entries than were acknowledged"
    );
    eprintln!(
        "kill -9 test: {cycles} kills, {} acknowledged entries all present, {} distinct checkpoints consistent, {:?}",
        all_acked.len(),
        heads.len(),
        started.elapsed()
    );
}
