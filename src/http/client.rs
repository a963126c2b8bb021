//! The one place outgoing HTTP clients are configured (reqwest, rustls with webpki roots).
//! Service clients (`rekor::client`, `fulcio::client`) are handed one of these.

use std::time::Duration;

use super::{Error, Result};

/// A blocking HTTP client (reqwest). Cheap to clone: clones share one connection pool.
pub type BlockingClient = reqwest::blocking::Client;

/// A blocking client with `timeout` for each whole request and a `sigbox/<version>`
/// user agent. Must not be built or used inside an async runtime.
///
/// Errors: [`Error::ClientBuild`] when the TLS backend cannot be set up.
pub fn blocking_client(timeout: Duration) -> Result<BlockingClient> {
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("sigbox/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(Error::ClientBuild)
}
