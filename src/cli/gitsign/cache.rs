//! `gitsign-credential-cache` / `gitsign credential-cache`: run the per-user key cache.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

use crate::cli::exit::Code;
use crate::git::cache::{default_socket, Daemon};

/// Flags of the cache daemon.
#[derive(Debug, Parser)]
#[command(
    name = "gitsign-credential-cache",
    about = "Keeps gitsign's key and certificate for one login per burst of commits"
)]
struct Args {
    /// The socket (default: $GITSIGN_CREDENTIAL_CACHE, else in $XDG_RUNTIME_DIR or the temp dir).
    #[arg(long, env = "GITSIGN_CREDENTIAL_CACHE")]
    socket: Option<PathBuf>,
}

/// Binds the socket, prints its path and serves until killed.
pub fn run(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let args = Args::try_parse_from(args)?;
    let path = args.socket.unwrap_or_else(default_socket);
    let daemon = Daemon::bind(&path).context("starting the credential cache")?;
    let path = daemon.path().display();
    crate::cli::output::line(format!("gitsign-credential-cache: listening on {path}"))?;
    crate::cli::output::line(format!("export GITSIGN_CREDENTIAL_CACHE={path}"))?;
    daemon.serve(crate::cli::lifecycle::unix_now)?;
    Ok(Code::Success.into())
}
