//! `dsse` bodies against a DSSE bundle: the payload hash and the one (signature, verifier)
//! pair must be the bundle's. The envelope hash cannot be checked: the log hashed the
//! envelope JSON as submitted, which the bundle does not keep.

use super::{check_pem_key, check_verifier_v002, Expected};
use crate::crypto::{digest, HashAlgorithm};
use crate::rekor_model::{DsseV001, DsseV002};
use crate::verify::Error;

/// 0.0.1 (Rekor v1).
pub(super) fn check_v001(
    spec: &DsseV001,
    payload: &[u8],
    signature: &[u8],
    expected: &Expected<'_>,
) -> Result<(), Error> {
    let algorithm = HashAlgorithm::from_name(&spec.payload_hash.algorithm)
        .ok_or(Error::BodyMismatch { field: "spec.payloadHash" })?;
    if !spec.payload_hash.matches(&digest(algorithm, payload)) {
        return Err(Error::BodyMismatch { field: "spec.payloadHash" });
    }
    let [only] = spec.signatures.as_slice() else {
        return Err(Error::BodyMismatch { field: "spec.signatures" });
    };
    let raw = only.raw_signature().ok_or(Error::BodyMalformed { field: "signature" })?;
    if raw != signature {
        return Err(Error::BodyMismatch { field: "spec.signatures.signature" });
    }
    check_pem_key(&only.verifier, expected, "spec.signatures.verifier")
}

/// 0.0.2 (the Rekor v2 protos).
pub(super) fn check_v002(
    spec: &DsseV002,
    payload: &[u8],
    signature: &[u8],
    expected: &Expected<'_>,
) -> Result<(), Error> {
    let algorithm = HashAlgorithm::from_name(&spec.payload_hash.algorithm)
        .ok_or(Error::BodyMismatch { field: "spec.dsseV002.payloadHash" })?;
    if !spec.payload_hash.matches(&digest(algorithm, payload)) {
        return Err(Error::BodyMismatch { field: "spec.dsseV002.payloadHash" });
    }
    let [only] = spec.signatures.as_slice() else {
        return Err(Error::BodyMismatch { field: "spec.dsseV002.signatures" });
    };
    if only.content.as_slice() != signature {
        return Err(Error::BodyMismatch { field: "spec.dsseV002.signatures.content" });
    }
    check_verifier_v002(
        &only.verifier,
        expected,
        "spec.dsseV002.signatures.verifier",
        "spec.dsseV002.signatures.verifier.keyDetails",
    )
}
