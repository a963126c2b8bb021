//! Putting the CA service together from a data directory: the CA keys (generated or loaded
//! from the operator's files), the CT log's own key (`ct.key`, 0600) and storage (`ct/`),
//! the issuer configuration and the key cache. The front end binds the socket and serves
//! the [`FulcioApi`] this returns.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::api::FulcioApi;
use super::ca::{self, CaCurve, CertificateAuthority};
use super::ct::{self, CtLog};
use super::issuers::IssuerKeys;
use crate::crypto::{self, EcdsaP256Signer, Signer};
use crate::oidc::OidcConfig;
use crate::store::{LogStore, Store};

/// Organization name written into generated CA certificates.
pub const DEFAULT_ORGANIZATION: &str = "sigbox.local";

/// Timeout for OIDC discovery and JWKS fetches.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the CA's keys come from.
pub enum CaSource {
    /// Generated into the data directory on first start, reused afterwards.
    Generated {
        /// Curve of newly generated keys.
        curve: CaCurve,
    },
    /// The operator's PEM chain (issuing certificate first, root last) and the issuing key
    /// (`PRIVATE KEY`, `EC PRIVATE KEY` or `ENCRYPTED PRIVATE KEY` with `password`).
    Files {
        /// The chain file.
        chain: PathBuf,
        /// The key file.
        key: PathBuf,
        /// Password of an encrypted key.
        password: Option<zeroize::Zeroizing<Vec<u8>>>,
    },
}

