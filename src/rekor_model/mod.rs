//! L1 the one typed model of Rekor entry bodies and of the SET payload, shared by the log
//! (which writes bodies) and the verifier (which reads them).
//!
//! A body is the exact leaf of the log: RFC 8785 JSON `{"apiVersion","kind","spec"}`. Both
//! sides used to describe the formats on their own — the log with `json!` templates, the
//! verifier with JSON-path lookups — and a drift between the two is how a verifier ends up
//! accepting a logged entry paired with another signature (CVE-2022-36056 class). Here each
//! kind and version is one struct; [`Body::parse`] refuses unknown kinds and unknown fields,
//! and [`Body::to_canonical`] writes the bytes the log stores (tested byte for byte against
//! public-good bodies).
//!
//! Pure: bytes in, values out; no I/O, no clock.

pub mod dsse;
pub mod hashedrekord;
pub mod intoto;
pub mod set;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use dsse::{DsseV001, DsseV002};
pub use hashedrekord::{HashedRekordV001, HashedRekordV002};
pub use intoto::IntotoV002;

/// Why a body was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// Not JSON, or not `{"apiVersion","kind","spec"}`.
    #[error("entry body is not JSON of the form {{apiVersion, kind, spec}}")]
    Envelope,
    /// A kind and version this model does not know.
    #[error("unsupported entry kind {kind} {version}")]
    Unsupported {
        /// `kind` as written.
        kind: String,
        /// `apiVersion` as written.
        version: String,
    },
    /// The spec does not have the shape of its kind (a field missing, of the wrong type,
    /// not base64, or unknown).
    #[error("{kind} {version} body: {reason}")]
    Spec {
        /// The kind.
        kind: &'static str,
        /// The version.
        version: &'static str,
        /// What serde said.
        reason: String,
    },
    /// The body could not be written as canonical JSON.
    #[error("entry body cannot be written as canonical JSON")]
    Canonical,
}

/// Result alias for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A Rekor entry body of a known kind and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// `hashedrekord` 0.0.1 (Rekor v1).
    HashedRekordV001(HashedRekordV001),
    /// `hashedrekord` 0.0.2 (Rekor v2).
    HashedRekordV002(HashedRekordV002),
    /// `dsse` 0.0.1 (Rekor v1).
    DsseV001(DsseV001),
    /// `dsse` 0.0.2 (Rekor v2 protos).
    DsseV002(DsseV002),
    /// `intoto` 0.0.2 (Rekor v1).
    IntotoV002(IntotoV002),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
    spec: Value,
}

/// The v2 specs are wrapped in one more object named after the kind.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HashedRekordV002Spec {
    #[serde(rename = "hashedRekordV002")]
    inner: HashedRekordV002,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DsseV002Spec {
    #[serde(rename = "dsseV002")]
    inner: DsseV002,
}

impl Body {
    /// Parses a body: the envelope, then the spec of its kind and version. Unknown fields
    /// anywhere are refused, so nothing in a logged body goes unchecked.
    ///
    /// Errors: [`Error::Envelope`], [`Error::Unsupported`], [`Error::Spec`].
    pub fn parse(bytes: &[u8]) -> Result<Body> {
        let envelope: Envelope = serde_json::from_slice(bytes).map_err(|_| Error::Envelope)?;
        let spec = envelope.spec;
        match (envelope.kind.as_str(), envelope.api_version.as_str()) {
            ("hashedrekord", "0.0.1") => {
                spec_of("hashedrekord", "0.0.1", spec).map(Body::HashedRekordV001)
            }
            ("hashedrekord", "0.0.2") => {
                spec_of::<HashedRekordV002Spec>("hashedrekord", "0.0.2", spec)
                    .map(|s| Body::HashedRekordV002(s.inner))
            }
            ("dsse", "0.0.1") => spec_of("dsse", "0.0.1", spec).map(Body::DsseV001),
            ("dsse", "0.0.2") => {
                spec_of::<DsseV002Spec>("dsse", "0.0.2", spec).map(|s| Body::DsseV002(s.inner))
            }
            ("intoto", "0.0.2") => spec_of("intoto", "0.0.2", spec).map(Body::IntotoV002),
            _ => Err(Error::Unsupported { kind: envelope.kind, version: envelope.api_version }),
        }
    }

