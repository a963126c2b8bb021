//! The native `sigbox` command set: one table of subcommands, each a thin front end.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use super::{dispatch, exit, install_links, output};

/// The native command line.
#[derive(Debug, Parser)]
#[command(name = "sigbox", version, about = "Sigstore in one binary: CA, log, signer, verifier")]
struct Cli {
    /// List the personas (program names) this binary answers to.
    #[arg(long)]
    list: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create symlinks named after every persona (cosign, gitsign, ...) in DIR.
    InstallLinks {
        /// Directory for the links.
        dir: PathBuf,
        /// Replace existing regular files too.
        #[arg(long)]
        force: bool,
    },
    /// Sign an artifact: keyless (OIDC login, short-lived certificate, log entry) or --key.
    Sign(super::sign::Args),
    /// Verify a Sigstore bundle offline.
    Verify(super::verify::Args),
    /// Trust configuration: show it; init / update it from a TUF mirror.
    Trust(super::trust::Args),
    /// Run the TEST OpenID Connect issuer (signs a token for anyone; never trusted by default).
    OidcServer(super::oidc_server::Args),
    /// Print an ID token from a sigbox test issuer.
    Token(super::token::Args),
    /// Start the local test instance (CA + log + OIDC issuer on loopback).
    Up(super::up::Args),
    /// Talk to a Rekor log: upload, get, search, loginfo (a monitor), verify.
    Rekor(super::rekor::Args),
    /// Operate a log's store: fsck, backup, restore (rekor-server or fulcio-server data).
    Log(super::log::Args),
    /// Serve an instance's TUF repository (what `sigbox up` serves on its TUF port).
    TufServer(super::tuf::ServerArgs),
    /// TUF repository operations: new keys, sign a new root.
    Tuf(super::tuf::Args),
    /// Print a shell completion script for `sigbox` (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Runs `sigbox ARGS...`.
pub fn run(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let cli = Cli::try_parse_from(args)?;
    if cli.list {
        print!("{}", dispatch::list_text());
        return Ok(exit::Code::Success.into());
    }
    match cli.command {
        None => Err(exit::Usage("no command given; see `sigbox --help`".into()).into()),
        Some(Command::InstallLinks { dir, force }) => {
            for link in install_links::install_links(&dir, force)? {
                output::line(link.display().to_string())?;
            }
            Ok(exit::Code::Success.into())
        }
        Some(Command::Sign(args)) => super::sign::run(args),
        Some(Command::Verify(args)) => super::verify::run(args),
        Some(Command::Trust(args)) => super::trust::run(args),
        Some(Command::OidcServer(args)) => super::oidc_server::run(args),
        Some(Command::Token(args)) => super::token::run(args),
        Some(Command::Up(args)) => super::up::run(args),
        Some(Command::Rekor(args)) => super::rekor::run(args),
        Some(Command::Log(args)) => super::log::run(args),
        Some(Command::TufServer(args)) => super::tuf::serve(args),
        Some(Command::Tuf(args)) => super::tuf::run(args),
        Some(Command::Completions { shell }) => {
            use clap::CommandFactory as _;
            let mut command = Cli::command();
            let mut out = std::io::stdout().lock();
            clap_complete::generate(shell, &mut command, "sigbox", &mut out);
            Ok(exit::Code::Success.into())
        }
    }
}
