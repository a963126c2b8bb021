//! `cosign tree IMAGE`: what is stored beside an image (signatures, attestations,
//! referrers), as cosign prints it.

use std::process::ExitCode;

use super::image_flags::{self, RegistryArgs};
use crate::cli::{exit, output};
use crate::oci::store::{attachments, RegistryStore};

/// Flags of `cosign tree`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The image.
    image: String,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let client = args.registry.client()?;
    let reference = image_flags::reference(&args.image)?;
    let descriptor = image_flags::resolve(&client, &reference)?;
    let repo = image_flags::signature_repository()?.unwrap_or_else(|| reference.clone());
    let store = RegistryStore { client: &client, repo: repo.clone() };
    let found = attachments(&store, &descriptor.digest)?;
    output::line(format!(
        "📦 Supply Chain Security Related artifacts for an image: {}",
        reference.with_digest(&descriptor.digest)
    ))?;
    let sections = [
        ("🔐 Signatures for an image tag", &found.signatures),
        ("💾 Attestations for an image tag", &found.attestations),
        ("🔗 Sigstore bundle referrers listed in", &found.referrers),
    ];
    let mut any = false;
    for (title, section) in sections {
        if let Some((tag, items)) = section {
            any = true;
            let place = if tag.starts_with("sha256-") {
                repo.with_tag(tag).to_string()
            } else {
                tag.clone()
            };
            output::line(format!("└── {title}: {place}"))?;
            for item in items {
                output::line(format!("   └── 🍒 {}", item.digest))?;
            }
        }
    }
    if !any {
        output::line(format!(
            "No Supply Chain Security Related Artifacts found for image {reference}"
        ))?;
    }
    Ok(exit::Code::Success.into())
}
