//! `hashedrekord` 0.0.2, the only Rekor v2 kind (PROTOCOLS §4.8): a `CreateEntryRequest`
//! `{"hashedRekordRequestV002": {digest, signature: {content, verifier}}}` in proto JSON.
//! The signature over the digest is checked; the body is the RFC 8785 JSON of the proto
//! `Entry`, with `spec.hashedRekordV002`.

use serde_json::Value;

use super::{canonical_body, invalid, CanonicalEntry};
use crate::crypto::{PublicKey, SignatureScheme};
use crate::encoding::{b64_decode, hex_encode};
use crate::rekor::Error;
use crate::rekor_model::hashedrekord::SignatureV002;
use crate::rekor_model::{Body, HashOutputV002, HashedRekordV002, RawBytes, VerifierV002};
use crate::x509::Certificate;

/// Parses and verifies a Rekor v2 `CreateEntryRequest`. Proto JSON field names are accepted
/// in lowerCamelCase and snake_case. A DSSE request (`dsseRequestV002`) is refused, as the
/// public log does.
///
/// Errors: [`Error::UnsupportedKind`], [`Error::InvalidEntry`], [`Error::EntrySignature`].
pub fn canonicalize_request(request: &Value) -> Result<CanonicalEntry, Error> {
    let Some(req) = field(request, "hashedRekordRequestV002", "hashed_rekord_request_v002") else {
        let other = request.as_object().and_then(|o| o.keys().next().cloned());
        return Err(Error::UnsupportedKind(other.unwrap_or_else(|| "(empty request)".into())));
    };
    let digest = bytes(req, "digest", "digest")?;
    let sig = field(req, "signature", "signature").ok_or(invalid("signature is missing"))?;
    let signature = bytes(sig, "content", "content")?;
    let verifier = field(sig, "verifier", "verifier").ok_or(invalid("verifier is missing"))?;
    let details = field(verifier, "keyDetails", "key_details")
        .and_then(Value::as_str)
        .ok_or(invalid("verifier.keyDetails is missing"))?;
    let scheme = SignatureScheme::from_key_details(details)
        .ok_or_else(|| Error::InvalidEntry(format!("unsupported keyDetails {details:?}")))?;
    let hash = scheme.hash().ok_or(invalid("ed25519 keys cannot sign a bare digest"))?;
    if digest.len() != hash.output_len() {
        return Err(Error::InvalidEntry(format!(
            "digest is {} bytes, {details} needs {}",
            digest.len(),
            hash.output_len()
        )));
    }
    let (key, material, identities) = verifier_key(verifier)?;
    key.verify_prehashed(scheme, &digest, &signature)
        .map_err(|source| Error::EntrySignature { kind: "hashedrekord", source })?;

    let raw = RawBytes { raw_bytes: material.1.into() };
    let (x509_certificate, public_key) = match material.0 {
        "x509Certificate" => (Some(raw), None),
        _ => (None, Some(raw)),
    };
    let body = Body::HashedRekordV002(HashedRekordV002 {
        data: HashOutputV002 { algorithm: hash.proto_name().into(), digest: digest.clone().into() },
        signature: SignatureV002 {
            content: signature.into(),
            verifier: VerifierV002 { key_details: details.into(), x509_certificate, public_key },
        },
    });
    let mut search_keys = identities;
    search_keys.push(format!("{}:{}", hash.rekor_name(), hex_encode(&digest)));
    Ok(CanonicalEntry {
        kind: "hashedrekord",
        api_version: "0.0.2",
        body: canonical_body(&body)?,
        search_keys,
    })
}

/// The verifier's key, its `(field name, raw bytes)` for the body, and SAN identities.
#[allow(clippy::type_complexity)]
fn verifier_key(
    verifier: &Value,
) -> Result<(PublicKey, (&'static str, Vec<u8>), Vec<String>), Error> {
    if let Some(cert) = field(verifier, "x509Certificate", "x509_certificate") {
        let der = bytes(cert, "rawBytes", "raw_bytes")?;
        let cert = Certificate::from_der(&der)
            .map_err(|_| invalid("verifier.x509Certificate is not a certificate"))?;
        let identities =
            cert.subject_alt_names().iter().map(|s| s.value().to_lowercase()).collect();
        return Ok((cert.public_key().clone(), ("x509Certificate", der), identities));
    }
    if let Some(pk) = field(verifier, "publicKey", "public_key") {
        let der = bytes(pk, "rawBytes", "raw_bytes")?;
        let key = PublicKey::from_spki_der(&der)
            .map_err(|_| invalid("verifier.publicKey is not a supported SPKI"))?;
        return Ok((key, ("publicKey", der), vec![]));
    }
    Err(invalid("verifier needs x509Certificate or publicKey"))
}

fn field<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel).or_else(|| v.get(snake)).filter(|x| !x.is_null())
}

fn bytes(v: &Value, camel: &'static str, snake: &str) -> Result<Vec<u8>, Error> {
    let text = field(v, camel, snake)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::InvalidEntry(format!("{camel} is missing")))?;
    let out =
        b64_decode(text).ok_or_else(|| Error::InvalidEntry(format!("{camel} is not base64")))?;
    if out.is_empty() {
        return Err(Error::InvalidEntry(format!("{camel} is empty")));
    }
    Ok(out)
}
