//! Verifies one transparency log entry of a bundle (PROTOCOLS §9 step 2, §4.5–§4.7): log
//! lookup by `logId`, the SET over the JCS payload, the RFC 6962 inclusion proof with the
//! proof's own index and size, the checkpoint signature and its agreement with the proof.
//!
//! The body-versus-bundle comparison is in `body.rs`; this file only proves that the body
//! is in a trusted log.

use crate::bundle::LogEntry;
use crate::encoding::{b64_encode, hex_encode};
use crate::tlog;
use crate::trust::{TransparencyLog, TrustedRoot};
use crate::verify::Error;

/// A tlog entry proven to be in a trusted log. Only [`verify_entry`] makes one.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedEntry<'r> {
    /// The log that holds it.
    pub log: &'r TransparencyLog,
    /// `integratedTime`, only when the SET verified.
    pub set_time: Option<i64>,
    /// Whether an inclusion proof and checkpoint were verified.
    pub proof_verified: bool,
}

/// Verifies `entry` against the logs of `root`.
///
/// Errors: [`Error::UnknownLog`], [`Error::Set`], [`Error::LogNotValid`],
/// [`Error::InclusionProof`], [`Error::CheckpointSignature`], [`Error::CheckpointKeyHint`],
/// [`Error::CheckpointMismatch`], [`Error::NoInclusion`].
pub(crate) fn verify_entry<'r>(
    entry: &LogEntry,
    root: &'r TrustedRoot,
) -> Result<VerifiedEntry<'r>, Error> {
    let log = root
        .tlog_by_id(&entry.log_id)
        .ok_or_else(|| Error::UnknownLog { log_id: hex_encode(&entry.log_id) })?;
    let mut set_time = None;
    if let Some(set) = &entry.inclusion_promise {
        verify_set(entry, log, set)?;
        let time = i64::try_from(entry.integrated_time)
            .map_err(|_| Error::LogNotValid { url: log.base_url.clone(), time: i64::MAX })?;
        if !log.valid_for.contains(time) {
            return Err(Error::LogNotValid { url: log.base_url.clone(), time });
        }
        set_time = Some(time);
    }
    let proof_verified = match &entry.inclusion_proof {
        Some(proof) => {
            verify_proof(entry, log, proof)?;
            true
        }
        None => false,
    };
    if set_time.is_none() && !proof_verified {
        return Err(Error::NoInclusion);
    }
    Ok(VerifiedEntry { log, set_time, proof_verified })
}

/// The SET is the log's signature over JCS `{body, integratedTime, logID, logIndex}` with the
/// global log index and the body as standard base64 (PROTOCOLS §4.5).
fn verify_set(entry: &LogEntry, log: &TransparencyLog, set: &[u8]) -> Result<(), Error> {
    let body_b64 = b64_encode(&entry.canonicalized_body);
    let integrated_time = i64::try_from(entry.integrated_time).map_err(|_| Error::SetPayload)?;
    let bytes = crate::rekor_model::set::payload(
        &body_b64,
        integrated_time,
        &entry.log_id,
        entry.log_index,
    )
    .map_err(|_| Error::SetPayload)?;
    log.key.verify(log.scheme, &bytes, set).map_err(Error::Set)
}

fn verify_proof(
    entry: &LogEntry,
    log: &TransparencyLog,
    proof: &crate::bundle::Proof,
) -> Result<(), Error> {
    let leaf = tlog::hash_leaf(&entry.canonicalized_body);
    tlog::verify_inclusion(
        proof.log_index,
        proof.tree_size,
        &leaf,
        &proof.hashes,
        &proof.root_hash,
    )
    .map_err(Error::InclusionProof)?;
    let verifiers = log.note_verifiers().map_err(Error::TrustedLogKey)?;
    let verified = tlog::verify_checkpoint(&proof.checkpoint, &verifiers).map_err(|e| match e {
        tlog::Error::KeyHintMismatch { .. } => Error::CheckpointKeyHint(e),
        other => Error::CheckpointSignature(other),
    })?;
    let checkpoint = verified.checkpoint();
    if checkpoint.size != proof.tree_size {
        return Err(Error::CheckpointMismatch { field: "tree size" });
    }
    if checkpoint.root_hash != proof.root_hash {
        return Err(Error::CheckpointMismatch { field: "root hash" });
    }
    Ok(())
}
