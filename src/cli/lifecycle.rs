//! What every long-running front end shares: the wall clock (the one place the process
//! reads it; the core takes the time as a parameter), the shutdown signal and the TLS flags.

use anyhow::Context;

/// Completes on SIGTERM or Ctrl-C (SIGINT).
pub(crate) async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

/// The wall clock, Unix seconds: the one place the servers read the time.
// reason: the CLI is where the clock enters; the core takes the time as a parameter.
#[allow(clippy::disallowed_methods)]
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `--tls-cert` / `--tls-key`: serve HTTPS (rustls) instead of plain HTTP.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TlsArgs {
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
}

impl TlsArgs {
    /// The rustls configuration, if TLS was asked for.
    pub(crate) fn load(&self) -> anyhow::Result<Option<crate::http::TlsConfig>> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else { return Ok(None) };
        let read = |p: &std::path::PathBuf| {
            std::fs::read(p).with_context(|| format!("reading {}", p.display()))
        };
        Ok(Some(crate::http::tls_config(&read(cert)?, &read(key)?).context("setting up TLS")?))
    }
}
