//! The CA's built-in Certificate Transparency log (RFC 6962): every precertificate is
//! appended to a Merkle log of its own (own key, own sled storage) before the CA signs the
//! final certificate, and the SCT embedded in that certificate comes from this log.
//!
//! Appends are group-committed: concurrent issuances queue their precertificates, one
//! writer thread appends a whole batch, flushes once and signs one tree head, and only then
//! answers each caller with its SCT. An SCT is therefore never handed out for an entry that
//! is not durably in the log (a stronger promise than RFC 6962's maximum merge delay).

use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::thread;

use crate::crypto::{digest, HashAlgorithm, PublicKey, Signer};
use crate::store::{Commit, CommittedEntry, Store};
use crate::tlog::{self, CompactRange, Hash};

/// Why the CT log could not log a precertificate or answer a read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The storage failed.
    #[error("CT log storage")]
    Store(#[from] crate::store::Error),
    /// Merkle arithmetic failed (bad size or index).
    #[error("CT log tree")]
    Tree(#[from] tlog::Error),
    /// Signing the SCT or the tree head failed.
    #[error("CT log signing")]
    Sign(#[source] crate::crypto::Error),
    /// A precertificate TBS is longer than RFC 6962's 24-bit length.
    #[error("precertificate is too large to log")]
    TooLarge,
    /// The writer thread is gone (the log is shutting down or failed).
    #[error("the CT log writer stopped")]
    WriterGone,
    /// A stored record does not parse.
    #[error("corrupt CT log record at index {0}")]
    Corrupt(u64),
}

/// A signed certificate timestamp for one precertificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sct {
    /// SHA-256 of the log's SPKI.
    pub log_id: [u8; 32],
    /// Milliseconds since the epoch.
    pub timestamp_ms: u64,
    /// DER ECDSA signature over the RFC 6962 §3.2 signed data.
    pub signature: Vec<u8>,
    /// Index the precertificate got in the log.
    pub index: u64,
}

/// A signed tree head (RFC 6962 §3.5).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SignedTreeHead {
    /// Number of entries.
    pub tree_size: u64,
    /// Milliseconds since the epoch.
    pub timestamp: u64,
    /// Base64 root hash.
    pub sha256_root_hash: String,
    /// Base64 TLS `DigitallySigned`.
    pub tree_head_signature: String,
}

struct Job {
    tbs: Vec<u8>,
    signature: Vec<u8>,
    issuer_key_hash: [u8; 32],
    extra_data: Vec<u8>,
    timestamp_ms: u64,
    /// The log ID of the key that signed `signature`.
    log_id: [u8; 32],
    reply: mpsc::Sender<Result<Sct, Error>>,
}

/// The CT log's signing key and its log ID, swapped whole by [`CtLog::replace_key`].
#[derive(Clone)]
struct CtKey {
    signer: Arc<dyn Signer>,
    log_id: [u8; 32],
}

/// The CT log: storage, key, and the writer thread's queue.
pub struct CtLog {
    store: Store,
    key: Arc<RwLock<CtKey>>,
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<thread::JoinHandle<()>>>,
}

