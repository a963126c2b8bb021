//! Private keys that sign: the [`Signer`] trait and its software implementations.
//!
//! Private key material zeroizes on drop (the RustCrypto key types implement
//! `ZeroizeOnDrop`) and never prints: every `Debug` here writes `[redacted]`.

use std::fmt;

use zeroize::Zeroizing;

use super::{Error, KeyKind, PublicKey, Result, SignatureScheme};

/// Something that signs with one private key: a software key here, a KMS or HSM elsewhere.
pub trait Signer: Send + Sync {
    /// The matching public key.
    fn public_key(&self) -> &PublicKey;
    /// The scheme [`Signer::sign`] uses.
    fn scheme(&self) -> SignatureScheme;
    /// Signs `message` (hashing it as the scheme says). ECDSA signatures are DER.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>>;
    /// Signs a digest computed elsewhere (hashedrekord, large streamed files).
    fn sign_prehashed(&self, digest: &[u8]) -> Result<Vec<u8>>;
    /// The private key as PKCS#8 DER, in memory that zeroizes on drop.
    fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>>;
}

/// Reads a PKCS#8 DER private key of any supported kind (P-256, P-384, Ed25519).
pub fn signer_from_pkcs8_der(der_bytes: &[u8]) -> Result<Box<dyn Signer>> {
    let info = pkcs8::PrivateKeyInfo::try_from(der_bytes)
        .map_err(|_| Error::MalformedPrivateKey("not a PKCS#8 PrivateKeyInfo"))?;
    match info.algorithm.oid.to_string().as_str() {
        "1.2.840.10045.2.1" => {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(|_| Error::MalformedPrivateKey("EC key without a named curve"))?;
            match curve.to_string().as_str() {
                "1.2.840.10045.3.1.7" => Ok(Box::new(EcdsaP256Signer::from_pkcs8_der(der_bytes)?)),
                "1.3.132.0.34" => Ok(Box::new(EcdsaP384Signer::from_pkcs8_der(der_bytes)?)),
                other => Err(Error::UnsupportedKey(format!("EC curve {other}"))),
            }
        }
        "1.3.101.112" => Ok(Box::new(Ed25519Signer::from_pkcs8_der(der_bytes)?)),
        "1.2.840.113549.1.1.1" => Err(Error::UnsupportedKey("RSA private keys".into())),
        other => Err(Error::UnsupportedKey(format!("private key algorithm {other}"))),
    }
}

/// Reads a PEM private key: `PRIVATE KEY` (PKCS#8), `EC PRIVATE KEY` (SEC1), or
/// `ENCRYPTED PRIVATE KEY` (PKCS#8 with PBES2, as Fulcio's file CA and `openssl pkcs8
/// -topk8` write it), decrypted with `password`.
pub fn signer_from_pem(pem: &str, password: Option<&[u8]>) -> Result<Box<dyn Signer>> {
    let (label, der_bytes) =
        crate::encoding::pem_decode(pem).map_err(|e| Error::MalformedPem(e.to_string()))?;
    let der_bytes = Zeroizing::new(der_bytes);
    match label.as_str() {
        "PRIVATE KEY" => signer_from_pkcs8_der(&der_bytes),
        "EC PRIVATE KEY" => signer_from_sec1_der(&der_bytes),
        "ENCRYPTED PRIVATE KEY" => {
            let password = password
                .ok_or(Error::MalformedPrivateKey("the key is encrypted: a password is needed"))?;
            let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der_bytes.as_slice())
                .map_err(|_| Error::MalformedPrivateKey("not a PKCS#8 EncryptedPrivateKeyInfo"))?;
            let plain = info
                .decrypt(password)
                .map_err(|_| Error::MalformedPrivateKey("decryption failed: wrong password?"))?;
            signer_from_pkcs8_der(plain.as_bytes())
        }
        other => Err(Error::MalformedPem(format!("unexpected private key label {other}"))),
    }
}

