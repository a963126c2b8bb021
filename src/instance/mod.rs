//! L3 which Sigstore instance to use: the trusted root, the signing config and the service
//! URLs chosen from them — resolved in one place for every persona (`sigbox`, `cosign`,
//! `gitsign`, `humbly`), so no front end has its own idea of the default instance.
//!
//! Sources, in the order a front end tries them: a trusted root plus a signing config, a
//! trusted root alone (verification only), a `ClientTrustConfig` (`--trust-config` or
//! `SIGBOX_TRUST_CONFIG`, what `sigbox up` writes), the targets a TUF refresh cached
//! (`--tuf-mirror` / `SIGBOX_TUF_MIRROR`, else the mirror `sigbox trust init` made the
//! default, else a refreshed public good), else the public-good instance, whose root and
//! signing config are embedded in the binary (see `src/trust/public_good/`).

use std::path::{Path, PathBuf};

use crate::trust::{SigningConfig, TrustedRoot};

/// Why an instance could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A trust file could not be read.
    #[error("reading {what} {path}")]
    Read {
        /// Which file it was meant to be.
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A trust file was read but does not parse or check.
    #[error("{what} {path}")]
    Parse {
        /// Which file it was meant to be.
        what: &'static str,
        /// Its path (`<embedded>` for the built-in public-good files).
        path: PathBuf,
        /// Why (boxed: trust errors are large).
        #[source]
        source: Box<crate::trust::Error>,
    },
    /// The TUF mirror has no verified trusted root in the cache.
    #[error(
        "no verified trusted root from TUF mirror {mirror} at {path}: run `sigbox trust \
         update --mirror {mirror}` (or `sigbox trust init`)"
    )]
    TufCache {
        /// The mirror.
        mirror: String,
        /// Where the trusted root should be.
        path: PathBuf,
    },
    /// Signing needs a signing config, and the source has none.
    #[error(
        "a trusted root alone does not say where to sign: give --trust-config, or \
         --trusted-root with --signing-config"
    )]
    NoSigningConfig,
    /// The signing config names no usable service of a kind.
    #[error("the signing config names no usable {0} valid now")]
    NoService(&'static str),
}

/// Result alias for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The public-good signing config v0.2 shipped in the binary.
pub const PUBLIC_GOOD_SIGNING_CONFIG: &str =
    include_str!("../trust/public_good/signing_config.json");

/// Where the instance's trust files come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Source {
    /// A `ClientTrustConfig` (trusted root + signing config in one file).
    TrustConfig(PathBuf),
    /// A trusted root (or a `ClientTrustConfig`, whose root is taken) and a signing config.
    RootAndSigning {
        /// `trusted_root.json`.
        root: PathBuf,
        /// `signing_config.json`.
        signing: PathBuf,
    },
    /// A trusted root alone (or a `ClientTrustConfig`): enough to verify, not to sign.
    Root(PathBuf),
    /// The targets a TUF refresh verified and cached (`sigbox trust init` / `update`):
    /// `trusted_root.json` and, when the repository has one, `signing_config.v0.2.json`.
    Tuf {
        /// The mirror, for messages.
        mirror: String,
        /// The cached trusted root.
        root: PathBuf,
        /// The cached signing config.
        signing: PathBuf,
    },
    /// The public-good instance embedded in the binary.
    #[default]
    PublicGood,
}

/// A resolved instance: what to verify against and, when known, where to sign.
#[derive(Debug, Clone)]
pub struct Instance {
    /// The trusted root.
    pub root: TrustedRoot,
    /// The signing config, absent when only a trusted root was given.
    pub signing: Option<SigningConfig>,
}

/// Service URLs given explicitly (cosign's `--fulcio-url`, `--rekor-url`, `--oidc-issuer`;
/// gitsign's `gitsign.fulcio`, ...), which win over the signing config's choices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// CA base URL.
    pub ca_url: Option<String>,
    /// Rekor base URL.
    pub rekor_url: Option<String>,
    /// OIDC issuer URL.
    pub oidc_issuer: Option<String>,
    /// OAuth client ID (default `sigstore`).
    pub oidc_client_id: Option<String>,
    /// RFC 3161 TSA endpoint URL (cosign's `--timestamp-server-url`).
    pub tsa_url: Option<String>,
    /// Rekor API generation to write (`--rekor-version`); `None` means 1, the one every
    /// verifier reads (a v2 entry needs a TSA for its time) — unless
    /// `follow_signing_config`.
    pub rekor_version: Option<u32>,
    /// cosign v3's `--use-signing-config`: with no `--rekor-version` and no `--rekor-url`,
    /// write to the newest log generation the signing config offers (v2 when it lists a v2
    /// log and a TSA to time its entries), as cosign v3 and sigstore-python do.
    pub follow_signing_config: bool,
}

