//! Errors of the http module.

/// What went wrong running the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Accepting connections failed.
    #[error("accepting a connection on {addr}")]
    Accept {
        /// The listening address.
        addr: String,
        /// The socket error.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP client could not be built (TLS backend setup).
    #[error("building the HTTP client")]
    ClientBuild(#[source] reqwest::Error),
    /// A TLS certificate or key is unusable.
    #[error("tls: {0}")]
    Tls(String),
}

/// Result with the http error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
