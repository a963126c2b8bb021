//! `cosign clean IMAGE`: deletes the image's signatures and/or attestations.

use std::process::ExitCode;

use super::flags::parse_bool;
use super::image_flags::{self, RegistryArgs};
use crate::cli::exit::{self, Usage};
use crate::cli::output;

/// Flags of `cosign clean`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The image.
    image: String,
    /// `signature`, `attestation` or `all`.
    #[arg(long = "type", default_value = "all")]
    kind: String,
    /// Do not ask for confirmation.
    #[arg(short = 'f', long, default_value = "false", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, value_parser = parse_bool)]
    force: bool,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (signatures, attestations) = match args.kind.as_str() {
        "signature" => (true, false),
        "attestation" => (false, true),
        "all" => (true, true),
        other => {
            return Err(
                Usage(format!("--type {other:?}: want signature, attestation or all")).into()
            )
        }
    };
    let client = args.registry.client()?;
    let reference = image_flags::reference(&args.image)?;
    let descriptor = image_flags::resolve(&client, &reference)?;
    let repo = image_flags::signature_repository()?.unwrap_or_else(|| reference.clone());
    let deleted =
        crate::oci::store::clean(&client, &repo, &descriptor.digest, signatures, attestations)?;
    for item in &deleted {
        output::status(format!("Removed {item}"));
    }
    let _ = args.force;
    Ok(exit::Code::Success.into())
}
