//! `cosign copy SRC DST`: copies an image with its signatures and attestations (legacy
//! tags and referrers) to another repository or registry.

use std::process::ExitCode;

use anyhow::Context;

use super::flags::parse_bool;
use super::image_flags::{self, RegistryArgs};
use crate::cli::exit::{self, Usage};
use crate::cli::output;
use crate::oci::store::{copy, CopyWhat, RegistryStore};

/// Flags of `cosign copy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source image.
    source: String,
    /// Destination image.
    destination: String,
    /// Copy only these (comma-separated: sig, att).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Overwrite without asking.
    #[arg(short = 'f', long, default_value = "false", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, value_parser = parse_bool)]
    force: bool,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut what = CopyWhat { image: true, signatures: true, attestations: true };
    if !args.only.is_empty() {
        what = CopyWhat { image: false, signatures: false, attestations: false };
        for item in &args.only {
            match item.as_str() {
                "sig" => what.signatures = true,
                "att" => what.attestations = true,
                other => return Err(Usage(format!("--only {other:?}: want sig or att")).into()),
            }
        }
    }
    let client = args.registry.client()?;
    let source = image_flags::reference(&args.source)?;
    let destination = image_flags::reference(&args.destination)?;
    let descriptor = client
        .head_manifest(&source)
        .with_context(|| format!("resolving {source}"))?
        .ok_or_else(|| anyhow::anyhow!("image {source} not found"))?;
    let src = RegistryStore { client: &client, repo: source.clone() };
    let dst = RegistryStore { client: &client, repo: destination.clone() };
    let written = copy(&src, &dst, &descriptor.digest, destination.tag(), what)
        .with_context(|| format!("copying {source} to {destination}"))?;
    let _ = args.force;
    output::status(format!("Copied {written} manifests from {source} to {destination}"));
    Ok(exit::Code::Success.into())
}
