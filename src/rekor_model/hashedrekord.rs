//! `hashedrekord` bodies: 0.0.1 (Rekor v1, PROTOCOLS §4.2.1) and 0.0.2 (Rekor v2, §4.8):
//! an artifact digest, the signature over it, and the key or certificate.

use serde::{Deserialize, Serialize};

use super::{HashOutputV002, HexHash, VerifierV002};
use crate::encoding::Base64Bytes;

/// `hashedrekord` 0.0.1 spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashedRekordV001 {
    /// What was signed.
    pub data: DataV001,
    /// The signature and its key.
    pub signature: SignatureV001,
}

/// `spec.data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataV001 {
    /// The artifact digest.
    pub hash: HexHash,
}

/// `spec.signature`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureV001 {
    /// The raw signature (DER for ECDSA).
    pub content: Base64Bytes,
    /// The key or certificate.
    #[serde(rename = "publicKey")]
    pub public_key: PemContent,
}

/// `{"content": "<b64 of PEM>"}`: a certificate (chain) or a `PUBLIC KEY`, as PEM text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PemContent {
    /// The PEM text's bytes.
    pub content: Base64Bytes,
}

impl HashedRekordV001 {
    /// The body for a signature over `digest` by the key or certificate in `pem`.
    pub fn new(digest: &crate::crypto::Digest, signature: &[u8], pem: &[u8]) -> HashedRekordV001 {
        HashedRekordV001 {
            data: DataV001 { hash: HexHash::of(digest) },
            signature: SignatureV001 {
                content: signature.into(),
                public_key: PemContent { content: pem.into() },
            },
        }
    }
}

/// `hashedrekord` 0.0.2 spec (the content of `spec.hashedRekordV002`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashedRekordV002 {
    /// The digest that was signed.
    pub data: HashOutputV002,
    /// The signature and its verifier.
    pub signature: SignatureV002,
}

/// A v2 signature: content plus verifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureV002 {
    /// The raw signature.
    pub content: Base64Bytes,
    /// Who verifies it.
    pub verifier: VerifierV002,
}
