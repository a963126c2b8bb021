//! Entry kind tests against real bodies from `fixtures/rekor/`.

use serde_json::{json, Value};

use super::*;
use crate::crypto::{EcdsaP256Signer, HashAlgorithm, Signer};
use crate::encoding::b64_encode;
use crate::encoding::pem_encode;

fn bundle(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rekor").join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn b64(v: &Value) -> Vec<u8> {
    b64_decode(v.as_str().unwrap()).unwrap()
}

fn leaf_cert_pem(b: &Value) -> String {
    let vm = &b["verificationMaterial"];
    let raw = vm
        .pointer("/certificate/rawBytes")
        .or_else(|| vm.pointer("/x509CertificateChain/certificates/0/rawBytes"))
        .unwrap();
    pem_encode("CERTIFICATE", &b64(raw))
}

fn logged_body(b: &Value) -> Vec<u8> {
    b64(&b["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"])
}

#[test]
fn hashedrekord_rebuilds_the_public_good_body_byte_for_byte() {
    let b = bundle("bundle_v3_github.whl.sigstore");
    let digest = b64(&b["messageSignature"]["messageDigest"]["digest"]);
    let proposed = json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": hex_encode(&digest)}},
        "signature": {"content": b["messageSignature"]["signature"],
                      "publicKey": {"content": b64_encode(leaf_cert_pem(&b))}}}});
    let entry = canonicalize_proposed(&proposed).unwrap();
    assert_eq!(String::from_utf8(entry.body).unwrap(), String::from_utf8(logged_body(&b)).unwrap());
    assert!(entry.search_keys.contains(&format!("sha256:{}", hex_encode(&digest))));
    assert!(entry
        .search_keys
        .iter()
        .any(|k| k.starts_with("https://github.com/trailofbits/rfc8785.py/")));
}

#[test]
fn hashedrekord_with_another_digest_is_rejected() {
    let b = bundle("bundle_v3_github.whl.sigstore");
    let proposed = json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": "00".repeat(32)}},
        "signature": {"content": b["messageSignature"]["signature"],
                      "publicKey": {"content": b64_encode(leaf_cert_pem(&b))}}}});
    assert!(matches!(
        canonicalize_proposed(&proposed),
        Err(Error::EntrySignature { kind: "hashedrekord", .. })
    ));
}

#[test]
fn hashedrekord_with_uppercase_or_short_digest_is_invalid() {
    let signer = EcdsaP256Signer::generate();
    let pem = b64_encode(signer.public_key().to_pem());
    for value in ["AB".repeat(32), "ab".repeat(31)] {
        let proposed = json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": value}},
            "signature": {"content": "MEUCIQ==", "publicKey": {"content": pem}}}});
        assert!(matches!(canonicalize_proposed(&proposed), Err(Error::InvalidEntry(_))));
    }
}

#[test]
fn hashedrekord_with_public_key_reencodes_pem_and_keeps_signature() {
    let signer = EcdsaP256Signer::generate();
    let digest = crate::crypto::digest(HashAlgorithm::Sha256, b"artifact");
    let sig = signer.sign_prehashed(digest.as_bytes()).unwrap();
    // PEM with CRLF line ends and no final newline: stored re-encoded.
    let sloppy = signer.public_key().to_pem().replace('\n', "\r\n").trim_end().to_string();
    let proposed = json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": digest.to_hex()}},
        "signature": {"content": b64_encode(&sig), "publicKey": {"content": b64_encode(sloppy)}}}});
    let entry = canonicalize_proposed(&proposed).unwrap();
    let body: Value = serde_json::from_slice(&entry.body).unwrap();
    let stored_pem = b64(&body["spec"]["signature"]["publicKey"]["content"]);
    assert_eq!(stored_pem, signer.public_key().to_pem().into_bytes());
    assert_eq!(b64(&body["spec"]["signature"]["content"]), sig);
}

#[test]
fn intoto_rebuilds_the_public_good_body_byte_for_byte() {
    let b = bundle("bundleV03-intoto.sigstore");
    let env = &b["dsseEnvelope"];
    let logged: Value = serde_json::from_slice(&logged_body(&b)).unwrap();
    // sigstore-js sent the certificate PEM without a final newline; the body keeps it so.
    let client_key = &logged["spec"]["content"]["envelope"]["signatures"][0]["publicKey"];
    let sigs: Vec<Value> = env["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| json!({"sig": b64_encode(s["sig"].as_str().unwrap()), "publicKey": client_key, "keyid": s["keyid"]}))
        .collect();
    let proposed = json!({"apiVersion": "0.0.2", "kind": "intoto", "spec": {"content": {
        "envelope": {"payloadType": env["payloadType"],
                     "payload": b64_encode(env["payload"].as_str().unwrap()),
                     "signatures": sigs},
        "hash": logged["spec"]["content"]["hash"],
        "payloadHash": logged["spec"]["content"]["payloadHash"]}}});
    let entry = canonicalize_proposed(&proposed).unwrap();
    assert_eq!(String::from_utf8(entry.body).unwrap(), String::from_utf8(logged_body(&b)).unwrap());
}

#[test]
fn intoto_with_single_base64_signature_is_rejected() {
    let b = bundle("bundleV03-intoto.sigstore");
    let env = &b["dsseEnvelope"];
    let proposed = json!({"apiVersion": "0.0.2", "kind": "intoto", "spec": {"content": {
        "envelope": {"payloadType": env["payloadType"],
                     "payload": b64_encode(env["payload"].as_str().unwrap()),
                     "signatures": [{"sig": env["signatures"][0]["sig"],
                                     "publicKey": b64_encode(leaf_cert_pem(&b))}]}}}});
    assert!(canonicalize_proposed(&proposed).is_err());
}

#[test]
fn dsse_matches_the_public_good_payload_hash_and_signatures() {
    let b = bundle("bundleV03-dsse.sigstore");
    let envelope = b["dsseEnvelope"].to_string();
    let proposed = json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {"proposedContent": {
        "envelope": envelope, "verifiers": [b64_encode(leaf_cert_pem(&b))]}}});
    let entry = canonicalize_proposed(&proposed).unwrap();
    let ours: Value = serde_json::from_slice(&entry.body).unwrap();
    let logged: Value = serde_json::from_slice(&logged_body(&b)).unwrap();
    // envelopeHash covers the exact string the client sent, which the bundle does not keep.
    assert_eq!(ours["spec"]["payloadHash"], logged["spec"]["payloadHash"]);
    assert_eq!(ours["spec"]["signatures"], logged["spec"]["signatures"]);
    assert_eq!(
        ours["spec"]["envelopeHash"]["value"].as_str().unwrap(),
        hex_encode(sha256(envelope.as_bytes()))
    );
}

