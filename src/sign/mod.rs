//! L3 signing pipelines: artifact (+ key or identity) → signature → Sigstore bundle.
//!
//! Key-based signing is offline and needs nothing but the key. The bundle it writes is v0.3
//! with a `publicKey` hint and a `messageSignature`, exactly as `cosign sign-blob --key
//! --tlog-upload=false --bundle` writes it.

pub mod keyfile;
pub mod keyless;

use std::io::Read;

use crate::bundle::wire;
use crate::crypto::{self, Digest, HashAlgorithm, Signer};

/// What can go wrong while signing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the artifact failed.
    #[error("reading the artifact")]
    ReadArtifact(#[source] std::io::Error),
    /// The signer failed.
    #[error("signing the artifact digest")]
    Sign(#[source] crypto::Error),
}

/// Result with the sign error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A signed artifact: its digest, the raw signature and the bundle that carries both.
#[derive(Debug, Clone)]
pub struct SignedBlob {
    /// SHA-256 of the artifact.
    pub digest: Digest,
    /// The raw signature (DER for ECDSA).
    pub signature: Vec<u8>,
    /// The Sigstore bundle v0.3.
    pub bundle: wire::Bundle,
}

/// Signs an artifact read from `artifact` with a self-managed key, offline.
///
/// ECDSA keys sign the streamed SHA-256 digest, so an artifact of any size uses constant
/// memory; Ed25519 has no prehashed form, so the artifact is read whole for it.
pub fn sign_blob_with_key(signer: &dyn Signer, mut artifact: impl Read) -> Result<SignedBlob> {
    let (digest, signature) = if signer.scheme() == crypto::SignatureScheme::Ed25519 {
        let mut data = Vec::new();
        artifact.read_to_end(&mut data).map_err(Error::ReadArtifact)?;
        let digest = crypto::digest(HashAlgorithm::Sha256, &data);
        (digest, signer.sign(&data).map_err(Error::Sign)?)
    } else {
        let digest =
            crypto::digest_reader(HashAlgorithm::Sha256, artifact).map_err(|e| match e {
                crypto::Error::Io(io) => Error::ReadArtifact(io),
                other => Error::Sign(other),
            })?;
        let signature = signer.sign_prehashed(digest.as_bytes()).map_err(Error::Sign)?;
        (digest, signature)
    };
    let bundle = key_bundle(signer, &digest, &signature);
    Ok(SignedBlob { digest, signature, bundle })
}

/// The v0.3 bundle for a key signature: `publicKey.hint` = base64(SHA-256(SPKI)), as cosign
/// writes it, and no tlog entry.
fn key_bundle(signer: &dyn Signer, digest: &Digest, signature: &[u8]) -> wire::Bundle {
    wire::Bundle {
        media_type: wire::MEDIA_TYPE_V03.into(),
        verification_material: Some(wire::VerificationMaterial {
            public_key: Some(wire::PublicKeyIdentifier {
                hint: crate::encoding::b64_encode(signer.public_key().key_id()),
            }),
            ..Default::default()
        }),
        message_signature: Some(wire::MessageSignature {
            message_digest: Some(wire::HashOutput {
                algorithm: digest.algorithm().proto_name().into(),
                digest: wire::Base64Bytes(digest.as_bytes().to_vec()),
            }),
            signature: wire::Base64Bytes(signature.to_vec()),
        }),
        dsse_envelope: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{EcdsaP256Signer, SignatureScheme};

    #[test]
    fn key_signature_verifies_over_the_artifact_and_bundle_carries_it() {
        let signer = EcdsaP256Signer::generate();
        let artifact = b"hello sigbox".to_vec();
        let signed = sign_blob_with_key(&signer, &artifact[..]).expect("signs");
        signer
            .public_key()
            .verify(SignatureScheme::EcdsaSha256, &artifact, &signed.signature)
            .expect("signature is over the artifact bytes");
        let json = signed.bundle.to_json().expect("serializes");
        let value: serde_json::Value = serde_json::from_str(&json).expect("json");
        assert_eq!(value["mediaType"], wire::MEDIA_TYPE_V03);
        assert_eq!(value["messageSignature"]["messageDigest"]["algorithm"], "SHA2_256");
        assert_eq!(
            value["messageSignature"]["messageDigest"]["digest"],
            crate::encoding::b64_encode(signed.digest.as_bytes())
        );
    }
}
