//! A one-command log monitor: fetch the log's signed tree head, verify it with the log key,
//! and prove it consistent with the last checkpoint this user verified for the same log
//! (kept in a state directory, one file per log ID). A log that rewrote its history, was
//! swapped for another, or changed its key behind the same URL is reported, not remembered.
//!
//! State files (the caller picks `state_dir`, normally `$XDG_STATE_HOME/sigbox/rekor`):
//! `<log ID hex>.checkpoint` holds the last verified checkpoint note; `url-<SHA-256 of the
//! URL, 16 hex>.logid` pins the log ID first seen at a URL.

use std::path::{Path, PathBuf};

use super::check::verify_tree_head;
use super::client::Client;
use super::{Error, Result};
use crate::crypto::{digest, HashAlgorithm, PublicKey};
use crate::encoding::hex_encode;
use crate::tlog::{self, Hash, VerifiedCheckpoint};

/// What one monitor run found.
#[derive(Debug, Clone)]
pub struct MonitorReport {
    /// SHA-256 of the log key's SPKI.
    pub log_id: Hash,
    /// The log's current head, verified.
    pub checkpoint: VerifiedCheckpoint,
    /// The remembered checkpoint it was proven consistent with: (size, root), if any.
    pub previous: Option<(u64, Hash)>,
    /// Number of hashes in the consistency proof that was checked.
    pub proof_len: usize,
    /// The state file now holding `checkpoint`.
    pub state_file: PathBuf,
}

/// Runs the monitor once against the log behind `client` (at `url`, for the URL pin).
///
/// Errors: [`Error::EntryCheck`] if the head does not verify with `log_key` or disagrees with
/// the size and root the server states; [`Error::Inconsistent`] if the log shrank, its
/// root changed at the same size, the consistency proof fails, or the URL now serves a log
/// with another key; [`Error::DataDir`] when state files cannot be read or written; client
/// errors from the fetches. Nothing is remembered unless every check passed.
pub fn check_log(
    client: &Client,
    url: &str,
    log_key: &PublicKey,
    state_dir: &Path,
) -> Result<MonitorReport> {
    let log_id = log_key.key_id();
    let pin = state_dir.join(format!(
        "url-{}.logid",
        hex_encode(
            digest(HashAlgorithm::Sha256, url.as_bytes()).as_bytes().get(..8).unwrap_or(&[])
        )
    ));
    if let Some(pinned) = read_optional(&pin)? {
        let pinned = pinned.lines().next().unwrap_or_default().trim().to_string();
        if pinned != hex_encode(log_id) {
            return Err(Error::Inconsistent {
                state: pin,
                problem: format!(
                    "{url} now serves a log with ID {} (another key); it served log {pinned} \
                     before. Remove the file if the log key was rotated on purpose",
                    hex_encode(log_id)
                ),
            });
        }
    }
    let info = client.log_info()?;
    let checkpoint = verify_tree_head(&info.signed_tree_head, log_key)?;
    let cp = checkpoint.checkpoint();
    if cp.size != info.tree_size || cp.root_hash != info.root_hash {
        return Err(Error::EntryCheck(format!(
            "signed tree head is for size {} but the log states size {} root {}",
            cp.size,
            info.tree_size,
            hex_encode(info.root_hash)
        )));
    }
    let state_file = state_dir.join(format!("{}.checkpoint", hex_encode(log_id)));
    let mut previous = None;
    let mut proof_len = 0;
    if let Some(note) = read_optional(&state_file)? {
        let old = verify_tree_head(&note, log_key).map_err(|e| Error::Inconsistent {
            state: state_file.clone(),
            problem: format!("the remembered checkpoint no longer verifies ({e})"),
        })?;
        let old = old.checkpoint();
        let inconsistent =
            |problem: String| Error::Inconsistent { state: state_file.clone(), problem };
        if old.size > cp.size {
            return Err(inconsistent(format!(
                "the log shrank from {} to {} entries",
                old.size, cp.size
            )));
        }
        if old.size == cp.size && old.root_hash != cp.root_hash {
            return Err(inconsistent(format!(
                "the root at size {} changed from {} to {}",
                cp.size,
                hex_encode(old.root_hash),
                hex_encode(cp.root_hash)
            )));
        }
        if old.size > 0 && old.size < cp.size {
            let (claimed_root, proof) = client.consistency_proof(old.size, cp.size)?;
            if claimed_root != cp.root_hash {
                return Err(inconsistent(format!(
                    "the proof is for root {}, not the signed {}",
                    hex_encode(claimed_root),
                    hex_encode(cp.root_hash)
                )));
            }
            tlog::verify_consistency(old.size, cp.size, &proof, &old.root_hash, &cp.root_hash)
                .map_err(|e| {
                    inconsistent(format!(
                        "no valid consistency proof from size {} to {}: {e}",
                        old.size, cp.size
                    ))
                })?;
            proof_len = proof.len();
        }
        previous = Some((old.size, old.root_hash));
    }
    write_atomic(state_dir, &pin, format!("{}\n{url}\n", hex_encode(log_id)).as_bytes())?;
    write_atomic(state_dir, &state_file, info.signed_tree_head.as_bytes())?;
    Ok(MonitorReport { log_id, checkpoint, previous, proof_len, state_file })
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::DataDir { path: path.to_path_buf(), source }),
    }
}

/// Writes `path` through a temporary file and a rename, so a crash never leaves half a file.
fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| Error::DataDir { path: p, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_creates_the_directory_and_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("a/b");
        let file = state.join("x.checkpoint");
        write_atomic(&state, &file, b"one").unwrap();
        write_atomic(&state, &file, b"two").unwrap();
        assert_eq!(read_optional(&file).unwrap().as_deref(), Some("two"));
        assert_eq!(read_optional(&state.join("missing")).unwrap(), None);
        assert!(!file.with_extension("tmp").exists());
    }
}
