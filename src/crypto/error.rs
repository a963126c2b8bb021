//! Errors of the crypto module.

/// What went wrong in a cryptographic operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not a DER SubjectPublicKeyInfo we can read.
    #[error("malformed public key (DER SubjectPublicKeyInfo)")]
    MalformedPublicKey,
    /// PEM text could not be decoded, or carried an unexpected label.
    #[error("malformed PEM: {0}")]
    MalformedPem(String),
    /// The key's algorithm or curve is not one sigbox supports.
    #[error("unsupported key type: {0}")]
    UnsupportedKey(String),
    /// The key cannot be used with the requested signature scheme.
    #[error("signature scheme {scheme:?} does not fit a {key:?} key")]
    SchemeMismatch {
        /// The scheme asked for.
        scheme: super::SignatureScheme,
        /// The kind of key at hand.
        key: super::KeyKind,
    },
    /// The digest has the wrong length for the scheme.
    #[error("digest is {got} bytes, the scheme needs {want}")]
    DigestLength {
        /// Length given.
        got: usize,
        /// Length required.
        want: usize,
    },
    /// The signature did not verify (or could not be parsed).
    #[error("signature does not verify")]
    BadSignature,
    /// The private key bytes could not be read.
    #[error("malformed private key: {0}")]
    MalformedPrivateKey(&'static str),
    /// Signing failed inside the backend.
    #[error("signing failed")]
    Signing,
    /// The OS random number generator failed.
    #[error("the operating system's random number generator failed")]
    Rng,
    /// Reading data to hash failed.
    #[error("reading data to hash")]
    Io(#[from] std::io::Error),
}

/// Result with the crypto error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