impl CtLog {
    /// Opens the log on `store` with signing key `signer` and starts its writer thread.
    pub fn open(store: impl Into<Store>, signer: Arc<dyn Signer>) -> Result<Arc<Self>, Error> {
        let store: Store = store.into();
        let log_id = signer.public_key().key_id();
        let range = store.compact_range()?;
        let (tx, rx) = mpsc::channel::<Job>();
        let writer_store = store.clone();
        let key = Arc::new(RwLock::new(CtKey { signer, log_id }));
        let writer_key = key.clone();
        let handle = thread::Builder::new()
            .name("ct-log-writer".into())
            .spawn(move || writer(rx, writer_store, writer_key, range))
            .map_err(|_| Error::WriterGone)?;
        Ok(Arc::new(CtLog {
            store,
            key,
            queue: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(handle)),
        }))
    }

    fn key(&self) -> CtKey {
        self.key.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The log's current public key.
    pub fn public_key(&self) -> PublicKey {
        self.key().signer.public_key().clone()
    }

    /// SHA-256 of the current key's SPKI: the SCT `log_id` and the trusted root's `logId`.
    pub fn log_id(&self) -> [u8; 32] {
        self.key().log_id
    }

    /// Signs from now on with `signer` (a live key rotation), and re-signs the latest tree
    /// head with it at `now_ms` (so `get-sth` verifies with the key the trusted root now
    /// lists). The caller makes sure no precertificate is in flight (the CA holds its
    /// issuance lock while it calls this), so every SCT and tree head of a batch is by one
    /// key.
    ///
    /// Errors: [`Error::Store`], [`Error::Corrupt`], [`Error::Sign`]; the old key stays.
    pub fn replace_key(&self, signer: Arc<dyn Signer>, now_ms: u64) -> Result<(), Error> {
        let mut key = self.key.write().unwrap_or_else(|p| p.into_inner());
        if let Some(text) = self.store.checkpoint()? {
            let sth: SignedTreeHead =
                serde_json::from_str(&text).map_err(|_| Error::Corrupt(u64::MAX))?;
            let root: Hash = crate::encoding::b64_decode(&sth.sha256_root_hash)
                .and_then(|r| r.try_into().ok())
                .ok_or(Error::Corrupt(sth.tree_size))?;
            let timestamp = now_ms.max(sth.timestamp);
            let resigned = sign_tree_head(signer.as_ref(), sth.tree_size, timestamp, &root)?;
            let text = serde_json::to_string(&resigned).map_err(|_| Error::Corrupt(u64::MAX))?;
            self.store.set_meta("checkpoint", text.as_bytes())?;
        }
        let log_id = signer.public_key().key_id();
        *key = CtKey { signer, log_id };
        Ok(())
    }

    /// Logs a precertificate and returns its SCT once the entry is durable.
    ///
    /// `tbs` is the TBS that the SCT covers (the final certificate's TBS without the SCT
    /// list, i.e. the precertificate TBS without the poison); `chain` is the DER
    /// precertificate followed by its CA chain, kept for `get-entries` as the RFC 6962 §4.6
    /// `PrecertChainEntry`.
    pub fn log_precert(
        &self,
        tbs: &[u8],
        issuer_spki: &[u8],
        chain: Vec<Vec<u8>>,
        timestamp_ms: u64,
    ) -> Result<Sct, Error> {
        if tbs.len() >= 1 << 24 {
            return Err(Error::TooLarge);
        }
        let mut issuer_key_hash = [0u8; 32];
        issuer_key_hash.copy_from_slice(digest(HashAlgorithm::Sha256, issuer_spki).as_bytes());
        // The SCT signature does not depend on the entry's position, so each caller signs its
        // own in parallel; the writer thread only appends, flushes and signs the tree head.
        let CtKey { signer, log_id } = self.key();
        let signature = signer
            .sign(&sct_signed_data(timestamp_ms, &issuer_key_hash, tbs))
            .map_err(Error::Sign)?;
        let extra_data = precert_chain_entry(&chain).ok_or(Error::TooLarge)?;
        let (reply, answer) = mpsc::channel();
        let job = Job {
            tbs: tbs.to_vec(),
            signature,
            issuer_key_hash,
            extra_data,
            timestamp_ms,
            log_id,
            reply,
        };
        self.queue
            .lock()
            .map_err(|_| Error::WriterGone)?
            .as_ref()
            .ok_or(Error::WriterGone)?
            .send(job)
            .map_err(|_| Error::WriterGone)?;
        answer.recv().map_err(|_| Error::WriterGone)?
    }

    /// The latest signed tree head (`get-sth`). An empty log answers with a tree head of
    /// size 0 signed now (`now_ms`), as RFC 6962 §4.3 expects a log to always have one.
    pub fn signed_tree_head(&self, now_ms: u64) -> Result<SignedTreeHead, Error> {
        match self.store.checkpoint()? {
            Some(text) => serde_json::from_str(&text).map_err(|_| Error::Corrupt(u64::MAX)),
            None => sign_tree_head(self.key().signer.as_ref(), 0, now_ms, &tlog::empty_root()),
        }
    }

    /// Storage, for the read API.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

impl Drop for CtLog {
    /// Stops the writer after it has committed what is queued, so the storage is closed
    /// (and its lock released) when the log is gone.
    fn drop(&mut self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        let handle = self.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

/// The RFC 6962 §3.4 `MerkleTreeLeaf` for a precertificate entry.
pub fn precert_leaf(timestamp_ms: u64, issuer_key_hash: &[u8; 32], tbs: &[u8]) -> Vec<u8> {
    let mut leaf = Vec::with_capacity(tbs.len() + 50);
    leaf.push(0); // version v1
    leaf.push(0); // leaf_type timestamped_entry
    leaf.extend_from_slice(&timestamp_ms.to_be_bytes());
    leaf.extend_from_slice(&1u16.to_be_bytes()); // entry_type precert_entry
    leaf.extend_from_slice(issuer_key_hash);
    let len = tbs.len() as u32; // checked < 2^24 by the caller
    leaf.extend_from_slice(&len.to_be_bytes()[1..]);
    leaf.extend_from_slice(tbs);
    leaf.extend_from_slice(&0u16.to_be_bytes()); // no extensions
    leaf
}

/// RFC 6962 §4.6 `PrecertChainEntry` (the `extra_data` of a precertificate entry):
/// `ASN.1Cert pre_certificate; ASN.1Cert precertificate_chain<0..2^24-1>`, every
/// certificate with a uint24 length. `chain` is the precertificate, then its CA chain.
/// `None` when a length does not fit 24 bits or `chain` is empty.
pub fn precert_chain_entry(chain: &[Vec<u8>]) -> Option<Vec<u8>> {
    let (precert, cas) = chain.split_first()?;
    let u24 = |n: usize| -> Option<[u8; 3]> {
        let n = u32::try_from(n).ok().filter(|n| *n < 1 << 24)?;
        let [_, a, b, c] = n.to_be_bytes();
        Some([a, b, c])
    };
    let mut list = Vec::new();
    for cert in cas {
        list.extend_from_slice(&u24(cert.len())?);
        list.extend_from_slice(cert);
    }
    let mut out = Vec::with_capacity(precert.len() + list.len() + 6);
    out.extend_from_slice(&u24(precert.len())?);
    out.extend_from_slice(precert);
    out.extend_from_slice(&u24(list.len())?);
    out.extend_from_slice(&list);
    Some(out)
}

/// The data an SCT signs (RFC 6962 §3.2) for a precertificate entry.
fn sct_signed_data(timestamp_ms: u64, issuer_key_hash: &[u8; 32], tbs: &[u8]) -> Vec<u8> {
    let mut leaf = precert_leaf(timestamp_ms, issuer_key_hash, tbs);
    // Same layout with signature_type (0 = certificate_timestamp) where leaf_type stood.
    if let Some(b) = leaf.get_mut(1) {
        *b = 0;
    }
    leaf
}

fn writer(rx: mpsc::Receiver<Job>, store: Store, key: Arc<RwLock<CtKey>>, mut range: CompactRange) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < 1024 {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let signer = key.read().unwrap_or_else(|p| p.into_inner()).signer.clone();
        let result = commit_batch(&jobs, &store, signer.as_ref(), &mut range);
        match result {
            Ok(scts) => {
                for (job, sct) in jobs.into_iter().zip(scts) {
                    let _ = job.reply.send(Ok(sct));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "CT log batch failed");
                // The range may hold nodes that were never stored: rebuild from disk.
                if let Ok(fresh) = store.compact_range() {
                    range = fresh;
                }
                for job in jobs {
                    let _ = job.reply.send(Err(Error::WriterGone));
                }
            }
        }
    }
}

fn commit_batch(
    jobs: &[Job],
    store: &Store,
    signer: &dyn Signer,
    range: &mut CompactRange,
) -> Result<Vec<Sct>, Error> {
    let mut commit = Commit::default();
    let mut scts = Vec::with_capacity(jobs.len());
    let mut latest_ms = 0;
    for job in jobs {
        let leaf = precert_leaf(job.timestamp_ms, &job.issuer_key_hash, &job.tbs);
        let leaf_hash: Hash = tlog::hash_leaf(&leaf);
        let index = range.size();
        let mut nodes = Vec::new();
        range.append(leaf_hash, |id, h| nodes.push((id, *h)))?;
        commit.nodes.extend(nodes);
        let record = serde_json::json!({
            "leaf_input": crate::encoding::b64_encode(&leaf),
            "extra_data": crate::encoding::b64_encode(&job.extra_data),
        });
        commit.entries.push(CommittedEntry {
            index,
            leaf_hash,
            record: record.to_string().into_bytes(),
            search_keys: Vec::new(),
        });
        latest_ms = latest_ms.max(job.timestamp_ms);
        scts.push(Sct {
            log_id: job.log_id,
            timestamp_ms: job.timestamp_ms,
            signature: job.signature.clone(),
            index,
        });
    }
    let sth = sign_tree_head(signer, range.size(), latest_ms, &range.root())?;
    commit.checkpoint = serde_json::to_string(&sth).map_err(|_| Error::Corrupt(range.size()))?;
    store.commit(&commit)?;
    Ok(scts)
}

/// Signs an RFC 6962 §3.5 tree head: `TreeHeadSignature` = version 0, signature_type 1
/// (tree_hash), timestamp, tree_size, root; wrapped as TLS `DigitallySigned`.
fn sign_tree_head(
    signer: &dyn Signer,
    size: u64,
    timestamp_ms: u64,
    root: &Hash,
) -> Result<SignedTreeHead, Error> {
    let mut data = Vec::with_capacity(50);
    data.push(0);
    data.push(1);
    data.extend_from_slice(&timestamp_ms.to_be_bytes());
    data.extend_from_slice(&size.to_be_bytes());
    data.extend_from_slice(root);
    let signature = signer.sign(&data).map_err(Error::Sign)?;
    Ok(SignedTreeHead {
        tree_size: size,
        timestamp: timestamp_ms,
        sha256_root_hash: crate::encoding::b64_encode(root),
        tree_head_signature: crate::encoding::b64_encode(digitally_signed(&signature)),
    })
}

/// TLS `DigitallySigned`: hash 4 (SHA-256), signature 3 (ECDSA), uint16 length, signature.
pub fn digitally_signed(signature: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(signature.len() + 4);
    out.push(4);
    out.push(3);
    out.extend_from_slice(&(signature.len() as u16).to_be_bytes());
    out.extend_from_slice(signature);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{EcdsaP256Signer, SignatureScheme};

    fn log() -> Arc<CtLog> {
        let key: Arc<dyn Signer> = Arc::new(EcdsaP256Signer::generate());
        CtLog::open(crate::store::LogStore::temporary().expect("store"), key).expect("opens")
    }

    fn verify_sth(log: &CtLog, sth: &SignedTreeHead) {
        let root = crate::encoding::b64_decode(&sth.sha256_root_hash).expect("root");
        let mut data = vec![0u8, 1];
        data.extend_from_slice(&sth.timestamp.to_be_bytes());
        data.extend_from_slice(&sth.tree_size.to_be_bytes());
        data.extend_from_slice(&root);
        let signed = crate::encoding::b64_decode(&sth.tree_head_signature).expect("sig");
        assert_eq!(signed.get(..2), Some(&[4u8, 3][..]));
        let signature = signed.get(4..).expect("signature");
        log.public_key().verify(SignatureScheme::EcdsaSha256, &data, signature).expect("verifies");
    }

    #[test]
    fn empty_log_has_a_signed_size_zero_tree_head() {
        let log = log();
        let sth = log.signed_tree_head(1_000).expect("sth");
        assert_eq!(sth.tree_size, 0);
        assert_eq!(sth.timestamp, 1_000);
        assert_eq!(
            crate::encoding::b64_decode(&sth.sha256_root_hash).expect("root"),
            tlog::empty_root().to_vec()
        );
        verify_sth(&log, &sth);
    }

    #[test]
    fn concurrent_precerts_get_distinct_indices_verifying_scts_and_one_root() {
        let log = log();
        let issuer_spki = EcdsaP256Signer::generate().public_key().spki_der().to_vec();
        let threads: Vec<_> = (0..16u8)
            .map(|i| {
                let log = log.clone();
                let spki = issuer_spki.clone();
                thread::spawn(move || {
                    let tbs = vec![i; 100 + usize::from(i)];
                    let sct = log.log_precert(&tbs, &spki, vec![tbs.clone()], 5_000).expect("logs");
                    (tbs, sct)
                })
            })
            .collect();
        let mut results: Vec<(Vec<u8>, Sct)> =
            threads.into_iter().map(|t| t.join().expect("thread")).collect();
        results.sort_by_key(|(_, sct)| sct.index);
        let indices: Vec<u64> = results.iter().map(|(_, s)| s.index).collect();
        assert_eq!(indices, (0..16).collect::<Vec<u64>>());
        let mut key_hash = [0u8; 32];
        key_hash.copy_from_slice(digest(HashAlgorithm::Sha256, &issuer_spki).as_bytes());
        let mut leaves = Vec::new();
        for (tbs, sct) in &results {
            assert_eq!(sct.log_id, log.log_id());
            let signed = sct_signed_data(sct.timestamp_ms, &key_hash, tbs);
            log.public_key()
                .verify(SignatureScheme::EcdsaSha256, &signed, &sct.signature)
                .expect("SCT verifies");
            leaves.push(tlog::hash_leaf(&precert_leaf(sct.timestamp_ms, &key_hash, tbs)));
        }
        let sth = log.signed_tree_head(0).expect("sth");
        assert_eq!(sth.tree_size, 16);
        verify_sth(&log, &sth);
        let mut range = CompactRange::new();
        for leaf in leaves {
            range.append(leaf, |_, _| {}).expect("append");
        }
        assert_eq!(crate::encoding::b64_encode(range.root()), sth.sha256_root_hash);
    }

    #[test]
    fn a_replaced_key_resigns_the_tree_head_and_signs_the_next_scts() {
        let log = log();
        let spki = EcdsaP256Signer::generate().public_key().spki_der().to_vec();
        let old_id = log.log_id();
        let first = log.log_precert(b"tbs one", &spki, vec![vec![1]], 5_000).expect("logs");
        let new: Arc<dyn Signer> = Arc::new(EcdsaP256Signer::generate());
        log.replace_key(new.clone(), 6_000).expect("replaces");
        let sth = log.signed_tree_head(0).expect("sth");
        assert_eq!((sth.tree_size, sth.timestamp), (1, 6_000));
        verify_sth(&log, &sth);
        assert_eq!(log.public_key(), new.public_key().clone());
        let second = log.log_precert(b"tbs two", &spki, vec![vec![2]], 7_000).expect("logs");
        assert_eq!((first.log_id, second.log_id), (old_id, new.public_key().key_id()));
        verify_sth(&log, &log.signed_tree_head(0).expect("sth"));
    }

    #[test]
    fn precert_chain_entry_is_tls_encoded_with_24_bit_lengths() {
        let entry = precert_chain_entry(&[vec![1, 2], vec![3], vec![4, 5, 6]]).expect("encodes");
        assert_eq!(entry, [0, 0, 2, 1, 2, 0, 0, 10, 0, 0, 1, 3, 0, 0, 3, 4, 5, 6]);
        assert_eq!(precert_chain_entry(&[vec![9]]), Some(vec![0, 0, 1, 9, 0, 0, 0]));
        assert_eq!(precert_chain_entry(&[]), None);
    }

    #[test]
    fn oversized_precertificate_is_refused_before_logging() {
        let log = log();
        let tbs = vec![0u8; 1 << 24];
        assert!(matches!(log.log_precert(&tbs, b"spki", vec![], 1), Err(Error::TooLarge)));
        assert_eq!(log.store().size().expect("size"), 0);
    }
}
