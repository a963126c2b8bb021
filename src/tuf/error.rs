//! Errors of the TUF client and repository.

use std::path::PathBuf;

/// Why a TUF refresh, a cache operation or the repository failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A metadata file or target failed a TUF check (the source names the check).
    #[error("{file} from {mirror}")]
    Check {
        /// The file checked.
        file: String,
        /// The mirror it came from.
        mirror: String,
        /// The failed check.
        #[source]
        source: crate::trust::tuf::Error,
    },
    /// The request could not be made.
    #[error("fetching {url}")]
    Transport {
        /// The URL.
        url: String,
        /// The HTTP client error.
        #[source]
        source: reqwest::Error,
    },
    /// The response body could not be read (or was longer than allowed: endless data).
    #[error(transparent)]
    Read(#[from] crate::http::ReadError),
    /// The mirror answered with an error status.
    #[error("fetching {url}: HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// The HTTP client could not be built.
    #[error(transparent)]
    Http(#[from] crate::http::Error),
    /// A cache or repository file could not be read or written.
    #[error("{what} {path}")]
    Io {
        /// What the file is.
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No `trust init` was run for this mirror.
    #[error("no TUF cache for {mirror} in {cache}: run `sigbox trust init --mirror URL --root ROOT.json`")]
    NotInitialised {
        /// The mirror.
        mirror: String,
        /// The cache directory looked in.
        cache: PathBuf,
    },
    /// The mirror URL is not http(s).
    #[error("mirror {0:?} is not an http:// or https:// URL")]
    MirrorUrl(String),
    /// Signing metadata failed.
    #[error("signing {role} metadata")]
    Sign {
        /// The role.
        role: &'static str,
        /// Why.
        #[source]
        source: crate::crypto::Error,
    },
    /// A key file is unusable.
    #[error("key file {path}")]
    KeyFile {
        /// Its path.
        path: PathBuf,
        /// Why.
        #[source]
        source: crate::crypto::Error,
    },
    /// A repository operation was refused.
    #[error("{0}")]
    Repository(String),
}

/// Result alias for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;