    /// The entry kind (`hashedrekord`, `dsse`, `intoto`).
    pub fn kind(&self) -> &'static str {
        match self {
            Body::HashedRekordV001(_) | Body::HashedRekordV002(_) => "hashedrekord",
            Body::DsseV001(_) | Body::DsseV002(_) => "dsse",
            Body::IntotoV002(_) => "intoto",
        }
    }

    /// The kind's API version.
    pub fn api_version(&self) -> &'static str {
        match self {
            Body::HashedRekordV001(_) | Body::DsseV001(_) => "0.0.1",
            Body::HashedRekordV002(_) | Body::DsseV002(_) | Body::IntotoV002(_) => "0.0.2",
        }
    }

    /// The RFC 8785 canonical JSON of the body: the exact leaf bytes the log stores.
    ///
    /// Errors: [`Error::Canonical`] (only if a field cannot be represented, never for a
    /// parsed body).
    pub fn to_canonical(&self) -> Result<Vec<u8>> {
        let spec = match self {
            Body::HashedRekordV001(s) => serde_json::to_value(s),
            Body::HashedRekordV002(s) => {
                serde_json::to_value(HashedRekordV002Spec { inner: s.clone() })
            }
            Body::DsseV001(s) => serde_json::to_value(s),
            Body::DsseV002(s) => serde_json::to_value(DsseV002Spec { inner: s.clone() }),
            Body::IntotoV002(s) => serde_json::to_value(s),
        }
        .map_err(|_| Error::Canonical)?;
        let body = serde_json::json!({
            "apiVersion": self.api_version(),
            "kind": self.kind(),
            "spec": spec,
        });
        crate::encoding::to_canonical_vec(&body).map_err(|_| Error::Canonical)
    }
}

fn spec_of<T: serde::de::DeserializeOwned>(
    kind: &'static str,
    version: &'static str,
    spec: Value,
) -> Result<T> {
    serde_json::from_value(spec).map_err(|e| Error::Spec { kind, version, reason: e.to_string() })
}

/// `{"algorithm","value"}` with a lowercase-hex digest, as the v1 kinds write hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HexHash {
    /// `sha256`, `sha384` or `sha512`.
    pub algorithm: String,
    /// The digest in hex.
    pub value: String,
}

impl HexHash {
    /// A hash of `digest` in Rekor's spelling.
    pub fn of(digest: &crate::crypto::Digest) -> HexHash {
        HexHash { algorithm: digest.algorithm().rekor_name().into(), value: digest.to_hex() }
    }

    /// True when this is `digest` (same algorithm, same bytes; hex in either case).
    pub fn matches(&self, digest: &crate::crypto::Digest) -> bool {
        crate::crypto::HashAlgorithm::from_name(&self.algorithm) == Some(digest.algorithm())
            && self.value.eq_ignore_ascii_case(&digest.to_hex())
    }
}

/// A v2 verifier: the key details and either a certificate or a public key, as raw DER.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifierV002 {
    /// `PKIX_ECDSA_P256_SHA_256` and the other protobuf-specs names.
    #[serde(rename = "keyDetails")]
    pub key_details: String,
    /// The leaf certificate, for keyless signatures.
    #[serde(rename = "x509Certificate", default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate: Option<RawBytes>,
    /// The public key (DER SPKI), for key signatures.
    #[serde(rename = "publicKey", default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<RawBytes>,
}

/// `{"rawBytes": "<b64>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBytes {
    /// The bytes.
    #[serde(rename = "rawBytes")]
    pub raw_bytes: crate::encoding::Base64Bytes,
}

/// A v2 `HashOutput`: `{"algorithm": "SHA2_256", "digest": "<b64>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashOutputV002 {
    /// `SHA2_256`, `SHA2_384` or `SHA2_512`.
    pub algorithm: String,
    /// The raw digest.
    pub digest: crate::encoding::Base64Bytes,
}

impl HashOutputV002 {
    /// True when this is `digest`.
    pub fn matches(&self, digest: &crate::crypto::Digest) -> bool {
        crate::crypto::HashAlgorithm::from_name(&self.algorithm) == Some(digest.algorithm())
            && self.digest.as_slice() == digest.as_bytes()
    }
}

#[cfg(test)]
mod tests;
