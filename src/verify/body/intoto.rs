//! `intoto` 0.0.2 bodies against a DSSE bundle: the payload hash, and the one signature
//! (stored base64 twice) with its key.

use super::{check_pem_key, Expected};
use crate::crypto::{digest, HashAlgorithm};
use crate::rekor_model::IntotoV002;
use crate::verify::Error;

/// 0.0.2 (Rekor v1).
pub(super) fn check_v002(
    spec: &IntotoV002,
    payload: &[u8],
    signature: &[u8],
    expected: &Expected<'_>,
) -> Result<(), Error> {
    let content = &spec.content;
    let algorithm = HashAlgorithm::from_name(&content.payload_hash.algorithm)
        .ok_or(Error::BodyMismatch { field: "spec.content.payloadHash" })?;
    if !content.payload_hash.matches(&digest(algorithm, payload)) {
        return Err(Error::BodyMismatch { field: "spec.content.payloadHash" });
    }
    let [only] = content.envelope.signatures.as_slice() else {
        return Err(Error::BodyMismatch { field: "spec.content.envelope.signatures" });
    };
    // compat(rekor): intoto 0.0.2 stores the signature base64-encoded twice.
    let raw = only.raw_signature().ok_or(Error::BodyMalformed { field: "sig" })?;
    if raw != signature {
        return Err(Error::BodyMismatch { field: "spec.content.envelope.signatures.sig" });
    }
    check_pem_key(&only.public_key, expected, "spec.content.envelope.signatures.publicKey")
}
