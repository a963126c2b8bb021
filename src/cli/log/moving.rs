//! `sigbox log export --data-dir D --storage URL` and `sigbox log import --storage URL
//! --data-dir NEW`: moving a stopped log between its embedded store and PostgreSQL
//! (`ops::export`, `ops::import`, which prove the copy before they succeed).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Args as ClapArgs, ValueEnum};

use super::{judged, Bar};
use crate::cli::{exit, output};
use crate::ops::{self, MoveKind, Moved};

/// Flags of `sigbox log export`.
#[derive(Debug, ClapArgs)]
pub struct ExportArgs {
    /// The stopped server's data directory (rekor-server's, or fulcio-server's for the CT log).
    #[arg(long)]
    data_dir: PathBuf,
    /// The PostgreSQL database (`postgres://user@host:port/db`, as the servers' --storage);
    /// the log's schema there must be empty or absent.
    #[arg(long)]
    storage: String,
    /// Which log (default: from the data directory; an Ed25519 signer.key is Rekor v2).
    #[arg(long, value_enum)]
    kind: Option<Kind>,
    /// Verify with this private key's public half instead of the data directory's key.
    #[arg(long)]
    signer_key: Option<PathBuf>,
    /// Print a one-line JSON summary on stdout.
    #[arg(long)]
    json: bool,
}

/// Flags of `sigbox log import`.
#[derive(Debug, ClapArgs)]
pub struct ImportArgs {
    /// The PostgreSQL database holding the log (as the servers' --storage).
    #[arg(long)]
    storage: String,
    /// The new data directory (must not exist or be empty).
    #[arg(long)]
    data_dir: PathBuf,
    /// Which log (default: rekor, or rekor-v2 for an Ed25519 --signer-key).
    #[arg(long, value_enum)]
    kind: Option<Kind>,
    /// The log's private key: verifies the checkpoint and is copied into the new data
    /// directory (signer.key or ct.key, mode 0600) so the server keeps its identity.
    #[arg(long)]
    signer_key: Option<PathBuf>,
    /// Print a one-line JSON summary on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    Rekor,
    RekorV2,
    Ct,
}

impl From<Kind> for MoveKind {
    fn from(kind: Kind) -> MoveKind {
        match kind {
            Kind::Rekor => MoveKind::Rekor,
            Kind::RekorV2 => MoveKind::RekorV2,
            Kind::Ct => MoveKind::Ct,
        }
    }
}

/// Runs the export; damage (a checkpoint that does not verify, a tree that does not add up)
/// is exit 1, other failures (a non-empty target, no database) exit 2.
pub fn run_export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let public_key = match &args.signer_key {
        Some(path) => {
            let pem = zeroize::Zeroizing::new(
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?,
            );
            let signer = crate::crypto::signer_from_pem(&pem, None)
                .with_context(|| format!("the key in {}", path.display()))?;
            Some(signer.public_key().clone())
        }
        None => None,
    };
    let config = ops::ExportConfig {
        data_dir: args.data_dir.clone(),
        storage: args.storage,
        kind: args.kind.map(MoveKind::from),
        public_key,
    };
    let started = Instant::now();
    let mut bar = Bar::new("exporting");
    let result = ops::export(&config, &mut |d, t| bar.set(d, t));
    bar.done();
    let moved = result.map_err(judged).context("export")?;
    let to = format!("PostgreSQL schema {}", moved.kind.schema());
    show(&moved, &to, started, args.json)
}

/// Runs the import; exit codes as [`run_export`].
pub fn run_import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let config = ops::ImportConfig {
        storage: args.storage,
        data_dir: args.data_dir.clone(),
        kind: args.kind.map(MoveKind::from),
        signer_key: args.signer_key,
    };
    let started = Instant::now();
    let mut bar = Bar::new("importing");
    let result = ops::import(&config, &mut |d, t| bar.set(d, t));
    bar.done();
    let moved = result.map_err(judged).context("import")?;
    show(&moved, &args.data_dir.display().to_string(), started, args.json)
}

fn show(moved: &Moved, to: &str, started: Instant, json: bool) -> anyhow::Result<ExitCode> {
    let seconds = started.elapsed().as_secs_f64();
    let root = crate::encoding::hex_encode(moved.root);
    if json {
        let summary = serde_json::json!({
            "kind": moved.kind.name(),
            "entries": moved.entries,
            "size": moved.entries,
            "record_bytes": moved.record_bytes,
            "root": root,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "files": moved.files,
        });
        output::line(summary.to_string())?;
    } else {
        output::line(format!(
            "moved {} {} entries ({} bytes of records) to {to} in {seconds:.1} s; the \
             checkpoint verifies with the log key and the copied tree's root {root} equals it{}",
            moved.entries,
            moved.kind.name(),
            moved.record_bytes,
            if moved.files.is_empty() {
                String::new()
            } else {
                format!("; files {:?}", moved.files)
            }
        ))?;
    }
    Ok(exit::Code::Success.into())
}
