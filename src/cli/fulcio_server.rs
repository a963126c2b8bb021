//! `fulcio-server` (also `sigbox fulcio-server`): the certificate authority front end.
//!
//! Parses flags, resolves them into a [`ServiceConfig`], opens the service, binds the socket,
//! prints `listening on http://ADDR` once bound (tests and scripts read it when the port is
//! 0) and serves until SIGTERM or Ctrl-C. Also holds the serving loop `oidc-server` shares.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, ValueEnum};

use super::{exit, output};
use crate::fulcio::ca::CaCurve;
use crate::fulcio::service::{self, CaSource, ServiceConfig};
use crate::http::{Handler, Limits};
use crate::oidc::OidcConfig;

/// Flags of `fulcio-server`.
#[derive(Debug, Parser)]
#[command(name = "fulcio-server", version, about = "The certificate authority (Fulcio v2 API)")]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:5555")]
    listen: String,
    /// Data directory: CA keys (when generated), CT log key and storage.
    #[arg(long)]
    data_dir: PathBuf,
    /// Keep the CT log on PostgreSQL (schema `ct`) instead of DATA_DIR/ct:
    /// `postgres://USER[:PASSWORD]@HOST:PORT/DB[?sslmode=require&sslrootcert=CA.pem]`.
    #[arg(long, value_name = "URL")]
    storage: Option<String>,
    /// OIDC issuer configuration (JSON, Fulcio's shape).
    #[arg(long)]
    config: PathBuf,
    /// PEM chain of an existing CA: issuing certificate first, root last.
    #[arg(long, requires = "ca_key")]
    ca_chain: Option<PathBuf>,
    /// PEM private key of the issuing certificate; an encrypted PKCS#8 key takes its
    /// password from SIGBOX_CA_PASSWORD.
    #[arg(long, requires = "ca_chain")]
    ca_key: Option<PathBuf>,
    /// Curve of CA keys generated on first start. P-384 matches public-good Fulcio's
    /// intermediate but signs about half as fast (two CA signatures per certificate).
    #[arg(long, value_enum, default_value = "p256")]
    ca_curve: Curve,
    #[command(flatten)]
    limits: super::lifecycle::LimitArgs,
    #[command(flatten)]
    tls: super::lifecycle::TlsArgs,
    #[command(flatten)]
    log: super::lifecycle::LogArgs,
    /// Check the CT log's store against its signed tree head before serving (as `sigbox
    /// log fsck`); refuse to start, naming the first bad entry, if it is damaged.
    #[arg(long)]
    verify_on_start: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Curve {
    P256,
    P384,
}

/// Runs `fulcio-server ARGS...` (`args[0]` is the program name).
pub fn run(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let args = Args::try_parse_from(args)?;
    let config = resolve(&args)?;
    let limits = args.limits.limits();
    let tls = args.tls.load()?;
    let (data_dir, verify_on_start) = (args.data_dir.clone(), args.verify_on_start);
    let storage = args.storage.clone();
    if verify_on_start && storage.is_some() {
        return Err(exit::Usage(
            "--verify-on-start checks the embedded store; it does not apply with --storage".into(),
        )
        .into());
    }
    serve_until_signal(&args.listen, limits, tls, move |_addr| {
        if verify_on_start {
            super::log::verify_on_start(&data_dir, crate::ops::LogKind::Ct, None)?;
        }
        let api =
            service::open_with_storage(config, storage.as_deref(), super::lifecycle::unix_now)
                .context("starting the CA")?;
        // Online backups of the CT log (`sigbox log backup`) come through DATA/admin.sock.
        let source = crate::ops::admin::Source {
            store: api.ct().store().clone(),
            kind: crate::ops::LogKind::Ct,
            key: api.ct().public_key(),
            current_key: None,
        };
        crate::ops::admin::spawn(&data_dir, source);
        Ok(Arc::new(api) as Arc<dyn Handler>)
    })
}

fn resolve(args: &Args) -> anyhow::Result<ServiceConfig> {
    let text = std::fs::read(&args.config)
        .with_context(|| format!("reading OIDC configuration {}", args.config.display()))?;
    let oidc = OidcConfig::from_json(&text)
        .with_context(|| format!("OIDC configuration {}", args.config.display()))?;
    let ca = match (&args.ca_chain, &args.ca_key) {
        (Some(chain), Some(key)) => CaSource::Files {
            chain: chain.clone(),
            key: key.clone(),
            password: std::env::var_os("SIGBOX_CA_PASSWORD")
                .map(|p| zeroize::Zeroizing::new(p.into_encoded_bytes())),
        },
        (None, None) => CaSource::Generated {
            curve: match args.ca_curve {
                Curve::P256 => CaCurve::P256,
                Curve::P384 => CaCurve::P384,
            },
        },
        _ => return Err(exit::Usage("--ca-chain and --ca-key go together".into()).into()),
    };
    Ok(ServiceConfig { data_dir: args.data_dir.clone(), oidc, ca })
}

/// Binds `listen` on a multi-thread runtime, builds the handler (given the bound address),
/// prints `listening on http(s)://ADDR` and serves until SIGTERM or Ctrl-C.
pub(crate) fn serve_until_signal(
    listen: &str,
    limits: Limits,
    tls: Option<crate::http::TlsConfig>,
    make_handler: impl FnOnce(SocketAddr) -> anyhow::Result<Arc<dyn Handler>>,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sigbox-server")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        // block_on runs this future on the main thread, not on a worker, so the blocking
        // start-up work (key generation, opening storage) stalls no other task.
        let handler = make_handler(addr)?;
        let shutdown = super::lifecycle::shutdown_signal();
        let scheme = if tls.is_some() { "https" } else { "http" };
        output::line(format!("listening on {scheme}://{addr}"))?;
        tracing::info!(%addr, "listening");
        match tls {
            Some(tls) => crate::http::serve_tls(listener, handler, limits, tls, shutdown).await,
            None => crate::http::serve(listener, handler, limits, shutdown).await,
        }
        .context("serving")?;
        tracing::info!("shutting down");
        Ok(exit::Code::Success.into())
    })
}
