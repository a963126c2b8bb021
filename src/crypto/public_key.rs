//! Public keys read from DER SubjectPublicKeyInfo or PEM, and signature verification.

use std::fmt;

use der::{Decode, Encode};
use spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};

use super::{digest, Error, HashAlgorithm, Result};

/// The kinds of public key sigbox can verify with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// ECDSA on NIST P-256.
    EcdsaP256,
    /// ECDSA on NIST P-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// RSA (PKCS#1 v1.5 or PSS, decided by the scheme).
    Rsa,
}

/// A signature algorithm: the key type plus the hash and padding.
///
/// Certificates name it by OID, trusted roots by `keyDetails`, Rekor by the key alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    /// ECDSA with SHA-256, DER signature.
    EcdsaSha256,
    /// ECDSA with SHA-384, DER signature.
    EcdsaSha384,
    /// ECDSA with SHA-512, DER signature.
    EcdsaSha512,
    /// Pure Ed25519 (64-byte signature).
    Ed25519,
    /// RSA PKCS#1 v1.5 with SHA-256.
    RsaPkcs1Sha256,
    /// RSA PKCS#1 v1.5 with SHA-384.
    RsaPkcs1Sha384,
    /// RSA PKCS#1 v1.5 with SHA-512.
    RsaPkcs1Sha512,
    /// RSA-PSS with SHA-256 (MGF1 SHA-256, salt 32).
    RsaPssSha256,
    /// RSA-PSS with SHA-384.
    RsaPssSha384,
    /// RSA-PSS with SHA-512.
    RsaPssSha512,
}

impl SignatureScheme {
    /// The hash the scheme applies to the message (`None` for Ed25519, which hashes inside).
    pub fn hash(self) -> Option<HashAlgorithm> {
        use SignatureScheme::*;
        match self {
            EcdsaSha256 | RsaPkcs1Sha256 | RsaPssSha256 => Some(HashAlgorithm::Sha256),
            EcdsaSha384 | RsaPkcs1Sha384 | RsaPssSha384 => Some(HashAlgorithm::Sha384),
            EcdsaSha512 | RsaPkcs1Sha512 | RsaPssSha512 => Some(HashAlgorithm::Sha512),
            Ed25519 => None,
        }
    }

    /// The scheme named by an X.509 `signatureAlgorithm` OID (RFC 5758, RFC 8410, RFC 4055).
    ///
    /// RSA-PSS parameters are not read: sigbox assumes the hash of the PSS OID's usual
    /// pairing (SHA-256), which is what every Sigstore deployment uses.
    pub fn from_x509_oid(oid: &ObjectIdentifier) -> Option<Self> {
        Some(match oid.to_string().as_str() {
            "1.2.840.10045.4.3.2" => SignatureScheme::EcdsaSha256,
            "1.2.840.10045.4.3.3" => SignatureScheme::EcdsaSha384,
            "1.2.840.10045.4.3.4" => SignatureScheme::EcdsaSha512,
            "1.3.101.112" => SignatureScheme::Ed25519,
            "1.2.840.113549.1.1.11" => SignatureScheme::RsaPkcs1Sha256,
            "1.2.840.113549.1.1.12" => SignatureScheme::RsaPkcs1Sha384,
            "1.2.840.113549.1.1.13" => SignatureScheme::RsaPkcs1Sha512,
            "1.2.840.113549.1.1.10" => SignatureScheme::RsaPssSha256,
            _ => return None,
        })
    }