/// The services a signing client talks to, chosen at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Services {
    /// The CA (Fulcio v2 API).
    pub ca: String,
    /// The Rekor v1 log.
    pub rekor: String,
    /// The OIDC issuer to log in with, when one is known.
    pub oidc_issuer: Option<String>,
    /// The OAuth client ID.
    pub oidc_client_id: String,
    /// The TSA endpoint to timestamp signatures with, when one is configured.
    pub tsa: Option<String>,
    /// The Rekor API generation of `rekor` (1 or 2).
    pub rekor_version: u32,
}

impl Instance {
    /// Reads and checks the trust files `source` names.
    pub fn load(source: &Source) -> Result<Instance> {
        match source {
            Source::TrustConfig(path) => {
                let bytes = read("trust config", path)?;
                let (root, signing) = crate::trust::client_trust_config_from_json(&bytes)
                    .map_err(|e| parse("trust config", path, e))?;
                Ok(Instance { root, signing: Some(signing) })
            }
            Source::RootAndSigning { root, signing } => {
                let root = load_root(root)?;
                let bytes = read("signing config", signing)?;
                let signing = SigningConfig::from_json(&bytes)
                    .map_err(|e| parse("signing config", signing, e))?;
                Ok(Instance { root, signing: Some(signing) })
            }
            Source::Root(path) => Ok(Instance { root: load_root(path)?, signing: None }),
            Source::Tuf { root, signing, mirror } => {
                if !root.is_file() {
                    return Err(Error::TufCache { mirror: mirror.clone(), path: root.clone() });
                }
                let root = load_root(root)?;
                let signing = match std::fs::read(signing) {
                    Ok(bytes) => Some(
                        SigningConfig::from_json(&bytes)
                            .map_err(|e| parse("TUF-cached signing config", signing, e))?,
                    ),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(source) => {
                        return Err(Error::Read {
                            what: "TUF-cached signing config",
                            path: signing.clone(),
                            source,
                        })
                    }
                };
                Ok(Instance { root, signing })
            }
            Source::PublicGood => Instance::public_good(),
        }
    }

    /// The public-good instance embedded in the binary.
    pub fn public_good() -> Result<Instance> {
        let embedded = Path::new("<embedded>");
        let root = TrustedRoot::public_good()
            .map_err(|e| parse("public-good trusted root", embedded, e))?;
        let signing = SigningConfig::from_json(PUBLIC_GOOD_SIGNING_CONFIG.as_bytes())
            .map_err(|e| parse("public-good signing config", embedded, e))?;
        Ok(Instance { root, signing: Some(signing) })
    }

    /// The CA, Rekor v1 log and OIDC issuer to sign with at `now`: each override wins,
    /// the rest come from the signing config.
    pub fn services(&self, now: i64, overrides: &Overrides) -> Result<Services> {
        let signing = self.signing.as_ref();
        let needs_config = || signing.ok_or(Error::NoSigningConfig);
        let ca = match &overrides.ca_url {
            Some(url) => url.clone(),
            None => needs_config()?
                .select_ca(now, &[1])
                .ok_or(Error::NoService("CA (caUrls, majorApiVersion 1)"))?
                .url
                .clone(),
        };
        let tsa = match &overrides.tsa_url {
            Some(url) => Some(url.clone()),
            None => signing
                .and_then(|s| s.select_tsas(now, &[1]).ok())
                .and_then(|tsas| tsas.first().map(|s| s.url.clone())),
        };
        let rekor_version = match overrides.rekor_version {
            Some(version) => version,
            None if overrides.follow_signing_config && overrides.rekor_url.is_none() => {
                let has_v2 = self.rekor_log(now, 2).is_ok();
                if has_v2 && tsa.is_some() {
                    2
                } else {
                    1
                }
            }
            None => 1,
        };
        let rekor = match &overrides.rekor_url {
            Some(url) => url.clone(),
            None if rekor_version == 1 => self.rekor_v1(now)?,
            None => self.rekor_log(now, rekor_version)?,
        };
        let oidc_issuer = overrides
            .oidc_issuer
            .clone()
            .or_else(|| signing?.select_oidc(now, &[1]).map(|s| s.url.clone()));
        let oidc_client_id = overrides.oidc_client_id.clone().unwrap_or_else(|| "sigstore".into());
        Ok(Services { ca, rekor, oidc_issuer, oidc_client_id, tsa, rekor_version })
    }

