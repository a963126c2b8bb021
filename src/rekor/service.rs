//! Putting the log together from a data directory: the signing key (loaded, or generated on
//! first start as `DATA/signer.key`, mode 0600), the database (`DATA/db`) and the genesis
//! entry. Front ends (`rekor-server`, `up`) bind the socket and serve the [`Log`] this opens.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::log::{Clock, Log, LogVersion};
use super::{Error, Result};
use crate::crypto::{signer_from_pkcs8_der, EcdsaP256Signer, Ed25519Signer, KeyKind, Signer};
use crate::encoding::{pem_decode, pem_encode};
use crate::store::{LogStore, Store};

/// What [`open`] needs.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Directory for `db/` and the generated `signer.key`; created if missing.
    pub data_dir: PathBuf,
    /// A PKCS#8 PEM ECDSA P-256 key to use instead of `DATA/signer.key` (never generated).
    pub signer_key: Option<PathBuf>,
    /// Checkpoint key name: the log's host as clients see it (e.g. `127.0.0.1:3000`).
    pub name: String,
    /// Log a key-signed genesis entry at index 0 of a new log (see [`Log::seed_genesis`];
    /// Rekor v1 only).
    pub genesis: bool,
    /// Rekor v1 (ECDSA P-256 key) or v2 (Ed25519 key).
    pub version: LogVersion,
}

/// Opens (or creates) the log described by `config`.
///
/// Errors: [`Error::DataDir`] and [`Error::LogKey`] for file problems, [`Error::Storage`]
/// when the database cannot be opened (e.g. another process holds it).
pub async fn open(config: ServiceConfig, clock: Clock) -> Result<Log> {
    open_with_storage(config, None, clock).await
}

/// Opens the log like [`open`], on the PostgreSQL database of `storage` (a `postgres://`
/// URL) when given, in the schema `rekor` (`rekor_v2` for a v2 log); the data directory
/// then holds only the key. Servers sharing one database serve one log.
///
/// Errors: as [`open`]; [`Error::Database`] naming the database when it cannot be reached.
pub async fn open_with_storage(
    config: ServiceConfig,
    storage: Option<&str>,
    clock: Clock,
) -> Result<Log> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|source| Error::DataDir { path: config.data_dir.clone(), source })?;
    let signer = match &config.signer_key {
        Some(path) => load_key(path, config.version)?,
        None => {
            let path = config.data_dir.join(KEY_FILE);
            if path.exists() {
                load_key(&path, config.version)?
            } else {
                generate_key(&path, config.version)?
            }
        }
    };
    let store: Store = match storage {
        None => LogStore::open(&config.data_dir.join(DB_DIR))?.into(),
        Some(url) => {
            let schema = match config.version {
                LogVersion::V1 => "rekor",
                LogVersion::V2 => "rekor_v2",
            };
            let url = url.to_string();
            // Connecting blocks; keep it off the runtime's worker threads.
            tokio::task::spawn_blocking(move || crate::store::postgres::PgStore::open(&url, schema))
                .await
                .map_err(|_| Error::Unavailable)??
                .into()
        }
    };
    let log = Log::open_version(store, signer, &config.name, config.version, clock)?;
    if config.genesis {
        log.seed_genesis().await?;
    }
    Ok(log)
}

/// Reads a PKCS#8 PEM (`PRIVATE KEY`) key: ECDSA P-256 for a v1 log, Ed25519 for v2.
pub fn load_key(path: &Path, version: LogVersion) -> Result<Arc<dyn Signer>> {
    let bad = |problem: &'static str| Error::LogKey { path: path.to_path_buf(), problem };
    let text = std::fs::read_to_string(path)
        .map_err(|source| Error::DataDir { path: path.to_path_buf(), source })?;
    let (label, der) = pem_decode(&text).map_err(|_| bad("is not PEM"))?;
    if label != "PRIVATE KEY" {
        return Err(bad("is not a PKCS#8 `PRIVATE KEY`"));
    }
    let signer = signer_from_pkcs8_der(&der).map_err(|_| bad("holds an unreadable key"))?;
    match (version, signer.public_key().kind()) {
        // Clients verify SETs and checkpoints with the key's default digest (SHA-256).
        (LogVersion::V1, KeyKind::EcdsaP256) | (LogVersion::V2, KeyKind::Ed25519) => {}
        (LogVersion::V1, _) => return Err(bad("must hold an ECDSA P-256 key")),
        (LogVersion::V2, _) => return Err(bad("must hold an Ed25519 key (Rekor v2)")),
    }
    Ok(Arc::from(signer))
}

/// Makes a new key (P-256 for v1, Ed25519 for v2) and writes it to `path` (created new,
/// mode 0600, synced).
fn generate_key(path: &Path, version: LogVersion) -> Result<Arc<dyn Signer>> {
    let signer: Arc<dyn Signer> = match version {
        LogVersion::V1 => Arc::new(EcdsaP256Signer::generate()),
        LogVersion::V2 => Arc::new(Ed25519Signer::generate()),
    };
    let der = signer.to_pkcs8_der().map_err(Error::Signing)?;
    let mut pem = pem_encode("PRIVATE KEY", &der).into_bytes();
    let written = write_private(path, &pem);
    // Best-effort wipe of the PEM copy (the DER copy zeroizes itself on drop).
    pem.fill(0);
    written.map_err(|source| Error::DataDir { path: path.to_path_buf(), source })?;
    tracing::info!(path = %path.display(), "generated a new log key");
    Ok(signer)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

const KEY_FILE: &str = "signer.key";
const DB_DIR: &str = "db";

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> ServiceConfig {
        ServiceConfig {
            data_dir: dir.join("data"),
            signer_key: None,
            name: "127.0.0.1:1".into(),
            genesis: true,
            version: LogVersion::V1,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn first_open_makes_a_private_key_and_a_genesis_entry() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(config(dir.path()), Arc::new(|| 7)).await.unwrap();
        assert_eq!(log.head().size, 1);
        let key_path = dir.path().join("data/signer.key");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let reloaded = load_key(&key_path, LogVersion::V1).unwrap();
        assert_eq!(reloaded.public_key().to_pem(), log.public_key_pem());
    }

    #[test]
    fn wrong_kind_or_non_pkcs8_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ed = crate::crypto::Ed25519Signer::generate();
        let ed_path = dir.path().join("ed.key");
        std::fs::write(&ed_path, pem_encode("PRIVATE KEY", &ed.to_pkcs8_der().unwrap())).unwrap();
        assert!(matches!(load_key(&ed_path, LogVersion::V1), Err(Error::LogKey { .. })));
        assert!(load_key(&ed_path, LogVersion::V2).is_ok());
        let sec1 = dir.path().join("sec1.key");
        std::fs::write(&sec1, pem_encode("EC PRIVATE KEY", b"x")).unwrap();
        assert!(matches!(load_key(&sec1, LogVersion::V1), Err(Error::LogKey { .. })));
        let missing = dir.path().join("missing");
        assert!(matches!(load_key(&missing, LogVersion::V1), Err(Error::DataDir { .. })));
    }
}
