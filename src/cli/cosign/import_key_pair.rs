//! `cosign import-key-pair --key key.pem`: re-encrypts a PEM private key (PKCS#8 or SEC1)
//! into cosign's format.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{exit, output, password};
use crate::sign::keyfile;

/// Flags of `cosign import-key-pair`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The unencrypted PEM private key to import.
    #[arg(short = 'k', long)]
    key: PathBuf,
    /// Write the keys to PREFIX.key and PREFIX.pub.
    #[arg(short = 'o', long = "output-key-prefix", default_value = "import-cosign")]
    output_key_prefix: String,
    /// Overwrite existing key files without asking.
    #[arg(short = 'y', long = "yes")]
    yes: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let signer = keyfile::read_plain_private_key(&args.key)?;
    let password = password::new_key()?;
    let (key, public) =
        keyfile::write_key_pair(signer.as_ref(), &password, &args.output_key_prefix, args.yes)
            .context("writing the imported key pair (pass -y to overwrite existing files)")?;
    output::status(format!(
        "Private key written to {}\nPublic key written to {}",
        key.display(),
        public.display()
    ));
    Ok(exit::Code::Success.into())
}