    /// The log of API generation `version` the signing config selects at `now`.
    pub fn rekor_log(&self, now: i64, version: u32) -> Result<String> {
        let signing = self.signing.as_ref().ok_or(Error::NoSigningConfig)?;
        let none = || Error::NoService("Rekor log of that majorApiVersion (rekorTlogUrls)");
        let logs = signing.select_tlogs(now, &[version]).map_err(|_| none())?;
        logs.first().map(|s| s.url.clone()).ok_or_else(none)
    }

    /// The Rekor v1 log the signing config selects at `now` (the first when the selector
    /// allows several).
    pub fn rekor_v1(&self, now: i64) -> Result<String> {
        let signing = self.signing.as_ref().ok_or(Error::NoSigningConfig)?;
        let logs = signing
            .select_tlogs(now, &[1])
            .map_err(|_| Error::NoService("Rekor v1 log (rekorTlogUrls)"))?;
        logs.first().map(|s| s.url.clone()).ok_or(Error::NoService("Rekor v1 log (rekorTlogUrls)"))
    }
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Read { what, path: path.to_path_buf(), source })
}

fn parse(what: &'static str, path: &Path, source: crate::trust::Error) -> Error {
    Error::Parse { what, path: path.to_path_buf(), source: Box::new(source) }
}

fn load_root(path: &Path) -> Result<TrustedRoot> {
    let bytes = read("trusted root", path)?;
    crate::trust::trusted_root_from_any(&bytes).map_err(|e| parse("trusted root", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_good_selects_its_ca_log_and_issuer() {
        let instance = Instance::public_good().unwrap();
        let now = 1_767_225_600; // 2026-01-01
        let services = instance.services(now, &Overrides::default()).unwrap();
        assert_eq!(services.ca, "https://fulcio.sigstore.dev");
        assert_eq!(services.rekor, "https://rekor.sigstore.dev");
        assert_eq!(services.oidc_issuer.as_deref(), Some("https://oauth2.sigstore.dev/auth"));
        assert_eq!(services.oidc_client_id, "sigstore");
        // Public good lists a TSA; a Rekor v2 log is asked for explicitly and it has none.
        assert_eq!(
            services.tsa.as_deref(),
            Some("https://timestamp.sigstore.dev/api/v1/timestamp")
        );
        assert_eq!(services.rekor_version, 1);
        let v2 = Overrides { rekor_version: Some(2), ..Overrides::default() };
        assert!(matches!(instance.services(now, &v2), Err(Error::NoService(_))));
        // Following the signing config picks v1 here: it lists no v2 log.
        let follow = Overrides { follow_signing_config: true, ..Overrides::default() };
        assert_eq!(instance.services(now, &follow).unwrap().rekor_version, 1);
    }

    #[test]
    fn overrides_win_over_the_signing_config() {
        let instance = Instance::public_good().unwrap();
        let overrides = Overrides {
            ca_url: Some("http://127.0.0.1:1".into()),
            rekor_url: Some("http://127.0.0.1:2".into()),
            oidc_issuer: Some("http://127.0.0.1:3".into()),
            oidc_client_id: Some("other".into()),
            tsa_url: Some("http://127.0.0.1:4/api/v1/timestamp".into()),
            rekor_version: None,
            follow_signing_config: true,
        };
        let services = instance.services(1_767_225_600, &overrides).unwrap();
        assert_eq!(services.tsa.as_deref(), Some("http://127.0.0.1:4/api/v1/timestamp"));
        assert_eq!(services.ca, "http://127.0.0.1:1");
        assert_eq!(services.rekor, "http://127.0.0.1:2");
        assert_eq!(services.oidc_issuer.as_deref(), Some("http://127.0.0.1:3"));
        assert_eq!(services.oidc_client_id, "other");
    }

    #[test]
    fn a_root_alone_verifies_but_cannot_sign() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.json");
        std::fs::write(&path, crate::trust::PUBLIC_GOOD_TRUSTED_ROOT).unwrap();
        let instance = Instance::load(&Source::Root(path)).unwrap();
        assert!(instance.signing.is_none());
        let err = instance.services(1_767_225_600, &Overrides::default()).unwrap_err();
        assert!(matches!(err, Error::NoSigningConfig), "{err}");
    }

    #[test]
    fn missing_and_malformed_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.json");
        let err = Instance::load(&Source::TrustConfig(missing.clone())).unwrap_err();
        assert!(matches!(&err, Error::Read { what: "trust config", path, .. } if *path == missing));
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, b"{").unwrap();
        let err = Instance::load(&Source::Root(bad.clone())).unwrap_err();
        assert!(matches!(&err, Error::Parse { what: "trusted root", path, .. } if *path == bad));
    }
}
