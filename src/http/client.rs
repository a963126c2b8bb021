//! The one place outgoing HTTP clients are configured (reqwest, rustls with webpki roots).
//! Service clients (`rekor::client`, `fulcio::client`) are handed one of these.
//!
//! reqwest is built without a TLS provider of its own (it would bring ring beside aws-lc),
//! so every client must come from [`builder`] or [`blocking_builder`], which install
//! aws-lc as rustls's process-wide provider first.

use std::time::Duration;

use super::{Error, Result};

/// A blocking HTTP client (reqwest). Cheap to clone: clones share one connection pool.
pub type BlockingClient = reqwest::blocking::Client;

/// The `User-Agent` of every outgoing request.
const USER_AGENT: &str = concat!("sigbox/", env!("CARGO_PKG_VERSION"));

/// Installs aws-lc as rustls's process default (once; later calls do nothing).
fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means another provider was installed first; any provider will do then.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

/// An async reqwest client builder with sigbox's TLS provider and user agent.
pub fn builder() -> reqwest::ClientBuilder {
    install_tls_provider();
    reqwest::Client::builder().user_agent(USER_AGENT)
}

/// A blocking reqwest client builder with sigbox's TLS provider and user agent.
/// Must not be built or used inside an async runtime.
pub fn blocking_builder() -> reqwest::blocking::ClientBuilder {
    install_tls_provider();
    reqwest::blocking::Client::builder().user_agent(USER_AGENT)
}

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
    let mut builder = blocking_builder().timeout(timeout);
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
