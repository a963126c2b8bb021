//! `cosign generate-key-pair`: a fresh P-256 key, encrypted into `cosign.key` (0600) and
//! `cosign.pub`.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{exit, output, password};
use crate::crypto::EcdsaP256Signer;
use crate::sign::keyfile;

/// Flags of `cosign generate-key-pair`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write the keys to PREFIX.key and PREFIX.pub.
    #[arg(long = "output-key-prefix", default_value = "cosign")]
    output_key_prefix: String,
    /// Overwrite existing key files without asking.
    #[arg(short = 'y', long = "yes")]
    yes: bool,
    /// KMS URI (not supported by sigbox).
    #[arg(long)]
    kms: Option<String>,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(kms) = args.kms {
        return Err(
            exit::Usage(format!("--kms {kms}: KMS keys are not supported by sigbox")).into()
        );
    }
    let password = password::new_key()?;
    let signer = EcdsaP256Signer::generate();
    let (key, public) =
        keyfile::write_key_pair(&signer, &password, &args.output_key_prefix, args.yes)
            .context("writing the key pair (pass -y to overwrite existing files)")?;
    output::status(format!(
        "Private key written to {}\nPublic key written to {}",
        key.display(),
        public.display()
    ));
    Ok(exit::Code::Success.into())
}
