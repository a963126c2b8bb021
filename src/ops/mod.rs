//! L3 operating a log for years: integrity check (`fsck`), online backup and restore of a
//! Rekor log or of the CA's CT log, keys and chain.
//!
//! Both logs live in the same [`crate::store::LogStore`]; what differs is how a stored record
//! yields its Merkle leaf and how the checkpoint is signed ([`LogKind`]). The backup file
//! format is in `docs/backup-format.md` ([`archive`]). A running server holds sled's lock on
//! its store, so the CLI reaches it through the server's admin socket ([`admin`]); with no
//! server running the CLI opens the store itself.

pub mod admin;
pub mod archive;
mod backup;
mod data_dir;
mod error;
mod fsck;
mod kind;
mod moving;
pub mod tiles;

pub use backup::{
    add_files, copy_log_parts, restore, verify_backup, write_backup_file, write_log_parts, LogInfo,
    Restored,
};
pub use data_dir::{backup_data_dir, BackedUp};
pub use error::{Damage, Error, Result};
pub use fsck::{fsck, fsck_data_dir, Checked};
pub use kind::LogKind;
pub use moving::{export, import, ExportConfig, ImportConfig, MoveKind, Moved};

/// Progress callback: (done, total) in entries.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);
