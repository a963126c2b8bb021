//! The instance flags every signing and verifying front end shares, turned into an
//! [`instance::Source`](crate::instance::Source): the one place argv and the environment
//! pick the Sigstore instance (`--trust-config` / `SIGBOX_TRUST_CONFIG`, `--trusted-root`,
//! `--signing-config`, else public good).

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::instance::{Instance, Source};

/// The environment variable naming a `ClientTrustConfig` (what `sigbox up` writes).
pub const TRUST_CONFIG_ENV: &str = "SIGBOX_TRUST_CONFIG";

/// Which Sigstore instance to sign with: a ClientTrustConfig, or a trusted root plus a
/// signing config, or `SIGBOX_TRUST_CONFIG`, else the public-good instance.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InstanceArgs {
    /// ClientTrustConfig JSON (trusted root + signing config), as `sigbox up` writes.
    #[arg(long = "trust-config", env = TRUST_CONFIG_ENV)]
    pub trust_config: Option<PathBuf>,
    /// Trusted root JSON (with --signing-config).
    #[arg(long = "trusted-root", requires = "signing_config")]
    pub trusted_root: Option<PathBuf>,
    /// Signing config JSON (with --trusted-root).
    #[arg(long = "signing-config", requires = "trusted_root")]
    pub signing_config: Option<PathBuf>,
}

impl InstanceArgs {
    /// The source these flags name: an explicit root (with its signing config) first, then
    /// a trust config, else public good.
    pub fn source(&self) -> Source {
        match (&self.trusted_root, &self.signing_config, &self.trust_config) {
            (Some(root), Some(signing), _) => {
                Source::RootAndSigning { root: root.clone(), signing: signing.clone() }
            }
            (Some(root), None, _) => Source::Root(root.clone()),
            (None, _, Some(config)) => Source::TrustConfig(config.clone()),
            (None, _, None) => Source::PublicGood,
        }
    }

    /// Loads the instance these flags name.
    pub fn load(&self) -> anyhow::Result<Instance> {
        load(&self.source())
    }
}

/// The source a verifier uses: `--trusted-root FILE` (a trusted root or a
/// ClientTrustConfig), else `SIGBOX_TRUST_CONFIG`, else the embedded public-good root.
pub fn verify_source(trusted_root: Option<&Path>) -> Source {
    match trusted_root {
        Some(path) => Source::Root(path.to_path_buf()),
        None => match std::env::var_os(TRUST_CONFIG_ENV).filter(|v| !v.is_empty()) {
            Some(path) => Source::TrustConfig(PathBuf::from(path)),
            None => Source::PublicGood,
        },
    }
}

/// Loads an instance, with the source named in the error.
pub fn load(source: &Source) -> anyhow::Result<Instance> {
    Instance::load(source).context("loading the Sigstore instance")
}