    /// The scheme a `kind` key uses with digests of `hash`: ECDSA with that hash (also the
    /// legacy P-384 + SHA-256 pairing), RSA PKCS#1 v1.5 with that hash, pure Ed25519 for
    /// Ed25519 keys (which cannot sign a bare digest; callers that only have a digest must
    /// refuse them).
    pub fn for_key_and_hash(kind: KeyKind, hash: HashAlgorithm) -> Self {
        use SignatureScheme::*;
        match (kind, hash) {
            (KeyKind::EcdsaP256 | KeyKind::EcdsaP384, HashAlgorithm::Sha256) => EcdsaSha256,
            (KeyKind::EcdsaP256 | KeyKind::EcdsaP384, HashAlgorithm::Sha384) => EcdsaSha384,
            (KeyKind::EcdsaP256 | KeyKind::EcdsaP384, HashAlgorithm::Sha512) => EcdsaSha512,
            (KeyKind::Rsa, HashAlgorithm::Sha256) => RsaPkcs1Sha256,
            (KeyKind::Rsa, HashAlgorithm::Sha384) => RsaPkcs1Sha384,
            (KeyKind::Rsa, HashAlgorithm::Sha512) => RsaPkcs1Sha512,
            (KeyKind::Ed25519, _) => Ed25519,
        }
    }

    /// The X.509 `signatureAlgorithm` OID of the scheme (RFC 5758, RFC 8410, RFC 4055).
    pub fn x509_oid(self) -> ObjectIdentifier {
        use SignatureScheme::*;
        ObjectIdentifier::new_unwrap(match self {
            EcdsaSha256 => "1.2.840.10045.4.3.2",
            EcdsaSha384 => "1.2.840.10045.4.3.3",
            EcdsaSha512 => "1.2.840.10045.4.3.4",
            Ed25519 => "1.3.101.112",
            RsaPkcs1Sha256 => "1.2.840.113549.1.1.11",
            RsaPkcs1Sha384 => "1.2.840.113549.1.1.12",
            RsaPkcs1Sha512 => "1.2.840.113549.1.1.13",
            RsaPssSha256 | RsaPssSha384 | RsaPssSha512 => "1.2.840.113549.1.1.10",
        })
    }

    /// The scheme named by a protobuf-specs `PublicKeyDetails` value, e.g.
    /// `PKIX_ECDSA_P256_SHA_256`.
    pub fn from_key_details(details: &str) -> Option<Self> {
        Some(match details {
            "PKIX_ECDSA_P256_SHA_256" | "PKIX_ECDSA_P256_HMAC_SHA_256" => Self::EcdsaSha256,
            "PKIX_ECDSA_P384_SHA_384" => Self::EcdsaSha384,
            "PKIX_ECDSA_P521_SHA_512" => Self::EcdsaSha512,
            "PKIX_ED25519" | "PKIX_ED25519_PH" => Self::Ed25519,
            "PKIX_RSA_PKCS1V15_2048_SHA256"
            | "PKIX_RSA_PKCS1V15_3072_SHA256"
            | "PKIX_RSA_PKCS1V15_4096_SHA256"
            | "PKCS1_RSA_PKCS1V5"
            | "PKIX_RSA_PKCS1V5" => Self::RsaPkcs1Sha256,
            "PKIX_RSA_PSS_2048_SHA256"
            | "PKIX_RSA_PSS_3072_SHA256"
            | "PKIX_RSA_PSS_4096_SHA256"
            | "PKCS1_RSA_PSS"
            | "PKIX_RSA_PSS" => Self::RsaPssSha256,
            _ => return None,
        })
    }
}

/// A parsed public key. Cheap to clone; compares by its DER SPKI.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicKey {
    kind: KeyKind,
    /// The whole DER SubjectPublicKeyInfo, as given.
    spki: Vec<u8>,
    /// The subjectPublicKey bits: an uncompressed EC point, a raw Ed25519 key or a
    /// PKCS#1 RSAPublicKey.
    raw: Vec<u8>,
}

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_ED25519: &str = "1.3.101.112";
const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";

