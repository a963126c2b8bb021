//! Checks a tlog entry's canonicalized body against the bundle it came in (PROTOCOLS §9
//! step 2d). This stops an attacker from pairing a valid, logged entry with another
//! signature, key or artifact (CVE-2022-36056 style).
//!
//! Bodies are parsed with `serde_json::Value` and compared field by field; they are never
//! re-serialized (the leaf hash covers the exact bytes, checked elsewhere).

use serde_json::Value;

use crate::bundle::{pae, Content, LogEntry};
use crate::crypto::{digest, Digest, HashAlgorithm, KeyKind, PublicKey, SignatureScheme};
use crate::encoding::{b64_decode, hex_encode, pem_decode_all};
use crate::verify::Error;

/// What the body must agree with.
pub(crate) struct Expected<'a> {
    /// The signed content.
    pub content: &'a Content,
    /// The artifact digest (message signatures only; `None` for DSSE).
    pub artifact_digest: Option<&'a Digest>,
    /// The leaf certificate DER, for keyless bundles.
    pub certificate_der: Option<&'a [u8]>,
    /// The verification key.
    pub key: &'a PublicKey,
}

/// Checks `entry.canonicalized_body` against `expected`.
///
/// Errors: [`Error::BodyMalformed`] when the body is not the JSON its kind needs,
/// [`Error::BodyMismatch`] naming the field that differs, [`Error::KindMismatch`] when the
/// entry kind cannot hold this content.
pub(crate) fn check_body(entry: &LogEntry, expected: &Expected<'_>) -> Result<(), Error> {
    let body: Value = serde_json::from_slice(&entry.canonicalized_body)
        .map_err(|_| Error::BodyMalformed { field: "body" })?;
    let field = |path: &[&str]| -> Option<&Value> {
        path.iter().try_fold(&body, |value, key| value.get(*key))
    };
    if field(&["kind"]).and_then(Value::as_str) != Some(entry.kind.as_str())
        || field(&["apiVersion"]).and_then(Value::as_str) != Some(entry.version.as_str())
    {
        return Err(Error::BodyMismatch { field: "kind/apiVersion" });
    }
    match (entry.kind.as_str(), entry.version.as_str(), expected.content) {
        ("hashedrekord", "0.0.1", Content::MessageSignature { signature, .. }) => {
            let spec = field(&["spec"]).ok_or(Error::BodyMalformed { field: "spec" })?;
            let digest = expected.artifact_digest.ok_or(Error::ArtifactRequired)?;
            let algorithm = str_at(spec, &["data", "hash", "algorithm"])?;
            let value = str_at(spec, &["data", "hash", "value"])?;
            if HashAlgorithm::from_name(algorithm) != Some(digest.algorithm())
                || !value.eq_ignore_ascii_case(&digest.to_hex())
            {
                return Err(Error::BodyMismatch { field: "spec.data.hash" });
            }
            if b64_at(spec, &["signature", "content"])? != *signature {
                return Err(Error::BodyMismatch { field: "spec.signature.content" });
            }
            let pem = b64_at(spec, &["signature", "publicKey", "content"])?;
            check_pem_key(&pem, expected, "spec.signature.publicKey")
        }
        ("hashedrekord", "0.0.2", content) => {
            let spec = field(&["spec", "hashedRekordV002"])
                .ok_or(Error::BodyMalformed { field: "spec.hashedRekordV002" })?;
            let (want_digest, signature) = match content {
                Content::MessageSignature { signature, .. } => {
                    (expected.artifact_digest.ok_or(Error::ArtifactRequired)?.clone(), signature)
                }
                Content::Dsse { payload_type, payload, signature, .. } => {
                    (digest(HashAlgorithm::Sha256, &pae(payload_type, payload)), signature)
                }
            };
            let algorithm = str_at(spec, &["data", "algorithm"])?;
            if HashAlgorithm::from_name(algorithm) != Some(want_digest.algorithm())
                || b64_at(spec, &["data", "digest"])? != want_digest.as_bytes()
            {
                return Err(Error::BodyMismatch { field: "spec.hashedRekordV002.data" });
            }
            if b64_at(spec, &["signature", "content"])? != *signature {
                return Err(Error::BodyMismatch { field: "spec.hashedRekordV002.signature" });
            }
            let verifier = spec
                .get("signature")
                .and_then(|s| s.get("verifier"))
                .ok_or(Error::BodyMalformed { field: "signature.verifier" })?;
            let matches = if let Some(cert) = verifier.get("x509Certificate") {
                Some(b64_at(cert, &["rawBytes"])?.as_slice()) == expected.certificate_der
            } else if let Some(key) = verifier.get("publicKey") {
                expected.certificate_der.is_none()
                    && b64_at(key, &["rawBytes"])? == expected.key.spki_der()
            } else {
                false
            };
            if !matches {
                return Err(Error::BodyMismatch { field: "spec.hashedRekordV002.verifier" });
            }
            // keyDetails must name a scheme this key can use (P-256 key, PKIX_ECDSA_P256_...).
            let details = str_at(verifier, &["keyDetails"])?;
            let fits = SignatureScheme::from_key_details(details).is_some_and(|scheme| {
                match (expected.key.kind(), scheme) {
                    (
                        KeyKind::EcdsaP256 | KeyKind::EcdsaP384,
                        SignatureScheme::EcdsaSha256
                        | SignatureScheme::EcdsaSha384
                        | SignatureScheme::EcdsaSha512,
                    ) => true,
                    (KeyKind::Ed25519, SignatureScheme::Ed25519) => true,
                    (KeyKind::Rsa, scheme) => scheme_is_rsa(scheme),
                    _ => false,
                }
            });
            if !fits {
                return Err(Error::BodyMismatch { field: "spec.hashedRekordV002.keyDetails" });
            }
            Ok(())
        }
        ("dsse", "0.0.1", Content::Dsse { payload, signature, .. }) => {
            let spec = field(&["spec"]).ok_or(Error::BodyMalformed { field: "spec" })?;
            check_payload_hash(spec, payload, "spec.payloadHash")?;
            let signatures = spec
                .get("signatures")
                .and_then(Value::as_array)
                .ok_or(Error::BodyMalformed { field: "spec.signatures" })?;
            let [only] = signatures.as_slice() else {
                return Err(Error::BodyMismatch { field: "spec.signatures" });
            };
            if b64_at(only, &["signature"])? != *signature {
                return Err(Error::BodyMismatch { field: "spec.signatures.signature" });
            }
            check_pem_key(&b64_at(only, &["verifier"])?, expected, "spec.signatures.verifier")
        }
        ("intoto", "0.0.2", Content::Dsse { payload, signature, .. }) => {
            let content = field(&["spec", "content"])
                .ok_or(Error::BodyMalformed { field: "spec.content" })?;
            check_payload_hash(content, payload, "spec.content.payloadHash")?;
            let signatures = content
                .get("envelope")
                .and_then(|e| e.get("signatures"))
                .and_then(Value::as_array)
                .ok_or(Error::BodyMalformed { field: "spec.content.envelope.signatures" })?;
            let [only] = signatures.as_slice() else {
                return Err(Error::BodyMismatch { field: "spec.content.envelope.signatures" });
            };
            // compat(rekor): intoto 0.0.2 stores the signature base64-encoded twice.
            let once = b64_at(only, &["sig"])?;
            let twice = std::str::from_utf8(&once)
                .ok()
                .and_then(b64_decode)
                .ok_or(Error::BodyMalformed { field: "sig" })?;
            if twice != *signature {
                return Err(Error::BodyMismatch { field: "spec.content.envelope.signatures.sig" });
            }
            let pem = b64_at(only, &["publicKey"])?;
            check_pem_key(&pem, expected, "spec.content.envelope.signatures.publicKey")
        }
        (kind, version, _) => {
            Err(Error::KindMismatch { kind: kind.into(), version: version.into() })
        }
    }
}

