//! Rekor entry kinds (PROTOCOLS §4.2 for v1, §4.8 for the v2 `hashedrekord` 0.0.2): turning a proposed entry into the canonical body
//! that goes into the log, after checking its signature.
//!
//! Each kind module takes the parsed `spec` and returns a [`CanonicalEntry`]: the RFC 8785
//! body bytes (the exact leaf bytes), the kind and version, and the search-index keys.
//! Nothing is accepted without verifying every signature it carries.

mod dsse;
mod hashedrekord;
mod hashedrekord_v002;
mod intoto;

use serde_json::Value;

pub use hashedrekord_v002::canonicalize_request as canonicalize_v2_request;

use super::Error;
use crate::crypto::PublicKey;
use crate::encoding::{b64_decode, hex_encode, pem_decode_all, to_canonical_vec};
use crate::x509::Certificate;

/// A verified entry, ready to be logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalEntry {
    /// `hashedrekord`, `dsse` or `intoto`.
    pub kind: &'static str,
    /// The kind's API version (`0.0.1`, `0.0.2`).
    pub api_version: &'static str,
    /// RFC 8785 canonical JSON body: the leaf bytes.
    pub body: Vec<u8>,
    /// Search index keys (lowercase): `sha256:<hex>` digests, key hashes, SAN identities.
    pub search_keys: Vec<String>,
}

/// Parses and verifies a proposed entry `{"apiVersion","kind","spec"}`.
///
/// Errors: [`Error::InvalidEntry`] for malformed input, [`Error::UnsupportedKind`],
/// [`Error::EntrySignature`] when a signature does not verify.
pub fn canonicalize_proposed(value: &Value) -> Result<CanonicalEntry, Error> {
    let kind = str_at(value, "/kind")?;
    let version = str_at(value, "/apiVersion")?;
    let spec = value.get("spec").filter(|s| s.is_object()).ok_or(invalid("spec is missing"))?;
    match (kind, version) {
        ("hashedrekord", "0.0.1") => hashedrekord::canonicalize(spec),
        ("dsse", "0.0.1") => dsse::canonicalize(spec),
        ("intoto", "0.0.2") => intoto::canonicalize(spec),
        (kind, version) => Err(Error::UnsupportedKind(format!("{kind} {version}"))),
    }
}

/// A verification key from an entry: a certificate (chain) or a bare public key, in PEM.
#[derive(Debug, Clone)]
pub(crate) struct Verifier {
    /// The key that signs.
    pub key: PublicKey,
    /// Canonical PEM (Go `pem.Encode` layout): re-encoded certificates or `PUBLIC KEY`.
    pub canonical_pem: String,
    /// Lowercased SAN identities of the leaf certificate (none for bare keys).
    pub identities: Vec<String>,
}

impl Verifier {
    /// Reads PEM text holding one or more `CERTIFICATE` blocks or one `PUBLIC KEY`.
    pub fn from_pem(pem: &[u8], field: &'static str) -> Result<Verifier, Error> {
        let text = std::str::from_utf8(pem).map_err(|_| invalid_field(field, "is not PEM text"))?;
        let blocks = pem_decode_all(text).map_err(|_| invalid_field(field, "is not PEM"))?;
        let Some((label, first)) = blocks.first() else {
            return Err(invalid_field(field, "holds no PEM block"));
        };
        match label.as_str() {
            "CERTIFICATE" => {
                let mut certs = Vec::with_capacity(blocks.len());
                for (label, der) in &blocks {
                    if label != "CERTIFICATE" {
                        return Err(invalid_field(field, "mixes certificates and other PEM"));
                    }
                    certs.push(
                        Certificate::from_der(der)
                            .map_err(|_| invalid_field(field, "holds a malformed certificate"))?,
                    );
                }
                let leaf = &certs[0];
                let identities =
                    leaf.subject_alt_names().iter().map(|san| san.value().to_lowercase()).collect();
                Ok(Verifier {
                    key: leaf.public_key().clone(),
                    canonical_pem: certs.iter().map(Certificate::to_pem).collect(),
                    identities,
                })
            }
            "PUBLIC KEY" if blocks.len() == 1 => {
                let key = PublicKey::from_spki_der(first)
                    .map_err(|_| invalid_field(field, "holds an unsupported public key"))?;
                Ok(Verifier { canonical_pem: key.to_pem(), key, identities: vec![] })
            }
            _ => Err(invalid_field(field, "is neither a certificate nor a public key")),
        }
    }

