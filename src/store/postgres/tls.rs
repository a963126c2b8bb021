//! TLS to the database through the project's rustls (aws-lc), so that the PostgreSQL client
//! brings no second TLS stack: a small adapter from `tokio-rustls` to `tokio-postgres`'s
//! `MakeTlsConnect` / `TlsConnect` / `TlsStream` traits.
//!
//! The server certificate is always verified, against the CA file the URL names with
//! `sslrootcert=` (a database's certificate comes from the operator's own CA, rarely from a
//! public one), and its name against the host of the URL.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};

/// Makes one rustls connection per database connection.
#[derive(Clone)]
pub struct RustlsConnect {
    config: Arc<rustls::ClientConfig>,
}

impl RustlsConnect {
    /// A connector trusting the PEM certificates in `ca_pem` (at least one).
    ///
    /// Errors: a message naming what is wrong with the CA file.
    pub fn with_ca(ca_pem: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(ca_pem).map_err(|_| "sslrootcert is not PEM text")?;
        let blocks = crate::encoding::pem_decode_all(text).map_err(|_| "sslrootcert is not PEM")?;
        let mut roots = rustls::RootCertStore::empty();
        let mut found = 0;
        for (label, der) in blocks {
            if label == "CERTIFICATE" {
                roots
                    .add(der.into())
                    .map_err(|e| format!("sslrootcert holds an unusable certificate: {e}"))?;
                found += 1;
            }
        }
        if found == 0 {
            return Err("sslrootcert holds no CERTIFICATE".into());
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS configuration: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(RustlsConnect { config: Arc::new(config) })
    }
}

impl<S> MakeTlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type TlsConnect = Connect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> io::Result<Connect> {
        let name = rustls::pki_types::ServerName::try_from(domain.to_string())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "bad database host name"))?;
        Ok(Connect { config: self.config.clone(), name })
    }
}

/// One pending TLS handshake.
pub struct Connect {
    config: Arc<rustls::ClientConfig>,
    name: rustls::pki_types::ServerName<'static>,
}

impl<S> TlsConnect<S> for Connect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Stream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let connector = tokio_rustls::TlsConnector::from(self.config);
            Ok(Stream(connector.connect(self.name, stream).await?))
        })
    }
}

/// A TLS stream to the database.
pub struct Stream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> tokio_postgres::tls::TlsStream for Stream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM channel binding is optional; authentication still runs over verified TLS.
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
