//! Client-side checks of what a Rekor v1 server hands out: a logged entry (SET, inclusion
//! proof, checkpoint; PROTOCOLS §4.3–§4.7) and a signed tree head, each against the log's
//! public key. Pure functions: the entry or checkpoint is fetched by the caller.

use super::client::LoggedEntry;
use super::entry::set_payload;
use super::{Error, Result};
use crate::crypto::{KeyKind, PublicKey};
use crate::encoding::{b64_encode, hex_encode};
use crate::tlog::{self, Hash, NoteVerifier, VerifiedCheckpoint};

/// A log entry whose SET, inclusion proof and checkpoint verified against the log key; only
/// [`verify_entry`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedEntry {
    entry_id: String,
    log_index: u64,
    integrated_time: i64,
    leaf_hash: Hash,
    checkpoint: VerifiedCheckpoint,
    proof_len: usize,
}

impl VerifiedEntry {
    /// The 80-hex entry ID.
    pub fn entry_id(&self) -> &str {
        &self.entry_id
    }

    /// The (global) log index the SET covers.
    pub fn log_index(&self) -> u64 {
        self.log_index
    }

    /// Unix seconds at integration, as promised by the SET.
    pub fn integrated_time(&self) -> i64 {
        self.integrated_time
    }

    /// The RFC 6962 leaf hash of the canonical body (the UUID).
    pub fn leaf_hash(&self) -> &Hash {
        &self.leaf_hash
    }

    /// The checkpoint the inclusion proof leads to.
    pub fn checkpoint(&self) -> &VerifiedCheckpoint {
        &self.checkpoint
    }

    /// Number of hashes in the inclusion proof.
    pub fn proof_len(&self) -> usize {
        self.proof_len
    }
}

/// The signed-note key name of a Rekor v1 checkpoint: the origin up to ` - <tree ID>`
/// (PROTOCOLS §4.7), or the whole origin when it has no tree ID.
///
/// Errors: [`Error::EntryCheck`] when the note has no body.
pub fn checkpoint_key_name(note: &str) -> Result<String> {
    let origin = note
        .split('\n')
        .next()
        .filter(|o| !o.is_empty())
        .ok_or_else(|| Error::EntryCheck("checkpoint has no origin line".into()))?;
    Ok(match origin.rsplit_once(" - ") {
        Some((name, tree)) if !tree.is_empty() && tree.bytes().all(|b| b.is_ascii_digit()) => {
            name.to_string()
        }
        _ => origin.to_string(),
    })
}

/// Verifies a Rekor v1 signed tree head (checkpoint note) with the log's ECDSA key, the key
/// name taken from the origin line.
///
/// Errors: [`Error::EntryCheck`] naming the failed check.
pub fn verify_tree_head(note: &str, log_key: &PublicKey) -> Result<VerifiedCheckpoint> {
    let name = checkpoint_key_name(note)?;
    let verifier = NoteVerifier::for_key(&name, log_key.clone())
        .map_err(|e| Error::EntryCheck(format!("log key cannot verify checkpoints: {e}")))?;
    tlog::verify_checkpoint(note, &[verifier])
        .map_err(|e| Error::EntryCheck(format!("checkpoint signature: {e}")))
}

