//! Flags shared by cosign's image commands: registry access, identity expectations and
//! `-a key=value` annotations, and the small edge helpers they need (tag warning,
//! `COSIGN_REPOSITORY`, the key of `--key` / `--key env://VAR`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;

use super::flags::parse_bool;
use crate::cli::exit::Usage;
use crate::oci::{self, Reference};
use crate::policy::{Extension, Matcher, Policy};

/// Registry access flags (cosign's spellings).
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    /// Accept registries with invalid TLS certificates (testing only).
    #[arg(long = "allow-insecure-registry", default_value = "false", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, value_parser = parse_bool)]
    pub allow_insecure_registry: bool,
    /// Allow plain HTTP to any registry (local registries may always use it).
    #[arg(long = "allow-http-registry", default_value = "false", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, value_parser = parse_bool)]
    pub allow_http_registry: bool,
    /// Extra CA certificates (PEM) for registry TLS.
    #[arg(long = "registry-cacert")]
    pub registry_cacert: Option<PathBuf>,
    /// Registry user name (else the docker config).
    #[arg(long = "registry-username")]
    pub registry_username: Option<String>,
    /// Registry password.
    #[arg(long = "registry-password")]
    pub registry_password: Option<String>,
}

impl RegistryArgs {
    /// The registry client these flags describe.
    pub fn client(&self) -> anyhow::Result<oci::Client> {
        let ca_pem = match &self.registry_cacert {
            Some(path) => Some(
                std::fs::read(path)
                    .with_context(|| format!("reading --registry-cacert {}", path.display()))?,
            ),
            None => None,
        };
        let credentials = match (&self.registry_username, &self.registry_password) {
            (Some(u), Some(p)) => {
                Some(oci::auth::Credentials { username: u.clone(), password: p.clone() })
            }
            (None, None) => None,
            _ => {
                return Err(
                    Usage("give both --registry-username and --registry-password".into()).into()
                )
            }
        };
        let options = oci::Options {
            allow_http: self.allow_http_registry,
            allow_insecure: self.allow_insecure_registry,
            ca_pem,
            credentials,
            ..oci::Options::default()
        };
        Ok(oci::Client::new(options)?)
    }
}

/// Identity expectations for keyless signatures (the flags of `verify-blob`).
#[derive(Debug, Clone, clap::Args)]
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
    /// Expected GitHub workflow repository.
    #[arg(long = "certificate-github-workflow-repository")]
    pub github_workflow_repository: Option<String>,
    /// Expected GitHub workflow ref.
    #[arg(long = "certificate-github-workflow-ref")]
    pub github_workflow_ref: Option<String>,
    /// Expected GitHub workflow SHA.
    #[arg(long = "certificate-github-workflow-sha")]
    pub github_workflow_sha: Option<String>,
    /// Expected GitHub workflow name.
    #[arg(long = "certificate-github-workflow-name")]
    pub github_workflow_name: Option<String>,
    /// Expected GitHub workflow trigger.
    #[arg(long = "certificate-github-workflow-trigger")]
    pub github_workflow_trigger: Option<String>,
}

impl IdentityArgs {
    /// The policy; keyless verification (no `--key`) needs an identity and an issuer.
    pub fn policy(&self, keyless: bool) -> anyhow::Result<Policy> {
        let matcher = |exact: &Option<String>, regex: &Option<String>, what: &'static str| {
            Ok::<_, anyhow::Error>(match (exact, regex) {
                (Some(e), _) => Some(Matcher::exact(e.clone())),
                (None, Some(r)) => {
                    Some(Matcher::regex(what, r).map_err(|e| Usage(format!("{e}")))?)
                }
                (None, None) => None,
            })
        };
        let identity =
            matcher(&self.certificate_identity, &self.certificate_identity_regexp, "identity")?;
        let issuer =
            matcher(&self.certificate_oidc_issuer, &self.certificate_oidc_issuer_regexp, "issuer")?;
        if keyless && (identity.is_none() || issuer.is_none()) {
            return Err(Usage(
                "keyless verification needs --certificate-identity[-regexp] and \
                 --certificate-oidc-issuer[-regexp] (or give --key)"
                    .into(),
            )
            .into());
        }
        let mut policy = Policy::any();
        if let Some(m) = identity {
            policy = policy.with_identity(m);
        }
        if let Some(m) = issuer {
            policy = policy.with_issuer(m);
        }
        for (extension, value) in [
            (Extension::GithubWorkflowRepository, &self.github_workflow_repository),
            (Extension::GithubWorkflowRef, &self.github_workflow_ref),
            (Extension::GithubWorkflowSha, &self.github_workflow_sha),
            (Extension::GithubWorkflowName, &self.github_workflow_name),
            (Extension::GithubWorkflowTrigger, &self.github_workflow_trigger),
        ] {
            if let Some(v) = value {
                policy = policy.with_extension(extension, v.clone());
            }
        }
        Ok(policy)
    }
}

