//! The Rekor v1 API over HTTP: create, duplicate, reads, search, proofs, tiles, error shapes.
//! The bodies take the store's flags: the same tests run on the embedded store (here) and on
//! PostgreSQL (`tests/postgres/api.rs`).

use serde_json::{json, Value};
use sigbox::crypto::Signer as _;
use sigbox::encoding::{b64_encode, hex_decode};
use sigbox::tlog::{self, Hash, NoteVerifier};

use super::server::{check_entry, client, hashedrekord, signer, RekorServer};

/// The body of [`rekor_create_returns_201_with_etag_location_set_and_checked_proof`] on a store given by `storage` (extra flags).
pub(crate) fn create_returns_201_with_etag_location_set_and_checked_proof(storage: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let server = RekorServer::start(dir.path(), storage);
    let http = client();
    let key = server.public_key(&http);
    let signer = signer();
    let resp = http
        .post(server.at("/api/v1/log/entries"))
        .json(&hashedrekord(&signer, b"artifact one"))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let map: Value = resp.json().unwrap();
    let (entry_id, index) = check_entry(&map, &key, &server.name);
    assert_eq!(etag, entry_id, "ETag is the map key, unquoted");
    assert_eq!(entry_id.len(), 80);
    assert_eq!(location, format!("/api/v1/log/entries/{entry_id}"));
    assert_eq!(index, 1, "index 0 holds the genesis entry");

    // Same entry by index, by 80-hex entry ID, by 64-hex UUID.
    for path in [
        format!("/api/v1/log/entries?logIndex={index}"),
        location.clone(),
        format!("/api/v1/log/entries/{}", &entry_id[16..]),
    ] {
        let resp = http.get(server.at(&path)).send().unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        let again: Value = resp.json().unwrap();
        assert_eq!(check_entry(&again, &key, &server.name), (entry_id.clone(), index));
    }
}

/// The body of [`rekor_duplicate_is_409_with_location_of_the_first`] on a store given by `storage` (extra flags).
pub(crate) fn duplicate_is_409_with_location_of_the_first(storage: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let server = RekorServer::start(dir.path(), storage);
    let http = client();
    let proposal = hashedrekord(&signer(), b"twice");
    let first = http.post(server.at("/api/v1/log/entries")).json(&proposal).send().unwrap();
    assert_eq!(first.status().as_u16(), 201);
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let second = http.post(server.at("/api/v1/log/entries")).json(&proposal).send().unwrap();
    assert_eq!(second.status().as_u16(), 409);
    assert_eq!(
        second.headers()["location"].to_str().unwrap(),
        format!("/api/v1/log/entries/{etag}")
    );
    let body: Value = second.json().unwrap();
    assert_eq!(body["code"], 409);
    assert_eq!(
        body["message"],
        format!("an equivalent entry already exists in the transparency log with UUID {etag}")
    );
    let info: Value = http.get(server.at("/api/v1/log")).send().unwrap().json().unwrap();
    assert_eq!(info["treeSize"], 2, "the duplicate added nothing");
}

