//! `sigbox log fsck | backup | restore | export-tiles | export | import`: operating a log's
//! store (a `rekor-server` data directory, or a `fulcio-server` one for the CA's CT log, keys
//! and chain; `export`/`import` move it to and from PostgreSQL).
//!
//! `backup` talks to a running server through its admin socket (`DATA/admin.sock`, see
//! `ops::admin`) and opens the store itself when no server runs. `fsck` and `restore` work
//! on stores no server has open. Damage found is exit 1, naming the first bad thing.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args as ClapArgs, Subcommand, ValueEnum};

use super::{exit, output};
use crate::crypto::cosign_key::Password;
use crate::crypto::PublicKey;
use crate::ops::{self, admin, LogKind};

mod moving;
mod tiles;

/// `sigbox log ...`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a stopped log's store against its signed checkpoint (never repairs).
    Fsck {
        /// The server's data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Which log (default: from the directory: db/ is rekor, ct/ the CA's CT log).
        #[arg(long, value_enum)]
        kind: Option<Kind>,
        /// The log's public key (PEM), when its key is not in the data directory.
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// Also verify every Rekor entry's signed entry timestamp (covers the integrated
        /// time, which the Merkle leaf does not; several times slower).
        #[arg(long)]
        verify_sets: bool,
    },
    /// Back up a log (running or not) at one signed checkpoint into one file.
    Backup {
        /// The server's data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// The backup file to write (must not exist).
        #[arg(long)]
        to: PathBuf,
        /// Also put the private keys in the backup (a warning is printed).
        #[arg(long)]
        include_keys: bool,
        /// Encrypt the keys with a passphrase (SIGBOX_BACKUP_PASSPHRASE, or asked for on a
        /// terminal), with cosign's key-file encryption (scrypt + secretbox).
        #[arg(long, requires = "include_keys")]
        encrypt_keys: bool,
    },
    /// Restore a backup into a new data directory and prove its tree.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// The new data directory (must not exist or be empty).
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Export a stopped Rekor log as C2SP tlog-tiles files for static serving (incremental:
    /// files already present are kept; the checkpoint is replaced last).
    ExportTiles(tiles::Args),
    /// Copy a stopped server's embedded store into an empty PostgreSQL schema (one
    /// transaction, committed once the copy is proven against the signed checkpoint).
    Export(moving::ExportArgs),
    /// Copy a log from PostgreSQL into a new data directory's embedded store, proven
    /// against the signed checkpoint.
    Import(moving::ImportArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    Rekor,
    Ct,
}

/// The passphrase's environment variable.
const PASSPHRASE_ENV: &str = "SIGBOX_BACKUP_PASSPHRASE";

/// Runs `sigbox log ...`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Fsck { data_dir, kind, public_key, verify_sets } => {
            let kind = kind.map(|k| match k {
                Kind::Rekor => LogKind::Rekor,
                Kind::Ct => LogKind::Ct,
            });
            let key = match public_key {
                Some(path) => {
                    let pem = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    Some(PublicKey::from_pem(&pem).context("the public key")?)
                }
                None => None,
            };
            let mut bar = Bar::new("checking");
            let checked =
                ops::fsck_data_dir(&data_dir, kind, key, verify_sets, &mut |d, t| bar.set(d, t));
            bar.done();
            let checked = checked.map_err(judged)?;
            output::line(format!(
                "ok: {} entries, {} bytes of records, root {} matches the signed checkpoint",
                checked.entries,
                checked.record_bytes,
                crate::encoding::hex_encode(checked.root)
            ))?;
        }
        Command::Backup { data_dir, to, include_keys, encrypt_keys } => {
            let passphrase = if encrypt_keys { Some(passphrase(true)?) } else { None };
            if include_keys {
                output::status(format!(
                    "warning: {} will hold the log's private keys{}; keep it as safe as the keys",
                    to.display(),
                    if encrypt_keys { " (encrypted)" } else { " IN CLEAR" }
                ));
            }
            // Only for the error message; the library decides by connecting.
            let online = data_dir.join(admin::SOCKET).exists();
            let mut bar = Bar::new("backing up");
            let now = super::lifecycle::unix_now();
            let result = ops::backup_data_dir(
                &data_dir,
                &to,
                include_keys,
                passphrase.as_ref(),
                now,
                &mut |d, t| bar.set(d, t),
            );
            bar.done();
            let done = result.map_err(judged).with_context(|| match online {
                true => "backing up through the server's admin socket".to_string(),
                false => format!(
                    "no server socket at {}; opening the store directly",
                    data_dir.join(admin::SOCKET).display()
                ),
            })?;
            let how = if done.online { "online (admin socket)" } else { "offline" };
            output::line(format!(
                "backed up {} {} entries at root {} ({how}) to {}{}",
                done.info.size,
                done.info.kind,
                done.info.root,
                to.display(),
                match done.keys.is_empty() {
                    true => String::new(),
                    false => format!(" with keys {:?}", done.keys),
                }
            ))?;
        }
        Command::Restore { file, data_dir } => {
            let passphrase =
                std::env::var_os(PASSPHRASE_ENV).map(|p| Password::new(p.into_encoded_bytes()));
            let mut bar = Bar::new("restoring");
            let restored =
                ops::restore(&file, &data_dir, passphrase.as_ref(), &mut |d, t| bar.set(d, t));
            bar.done();
            let restored = restored.map_err(judged)?;
            output::line(format!(
                "restored {} {} entries into {}; the rebuilt tree's root {} equals the backup's signed checkpoint{}",
                restored.size,
                restored.kind.name(),
                data_dir.display(),
                crate::encoding::hex_encode(restored.root),
                if restored.files.is_empty() {
                    String::new()
                } else {
                    format!("; files {:?}", restored.files)
                }
            ))?;
        }
        Command::ExportTiles(args) => return tiles::run(args),
        Command::Export(args) => return moving::run_export(args),
        Command::Import(args) => return moving::run_import(args),
    }
    Ok(exit::Code::Success.into())
}

