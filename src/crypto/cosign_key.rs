//! cosign's encrypted private key files (`cosign.key`) and key import.
//!
//! Format (cosign `pkg/cosign/keys.go`): a PEM block labelled `ENCRYPTED SIGSTORE PRIVATE
//! KEY` (or the legacy `ENCRYPTED COSIGN PRIVATE KEY`) whose body is JSON:
//! `{"kdf":{"name":"scrypt","params":{"N":..,"r":8,"p":1},"salt":b64},
//!   "cipher":{"name":"nacl/secretbox","nonce":b64},"ciphertext":b64}`.
//! The key is scrypt(password, salt, N, r, p, 32); the ciphertext is NaCl secretbox
//! (XSalsa20-Poly1305, tag first) of a PKCS#8 DER private key.

use std::fmt;

use crypto_secretbox::aead::{Aead, KeyInit};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{signer_from_pkcs8_der, signer_from_sec1_der, Signer};

/// The PEM label cosign writes today.
pub const SIGSTORE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The legacy label, still read.
pub const COSIGN_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";

/// The scrypt cost sigbox writes: N = 2^15, r = 8, p = 1, cosign's long-standing
/// parameter set (accepted by every cosign release).
pub const WRITE_LOG_N: u8 = 15;

/// A password, zeroized on drop and never printed.
#[derive(Clone)]
pub struct Password(Zeroizing<Vec<u8>>);

