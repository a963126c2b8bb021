//! Live rotation of the log's key: the new key signs from the next batch on, and the keys it
//! replaced are kept (with the size each signed up to) so older entries are still served
//! and checked with the key that signed them.

use super::*;

/// A key retired by [`KeyRotation::install`]: it signed the SETs of entries below `size`
/// and its last checkpoint (at `size`). Reads of those entries answer with its log ID and a
/// proof against that checkpoint, so the SET, the log ID and the checkpoint are one key's.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct RetiredKey {
    pub(super) size: u64,
    pub(super) log_id: String,
    pub(super) checkpoint: String,
    /// Its public key (PEM), for checking those SETs (`sigbox log fsck --sets`).
    #[serde(default)]
    pub(super) public_key: String,
}

/// The keys retired by live rotations of the log in `store`, oldest first, each with the
/// size of the tree it signed up to: entry `i`'s SET is by the first key whose size is
/// above `i`, or by the current key when none is.
///
/// Errors: storage errors; a corrupt list.
pub fn retired_keys(
    store: &crate::store::LogStore,
) -> Result<Vec<(u64, crate::crypto::PublicKey)>> {
    let Some(bytes) = store.meta(RETIRED_KEYS)? else { return Ok(Vec::new()) };
    let list: Vec<RetiredKey> = serde_json::from_slice(&bytes)
        .map_err(|_| crate::store::Error::Corrupt("retired log keys"))?;
    list.into_iter()
        .map(|r| {
            let key = crate::crypto::PublicKey::from_pem(&r.public_key)
                .map_err(|_| crate::store::Error::Corrupt("retired log key"))?;
            Ok((r.size, key))
        })
        .collect()
}

/// Meta key of the retired-key list.
pub(super) const RETIRED_KEYS: &str = "retired_keys";

/// A live key rotation in progress (from [`Log::rotation`]): no batch is integrated while
/// it exists.
pub struct KeyRotation<'a> {
    pub(super) shared: &'a Shared,
    pub(super) key: RwLockWriteGuard<'a, LogKey>,
}

impl KeyRotation<'_> {
    /// Switches to `signer`: the old key's last checkpoint is kept (with the size up to
    /// which it signed the SETs) for reads of older entries, and the current tree is
    /// re-signed by the new key, so everything answered from now on is the new key's.
    ///
    /// Errors: [`Error::Tree`] when the key does not suit the log's version or name;
    /// storage errors.
    pub fn install(&mut self, signer: Arc<dyn Signer>) -> Result<()> {
        let shared = self.shared;
        let fits = matches!(
            (shared.version, signer.public_key().kind()),
            (LogVersion::V1, crate::crypto::KeyKind::EcdsaP256)
                | (LogVersion::V2, crate::crypto::KeyKind::Ed25519)
        );
        if !fits {
            return Err(Error::BadRequest(
                "the new log key does not suit the log's version".into(),
            ));
        }
        let log_id =
            tlog::NoteVerifier::for_key(&shared.name, signer.public_key().clone())?.log_id();
        let head = shared.head();
        let checkpoint = sign_head(&shared.origin, &shared.name, &*signer, head.size, head.root)?;
        let mut retired = shared.retired.write().unwrap_or_else(|p| p.into_inner());
        let mut list = retired.clone();
        list.push(RetiredKey {
            size: head.size,
            log_id: hex_encode(self.key.log_id),
            checkpoint: head.checkpoint.clone(),
            public_key: self.key.signer.public_key().to_pem(),
        });
        let bytes = serde_json::to_vec(&list)
            .map_err(|_| crate::store::Error::Corrupt("retired log keys"))?;
        shared.store.set_meta(RETIRED_KEYS, &bytes)?;
        shared.store.set_meta("checkpoint", checkpoint.as_bytes())?;
        *retired = list;
        *shared.head.write().unwrap_or_else(|p| p.into_inner()) = Head { checkpoint, ..head };
        *self.key = LogKey { signer, log_id };
        tracing::info!(size = shared.head().size, "log key rotated");
        Ok(())
    }
}
