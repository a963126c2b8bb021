//! L3 `humbly`: a batch of targets (files, digests, directories) checked against one policy
//! file, one verdict per target.
//!
//! Targets are files, digests, directories, OCI images (signatures read from the registry,
//! `image.rs`) and the commits of git ranges (gitsign signatures, `commit.rs`).
//!
//! The flow per target: pick the rule (`policy::file`), gather bundles (beside the file,
//! given, or found in the Rekor v1 log by the artifact's SHA-256), verify each with THE
//! verifier (`verify::verify`, against each trusted root the policy names), then apply the
//! rule: signer lists, deny lists, required evidence, age, threshold, attestations.
//! Trusted roots, keys and regexes are prepared once in [`Engine::prepare`]; targets are
//! verified concurrently on scoped std threads; log lookups run on more threads than cores
//! because they mostly wait on the network. Output formats are the caller's (`cli/humbly`).

mod commit;
mod evaluate;
mod image;
mod lookup;
mod target;
mod verdict;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub use lookup::LogTarget;
pub use target::{expand_targets, Target};
pub use verdict::{AcceptedSignature, Failure, Status, Summary, TargetVerdict};

use crate::crypto::PublicKey;
use crate::instance::{Instance, Source};
use crate::policy::file::{Compiled, Embedded, SignerKind};
use crate::trust::TrustedRoot;

/// Why a batch could not start (per-target problems are verdicts, not errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A trusted root the policy names could not be loaded.
    #[error("trusted root {name:?} of the policy")]
    Root {
        /// Its name in the policy.
        name: String,
        /// Why.
        #[source]
        source: crate::instance::Error,
    },
    /// A signer's public key file could not be read or parsed.
    #[error("public key {path} of signer {signer:?}")]
    Key {
        /// The signer.
        signer: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A target could not be listed (unreadable directory, missing file).
    #[error("target {target}")]
    Target {
        /// The target as given.
        target: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A target form that is recognised but cannot be checked by this build.
    #[error("{0}")]
    Unsupported(String),
}

/// Result alias for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A trusted root ready to verify against, with the logs to search in it.
#[derive(Debug, Clone)]
pub struct PreparedRoot {
    /// The policy's name for it (`default` when the policy names none).
    pub name: String,
    /// The root.
    pub root: TrustedRoot,
    /// Logs to search by digest.
    pub logs: Vec<LogTarget>,
}

/// A policy with everything it names loaded: roots, keys.
#[derive(Debug)]
pub struct Engine {
    policy: Compiled,
    roots: Vec<PreparedRoot>,
    /// Key per signer index (None for identity signers).
    keys: Vec<Option<PublicKey>>,
}

/// Settings for one batch.
#[derive(Clone)]
pub struct Options {
    /// The current time (Unix seconds).
    pub now: i64,
    /// Threads for verification (default: the number of cores).
    pub jobs: usize,
    /// How to reach the logs for targets without a bundle; `None` disables lookups.
    pub lookup: Option<lookup::Lookup>,
    /// The registry client for image targets; `None` makes them errors.
    pub registry: Option<std::sync::Arc<crate::oci::Client>>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("now", &self.now)
            .field("jobs", &self.jobs)
            .field("lookup", &self.lookup)
            .field("registry", &self.registry.is_some())
            .finish()
    }
}

impl Engine {
    /// Loads the roots and keys `policy` names; paths are relative to `policy_dir`.
    /// `default` is the instance used when the policy names no root.
    ///
    /// Errors: [`Error::Root`], [`Error::Key`].
    pub fn prepare(policy: Compiled, policy_dir: &Path, default: Instance) -> Result<Engine> {
        let mut roots = Vec::new();
        if policy.roots.is_empty() {
            roots.push(prepared("default", default, None));
        }
        for root in &policy.roots {
            let spec = &root.spec;
            let source = match (&spec.embedded, &spec.trusted_root, &spec.trust_config) {
                (Some(Embedded::PublicGood), _, _) => Source::PublicGood,
                (_, Some(path), _) => Source::Root(policy_dir.join(path)),
                (_, _, Some(path)) => Source::TrustConfig(policy_dir.join(path)),
                _ => Source::PublicGood,
            };
            let instance = Instance::load(&source)
                .map_err(|source| Error::Root { name: root.name.clone(), source })?;
            roots.push(prepared(&root.name, instance, spec.rekor_urls.as_deref()));
        }
        let mut keys = Vec::new();
        for signer in &policy.signers {
            keys.push(match &signer.kind {
                SignerKind::Identity(_) => None,
                SignerKind::Key { path } => {
                    let path = policy_dir.join(path);
                    let key_error = |source: Box<dyn std::error::Error + Send + Sync>| Error::Key {
                        signer: signer.name.clone(),
                        path: path.clone(),
                        source,
                    };
                    let bytes = std::fs::read(&path).map_err(|e| key_error(Box::new(e)))?;
                    Some(PublicKey::from_pem_or_der(&bytes).map_err(|e| key_error(Box::new(e)))?)
                }
            });
        }
        Ok(Engine { policy, roots, keys })
    }

    /// The compiled policy.
    pub fn policy(&self) -> &Compiled {
        &self.policy
    }

    /// The prepared roots.
    pub fn roots(&self) -> &[PreparedRoot] {
        &self.roots
    }

    /// Verifies every target, concurrently; verdicts come back in target order.
    /// `progress` is called once per finished target (from worker threads).
    pub fn run(
        &self,
        targets: &[Target],
        options: &Options,
        progress: &(dyn Fn(&TargetVerdict) + Sync),
    ) -> Vec<TargetVerdict> {
        let logs = lookup::Logs::new(self.roots(), options.lookup.as_ref());
        // Log lookups and registries wait on the network, so more threads than cores pay
        // off there.
        let remote =
            options.lookup.is_some() || targets.iter().any(|t| matches!(t, Target::Image { .. }));
        let jobs = if remote { options.jobs.max(1) * 4 } else { options.jobs };
        let jobs = jobs.clamp(1, targets.len().max(1));
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<TargetVerdict>>> = Mutex::new(vec![None; targets.len()]);
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(target) = targets.get(i) else { break };
                    let verdict = evaluate::evaluate(self, target, options, &logs);
                    progress(&verdict);
                    if let Ok(mut all) = results.lock() {
                        if let Some(slot) = all.get_mut(i) {
                            *slot = Some(verdict);
                        }
                    }
                });
            }
        });
        results.into_inner().unwrap_or_default().into_iter().flatten().collect()
    }
}

pub use lookup::Lookup;

fn prepared(name: &str, instance: Instance, urls: Option<&[String]>) -> PreparedRoot {
    let logs = lookup::log_targets(&instance, urls);
    PreparedRoot { name: name.to_string(), root: instance.root, logs }
}
