//! `tsa-server` (also `sigbox tsa-server`): the RFC 3161 timestamp authority front end.
//!
//! Parses flags into a [`tsa::service::Config`], opens the service (generating the chain
//! on first start), binds, prints `listening on http(s)://ADDR` and serves until SIGTERM
//! or Ctrl-C.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, ValueEnum};

use crate::http::Handler;
use crate::tsa::{self, service::Config, Curve, TsaService};

/// Flags of `tsa-server`.
#[derive(Debug, Parser)]
#[command(name = "tsa-server", version, about = "The RFC 3161 timestamp authority")]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:3004")]
    listen: String,
    /// Data directory: the generated chain and keys, the serial counter.
    #[arg(long)]
    data_dir: PathBuf,
    /// PEM chain of an existing TSA: signing certificate first, root last.
    #[arg(long, requires = "key")]
    cert_chain: Option<PathBuf>,
    /// PEM private key (unencrypted PKCS#8 or SEC1) of the signing certificate.
    #[arg(long, requires = "cert_chain")]
    key: Option<PathBuf>,
    /// Policy OID written into every token.
    #[arg(long, default_value = tsa::DEFAULT_POLICY_OID)]
    policy_oid: String,
    /// Curve of a key generated on first start. P-256 (the default, like the CA's) signs
    /// about three times as fast; P-384 is what public good's TSA uses. Clients verify both.
    #[arg(long, value_enum, default_value = "p256")]
    curve: CurveArg,
    #[command(flatten)]
    limits: super::lifecycle::LimitArgs,
    #[command(flatten)]
    tls: super::lifecycle::TlsArgs,
    #[command(flatten)]
    log: super::lifecycle::LogArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CurveArg {
    P256,
    P384,
}

/// Runs `tsa-server ARGS...` (`args[0]` is the program name).
pub fn run(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let args = Args::try_parse_from(args)?;
    let config = Config {
        data_dir: args.data_dir.clone(),
        chain_files: args.cert_chain.clone().zip(args.key.clone()),
        curve: match args.curve {
            CurveArg::P256 => Curve::P256,
            CurveArg::P384 => Curve::P384,
        },
        policy_oid: args.policy_oid.clone(),
        organization: crate::fulcio::service::DEFAULT_ORGANIZATION.into(),
    };
    let limits = args.limits.limits();
    let tls = args.tls.load()?;
    super::fulcio_server::serve_until_signal(&args.listen, limits, tls, move |_addr| {
        let service = TsaService::open(&config, super::lifecycle::unix_now)
            .context("starting the timestamp authority")?;
        Ok(Arc::new(service) as Arc<dyn Handler>)
    })
}
