//! `cosign save IMAGE --dir DIR` and `cosign load --dir DIR IMAGE`: an image with its
//! signatures and attestations to and from an OCI layout on disk, for air-gapped use
//! (`cosign verify --local-image DIR` reads it with no registry).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::image_flags::{self, RegistryArgs};
use crate::cli::{exit, output};
use crate::oci::local::LayoutStore;
use crate::oci::store::{copy, CopyWhat, RegistryStore};

const EVERYTHING: CopyWhat = CopyWhat { image: true, signatures: true, attestations: true };

/// Flags of `cosign save`.
#[derive(Debug, clap::Args)]
pub struct SaveArgs {
    /// The image.
    image: String,
    /// The layout directory to write.
    #[arg(long)]
    dir: PathBuf,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// Flags of `cosign load`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Where to push the image.
    image: String,
    /// The layout directory to read.
    #[arg(long)]
    dir: PathBuf,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// Runs `cosign save`.
pub fn save(args: SaveArgs) -> anyhow::Result<ExitCode> {
    let client = args.registry.client()?;
    let reference = image_flags::reference(&args.image)?;
    let descriptor = image_flags::resolve(&client, &reference)?;
    let layout = LayoutStore::open(&args.dir, true)?;
    let src = RegistryStore { client: &client, repo: reference.clone() };
    let name = reference.tag().unwrap_or("image");
    copy(&src, &layout, &descriptor.digest, Some(name), EVERYTHING)
        .with_context(|| format!("saving {reference} to {}", args.dir.display()))?;
    layout.save_index()?;
    output::status(format!(
        "Saved {} to {}",
        reference.with_digest(&descriptor.digest),
        args.dir.display()
    ));
    Ok(exit::Code::Success.into())
}

/// Runs `cosign load`.
pub fn load(args: LoadArgs) -> anyhow::Result<ExitCode> {
    let client = args.registry.client()?;
    let reference = image_flags::reference(&args.image)?;
    let layout = LayoutStore::open(&args.dir, false)?;
    let image = layout.image()?;
    let dst = RegistryStore { client: &client, repo: reference.clone() };
    copy(&layout, &dst, &image.digest, reference.tag(), EVERYTHING)
        .with_context(|| format!("loading {} into {reference}", args.dir.display()))?;
    output::status(format!(
        "Loaded {} as {}",
        args.dir.display(),
        reference.with_digest(&image.digest)
    ));
    Ok(exit::Code::Success.into())
}
