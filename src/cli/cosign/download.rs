//! `cosign download signature|attestation IMAGE`: prints the stored signatures (one JSON
//! object per line, cosign's field names) or attestation envelopes, unverified.

use std::process::ExitCode;

use super::image_flags::{self, RegistryArgs};
use crate::cli::{exit, output};
use crate::oci::layout::{self, Kind};
use crate::oci::store::{candidates, RegistryStore};
use crate::oci::verify::Candidate;

/// Flags of `cosign download`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// The image's signatures.
    Signature(Target),
    /// The image's attestations.
    Attestation(Target),
}

#[derive(Debug, clap::Args)]
struct Target {
    /// The image.
    image: String,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (target, kind) = match &args.what {
        What::Signature(t) => (t, Kind::Signature),
        What::Attestation(t) => (t, Kind::Attestation),
    };
    let client = target.registry.client()?;
    let reference = image_flags::reference(&target.image)?;
    let descriptor = image_flags::resolve(&client, &reference)?;
    let repo = image_flags::signature_repository()?.unwrap_or_else(|| reference.clone());
    let store = RegistryStore { client: &client, repo };
    for candidate in candidates(&store, &descriptor.digest, kind, None)? {
        let line = match (&candidate, kind) {
            (Candidate::Legacy { layer, blob }, Kind::Signature) => {
                let get = |k: &str| layer.annotations.get(k).cloned().unwrap_or_default();
                let bundle = layer
                    .annotations
                    .get(layout::ANN_BUNDLE)
                    .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok());
                serde_json::json!({
                    "Base64Signature": get(layout::ANN_SIGNATURE),
                    "Payload": crate::encoding::b64_encode(blob),
                    "Cert": layer.annotations.get(layout::ANN_CERTIFICATE),
                    "Chain": layer.annotations.get(layout::ANN_CHAIN),
                    "Bundle": bundle,
                })
                .to_string()
            }
            (Candidate::Legacy { blob, .. }, Kind::Attestation) => {
                String::from_utf8_lossy(blob).into_owned()
            }
            (Candidate::Referrer { bundle, .. }, _) => String::from_utf8_lossy(bundle).into_owned(),
        };
        output::line(line)?;
    }
    Ok(exit::Code::Success.into())
}
