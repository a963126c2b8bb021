//! `cosign triangulate IMAGE`: where cosign stores the image's signatures (or
//! attestations), as a reference.

use std::process::ExitCode;

use super::image_flags::{self, RegistryArgs};
use crate::cli::exit::{self, Usage};
use crate::cli::output;
use crate::oci::layout::{self, Kind};

/// Flags of `cosign triangulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The image.
    image: String,
    /// `signature`, `attestation` or `digest`.
    #[arg(long = "type", default_value = "signature")]
    kind: String,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let client = args.registry.client()?;
    let reference = image_flags::reference(&args.image)?;
    let digest = image_flags::digest_of(&client, &reference)?;
    let repo = image_flags::signature_repository()?.unwrap_or_else(|| reference.clone());
    let out = match args.kind.as_str() {
        "signature" => repo.with_tag(&layout::legacy_tag(&digest, Kind::Signature)).to_string(),
        "attestation" => repo.with_tag(&layout::legacy_tag(&digest, Kind::Attestation)).to_string(),
        "digest" => reference.with_digest(&digest).to_string(),
        other => {
            return Err(
                Usage(format!("--type {other:?}: want signature, attestation or digest")).into()
            )
        }
    };
    output::line(out)?;
    Ok(exit::Code::Success.into())
}
