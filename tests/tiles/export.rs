//! `sigbox log export-tiles` on a stopped store: incremental (a second run writes nothing,
//! a grown log only its new and changed files), read back by the independent reader, and
//! refused with the problem named for a running server, a missing or damaged store, and a
//! directory holding another log's tiles.

use std::path::Path;

use super::{read_tiles, snapshot, write_v1_entries};
use crate::harness::process::Process;
use crate::ops::{copy_dir, log_cmd, Server};
use crate::rekor::server::client;

/// `sigbox log export-tiles --json`: its summary.
fn export(data: &Path, out: &Path) -> serde_json::Value {
    log_cmd()
        .args(["export-tiles", "--json", "--data-dir"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .succeeds()
        .stdout_json()
}

/// Runs a server on `data` long enough to log `n` more entries; returns its public key.
fn grow(data: &Path, tag: &str, n: usize) -> String {
    let server = Server::start("rekor-server", data, "127.0.0.1:0", &[]);
    write_v1_entries(&server.url, tag, n);
    let pem = client().get(server.at("/api/v1/log/publicKey")).send().unwrap().text().unwrap();
    server.stop();
    pem
}

#[test]
fn export_tiles_is_incremental_and_read_back_by_the_independent_reader() {
    let dir = tempfile::tempdir().unwrap();
    let (data, out) = (dir.path().join("data"), dir.path().join("tiles"));
    let key_pem = grow(&data, "export", 300);

    let first = export(&data, &out);
    // tile/0/000 and 001.p/45, their bundles, tile/1/000.p/1; and the checkpoint.
    assert_eq!(first["size"], 301);
    assert_eq!((first["written"].as_u64(), first["skipped"].as_u64()), (Some(5), Some(0)));
    assert_eq!(first["checkpoint_written"], true);
    let read = read_tiles(&out, &key_pem).unwrap_or_else(|e| panic!("reader: {e}"));
    assert_eq!((read["size"].as_u64(), &read["root"]), (Some(301), &first["root"]));
    let before = snapshot(&out);

    // Served as they are by a plain static web server, the files read the same.
    let mut command = std::process::Command::new(super::python());
    command.args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory"]);
    command.arg(&out).arg("0");
    let mut web = Process::spawn(command, None);
    let line = web.wait_for(|l| l.starts_with("Serving HTTP on")).pop().unwrap_or_default();
    let port = line.split_whitespace().nth(5).unwrap_or_else(|| panic!("no port in {line:?}"));
    let over_http = read_tiles(format!("http://127.0.0.1:{port}/"), &key_pem)
        .unwrap_or_else(|e| panic!("reader over HTTP: {e}"));
    assert_eq!(over_http["root"], first["root"]);
    web.kill();

    // Again: nothing is written, not even the checkpoint (same bytes, same times).
    let second = export(&data, &out);
    assert_eq!((second["written"].as_u64(), second["skipped"].as_u64()), (Some(0), Some(5)));
    assert_eq!(
        (second["checkpoint_written"].as_bool(), second["bytes"].as_u64()),
        (Some(false), Some(0))
    );
    assert_eq!(snapshot(&out), before, "a second export changes no file");

    // 300 more entries: only the new full tile 001 (and bundle), the new partials and the
    // checkpoint are written; the superseded partials 001.p/45 go; tile 000 is untouched.
    grow(&data, "export more", 300);
    let third = export(&data, &out);
    assert_eq!(third["size"], 601);
    assert_eq!((third["written"].as_u64(), third["removed"].as_u64()), (Some(5), Some(2)));
    let after = snapshot(&out);
    let changed: Vec<&str> = after
        .iter()
        .filter(|(name, v)| before.get(*name) != Some(v))
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        changed,
        [
            "checkpoint",
            "tile/0/001",
            "tile/0/002.p/89",
            "tile/1/000.p/2",
            "tile/entries/001",
            "tile/entries/002.p/89"
        ]
    );
    let gone: Vec<&str> =
        before.keys().filter(|k| !after.contains_key(*k)).map(String::as_str).collect();
    assert_eq!(gone, ["tile/0/001.p/45", "tile/entries/001.p/45"]);
    let read = read_tiles(&out, &key_pem).unwrap_or_else(|e| panic!("reader: {e}"));
    assert_eq!((read["size"].as_u64(), &read["root"]), (Some(601), &third["root"]));

    // The human summary.
    log_cmd()
        .args(["export-tiles", "--data-dir"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .succeeds()
        .stdout_has("exported 601 entries")
        .stdout_has("0 files written, 7 already present");
}

#[test]
fn export_tiles_refuses_running_missing_and_damaged_stores_and_other_logs_tiles() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    grow(&data, "refusals", 20);
    let out = dir.path().join("tiles");
    export(&data, &out);
    let cmd = |data: &Path, out: &Path| {
        log_cmd().args(["export-tiles", "--data-dir"]).arg(data).arg("--out").arg(out)
    };

    // A running server holds the store: use its --tiles-dir instead.
    let server = Server::start("rekor-server", &data, "127.0.0.1:0", &[]);
    cmd(&data, &out).fails_with(2).stderr_has("a server runs on").stderr_has("--tiles-dir");
    server.stop();

    cmd(&dir.path().join("nothing"), &out).fails_with(2).stderr_has("holds no log store");

    // A store whose checkpoint another key signed.
    let rekeyed = copy_dir(&data, &dir.path().join("rekeyed"));
    let other = dir.path().join("other");
    grow(&other, "other", 30);
    std::fs::copy(other.join("signer.key"), rekeyed.join("signer.key")).unwrap();
    cmd(&rekeyed, &dir.path().join("t-rekeyed"))
        .fails_with(1)
        .stderr_has("the latest checkpoint does not verify with the log key");

    // A flipped byte in entry 5's stored body: its bundle would not match its leaf hash.
    let flipped = copy_dir(&data, &dir.path().join("flipped"));
    {
        let db = sled::open(flipped.join("db")).unwrap();
        let tree = db.open_tree("log").unwrap();
        let mut key = vec![b'e'];
        key.extend_from_slice(&5u64.to_be_bytes());
        let mut v = tree.get(&key).unwrap().unwrap().to_vec();
        let last = v.len() - 1;
        v[last] ^= 0x01;
        tree.insert(key, v).unwrap();
        db.flush().unwrap();
    }
    let fresh = dir.path().join("t-flipped");
    cmd(&flipped, &fresh)
        .fails_with(1)
        .stderr_has("tile/entries/000.p/21: entry 5 does not hash to its leaf hash in the tree");
    assert!(!fresh.join("checkpoint").exists(), "nothing is published from a damaged store");

    // Another log's tiles are not overwritten, whether that log is larger or smaller.
    cmd(&other, &out).fails_with(2).stderr_has("publishes another tree");
    let other_out = dir.path().join("other-tiles");
    export(&other, &other_out);
    cmd(&data, &other_out).fails_with(2).stderr_has("larger than this log's 21");
}
