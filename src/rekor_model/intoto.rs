//! `intoto` 0.0.2 bodies (Rekor v1, PROTOCOLS §4.2.3): the envelope without its payload,
//! the client's envelope hash and the payload hash. Signatures are stored base64-encoded
//! twice, keys as base64 of the PEM as submitted.

use serde::{Deserialize, Serialize};

use super::HexHash;
use crate::encoding::Base64Bytes;

/// `intoto` 0.0.2 spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntotoV002 {
    /// The stored content.
    pub content: ContentV002,
}

/// `spec.content`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentV002 {
    /// The envelope, less its payload.
    pub envelope: EnvelopeV002,
    /// The client's envelope hash.
    pub hash: HexHash,
    /// SHA-256 of the payload.
    #[serde(rename = "payloadHash")]
    pub payload_hash: HexHash,
}

/// `spec.content.envelope`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeV002 {
    /// The DSSE payload type.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// The signatures.
    pub signatures: Vec<IntotoSignatureV002>,
}

/// One signature of an `intoto` 0.0.2 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntotoSignatureV002 {
    /// The key ID, kept only when the client gave a non-empty one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyid: Option<String>,
    /// The PEM as submitted.
    #[serde(rename = "publicKey")]
    pub public_key: Base64Bytes,
    /// base64 of base64 of the raw signature, as the client sent it.
    pub sig: String,
}

impl IntotoSignatureV002 {
    /// The raw signature bytes (the stored text decoded a second time).
    pub fn raw_signature(&self) -> Option<Vec<u8>> {
        let once = crate::encoding::b64_decode(&self.sig)?;
        crate::encoding::b64_decode(std::str::from_utf8(&once).ok()?)
    }
}
