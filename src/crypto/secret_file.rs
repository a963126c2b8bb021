//! Writing private key files: created with mode 0600 from the start (never world-readable
//! for an instant), written completely and synced before they appear under their name, and
//! never replacing an existing file.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Writes `signer`'s private key to a new file at `path` as PKCS#8 PEM, mode 0600 (see
/// [`write_secret_file`]); the DER and PEM copies are zeroized when dropped.
///
/// Errors: [`super::Error::Io`] for the file, the signer's encoding error otherwise.
pub fn write_private_key(path: &Path, signer: &dyn super::Signer) -> super::Result<()> {
    let der = signer.to_pkcs8_der()?;
    let pem = zeroize::Zeroizing::new(crate::encoding::pem_encode("PRIVATE KEY", &der));
    write_secret_file(path, pem.as_bytes())?;
    Ok(())
}

/// Writes `bytes` to a new file at `path` with mode 0600.
///
/// The data goes to a temporary file in the same directory first (0600, synced), which is
/// then hard-linked to `path`: a crash never leaves a half-written key under the real name,
/// and an existing `path` is never replaced (the error is `ErrorKind::AlreadyExists`).
pub fn write_secret_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "secret file path has no file name")
    })?;
    let mut random = [0u8; 8];
    super::fill_random(&mut random).map_err(std::io::Error::other)?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".tmp-{}", crate::encoding::hex_encode(random)));
    let temp = dir.join(temp_name);
    let result = write_then_link(&temp, path, bytes);
    let _ = std::fs::remove_file(&temp);
    result?;
    // Make the new directory entry durable too.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn write_then_link(temp: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::hard_link(temp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn secret_file_is_0600_and_holds_the_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k.pem");
        write_secret_file(&path, b"secret").expect("writes");
        assert_eq!(std::fs::read(&path).expect("reads"), b"secret");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }

    #[test]
    fn secret_file_never_replaces_an_existing_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k.pem");
        std::fs::write(&path, b"old").expect("writes");
        let err = write_secret_file(&path, b"new").expect_err("refuses");
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).expect("reads"), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }
}
