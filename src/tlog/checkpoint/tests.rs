//! Checkpoint tests: formatting, parsing, signing round trips, and the real checkpoints in
//! `fixtures/checkpoint/` (Rekor v1 ECDSA, Rekor v2 Ed25519 with witness lines).

use super::*;
use crate::crypto::{EcdsaP256Signer, Ed25519Signer};

fn sample() -> Checkpoint {
    Checkpoint {
        origin: "127.0.0.1:3001 - 1".to_string(),
        size: 42,
        root_hash: [7u8; 32],
        extensions: vec!["Timestamp: 1700000000000000000".to_string()],
    }
}

#[test]
fn note_body_round_trips_through_parse() {
    let cp = sample();
    let body = cp.to_note_body();
    assert_eq!(
        body,
        "127.0.0.1:3001 - 1\n42\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n\
         Timestamp: 1700000000000000000\n"
    );
    assert_eq!(Checkpoint::parse_note_body(&body).unwrap(), cp);
}

#[test]
fn ecdsa_signed_checkpoint_verifies_and_uses_spki_key_id() {
    let signer = EcdsaP256Signer::generate();
    let note = sign_checkpoint(&sample(), "127.0.0.1:3001", &signer).unwrap();
    let v = NoteVerifier::ecdsa("127.0.0.1:3001", signer.public_key().clone()).unwrap();
    assert_eq!(v.key_id(), signer.public_key().key_id()[..4]);
    let verified = verify_checkpoint(&note, &[v]).unwrap();
    assert_eq!(verified.checkpoint(), &sample());
    assert_eq!(verified.signer_name(), "127.0.0.1:3001");
}

#[test]
fn ed25519_signed_checkpoint_verifies_and_tampering_fails() {
    let signer = Ed25519Signer::generate();
    let cp = Checkpoint { extensions: vec![], ..sample() };
    let note = sign_checkpoint(&cp, "log.example", &signer).unwrap();
    let v = NoteVerifier::ed25519("log.example", signer.public_key().clone()).unwrap();
    assert!(verify_checkpoint(&note, std::slice::from_ref(&v)).is_ok());
    let tampered = note.replacen("\n42\n", "\n43\n", 1);
    assert!(matches!(
        verify_checkpoint(&tampered, &[v]),
        Err(Error::BadSignature { ref name, .. }) if name == "log.example"
    ));
}

#[test]
fn ed25519_key_id_of_real_shard_matches_trusted_root_log_id() {
    // staging trusted_root.json: log2025-alpha3 logId.keyId = 09OnDKEw7/hpZiYV...
    let pem = std::fs::read_to_string(fixture("log2025-alpha3.rekor.sigstage.dev.pem")).unwrap();
    let key = PublicKey::from_pem(&pem).unwrap();
    let v = NoteVerifier::ed25519("log2025-alpha3.rekor.sigstage.dev", key).unwrap();
    assert_eq!(b64_encode(v.log_id()), "09OnDKEw7/hpZiYVPoTRzRbglHk0sylsUovegnRUlJY=");
}

#[test]
fn signing_with_a_name_containing_a_space_is_rejected() {
    let signer = EcdsaP256Signer::generate();
    assert!(matches!(
        sign_checkpoint(&sample(), "bad name", &signer),
        Err(Error::InvalidKeyName(_))
    ));
}

#[test]
fn multiline_origin_is_not_signed() {
    let signer = EcdsaP256Signer::generate();
    let cp = Checkpoint { origin: "a\n1".to_string(), ..sample() };
    assert!(matches!(
        sign_checkpoint(&cp, "a", &signer),
        Err(Error::MalformedCheckpoint { field: "origin" })
    ));
}

#[test]
fn bad_signature_from_known_key_fails_even_if_another_line_verifies() {
    let signer = EcdsaP256Signer::generate();
    let note = sign_checkpoint(&sample(), "log", &signer).unwrap();
    let good_line = note.rsplit_once("\n\n").unwrap().1;
    // A second line for the same key with a different (wrong) signature.
    let (head, b64) = good_line.trim_end().rsplit_once(' ').unwrap();
    let mut raw = b64_decode(b64).unwrap();
    let last = raw.len() - 3;
    raw[last] ^= 1;
    let forged = format!("{note}{head} {}\n", b64_encode(raw));
    let v = NoteVerifier::ecdsa("log", signer.public_key().clone()).unwrap();
    assert!(matches!(verify_checkpoint(&forged, &[v]), Err(Error::BadSignature { .. })));
}

#[test]
fn parse_rejects_noncanonical_bodies() {
    for (text, field) in [
        ("o\n42\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=", "final newline"),
        ("\n42\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n", "origin"),
        ("o\n+42\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n", "tree size"),
        ("o\n18446744073709551616\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n", "tree size"),
        ("o\n42\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBw==\n", "root hash"),
        ("o\n42\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc\n", "root hash"),
        ("o\n42\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n\n", "extension line"),
        ("o\n42\n", "root hash"),
    ] {
        match Checkpoint::parse_note_body(text) {
            Err(Error::MalformedCheckpoint { field: f }) => assert_eq!(f, field, "{text:?}"),
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn fixture_checkpoints_give_their_recorded_verdicts() {
    let dir = fixture("");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "only {} checkpoint fixtures", files.len());
    for path in files {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let verifiers: Vec<NoteVerifier> = v["verifiers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                let pem = std::fs::read_to_string(fixture(k["key"].as_str().unwrap())).unwrap();
                let key = PublicKey::from_pem(&pem).unwrap();
                NoteVerifier::for_key(k["name"].as_str().unwrap(), key).unwrap()
            })
            .collect();
        let result = verify_checkpoint(v["note"].as_str().unwrap(), &verifiers);
        let got = match &result {
            Ok(_) => "ok",
            Err(Error::BadSignature { .. }) => "BadSignature",
            Err(Error::KeyHintMismatch { .. }) => "KeyHintMismatch",
            Err(Error::NoTrustedSignature { .. }) => "NoTrustedSignature",
            Err(Error::MalformedNote(_)) => "MalformedNote",
            Err(Error::MalformedSignatureLine { .. }) => "MalformedSignatureLine",
            Err(Error::MalformedCheckpoint { .. }) => "MalformedCheckpoint",
            Err(other) => panic!("{}: unexpected {other}", path.display()),
        };
        assert_eq!(got, v["want"].as_str().unwrap(), "{}: {result:?}", path.display());
        if let Err(Error::KeyHintMismatch { .. }) = &result {
            assert!(result.as_ref().unwrap_err().to_string().contains("key hint mismatch"));
        }
    }
}

#[test]
fn real_v1_checkpoint_reports_its_size_and_root() {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("rekor-v1-valid.json")).unwrap()).unwrap();
    let pem = std::fs::read_to_string(fixture("rekor.sigstore.dev.pem")).unwrap();
    let key = PublicKey::from_pem(&pem).unwrap();
    let verifier = NoteVerifier::ecdsa("rekor.sigstore.dev", key).unwrap();
    let verified = verify_checkpoint(v["note"].as_str().unwrap(), &[verifier]).unwrap();
    let cp = verified.checkpoint();
    assert_eq!(cp.origin, "rekor.sigstore.dev - 2605736670972794746");
    assert_eq!(cp.size, 75441653);
    assert_eq!(b64_encode(cp.root_hash), "uAqI3id6JHPMMNUltHIKHuX1kVHpm5y7jSfnbaRO+E4=");
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/checkpoint").join(name)
}
