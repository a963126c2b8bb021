//! PKCS#10 certification requests (RFC 2986): the CSR form of a Fulcio signing request,
//! whose self-signature is the proof of possession of the key.

use der::{Decode, Encode};
use x509_cert::request::CertReq;

use crate::crypto::{PublicKey, SignatureScheme};

/// Why a CSR was refused.
#[derive(Debug, thiserror::Error)]
pub enum CsrError {
    /// Not a DER or PEM `CERTIFICATE REQUEST`.
    #[error("malformed certificate signing request")]
    Malformed,
    /// The CSR's public key is not one sigbox reads.
    #[error("certificate signing request key")]
    Key(#[source] crate::crypto::Error),
    /// The signature algorithm is unknown.
    #[error("unsupported CSR signature algorithm {0}")]
    Algorithm(String),
    /// The self-signature does not verify: no proof of possession.
    #[error("certificate signing request signature does not verify")]
    BadSignature,
}

/// A parsed CSR whose self-signature has not been checked yet: lets the caller apply its
/// key policy before spending a signature check on a key it would refuse anyway.
#[derive(Debug, Clone)]
pub struct UnverifiedCsr {
    key: PublicKey,
    scheme: SignatureScheme,
    info: Vec<u8>,
    signature: Vec<u8>,
}

/// Reads a CSR given as DER or PEM (`CERTIFICATE REQUEST`). Subject, SANs and extensions
/// are ignored, as Fulcio ignores them.
///
/// Errors: [`CsrError::Malformed`], [`CsrError::Key`] for a key sigbox cannot read (P-521,
/// DSA, ...), [`CsrError::Algorithm`] for an unknown signature algorithm.
pub fn parse_csr(bytes: &[u8]) -> Result<UnverifiedCsr, CsrError> {
    let der_bytes = match std::str::from_utf8(bytes) {
        Ok(text) if text.contains("-----BEGIN") => {
            let (label, der_bytes) =
                crate::encoding::pem_decode(text).map_err(|_| CsrError::Malformed)?;
            if label != "CERTIFICATE REQUEST" && label != "NEW CERTIFICATE REQUEST" {
                return Err(CsrError::Malformed);
            }
            der_bytes
        }
        _ => bytes.to_vec(),
    };
    let request = CertReq::from_der(&der_bytes).map_err(|_| CsrError::Malformed)?;
    let spki = request.info.public_key.to_der().map_err(|_| CsrError::Malformed)?;
    let key = PublicKey::from_spki_der(&spki).map_err(CsrError::Key)?;
    let scheme = SignatureScheme::from_x509_oid(&request.algorithm.oid)
        .ok_or_else(|| CsrError::Algorithm(request.algorithm.oid.to_string()))?;
    let info = request.info.to_der().map_err(|_| CsrError::Malformed)?;
    let signature = request.signature.as_bytes().ok_or(CsrError::Malformed)?.to_vec();
    Ok(UnverifiedCsr { key, scheme, info, signature })
}

impl UnverifiedCsr {
    /// The key the CSR asks a certificate for (not yet proven).
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    /// Verifies the self-signature (the proof of possession) and returns the proven key.
    ///
    /// Errors: [`CsrError::BadSignature`].
    pub fn verify(self) -> Result<PublicKey, CsrError> {
        self.key
            .verify(self.scheme, &self.info, &self.signature)
            .map_err(|_| CsrError::BadSignature)?;
        Ok(self.key)
    }
}

/// Reads a CSR given as DER or PEM and verifies its self-signature; returns the key it
/// proves possession of ([`parse_csr`] then [`UnverifiedCsr::verify`]).
pub fn verify_csr(bytes: &[u8]) -> Result<PublicKey, CsrError> {
    parse_csr(bytes)?.verify()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Vec<u8> {
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/csr/openssl-p256.csr"))
            .expect("fixture")
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(matches!(verify_csr(b"nope"), Err(CsrError::Malformed)));
        assert!(matches!(
            verify_csr(
                b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
            ),
            Err(CsrError::Malformed)
        ));
    }

    #[test]
    fn openssl_csr_verifies_and_a_flipped_signature_does_not() {
        let pem = fixture();
        let key = verify_csr(&pem).expect("openssl CSR verifies");
        assert_eq!(key.kind(), crate::crypto::KeyKind::EcdsaP256);
        let text = String::from_utf8(pem).expect("utf-8");
        let (_, mut der_bytes) = crate::encoding::pem_decode(&text).expect("pem");
        let last = der_bytes.len() - 2;
        der_bytes[last] ^= 0x01;
        assert!(matches!(verify_csr(&der_bytes), Err(CsrError::BadSignature)));
    }
}