/// Everything the CA service needs to start.
pub struct ServiceConfig {
    /// Data directory: CA keys (when generated), `ct.key`, `ct.pub`, `ct/`.
    pub data_dir: PathBuf,
    /// Which issuers are trusted and how.
    pub oidc: OidcConfig,
    /// The CA keys.
    pub ca: CaSource,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The CA could not be loaded or created.
    #[error("certificate authority")]
    Ca(#[from] ca::Error),
    /// The CT log could not be opened.
    #[error("CT log")]
    Ct(#[from] ct::Error),
    /// The CT log storage could not be opened.
    #[error("CT log storage {path}")]
    Store {
        /// The directory.
        path: String,
        /// Cause.
        #[source]
        source: crate::store::Error,
    },
    /// The CT log key file could not be read or written.
    #[error("CT log key file {path}")]
    CtKeyFile {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The CT log key does not parse.
    #[error("CT log key {path}")]
    CtKey {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: crypto::Error,
    },
    /// The HTTP client for issuer discovery could not be built.
    #[error("HTTP client for OIDC discovery")]
    Client(#[source] reqwest::Error),
}

/// Opens (or initialises) the CA service in `config.data_dir`. `clock` returns Unix seconds
/// (also the start of validity of CA certificates generated at first start).
pub fn open(config: ServiceConfig, clock: fn() -> i64) -> Result<FulcioApi, Error> {
    open_with_storage(config, None, clock)
}

/// Opens the service like [`open`], with the CT log on the PostgreSQL database of `storage`
/// (a `postgres://` URL, schema `ct`) when given. One CA writes a CT log: its commits are
/// fenced, so a second CA on the same schema fails its writes rather than forking the log.
pub fn open_with_storage(
    config: ServiceConfig,
    storage: Option<&str>,
    clock: fn() -> i64,
) -> Result<FulcioApi, Error> {
    let dir = &config.data_dir;
    std::fs::create_dir_all(dir)
        .map_err(|source| Error::CtKeyFile { path: dir.display().to_string(), source })?;
    let ca = match config.ca {
        CaSource::Generated { curve } => {
            CertificateAuthority::load_or_create(dir, curve, DEFAULT_ORGANIZATION, clock())?
        }
        CaSource::Files { chain, key, password } => {
            CertificateAuthority::from_files(&chain, &key, password.as_ref().map(|p| p.as_slice()))?
        }
    };
    let ct_key = load_or_create_ct_key(dir)?;
    let store: Store = match storage {
        None => {
            let store_dir = dir.join("ct");
            LogStore::open(&store_dir)
                .map_err(|source| Error::Store { path: store_dir.display().to_string(), source })?
                .into()
        }
        Some(url) => crate::store::postgres::PgStore::open(url, "ct")
            .map_err(|source| Error::Store { path: "the CT log's database".into(), source })?
            .into(),
    };
    let ct = CtLog::open(store, ct_key)?;
    let client = crate::http::builder()
        .timeout(FETCH_TIMEOUT)
        .connect_timeout(FETCH_TIMEOUT)
        .build()
        .map_err(Error::Client)?;
    Ok(FulcioApi::new(ca, ct, config.oidc, IssuerKeys::new(client), clock))
}

/// The CT log key: `ct.key` (PKCS#8 PEM, 0600) in `dir`, generated as P-256 on first start;
/// its public half is also written to `ct.pub` for building trusted roots.
fn load_or_create_ct_key(dir: &Path) -> Result<Arc<dyn Signer>, Error> {
    let path = dir.join("ct.key");
    let file_error = |source| Error::CtKeyFile { path: path.display().to_string(), source };
    let key_error = |source| Error::CtKey { path: path.display().to_string(), source };
    let signer: Arc<dyn Signer> = if path.exists() {
        let pem = zeroize::Zeroizing::new(std::fs::read_to_string(&path).map_err(file_error)?);
        Arc::from(crypto::signer_from_pem(&pem, None).map_err(key_error)?)
    } else {
        let signer = EcdsaP256Signer::generate();
        let der = signer.to_pkcs8_der().map_err(key_error)?;
        let pem = zeroize::Zeroizing::new(crate::encoding::pem_encode("PRIVATE KEY", &der));
        crypto::write_secret_file(&path, pem.as_bytes()).map_err(file_error)?;
        tracing::info!(path = %path.display(), "created a new CT log key");
        Arc::new(signer)
    };
    let pub_path = dir.join("ct.pub");
    std::fs::write(&pub_path, signer.public_key().to_pem())
        .map_err(|source| Error::CtKeyFile { path: pub_path.display().to_string(), source })?;
    Ok(signer)
}

/// Test support: a CA in `dir` that trusts one email issuer, `issuer`, whose key set is a
/// static JWKS holding `issuer_key` under kid `k1`.
#[cfg(test)]
pub(crate) fn open_for_test(
    dir: &Path,
    issuer: &str,
    issuer_key: &dyn Signer,
    clock: fn() -> i64,
) -> FulcioApi {
    let mut jwk = crypto::public_key_to_jwk(issuer_key.public_key()).expect("jwk");
    jwk["kid"] = "k1".into();
    let jwks = dir.join("jwks.json");
    std::fs::write(&jwks, serde_json::json!({"keys": [jwk]}).to_string()).expect("jwks");
    let config = serde_json::json!({"OIDCIssuers": {issuer: {"Type": "email", "JWKSFile": jwks}}});
    open(
        ServiceConfig {
            data_dir: dir.join("data"),
            oidc: OidcConfig::from_json(config.to_string().as_bytes()).expect("config"),
            ca: CaSource::Generated { curve: CaCurve::P256 },
        },
        clock,
    )
    .expect("opens")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn clock() -> i64 {
        1_750_000_000
    }

    #[test]
    fn data_dir_is_initialised_once_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = || ServiceConfig {
            data_dir: dir.path().to_path_buf(),
            oidc: OidcConfig::default(),
            ca: CaSource::Generated { curve: CaCurve::P256 },
        };
        let first = open(config(), clock).expect("opens");
        let log_id = first.ct().log_id();
        let root = first.ca().chain().last().expect("root").der().to_vec();
        drop(first);
        let mode = std::fs::metadata(dir.path().join("ct.key")).expect("key").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = open(config(), clock).expect("reopens");
        assert_eq!(second.ct().log_id(), log_id);
        assert_eq!(second.ca().chain().last().expect("root").der(), root.as_slice());
        let pem = std::fs::read_to_string(dir.path().join("ct.pub")).expect("ct.pub");
        assert_eq!(crypto::PublicKey::from_pem(&pem).expect("parses").key_id(), log_id);
    }
}
