//! `rekor-server` / `sigbox rekor-server`: runs the transparency log (Rekor v1 API plus
//! tlog-tiles reads) on a socket.
//!
//! Binds the socket, resolves flags into a `rekor::service::ServiceConfig` (data directory,
//! key made on first start with mode 0600, checkpoint name defaulting to the bound address),
//! opens the log and serves it with `rekor::serve`. Prints one line `listening on http(s)://ADDR`
//! on stdout once the log is ready.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

use super::{exit, output};
use crate::ops::tiles::live::DEFAULT_TICK_MS;
use crate::rekor::{self, service, service::ServiceConfig, LogVersion};

/// Flags of `rekor-server`.
#[derive(Debug, Parser)]
#[command(name = "rekor-server", about = "The transparency log (Rekor v1 API, tlog-tiles)")]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Directory for the database and the generated signing key.
    #[arg(long)]
    data_dir: PathBuf,
    /// Keep the log on PostgreSQL instead of DATA_DIR/db:
    /// `postgres://USER[:PASSWORD]@HOST:PORT/DB[?sslmode=require&sslrootcert=CA.pem]`. Any
    /// number of servers may share one database (same --signer-key and --origin): all serve
    /// reads and take writes, one at a time integrates them.
    #[arg(long, value_name = "URL")]
    storage: Option<String>,
    /// PKCS#8 PEM private key (ECDSA P-256; Ed25519 with --v2) to sign SETs and checkpoints;
    /// default: DATA_DIR/signer.key, generated on first start.
    #[arg(long)]
    signer_key: Option<PathBuf>,
    /// Checkpoint key name (the log's hostname as clients know it); the origin line is
    /// `NAME - <tree ID>`. Default: the bound address, e.g. `127.0.0.1:3000`.
    #[arg(long)]
    origin: Option<String>,
    #[command(flatten)]
    limits: super::lifecycle::LimitArgs,
    /// Free space (MiB) kept on the data directory's disk: below it new entries get 507
    /// until space returns, so the store never meets a failed write.
    #[arg(long, default_value_t = 64)]
    min_free_mib: u64,
    /// Do not log the key-signed genesis entry at index 0 of a new log.
    #[arg(long)]
    no_genesis: bool,
    #[command(flatten)]
    tls: super::lifecycle::TlsArgs,
    #[command(flatten)]
    log: super::lifecycle::LogArgs,
    /// Run a Rekor v2 log instead: `POST /api/v2/log/entries` (hashedrekord 0.0.2), tiles
    /// for reads, an Ed25519 key, no SETs. The default name is the bound IP, without port.
    #[arg(long)]
    v2: bool,
    /// Check the whole store against its signed checkpoint before serving (as `sigbox log
    /// fsck`); refuse to start, naming the first bad entry, if it is damaged.
    #[arg(long)]
    verify_on_start: bool,
    /// Also publish the log as C2SP tlog-tiles files in this directory (checkpoint,
    /// tile/..., tile/entries/...) for a static web server, object store or CDN: immutable
    /// tiles, the checkpoint replaced atomically once its tiles are on disk.
    #[arg(long)]
    tiles_dir: Option<PathBuf>,
    /// How often (milliseconds) the tile exporter looks for newly integrated entries.
    #[arg(long, default_value_t = DEFAULT_TICK_MS, requires = "tiles_dir")]
    tiles_interval_ms: u64,
}

/// Runs `rekor-server ARGS...` until SIGINT/SIGTERM.
pub fn run(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let args = Args::try_parse_from(args)?;
    let tls = args.tls.load()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sigbox-rekor")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let bound = listener.local_addr().context("reading the bound address")?;
        let config = ServiceConfig {
            data_dir: args.data_dir.clone(),
            signer_key: args.signer_key.clone(),
            // compat(sigstore-go): v2 note verifiers are named by url.Hostname() (no port).
            name: args.origin.clone().unwrap_or_else(|| match args.v2 {
                true => bound.ip().to_string(),
                false => bound.to_string(),
            }),
            genesis: !args.no_genesis,
            version: if args.v2 { LogVersion::V2 } else { LogVersion::V1 },
        };
        if args.verify_on_start && args.storage.is_some() {
            return Err(exit::Usage(
                "--verify-on-start checks the embedded store; it does not apply with --storage"
                    .into(),
            )
            .into());
        }
        if args.verify_on_start {
            super::log::verify_on_start(&args.data_dir, crate::ops::LogKind::Rekor, args.signer_key.as_deref())?;
        }
        let log = service::open_with_storage(config, args.storage.as_deref(), system_clock())
            .await
            .with_context(|| match &args.storage {
                None => format!("opening the log in {}", args.data_dir.display()),
                Some(_) => "opening the log on PostgreSQL".to_string(),
            })?;
        // Online backups (`sigbox log backup`) come through DATA/admin.sock.
        let key = crate::crypto::PublicKey::from_pem(&log.public_key_pem())
            .context("the log's public key")?;
        let source = crate::ops::admin::Source {
            store: log.store().clone(),
            kind: crate::ops::LogKind::Rekor,
            key,
            current_key: None,
        };
        let admin_task = crate::ops::admin::spawn(&args.data_dir, source);
        let tiles = match &args.tiles_dir {
            Some(dir) => Some(
                crate::ops::tiles::live::LiveExport::start(
                    log.clone(),
                    dir,
                    std::time::Duration::from_millis(args.tiles_interval_ms.max(1)),
                )
                .with_context(|| format!("--tiles-dir {}", dir.display()))?,
            ),
            None => None,
        };
        log.set_reserve(args.min_free_mib.saturating_mul(1 << 20));
        tracing::info!(addr = %bound, name = %log.name(), size = log.head().size, "rekor listening");
        let shutdown = super::lifecycle::shutdown_signal();
        let scheme = if tls.is_some() { "https" } else { "http" };
        output::line(format!("listening on {scheme}://{bound}"))?;
        let limits = args.limits.limits();
        match tls {
            Some(tls) => rekor::serve_tls(listener, log.clone(), limits, tls, shutdown).await,
            None => rekor::serve(listener, log.clone(), limits, shutdown).await,
        }
        .context("serving")?;
        tracing::info!("shutting down");
        if let Some(task) = admin_task {
            task.abort();
            let _ = task.await;
        }
        // A last export of the final head; the exporter's handle on the log goes with it.
        if let Some(tiles) = tiles {
            tiles.stop().context("stopping the tile exporter")?;
        }
        // Integrate what was accepted, flush and release the store before exiting.
        log.close().context("closing the log")?;
        anyhow::Ok(())
    })?;
    Ok(exit::Code::Success.into())
}

/// The wall clock as the log takes it (`rekor::Clock`).
fn system_clock() -> rekor::Clock {
    Arc::new(super::lifecycle::unix_now)
}
