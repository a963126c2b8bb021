//! cosign's identity flags (`--certificate-identity[-regexp]`, `--certificate-oidc-issuer
//! [-regexp]`, `--certificate-github-workflow-*`), shared by `verify-blob`,
//! `verify-blob-attestation`, `verify` and `verify-attestation`, and turned into the one
//! identity policy builder of `cli::verify`.

use crate::cli::exit::Usage;
use crate::cli::verify::{identity_policy, IdentityFlag};
use crate::policy::{Extension, Policy};

/// Identity expectations for keyless signatures.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct IdentityArgs {
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
}

impl IdentityArgs {
    /// The identity flag (exact wins over regex, as cosign).
    pub fn identity(&self) -> Option<IdentityFlag> {
        flag(&self.certificate_identity, &self.certificate_identity_regexp)
    }

    /// The issuer flag.
    pub fn issuer(&self) -> Option<IdentityFlag> {
        flag(&self.certificate_oidc_issuer, &self.certificate_oidc_issuer_regexp)
    }

    /// The Fulcio extension values asked for.
    pub fn extensions(&self) -> Vec<(Extension, String)> {
        [
            (Extension::GithubWorkflowRepository, &self.github_workflow_repository),
            (Extension::GithubWorkflowRef, &self.github_workflow_ref),
            (Extension::GithubWorkflowSha, &self.github_workflow_sha),
            (Extension::GithubWorkflowName, &self.github_workflow_name),
            (Extension::GithubWorkflowTrigger, &self.github_workflow_trigger),
        ]
        .into_iter()
        .filter_map(|(extension, value)| value.clone().map(|v| (extension, v)))
        .collect()
    }

    /// The policy; keyless verification (no `--key`) needs an identity and an issuer.
    pub fn policy(&self, keyless: bool) -> anyhow::Result<Policy> {
        let (identity, issuer) = (self.identity(), self.issuer());
        if keyless && (identity.is_none() || issuer.is_none()) {
            return Err(Usage(
                "keyless verification needs --certificate-identity[-regexp] and \
                 --certificate-oidc-issuer[-regexp] (or give --key)"
                    .into(),
            )
            .into());
        }
        let mut policy = identity_policy(identity.as_ref(), issuer.as_ref())?;
        for (extension, value) in self.extensions() {
            policy = policy.with_extension(extension, value);
        }
        Ok(policy)
    }
}

fn flag(exact: &Option<String>, regex: &Option<String>) -> Option<IdentityFlag> {
    match (exact, regex) {
        (Some(exact), _) => Some(IdentityFlag::Exact(exact.clone())),
        (None, Some(regex)) => Some(IdentityFlag::Regex(regex.clone())),
        (None, None) => None,
    }
}
