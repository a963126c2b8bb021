//! Server-side TLS: a rustls configuration (aws-lc provider, TLS 1.2 and 1.3, HTTP/1.1 ALPN)
//! from a PEM certificate chain and a PEM private key.

use std::sync::Arc;

use super::{Error, Result};

/// A ready server TLS configuration; cheap to clone.
#[derive(Clone)]
pub struct TlsConfig(pub(crate) Arc<rustls::ServerConfig>);

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsConfig")
    }
}

/// Builds the server TLS configuration from `cert_pem` (leaf first, then intermediates) and
/// `key_pem` (PKCS#8, SEC1 or PKCS#1).
///
/// Errors: [`Error::Tls`] naming the problem: no certificate, no key, a key that does not
/// match the certificate or that rustls cannot use.
pub fn tls_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<TlsConfig> {
    use rustls::pki_types::pem::{self, PemObject as _};
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Tls(format!("reading the certificate PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::Tls("the certificate file holds no CERTIFICATE block".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| match e {
        pem::Error::NoItemsFound => Error::Tls("the key file holds no private key block".into()),
        other => Error::Tls(format!("reading the private key PEM: {other}")),
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(format!("protocol versions: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::Tls(format!("certificate and key: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConfig(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_certificate_file_is_named_in_the_error() {
        let err = tls_config(b"", b"").unwrap_err();
        assert!(err.to_string().contains("no CERTIFICATE"), "{err}");
    }

    #[test]
    fn fixture_certificate_and_key_make_a_config_with_http1_alpn() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/rekor/tls/");
        let cert = std::fs::read(format!("{dir}server.crt")).unwrap();
        let key = std::fs::read(format!("{dir}server.key")).unwrap();
        let config = tls_config(&cert, &key).unwrap();
        assert_eq!(config.0.alpn_protocols, vec![b"http/1.1".to_vec()]);
        // The CA's certificate does not match the server key.
        let ca = std::fs::read(format!("{dir}ca.crt")).unwrap();
        assert!(tls_config(&ca, &key).is_err());
    }

    #[test]
    fn certificate_without_key_is_rejected() {
        let cert = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/rekor/tls/server.crt"
        ))
        .unwrap();
        let err = tls_config(cert.as_bytes(), b"no key here").unwrap_err();
        assert!(err.to_string().contains("no private key"), "{err}");
    }
}
