//! `sigbox log fsck` and `rekor-server --verify-on-start` on a healthy store and on copies
//! damaged on purpose (through sled directly, as a disk or a hand edit would): a flipped
//! byte in an entry, a missing entry, a wrong index entry — each named, exit 1.

use std::path::Path;

use super::{copy_dir, log_cmd, Server};
use crate::rekor::server::{client, hashedrekord, signer};

/// sled key of entry `index` (store layout: `e` + big-endian index).
fn entry_key(index: u64) -> Vec<u8> {
    let mut k = vec![b'e'];
    k.extend_from_slice(&index.to_be_bytes());
    k
}

/// Opens a stopped server's store with sled itself, changes it, and flushes.
fn damage(data_dir: &Path, change: impl FnOnce(&sled::Tree)) {
    let db = sled::open(data_dir.join("db")).expect("opening the copied store with sled");
    let tree = db.open_tree("log").unwrap();
    change(&tree);
    db.flush().unwrap();
}

/// Flips the bytes of entry `index`'s leaf hash in the lookup-index record that holds it
/// (record layout: per entry, 32-byte leaf hash, key count, 16 bytes a key).
fn flip_index_leaf(tree: &sled::Tree, index: u64) {
    for item in tree.scan_prefix(b"x") {
        let (k, v) = item.unwrap();
        let mut first = u64::from_be_bytes(k[1..9].try_into().unwrap());
        let mut at = 0usize;
        while at < v.len() {
            let keys = usize::from(v[at + 32]);
            if first == index {
                let mut changed = v.to_vec();
                changed[at] ^= 0xff;
                tree.insert(k, changed).unwrap();
                return;
            }
            at += 33 + 16 * keys;
            first += 1;
        }
    }
    panic!("no index record holds entry {index}");
}

#[test]
fn fsck_passes_a_healthy_store_and_names_a_flipped_entry_a_missing_entry_and_a_wrong_index() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start("rekor-server", &data, "127.0.0.1:0", &[]);
    let http = client();
    let s = signer();
    for i in 0..20 {
        let resp = http
            .post(server.at("/api/v1/log/entries"))
            .json(&hashedrekord(&s, format!("fsck {i}").as_bytes()))
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201);
    }
    server.stop();

    let run = log_cmd().args(["fsck", "--data-dir"]).arg(&data).succeeds();
    assert!(run.stdout().starts_with("ok: 21 entries"), "{}", run.stdout());
    log_cmd().args(["fsck", "--verify-sets", "--data-dir"]).arg(&data).succeeds();

    // A flipped byte at the end of entry 5's record (its body).
    let flipped = copy_dir(&data, &dir.path().join("flipped"));
    damage(&flipped, |t| {
        let mut v = t.get(entry_key(5)).unwrap().unwrap().to_vec();
        let last = v.len() - 1;
        v[last] ^= 0x01;
        t.insert(entry_key(5), v).unwrap();
    });
    log_cmd().args(["fsck", "--data-dir"]).arg(&flipped).fails_with(1).stderr_has(
        "entry 5: its content does not hash to its leaf hash in the index and the tree",
    );

    // A flipped byte in entry 8's integrated time: the leaf is intact, the SET is not.
    let timed = copy_dir(&data, &dir.path().join("timed"));
    damage(&timed, |t| {
        let mut v = t.get(entry_key(8)).unwrap().unwrap().to_vec();
        v[8] ^= 0x01; // version byte, then the 8-byte integrated time
        t.insert(entry_key(8), v).unwrap();
    });
    log_cmd()
        .args(["fsck", "--verify-sets", "--data-dir"])
        .arg(&timed)
        .fails_with(1)
        .stderr_has("entry 8: its signed entry timestamp does not verify");

    let missing = copy_dir(&data, &dir.path().join("missing"));
    damage(&missing, |t| {
        t.remove(entry_key(7)).unwrap().expect("entry 7 was stored");
    });
    log_cmd()
        .args(["fsck", "--data-dir"])
        .arg(&missing)
        .fails_with(1)
        .stderr_has("entry 7: missing");

    let wrong_index = copy_dir(&data, &dir.path().join("index"));
    damage(&wrong_index, |t| flip_index_leaf(t, 9));
    log_cmd()
        .args(["fsck", "--data-dir"])
        .arg(&wrong_index)
        .fails_with(1)
        .stderr_has("index entry 9: its leaf hash is not the hash of entry 9");

    // The server refuses to start on a damaged store with --verify-on-start, naming it...
    let out = std::process::Command::new(crate::harness::sigbox_bin())
        .args(["rekor-server", "--listen", "127.0.0.1:0", "--verify-on-start", "--data-dir"])
        .arg(&missing)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("entry 7: missing"), "{stderr}");
    // ...and starts on the healthy one.
    let server = Server::start("rekor-server", &data, "127.0.0.1:0", &["--verify-on-start"]);
    assert_eq!(server.head(&client()).0, 21);
    server.stop();
}