/// Reads a SEC1 `EC PRIVATE KEY` DER (OpenSSL's traditional EC format) on P-256 or P-384.
pub fn signer_from_sec1_der(der_bytes: &[u8]) -> Result<Box<dyn Signer>> {
    if let Ok(key) = p256::SecretKey::from_sec1_der(der_bytes) {
        return Ok(Box::new(EcdsaP256Signer::from_secret(key.into())));
    }
    if let Ok(key) = p384::SecretKey::from_sec1_der(der_bytes) {
        return Ok(Box::new(EcdsaP384Signer::from_secret(key.into())));
    }
    Err(Error::MalformedPrivateKey("not a SEC1 P-256 or P-384 key"))
}

macro_rules! ecdsa_signer {
    ($name:ident, $curve:ident, $kind:expr, $scheme:expr, $alg:expr, $hash:expr, $doc:literal) => {
        #[doc = $doc]
        ///
        /// Signatures are made by aws-lc (about 8x faster than the `p256` crate on this
        /// machine, see `make bench`; it also signs bare digests, and cleanses its copy of
        /// the key when freed); the RustCrypto key zeroizes on drop and exports the secret.
        pub struct $name {
            key: $curve::ecdsa::SigningKey,
            fast: aws_lc_rs::signature::EcdsaKeyPair,
            public: PublicKey,
        }

        impl $name {
            /// A fresh key from the OS random number generator.
            pub fn generate() -> Self {
                Self::from_secret($curve::ecdsa::SigningKey::random(&mut rand_core::OsRng))
            }

            /// Reads a PKCS#8 DER private key on this curve.
            pub fn from_pkcs8_der(der_bytes: &[u8]) -> Result<Self> {
                use pkcs8::DecodePrivateKey;
                let key = $curve::ecdsa::SigningKey::from_pkcs8_der(der_bytes)
                    .map_err(|_| Error::MalformedPrivateKey("not a PKCS#8 key on this curve"))?;
                Ok(Self::from_secret(key))
            }

            fn from_secret(key: $curve::ecdsa::SigningKey) -> Self {
                use spki::EncodePublicKey;
                let spki = key
                    .verifying_key()
                    .to_public_key_der()
                    .expect("encoding a valid curve point as SPKI cannot fail");
                let public = PublicKey::from_spki_der(spki.as_bytes())
                    .expect("an SPKI we just encoded parses");
                debug_assert_eq!(public.kind(), $kind);
                let pkcs8 = {
                    use pkcs8::EncodePrivateKey;
                    key.to_pkcs8_der().expect("a valid key encodes as PKCS#8")
                };
                let fast = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8($alg, pkcs8.as_bytes())
                    .expect("aws-lc reads the PKCS#8 of a valid key");
                $name { key, fast, public }
            }
        }

        impl Signer for $name {
            fn public_key(&self) -> &PublicKey {
                &self.public
            }

            fn scheme(&self) -> SignatureScheme {
                $scheme
            }

            fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                let sig = self.fast.sign(&rng, message).map_err(|_| Error::Signing)?;
                Ok(sig.as_ref().to_vec())
            }

            fn sign_prehashed(&self, digest: &[u8]) -> Result<Vec<u8>> {
                let hash: crate::crypto::HashAlgorithm = $hash;
                let digest = aws_lc_rs::digest::Digest::import_less_safe(digest, hash.aws_lc())
                    .map_err(|_| Error::Signing)?;
                let sig = self.fast.sign_digest(&digest).map_err(|_| Error::Signing)?;
                Ok(sig.as_ref().to_vec())
            }

            fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
                use pkcs8::EncodePrivateKey;
                let doc = self.key.to_pkcs8_der().map_err(|_| Error::Signing)?;
                Ok(Zeroizing::new(doc.as_bytes().to_vec()))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}([redacted], {:?})", stringify!($name), self.public)
            }
        }
    };
}

ecdsa_signer!(
    EcdsaP256Signer,
    p256,
    KeyKind::EcdsaP256,
    SignatureScheme::EcdsaSha256,
    &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
    crate::crypto::HashAlgorithm::Sha256,
    "An ECDSA P-256 key signing with SHA-256."
);
ecdsa_signer!(
    EcdsaP384Signer,
    p384,
    KeyKind::EcdsaP384,
    SignatureScheme::EcdsaSha384,
    &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
    crate::crypto::HashAlgorithm::Sha384,
    "An ECDSA P-384 key signing with SHA-384."
);