impl PublicKey {
    /// Reads a DER SubjectPublicKeyInfo.
    ///
    /// Errors: [`Error::MalformedPublicKey`] for bytes that are not SPKI (or carry trailing
    /// data), [`Error::UnsupportedKey`] for algorithms and curves sigbox does not verify.
    pub fn from_spki_der(der_bytes: &[u8]) -> Result<Self> {
        let spki =
            SubjectPublicKeyInfoRef::from_der(der_bytes).map_err(|_| Error::MalformedPublicKey)?;
        let bits = spki.subject_public_key.as_bytes().ok_or(Error::MalformedPublicKey)?;
        let alg = spki.algorithm.oid.to_string();
        let (kind, raw) = match alg.as_str() {
            OID_EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters_oid()
                    .map_err(|_| Error::MalformedPublicKey)?
                    .to_string();
                match curve.as_str() {
                    OID_P256 => {
                        let key = p256::PublicKey::from_sec1_bytes(bits)
                            .map_err(|_| Error::MalformedPublicKey)?;
                        let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(
                            &key, false,
                        );
                        (KeyKind::EcdsaP256, point.as_bytes().to_vec())
                    }
                    OID_P384 => {
                        let key = p384::PublicKey::from_sec1_bytes(bits)
                            .map_err(|_| Error::MalformedPublicKey)?;
                        let point = p384::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(
                            &key, false,
                        );
                        (KeyKind::EcdsaP384, point.as_bytes().to_vec())
                    }
                    other => return Err(Error::UnsupportedKey(format!("EC curve {other}"))),
                }
            }
            OID_ED25519 => {
                if bits.len() != 32 {
                    return Err(Error::MalformedPublicKey);
                }
                (KeyKind::Ed25519, bits.to_vec())
            }
            OID_RSA | OID_RSA_PSS => {
                use rsa::pkcs1::DecodeRsaPublicKey;
                rsa::RsaPublicKey::from_pkcs1_der(bits).map_err(|_| Error::MalformedPublicKey)?;
                (KeyKind::Rsa, bits.to_vec())
            }
            other => return Err(Error::UnsupportedKey(format!("algorithm {other}"))),
        };
        Ok(PublicKey { kind, spki: der_bytes.to_vec(), raw })
    }

    /// Reads a PEM `PUBLIC KEY` block. Line length is not enforced: real keys (npm's
    /// registry key) put the whole base64 body on one line.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let (label, der_bytes) =
            crate::encoding::pem_decode(pem).map_err(|e| Error::MalformedPem(e.to_string()))?;
        if label != "PUBLIC KEY" {
            return Err(Error::MalformedPem(format!("expected PUBLIC KEY, found {label}")));
        }
        Self::from_spki_der(&der_bytes)
    }

    /// Reads a key given either as PEM text or as DER bytes.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self> {
        match std::str::from_utf8(bytes) {
            Ok(text) if text.trim_start().starts_with("-----BEGIN") => Self::from_pem(text),
            _ => Self::from_spki_der(bytes),
        }
    }

    /// Builds the key from a raw 32-byte Ed25519 public key.
    pub fn from_ed25519_raw(raw: &[u8; 32]) -> Result<Self> {
        let spki = spki::SubjectPublicKeyInfoRef {
            algorithm: spki::AlgorithmIdentifierRef {
                oid: ObjectIdentifier::new_unwrap(OID_ED25519),
                parameters: None,
            },
            subject_public_key: der::asn1::BitStringRef::from_bytes(raw)
                .map_err(|_| Error::MalformedPublicKey)?,
        };
        let der_bytes = spki.to_der().map_err(|_| Error::MalformedPublicKey)?;
        Self::from_spki_der(&der_bytes)
    }

    /// Builds a P-256 key from its uncompressed SEC1 point (`04 || x || y`), the form early
    /// TUF metadata (public-good roots 1-4) writes as hex.
    ///
    /// Errors: [`Error::MalformedPublicKey`] when the bytes are not a point on P-256.
    pub fn from_p256_point(point: &[u8]) -> Result<Self> {
        use spki::EncodePublicKey;
        let key = p256::PublicKey::from_sec1_bytes(point).map_err(|_| Error::MalformedPublicKey)?;
        let der_bytes = key.to_public_key_der().map_err(|_| Error::MalformedPublicKey)?;
        Self::from_spki_der(der_bytes.as_bytes())
    }

    /// What kind of key this is.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The subjectPublicKey contents (EC point, raw Ed25519 key, or PKCS#1 RSA key).
    pub fn raw_key(&self) -> &[u8] {
        &self.raw
    }

    /// The subjectPublicKey BIT STRING contents of the SPKI, as given (what an RFC 5280
    /// key identifier hashes).
    pub fn subject_public_key_bits(&self) -> Vec<u8> {
        SubjectPublicKeyInfoRef::from_der(&self.spki)
            .ok()
            .and_then(|spki| spki.subject_public_key.as_bytes().map(<[u8]>::to_vec))
            .unwrap_or_else(|| self.raw.clone())
    }

    /// PEM `PUBLIC KEY` text, 64-column lines and a final newline, as OpenSSL and Go write it.
    pub fn to_pem(&self) -> String {
        crate::encoding::pem_encode("PUBLIC KEY", &self.spki)
    }

    /// SHA-256 of the DER SPKI: the Rekor v1 log ID, CT log ID and cosign key ID.
    pub fn key_id(&self) -> [u8; 32] {
        let d = digest(HashAlgorithm::Sha256, &self.spki);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_bytes());
        out
    }

    /// The scheme used when nothing else names one: ECDSA with the curve's own hash,
    /// Ed25519, RSA PKCS#1 v1.5 with SHA-256.
    pub fn default_scheme(&self) -> SignatureScheme {
        match self.kind {
            KeyKind::EcdsaP256 => SignatureScheme::EcdsaSha256,
            KeyKind::EcdsaP384 => SignatureScheme::EcdsaSha384,
            KeyKind::Ed25519 => SignatureScheme::Ed25519,
            KeyKind::Rsa => SignatureScheme::RsaPkcs1Sha256,
        }
    }

    /// Verifies `signature` over `message` with the given scheme.
    ///
    /// Errors: [`Error::SchemeMismatch`] when the scheme does not fit the key,
    /// [`Error::BadSignature`] when the signature is malformed or wrong.
    pub fn verify(&self, scheme: SignatureScheme, message: &[u8], signature: &[u8]) -> Result<()> {
        let algorithm = self.algorithm(scheme)?;
        aws_lc_rs::signature::UnparsedPublicKey::new(algorithm, &self.raw)
            .verify(message, signature)
            .map_err(|_| Error::BadSignature)
    }

    /// Verifies `signature` over a message of which only the digest is known
    /// (hashedrekord entries, `sha256:` inputs, streamed large files).
    ///
    /// The digest length must match the scheme's hash. Ed25519 cannot verify a digest.
    /// ECDSA accepts either `s` (Go signs with both; `(r, s)` and `(r, n-s)` are both valid).
    pub fn verify_prehashed(
        &self,
        scheme: SignatureScheme,
        digest_bytes: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        let hash = scheme.hash().ok_or(Error::SchemeMismatch { scheme, key: self.kind })?;
        if digest_bytes.len() != hash.output_len() {
            return Err(Error::DigestLength { got: digest_bytes.len(), want: hash.output_len() });
        }
        let algorithm = self.algorithm(scheme)?;
        let digest =
            aws_lc_rs::digest::Digest::import_less_safe(digest_bytes, hash.aws_lc()).map_err(
                |_| Error::DigestLength { got: digest_bytes.len(), want: hash.output_len() },
            )?;
        aws_lc_rs::signature::UnparsedPublicKey::new(algorithm, &self.raw)
            .verify_digest(&digest, signature)
            .map_err(|_| Error::BadSignature)
    }

    /// The aws-lc verification algorithm for this key with `scheme`.
    ///
    /// aws-lc rather than the RustCrypto curves: it is 4-5x faster here (P-256 18.6k/s vs
    /// 4.1k/s prehashed, P-384 5.1k/s vs 0.7k/s; `make bench`), which is what bounds the
    /// log's and the verifier's throughput, and unlike ring it verifies bare digests.
    fn algorithm(
        &self,
        scheme: SignatureScheme,
    ) -> Result<&'static dyn aws_lc_rs::signature::VerificationAlgorithm> {
        use aws_lc_rs::signature as s;
        use SignatureScheme::*;
        Ok(match (self.kind, scheme) {
            (KeyKind::EcdsaP256, EcdsaSha256) => &s::ECDSA_P256_SHA256_ASN1,
            (KeyKind::EcdsaP256, EcdsaSha384) => &s::ECDSA_P256_SHA384_ASN1,
            (KeyKind::EcdsaP256, EcdsaSha512) => &s::ECDSA_P256_SHA512_ASN1,
            (KeyKind::EcdsaP384, EcdsaSha256) => &s::ECDSA_P384_SHA256_ASN1,
            (KeyKind::EcdsaP384, EcdsaSha384) => &s::ECDSA_P384_SHA384_ASN1,
            (KeyKind::EcdsaP384, EcdsaSha512) => &s::ECDSA_P384_SHA512_ASN1,
            (KeyKind::Ed25519, Ed25519) => &s::ED25519,
            (KeyKind::Rsa, RsaPkcs1Sha256) => &s::RSA_PKCS1_2048_8192_SHA256,
            (KeyKind::Rsa, RsaPkcs1Sha384) => &s::RSA_PKCS1_2048_8192_SHA384,
            (KeyKind::Rsa, RsaPkcs1Sha512) => &s::RSA_PKCS1_2048_8192_SHA512,
            (KeyKind::Rsa, RsaPssSha256) => &s::RSA_PSS_2048_8192_SHA256,
            (KeyKind::Rsa, RsaPssSha384) => &s::RSA_PSS_2048_8192_SHA384,
            (KeyKind::Rsa, RsaPssSha512) => &s::RSA_PSS_2048_8192_SHA512,
            (key, scheme) => return Err(Error::SchemeMismatch { scheme, key }),
        })
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({:?}, id {})", self.kind, hex::encode(&self.key_id()[..8]))
    }
}