/// Parses `-a key=value` flags.
pub fn annotations(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| Usage(format!("annotation {pair:?} is not key=value")).into())
        })
        .collect()
}

/// Parses an image reference (a usage error naming it if bad).
pub fn reference(text: &str) -> anyhow::Result<Reference> {
    Ok(Reference::parse(text).map_err(|e| Usage(e.to_string()))?)
}

/// `COSIGN_REPOSITORY`: where signatures are stored instead of the image's repository.
pub fn signature_repository() -> anyhow::Result<Option<Reference>> {
    match std::env::var("COSIGN_REPOSITORY") {
        Ok(text) if !text.is_empty() => {
            Ok(Some(Reference::parse(&text).map_err(|e| Usage(format!("COSIGN_REPOSITORY: {e}")))?))
        }
        _ => Ok(None),
    }
}

/// cosign's warning when a tag is signed: the tag was resolved to a digest now.
pub fn warn_tag(reference: &Reference, digest: &str) {
    crate::cli::output::status(format!(
        "WARNING: Image reference {reference} uses a tag, not a digest, to identify the image \
         to sign.\n    Signing {} instead; a tag can move to another image. Please use a digest \
         (example.com/ubuntu@sha256:abc123...) rather than a tag.",
        reference.with_digest(digest)
    ));
}

/// Reads `--key`: a cosign key file, or `env://VAR` holding its PEM. The password comes
/// from `COSIGN_PASSWORD` or a prompt.
pub fn signer(key: &str) -> anyhow::Result<Box<dyn crate::crypto::Signer>> {
    let password = crate::cli::password::existing(key)?;
    match key.strip_prefix("env://") {
        Some(var) => {
            let pem = std::env::var(var).map_err(|_| {
                Usage(format!("--key {key}: environment variable {var} is not set"))
            })?;
            Ok(crate::crypto::cosign_key::decrypt_private_key(&pem, &password)
                .with_context(|| format!("private key in {var}"))?)
        }
        None => Ok(crate::sign::keyfile::read_private_key(std::path::Path::new(key), &password)?),
    }
}

/// Reads a verification `--key`: a PEM public key file, `env://VAR`, or a cosign private
/// key (its public half).
pub fn public_key(key: &str) -> anyhow::Result<crate::crypto::PublicKey> {
    let bytes = match key.strip_prefix("env://") {
        Some(var) => std::env::var(var)
            .map_err(|_| Usage(format!("--key {key}: environment variable {var} is not set")))?
            .into_bytes(),
        None => std::fs::read(key).with_context(|| format!("reading public key {key}"))?,
    };
    if String::from_utf8_lossy(&bytes).contains("ENCRYPTED SIGSTORE PRIVATE KEY") {
        return Ok(signer(key)?.public_key().clone());
    }
    crate::crypto::PublicKey::from_pem_or_der(&bytes)
        .with_context(|| format!("reading public key {key}"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cosign_command_table_is_consistent() {
        super::super::Cli::command().debug_assert();
    }

    #[test]
    fn annotations_need_key_value() {
        let parsed = super::annotations(&["a=b=c".into()]).unwrap();
        assert_eq!(parsed.get("a").map(String::as_str), Some("b=c"));
        assert!(super::annotations(&["novalue".into()]).is_err());
    }
}
