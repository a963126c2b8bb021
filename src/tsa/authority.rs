//! The authority's identity on disk: the signing key and its chain (generated on first
//! start, loaded afterwards), and the serial counter that keeps token serial numbers
//! unique across restarts.
//!
//! Layout of the data directory: `tsa-chain.pem` (signing certificate first, root last),
//! `tsa-signing.key` and `tsa-root.key` (PKCS#8 PEM, 0600), `tsa-serial` (the number of
//! starts so far). A serial number is 16 bytes: the start number (8 bytes, big-endian),
//! then a per-start counter (8 bytes). The start number is written and synced before the
//! first token of a run, so no two runs share one.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::Error;
use crate::crypto::{self, EcdsaP256Signer, EcdsaP384Signer, Signer};
use crate::x509::{build_ca_certificate, build_tsa_certificate, Certificate};

/// Lifetime of generated certificates: ten years.
const LIFETIME_SECS: i64 = 10 * 365 * 86_400;

/// Which curve a generated TSA key uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// ECDSA P-256 with SHA-256.
    P256,
    /// ECDSA P-384 with SHA-384 (as public good's TSA).
    P384,
}

/// The signing certificate chain and key.
pub struct Authority {
    chain: Vec<Certificate>,
    signer: Arc<dyn Signer>,
}

impl Authority {
    /// Loads the authority from `dir`, or creates a root and a signing certificate there.
    pub fn load_or_create(
        dir: &Path,
        curve: Curve,
        organization: &str,
        now: i64,
    ) -> Result<Self, Error> {
        let chain_path = dir.join("tsa-chain.pem");
        let key_path = dir.join("tsa-signing.key");
        match (chain_path.exists(), key_path.exists()) {
            (true, true) => return Self::from_files(&chain_path, &key_path),
            (false, false) => {}
            // Half an authority (a crash during first start, a file deleted by hand) is
            // for the operator to look at, not to be replaced silently.
            _ => return Err(Error::Partial(dir.display().to_string())),
        }
        std::fs::create_dir_all(dir).map_err(|source| file_error(dir, source))?;
        let root_key = generate(curve);
        let leaf_key = generate(curve);
        let (start, end) = (now - 60, now + LIFETIME_SECS);
        let root = build_ca_certificate(
            &format!("O={organization},CN={organization}-tsa-root"),
            root_key.public_key(),
            None,
            root_key.as_ref(),
            &crate::x509::random_serial().map_err(Error::Random)?,
            start,
            end,
            Some(0),
        )?;
        let leaf = build_tsa_certificate(
            &format!("O={organization},CN={organization}-tsa"),
            leaf_key.public_key(),
            &root,
            root_key.as_ref(),
            &crate::x509::random_serial().map_err(Error::Random)?,
            start,
            end,
        )?;
        write_private(&dir.join("tsa-root.key"), root_key.as_ref())?;
        write_private(&key_path, leaf_key.as_ref())?;
        let pem = format!("{}{}", leaf.to_pem(), root.to_pem());
        std::fs::write(&chain_path, pem).map_err(|source| file_error(&chain_path, source))?;
        tracing::info!(dir = %dir.display(), "created a new timestamp authority");
        Ok(Authority { chain: vec![leaf, root], signer: Arc::from(leaf_key) })
    }

    /// Loads a PEM chain (signing certificate first, root last) and the signing key.
    pub fn from_files(chain_path: &Path, key_path: &Path) -> Result<Self, Error> {
        let chain_pem =
            std::fs::read_to_string(chain_path).map_err(|s| file_error(chain_path, s))?;
        let chain = Certificate::from_pem_chain(&chain_pem).map_err(|source| {
            Error::Certificate { path: chain_path.display().to_string(), source }
        })?;
        let key_pem = zeroize::Zeroizing::new(
            std::fs::read_to_string(key_path).map_err(|s| file_error(key_path, s))?,
        );
        let signer = crypto::signer_from_pem(&key_pem, None)
            .map_err(|source| Error::Key { path: key_path.display().to_string(), source })?;
        if chain.first().map(Certificate::public_key) != Some(signer.public_key()) {
            return Err(Error::KeyMismatch);
        }
        Ok(Authority { chain, signer: Arc::from(signer) })
    }

    /// The chain: signing certificate first, root last (the trusted root's
    /// `timestampAuthorities` order).
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// The signing key.
    pub fn signer(&self) -> Arc<dyn Signer> {
        self.signer.clone()
    }
}

/// Unique serial numbers: this run's start number and a counter.
pub struct SerialCounter {
    start: u64,
    next: AtomicU64,
}

impl SerialCounter {
    /// Reads the start count from `path`, adds one and syncs it to disk before returning.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let previous = match std::fs::read_to_string(path) {
            Ok(text) => text.trim().parse::<u64>().map_err(|e| Error::Counter {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(source) => return Err(file_error(path, source)),
        };
        let start = previous.checked_add(1).ok_or_else(|| Error::Counter {
            path: path.display().to_string(),
            reason: "start count overflows".into(),
        })?;
        let tmp = path.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(format!("{start}\n").as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)?;
            if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(|source| file_error(path, source))?;
        Ok(SerialCounter { start, next: AtomicU64::new(1) })
    }

    /// The next serial number (16 bytes, big-endian).
    pub fn next(&self) -> [u8; 16] {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut serial = [0u8; 16];
        serial[..8].copy_from_slice(&self.start.to_be_bytes());
        serial[8..].copy_from_slice(&n.to_be_bytes());
        serial
    }
}

fn generate(curve: Curve) -> Box<dyn Signer> {
    match curve {
        Curve::P256 => Box::new(EcdsaP256Signer::generate()),
        Curve::P384 => Box::new(EcdsaP384Signer::generate()),
    }
}

fn write_private(path: &Path, signer: &dyn Signer) -> Result<(), Error> {
    crypto::write_private_key(path, signer).map_err(|e| match e {
        crypto::Error::Io(source) => file_error(path, source),
        source => Error::Key { path: path.display().to_string(), source },
    })
}

fn file_error(path: &Path, source: std::io::Error) -> Error {
    Error::File { path: path.display().to_string(), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_is_created_once_and_reloaded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = Authority::load_or_create(dir.path(), Curve::P384, "t", 1_750_000_000)
            .expect("creates");
        let again =
            Authority::load_or_create(dir.path(), Curve::P256, "t", 1_750_000_000).expect("loads");
        assert_eq!(first.chain()[0].der(), again.chain()[0].der());
        assert_eq!(again.signer().scheme(), crypto::SignatureScheme::EcdsaSha384);
        std::fs::remove_file(dir.path().join("tsa-signing.key")).expect("rm");
        assert!(matches!(
            Authority::load_or_create(dir.path(), Curve::P256, "t", 0),
            Err(Error::Partial(_))
        ));
    }

    #[test]
    fn serials_grow_across_restarts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("tsa-serial");
        let one = SerialCounter::open(&path).expect("open");
        let (a, b) = (one.next(), one.next());
        assert!(b > a);
        let two = SerialCounter::open(&path).expect("reopen");
        assert!(two.next() > b);
        std::fs::write(&path, "garbage").expect("write");
        assert!(matches!(SerialCounter::open(&path), Err(Error::Counter { .. })));
    }
}