/// Checks a Rekor v1 entry completely against the log key: the log ID is the key's, the
/// entry ID ends with the leaf hash, the SET signs `{body, integratedTime, logID, logIndex}`,
/// the inclusion proof leads from the leaf to its root, and the checkpoint is signed by the
/// key for the same size and root.
///
/// Errors: [`Error::EntryCheck`] naming the first check that failed.
pub fn verify_entry(logged: &LoggedEntry, log_key: &PublicKey) -> Result<VerifiedEntry> {
    let fail = |what: &str| Error::EntryCheck(what.to_string());
    if !matches!(log_key.kind(), KeyKind::EcdsaP256 | KeyKind::EcdsaP384) {
        return Err(fail("only ECDSA (Rekor v1) log keys sign SETs"));
    }
    let e = &logged.entry;
    let log_id: Hash = log_key.key_id();
    if e.log_id.key_id.as_slice() != log_id.as_slice() {
        return Err(Error::EntryCheck(format!(
            "entry log ID {} is not the log key's {}",
            hex_encode(e.log_id.key_id.as_slice()),
            hex_encode(log_id)
        )));
    }
    let body = e.canonicalized_body.as_slice();
    let leaf = tlog::hash_leaf(body);
    let uuid = logged.entry_id.get(logged.entry_id.len().saturating_sub(64)..).unwrap_or("");
    if !uuid.eq_ignore_ascii_case(&hex_encode(leaf)) {
        return Err(fail("entry ID does not end with the leaf hash of the body"));
    }
    let log_index = u64::try_from(e.log_index).map_err(|_| fail("negative logIndex"))?;
    let set = e.inclusion_promise.as_ref().ok_or_else(|| fail("entry has no SET"))?;
    let payload = set_payload(&b64_encode(body), e.integrated_time, &log_id, log_index)?;
    log_key
        .verify(log_key.default_scheme(), &payload, &set.signed_entry_timestamp)
        .map_err(|err| Error::EntryCheck(format!("SET does not verify: {err}")))?;
    let p = e.inclusion_proof.as_ref().ok_or_else(|| fail("entry has no inclusion proof"))?;
    let hashes = p
        .hashes
        .iter()
        .map(|h| Hash::try_from(h.as_slice()))
        .collect::<std::result::Result<Vec<Hash>, _>>()
        .map_err(|_| fail("inclusion proof hash is not 32 bytes"))?;
    let root = Hash::try_from(p.root_hash.as_slice()).map_err(|_| fail("rootHash length"))?;
    let index = u64::try_from(p.log_index).map_err(|_| fail("negative proof logIndex"))?;
    let size = u64::try_from(p.tree_size).map_err(|_| fail("negative treeSize"))?;
    tlog::verify_inclusion(index, size, &leaf, &hashes, &root)
        .map_err(|err| Error::EntryCheck(format!("inclusion proof: {err}")))?;
    let note = p.checkpoint.as_ref().ok_or_else(|| fail("inclusion proof has no checkpoint"))?;
    let checkpoint = verify_tree_head(&note.envelope, log_key)?;
    let cp = checkpoint.checkpoint();
    if cp.size != size || cp.root_hash != root {
        return Err(Error::EntryCheck(format!(
            "checkpoint is for size {} root {}, the proof for size {size} root {}",
            cp.size,
            hex_encode(cp.root_hash),
            hex_encode(root)
        )));
    }
    Ok(VerifiedEntry {
        entry_id: logged.entry_id.clone(),
        log_index,
        integrated_time: e.integrated_time,
        leaf_hash: leaf,
        checkpoint,
        proof_len: hashes.len(),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::crypto::{EcdsaP256Signer, HashAlgorithm, Signer};
    use crate::rekor::client::log_entry_from_map;
    use crate::rekor::{canonicalize_proposed, Log};
    use crate::store::LogStore;

    /// A logged entry from a real in-process log, as a client would receive it.
    fn logged(key: Arc<dyn Signer>) -> (LoggedEntry, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let map = rt.block_on(async {
            let log = Log::open(
                LogStore::open(dir.path()).unwrap(),
                key,
                "log.example:8080",
                Arc::new(|| 1_700_000_000),
            )
            .unwrap();
            let s = EcdsaP256Signer::generate();
            for i in 0..5u8 {
                let d = crate::crypto::digest(HashAlgorithm::Sha256, &[i]);
                let sig = s.sign_prehashed(d.as_bytes()).unwrap();
                let proposal =
                    crate::rekor::client::hashedrekord_proposal(&d, &sig, &s.public_key().to_pem());
                log.submit(canonicalize_proposed(&proposal).unwrap()).await.unwrap();
            }
            log.entry_by_index(2).unwrap().to_map()
        });
        (log_entry_from_map(&map).unwrap(), dir)
    }

    #[test]
    fn entry_from_a_real_log_verifies_with_its_key() {
        let key: Arc<dyn Signer> = Arc::new(EcdsaP256Signer::generate());
        let (entry, _dir) = logged(key.clone());
        let v = verify_entry(&entry, key.public_key()).unwrap();
        assert_eq!(v.log_index(), 2);
        assert_eq!(v.checkpoint().checkpoint().size, 5);
        assert_eq!(v.checkpoint().signer_name(), "log.example:8080");
        assert_eq!(v.integrated_time(), 1_700_000_000);
    }

    #[test]
    fn entry_checked_with_another_key_is_rejected() {
        let (entry, _dir) = logged(Arc::new(EcdsaP256Signer::generate()));
        let other = EcdsaP256Signer::generate();
        let err = verify_entry(&entry, other.public_key()).unwrap_err();
        assert!(err.to_string().contains("log ID"), "{err}");
    }

    #[test]
    fn tampered_set_time_proof_and_body_are_each_rejected() {
        let key: Arc<dyn Signer> = Arc::new(EcdsaP256Signer::generate());
        let (entry, _dir) = logged(key.clone());
        let mut t = entry.clone();
        t.entry.integrated_time += 1;
        assert!(verify_entry(&t, key.public_key()).unwrap_err().to_string().contains("SET"));
        let mut t = entry.clone();
        t.entry.inclusion_proof.as_mut().unwrap().hashes[0].0[0] ^= 1;
        assert!(verify_entry(&t, key.public_key()).unwrap_err().to_string().contains("inclusion"));
        let mut t = entry.clone();
        t.entry.inclusion_proof.as_mut().unwrap().hashes.pop();
        assert!(verify_entry(&t, key.public_key()).is_err());
        let mut t = entry.clone();
        t.entry.canonicalized_body.0.push(b' ');
        assert!(verify_entry(&t, key.public_key()).unwrap_err().to_string().contains("entry ID"));
        let mut t = entry;
        t.entry.inclusion_promise = None;
        assert!(verify_entry(&t, key.public_key()).unwrap_err().to_string().contains("no SET"));
    }

    #[test]
    fn key_name_is_the_origin_without_the_tree_id() {
        assert_eq!(
            checkpoint_key_name("rekor.sigstore.dev - 2605736670972794746\n1\n").unwrap(),
            "rekor.sigstore.dev"
        );
        assert_eq!(
            checkpoint_key_name("log2025-1.rekor.sigstore.dev\n1\n").unwrap(),
            "log2025-1.rekor.sigstore.dev"
        );
        assert_eq!(checkpoint_key_name("a - b\n").unwrap(), "a - b");
        assert!(checkpoint_key_name("\n1\n").is_err());
    }
}
