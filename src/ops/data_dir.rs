//! Backing up a server's data directory: through the running server's admin socket when one
//! answers, else by opening the store directly.

use std::path::Path;

use super::{admin, LogInfo, LogKind, Progress, Result};
use crate::crypto::cosign_key::Password;
use crate::store::LogStore;

/// What [`backup_data_dir`] wrote.
#[derive(Debug, Clone)]
pub struct BackedUp {
    /// The `log` part: kind, size, root, checkpoint.
    pub info: LogInfo,
    /// Names of the private key files included.
    pub keys: Vec<String>,
    /// Whether a running server sent the log (admin socket) or the store was opened.
    pub online: bool,
}

/// Backs up the log in `data_dir` to the new file `to` (see [`super::write_backup_file`]):
/// the log parts from the running server's admin socket if one answers, else from the store
/// opened directly (which fails if a server without a socket holds it); then the data
/// directory's files (keys only with `include_keys`, sealed with `passphrase` if given).
/// `now` (Unix seconds) goes into the manifest.
///
/// Errors: as [`super::write_log_parts`], [`super::copy_log_parts`], [`super::add_files`].
pub fn backup_data_dir(
    data_dir: &Path,
    to: &Path,
    include_keys: bool,
    passphrase: Option<&Password>,
    now: i64,
    progress: Progress<'_>,
) -> Result<BackedUp> {
    let kind = LogKind::detect(data_dir)?;
    let stream = admin::connect(data_dir);
    let online = stream.is_some();
    super::write_backup_file(
        to,
        |archive| {
            let info = match stream {
                Some(stream) => {
                    let mut answer = admin::request_backup(stream)?;
                    super::copy_log_parts(&mut answer, archive, progress)?
                }
                None => {
                    let key = kind.public_key(data_dir)?;
                    let store = LogStore::open_unindexed(&kind.store_dir(data_dir))?;
                    let info = super::write_log_parts(&store, kind, &key, archive, progress);
                    store.close()?;
                    info?
                }
            };
            let keys = super::add_files(data_dir, kind, include_keys, passphrase, archive)?;
            Ok(BackedUp { info, keys, online })
        },
        |done| {
            serde_json::json!({
                "kind": done.info.kind, "size": done.info.size, "root": done.info.root,
                "created": now, "online": done.online, "keys": done.keys,
                "keys_encrypted": passphrase.is_some() && !done.keys.is_empty(),
            })
        },
    )
}
