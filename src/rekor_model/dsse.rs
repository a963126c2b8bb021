//! `dsse` bodies: 0.0.1 (Rekor v1, PROTOCOLS §4.2.2) and 0.0.2 (the Rekor v2 protos): the
//! payload hash and the (signature, verifier) pairs of a DSSE envelope. The envelope
//! itself is not in the body.

use serde::{Deserialize, Serialize};

use super::hashedrekord::SignatureV002;
use super::{HashOutputV002, HexHash};
use crate::encoding::Base64Bytes;

/// `dsse` 0.0.1 spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DsseV001 {
    /// SHA-256 of the envelope JSON exactly as submitted (not recomputable by verifiers).
    #[serde(rename = "envelopeHash")]
    pub envelope_hash: HexHash,
    /// SHA-256 of the decoded payload.
    #[serde(rename = "payloadHash")]
    pub payload_hash: HexHash,
    /// The signatures, sorted by their base64 text.
    pub signatures: Vec<DsseSignatureV001>,
}

/// One (signature, verifier) pair of a `dsse` 0.0.1 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DsseSignatureV001 {
    /// The envelope signature: the base64 text exactly as in the envelope (kept as text,
    /// so a body the log writes holds what the client sent, alphabet and padding included).
    pub signature: String,
    /// base64 of the canonical PEM of the certificate or key.
    pub verifier: Base64Bytes,
}

impl DsseSignatureV001 {
    /// The raw signature bytes.
    pub fn raw_signature(&self) -> Option<Vec<u8>> {
        crate::encoding::b64_decode(&self.signature)
    }
}

/// `dsse` 0.0.2 spec (the content of `spec.dsseV002`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DsseV002 {
    /// Hash of the decoded payload.
    #[serde(rename = "payloadHash")]
    pub payload_hash: HashOutputV002,
    /// The signatures with their verifiers.
    pub signatures: Vec<SignatureV002>,
}
