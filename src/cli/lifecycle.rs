//! What every long-running front end shares: the wall clock (the one place the process
//! reads it; the core takes the time as a parameter), the shutdown signal and the TLS flags.

use anyhow::Context;

/// Completes on SIGTERM or Ctrl-C (SIGINT). The handlers are installed when this is
/// called, not when the future is first polled: a server calls it before it says it is
/// listening, so a SIGTERM sent right after that line still stops it cleanly. Must be
/// called inside the tokio runtime.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let terminate = signal(SignalKind::terminate()).ok();
    let interrupt = signal(SignalKind::interrupt()).ok();
    async move {
        let wait = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = wait(interrupt) => {}
            _ = wait(terminate) => {}
        }
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

/// What a server allows one client: body size, time for headers and body, connections at
/// once. Shared by every server front end so each is hardened the same way.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LimitArgs {
    /// Largest request body in bytes (larger gets 413).
    #[arg(long, default_value_t = 128 * 1024)]
    max_body: usize,
    /// Seconds a client has to send its request headers (slowloris clients are cut off).
    #[arg(long, default_value_t = 10)]
    header_timeout: u64,
    /// Seconds a client has to send its request body (slower gets 408).
    #[arg(long, default_value_t = 30)]
    body_timeout: u64,
    /// Most client connections served at once; more are closed at once.
    #[arg(long, default_value_t = 16_384)]
    max_connections: usize,
}

impl LimitArgs {
    /// The limits, after raising the process's open-file limit so the connection cap, not
    /// the descriptor table, is what bounds the server (a warning if they disagree).
    pub(crate) fn limits(&self) -> crate::http::Limits {
        let files = crate::sys::raise_fd_limit();
        if let Some(files) = files.filter(|f| *f < self.max_connections as u64 + 64) {
            tracing::warn!(
                open_files = files,
                max_connections = self.max_connections,
                "the open-file limit is below the connection cap; connections beyond it are refused by the kernel"
            );
        }
        crate::http::Limits {
            max_body: self.max_body,
            header_timeout: std::time::Duration::from_secs(self.header_timeout.max(1)),
            body_timeout: std::time::Duration::from_secs(self.body_timeout.max(1)),
            max_connections: self.max_connections.max(1),
        }
    }
}

/// `--log-format text|json`, shared by every long-running server front end. The logger is
/// installed before arguments are parsed (so parse errors are logged too); it reads the
/// flag from argv through [`log_format_from_args`], and clap only checks and documents it.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LogArgs {
    /// Log line format on stderr: `text` for people, `json` (one object a line) for log
    /// collectors. The level comes from SIGBOX_LOG (default `warn`; servers say `info`).
    #[arg(long = "log-format", value_enum, default_value = "text")]
    log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The `--log-format` in raw argv (`--log-format json` or `--log-format=json`), or
/// `SIGBOX_LOG_FORMAT`; text when neither says json.
pub(crate) fn log_format_from_args(args: &[std::ffi::OsString]) -> LogFormat {
    let mut value = std::env::var("SIGBOX_LOG_FORMAT").ok();
    let mut args = args.iter().filter_map(|a| a.to_str());
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if arg == "--log-format" {
            value = args.next().map(str::to_string);
        } else if let Some(v) = arg.strip_prefix("--log-format=") {
            value = Some(v.to_string());
        }
    }
    match value.as_deref() {
        Some("json") => LogFormat::Json,
        _ => LogFormat::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_format_is_read_from_either_spelling() {
        let args = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        let json = log_format_from_args(&args(&["rekor-server", "--log-format", "json"]));
        assert_eq!(json, LogFormat::Json);
        let json = log_format_from_args(&args(&["sigbox", "up", "--log-format=json"]));
        assert_eq!(json, LogFormat::Json);
        let after = log_format_from_args(&args(&["sigbox", "--", "--log-format=json"]));
        assert_eq!(after, LogFormat::Text);
        assert_eq!(log_format_from_args(&args(&["sigbox", "up"])), LogFormat::Text);
    }
}
