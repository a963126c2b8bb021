//! `sigbox oidc-server`: the **test** OpenID Connect issuer (auto-approving, its own key,
//! never trusted by default) on loopback, for local instances and tests.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::fulcio_server::serve_until_signal;
use super::lifecycle::unix_now;
use crate::http::Handler;
use crate::test_issuer::TestIssuer;

/// Flags of `sigbox oidc-server`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:5556")]
    listen: String,
    /// Data directory for the issuer's signing key.
    #[arg(long)]
    data_dir: PathBuf,
    /// Issuer URL written into tokens (default: http://<bound address>).
    #[arg(long)]
    issuer_url: Option<String>,
    #[command(flatten)]
    limits: super::lifecycle::LimitArgs,
    #[command(flatten)]
    log: super::lifecycle::LogArgs,
}

/// Runs `sigbox oidc-server`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    serve_until_signal(&args.listen, args.limits.limits(), None, move |addr| {
        let url = args.issuer_url.unwrap_or_else(|| format!("http://{addr}"));
        let issuer = TestIssuer::load_or_create(&args.data_dir, &url, unix_now)
            .context("starting the test OIDC issuer")?;
        tracing::warn!(issuer = %url, "TEST issuer: it signs a token for anyone who asks");
        Ok(Arc::new(issuer) as Arc<dyn Handler>)
    })
}
