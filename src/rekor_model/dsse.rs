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
    /// The envelope signature (same base64 text as in the envelope).
    pub signature: Base64Bytes,
    /// base64 of the canonical PEM of the certificate or key.
    pub verifier: Base64Bytes,
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
