//! `cargo bench --bench ops`: operating a log at 1M entries — `fsck` (with and without
//! every SET verified), backup to one file, restore into a new directory (which checks
//! every hash first, rebuilds entries, tree and indexes, and proves the root) — each as
//! time, entries/s and MB/s of record bytes, and the backup's size against the store's.
//!
//! The store is filled in-process with realistic Rekor records (a distinct hashedrekord
//! body and a real SET each, two search keys) by large direct commits, and a real signed
//! checkpoint, so every check does its full work. Figures are printed, not asserted.
//! `SIGBOX_BENCH_OPS_ENTRIES` (default 1000000) sizes the run.

use std::path::Path;
use std::time::Instant;

use sigbox::crypto::{digest, EcdsaP256Signer, HashAlgorithm, Signer};
use sigbox::encoding::{b64_encode, pem_encode};
use sigbox::ops::{self, LogKind};
use sigbox::rekor::{canonicalize_proposed, Record};
use sigbox::store::{Commit, CommittedEntry, LogStore};
use sigbox::tlog::{self, Checkpoint, CompactRange};

fn main() {
    let size: u64 = std::env::var("SIGBOX_BENCH_OPS_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let signer = EcdsaP256Signer::generate();
    let der = signer.to_pkcs8_der().unwrap();
    std::fs::write(data.join("signer.key"), pem_encode("PRIVATE KEY", &der)).unwrap();
    let record_bytes = fill(&data.join("db"), &signer, size);
    let store_bytes = du(&data.join("db"));
    println!(
        "store: {size} entries, {:.0} MB of records, {:.0} MB on disk ({:.0} bytes/entry)",
        mb(record_bytes),
        mb(store_bytes),
        store_bytes as f64 / size as f64
    );
    println!("load average at start: {}", load());

    let t = Instant::now();
    let checked = ops::fsck_data_dir(&data, Some(LogKind::Rekor), None, false, &mut |_, _| {})
        .expect("a healthy store passes");
    report("fsck", t, size, record_bytes);
    assert_eq!(checked.entries, size);

    let backup = dir.path().join("log.backup");
    let t = Instant::now();
    let key = LogKind::Rekor.public_key(&data).unwrap();
    ops::write_backup_file(
        &backup,
        |archive| {
            let store = LogStore::open_unindexed(&data.join("db")).unwrap();
            let info = ops::write_log_parts(&store, LogKind::Rekor, &key, archive, &mut |_, _| {});
            store.close().unwrap();
            let info = info?;
            ops::add_files(&data, LogKind::Rekor, true, None, archive)?;
            Ok(info)
        },
        |info| serde_json::json!({"size": info.size}),
    )
    .expect("backup");
    report("backup (offline, to one file, synced)", t, size, record_bytes);
    let backup_bytes = std::fs::metadata(&backup).unwrap().len();
    println!(
        "backup size: {:.0} MB = {:.2} of the store's {:.0} MB on disk ({:.2} of the record bytes)",
        mb(backup_bytes),
        backup_bytes as f64 / store_bytes as f64,
        mb(store_bytes),
        backup_bytes as f64 / record_bytes as f64
    );

    let t = Instant::now();
    ops::verify_backup(&backup).expect("hashes");
    report("  of which: checking every part's SHA-256", t, size, backup_bytes);
    let restored = dir.path().join("restored");
    let t = Instant::now();
    let r = ops::restore(&backup, &restored, None, &mut |_, _| {}).expect("restore");
    report("restore (hashes, entries, tree, indexes, root proven)", t, size, record_bytes);
    assert_eq!(r.root, checked.root);
    println!("restored store on disk: {:.0} MB", mb(du(&restored.join("db"))));

    let t = Instant::now();
    ops::fsck_data_dir(&restored, Some(LogKind::Rekor), None, true, &mut |_, _| {})
        .expect("the restored store passes with every SET");
    report("fsck --verify-sets (restored store)", t, size, record_bytes);
    println!("load average at end: {}", load());
}

/// Fills a store with `size` Rekor records; returns their total bytes.
fn fill(path: &Path, signer: &EcdsaP256Signer, size: u64) -> u64 {
    let template = proposal(signer);
    let entry = canonicalize_proposed(&template).unwrap();
    let body = String::from_utf8(entry.body.clone()).unwrap();
    let digest_hex = entry.search_keys.iter().find_map(|k| k.strip_prefix("sha256:")).unwrap();
    let log_id = signer.public_key().key_id();
    let store = LogStore::open(path).unwrap();
    let mut range = CompactRange::new();
    let mut bytes = 0u64;
    let start = Instant::now();
    while range.size() < size {
        let mut commit = Commit::default();
        for i in range.size()..(range.size() + 10_000).min(size) {
            let d = digest(HashAlgorithm::Sha256, &i.to_be_bytes()).to_hex();
            let body_i = body.replace(digest_hex, &d);
            let leaf = tlog::hash_leaf(body_i.as_bytes());
            range.append(leaf, |id, h| commit.nodes.push((id, *h))).unwrap();
            let record = Record::new(body_i.as_bytes(), 1_700_000_000, i, &log_id, signer)
                .unwrap()
                .to_bytes()
                .unwrap();
            bytes += record.len() as u64;
            let mut keys = entry.search_keys.clone();
            keys.retain(|k| !k.starts_with("sha256:"));
            keys.push(format!("sha256:{d}"));
            commit.entries.push(CommittedEntry {
                index: i,
                leaf_hash: leaf,
                record,
                search_keys: keys,
            });
        }
        let cp = Checkpoint {
            origin: "bench.log - 1".into(),
            size: range.size(),
            root_hash: range.root(),
            extensions: vec![],
        };
        commit.checkpoint = tlog::sign_checkpoint(&cp, "bench.log", signer).unwrap();
        store.commit(&commit).unwrap();
    }
    store.close().unwrap();
    eprintln!("(filled {size} entries with SETs in {:.1} s)", start.elapsed().as_secs_f64());
    bytes
}

fn proposal(signer: &EcdsaP256Signer) -> serde_json::Value {
    let d = digest(HashAlgorithm::Sha256, b"ops bench");
    let sig = signer.sign_prehashed(d.as_bytes()).unwrap();
    serde_json::json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": d.to_hex()}},
        "signature": {"content": b64_encode(sig),
                      "publicKey": {"content": b64_encode(signer.public_key().to_pem())}}}})
}

fn report(what: &str, t: Instant, entries: u64, bytes: u64) {
    let s = t.elapsed().as_secs_f64();
    println!("{what}: {s:.2} s, {:.0} entries/s, {:.1} MB/s", entries as f64 / s, mb(bytes) / s);
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// Bytes of the files under `path`.
fn du(path: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(path).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        total += if meta.is_dir() { du(&entry.path()) } else { meta.len() };
    }
    total
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim().to_string()
}
