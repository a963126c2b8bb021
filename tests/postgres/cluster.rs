//! Three `rekor-server`s on one database under concurrent writers; the leader is killed
//! with SIGKILL midway. Checked: another server takes over within seconds, every
//! acknowledged entry is in the final tree with a valid proof at the index it was
//! acknowledged with, no index is acknowledged for two entries, and every checkpoint any
//! server served is consistent with the final one (no fork).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use sigbox::crypto::{PublicKey, Signer as _};
use sigbox::encoding::hex_decode;
use sigbox::tlog::{self, Hash, NoteVerifier};

use super::Postgres;
use crate::rekor::server::{check_entry, client, hashedrekord, signer, RekorServer};

const NAME: &str = "cluster.test";
const WRITERS: usize = 4;
const PER_WRITER: usize = 30;

/// One acknowledged entry: (entry ID, index, when).
type Ack = (String, u64, Instant);

fn hash(v: &Value) -> Hash {
    hex_decode(v.as_str().expect("hex")).expect("hex").try_into().expect("32 bytes")
}

fn start_cluster(
    pg: &Postgres,
    dirs: &[tempfile::TempDir],
    key: &std::path::Path,
) -> Vec<RekorServer> {
    let url = pg.url();
    let key = key.to_str().expect("utf-8 path");
    dirs.iter()
        .map(|d| {
            RekorServer::start_with_env(
                d.path(),
                "127.0.0.1:0",
                &["--storage", &url, "--signer-key", key, "--origin", NAME],
                &[("SIGBOX_LOG", "info")],
            )
        })
        .collect()
}

