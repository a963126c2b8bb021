//! `hashedrekord` 0.0.1 (PROTOCOLS §4.2.1): an artifact digest, a signature over it, and
//! the key or certificate. The server re-encodes the key as canonical PEM, checks the
//! signature over the digest, and stores a body of the same shape.

use serde_json::Value;

use super::{canonical_body, digest_hex, invalid, str_at, CanonicalEntry, Verifier};
use crate::crypto::{HashAlgorithm, KeyKind, SignatureScheme};
use crate::encoding::b64_decode;
use crate::rekor::Error;
use crate::rekor_model::hashedrekord::{DataV001, PemContent, SignatureV001};
use crate::rekor_model::{Body, HashedRekordV001, HexHash};

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

    // The log's canonical PEM of the key; the digest and signature as given.
    let body = Body::HashedRekordV001(HashedRekordV001 {
        data: DataV001 { hash: HexHash { algorithm: algorithm.into(), value: value.into() } },
        signature: SignatureV001 {
            content: signature.into(),
            public_key: PemContent { content: verifier.canonical_pem.as_bytes().into() },
        },
    });
    let mut search_keys = verifier.search_keys();
    search_keys.push(format!("{algorithm}:{value}"));
    Ok(CanonicalEntry {
        kind: "hashedrekord",
        api_version: "0.0.1",
        body: canonical_body(&body)?,
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
