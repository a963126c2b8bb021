//! `cosign public-key --key cosign.key`: prints (or writes) the public key of a key file.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::{exit, output, password};
use crate::sign::keyfile;

/// Flags of `cosign public-key`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The encrypted private key file.
    #[arg(long)]
    key: PathBuf,
    /// Write the public key here instead of stdout.
    #[arg(long)]
    outfile: Option<PathBuf>,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let password = password::existing(&args.key.display().to_string())?;
    let signer = keyfile::read_private_key(&args.key, &password)?;
    let pem = signer.public_key().to_pem();
    match args.outfile {
        Some(path) => keyfile::write_file(&path, pem.as_bytes(), 0o644, true)?,
        None => output::line(pem.trim_end())?,
    }
    Ok(exit::Code::Success.into())
}
