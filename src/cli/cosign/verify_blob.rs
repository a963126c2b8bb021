//! `cosign verify-blob`: cosign's flags, translated into the shared verify front end
//! (`crate::cli::verify`).

use std::path::PathBuf;
use std::process::ExitCode;

use super::flags::parse_bool;
use crate::cli::output;
use crate::cli::verify::{execute, IdentityFlag, Persona, Request};
use crate::policy::Extension;

/// The identity and trust flags shared by `verify-blob` and `verify-blob-attestation`.
#[derive(Debug, clap::Args)]
pub struct CommonArgs {
    /// The Sigstore bundle (or give --key and --signature for a bare key signature).
    #[arg(long)]
    pub bundle: Option<PathBuf>,
    /// Trusted root (or ClientTrustConfig) JSON; default: the embedded public-good root.
    #[arg(long = "trusted-root")]
    pub trusted_root: Option<PathBuf>,
    /// Expected certificate identity (SAN), exact.
    #[arg(long = "certificate-identity")]
    pub certificate_identity: Option<String>,
    /// Expected certificate identity (SAN), regex (whole-string match).
    #[arg(long = "certificate-identity-regexp")]
    pub certificate_identity_regexp: Option<String>,
    /// Expected OIDC issuer, exact.
    #[arg(long = "certificate-oidc-issuer")]
    pub certificate_oidc_issuer: Option<String>,
    /// Expected OIDC issuer, regex (whole-string match).
    #[arg(long = "certificate-oidc-issuer-regexp")]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// Expected GitHub workflow repository (`.1.5`).
    #[arg(long = "certificate-github-workflow-repository")]
    pub github_workflow_repository: Option<String>,
    /// Expected GitHub workflow ref (`.1.6`).
    #[arg(long = "certificate-github-workflow-ref")]
    pub github_workflow_ref: Option<String>,
    /// Expected GitHub workflow SHA (`.1.3`).
    #[arg(long = "certificate-github-workflow-sha")]
    pub github_workflow_sha: Option<String>,
    /// Expected GitHub workflow name (`.1.4`).
    #[arg(long = "certificate-github-workflow-name")]
    pub github_workflow_name: Option<String>,
    /// Expected GitHub workflow trigger (`.1.2`).
    #[arg(long = "certificate-github-workflow-trigger")]
    pub github_workflow_trigger: Option<String>,
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
        let identity = match (self.certificate_identity, self.certificate_identity_regexp) {
            (Some(exact), _) => Some(IdentityFlag::Exact(exact)),
            (None, Some(regex)) => Some(IdentityFlag::Regex(regex)),
            (None, None) => None,
        };
        let issuer = match (self.certificate_oidc_issuer, self.certificate_oidc_issuer_regexp) {
            (Some(exact), _) => Some(IdentityFlag::Exact(exact)),
            (None, Some(regex)) => Some(IdentityFlag::Regex(regex)),
            (None, None) => None,
        };
        let extensions = [
            (Extension::GithubWorkflowRepository, self.github_workflow_repository),
            (Extension::GithubWorkflowRef, self.github_workflow_ref),
            (Extension::GithubWorkflowSha, self.github_workflow_sha),
            (Extension::GithubWorkflowName, self.github_workflow_name),
            (Extension::GithubWorkflowTrigger, self.github_workflow_trigger),
        ]
        .into_iter()
        .filter_map(|(extension, value)| value.map(|v| (extension, v)))
        .collect();
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
