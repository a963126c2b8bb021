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
    blocking_client_with_ca(timeout, None)
}

/// Like [`blocking_client`], also trusting the CA certificates in `ca_pem` (one or more
/// PEM `CERTIFICATE` blocks), e.g. a private log's self-signed root.
///
/// Errors: [`Error::Tls`] when `ca_pem` holds no usable certificate; [`Error::ClientBuild`].
pub fn blocking_client_with_ca(timeout: Duration, ca_pem: Option<&[u8]>) -> Result<BlockingClient> {
    let mut builder = reqwest::blocking::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("sigbox/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| Error::Tls(format!("reading the CA certificates: {e}")))?;
        if certs.is_empty() {
            return Err(Error::Tls("the CA file holds no CERTIFICATE block".into()));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(Error::ClientBuild)
}
