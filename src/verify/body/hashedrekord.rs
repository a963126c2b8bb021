//! `hashedrekord` bodies against a bundle: the digest, the signature and the key or
//! certificate must all be the bundle's.

use super::{check_pem_key, check_verifier_v002, Expected};
use crate::bundle::{pae, Content};
use crate::crypto::{digest, HashAlgorithm};
use crate::rekor_model::{HashedRekordV001, HashedRekordV002};
use crate::verify::Error;

/// 0.0.1 (Rekor v1): message signatures only.
pub(super) fn check_v001(
    spec: &HashedRekordV001,
    signature: &[u8],
    expected: &Expected<'_>,
) -> Result<(), Error> {
    let digest = expected.artifact_digest.ok_or(Error::ArtifactRequired)?;
    if !spec.data.hash.matches(digest) {
        return Err(Error::BodyMismatch { field: "spec.data.hash" });
    }
    if spec.signature.content.as_slice() != signature {
        return Err(Error::BodyMismatch { field: "spec.signature.content" });
    }
    check_pem_key(&spec.signature.public_key.content, expected, "spec.signature.publicKey")
}

/// 0.0.2 (Rekor v2): message signatures, and DSSE envelopes logged as a hashedrekord over
/// their PAE.
pub(super) fn check_v002(
    spec: &HashedRekordV002,
    content: &Content,
    expected: &Expected<'_>,
) -> Result<(), Error> {
    let (want_digest, signature) = match content {
        Content::MessageSignature { signature, .. } => {
            (expected.artifact_digest.ok_or(Error::ArtifactRequired)?.clone(), signature)
        }
        Content::Dsse { payload_type, payload, signature, .. } => {
            (digest(HashAlgorithm::Sha256, &pae(payload_type, payload)), signature)
        }
    };
    if !spec.data.matches(&want_digest) {
        return Err(Error::BodyMismatch { field: "spec.hashedRekordV002.data" });
    }
    if spec.signature.content.as_slice() != signature.as_slice() {
        return Err(Error::BodyMismatch { field: "spec.hashedRekordV002.signature" });
    }
    check_verifier_v002(
        &spec.signature.verifier,
        expected,
        "spec.hashedRekordV002.verifier",
        "spec.hashedRekordV002.keyDetails",
    )
}
