//! `sigbox up`: the one-command local instance (CA + CT log, transparency log, test OIDC
//! issuer) on loopback, until Ctrl-C or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::{exit, output};
use crate::up::{self, UpConfig};

/// Flags of `sigbox up`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// State directory (keys, logs, trust files); kept across restarts.
    #[arg(long, default_value = ".sigbox-up")]
    data_dir: PathBuf,
    /// Address to bind (keep it on loopback: the test issuer approves anyone).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// CA (Fulcio) port; 0 picks a free one.
    #[arg(long, default_value_t = 3000)]
    fulcio_port: u16,
    /// Transparency log (Rekor) port.
    #[arg(long, default_value_t = 3001)]
    rekor_port: u16,
    /// Test OIDC issuer port.
    #[arg(long, default_value_t = 3002)]
    oidc_port: u16,
    /// Rekor v2 (tile log) port.
    #[arg(long, default_value_t = 3003)]
    rekor_v2_port: u16,
    /// Timestamp authority (RFC 3161) port.
    #[arg(long, default_value_t = 3004)]
    tsa_port: u16,
    /// TUF repository port (serves trusted_root.json and the signing config to TUF clients).
    #[arg(long, default_value_t = 3005)]
    tuf_port: u16,
    /// Also publish both transparency logs as C2SP tlog-tiles files for static serving, in
    /// DATA/tiles/rekor and DATA/tiles/rekor-v2 (as `rekor-server --tiles-dir`).
    #[arg(long)]
    tiles: bool,
    #[command(flatten)]
    limits: super::lifecycle::LimitArgs,
    #[command(flatten)]
    log: super::lifecycle::LogArgs,
    #[command(subcommand)]
    command: Option<UpCommand>,
}

#[derive(Debug, clap::Subcommand)]
enum UpCommand {
    /// Rotate a key: the old key's validFor closes now, a new key's opens; trust files and
    /// TUF targets are republished (bundles signed before still verify). A running instance
    /// switches to the new key at once (asked through DATA/admin.sock); a stopped one uses
    /// it from its next start.
    Rotate {
        /// Which key.
        #[arg(value_enum)]
        kind: RotateArg,
        /// The instance's state directory.
        #[arg(long, default_value = ".sigbox-up")]
        data_dir: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RotateArg {
    /// The CA (new root and intermediate).
    Ca,
    /// The Rekor log key.
    Log,
    /// The CT log key.
    Ct,
    /// The timestamp authority (new root and signing certificate).
    Tsa,
}

fn rotate(kind: RotateArg, data_dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    let kind = match kind {
        RotateArg::Ca => up::RotateKind::Ca,
        RotateArg::Log => up::RotateKind::Log,
        RotateArg::Ct => up::RotateKind::Ct,
        RotateArg::Tsa => up::RotateKind::Tsa,
    };
    let context = || format!("rotating the key of {}", data_dir.display());
    let (done, next) = match up::request_live_rotation(data_dir, kind).with_context(context)? {
        Some(done) => (done, "the running instance signs with the new key"),
        None => (
            up::rotate(data_dir, kind, super::lifecycle::unix_now()).with_context(context)?,
            "start the instance again to sign with the new key",
        ),
    };
    output::line(format!(
        "rotated at {}; old key files in {}; trust files and TUF targets republished ({next})",
        done.at,
        done.retired.display()
    ))?;
    Ok(exit::Code::Success.into())
}

/// Runs the instance.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(UpCommand::Rotate { kind, data_dir }) = &args.command {
        return rotate(*kind, data_dir);
    }
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let data_dir = std::fs::canonicalize(&args.data_dir)
        .with_context(|| format!("resolving {}", args.data_dir.display()))?;
    let config = UpConfig {
        data_dir,
        host: args.host,
        fulcio_port: args.fulcio_port,
        rekor_port: args.rekor_port,
        oidc_port: args.oidc_port,
        tuf_port: args.tuf_port,
        limits: args.limits.limits(),
        rekor_v2_port: args.rekor_v2_port,
        tsa_port: args.tsa_port,
        tiles: args.tiles,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sigbox-up")
        .build()
        .context("starting the async runtime")?;
    // The signal handlers are installed inside the runtime, before anything is served.
    let shutdown = {
        let _inside = runtime.enter();
        super::lifecycle::shutdown_signal()
    };
    runtime.block_on(up::run(
        config,
        super::lifecycle::unix_now,
        |started| {
            let d = &started.description;
            let tc = started.trust_config.display();
            let text = format!(
                "sigbox up: a local Sigstore instance (TEST ONLY: its OIDC issuer approves anyone)\n\
                 \x20 CA (Fulcio)      {}\n\
                 \x20 log (Rekor)      {}\n\
                 \x20 log (Rekor v2)   {}\n\
                 \x20 timestamps (TSA) {}\n\
                 \x20 OIDC issuer      {}\n\
                 \x20 trust config     {tc}\n\
                 \x20 trusted root     {}\n\
                 \x20 signing config   {}\n\
                 \x20 TUF repository   {} (root {})\n\
                 Sign:    SIGBOX_TRUST_CONFIG={tc} cosign sign-blob --bundle FILE.sigstore.json FILE\n\
                 Verify:  cosign verify-blob --trusted-root {tc} --bundle FILE.sigstore.json \\\n\
                 \x20          --certificate-identity test-user@sigbox.local --certificate-oidc-issuer {} FILE\n\
                 Token:   sigbox token --issuer {} --email you@example.com\n\
                 Trust it from elsewhere (copy root.json there first):\n\
                 \x20        sigbox trust init --mirror {} --root root.json\n\
                 ready",
                d.ca_url,
                d.rekor_url,
                d.rekor_v2_url,
                d.tsa_url,
                d.oidc_url,
                started.trusted_root.display(),
                started.signing_config.display(),
                started.tuf_url,
                started.tuf_root.display(),
                d.oidc_url,
                d.oidc_url,
                started.tuf_url,
            );
            let _ = output::line(text);
        },
        shutdown,
    ))
    .context("running the local instance")?;
    output::status("sigbox up: stopped");
    Ok(exit::Code::Success.into())
}