/// The body of [`rekor_bad_requests_are_4xx_json_and_change_nothing`] on a store given by `storage` (extra flags).
pub(crate) fn bad_requests_are_4xx_json_and_change_nothing(storage: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let server = RekorServer::start(dir.path(), &[storage, &["--no-genesis"]].concat());
    let http = client();
    let s = signer();
    let mut wrong_sig = hashedrekord(&s, b"a");
    wrong_sig["spec"]["data"]["hash"]["value"] = json!("00".repeat(32));
    let cases: Vec<(&str, reqwest::blocking::RequestBuilder, u16)> = vec![
        (
            "signature over another digest",
            http.post(server.at("/api/v1/log/entries")).json(&wrong_sig),
            400,
        ),
        ("not JSON", http.post(server.at("/api/v1/log/entries")).body("{nope"), 400),
        (
            "unsupported kind",
            http.post(server.at("/api/v1/log/entries"))
                .json(&json!({"apiVersion":"0.0.1","kind":"rekord","spec":{}})),
            400,
        ),
        (
            "oversized body",
            http.post(server.at("/api/v1/log/entries")).body(vec![b' '; 200_000]),
            413,
        ),
        ("unknown index", http.get(server.at("/api/v1/log/entries?logIndex=99")), 404),
        ("index not a number", http.get(server.at("/api/v1/log/entries?logIndex=-1")), 400),
        ("malformed uuid", http.get(server.at("/api/v1/log/entries/xyz")), 400),
        (
            "unknown uuid",
            http.get(server.at(&format!("/api/v1/log/entries/{}", "ab".repeat(32)))),
            404,
        ),
        ("unknown route", http.get(server.at("/api/v2/nothing")), 404),
        ("proof from size 0", http.get(server.at("/api/v1/log/proof?firstSize=0&lastSize=1")), 400),
        (
            "proof past the tree",
            http.get(server.at("/api/v1/log/proof?firstSize=1&lastSize=5")),
            400,
        ),
        ("empty search", http.post(server.at("/api/v1/index/retrieve")).json(&json!({})), 400),
        ("tile past the tree", http.get(server.at("/tile/0/000")), 404),
    ];
    for (what, request, want) in cases {
        let resp = request.send().unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().unwrap_or_else(|e| panic!("{what}: body is not JSON: {e}"));
        assert_eq!(status, want, "{what}: {body}");
        assert_eq!(body["code"], want, "{what}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {body}");
    }
    let info: Value = http.get(server.at("/api/v1/log")).send().unwrap().json().unwrap();
    assert_eq!(info["treeSize"], 0);
}

