//! L3 timestamp authority (RFC 3161): the `tsa-server` service and the timestamp client
//! signers use.
//!
//! The authority's keys and chain live in a data directory ([`authority`]); the HTTP
//! service ([`service`]) turns DER `TimeStampReq`s and sigstore-js's JSON requests into
//! DER `TimeStampResp`s signed at the **current** time (the clock is a parameter, never a
//! request field); the client ([`client`]) asks a TSA for a token over signature bytes and
//! checks the answer before anyone stores it. Message formats are in
//! [`crate::x509::tsp`]. Spec: PROTOCOLS §8.

pub mod authority;
pub mod client;
pub mod service;

pub use authority::{Authority, Curve, SerialCounter};
pub use client::{timestamp, ClientError};
pub use service::{TsaService, TIMESTAMP_PATH};

/// Sigstore's TSA policy OID (what public good's TSA writes into TSTInfo).
pub const DEFAULT_POLICY_OID: &str = "1.3.6.1.4.1.57264.2";

/// Why the authority could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file of the data directory failed.
    #[error("TSA file {path}")]
    File {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The key file does not parse.
    #[error("TSA key {path}")]
    Key {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: crate::crypto::Error,
    },
    /// The chain file does not parse.
    #[error("TSA certificate chain {path}")]
    Certificate {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: crate::x509::Error,
    },
    /// Only part of a generated authority is in the data directory.
    #[error("{0} holds only part of a TSA (tsa-chain.pem or tsa-signing.key is missing)")]
    Partial(String),
    /// The chain is empty or its first certificate is not the key's.
    #[error("the TSA key does not match the first certificate of the chain")]
    KeyMismatch,
    /// The serial counter file is unreadable.
    #[error("TSA serial counter {path} is corrupt: {reason}")]
    Counter {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Building a certificate failed.
    #[error("building the TSA certificate")]
    Build(#[from] crate::x509::BuildError),
    /// Preparing the token signer failed.
    #[error("TSA token signer")]
    Token(#[from] crate::x509::tsp::TspError),
    /// The policy OID is not a dotted OID.
    #[error("TSA policy {0:?} is not an object identifier")]
    Policy(String),
    /// Random numbers were not available.
    #[error("random serial number")]
    Random(#[source] crate::crypto::Error),
}
