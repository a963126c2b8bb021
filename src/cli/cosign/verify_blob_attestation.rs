//! `cosign verify-blob-attestation`: verifies a DSSE bundle, optionally against the blob
//! its in-toto subject names and a predicate type (`--type`).

use std::process::ExitCode;

use super::verify_blob::CommonArgs;
use crate::cli::verify::execute;

/// Flags of `cosign verify-blob-attestation`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The blob the attestation is about (a path or `sha256:<64 hex>`); optional.
    input: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
    /// Predicate type: a URI or one of cosign's short names (slsaprovenance, custom, ...).
    #[arg(long = "type")]
    predicate_type: Option<String>,
    /// Accepted for compatibility: subjects are always checked when a blob is given.
    #[arg(long = "check-claims", default_missing_value = "true", num_args = 0..=1,
          require_equals = true, value_parser = super::flags::parse_bool)]
    check_claims: Option<bool>,
}

/// Runs `cosign verify-blob-attestation`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let predicate_type = args.predicate_type.as_deref().map(crate::bundle::predicate_type_uri);
    execute(args.common.into_request(args.input, None, predicate_type))
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_predicate_names_map_to_uris() {
        assert_eq!(
            crate::bundle::predicate_type_uri("slsaprovenance1"),
            "https://slsa.dev/provenance/v1"
        );
        assert_eq!(crate::bundle::predicate_type_uri("https://x/y"), "https://x/y");
    }
}