#[test]
fn dsse_signed_by_another_key_is_rejected() {
    let b = bundle("bundleV03-dsse.sigstore");
    let other = EcdsaP256Signer::generate();
    let proposed = json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {"proposedContent": {
        "envelope": b["dsseEnvelope"].to_string(),
        "verifiers": [b64_encode(other.public_key().to_pem())]}}});
    assert!(matches!(
        canonicalize_proposed(&proposed),
        Err(Error::EntrySignature { kind: "dsse", .. })
    ));
}

#[test]
fn unknown_kind_and_version_are_unsupported() {
    for (kind, version) in [("rekord", "0.0.1"), ("hashedrekord", "0.0.2"), ("dsse", "0.0.2")] {
        let proposed = json!({"apiVersion": version, "kind": kind, "spec": {}});
        assert!(matches!(canonicalize_proposed(&proposed), Err(Error::UnsupportedKind(_))));
    }
}

#[test]
fn public_good_set_verifies_over_our_set_payload() {
    let b = bundle("bundle_v3_github.whl.sigstore");
    let e = &b["verificationMaterial"]["tlogEntries"][0];
    let root = bundle("trusted_root.production.json");
    let key_der = b64(&root["tlogs"][0]["publicKey"]["rawBytes"]);
    let key = PublicKey::from_spki_der(&key_der).unwrap();
    let payload = crate::rekor::set_payload(
        e["canonicalizedBody"].as_str().unwrap(),
        e["integratedTime"].as_str().unwrap().parse().unwrap(),
        &key.key_id(),
        e["logIndex"].as_str().unwrap().parse().unwrap(),
    )
    .unwrap();
    let set = b64(&e["inclusionPromise"]["signedEntryTimestamp"]);
    assert!(key.verify(key.default_scheme(), &payload, &set).is_ok());
    let wrong =
        crate::rekor::set_payload(e["canonicalizedBody"].as_str().unwrap(), 1, &key.key_id(), 0)
            .unwrap();
    assert!(key.verify(key.default_scheme(), &wrong, &set).is_err());
}

fn v2_request(b: &Value, digest: &[u8], signature: &Value) -> Value {
    let cert = &b["verificationMaterial"]["certificate"]["rawBytes"];
    json!({"hashedRekordRequestV002": {
        "digest": b64_encode(digest),
        "signature": {"content": signature,
                      "verifier": {"x509Certificate": {"rawBytes": cert},
                                   "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}})
}

#[test]
fn v2_hashedrekord_rebuilds_the_staging_body_byte_for_byte() {
    let b = bundle("staging-rekor-v2.txt.sigstore.json");
    let digest = b64(&b["messageSignature"]["messageDigest"]["digest"]);
    let req = v2_request(&b, &digest, &b["messageSignature"]["signature"]);
    let entry = canonicalize_v2_request(&req).unwrap();
    assert_eq!(entry.api_version, "0.0.2");
    assert_eq!(String::from_utf8(entry.body).unwrap(), String::from_utf8(logged_body(&b)).unwrap());
}

#[test]
fn v2_dsse_is_logged_as_hashedrekord_over_pae() {
    let b = bundle("a.dsse.staging-rekor-v2.txt.sigstore.json");
    let env = &b["dsseEnvelope"];
    let payload = b64(&env["payload"]);
    let pae = crate::bundle::pae(env["payloadType"].as_str().unwrap(), &payload);
    let digest = sha256(&pae);
    let req = v2_request(&b, &digest, &env["signatures"][0]["sig"]);
    let entry = canonicalize_v2_request(&req).unwrap();
    assert_eq!(String::from_utf8(entry.body).unwrap(), String::from_utf8(logged_body(&b)).unwrap());
}

#[test]
fn v2_request_with_wrong_digest_length_or_signature_is_rejected() {
    let b = bundle("staging-rekor-v2.txt.sigstore.json");
    let digest = b64(&b["messageSignature"]["messageDigest"]["digest"]);
    let sig = &b["messageSignature"]["signature"];
    assert!(matches!(
        canonicalize_v2_request(&v2_request(&b, &digest[..31], sig)),
        Err(Error::InvalidEntry(_))
    ));
    let mut other = digest.clone();
    other[0] ^= 1;
    assert!(matches!(
        canonicalize_v2_request(&v2_request(&b, &other, sig)),
        Err(Error::EntrySignature { .. })
    ));
    assert!(matches!(
        canonicalize_v2_request(&json!({"dsseRequestV002": {}})),
        Err(Error::UnsupportedKind(_))
    ));
}
