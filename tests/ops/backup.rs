//! Online backup from a running `rekor-server` while clients write, restore into a new
//! directory, and a server on the restored store: its tree equals the backup's checkpoint,
//! its later checkpoints are consistent with every checkpoint served before the backup,
//! and the independent Python checker accepts its entries, checkpoint and consistency.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sigbox::crypto::PublicKey;
use sigbox::encoding::hex_decode;
use sigbox::tlog::{self, Hash, NoteVerifier};

use super::{log_cmd, Server};
use crate::rekor::server::{client, hashedrekord, signer};

fn hash(hex: &str) -> Hash {
    hex_decode(hex).unwrap().try_into().unwrap()
}

/// The clone's `.venv/bin/python` (installed by `make tools`), for the independent checker.
fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(python.exists(), "{} is missing: run `make tools` (make test does)", python.display());
    python
}

/// Runs `tests/rekor/independent_check.py` (shares no code with sigbox) on `input`.
fn independent_check(dir: &Path, input: &Value) -> (i32, String) {
    let path = dir.join("check-input.json");
    std::fs::write(&path, serde_json::to_vec(input).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rekor/independent_check.py");
    let out = std::process::Command::new(python()).arg(script).arg(&path).output().unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// The offset of part `name`'s first content byte in a backup file.
fn part_content_offset(bytes: &[u8], name: &str) -> usize {
    let mut header = (name.len() as u16).to_be_bytes().to_vec();
    header.extend_from_slice(name.as_bytes());
    let at = bytes.windows(header.len()).position(|w| w == header).expect("part header");
    at + header.len() + 4 // the first chunk's length
}

#[test]
fn online_backup_under_writes_restores_to_a_log_consistent_with_every_earlier_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a");
    let a = Server::start("rekor-server", &data, "127.0.0.1:0", &[]);
    let http = client();
    let pem = http.get(a.at("/api/v1/log/publicKey")).send().unwrap().text().unwrap();
    let key = PublicKey::from_pem(&pem).unwrap();

    // Writers that keep going until after the backup.
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (stop, acked, url) = (stop.clone(), acked.clone(), a.url.clone());
            std::thread::spawn(move || {
                let http = client();
                let s = signer();
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let resp = http
                        .post(format!("{url}/api/v1/log/entries"))
                        .json(&hashedrekord(&s, format!("writer {w} entry {i}").as_bytes()))
                        .send()
                        .unwrap();
                    assert_eq!(resp.status().as_u16(), 201);
                    acked.fetch_add(1, Ordering::SeqCst);
                    i += 1;
                }
            })
        })
        .collect();
    // Checkpoints served before the backup, polled while the writers write.
    let mut served = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.load(Ordering::SeqCst) < 60 {
        assert!(Instant::now() < deadline, "writers stalled");
        served.push(a.head(&http));
        std::thread::sleep(Duration::from_millis(20));
    }
    served.push(a.head(&http));
    let acked_before = acked.load(Ordering::SeqCst);
    let backup = dir.path().join("log.backup");
    let run = log_cmd()
        .args(["backup", "--include-keys", "--data-dir"])
        .arg(&data)
        .arg("--to")
        .arg(&backup)
        .succeeds()
        .stderr_has("warning");
    let out = run.stdout();
    assert!(out.contains("(online (admin socket))"), "{out}");
    let words: Vec<&str> = out.split_whitespace().collect();
    let (size, root) = (words[2].parse::<u64>().unwrap(), words[7].to_string());
    // Let the writers go on a little after the cut, then stop them.
    let after = Instant::now() + Duration::from_secs(60);
    while a.head(&http).0 <= size {
        assert!(Instant::now() < after, "no write after the backup");
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    assert!(acked.load(Ordering::SeqCst) > acked_before, "writes went on during the backup");
    let last_served = served.iter().map(|s| s.0).max().unwrap();
    assert!(
        size >= last_served,
        "backup at {size} is older than a served checkpoint {last_served}"
    );
    assert!(size < a.head(&http).0, "the log grew past the backup's cut");
    let a_name = a.name.clone();
    a.stop();

    // One flipped byte in the entries part: refused, naming the part; nothing restored.
    let mut bytes = std::fs::read(&backup).unwrap();
    let at = part_content_offset(&bytes, "entries") + 40;
    bytes[at] ^= 0x20;
    let damaged = dir.path().join("damaged.backup");
    std::fs::write(&damaged, &bytes).unwrap();
    let refused = dir.path().join("refused");
    log_cmd()
        .args(["restore"])
        .arg(&damaged)
        .arg("--data-dir")
        .arg(&refused)
        .fails_with(1)
        .stderr_has("backup part \"entries\": SHA-256 does not match");
    assert!(!refused.exists(), "a refused restore leaves nothing behind");

    let restored = dir.path().join("b");
    log_cmd()
        .arg("restore")
        .arg(&backup)
        .arg("--data-dir")
        .arg(&restored)
        .succeeds()
        .stdout_has(&format!("restored {size} rekor entries"))
        .stdout_has(&root);
    log_cmd()
        .arg("restore")
        .arg(&backup)
        .arg("--data-dir")
        .arg(&restored)
        .fails_with(2)
        .stderr_has("is not empty");
    log_cmd()
        .args(["fsck", "--verify-sets", "--data-dir"])
        .arg(&restored)
        .succeeds()
        .stdout_has(&format!("ok: {size} entries"));

    // A server on the restored store, under the same key name: its tree is the backup's.
    let b = Server::start("rekor-server", &restored, "127.0.0.1:0", &["--origin", &a_name]);
    let (b_size, b_root, b_checkpoint) = b.head(&http);
    assert_eq!((b_size, b_root.as_str()), (size, root.as_str()));
    let verifier = NoteVerifier::ecdsa(&a_name, key.clone()).unwrap();
    tlog::verify_checkpoint(&b_checkpoint, std::slice::from_ref(&verifier))
        .expect("same key, same name");
    // The restored search index finds a restored entry by its artifact digest.
    let first: Value =
        http.get(b.at("/api/v1/log/entries?logIndex=1")).send().unwrap().json().unwrap();
    let (uuid, e) = first.as_object().unwrap().iter().next().unwrap();
    let body: Value =
        serde_json::from_slice(&sigbox::encoding::b64_decode(e["body"].as_str().unwrap()).unwrap())
            .unwrap();
    let digest = body["spec"]["data"]["hash"]["value"].as_str().unwrap();
    let found: Value = http
        .post(b.at("/api/v1/index/retrieve"))
        .json(&json!({"hash": format!("sha256:{digest}")}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(found.to_string().contains(&uuid[16..]), "search after restore: {found}");
    for i in 0..5 {
        let resp = http
            .post(b.at("/api/v1/log/entries"))
            .json(&hashedrekord(&signer(), format!("after restore {i}").as_bytes()))
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201);
    }
    let (size2, root2, checkpoint2) = b.head(&http);
    assert_eq!(size2, size + 5);
    let cp = tlog::verify_checkpoint(&checkpoint2, &[verifier]).unwrap();
    assert_eq!(cp.checkpoint().root_hash, hash(&root2));
    // Every checkpoint A served before the backup is consistent with B's latest.
    let mut proofs = Vec::new();
    for (s, r, text) in served.iter().filter(|s| s.0 > 0) {
        let proof: Value = http
            .get(b.at(&format!("/api/v1/log/proof?firstSize={s}&lastSize={size2}")))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let hashes: Vec<Hash> =
            proof["hashes"].as_array().unwrap().iter().map(|h| hash(h.as_str().unwrap())).collect();
        tlog::verify_consistency(*s, size2, &hashes, &hash(r), &hash(&root2)).unwrap_or_else(|e| {
            panic!("checkpoint {s} of A is not consistent with B: {e}\n{text}")
        });
        proofs.push((*s, r.clone(), proof["hashes"].clone()));
    }
    assert!(!proofs.is_empty());

    // The independent checker: a restored entry and a new one, B's checkpoint, and the
    // consistency of A's earliest served checkpoint with B's head.
    let b_pem = http.get(b.at("/api/v1/log/publicKey")).send().unwrap().text().unwrap();
    assert_eq!(b_pem.trim(), pem.trim());
    let (s1, r1, hashes) = &proofs[0];
    let consistency =
        json!({"size1": s1, "root1": r1, "size2": size2, "root2": root2, "hashes": hashes});
    for index in [1, size - 1, size + 2] {
        let entry: Value = http
            .get(b.at(&format!("/api/v1/log/entries?logIndex={index}")))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let input = json!({"entry": entry, "publicKey": b_pem, "consistency": consistency});
        let (code, out) = independent_check(dir.path(), &input);
        assert_eq!(code, 0, "entry {index}: {out}");
        assert!(out.contains(&format!("consistent {s1} -> {size2}")), "{out}");
    }
    b.stop();
}
