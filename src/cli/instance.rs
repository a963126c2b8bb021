//! The instance flags every signing and verifying front end shares, turned into an
//! [`instance::Source`](crate::instance::Source): the one place argv and the environment
//! pick the Sigstore instance (`--trust-config` / `SIGBOX_TRUST_CONFIG`, `--trusted-root`,
//! `--signing-config`, `--tuf-mirror` / `SIGBOX_TUF_MIRROR`, the default TUF mirror, else
//! public good).

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::instance::{Instance, Source};

/// The environment variable naming a `ClientTrustConfig` (what `sigbox up` writes).
pub const TRUST_CONFIG_ENV: &str = "SIGBOX_TRUST_CONFIG";

/// The environment variable naming the TUF mirror whose cached targets to use.
pub const TUF_MIRROR_ENV: &str = "SIGBOX_TUF_MIRROR";

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
    /// A TUF mirror set up with `sigbox trust init`: use its cached trusted root and
    /// signing config.
    #[arg(long = "tuf-mirror", env = TUF_MIRROR_ENV)]
    pub tuf_mirror: Option<String>,
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
            (None, _, None) => tuf_source(self.tuf_mirror.as_deref()),
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
            None => tuf_source(std::env::var(TUF_MIRROR_ENV).ok().as_deref()),
        },
    }
}

/// The TUF-cached instance to use when no trust file is named: `mirror` if given (an
/// uninitialised one fails at load, naming `sigbox trust init`), else the mirror
/// `sigbox trust init` made the default, else public good as last refreshed by
/// `sigbox trust update`, else the embedded public-good files.
pub fn tuf_source(mirror: Option<&str>) -> Source {
    let Some(base) = crate::tuf::client::default_base() else { return Source::PublicGood };
    let cache = match mirror.filter(|m| !m.is_empty()) {
        Some(m) => crate::tuf::Cache::new(&base, m).ok(),
        None => crate::tuf::Cache::default_in(&base).or_else(|| {
            let public =
                crate::tuf::Cache::new(&base, crate::trust::tuf::PUBLIC_GOOD_MIRROR).ok()?;
            public.trusted_root().is_file().then_some(public)
        }),
    };
    match cache {
        Some(cache) => Source::Tuf {
            root: cache.trusted_root(),
            signing: cache.signing_config(),
            mirror: cache.mirror,
        },
        None => Source::PublicGood,
    }
}

/// Loads an instance, with the source named in the error.
pub fn load(source: &Source) -> anyhow::Result<Instance> {
    Instance::load(source).context("loading the Sigstore instance")
}
