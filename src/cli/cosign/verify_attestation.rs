//! `cosign verify-attestation --type TYPE IMAGE…`: checks the in-toto attestations stored
//! for the images (`.att` layers or referrer bundles) and prints their DSSE envelopes.

use std::collections::BTreeMap;
use std::process::ExitCode;

use super::verify::{execute, CommonArgs};
use crate::oci::layout::Kind;

/// Flags of `cosign verify-attestation`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Required predicate type: a URI or a cosign short name (default: any).
    #[arg(long = "type")]
    predicate_type: Option<String>,
    /// Accepted for compatibility: the statement subject must always name the image.
    #[arg(long = "check-claims", default_value = "true", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, value_parser = super::flags::parse_bool)]
    check_claims: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let predicate_type = args.predicate_type.as_deref().map(crate::bundle::predicate_type_uri);
    execute(&args.common, Kind::Attestation, predicate_type, &BTreeMap::new(), args.check_claims)
}