/// Waits (polling, with a deadline) for one server to say it leads; returns its position.
fn leader(servers: &[Option<RekorServer>]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let leading: Vec<usize> = servers
            .iter()
            .enumerate()
            .filter(|(_, s)| s.as_ref().is_some_and(|s| s.log().contains("leading the log")))
            .map(|(i, _)| i)
            .collect();
        if let Some(first) = leading.first() {
            return *first;
        }
        assert!(Instant::now() < deadline, "no server took the lead within 20 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn postgres_three_servers_one_log_survive_kill_9_of_the_leader_without_a_fork() {
    let pg = Postgres::start();
    let keydir = tempfile::tempdir().expect("tempdir");
    let log_key = sigbox::crypto::EcdsaP256Signer::generate();
    let key_path = keydir.path().join("log.key");
    let pem = sigbox::encoding::pem_encode("PRIVATE KEY", &log_key.to_pkcs8_der().expect("der"));
    std::fs::write(&key_path, pem).expect("key file");
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().expect("tempdir")).collect();
    let mut servers: Vec<Option<RekorServer>> =
        start_cluster(&pg, &dirs, &key_path).into_iter().map(Some).collect();
    let urls: Vec<String> = servers.iter().flatten().map(|s| s.url.clone()).collect();
    let key: PublicKey = log_key.public_key().clone();
    let first = leader(&servers);

    let alive = Arc::new(RwLock::new(urls.clone()));
    let acks: Arc<Mutex<Vec<Ack>>> = Arc::default();
    let seen: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    // A reader collecting every checkpoint any server serves.
    let reader = {
        let (alive, seen, done) = (alive.clone(), seen.clone(), done.clone());
        std::thread::spawn(move || {
            let http = client();
            while !done.load(Ordering::Relaxed) {
                let targets = alive.read().expect("lock").clone();
                for url in targets {
                    if let Ok(resp) = http.get(format!("{url}/api/v1/log")).send() {
                        if let Ok(info) = resp.json::<Value>() {
                            if let Some(cp) = info["signedTreeHead"].as_str() {
                                seen.lock().expect("lock").insert(cp.to_string());
                            }
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (alive, acks, seen, failures, key) =
                (alive.clone(), acks.clone(), seen.clone(), failures.clone(), key.clone());
            std::thread::spawn(move || {
                let http = client();
                let s = signer();
                for i in 0..PER_WRITER {
                    let targets = alive.read().expect("lock").clone();
                    let url = &targets[(w + i) % targets.len()];
                    let proposal = hashedrekord(&s, format!("writer {w} entry {i}").as_bytes());
                    let resp =
                        http.post(format!("{url}/api/v1/log/entries")).json(&proposal).send();
                    match resp {
                        Ok(r) if r.status().as_u16() == 201 => {
                            let map: Value = r.json().expect("JSON");
                            let (id, index) = check_entry(&map, &key, NAME);
                            let entry = map.as_object().and_then(|m| m.values().next()).cloned();
                            let cp = entry.as_ref().and_then(|e| {
                                e["verification"]["inclusionProof"]["checkpoint"].as_str()
                            });
                            seen.lock().expect("lock").insert(cp.expect("checkpoint").to_string());
                            acks.lock().expect("lock").push((id, index, Instant::now()));
                        }
                        Ok(r) => {
                            assert!(r.status().is_server_error(), "unexpected {}", r.status());
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();

    // Kill the leader once a third of the entries are in.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acks.lock().expect("lock").len() < WRITERS * PER_WRITER / 3 {
        assert!(Instant::now() < deadline, "writers made no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    let killed_url = urls[first].clone();
    alive.write().expect("lock").retain(|u| *u != killed_url);
    let killed_at = Instant::now();
    servers[first].take().expect("the leader").kill_9();
    for w in writers {
        w.join().expect("a writer panicked");
    }
    done.store(true, Ordering::Relaxed);
    reader.join().expect("the reader panicked");

    let next = leader(&servers);
    assert_ne!(next, first, "another server leads");
    let acks = acks.lock().expect("lock").clone();
    let after = acks.iter().filter(|(_, _, at)| *at > killed_at).map(|(_, _, at)| *at).min();
    let takeover = after.expect("entries acknowledged after the kill") - killed_at;
    assert!(takeover < Duration::from_secs(10), "takeover took {takeover:?}");
    assert!(
        acks.len() + failures.load(Ordering::Relaxed) == WRITERS * PER_WRITER,
        "every write was answered"
    );

    // No index acknowledged for two entries, no entry at two indices.
    let mut by_index: BTreeMap<u64, String> = BTreeMap::new();
    let mut by_id: BTreeMap<String, u64> = BTreeMap::new();
    for (id, index, _) in &acks {
        if let Some(other) = by_index.insert(*index, id.clone()) {
            assert_eq!(&other, id, "index {index} acknowledged for two entries");
        }
        if let Some(other) = by_id.insert(id.clone(), *index) {
            assert_eq!(other, *index, "entry {id} acknowledged at two indices");
        }
    }

    // Every acknowledged entry is in the final tree, at its index, with a valid proof.
    let survivor = servers[next].as_ref().expect("the new leader");
    let http = client();
    let info: Value =
        http.get(survivor.at("/api/v1/log")).send().expect("GET").json().expect("JSON");
    let verifier = NoteVerifier::ecdsa(NAME, key.clone()).expect("verifier");
    let head = tlog::verify_checkpoint(
        info["signedTreeHead"].as_str().expect("cp"),
        std::slice::from_ref(&verifier),
    )
    .expect("final checkpoint verifies");
    let (final_size, final_root) = (head.checkpoint().size, head.checkpoint().root_hash);
    for (id, index, _) in &acks {
        let map: Value = http
            .get(survivor.at(&format!("/api/v1/log/entries/{id}")))
            .send()
            .expect("GET entry")
            .json()
            .expect("JSON");
        assert_eq!(check_entry(&map, &key, NAME), (id.clone(), *index), "acknowledged entry kept");
    }

    // Every checkpoint served is consistent with the final one.
    let seen = seen.lock().expect("lock").clone();
    assert!(seen.len() > 3, "checkpoints were collected: {}", seen.len());
    for text in &seen {
        let cp = tlog::verify_checkpoint(text, std::slice::from_ref(&verifier))
            .expect("served checkpoint verifies");
        let (size, root) = (cp.checkpoint().size, cp.checkpoint().root_hash);
        assert!(size <= final_size, "a served checkpoint is ahead of the final one");
        if size == final_size {
            assert_eq!(root, final_root, "two trees of size {size}");
            continue;
        }
        let proof: Value = http
            .get(survivor.at(&format!("/api/v1/log/proof?firstSize={size}&lastSize={final_size}")))
            .send()
            .expect("GET proof")
            .json()
            .expect("JSON");
        let hashes: Vec<Hash> =
            proof["hashes"].as_array().expect("hashes").iter().map(hash).collect();
        tlog::verify_consistency(size, final_size, &hashes, &root, &final_root)
            .unwrap_or_else(|e| panic!("checkpoint of size {size} forks from the final tree: {e}"));
    }

    // One entry sent to two servers: logged once, the second answer names the first.
    let others: Vec<&RekorServer> = servers.iter().flatten().collect();
    let proposal = hashedrekord(&signer(), b"sent twice");
    let a = http.post(others[0].at("/api/v1/log/entries")).json(&proposal).send().expect("POST");
    assert_eq!(a.status().as_u16(), 201);
    let etag = a.headers()["etag"].to_str().expect("etag").to_string();
    let b = http.post(others[1].at("/api/v1/log/entries")).json(&proposal).send().expect("POST");
    assert_eq!(b.status().as_u16(), 409, "the follower finds the leader's entry");
    assert_eq!(
        b.headers()["location"].to_str().expect("location"),
        format!("/api/v1/log/entries/{etag}")
    );
}
