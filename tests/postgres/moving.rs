//! `sigbox log export` and `sigbox log import`: a log written over HTTP to a sled
//! `rekor-server` moves to PostgreSQL and back, served by real servers each time. Checked:
//! the same checkpoint, root and entry bytes; searches still find entries; the log goes on
//! at the next index with checkpoints consistent with the moved one; a non-empty schema, a
//! wrong key and an existing directory are refused and leave everything as it was.

use std::path::Path;
use std::time::Instant;

use serde_json::{json, Value};
use sigbox::crypto::{EcdsaP256Signer, Signer as _};
use sigbox::encoding::{hex_decode, pem_encode};
use sigbox::tlog::{self, Hash};

use super::Postgres;
use crate::ops::{copy_dir, log_cmd};
use crate::rekor::server::{client, hashedrekord, signer, RekorServer};

/// The checkpoint key name every server of these tests is started with.
const NAME: &str = "move.test";

/// (tree size, root hex, signed checkpoint) from `GET /api/v1/log`.
fn head(server: &RekorServer, http: &reqwest::blocking::Client) -> (u64, String, String) {
    let v: Value = http.get(server.at("/api/v1/log")).send().unwrap().json().unwrap();
    (
        v["treeSize"].as_u64().expect("treeSize"),
        v["rootHash"].as_str().expect("rootHash").to_string(),
        v["signedTreeHead"].as_str().expect("signedTreeHead").to_string(),
    )
}

/// The raw answer to `GET /api/v1/log/entries?logIndex=INDEX`.
fn entry_bytes(server: &RekorServer, http: &reqwest::blocking::Client, index: u64) -> Vec<u8> {
    let resp =
        http.get(server.at(&format!("/api/v1/log/entries?logIndex={index}"))).send().unwrap();
    assert_eq!(resp.status().as_u16(), 200, "entry {index}");
    resp.bytes().unwrap().to_vec()
}

/// The one entry of a `LogEntry` map answer.
fn only_entry(bytes: &[u8]) -> Value {
    let map: Value = serde_json::from_slice(bytes).unwrap();
    map.as_object().and_then(|m| m.values().next()).cloned().expect("one entry")
}

/// Writes `n` hashedrekord entries for artifacts `"{tag} {i}"`; returns their UUIDs.
fn write(
    server: &RekorServer,
    http: &reqwest::blocking::Client,
    tag: &str,
    n: usize,
) -> Vec<String> {
    let s = signer();
    (0..n)
        .map(|i| {
            let resp = http
                .post(server.at("/api/v1/log/entries"))
                .json(&hashedrekord(&s, format!("{tag} {i}").as_bytes()))
                .send()
                .unwrap();
            assert_eq!(resp.status().as_u16(), 201);
            resp.headers()["etag"].to_str().unwrap().to_string()
        })
        .collect()
}

/// A sled `rekor-server` in `data` (key generated there) holding the genesis entry and
/// `n` more; stopped. Returns the head it served last.
fn sled_log(data: &Path, n: usize) -> ((u64, String, String), Vec<String>) {
    let server = RekorServer::start(data, &["--origin", NAME]);
    let http = client();
    let ids = write(&server, &http, "artifact", n);
    let served = head(&server, &http);
    assert!(server.stop(), "the sled server stops cleanly");
    (served, ids)
}

fn hash(hex: &str) -> Hash {
    hex_decode(hex).unwrap().try_into().unwrap()
}

