//! `rekor-server --tiles-dir`: the live export of a v1 log under concurrent writers and of
//! a v2 (Ed25519) log across a restart.

use serde_json::json;
use sigbox::crypto::{digest, HashAlgorithm, Signer as _};
use sigbox::encoding::b64_encode;
use sigbox::rekor::{service, LogVersion};

use super::{flip, read_tiles, snapshot, wait_for_size, write_v1_entries};
use crate::ops::copy_dir;
use crate::rekor::server::{client, signer, RekorServer};

#[test]
fn tiles_dir_of_a_v1_server_is_rebuilt_by_an_independent_reader_and_tampering_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let tiles = dir.path().join("tiles");
    let tiles_arg = tiles.to_str().unwrap();
    let server = RekorServer::start(
        &dir.path().join("data"),
        &["--tiles-dir", tiles_arg, "--tiles-interval-ms", "20"],
    );
    let http = client();
    // 300 entries and the genesis entry: a full level-0 tile, a partial one, level 1.
    write_v1_entries(&server.url, "tiles v1", 300);
    let head: serde_json::Value =
        http.get(server.at("/api/v1/log")).send().unwrap().json().unwrap();
    assert_eq!(head["treeSize"], 301);
    wait_for_size(&tiles, 301);
    let key_pem = http.get(server.at("/api/v1/log/publicKey")).send().unwrap().text().unwrap();

    let read = read_tiles(&tiles, &key_pem).unwrap_or_else(|e| panic!("reader: {e}"));
    assert_eq!(read["size"], 301);
    assert_eq!(read["root"], head["rootHash"], "the reader's root is the server's");
    // checkpoint, tile/0/000 + 001.p/45, their two bundles, tile/1/000.p/1.
    assert_eq!(read["files"], 6);

    // Every exported file is byte for byte what the server's own tile API serves. Besides
    // what the reader needs there are only the partial tiles of the sizes exported while
    // the writers ran (still valid for those checkpoints); none of a tile that is now full,
    // and no temporary files.
    let files = snapshot(&tiles);
    for needed in ["tile/0/000", "tile/0/001.p/45", "tile/1/000.p/1", "tile/entries/000"] {
        assert!(files.contains_key(needed), "{needed} missing: {:?}", files.keys());
    }
    for name in files.keys() {
        let older_partial = ["tile/0/001.p/", "tile/entries/001.p/", "tile/1/000.p/"]
            .iter()
            .any(|p| name.strip_prefix(p).is_some_and(|w| w.parse::<u8>().is_ok()));
        let needed = ["checkpoint", "tile/0/000", "tile/entries/000"].contains(&name.as_str());
        assert!(older_partial || needed, "unexpected file {name}");
    }
    for (name, (bytes, _)) in &files {
        let served = http.get(server.at(&format!("/{name}"))).send().unwrap();
        assert_eq!(served.status().as_u16(), 200, "{name}");
        assert_eq!(served.bytes().unwrap().as_ref(), bytes.as_slice(), "{name}");
    }
    assert!(server.stop(), "clean stop");

    // Tampering with any file is caught, and named.
    let cases: [(&str, usize, &str); 5] = [
        ("tile/0/000", 40, "tile/entries/000: entry 1 does not hash to its leaf in tile/0/000"),
        ("tile/entries/001.p/45", 30, "tile/entries/001.p/45: entry 256 does not hash"),
        ("tile/1/000.p/1", 0, "tile/1/000.p/1: hash 0 is not the Merkle hash of the tile below"),
        ("checkpoint", 30, "checkpoint: the ECDSA signature of 127.0.0.1:"),
        ("tile/0/001.p/45", 32 * 44, "tile/entries/001.p/45: entry 300 does not hash"),
    ];
    for (i, (name, at, named)) in cases.into_iter().enumerate() {
        let copy = copy_dir(&tiles, &dir.path().join(format!("tampered-{i}")));
        flip(&copy, name, at);
        let failed = read_tiles(&copy, &key_pem).expect_err(name);
        assert!(failed.contains(named), "{name}: {failed}");
    }
    let copy = copy_dir(&tiles, &dir.path().join("missing"));
    std::fs::remove_file(copy.join("tile/0/001.p/45")).unwrap();
    assert!(read_tiles(&copy, &key_pem).unwrap_err().contains("tile/0/001.p/45 is missing"));
    // Another key does not sign it.
    let other = signer().public_key().to_pem();
    assert!(read_tiles(&tiles, &other).unwrap_err().contains("no signature line by the log key"));
}

#[test]
fn tiles_dir_of_a_v2_server_carries_ed25519_checkpoints_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (data, tiles) = (dir.path().join("data"), dir.path().join("tiles"));
    let extra = ["--v2", "--tiles-dir", tiles.to_str().unwrap(), "--tiles-interval-ms", "20"];
    let http = client();
    let s = signer();
    let mut key_pem = String::new();
    for (round, count) in [(0, 5), (1, 260)] {
        let server = RekorServer::start(&data, &extra);
        if key_pem.is_empty() {
            let key = service::load_key(&data.join("signer.key"), LogVersion::V2).unwrap();
            key_pem = key.public_key().to_pem();
        }
        for i in 0..count {
            let d = digest(HashAlgorithm::Sha256, format!("v2 round {round} entry {i}").as_bytes());
            let sig = s.sign_prehashed(d.as_bytes()).unwrap();
            let request = json!({"hashedRekordRequestV002": {
                "digest": b64_encode(d.as_bytes()),
                "signature": {"content": b64_encode(&sig), "verifier": {
                    "publicKey": {"rawBytes": b64_encode(s.public_key().spki_der())},
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}});
            let resp = http.post(server.at("/api/v2/log/entries")).json(&request).send().unwrap();
            assert_eq!(resp.status().as_u16(), 201);
        }
        let size = if round == 0 { 5 } else { 265 };
        wait_for_size(&tiles, size);
        let served = http.get(server.at("/checkpoint")).send().unwrap().text().unwrap();
        assert!(server.stop(), "clean stop");
        // The final head is published by the time the server has exited.
        assert_eq!(std::fs::read_to_string(tiles.join("checkpoint")).unwrap(), served);
        let read = read_tiles(&tiles, &key_pem).unwrap_or_else(|e| panic!("reader: {e}"));
        assert_eq!(
            (read["size"].as_u64(), read["origin"].as_str()),
            (Some(size), Some("127.0.0.1"))
        );
        if round == 1 {
            // 5 → 265: tile 000 became full and its partials went; 001.p/9 is new.
            let after = snapshot(&tiles);
            assert!(!tiles.join("tile/0/000.p").exists(), "{:?}", after.keys());
            assert!(after.contains_key("tile/0/000") && after.contains_key("tile/0/001.p/9"));
            assert!(after.keys().all(|k| !k.contains(".tmp")), "{:?}", after.keys());
            // The stopped store exported offline into the same directory: already complete.
            let run = crate::ops::log_cmd()
                .args(["export-tiles", "--json", "--data-dir"])
                .arg(&data)
                .arg("--out")
                .arg(&tiles)
                .succeeds();
            let summary = run.stdout_json();
            assert_eq!(
                (summary["size"].as_u64(), summary["written"].as_u64()),
                (Some(265), Some(0))
            );
            assert_eq!(summary["checkpoint_written"], false, "{summary}");
            assert_eq!(snapshot(&tiles), after);
        }
    }
}