/// An Ed25519 key (C2SP signed-note keys, Rekor v2 style).
pub struct Ed25519Signer {
    key: ed25519_dalek::SigningKey,
    public: PublicKey,
}

impl Ed25519Signer {
    /// A fresh key from the OS random number generator.
    pub fn generate() -> Self {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        super::fill_random(seed.as_mut()).expect("the OS random number generator works");
        Self::from_secret(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// Reads a PKCS#8 DER Ed25519 key.
    pub fn from_pkcs8_der(der_bytes: &[u8]) -> Result<Self> {
        use pkcs8::DecodePrivateKey;
        let key = ed25519_dalek::SigningKey::from_pkcs8_der(der_bytes)
            .map_err(|_| Error::MalformedPrivateKey("not a PKCS#8 Ed25519 key"))?;
        Ok(Self::from_secret(key))
    }

    fn from_secret(key: ed25519_dalek::SigningKey) -> Self {
        let public = PublicKey::from_ed25519_raw(key.verifying_key().as_bytes())
            .expect("a valid Ed25519 key encodes as SPKI");
        Ed25519Signer { key, public }
    }
}

impl Signer for Ed25519Signer {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::Ed25519
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        use ed25519_dalek::Signer as _;
        Ok(self.key.sign(message).to_bytes().to_vec())
    }

    fn sign_prehashed(&self, _digest: &[u8]) -> Result<Vec<u8>> {
        Err(Error::SchemeMismatch { scheme: SignatureScheme::Ed25519, key: KeyKind::Ed25519 })
    }

    fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        use pkcs8::EncodePrivateKey;
        let doc = self.key.to_pkcs8_der().map_err(|_| Error::Signing)?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }
}

impl fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ed25519Signer([redacted], {:?})", self.public)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{digest, HashAlgorithm};

    fn round_trip(signer: &dyn Signer) {
        let msg = b"sigbox test message";
        let sig = signer.sign(msg).expect("signing works");
        let public = signer.public_key();
        public.verify(signer.scheme(), msg, &sig).expect("own signature verifies");
        assert!(public.verify(signer.scheme(), b"other message", &sig).is_err());
        let mut bad = sig.clone();
        if let Some(last) = bad.last_mut() {
            *last ^= 1;
        }
        assert!(public.verify(signer.scheme(), msg, &bad).is_err());
        // Reloading the PKCS#8 form gives the same public key.
        let reloaded =
            signer_from_pkcs8_der(&signer.to_pkcs8_der().expect("encodes")).expect("reloads");
        assert_eq!(reloaded.public_key(), public);
    }

    #[test]
    fn every_signer_round_trips() {
        round_trip(&EcdsaP256Signer::generate());
        round_trip(&EcdsaP384Signer::generate());
        round_trip(&Ed25519Signer::generate());
    }

    #[test]
    fn prehashed_signature_verifies_both_ways() {
        let signer = EcdsaP256Signer::generate();
        let msg = b"artifact bytes";
        let d = digest(HashAlgorithm::Sha256, msg);
        let sig = signer.sign_prehashed(d.as_bytes()).expect("signs");
        let public = signer.public_key();
        public.verify(SignatureScheme::EcdsaSha256, msg, &sig).expect("message path");
        public
            .verify_prehashed(SignatureScheme::EcdsaSha256, d.as_bytes(), &sig)
            .expect("prehash path");
        assert!(matches!(
            public.verify_prehashed(SignatureScheme::EcdsaSha256, &[0u8; 31], &sig),
            Err(Error::DigestLength { got: 31, want: 32 })
        ));
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let signer = EcdsaP256Signer::generate();
        let secret = signer.to_pkcs8_der().expect("encodes");
        let shown = format!("{signer:?}");
        assert!(shown.contains("[redacted]"));
        assert!(!shown.contains(&hex::encode(&secret[secret.len() - 8..])));
    }

    #[test]
    fn wrong_scheme_for_key_is_a_typed_error() {
        let signer = Ed25519Signer::generate();
        let err = signer.public_key().verify(SignatureScheme::EcdsaSha256, b"m", b"s");
        assert!(matches!(err, Err(Error::SchemeMismatch { .. })));
    }
}
