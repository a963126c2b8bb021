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
    Storage(#[source] crate::store::Error),
    /// The log's PostgreSQL database is unreachable or refused the write (the message names
    /// the database); the request may be retried, on this server or another.
    #[error("the log's database is unavailable: {0}")]
    Database(String),
    /// This server cannot join the log in the database (another key or name).
    #[error("{0}")]
    SharedLog(String),
    /// The store's disk is below its free-space reserve: nothing was written, and writes
    /// are taken again once space returns.
    #[error(
        "the log's disk is full ({free} bytes free, {reserve} kept in reserve); try again later"
    )]
    NoSpace {
        /// Free bytes.
        free: u64,
        /// The reserve.
        reserve: u64,
    },
    /// Signing (SET or checkpoint) failed.
    #[error("signing failed")]
    Signing(#[source] crate::crypto::Error),
    /// Merkle computation failed (e.g. a proof request for an impossible size).
    #[error("merkle tree")]
    Tree(#[from] crate::tlog::Error),
    /// The log's sequencer has stopped (server shutting down or a fatal storage error).
    #[error("the log is not accepting entries")]
    Unavailable,
    /// A data-directory or key file could not be read or written.
    #[error("{}", path.display())]
    DataDir {
        /// The file or directory.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The log key file is unusable.
    #[error("log key {}: {problem}", path.display())]
    LogKey {
        /// The key file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// Client: the request to a Rekor server failed in transport.
    #[error("request to {url} failed")]
    Transport {
        /// The URL.
        url: String,
        /// The HTTP client error.
        #[source]
        source: reqwest::Error,
    },
    /// Client: the answer could not be read (connection lost, or larger than the cap).
    #[error("reading the rekor answer")]
    Read(#[source] crate::http::ReadError),
    /// Client: the server answered with an error status (its message quoted).
    #[error("rekor answered {status}: {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The server's `message`, or the start of its body.
        message: String,
    },
    /// Client: the server's answer lacks a field or has the wrong shape.
    #[error("malformed rekor response: {0}")]
    MalformedResponse(&'static str),
    /// Client: an entry or checkpoint from the log does not verify.
    #[error("log entry does not verify: {0}")]
    EntryCheck(String),
    /// Client: the log's new state cannot be an append-only extension of the remembered one.
    #[error("log is not consistent with the checkpoint remembered in {}: {problem}", state.display())]
    Inconsistent {
        /// The state file holding the remembered checkpoint.
        state: std::path::PathBuf,
        /// What does not match.
        problem: String,
    },
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
            Error::Unavailable | Error::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::NoSpace { .. } => StatusCode::INSUFFICIENT_STORAGE,
            Error::Storage(_)
            | Error::Signing(_)
            | Error::Tree(_)
            | Error::DataDir { .. }
            | Error::LogKey { .. }
            | Error::SharedLog(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Error::Transport { .. }
            | Error::Read(_)
            | Error::Rejected { .. }
            | Error::MalformedResponse(_)
            | Error::EntryCheck(_)
            | Error::Inconsistent { .. } => StatusCode::BAD_GATEWAY,
        }
    }
}

impl From<crate::store::Error> for Error {
    /// A database that is away is the client's 503 with its name; other store failures
    /// stay opaque 500s.
    fn from(e: crate::store::Error) -> Self {
        use crate::store::Error as S;
        match e {
            S::Postgres { .. } | S::Fenced { .. } => Error::Database(e.to_string()),
            other => Error::Storage(other),
        }
    }
}

/// Result with the rekor error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