/// Converts a fixed-width `r || s` ECDSA signature (JWS ES256/ES384) to DER.
pub fn ecdsa_fixed_to_der(kind: KeyKind, fixed: &[u8]) -> Result<Vec<u8>> {
    match kind {
        KeyKind::EcdsaP256 => p256::ecdsa::Signature::from_slice(fixed)
            .map(|s| s.to_der().as_bytes().to_vec())
            .map_err(|_| Error::BadSignature),
        KeyKind::EcdsaP384 => p384::ecdsa::Signature::from_slice(fixed)
            .map(|s| s.to_der().as_bytes().to_vec())
            .map_err(|_| Error::BadSignature),
        key => Err(Error::SchemeMismatch { scheme: SignatureScheme::EcdsaSha256, key }),
    }
}

/// Converts a DER ECDSA signature to fixed-width `r || s` (for minting JWS tokens).
pub fn ecdsa_der_to_fixed(kind: KeyKind, der_sig: &[u8]) -> Result<Vec<u8>> {
    match kind {
        KeyKind::EcdsaP256 => p256::ecdsa::Signature::from_der(der_sig)
            .map(|s| s.to_bytes().to_vec())
            .map_err(|_| Error::BadSignature),
        KeyKind::EcdsaP384 => p384::ecdsa::Signature::from_der(der_sig)
            .map(|s| s.to_bytes().to_vec())
            .map_err(|_| Error::BadSignature),
        key => Err(Error::SchemeMismatch { scheme: SignatureScheme::EcdsaSha256, key }),
    }
}

/// The modulus size in bits of an RSA key (`None` for other kinds), for key policies.
pub fn rsa_modulus_bits(key: &PublicKey) -> Option<usize> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::traits::PublicKeyParts;
    if key.kind() != KeyKind::Rsa {
        return None;
    }
    rsa::RsaPublicKey::from_pkcs1_der(key.raw_key()).ok().map(|k| k.n().bits())
}
