//! `dsse` 0.0.1 (PROTOCOLS §4.2.2): a DSSE envelope (as a JSON string) plus verifier keys.
//! Every envelope signature must verify (over PAE) with one of the verifiers. The stored body
//! keeps only hashes and the (signature, verifier) pairs, sorted by signature.

use serde_json::Value;

use super::{
    canonical_body, invalid, sha256, statement_subject_keys, str_at, CanonicalEntry, Verifier,
};
use crate::bundle::pae;
use crate::encoding::{b64_decode, hex_encode};
use crate::rekor::Error;
use crate::rekor_model::dsse::DsseSignatureV001;
use crate::rekor_model::{Body, DsseV001, HexHash};

pub(super) fn canonicalize(spec: &Value) -> Result<CanonicalEntry, Error> {
    let envelope_text = str_at(spec, "/proposedContent/envelope")?;
    let envelope: Value = serde_json::from_str(envelope_text)
        .map_err(|_| invalid("spec.proposedContent.envelope is not JSON"))?;
    let payload_type = str_at(&envelope, "/payloadType")?;
    let payload = b64_decode(str_at(&envelope, "/payload")?)
        .ok_or(invalid("envelope payload is not base64"))?;
    let signatures = envelope
        .get("signatures")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or(invalid("envelope has no signatures"))?;
    let verifiers = spec
        .pointer("/proposedContent/verifiers")
        .and_then(Value::as_array)
        .filter(|v| !v.is_empty())
        .ok_or(invalid("spec.proposedContent.verifiers is missing or empty"))?
        .iter()
        .map(|v| {
            let b64 = v.as_str().ok_or(invalid("a verifier is not a string"))?;
            Verifier::from_b64_pem(b64, "spec.proposedContent.verifiers[]")
        })
        .collect::<Result<Vec<_>, _>>()?;

    let message = pae(payload_type, &payload);
    let mut pairs = Vec::with_capacity(signatures.len());
    for sig in signatures {
        let sig_b64 =
            sig.get("sig").and_then(Value::as_str).ok_or(invalid("signature sig missing"))?;
        let raw = b64_decode(sig_b64).ok_or(invalid("envelope signature is not base64"))?;
        let mut last_err = None;
        let found =
            verifiers.iter().find(|v| match v.key.verify(v.key.default_scheme(), &message, &raw) {
                Ok(()) => true,
                Err(e) => {
                    last_err = Some(e);
                    false
                }
            });
        let Some(verifier) = found else {
            let source = last_err.unwrap_or(crate::crypto::Error::BadSignature);
            return Err(Error::EntrySignature { kind: "dsse", source });
        };
        pairs.push((sig_b64.to_string(), verifier));
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0));

    let envelope_hash = hex_encode(sha256(envelope_text.as_bytes()));
    let payload_hash = hex_encode(sha256(&payload));
    let sha256_hex = |value: &str| HexHash { algorithm: "sha256".into(), value: value.into() };
    let body = Body::DsseV001(DsseV001 {
        envelope_hash: sha256_hex(&envelope_hash),
        payload_hash: sha256_hex(&payload_hash),
        signatures: pairs
            .iter()
            .map(|(sig, v)| DsseSignatureV001 {
                signature: sig.clone(),
                verifier: v.canonical_pem.as_bytes().into(),
            })
            .collect(),
    });
    let mut search_keys: Vec<String> = pairs.iter().flat_map(|(_, v)| v.search_keys()).collect();
    search_keys.push(format!("sha256:{payload_hash}"));
    search_keys.push(format!("sha256:{envelope_hash}"));
    search_keys.extend(statement_subject_keys(payload_type, &payload));
    search_keys.sort();
    search_keys.dedup();
    Ok(CanonicalEntry {
        kind: "dsse",
        api_version: "0.0.1",
        body: canonical_body(&body)?,
        search_keys,
    })
}
