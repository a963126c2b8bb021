//! Flags shared by cosign's image commands: registry access, identity expectations and
//! `-a key=value` annotations, and the small edge helpers they need (tag warning,
//! `COSIGN_REPOSITORY`, the key of `--key` / `--key env://VAR`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;

use super::flags::parse_bool;
use crate::cli::exit::Usage;
use crate::oci::{self, Reference};

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

pub use super::identity_flags::IdentityArgs;

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

/// The manifest `reference` names in the registry (HEAD), or an error naming the image.
pub fn resolve(
    client: &oci::Client,
    reference: &Reference,
) -> anyhow::Result<oci::manifest::Descriptor> {
    client
        .head_manifest(reference)
        .with_context(|| format!("resolving {reference}"))?
        .ok_or_else(|| anyhow::anyhow!("image {reference} not found"))
}

/// The digest of the image `reference` names: its own digest, else the registry's answer
/// for its tag (signatures are bound to the digest, so a digest reference needs no fetch).
pub fn digest_of(client: &oci::Client, reference: &Reference) -> anyhow::Result<String> {
    match reference.digest() {
        Some(digest) => Ok(digest.to_string()),
        None => Ok(resolve(client, reference)?.digest),
    }
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
