//! Errors of the rekor module, each with the HTTP status the API answers with.

use crate::http::StatusCode;

/// What went wrong handling a log request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request body is not JSON or lacks required fields.
    #[error("invalid request: {0}")]
    BadRequest(String),
    /// A proposed entry is malformed.
    #[error("invalid entry: {0}")]
    InvalidEntry(String),
    /// The kind/version pair is not one this log accepts.
    #[error("unsupported entry kind {0}")]
    UnsupportedKind(String),
    /// A signature inside a proposed entry does not verify.
    #[error("{kind} entry signature does not verify")]
    EntrySignature {
        /// The entry kind.
        kind: &'static str,
        /// Why.
        #[source]
        source: crate::crypto::Error,
    },
    /// The canonical body is too large for a tlog-tiles entry bundle (65535 bytes).
    #[error("canonical entry body is {0} bytes; at most 65535 are accepted")]
    BodyTooLarge(usize),
    /// An equivalent entry is already in the log.
    #[error("an equivalent entry already exists in the transparency log with UUID {entry_id}")]
    Duplicate {
        /// Its entry ID (80 hex).
        entry_id: String,
    },
    /// No entry or resource with that name.
    #[error("{0} not found")]
    NotFound(String),
    /// Storage failed.
    #[error("log storage failed")]
    Storage(#[from] crate::store::Error),
    /// Signing (SET or checkpoint) failed.
    #[error("signing failed")]
    Signing(#[source] crate::crypto::Error),
    /// Merkle computation failed (e.g. a proof request for an impossible size).
    #[error("merkle tree")]
    Tree(#[from] crate::tlog::Error),
    /// The log's sequencer has stopped (server shutting down or a fatal storage error).
    #[error("the log is not accepting entries")]
    Unavailable,
}

impl Error {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_)
            | Error::InvalidEntry(_)
            | Error::UnsupportedKind(_)
            | Error::EntrySignature { .. }
            | Error::BodyTooLarge(_) => StatusCode::BAD_REQUEST,
            Error::Tree(
                crate::tlog::Error::IndexOutOfRange { .. }
                | crate::tlog::Error::SizesOutOfOrder { .. },
            ) => StatusCode::BAD_REQUEST,
            Error::Duplicate { .. } => StatusCode::CONFLICT,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Error::Storage(_) | Error::Signing(_) | Error::Tree(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

/// Result with the rekor error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