/// The body of [`rekor_search_retrieve_consistency_and_tiles_agree`] on a store given by `storage` (extra flags).
pub(crate) fn search_retrieve_consistency_and_tiles_agree(storage: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let server = RekorServer::start(dir.path(), storage);
    let http = client();
    let key = server.public_key(&http);
    let s = signer();
    let mut ids = Vec::new();
    for i in 0..5 {
        let resp = http
            .post(server.at("/api/v1/log/entries"))
            .json(&hashedrekord(&s, format!("artifact {i}").as_bytes()))
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201);
        ids.push(resp.headers()["etag"].to_str().unwrap().to_string());
    }
    // Search by artifact digest and by public key.
    let d = sigbox::crypto::digest(sigbox::crypto::HashAlgorithm::Sha256, b"artifact 3");
    let found: Vec<String> = http
        .post(server.at("/api/v1/index/retrieve"))
        .json(&json!({"hash": format!("sha256:{}", d.to_hex())}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(found, vec![ids[3].clone()]);
    let by_key: Vec<String> = http
        .post(server.at("/api/v1/index/retrieve"))
        .json(&json!({"publicKey": {"format": "x509", "content": b64_encode(s.public_key().to_pem())}}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(by_key, ids);
    // Retrieve several by UUID and by index.
    let got: Vec<Value> = http
        .post(server.at("/api/v1/log/entries/retrieve"))
        .json(&json!({"entryUUIDs": [ids[0], ids[4]]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(got.len(), 2);
    for map in &got {
        check_entry(map, &key, &server.name);
    }
    let got: Vec<Value> = http
        .post(server.at("/api/v1/log/entries/retrieve"))
        .json(&json!({"logIndexes": [2, 3, 77]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(got.len(), 2, "missing indexes are skipped");

    // Consistency proof 2 -> 6 against the signed head.
    let info: Value = http.get(server.at("/api/v1/log")).send().unwrap().json().unwrap();
    assert_eq!(info["treeSize"], 6);
    let verifier = NoteVerifier::ecdsa(&server.name, key.clone()).unwrap();
    let head =
        tlog::verify_checkpoint(info["signedTreeHead"].as_str().unwrap(), &[verifier]).unwrap();
    assert_eq!(hex::encode(head.checkpoint().root_hash), info["rootHash"].as_str().unwrap());
    let first: Value = http
        .get(server.at("/api/v1/log/proof?firstSize=2&lastSize=2"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let root2: Hash = hex_decode(first["rootHash"].as_str().unwrap()).unwrap().try_into().unwrap();
    let proof: Value =
        http.get(server.at("/api/v1/log/proof?firstSize=2")).send().unwrap().json().unwrap();
    let hashes: Vec<Hash> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hex_decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
        .collect();
    let root6: Hash = hex_decode(proof["rootHash"].as_str().unwrap()).unwrap().try_into().unwrap();
    assert_eq!(root6, head.checkpoint().root_hash);
    tlog::verify_consistency(2, 6, &hashes, &root2, &root6).expect("consistency proof");

    // tlog-tiles: the checkpoint, a partial level-0 tile, and the entry bundle.
    let cp = http.get(server.at("/checkpoint")).send().unwrap().text().unwrap();
    assert_eq!(cp, info["signedTreeHead"].as_str().unwrap());
    let tile = http.get(server.at("/tile/0/000.p/6")).send().unwrap().bytes().unwrap();
    assert_eq!(tile.len(), 6 * 32);
    let bundle = http.get(server.at("/tile/entries/000.p/6")).send().unwrap().bytes().unwrap();
    let mut rest = &bundle[..];
    let mut leaves = Vec::new();
    while let Some((len, tail)) = rest.split_first_chunk::<2>() {
        let len = u16::from_be_bytes(*len) as usize;
        leaves.push(tlog::hash_leaf(&tail[..len]));
        rest = &tail[len..];
    }
    assert_eq!(leaves.len(), 6);
    assert_eq!(leaves.concat(), tile.to_vec(), "tile hashes are the entries' leaf hashes");
    let mut range = tlog::CompactRange::new();
    for l in &leaves {
        range.append(*l, |_, _| {}).unwrap();
    }
    assert_eq!(range.root(), head.checkpoint().root_hash);
}

/// The body of [`rekor_restart_keeps_entries_key_and_tree_id`] on a store given by `storage` (extra flags).
pub(crate) fn restart_keeps_entries_key_and_tree_id(storage: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let server = RekorServer::start(dir.path(), storage);
    let http = client();
    let key = server.public_key(&http);
    let resp = http
        .post(server.at("/api/v1/log/entries"))
        .json(&hashedrekord(&signer(), b"kept"))
        .send()
        .unwrap();
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    let name = server.name.clone();
    drop(server);
    let key_file = std::fs::metadata(dir.path().join("signer.key")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(key_file.permissions().mode() & 0o777, 0o600);

    let server = RekorServer::start_on(dir.path(), &name, storage);
    assert_eq!(server.public_key(&http), key);
    let map: Value =
        http.get(server.at(&format!("/api/v1/log/entries/{etag}"))).send().unwrap().json().unwrap();
    assert_eq!(check_entry(&map, &key, &server.name).0, etag);
    let info: Value = http.get(server.at("/api/v1/log")).send().unwrap().json().unwrap();
    assert_eq!(info["treeSize"], 2, "no second genesis entry");
}

#[test]
fn rekor_create_returns_201_with_etag_location_set_and_checked_proof() {
    create_returns_201_with_etag_location_set_and_checked_proof(&[]);
}

#[test]
fn rekor_duplicate_is_409_with_location_of_the_first() {
    duplicate_is_409_with_location_of_the_first(&[]);
}

#[test]
fn rekor_bad_requests_are_4xx_json_and_change_nothing() {
    bad_requests_are_4xx_json_and_change_nothing(&[]);
}

#[test]
fn rekor_search_retrieve_consistency_and_tiles_agree() {
    search_retrieve_consistency_and_tiles_agree(&[]);
}

#[test]
fn rekor_restart_keeps_entries_key_and_tree_id() {
    restart_keeps_entries_key_and_tree_id(&[]);
}

#[test]
fn rekor_server_with_an_ed25519_key_exits_2_naming_the_file() {
    use crate::harness::Sandbox;
    let sandbox = Sandbox::new();
    let ed = sigbox::crypto::Ed25519Signer::generate();
    let pem = sigbox::encoding::pem_encode("PRIVATE KEY", &ed.to_pkcs8_der().unwrap());
    let key = sandbox.write("ed.key", pem);
    sandbox
        .sigbox()
        .args(["rekor-server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(sandbox.join("data"))
        .arg("--signer-key")
        .arg(&key)
        .fails_with(2)
        .stderr_has("must hold an ECDSA P-256 key")
        .stderr_has("ed.key");
}

#[test]
fn rekor_server_second_instance_on_same_data_dir_exits_2() {
    use crate::harness::Sandbox;
    let sandbox = Sandbox::new();
    let _first = RekorServer::start(&sandbox.join("data"), &[]);
    sandbox
        .sigbox()
        .args(["rekor-server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(sandbox.join("data"))
        .fails_with(2)
        .stderr_has("opening the log");
}