/// `--verify-on-start` of the servers: checks the store in `data_dir` (if it exists) as
/// `sigbox log fsck` does, before the server opens it; damage stops the start (exit 1).
pub(crate) fn verify_on_start(
    data_dir: &std::path::Path,
    kind: LogKind,
    signer_key: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    if !kind.store_dir(data_dir).is_dir() {
        return Ok(()); // a new log: nothing to check yet
    }
    let key = match signer_key {
        Some(path) => {
            let pem = zeroize::Zeroizing::new(
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?,
            );
            Some(crate::crypto::signer_from_pem(&pem, None)?.public_key().clone())
        }
        None => None,
    };
    let started = std::time::Instant::now();
    let checked = ops::fsck_data_dir(data_dir, Some(kind), key, false, &mut |_, _| {})
        .map_err(judged)
        .context("--verify-on-start: the store is damaged; not starting")?;
    tracing::info!(
        entries = checked.entries,
        ms = started.elapsed().as_millis() as u64,
        "store verified on start"
    );
    Ok(())
}

/// Damage found (in a store or a backup) is a definite "no": exit 1.
fn judged(e: ops::Error) -> anyhow::Error {
    if e.is_damage() {
        let text = format!("{:#}", anyhow::Error::new(e));
        anyhow::Error::new(exit::Rejected(text))
    } else {
        e.into()
    }
}

/// The backup passphrase: the environment, else typed twice on a terminal.
fn passphrase(new: bool) -> anyhow::Result<Password> {
    if let Some(p) = std::env::var_os(PASSPHRASE_ENV) {
        return Ok(Password::new(p.into_encoded_bytes()));
    }
    if !std::io::stdin().is_terminal() {
        return Err(exit::Usage(format!("no passphrase: set {PASSPHRASE_ENV}")).into());
    }
    let first = zeroize::Zeroizing::new(
        rpassword::prompt_password("Backup passphrase: ").context("reading the passphrase")?,
    );
    if new {
        let again = zeroize::Zeroizing::new(
            rpassword::prompt_password("Backup passphrase again: ")
                .context("reading the passphrase")?,
        );
        if *first != *again {
            return Err(exit::Usage("passphrases do not match".into()).into());
        }
    }
    Ok(Password::new(first.as_bytes().to_vec()))
}

/// A progress bar on stderr when it is a terminal; nothing otherwise.
struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    fn new(what: &str) -> Bar {
        if !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        Bar(Some(bar))
    }

    fn set(&mut self, done: u64, total: u64) {
        if let Some(bar) = &self.0 {
            bar.set_length(total);
            bar.set_position(done);
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
