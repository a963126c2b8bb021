//! L0 cryptography: public keys, signers, digests and the OS RNG.
//!
//! This is the only module that names curves or signature algorithms. Everything above it
//! works with [`PublicKey`], [`SignatureScheme`] and the [`Signer`] trait, so a KMS or HSM
//! backend is one new `Signer` implementation. Signing and verifying go through aws-lc
//! (`aws-lc-rs`, also rustls's provider): measured 4-8x faster than the RustCrypto curves
//! (`make bench`), and it signs and verifies bare digests (a hashedrekord entry carries only
//! the artifact digest), which ring cannot. The RustCrypto crates parse and encode keys
//! (PKCS#8, SEC1, cosign key files) and hold the zeroizing copy of each secret.

pub mod cosign_key;
mod digest;
mod error;
mod jwk;
mod public_key;
mod secret_file;
mod signer;

pub use digest::{
    digest, digest_reader, key_identifier, sha1_identifier, Digest, HashAlgorithm, Sha256Stream,
};
pub use error::{Error, Result};
pub use jwk::{public_key_from_jwk, public_key_to_jwk};
pub use public_key::{
    ecdsa_der_to_fixed, ecdsa_fixed_to_der, rsa_modulus_bits, KeyKind, PublicKey, SignatureScheme,
};
pub use secret_file::{write_private_key, write_secret_file};
pub use signer::{
    signer_from_pem, signer_from_pkcs8_der, signer_from_sec1_der, EcdsaP256Signer, EcdsaP384Signer,
    Ed25519Signer, Signer,
};
/// Secrets held in memory are wrapped in this (wiped on drop).
pub use zeroize::Zeroizing;

/// Fills `buf` from the operating system's random number generator.
///
/// Every nonce, salt, serial number and key in sigbox comes from here.
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    use rand_core::RngCore;
    rand_core::OsRng.try_fill_bytes(buf).map_err(|_| Error::Rng)
}