/// A new P-256 key file at `path`.
fn key_file(path: &Path) {
    let key = EcdsaP256Signer::generate();
    std::fs::write(path, pem_encode("PRIVATE KEY", &key.to_pkcs8_der().unwrap())).unwrap();
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

#[test]
fn postgres_export_moves_a_sled_log_that_continues_on_postgres_and_imports_back() {
    let pg = Postgres::start();
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sled");
    let http = client();

    // A sled log of 51 entries (genesis + 50), its entries as served, then stopped.
    let server = RekorServer::start(&data, &["--origin", NAME]);
    let ids = write(&server, &http, "artifact", 50);
    let (size, root, checkpoint) = head(&server, &http);
    assert_eq!(size, 51);
    let before: Vec<Vec<u8>> = (0..size).map(|i| entry_bytes(&server, &http, i)).collect();
    assert!(server.stop());

    let started = Instant::now();
    let run = log_cmd()
        .args(["export", "--data-dir", path(&data), "--storage", &url, "--json"])
        .succeeds();
    let took = started.elapsed();
    let summary = run.stdout_json();
    assert_eq!(run.stdout().trim().lines().count(), 1, "one line of JSON");
    assert_eq!(summary["entries"], json!(size));
    assert_eq!(summary["size"], json!(size));
    assert_eq!(summary["root"], json!(root));
    assert!(summary["seconds"].as_f64().is_some());
    println!("export: {size} entries in {took:?} (command: {}s)", summary["seconds"]);

    // A server on PostgreSQL with the same key and name serves the same log.
    let key = data.join("signer.key");
    let on_pg = RekorServer::start(
        &dir.path().join("pg"),
        &["--storage", &url, "--signer-key", path(&key), "--origin", NAME],
    );
    let (pg_size, pg_root, pg_checkpoint) = head(&on_pg, &http);
    assert_eq!((pg_size, &pg_root), (size, &root), "same size and root");
    assert_eq!(pg_checkpoint, checkpoint, "the moved checkpoint is served as signed");
    for (i, bytes) in before.iter().enumerate() {
        assert_eq!(&entry_bytes(&on_pg, &http, i as u64), bytes, "entry {i} byte for byte");
    }
    let d = sigbox::crypto::digest(sigbox::crypto::HashAlgorithm::Sha256, b"artifact 17");
    let found: Vec<String> = http
        .post(on_pg.at("/api/v1/index/retrieve"))
        .json(&json!({"hash": format!("sha256:{}", d.to_hex())}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(found, vec![ids[17].clone()], "a search by hash finds the moved entry");
    let by_uuid = http.get(on_pg.at(&format!("/api/v1/log/entries/{}", ids[3]))).send().unwrap();
    assert_eq!(by_uuid.status().as_u16(), 200, "entry IDs (tree ID + leaf) still resolve");

    // The log goes on at the next index, consistent with the moved checkpoint.
    let new = write(&on_pg, &http, "after the move", 1);
    let entry = only_entry(&entry_bytes(&on_pg, &http, size));
    assert_eq!(entry["logIndex"], json!(size), "the next write gets the next index");
    assert!(new[0].ends_with(&hex::encode(tlog::hash_leaf(
        &sigbox::encoding::b64_decode(entry["body"].as_str().unwrap()).unwrap()
    ))));
    let (new_size, new_root, _) = head(&on_pg, &http);
    assert_eq!(new_size, size + 1);
    let proof: Value = http
        .get(on_pg.at(&format!("/api/v1/log/proof?firstSize={size}&lastSize={new_size}")))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let hashes: Vec<Hash> =
        proof["hashes"].as_array().unwrap().iter().map(|h| hash(h.as_str().unwrap())).collect();
    tlog::verify_consistency(size, new_size, &hashes, &hash(&root), &hash(&new_root))
        .expect("the new checkpoint is consistent with the moved one");
    let after_pg: Vec<Vec<u8>> = (0..new_size).map(|i| entry_bytes(&on_pg, &http, i)).collect();
    let pg_key = on_pg.public_key(&http).to_pem();
    assert!(on_pg.stop());

    // And back: import into a new directory, a sled server there serves the same tree.
    let back = dir.path().join("back");
    let started = Instant::now();
    let run = log_cmd()
        .args(["import", "--storage", &url, "--data-dir", path(&back)])
        .args(["--signer-key", path(&key), "--json"])
        .succeeds();
    let took = started.elapsed();
    let summary = run.stdout_json();
    assert_eq!(summary["entries"], json!(new_size));
    assert_eq!(summary["root"], json!(new_root));
    println!("import: {new_size} entries in {took:?}");
    let copied = back.join("signer.key");
    assert_eq!(std::fs::read(&copied).unwrap(), std::fs::read(&key).unwrap());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&copied).unwrap().permissions().mode() & 0o777, 0o600);
    let sled_again = RekorServer::start(&back, &["--origin", NAME]);
    let (s, r, _) = head(&sled_again, &http);
    assert_eq!((s, r), (new_size, new_root.clone()), "the imported store serves the same tree");
    for (i, bytes) in after_pg.iter().enumerate() {
        let (a, b) = (only_entry(bytes), only_entry(&entry_bytes(&sled_again, &http, i as u64)));
        for field in ["body", "integratedTime", "logID", "logIndex"] {
            assert_eq!(a[field], b[field], "entry {i}: {field}");
        }
        let set = "signedEntryTimestamp";
        assert_eq!(a["verification"][set], b["verification"][set], "entry {i}: SET");
    }
    assert_eq!(sled_again.public_key(&http).to_pem(), pg_key, "same identity");
    let moved_back = write(&sled_again, &http, "after the move back", 1);
    let entry = only_entry(&entry_bytes(&sled_again, &http, new_size));
    assert_eq!(entry["logIndex"], json!(new_size));
    assert_eq!(&moved_back[0][..16], &new[0][..16], "the same tree ID in entry IDs");
    assert!(sled_again.stop());
}

#[test]
fn postgres_export_into_a_non_empty_schema_is_refused_and_changes_nothing() {
    let pg = Postgres::start();
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    let http = client();
    // A log already on PostgreSQL: genesis + 2 entries.
    let key = dir.path().join("pg.key");
    key_file(&key);
    let args = ["--storage", url.as_str(), "--signer-key", path(&key), "--origin", NAME];
    let on_pg = RekorServer::start(&dir.path().join("pg"), &args);
    write(&on_pg, &http, "already there", 2);
    let (size, root, checkpoint) = head(&on_pg, &http);
    let entries: Vec<Vec<u8>> = (0..size).map(|i| entry_bytes(&on_pg, &http, i)).collect();
    assert!(on_pg.stop());

    let data = dir.path().join("sled");
    sled_log(&data, 5);
    let run = log_cmd()
        .args(["export", "--data-dir", path(&data), "--storage", &url])
        .fails_with(2)
        .stderr_has("schema rekor is not empty");
    assert!(run.stderr().contains("a tree of 3 entries"), "names what it found: {}", run.stderr());

    let on_pg = RekorServer::start(&dir.path().join("pg"), &args);
    assert_eq!(head(&on_pg, &http), (size, root, checkpoint), "the schema's log is unchanged");
    for (i, bytes) in entries.iter().enumerate() {
        assert_eq!(&entry_bytes(&on_pg, &http, i as u64), bytes, "entry {i} unchanged");
    }
    assert!(on_pg.stop());
}

#[test]
fn postgres_move_with_a_wrong_key_is_refused_and_writes_nothing() {
    let pg = Postgres::start();
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sled");
    let ((size, root, _), _) = sled_log(&data, 5);
    let other = dir.path().join("other.key");
    key_file(&other);

    // Export verified with another key: the checkpoint does not verify (exit 1).
    log_cmd()
        .args(["export", "--data-dir", path(&data), "--storage", &url])
        .args(["--signer-key", path(&other)])
        .fails_with(1)
        .stderr_has("does not verify");
    // A data directory whose key file is another key: the same.
    let swapped = copy_dir(&data, &dir.path().join("swapped"));
    std::fs::copy(&other, swapped.join("signer.key")).unwrap();
    log_cmd()
        .args(["export", "--data-dir", path(&swapped), "--storage", &url])
        .fails_with(1)
        .stderr_has("does not verify");

    // Nothing was written: the right key then exports into the still-empty schema.
    let summary = log_cmd()
        .args(["export", "--data-dir", path(&data), "--storage", &url, "--json"])
        .succeeds()
        .stdout_json();
    assert_eq!((summary["entries"].clone(), summary["root"].clone()), (json!(size), json!(root)));

    // Import with another key: refused, no directory left behind.
    let back = dir.path().join("back");
    log_cmd()
        .args(["import", "--storage", &url, "--data-dir", path(&back)])
        .args(["--signer-key", path(&other)])
        .fails_with(2)
        .stderr_has("is not the key of the log");
    assert!(!back.exists(), "a refused import leaves no directory");
    // Import into an existing non-empty directory: refused, the directory untouched.
    log_cmd()
        .args(["import", "--storage", &url, "--data-dir", path(&data)])
        .args(["--signer-key", path(&data.join("signer.key"))])
        .fails_with(2)
        .stderr_has("is not empty");
    assert!(data.join("db").is_dir() && data.join("signer.key").is_file());
    // The right key: the import succeeds.
    let summary = log_cmd()
        .args(["import", "--storage", &url, "--data-dir", path(&back), "--json"])
        .args(["--signer-key", path(&data.join("signer.key"))])
        .succeeds()
        .stdout_json();
    assert_eq!((summary["entries"].clone(), summary["root"].clone()), (json!(size), json!(root)));
    log_cmd().args(["fsck", "--data-dir", path(&back)]).succeeds();
}

/// Figures, not a speed goal: a 10,000-entry sled store (filled directly, real records,
/// SETs and checkpoint) exported and imported back; prints entries per second.
#[test]
fn postgres_export_and_import_of_10k_entries_prove_the_tree_and_print_their_speed() {
    use sigbox::encoding::b64_encode;
    use sigbox::store::{Commit, CommittedEntry, LogStore};
    const N: u64 = 10_000;
    let pg = Postgres::start();
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sled");
    std::fs::create_dir_all(&data).unwrap();
    let log_key = EcdsaP256Signer::generate();
    let key_path = data.join("signer.key");
    std::fs::write(&key_path, pem_encode("PRIVATE KEY", &log_key.to_pkcs8_der().unwrap())).unwrap();
    let key_id = log_key.public_key().key_id();
    let tree_id: u64 = 4_242_424_242;

    let store = LogStore::open(&data.join("db")).unwrap();
    store.set_meta("tree_id", &tree_id.to_be_bytes()).unwrap();
    let s = signer();
    let mut range = tlog::CompactRange::new();
    while range.size() < N {
        let mut commit = Commit::default();
        for i in range.size()..(range.size() + 1000).min(N) {
            let entry = sigbox::rekor::canonicalize_proposed(&hashedrekord(
                &s,
                format!("bulk artifact {i}").as_bytes(),
            ))
            .unwrap();
            let body = b64_encode(&entry.body);
            let payload = sigbox::rekor::set_payload(&body, 1_700_000_000, &key_id, i).unwrap();
            let set = b64_encode(log_key.sign(&payload).unwrap());
            let record =
                sigbox::rekor::Record { body, integrated_time: 1_700_000_000, log_index: i, set };
            let leaf = tlog::hash_leaf(&entry.body);
            range.append(leaf, |id, h| commit.nodes.push((id, *h))).unwrap();
            commit.entries.push(CommittedEntry {
                index: i,
                leaf_hash: leaf,
                record: record.to_bytes().unwrap(),
                search_keys: entry.search_keys,
            });
        }
        let cp = tlog::Checkpoint {
            origin: format!("{NAME} - {tree_id}"),
            size: range.size(),
            root_hash: range.root(),
            extensions: Vec::new(),
        };
        commit.checkpoint = tlog::sign_checkpoint(&cp, NAME, &log_key).unwrap();
        store.commit(&commit).unwrap();
    }
    store.close().unwrap();
    let root = hex::encode(range.root());

    let started = Instant::now();
    let summary = log_cmd()
        .args(["export", "--data-dir", path(&data), "--storage", &url, "--json"])
        .succeeds()
        .stdout_json();
    let export = started.elapsed();
    assert_eq!((summary["entries"].clone(), summary["root"].clone()), (json!(N), json!(root)));

    let back = dir.path().join("back");
    let started = Instant::now();
    let summary = log_cmd()
        .args(["import", "--storage", &url, "--data-dir", path(&back), "--json"])
        .succeeds()
        .stdout_json();
    let import = started.elapsed();
    assert_eq!((summary["entries"].clone(), summary["root"].clone()), (json!(N), json!(root)));
    assert!(!back.join("signer.key").exists(), "no key copied without --signer-key");
    log_cmd()
        .args(["fsck", "--data-dir", path(&back), "--verify-sets", "--public-key"])
        .arg(write_public_key(dir.path(), &log_key))
        .succeeds();
    println!(
        "{N} entries: export {:.2} s ({:.0} entries/s), import {:.2} s ({:.0} entries/s)",
        export.as_secs_f64(),
        N as f64 / export.as_secs_f64(),
        import.as_secs_f64(),
        N as f64 / import.as_secs_f64()
    );

    // A server on the exported schema serves the same tree.
    let on_pg = RekorServer::start(
        &dir.path().join("pg"),
        &["--storage", &url, "--signer-key", path(&key_path), "--origin", NAME],
    );
    let http = client();
    let (size, served_root, _) = head(&on_pg, &http);
    assert_eq!((size, served_root), (N, root));
    assert!(on_pg.stop());
}

/// Writes `key`'s public half to `dir/log.pub`; returns its path.
fn write_public_key(dir: &Path, key: &EcdsaP256Signer) -> std::path::PathBuf {
    let to = dir.join("log.pub");
    std::fs::write(&to, key.public_key().to_pem()).unwrap();
    to
}
