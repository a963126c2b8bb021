//! Writing and reading cosign key pairs on disk (`cosign.key` 0600, `cosign.pub`).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::crypto::cosign_key::{self, KeyFileError, Password};
use crate::crypto::{PublicKey, Signer};

/// What can go wrong with key files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading a file failed.
    #[error("reading {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing a file failed (including "already exists").
    #[error("writing {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The private key file could not be decrypted or parsed.
    #[error("private key {path}")]
    PrivateKey {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: KeyFileError,
    },
    /// The public key file could not be parsed.
    #[error("public key {path}")]
    PublicKey {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: crate::crypto::Error,
    },
}

/// The two paths of a key pair: `<prefix>.key` and `<prefix>.pub`.
pub fn key_pair_paths(prefix: &str) -> (PathBuf, PathBuf) {
    (PathBuf::from(format!("{prefix}.key")), PathBuf::from(format!("{prefix}.pub")))
}

/// Encrypts `signer` with `password` and writes `<prefix>.key` (mode 0600) and
/// `<prefix>.pub`. Existing files are replaced only when `overwrite` is set.
pub fn write_key_pair(
    signer: &dyn Signer,
    password: &Password,
    prefix: &str,
    overwrite: bool,
) -> Result<(PathBuf, PathBuf), Error> {
    let (key_path, pub_path) = key_pair_paths(prefix);
    let pem = cosign_key::encrypt_private_key(signer, password)
        .map_err(|source| Error::PrivateKey { path: key_path.clone(), source })?;
    write_file(&key_path, pem.as_bytes(), 0o600, overwrite)?;
    write_file(&pub_path, signer.public_key().to_pem().as_bytes(), 0o644, overwrite)?;
    Ok((key_path, pub_path))
}

/// Reads and decrypts a cosign private key file.
pub fn read_private_key(path: &Path, password: &Password) -> Result<Box<dyn Signer>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    cosign_key::decrypt_private_key(&text, password)
        .map_err(|source| Error::PrivateKey { path: path.to_path_buf(), source })
}

/// Reads an unencrypted PEM private key (for import).
pub fn read_plain_private_key(path: &Path) -> Result<Box<dyn Signer>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    cosign_key::import_private_key_pem(&text)
        .map_err(|source| Error::PrivateKey { path: path.to_path_buf(), source })
}

/// Reads a public key file (PEM `PUBLIC KEY` or DER SPKI).
pub fn read_public_key(path: &Path) -> Result<PublicKey, Error> {
    let bytes =
        std::fs::read(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    PublicKey::from_pem_or_der(&bytes)
        .map_err(|source| Error::PublicKey { path: path.to_path_buf(), source })
}

/// Writes `data` to `path` with `mode`, refusing to replace a file unless `overwrite`.
/// The mode is set at creation, so a private key is never readable by others, not even
/// briefly.
pub fn write_file(path: &Path, data: &[u8], mode: u32, overwrite: bool) -> Result<(), Error> {
    let err = |source| Error::Write { path: path.to_path_buf(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(mode);
    if overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(err)?;
    if overwrite {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode)).map_err(err)?;
    }
    file.write_all(data).map_err(err)?;
    file.sync_all().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::EcdsaP256Signer;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn key_pair_is_written_0600_and_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let prefix = dir.path().join("cosign");
        let prefix = prefix.to_str().expect("utf-8 temp path");
        let signer = EcdsaP256Signer::generate();
        let (key, public) =
            write_key_pair(&signer, &Password::new("pw"), prefix, false).expect("writes");
        let mode = std::fs::metadata(&key).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let back = read_private_key(&key, &Password::new("pw")).expect("reads");
        assert_eq!(back.public_key(), &read_public_key(&public).expect("pub"));
        // A second write without overwrite must not clobber the key.
        assert!(write_key_pair(&signer, &Password::new("pw"), prefix, false).is_err());
    }
}
