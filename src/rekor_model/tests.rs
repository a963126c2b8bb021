use super::*;

/// Every tlog body of every public-good and staging bundle in `fixtures/bundle/`.
fn vector_bodies() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["valid", "staging"] {
        let path = format!("{}/fixtures/bundle/{dir}", env!("CARGO_MANIFEST_DIR"));
        for file in std::fs::read_dir(path).unwrap() {
            let file = file.unwrap().path();
            let Ok(value) = serde_json::from_slice::<Value>(&std::fs::read(&file).unwrap()) else {
                continue;
            };
            let Some(entries) =
                value.pointer("/verificationMaterial/tlogEntries").and_then(Value::as_array)
            else {
                continue;
            };
            for entry in entries {
                let body = entry["canonicalizedBody"].as_str().unwrap();
                let bytes = crate::encoding::b64_decode(body).unwrap();
                out.push((file.display().to_string(), bytes));
            }
        }
    }
    out
}

#[test]
fn every_vector_body_parses_and_serialises_back_byte_for_byte() {
    let bodies = vector_bodies();
    let mut kinds = std::collections::BTreeSet::new();
    for (name, bytes) in &bodies {
        let body = Body::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        kinds.insert(format!("{} {}", body.kind(), body.api_version()));
        let again = body.to_canonical().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&again),
            String::from_utf8_lossy(bytes),
            "{name}: the canonical form differs from the logged bytes"
        );
    }
    // The vectors hold every kind the public logs use.
    for kind in ["hashedrekord 0.0.1", "hashedrekord 0.0.2", "dsse 0.0.1", "intoto 0.0.2"] {
        assert!(kinds.contains(kind), "no vector of {kind}: {kinds:?}");
    }
}

#[test]
fn dsse_v002_round_trips() {
    let text = r#"{"apiVersion":"0.0.2","kind":"dsse","spec":{"dsseV002":{"payloadHash":{"algorithm":"SHA2_256","digest":"AAECAw=="},"signatures":[{"content":"BAUG","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{"rawBytes":"BwgJ"}}}]}}}"#;
    let body = Body::parse(text.as_bytes()).unwrap();
    let Body::DsseV002(spec) = &body else { panic!("{body:?}") };
    assert_eq!(spec.payload_hash.digest.as_slice(), &[0, 1, 2, 3]);
    assert_eq!(body.to_canonical().unwrap(), text.as_bytes());
}

#[test]
fn unknown_fields_kinds_and_shapes_are_refused() {
    let extra = br#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"00"}},"signature":{"content":"AA==","publicKey":{"content":"AA=="}},"extra":1}}"#;
    assert!(matches!(
        Body::parse(extra),
        Err(Error::Spec { kind: "hashedrekord", version: "0.0.1", ref reason }) if reason.contains("extra")
    ));
    let rekord = br#"{"apiVersion":"0.0.1","kind":"rekord","spec":{}}"#;
    assert_eq!(
        Body::parse(rekord),
        Err(Error::Unsupported { kind: "rekord".into(), version: "0.0.1".into() })
    );
    assert_eq!(Body::parse(b"[1]"), Err(Error::Envelope));
    assert_eq!(Body::parse(br#"{"kind":"dsse","spec":{}}"#), Err(Error::Envelope));
    let not_b64 = br#"{"apiVersion":"0.0.1","kind":"dsse","spec":{"envelopeHash":{"algorithm":"sha256","value":"00"},"payloadHash":{"algorithm":"sha256","value":"00"},"signatures":[{"signature":"AA==","verifier":"!!"}]}}"#;
    assert!(matches!(Body::parse(not_b64), Err(Error::Spec { kind: "dsse", .. })));
}

#[test]
fn hashedrekord_v001_built_from_parts_is_the_canonical_layout() {
    let digest = crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, b"hello");
    let body = Body::HashedRekordV001(HashedRekordV001::new(&digest, &[1, 2, 3], b"PEM"));
    let text = String::from_utf8(body.to_canonical().unwrap()).unwrap();
    assert_eq!(
        text,
        format!(
            r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"{}"}}}},"signature":{{"content":"AQID","publicKey":{{"content":"UEVN"}}}}}}}}"#,
            digest.to_hex()
        )
    );
}
