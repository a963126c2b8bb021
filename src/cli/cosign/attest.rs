//! `cosign attest --predicate FILE --type TYPE IMAGE`: an in-toto statement about the
//! image, signed in a DSSE envelope and stored as a `.att` layer (or an OCI 1.1 referrer).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::sign::{run_with, Attestation};
use crate::cli::exit;

/// Flags of `cosign attest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The predicate (JSON file).
    #[arg(long)]
    predicate: PathBuf,
    /// Predicate type: a URI or one of cosign's short names (slsaprovenance, custom, ...).
    #[arg(long = "type", default_value = "custom")]
    predicate_type: String,
    /// Accepted for compatibility: sigbox always appends.
    #[arg(long, default_value = "false", default_missing_value = "true", num_args = 0..=1,
          require_equals = true, value_parser = super::flags::parse_bool)]
    replace: bool,
    #[command(flatten)]
    sign: super::sign::Args,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.replace {
        return Err(exit::Usage("--replace is not supported by sigbox (it appends)".into()).into());
    }
    let bytes = std::fs::read(&args.predicate)
        .with_context(|| format!("reading predicate {}", args.predicate.display()))?;
    let predicate: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        exit::Usage(format!("predicate {} is not JSON: {e}", args.predicate.display()))
    })?;
    let attestation = Attestation {
        predicate_type: crate::bundle::predicate_type_uri(&args.predicate_type),
        predicate,
    };
    run_with(args.sign, Some(attestation))
}