impl Password {
    /// Wraps password bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Password(Zeroizing::new(bytes.into()))
    }

    fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// Why a cosign key file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The text is not a PEM block.
    #[error("not a PEM key file")]
    NotPem(#[source] crate::encoding::PemError),
    /// The PEM label is not one of cosign's encrypted-key labels.
    #[error("unexpected PEM label {0:?}, expected {SIGSTORE_KEY_LABEL:?} or {COSIGN_KEY_LABEL:?}")]
    WrongLabel(String),
    /// The PEM body is not the expected JSON.
    #[error("malformed encrypted key JSON")]
    MalformedJson(#[source] serde_json::Error),
    /// A base64 field did not decode, or had the wrong length.
    #[error("malformed field {0} in the encrypted key")]
    MalformedField(&'static str),
    /// The KDF or cipher is not the one cosign uses.
    #[error("unsupported {what} {name:?}")]
    UnsupportedAlgorithm {
        /// `kdf` or `cipher`.
        what: &'static str,
        /// The name found.
        name: String,
    },
    /// scrypt parameters outside cosign's three allowed sets.
    #[error("unsupported scrypt parameters N={n} r={r} p={p}")]
    UnsupportedScryptParams {
        /// Cost.
        n: u64,
        /// Block size.
        r: u32,
        /// Parallelism.
        p: u32,
    },
    /// Decryption failed: the password is wrong (or the file was altered).
    #[error("decryption failed: wrong password or corrupted key file")]
    WrongPassword,
    /// The decrypted key is not PKCS#8 (cosign rejects SEC1 plaintext too).
    #[error("the decrypted private key is not a PKCS#8 key")]
    NotPkcs8(#[source] super::Error),
    /// A key to import could not be read.
    #[error("cannot import private key")]
    Import(#[source] super::Error),
    /// A PEM block to import has a label cosign does not import.
    #[error("cannot import a PEM block labelled {0:?}")]
    ImportLabel(String),
    /// Encryption or key derivation failed internally.
    #[error("encrypting the private key failed")]
    Encrypt,
}

#[derive(Serialize, Deserialize)]
struct EncryptedKey {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// Encrypts `signer`'s private key with `password` into cosign's PEM format.
pub fn encrypt_private_key(
    signer: &dyn Signer,
    password: &Password,
) -> Result<String, KeyFileError> {
    let plaintext = signer.to_pkcs8_der().map_err(|_| KeyFileError::Encrypt)?;
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    super::fill_random(&mut salt).map_err(|_| KeyFileError::Encrypt)?;
    super::fill_random(&mut nonce).map_err(|_| KeyFileError::Encrypt)?;
    let key = derive_key(password, &salt, WRITE_LOG_N, 8, 1)?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(key.as_ref().into());
    let ciphertext =
        cipher.encrypt(&nonce.into(), plaintext.as_slice()).map_err(|_| KeyFileError::Encrypt)?;
    let file = EncryptedKey {
        kdf: Kdf {
            name: "scrypt".into(),
            params: ScryptParams { n: 1 << WRITE_LOG_N, r: 8, p: 1 },
            salt: crate::encoding::b64_encode(salt),
        },
        cipher: Cipher { name: "nacl/secretbox".into(), nonce: crate::encoding::b64_encode(nonce) },
        ciphertext: crate::encoding::b64_encode(ciphertext),
    };
    let json = serde_json::to_vec(&file).map_err(KeyFileError::MalformedJson)?;
    Ok(crate::encoding::pem_encode(SIGSTORE_KEY_LABEL, &json))
}

/// Decrypts a cosign key file (either label) with `password`.
///
/// Errors name the problem: wrong label, malformed JSON, unsupported scrypt parameters,
/// wrong password, or a plaintext that is not PKCS#8.
pub fn decrypt_private_key(
    pem: &str,
    password: &Password,
) -> Result<Box<dyn Signer>, KeyFileError> {
    let sealed = Sealed::parse(pem)?;
    let key = derive_key(password, &sealed.salt, sealed.log_n, 8, 1)?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(key.as_ref().into());
    let plaintext = Zeroizing::new(
        cipher
            .decrypt(&sealed.nonce.into(), sealed.ciphertext.as_slice())
            .map_err(|_| KeyFileError::WrongPassword)?,
    );
    signer_from_pkcs8_der(&plaintext).map_err(KeyFileError::NotPkcs8)
}

/// An encrypted key file taken apart, before the (deliberately slow) key derivation: kept
/// separate so every check of the file's shape runs, and is fuzzed, without scrypt.
struct Sealed {
    log_n: u8,
    salt: Vec<u8>,
    nonce: [u8; 24],
    ciphertext: Vec<u8>,
}

impl Sealed {
    fn parse(pem: &str) -> Result<Sealed, KeyFileError> {
        let (label, body) = crate::encoding::pem_decode(pem).map_err(KeyFileError::NotPem)?;
        if label != SIGSTORE_KEY_LABEL && label != COSIGN_KEY_LABEL {
            return Err(KeyFileError::WrongLabel(label));
        }
        let file: EncryptedKey =
            serde_json::from_slice(&body).map_err(KeyFileError::MalformedJson)?;
        if file.kdf.name != "scrypt" {
            return Err(KeyFileError::UnsupportedAlgorithm { what: "kdf", name: file.kdf.name });
        }
        if file.cipher.name != "nacl/secretbox" {
            return Err(KeyFileError::UnsupportedAlgorithm {
                what: "cipher",
                name: file.cipher.name,
            });
        }
        // Only the parameters cosign writes: a file cannot ask for an arbitrarily costly
        // derivation.
        let ScryptParams { n, r, p } = file.kdf.params;
        let log_n = match (n, r, p) {
            (32768, 8, 1) => 15,
            (65536, 8, 1) => 16,
            (131072, 8, 1) => 17,
            _ => return Err(KeyFileError::UnsupportedScryptParams { n, r, p }),
        };
        let salt = crate::encoding::b64_decode(&file.kdf.salt)
            .ok_or(KeyFileError::MalformedField("salt"))?;
        let nonce: [u8; 24] = crate::encoding::b64_decode(&file.cipher.nonce)
            .and_then(|n| n.try_into().ok())
            .ok_or(KeyFileError::MalformedField("nonce"))?;
        let ciphertext = crate::encoding::b64_decode(&file.ciphertext)
            .ok_or(KeyFileError::MalformedField("ciphertext"))?;
        Ok(Sealed { log_n, salt, nonce, ciphertext })
    }
}

/// Fuzz entry point: every check of an encrypted key file short of the key derivation,
/// and the unencrypted import formats. Must never panic.
#[doc(hidden)]
pub fn fuzz_key_file(text: &str) {
    let _ = Sealed::parse(text);
    let _ = import_private_key_pem(text);
}

/// Reads an unencrypted private key for `cosign import-key-pair`: PEM `PRIVATE KEY`
/// (PKCS#8) or `EC PRIVATE KEY` (SEC1), P-256, P-384 or Ed25519.
pub fn import_private_key_pem(pem: &str) -> Result<Box<dyn Signer>, KeyFileError> {
    let (label, der) = crate::encoding::pem_decode(pem).map_err(KeyFileError::NotPem)?;
    let der = Zeroizing::new(der);
    match label.as_str() {
        "PRIVATE KEY" => signer_from_pkcs8_der(&der).map_err(KeyFileError::Import),
        "EC PRIVATE KEY" => signer_from_sec1_der(&der).map_err(KeyFileError::Import),
        _ => Err(KeyFileError::ImportLabel(label)),
    }
}

fn derive_key(
    password: &Password,
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    let params = scrypt::Params::new(log_n, r, p, 32).map_err(|_| KeyFileError::Encrypt)?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password.as_bytes(), salt, &params, key.as_mut())
        .map_err(|_| KeyFileError::Encrypt)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{EcdsaP256Signer, PublicKey};

    const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys");

    fn read(name: &str) -> String {
        std::fs::read_to_string(format!("{VECTORS}/{name}")).expect("fixture present")
    }

    #[test]
    fn real_cosign_keys_load_and_match_their_public_keys() {
        for (key, public) in [
            ("sigstore-labeled-ec.key", "sigstore-labeled-ec.pub"),
            ("cosign-labeled-ec.key", "cosign-labeled-ec.pub"),
        ] {
            let signer = decrypt_private_key(&read(key), &Password::new("hello"))
                .unwrap_or_else(|e| panic!("{key}: {e}"));
            let expected = PublicKey::from_pem(&read(public)).expect("public key fixture");
            assert_eq!(signer.public_key(), &expected, "{key}");
            let sig = signer.sign(b"payload").expect("signs");
            expected.verify(signer.scheme(), b"payload", &sig).expect("verifies");
        }
    }

    #[test]
    fn sec1_plaintext_is_rejected_like_cosign() {
        let err =
            decrypt_private_key(&read("cosign-labeled-sec1-INVALID.key"), &Password::new("hello"))
                .err()
                .expect("must be rejected");
        assert!(matches!(err, KeyFileError::NotPkcs8(_)), "{err}");
    }

    #[test]
    fn wrong_password_is_named() {
        let err = decrypt_private_key(&read("sigstore-labeled-ec.key"), &Password::new("nope"))
            .err()
            .expect("must fail");
        assert!(matches!(err, KeyFileError::WrongPassword), "{err}");
    }

    #[test]
    fn written_key_round_trips_and_uses_cosign_layout() {
        let signer = EcdsaP256Signer::generate();
        let pem = encrypt_private_key(&signer, &Password::new("pw")).expect("encrypts");
        assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        let (_, body) = crate::encoding::pem_decode(&pem).expect("pem");
        let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(json["kdf"]["params"]["N"], 32768);
        assert_eq!(json["cipher"]["name"], "nacl/secretbox");
        let back = decrypt_private_key(&pem, &Password::new("pw")).expect("decrypts");
        assert_eq!(back.public_key(), signer.public_key());
    }

    #[test]
    fn unsupported_scrypt_cost_is_rejected() {
        let json = br#"{"kdf":{"name":"scrypt","params":{"N":1024,"r":8,"p":1},"salt":"AA=="},"cipher":{"name":"nacl/secretbox","nonce":"AA=="},"ciphertext":"AA=="}"#;
        let pem = crate::encoding::pem_encode(SIGSTORE_KEY_LABEL, json);
        let err = decrypt_private_key(&pem, &Password::new("x")).err().expect("rejected");
        assert!(matches!(err, KeyFileError::UnsupportedScryptParams { n: 1024, .. }), "{err}");
    }

    #[test]
    fn truncated_key_file_is_an_error_not_a_panic() {
        let text = read("sigstore-labeled-ec.key");
        for cut in [10, text.len() / 2, text.len() - 40] {
            assert!(decrypt_private_key(&text[..cut], &Password::new("hello")).is_err());
        }
    }

    #[test]
    fn import_reads_pkcs8_and_sec1() {
        let signer = EcdsaP256Signer::generate();
        let pkcs8 =
            crate::encoding::pem_encode("PRIVATE KEY", &signer.to_pkcs8_der().expect("der"));
        let imported = import_private_key_pem(&pkcs8).expect("imports");
        assert_eq!(imported.public_key(), signer.public_key());
        assert!(matches!(
            import_private_key_pem(&crate::encoding::pem_encode("RSA PUBLIC KEY", b"x")),
            Err(KeyFileError::ImportLabel(_))
        ));
    }
}
