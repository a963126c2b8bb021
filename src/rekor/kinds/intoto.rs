//! `intoto` 0.0.2 (PROTOCOLS §4.2.3): a DSSE envelope whose `payload` and `sig` are base64
//! of base64. Each signature carries its own key. The stored body drops the payload and keeps
//! the signatures, the client's envelope hash and the recomputed payload hash.

use serde_json::{json, Map, Value};

use super::{
    canonical, canonical_body, digest_hex, invalid, sha256, statement_subject_keys, str_at,
    CanonicalEntry, Verifier,
};
use crate::bundle::pae;
use crate::encoding::{b64_decode, b64_encode, hex_encode};
use crate::rekor::Error;
use crate::rekor_model::intoto::{ContentV002, EnvelopeV002, IntotoSignatureV002};
use crate::rekor_model::{Body, HexHash, IntotoV002};

pub(super) fn canonicalize(spec: &Value) -> Result<CanonicalEntry, Error> {
    let envelope =
        spec.pointer("/content/envelope").ok_or(invalid("spec.content.envelope is missing"))?;
    let payload_type = str_at(envelope, "/payloadType")?;
    let payload = decode_twice(str_at(envelope, "/payload")?, "envelope payload")?;
    let signatures = envelope
        .get("signatures")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or(invalid("envelope has no signatures"))?;

    let message = pae(payload_type, &payload);
    let mut stored = Vec::with_capacity(signatures.len());
    let mut search_keys = Vec::new();
    // What sigstore-js hashes for `spec.content.hash` when the client sends none.
    let mut client_view = Vec::with_capacity(signatures.len());
    for sig in signatures {
        let sig_field = str_at(sig, "/sig")?;
        let raw = decode_twice(sig_field, "envelope signature")?;
        let key_field = str_at(sig, "/publicKey")?;
        let key_pem =
            b64_decode(key_field).ok_or(invalid("envelope signature publicKey is not base64"))?;
        let verifier = Verifier::from_pem(&key_pem, "envelope signature publicKey")?;
        verifier
            .key
            .verify(verifier.key.default_scheme(), &message, &raw)
            .map_err(|source| Error::EntrySignature { kind: "intoto", source })?;
        let mut view = Map::new();
        let keyid = sig.get("keyid").and_then(Value::as_str).filter(|k| !k.is_empty());
        if let Some(keyid) = keyid {
            view.insert("keyid".into(), keyid.into());
        }
        view.insert("sig".into(), b64_encode(&raw).into());
        view.insert("publicKey".into(), String::from_utf8_lossy(&key_pem).into_owned().into());
        // compat(rekor): intoto 0.0.2 keeps the key PEM as submitted (public-good bodies hold
        // PEM without a final newline), unlike hashedrekord and dsse.
        stored.push(IntotoSignatureV002 {
            keyid: keyid.map(str::to_string),
            public_key: key_pem.as_slice().into(),
            sig: sig_field.into(),
        });
        client_view.push(Value::Object(view));
        search_keys.extend(verifier.search_keys());
    }

    let payload_hash = hex_encode(sha256(&payload));
    if let Some(given) = spec.pointer("/content/payloadHash/value").and_then(Value::as_str) {
        if given != payload_hash {
            return Err(invalid("spec.content.payloadHash does not match the payload"));
        }
    }
    let envelope_hash = match spec.pointer("/content/hash/value").and_then(Value::as_str) {
        Some(given) => {
            digest_hex(given, 32, "spec.content.hash.value")?;
            given.to_string()
        }
        None => {
            let view = json!({
                "payloadType": payload_type,
                "payload": b64_encode(&payload),
                "signatures": client_view,
            });
            hex_encode(sha256(&canonical(&view)?))
        }
    };
    let sha256_hex = |value: &str| HexHash { algorithm: "sha256".into(), value: value.into() };
    let body = Body::IntotoV002(IntotoV002 {
        content: ContentV002 {
            envelope: EnvelopeV002 { payload_type: payload_type.into(), signatures: stored },
            hash: sha256_hex(&envelope_hash),
            payload_hash: sha256_hex(&payload_hash),
        },
    });
    search_keys.push(format!("sha256:{payload_hash}"));
    search_keys.push(format!("sha256:{envelope_hash}"));
    search_keys.extend(statement_subject_keys(payload_type, &payload));
    search_keys.sort();
    search_keys.dedup();
    Ok(CanonicalEntry {
        kind: "intoto",
        api_version: "0.0.2",
        body: canonical_body(&body)?,
        search_keys,
    })
}

fn decode_twice(text: &str, field: &'static str) -> Result<Vec<u8>, Error> {
    let once = b64_decode(text).ok_or(Error::InvalidEntry(format!("{field} is not base64")))?;
    let once = std::str::from_utf8(&once)
        .map_err(|_| Error::InvalidEntry(format!("{field} is not base64 of base64")))?;
    b64_decode(once).ok_or(Error::InvalidEntry(format!("{field} is not base64 of base64")))
}