    /// Reads base64 of PEM (how every kind carries keys).
    pub fn from_b64_pem(b64: &str, field: &'static str) -> Result<Verifier, Error> {
        let pem = b64_decode(b64).ok_or(invalid_field(field, "is not base64"))?;
        Self::from_pem(&pem, field)
    }

    /// Index keys for this verifier: hex SHA-256 of the canonical PEM, and the identities.
    pub fn search_keys(&self) -> Vec<String> {
        let mut keys = vec![hex_encode(sha256(self.canonical_pem.as_bytes()))];
        keys.extend(self.identities.iter().cloned());
        keys
    }
}

pub(crate) fn sha256(data: &[u8]) -> Vec<u8> {
    crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, data).as_bytes().to_vec()
}

/// The leaf bytes of a body built with the shared model.
pub(crate) fn canonical_body(body: &crate::rekor_model::Body) -> Result<Vec<u8>, Error> {
    body.to_canonical().map_err(|_| invalid("entry cannot be canonicalized"))
}

pub(crate) fn canonical(value: &Value) -> Result<Vec<u8>, Error> {
    to_canonical_vec(value).map_err(|_| invalid("entry cannot be canonicalized"))
}

pub(crate) fn str_at<'a>(value: &'a Value, pointer: &'static str) -> Result<&'a str, Error> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .ok_or(Error::InvalidEntry(format!("{pointer} is missing or not a string")))
}

pub(crate) fn invalid(message: &'static str) -> Error {
    Error::InvalidEntry(message.to_string())
}

pub(crate) fn invalid_field(field: &'static str, problem: &'static str) -> Error {
    Error::InvalidEntry(format!("{field} {problem}"))
}

/// Lowercase hex of exactly `len` bytes, as Rekor requires for digests.
pub(crate) fn digest_hex(text: &str, len: usize, field: &'static str) -> Result<Vec<u8>, Error> {
    let ok = text.len() == len * 2 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !ok {
        return Err(Error::InvalidEntry(format!(
            "{field} must be {} lowercase hex digits",
            len * 2
        )));
    }
    crate::encoding::hex_decode(text).ok_or(invalid_field(field, "is not hex"))
}

/// `sha256:<hex>` keys for in-toto statement subjects (best effort: malformed statements
/// simply add no keys, the signature already covers them).
pub(crate) fn statement_subject_keys(payload_type: &str, payload: &[u8]) -> Vec<String> {
    if payload_type != crate::bundle::IN_TOTO_PAYLOAD_TYPE {
        return vec![];
    }
    let Ok(statement) = serde_json::from_slice::<Value>(payload) else {
        return vec![];
    };
    let Some(subjects) = statement.get("subject").and_then(Value::as_array) else {
        return vec![];
    };
    subjects
        .iter()
        .filter_map(|s| s.pointer("/digest/sha256").and_then(Value::as_str))
        .map(|d| format!("sha256:{}", d.to_lowercase()))
        .collect()
}

/// Fuzz entry point: a proposed entry (any JSON bytes). Must never panic.
#[doc(hidden)]
pub fn fuzz_proposed_entry(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        if let Ok(entry) = canonicalize_proposed(&value) {
            // The body is canonical JSON: canonicalizing it again changes nothing.
            assert_eq!(crate::encoding::canonicalize(&entry.body).ok(), Some(entry.body));
        }
    }
}

#[cfg(test)]
mod tests;
