//! `hashedrekord` 0.0.1 (PROTOCOLS §4.2.1): an artifact digest, a signature over it, and
//! the key or certificate. The server re-encodes the key as canonical PEM, checks the
//! signature over the digest, and stores a body of the same shape.

use serde_json::{json, Value};

use super::{canonical, digest_hex, invalid, str_at, CanonicalEntry, Verifier};
use crate::crypto::{HashAlgorithm, KeyKind, SignatureScheme};
use crate::encoding::{b64_decode, b64_encode};
use crate::rekor::Error;

pub(super) fn canonicalize(spec: &Value) -> Result<CanonicalEntry, Error> {
    let algorithm = str_at(spec, "/data/hash/algorithm")?;
    let hash = match algorithm {
        "sha256" => HashAlgorithm::Sha256,
        "sha384" => HashAlgorithm::Sha384,
        "sha512" => HashAlgorithm::Sha512,
        other => return Err(Error::InvalidEntry(format!("unsupported hash algorithm {other:?}"))),
    };
    let value = str_at(spec, "/data/hash/value")?;
    let digest = digest_hex(value, hash.output_len(), "spec.data.hash.value")?;
    let sig_b64 = str_at(spec, "/signature/content")?;
    let signature = b64_decode(sig_b64).ok_or(invalid("spec.signature.content is not base64"))?;
    if signature.is_empty() {
        return Err(invalid("spec.signature.content is empty"));
    }
    let verifier = Verifier::from_b64_pem(
        str_at(spec, "/signature/publicKey/content")?,
        "spec.signature.publicKey.content",
    )?;
    let scheme = scheme_for(verifier.key.kind(), hash)?;
    verifier
        .key
        .verify_prehashed(scheme, &digest, &signature)
        .map_err(|source| Error::EntrySignature { kind: "hashedrekord", source })?;

    let body = json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": algorithm, "value": value}},
            "signature": {
                "content": b64_encode(&signature),
                "publicKey": {"content": verifier.canonical_b64()},
            },
        },
    });
    let mut search_keys = verifier.search_keys();
    search_keys.push(format!("{algorithm}:{value}"));
    Ok(CanonicalEntry {
        kind: "hashedrekord",
        api_version: "0.0.1",
        body: canonical(&body)?,
        search_keys,
    })
}

/// The signature scheme a key uses over a digest of `hash`. Ed25519 cannot sign a bare
/// digest, so Rekor v1 refuses it in hashedrekord.
fn scheme_for(kind: KeyKind, hash: HashAlgorithm) -> Result<SignatureScheme, Error> {
    if kind == KeyKind::Ed25519 {
        return Err(invalid("ed25519 keys cannot sign a bare digest (hashedrekord)"));
    }
    Ok(SignatureScheme::for_key_and_hash(kind, hash))
}
