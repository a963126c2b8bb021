//! Putting the log together from a data directory: the signing key (loaded, or generated on
//! first start as `DATA/signer.key`, mode 0600), the database (`DATA/db`) and the genesis
//! entry. Front ends (`rekor-server`, `up`) bind the socket and serve the [`Log`] this opens.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::log::{Clock, Log};
use super::{Error, Result};
use crate::crypto::{signer_from_pkcs8_der, EcdsaP256Signer, KeyKind, Signer};
use crate::encoding::{pem_decode, pem_encode};
use crate::store::LogStore;

/// What [`open`] needs.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Directory for `db/` and the generated `signer.key`; created if missing.
    pub data_dir: PathBuf,
    /// A PKCS#8 PEM ECDSA P-256 key to use instead of `DATA/signer.key` (never generated).
    pub signer_key: Option<PathBuf>,
    /// Checkpoint key name: the log's host as clients see it (e.g. `127.0.0.1:3000`).
    pub name: String,
    /// Log a key-signed genesis entry at index 0 of a new log (see [`Log::seed_genesis`]).
    pub genesis: bool,
}

/// Opens (or creates) the log described by `config`.
///
/// Errors: [`Error::DataDir`] and [`Error::LogKey`] for file problems, [`Error::Storage`]
/// when the database cannot be opened (e.g. another process holds it).
pub async fn open(config: ServiceConfig, clock: Clock) -> Result<Log> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|source| Error::DataDir { path: config.data_dir.clone(), source })?;
    let signer = match &config.signer_key {
        Some(path) => load_key(path)?,
        None => {
            let path = config.data_dir.join(KEY_FILE);
            if path.exists() {
                load_key(&path)?
            } else {
                generate_key(&path)?
            }
        }
    };
    let store = LogStore::open(&config.data_dir.join(DB_DIR))?;
    let log = Log::open(store, signer, &config.name, clock)?;
    if config.genesis {
        log.seed_genesis().await?;
    }
    Ok(log)
}

/// Reads a PKCS#8 PEM (`PRIVATE KEY`) ECDSA P-256 key.
pub fn load_key(path: &Path) -> Result<Arc<dyn Signer>> {
    let bad = |problem: &'static str| Error::LogKey { path: path.to_path_buf(), problem };
    let text = std::fs::read_to_string(path)
        .map_err(|source| Error::DataDir { path: path.to_path_buf(), source })?;
    let (label, der) = pem_decode(&text).map_err(|_| bad("is not PEM"))?;
    if label != "PRIVATE KEY" {
        return Err(bad("is not a PKCS#8 `PRIVATE KEY`"));
    }
    let signer = signer_from_pkcs8_der(&der).map_err(|_| bad("holds an unreadable key"))?;
    // Clients verify SETs and checkpoints with the key's default digest (SHA-256).
    if signer.public_key().kind() != KeyKind::EcdsaP256 {
        return Err(bad("must hold an ECDSA P-256 key"));
    }
    Ok(Arc::from(signer))
}

/// Makes a new P-256 key and writes it to `path` (created new, mode 0600, synced).
fn generate_key(path: &Path) -> Result<Arc<dyn Signer>> {
    let signer = EcdsaP256Signer::generate();
    let der = signer.to_pkcs8_der().map_err(Error::Signing)?;
    let mut pem = pem_encode("PRIVATE KEY", &der).into_bytes();
    let written = write_private(path, &pem);
    // Best-effort wipe of the PEM copy (the DER copy zeroizes itself on drop).
    pem.fill(0);
    written.map_err(|source| Error::DataDir { path: path.to_path_buf(), source })?;
    tracing::info!(path = %path.display(), "generated a new log key");
    Ok(Arc::new(signer))
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
        let reloaded = load_key(&key_path).unwrap();
        assert_eq!(reloaded.public_key().to_pem(), log.public_key_pem());
    }

    #[test]
    fn ed25519_or_non_pkcs8_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ed = crate::crypto::Ed25519Signer::generate();
        let ed_path = dir.path().join("ed.key");
        std::fs::write(&ed_path, pem_encode("PRIVATE KEY", &ed.to_pkcs8_der().unwrap())).unwrap();
        assert!(matches!(load_key(&ed_path), Err(Error::LogKey { .. })));
        let sec1 = dir.path().join("sec1.key");
        std::fs::write(&sec1, pem_encode("EC PRIVATE KEY", b"x")).unwrap();
        assert!(matches!(load_key(&sec1), Err(Error::LogKey { .. })));
        assert!(matches!(load_key(&dir.path().join("missing")), Err(Error::DataDir { .. })));
    }
}
