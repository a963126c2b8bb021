//! `cosign verify-blob`: cosign's flags, translated into the shared verify front end
//! (`crate::cli::verify`).

use std::path::PathBuf;
use std::process::ExitCode;

use super::flags::parse_bool;
use crate::cli::output;
use crate::cli::verify::{execute, Persona, Request};

/// The identity and trust flags shared by `verify-blob` and `verify-blob-attestation`.
#[derive(Debug, clap::Args)]
pub struct CommonArgs {
    /// The Sigstore bundle (or give --key and --signature for a bare key signature).
    #[arg(long)]
    pub bundle: Option<PathBuf>,
    /// Trusted root (or ClientTrustConfig) JSON; default: the embedded public-good root.
    #[arg(long = "trusted-root")]
    pub trusted_root: Option<PathBuf>,
    #[command(flatten)]
    pub identity: super::identity_flags::IdentityArgs,
    /// Public key for key-signed bundles.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Danger: do not require a transparency log entry (key-signed bundles only).
    #[arg(long = "insecure-ignore-tlog", default_missing_value = "true", num_args = 0..=1,
          require_equals = true, value_parser = parse_bool)]
    pub insecure_ignore_tlog: Option<bool>,
    /// Accepted for compatibility; sigbox always verifies offline.
    #[arg(long, default_missing_value = "true", num_args = 0..=1, require_equals = true,
          value_parser = parse_bool)]
    pub offline: Option<bool>,
    /// Accepted for compatibility; sigbox always reads the protobuf bundle format.
    #[arg(long = "new-bundle-format", default_missing_value = "true", num_args = 0..=1,
          require_equals = true, value_parser = parse_bool)]
    pub new_bundle_format: Option<bool>,
    /// Print the verdict as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

impl CommonArgs {
    /// Translates the flags into a verify request.
    pub(crate) fn into_request(
        self,
        input: Option<String>,
        signature: Option<PathBuf>,
        predicate_type: Option<String>,
    ) -> Request {
        let (identity, issuer) = (self.identity.identity(), self.identity.issuer());
        let extensions = self.identity.extensions();
        Request {
            bundle: self.bundle,
            input,
            trusted_root: self.trusted_root,
            identity,
            issuer,
            extensions,
            key: self.key,
            insecure_ignore_tlog: self.insecure_ignore_tlog.unwrap_or(false),
            signature,
            predicate_type,
            require_identity: true,
            format: if self.json { output::Format::Json } else { output::Format::Human },
            persona: Persona::Cosign,
        }
    }
}

/// Flags of `cosign verify-blob`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The blob: a path, or `sha256:<64 hex>` when no such file exists.
    input: String,
    #[command(flatten)]
    common: CommonArgs,
    /// Detached signature (base64); must equal the bundle's signature.
    #[arg(long)]
    signature: Option<PathBuf>,
}

/// Runs `cosign verify-blob`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    execute(args.common.into_request(Some(args.input), args.signature, None))
}
