use super::*;
use crate::bundle::Checked;
use crate::crypto::Signer as _;
use serde_json::Value;

fn load(path: &str) -> Checked {
    let full = format!("{}/fixtures/bundle/{path}", env!("CARGO_MANIFEST_DIR"));
    Checked::from_json(&std::fs::read(full).unwrap()).unwrap()
}

/// Checks the vector's own body, then the body with `edit` applied.
fn check_with(path: &str, edit: impl FnOnce(&mut Value)) -> (Result<(), Error>, Result<(), Error>) {
    let bundle = load(path);
    let cert = bundle.certificate().unwrap();
    let artifact_digest = match bundle.content() {
        Content::MessageSignature { digest, .. } => digest.clone(),
        Content::Dsse { .. } => None,
    };
    let expected = Expected {
        content: bundle.content(),
        artifact_digest: artifact_digest.as_ref(),
        certificate_der: Some(cert.der()),
        key: cert.public_key(),
    };
    let mut entry = bundle.tlog_entries().first().unwrap().clone();
    let original = check_body(&entry, &expected);
    let mut body: Value = serde_json::from_slice(&entry.canonicalized_body).unwrap();
    edit(&mut body);
    entry.canonicalized_body = serde_json::to_vec(&body).unwrap();
    (original, check_body(&entry, &expected))
}

#[test]
fn dsse_payload_hash_mismatch_is_rejected() {
    let (ok, bad) = check_with("valid/bundleV03-dsse.sigstore", |b| {
        b["spec"]["payloadHash"]["value"] = "00".repeat(32).into();
    });
    assert!(ok.is_ok(), "{ok:?}");
    assert!(matches!(bad, Err(Error::BodyMismatch { field: "spec.payloadHash" })));
}

#[test]
fn intoto_signature_mismatch_is_rejected() {
    let (ok, bad) = check_with("valid/bundleV03-intoto.sigstore", |b| {
        let sigs = &mut b["spec"]["content"]["envelope"]["signatures"][0];
        sigs["sig"] = crate::encoding::b64_encode(crate::encoding::b64_encode(b"x")).into();
    });
    assert!(ok.is_ok(), "{ok:?}");
    assert!(matches!(bad, Err(Error::BodyMismatch { .. })), "{bad:?}");
}

#[test]
fn hashedrekord_v002_digest_mismatch_is_rejected() {
    let (ok, bad) = check_with("staging/staging-rekor-v2.txt.sigstore.json", |b| {
        b["spec"]["hashedRekordV002"]["data"]["digest"] =
            crate::encoding::b64_encode([0u8; 32]).into();
    });
    assert!(ok.is_ok(), "{ok:?}");
    assert!(matches!(bad, Err(Error::BodyMismatch { field: "spec.hashedRekordV002.data" })));
}

#[test]
fn hashedrekord_v002_wrong_key_details_is_rejected() {
    let (_, bad) = check_with("staging/staging-rekor-v2.txt.sigstore.json", |b| {
        b["spec"]["hashedRekordV002"]["signature"]["verifier"]["keyDetails"] =
            "PKIX_ED25519".into();
    });
    assert!(matches!(bad, Err(Error::BodyMismatch { field: "spec.hashedRekordV002.keyDetails" })));
}

#[test]
fn hashedrekord_other_public_key_is_rejected() {
    let (ok, bad) = check_with("valid/bundle_v3_github.whl.sigstore", |b| {
        let pem = crate::crypto::EcdsaP256Signer::generate().public_key().to_pem();
        b["spec"]["signature"]["publicKey"]["content"] = crate::encoding::b64_encode(pem).into();
    });
    assert!(ok.is_ok(), "{ok:?}");
    assert!(matches!(bad, Err(Error::BodyMismatch { field: "spec.signature.publicKey" })));
}

#[test]
fn kind_in_body_must_match_kind_version() {
    let (_, bad) = check_with("valid/bundle_v3_github.whl.sigstore", |b| {
        b["kind"] = "rekord".into();
    });
    assert!(matches!(bad, Err(Error::BodyMismatch { field: "kind/apiVersion" })));
}

#[test]
fn an_unknown_field_in_the_body_is_refused_by_the_shared_model() {
    let (ok, bad) = check_with("valid/bundle_v3_github.whl.sigstore", |b| {
        b["spec"]["signature"]["extra"] = "x".into();
    });
    assert!(ok.is_ok(), "{ok:?}");
    assert!(
        matches!(
            &bad,
            Err(Error::Body(crate::rekor_model::Error::Spec { kind: "hashedrekord", .. }))
        ),
        "{bad:?}"
    );
}

#[test]
fn an_intoto_body_cannot_vouch_for_a_message_signature() {
    let bundle = load("valid/bundle_v3_github.whl.sigstore");
    let intoto = load("valid/bundleV03-intoto.sigstore");
    let cert = bundle.certificate().unwrap();
    let Content::MessageSignature { digest, .. } = bundle.content() else { panic!() };
    let expected = Expected {
        content: bundle.content(),
        artifact_digest: digest.as_ref(),
        certificate_der: Some(cert.der()),
        key: cert.public_key(),
    };
    let entry = intoto.tlog_entries().first().unwrap();
    assert!(matches!(
        check_body(entry, &expected),
        Err(Error::KindMismatch { ref kind, .. }) if kind == "intoto"
    ));
}
