//! PostgreSQL stopped under load (`pg_ctl stop -m immediate`, as in a crash): writers get
//! 503 with a JSON error naming the database, nothing acknowledged is lost, and once the
//! database is back (`pg_ctl start`) writes succeed again, on the leader and on a follower.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use sigbox::crypto::Signer as _;

use super::Postgres;
use crate::rekor::server::{check_entry, client, hashedrekord, signer, RekorServer};

const NAME: &str = "outage.test";

/// What the writers saw: acknowledged (entry ID, index, when) and 5xx (message, when).
#[derive(Default)]
struct Seen {
    acks: Vec<(String, u64, Instant)>,
    errors: Vec<(String, Instant)>,
}

/// Polls `done` until it holds or `secs` pass.
fn wait_until(secs: u64, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {secs} s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn postgres_stopped_under_load_gives_503_naming_it_loses_nothing_and_recovers() {
    let pg = Postgres::start();
    let url = pg.url();
    let keydir = tempfile::tempdir().expect("tempdir");
    let log_key = sigbox::crypto::EcdsaP256Signer::generate();
    let key_path = keydir.path().join("log.key");
    let pem = sigbox::encoding::pem_encode("PRIVATE KEY", &log_key.to_pkcs8_der().expect("der"));
    std::fs::write(&key_path, pem).expect("key file");
    let key_arg = key_path.to_str().expect("utf-8");
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().expect("tempdir")).collect();
    let servers: Vec<RekorServer> = dirs
        .iter()
        .map(|d| {
            RekorServer::start(
                d.path(),
                &["--storage", &url, "--signer-key", key_arg, "--origin", NAME],
            )
        })
        .collect();
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let key = log_key.public_key().clone();

    let seen: Arc<Mutex<Seen>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (seen, stop, urls, key) = (seen.clone(), stop.clone(), urls.clone(), key.clone());
            std::thread::spawn(move || {
                let http = client();
                let s = signer();
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) && i < 5_000 {
                    let url = &urls[(w + i) % urls.len()];
                    let proposal = hashedrekord(&s, format!("writer {w} entry {i}").as_bytes());
                    i += 1;
                    let Ok(resp) =
                        http.post(format!("{url}/api/v1/log/entries")).json(&proposal).send()
                    else {
                        panic!("the server went away");
                    };
                    let status = resp.status().as_u16();
                    let body: Value = resp.json().expect("every answer is JSON");
                    if status == 201 {
                        let (id, index) = check_entry(&body, &key, NAME);
                        seen.lock().expect("lock").acks.push((id, index, Instant::now()));
                    } else {
                        assert_eq!(status, 503, "a database outage is a 503: {body}");
                        let message = body["message"].as_str().unwrap_or_default().to_string();
                        seen.lock().expect("lock").errors.push((message, Instant::now()));
                        // Clients back off; so does this one (bounded: the loop is bounded).
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            })
        })
        .collect();

    wait_until(60, "entries acknowledged before the outage", || {
        seen.lock().expect("lock").acks.len() >= 20
    });
    pg.stop_immediate();
    let stopped_at = Instant::now();
    wait_until(30, "writers told of the outage", || {
        seen.lock().expect("lock").errors.iter().filter(|(_, at)| *at > stopped_at).count() >= 4
    });
    let target = format!("PostgreSQL database sigbox@127.0.0.1:{}/postgres", pg.port);
    {
        let seen = seen.lock().expect("lock");
        for (message, _) in seen.errors.iter().filter(|(_, at)| *at > stopped_at) {
            assert!(message.contains(&target), "the error names the database: {message:?}");
        }
    }
    pg.pg_ctl_start();
    let restarted_at = Instant::now();
    wait_until(60, "writes succeeding on both servers after the restart", || {
        let seen = seen.lock().expect("lock");
        seen.acks.iter().filter(|(_, _, at)| *at > restarted_at).count() >= 20
    });
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().expect("a writer panicked");
    }

    // Nothing acknowledged was lost: every entry is there, at its index, with a proof.
    let http = client();
    let seen = seen.lock().expect("lock");
    for server in &servers {
        for (id, index, _) in &seen.acks {
            let map: Value = http
                .get(server.at(&format!("/api/v1/log/entries/{id}")))
                .send()
                .expect("GET entry")
                .json()
                .expect("JSON");
            assert_eq!(check_entry(&map, &key, NAME), (id.clone(), *index), "entry {id} kept");
        }
    }
}
