//! L3 container images: an OCI distribution client ([`client`], [`auth`], [`reference`],
//! [`manifest`]), cosign's signature storage ([`layout`]: legacy `.sig`/`.att` tags and OCI
//! 1.1 referrers with the tag-schema fallback), and the glue that signs and verifies
//! images through the one signing pipeline (`crate::sign`) and the one verifier
//! (`crate::verify`) ([`sign`], [`verify`]), plus on-disk OCI layouts for air-gapped copies
//! ([`local`]).
//!
//! Nothing here reads or writes large layers to sign or verify an image: only manifests
//! and the small signature blobs are fetched.

pub mod auth;
pub mod client;
pub mod layout;
pub mod local;
pub mod manifest;
pub mod reference;
pub mod sign;
pub mod store;
pub mod verify;

pub use client::{Client, Options, Pulled};
pub use reference::Reference;

/// What can go wrong talking to a registry or reading cosign's layout.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The image reference does not parse.
    #[error("invalid image reference {reference:?}: {why}")]
    Reference {
        /// The text given.
        reference: String,
        /// What is wrong.
        why: String,
    },
    /// No scheme reached the registry.
    #[error("cannot reach registry {registry}: {detail}{hint}")]
    Unreachable {
        /// The registry.
        registry: String,
        /// The transport error.
        detail: String,
        /// A hint for the user.
        hint: &'static str,
    },
    /// A transport error mid-request.
    #[error("{what}: {detail}")]
    Http {
        /// The request.
        what: String,
        /// The transport error.
        detail: String,
    },
    /// 401/403 after answering the challenge, or no credentials for a basic challenge.
    #[error("{what}: not authorized by registry {registry}: {detail}")]
    Unauthorized {
        /// The request.
        what: String,
        /// The registry.
        registry: String,
        /// Why.
        detail: String,
    },
    /// 404.
    #[error("{what}: not found")]
    NotFound {
        /// The request.
        what: String,
    },
    /// Any other error status.
    #[error("{what}: registry answered HTTP {status}: {body}")]
    Status {
        /// The request.
        what: String,
        /// The status code.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// Content does not hash to the digest that names it.
    #[error("{what}: digest mismatch: expected {expected}, got {got}")]
    DigestMismatch {
        /// What was read.
        what: String,
        /// The digest asked for.
        expected: String,
        /// The digest of what came.
        got: String,
    },
    /// A body over its size cap.
    #[error("{what}: larger than {limit} bytes")]
    TooLarge {
        /// What was read.
        what: String,
        /// The cap.
        limit: u64,
    },
    /// A manifest, index or layout document that does not parse or is not what it says.
    #[error("{what}: {detail}")]
    Manifest {
        /// What was read.
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// Credentials could not be read.
    #[error("credentials for {registry}: {why}")]
    Credentials {
        /// The registry.
        registry: String,
        /// What went wrong.
        why: String,
    },
    /// TLS settings unusable.
    #[error("registry TLS: {0}")]
    Tls(String),
    /// Local file I/O (layouts, config).
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}
