//! The `cosign` persona: cosign's subcommands and flag spellings, translated to the same
//! core calls the native `sigbox` commands use. One file per subcommand.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use super::exit;

/// cosign's command line.
#[derive(Debug, Parser)]
#[command(name = "cosign", version, about = "cosign-compatible signing and verification (sigbox)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print version information.
    Version,
}

/// Runs `cosign ARGS...`.
pub fn run(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let cli = Cli::try_parse_from(args)?;
    match cli.command {
        Command::Version => {
            super::output::line(format!("sigbox {} (cosign persona)", env!("CARGO_PKG_VERSION")))?;
            Ok(exit::Code::Success.into())
        }
    }
}