fn scheme_is_rsa(scheme: SignatureScheme) -> bool {
    !matches!(
        scheme,
        SignatureScheme::EcdsaSha256
            | SignatureScheme::EcdsaSha384
            | SignatureScheme::EcdsaSha512
            | SignatureScheme::Ed25519
    )
}

fn check_payload_hash(spec: &Value, payload: &[u8], field: &'static str) -> Result<(), Error> {
    let algorithm = str_at(spec, &["payloadHash", "algorithm"])?;
    let value = str_at(spec, &["payloadHash", "value"])?;
    let Some(algorithm) = HashAlgorithm::from_name(algorithm) else {
        return Err(Error::BodyMismatch { field });
    };
    if !value.eq_ignore_ascii_case(&hex_encode(digest(algorithm, payload).as_bytes())) {
        return Err(Error::BodyMismatch { field });
    }
    Ok(())
}

/// The PEM in the body must be the leaf certificate (keyless) or the verification key.
fn check_pem_key(pem: &[u8], expected: &Expected<'_>, field: &'static str) -> Result<(), Error> {
    let text = std::str::from_utf8(pem).map_err(|_| Error::BodyMalformed { field })?;
    let blocks = pem_decode_all(text).map_err(|_| Error::BodyMalformed { field })?;
    let Some((label, der)) = blocks.first() else {
        return Err(Error::BodyMalformed { field });
    };
    let matches = match (label.as_str(), expected.certificate_der) {
        ("CERTIFICATE", Some(leaf)) => der.as_slice() == leaf,
        ("PUBLIC KEY", None) => der.as_slice() == expected.key.spki_der(),
        _ => false,
    };
    if !matches {
        return Err(Error::BodyMismatch { field });
    }
    Ok(())
}

fn str_at<'v>(value: &'v Value, path: &[&'static str]) -> Result<&'v str, Error> {
    let field = path.last().copied().unwrap_or("body");
    path.iter()
        .try_fold(value, |v, key| v.get(*key))
        .and_then(Value::as_str)
        .ok_or(Error::BodyMalformed { field })
}

fn b64_at(value: &Value, path: &[&'static str]) -> Result<Vec<u8>, Error> {
    let field = path.last().copied().unwrap_or("body");
    b64_decode(str_at(value, path)?).ok_or(Error::BodyMalformed { field })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::Checked;
    use crate::crypto::Signer as _;

    fn load(path: &str) -> Checked {
        let full = format!("{}/fixtures/bundle/{path}", env!("CARGO_MANIFEST_DIR"));
        Checked::from_json(&std::fs::read(full).unwrap()).unwrap()
    }

    /// Checks the vector's own body, then the body with `edit` applied.
    fn check_with(
        path: &str,
        edit: impl FnOnce(&mut Value),
    ) -> (Result<(), Error>, Result<(), Error>) {
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
        assert!(matches!(
            bad,
            Err(Error::BodyMismatch { field: "spec.hashedRekordV002.keyDetails" })
        ));
    }

    #[test]
    fn hashedrekord_other_public_key_is_rejected() {
        let (ok, bad) = check_with("valid/bundle_v3_github.whl.sigstore", |b| {
            let pem = crate::crypto::EcdsaP256Signer::generate().public_key().to_pem();
            b["spec"]["signature"]["publicKey"]["content"] =
                crate::encoding::b64_encode(pem).into();
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
}
