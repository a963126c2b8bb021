//! `rekor-server --v2`: the Rekor v2 write API (hashedrekord 0.0.2, Ed25519 checkpoints,
//! no SET) and tile reads.

use serde_json::{json, Value};
use sigbox::crypto::{digest, HashAlgorithm, Signer as _};
use sigbox::encoding::{b64_decode, b64_encode};
use sigbox::rekor::{service, LogVersion};
use sigbox::tlog::{self, Hash, NoteVerifier};

use super::server::{client, signer, RekorServer};

fn b64(v: &Value) -> Vec<u8> {
    b64_decode(v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))).unwrap()
}

#[test]
fn rekor_v2_create_returns_a_bundle_entry_with_ed25519_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let server = RekorServer::start(dir.path(), &["--v2"]);
    let log_key = service::load_key(&dir.path().join("signer.key"), LogVersion::V2).unwrap();
    let verifier = NoteVerifier::ed25519("127.0.0.1", log_key.public_key().clone()).unwrap();
    let http = client();

    let s = signer();
    let d = digest(HashAlgorithm::Sha256, b"v2 artifact");
    let sig = s.sign_prehashed(d.as_bytes()).unwrap();
    let request = json!({"hashedRekordRequestV002": {
        "digest": b64_encode(d.as_bytes()),
        "signature": {"content": b64_encode(&sig), "verifier": {
            "publicKey": {"rawBytes": b64_encode(s.public_key().spki_der())},
            "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}});
    let resp = http.post(server.at("/api/v2/log/entries")).json(&request).send().unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let tle: Value = resp.json().unwrap();
    assert_eq!(tle["kindVersion"], json!({"kind": "hashedrekord", "version": "0.0.2"}));
    assert_eq!(tle["logIndex"], "0", "int64 as a string, written even when 0");
    assert!(tle.get("inclusionPromise").is_none() && tle.get("integratedTime").is_none(), "{tle}");
    assert_eq!(b64(&tle["logId"]["keyId"]), verifier.log_id().to_vec());

    let body = b64(&tle["canonicalizedBody"]);
    let body_json: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body_json["spec"]["hashedRekordV002"]["data"]["algorithm"], "SHA2_256");
    let leaf = tlog::hash_leaf(&body);
    let p = &tle["inclusionProof"];
    let hashes: Vec<Hash> =
        p["hashes"].as_array().unwrap().iter().map(|h| b64(h).try_into().unwrap()).collect();
    let root: Hash = b64(&p["rootHash"]).try_into().unwrap();
    let size: u64 = p["treeSize"].as_str().unwrap().parse().unwrap();
    tlog::verify_inclusion(0, size, &leaf, &hashes, &root).unwrap();
    let cp = tlog::verify_checkpoint(p["checkpoint"]["envelope"].as_str().unwrap(), &[verifier])
        .unwrap();
    assert_eq!(cp.checkpoint().origin, "127.0.0.1", "v2 origin is the bare host");
    assert_eq!((cp.checkpoint().size, cp.checkpoint().root_hash), (size, root));

    // Duplicate, v1 endpoints, and the tile holding the leaf.
    let again = http.post(server.at("/api/v2/log/entries")).json(&request).send().unwrap();
    assert_eq!(again.status().as_u16(), 409);
    let v1 = http.post(server.at("/api/v1/log/entries")).json(&json!({})).send().unwrap();
    assert_eq!(v1.status().as_u16(), 404);
    let tile = http.get(server.at("/tile/0/000.p/1")).send().unwrap().bytes().unwrap();
    assert_eq!(tile.to_vec(), leaf.to_vec());
    let text = http.get(server.at("/checkpoint")).send().unwrap().text().unwrap();
    assert_eq!(text, p["checkpoint"]["envelope"].as_str().unwrap());
}

#[test]
fn rekor_v2_bad_signature_is_400_and_logs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = RekorServer::start(dir.path(), &["--v2"]);
    let http = client();
    let s = signer();
    let d = digest(HashAlgorithm::Sha256, b"v2 artifact");
    let sig = s.sign_prehashed(digest(HashAlgorithm::Sha256, b"other").as_bytes()).unwrap();
    let request = json!({"hashedRekordRequestV002": {
        "digest": b64_encode(d.as_bytes()),
        "signature": {"content": b64_encode(&sig), "verifier": {
            "publicKey": {"rawBytes": b64_encode(s.public_key().spki_der())},
            "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}});
    let resp = http.post(server.at("/api/v2/log/entries")).json(&request).send().unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().unwrap();
    assert_eq!(body["code"], 400);
    assert_eq!(http.get(server.at("/tile/0/000.p/1")).send().unwrap().status().as_u16(), 404);
}
