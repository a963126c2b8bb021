//! Crash safety: kill -9 the server while clients are writing, restart it, and find every
//! acknowledged (201) entry at its index with a valid proof against the new checkpoint.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::server::{check_entry, client, hashedrekord, signer, RekorServer};

#[test]
fn rekor_kill_9_under_load_loses_no_acknowledged_entry() {
    let dir = tempfile::tempdir().unwrap();
    let server = RekorServer::start(dir.path(), &[]);
    let name = server.name.clone();
    let url = server.url.clone();
    let acked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let mut workers = Vec::new();
    for w in 0..8 {
        let acked = acked.clone();
        let url = url.clone();
        workers.push(std::thread::spawn(move || {
            let http =
                sigbox::http::blocking_builder().timeout(Duration::from_secs(5)).build().unwrap();
            let s = signer();
            for i in 0.. {
                let proposal = hashedrekord(&s, format!("worker {w} entry {i}").as_bytes());
                let Ok(resp) =
                    http.post(format!("{url}/api/v1/log/entries")).json(&proposal).send()
                else {
                    return; // server gone
                };
                if resp.status().as_u16() != 201 {
                    return;
                }
                let Ok(map) = resp.json::<Value>() else { return };
                let (id, e) = map.as_object().unwrap().iter().next().unwrap();
                acked.lock().unwrap().push((id.clone(), e["logIndex"].as_u64().unwrap()));
            }
        }));
    }
    // Kill once the writers have had entries acknowledged (a condition, not a fixed sleep),
    // while they are still writing.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 50 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill_9();
    for w in workers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "only {} entries acknowledged before the kill", acked.len());

    let server = RekorServer::start_on(dir.path(), &name, &[]);
    let http = client();
    let key = server.public_key(&http);
    for (id, index) in &acked {
        let resp =
            http.get(server.at(&format!("/api/v1/log/entries?logIndex={index}"))).send().unwrap();
        assert_eq!(resp.status().as_u16(), 200, "acknowledged entry {index} is gone");
        let map: Value = resp.json().unwrap();
        assert_eq!(&check_entry(&map, &key, &server.name), &(id.clone(), *index));
    }
    // The log still takes writes after recovery.
    let resp = http
        .post(server.at("/api/v1/log/entries"))
        .json(&hashedrekord(&signer(), b"after the crash"))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    eprintln!("crash test: {} acknowledged entries all present after kill -9", acked.len());
}
