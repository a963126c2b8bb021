//! The store's own record of how far it got: `<db>.head`, a one-line file beside sled's
//! directory holding the size and root of the last tree the store flushed.
//!
//! Why it exists: sled checks every record it reads back, but on a damaged file (a flipped
//! byte, a truncation) it recovers by dropping everything from the damaged record on, and
//! opens without complaint. The log would then serve an older tree under the same key — a
//! fork the moment it signs its next checkpoint. The witness lives outside sled, so a store
//! that comes back shorter than (or different from) what it once flushed is refused at open.
//!
//! It is written after sled's flush (so it never claims more than is durable) by write +
//! rename, without an fsync of its own: it only has to survive what sled survives, and a
//! lost or empty witness after a power cut just means one open without the check.

use std::path::{Path, PathBuf};

use crate::tlog::Hash;

/// Why a witness could not be read or written, or why it refuses the store.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// The witness file could not be read or replaced.
    #[error("{path}")]
    Io {
        /// The witness file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The witness file does not hold `SIZE ROOT-HEX`.
    #[error("{0} is damaged (expected `SIZE ROOT-HEX`); check the store with `sigbox log fsck`")]
    Malformed(PathBuf),
    /// The store holds fewer entries than it once flushed.
    #[error(
        "the store holds {held} entries but had durably stored {witnessed} (per {path}): it was \
         damaged or rolled back, and serving it would fork the log; restore it from a backup"
    )]
    Shorter {
        /// Entries in the store now.
        held: u64,
        /// Entries it had flushed.
        witnessed: u64,
        /// The witness file.
        path: PathBuf,
    },
    /// The store's tree at the witnessed size has another root.
    #[error(
        "the store's tree of size {size} has root {found}, but it had flushed root {witnessed} \
         (per {path}): the store is damaged; restore it from a backup"
    )]
    Diverged {
        /// The witnessed size.
        size: u64,
        /// Root the store computes now (hex).
        found: String,
        /// Root it had flushed (hex).
        witnessed: String,
        /// The witness file.
        path: PathBuf,
    },
}

/// The witness file of one store.
#[derive(Debug, Clone)]
pub struct Witness {
    path: PathBuf,
}

impl Witness {
    /// The witness of the sled directory `db`: `db` with `.head` appended.
    pub fn of(db: &Path) -> Witness {
        let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".head");
        Witness { path: db.with_file_name(name) }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the store had flushed: None when there is no witness yet (a new store, or one
    /// written before witnesses existed) or it is empty (lost in a power cut).
    ///
    /// Errors: [`WitnessError::Io`], [`WitnessError::Malformed`].
    pub fn read(&self) -> Result<Option<(u64, Hash)>, WitnessError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(WitnessError::Io { path: self.path.clone(), source }),
        };
        if text.trim().is_empty() {
            return Ok(None);
        }
        parse(&text).map(Some).ok_or_else(|| WitnessError::Malformed(self.path.clone()))
    }

    /// Records that the store durably holds the tree `(size, root)`.
    ///
    /// Errors: [`WitnessError::Io`].
    pub fn record(&self, size: u64, root: &Hash) -> Result<(), WitnessError> {
        let io = |source| WitnessError::Io { path: self.path.clone(), source };
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        std::fs::write(&tmp, format!("{size} {}\n", crate::encoding::hex_encode(root)))
            .map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)
    }

    /// Checks a store of `held` entries against the witness; `root_at` computes the
    /// store's root at a size no larger than `held`.
    ///
    /// Errors: [`WitnessError::Shorter`], [`WitnessError::Diverged`], or the read errors.
    pub fn check<E>(
        &self,
        held: u64,
        root_at: impl FnOnce(u64) -> Result<Hash, E>,
    ) -> Result<Result<(), E>, WitnessError> {
        let Some((witnessed, root)) = self.read()? else {
            return Ok(Ok(()));
        };
        if held < witnessed {
            return Err(WitnessError::Shorter { held, witnessed, path: self.path.clone() });
        }
        if witnessed == 0 {
            return Ok(Ok(()));
        }
        let found = match root_at(witnessed) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        if found != root {
            return Err(WitnessError::Diverged {
                size: witnessed,
                found: crate::encoding::hex_encode(found),
                witnessed: crate::encoding::hex_encode(root),
                path: self.path.clone(),
            });
        }
        Ok(Ok(()))
    }
}

fn parse(text: &str) -> Option<(u64, Hash)> {
    let mut parts = text.split_whitespace();
    let size = parts.next()?.parse().ok()?;
    let root = crate::encoding::hex_decode(parts.next()?)?.try_into().ok()?;
    parts.next().is_none().then_some((size, root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_witness_round_trips_and_judges_stores() {
        let dir = tempfile::tempdir().unwrap();
        let w = Witness::of(&dir.path().join("db"));
        assert_eq!(w.path(), dir.path().join("db.head"));
        assert_eq!(w.read().unwrap(), None);
        let ok = |_: u64| Ok::<Hash, ()>([7; 32]);
        assert!(matches!(w.check(0, ok), Ok(Ok(()))), "no witness: nothing to check");
        w.record(10, &[7; 32]).unwrap();
        assert_eq!(w.read().unwrap(), Some((10, [7; 32])));
        assert!(matches!(w.check(10, ok), Ok(Ok(()))));
        assert!(matches!(w.check(12, ok), Ok(Ok(()))), "a store ahead of its witness is fine");
        assert!(matches!(
            w.check(9, ok),
            Err(WitnessError::Shorter { held: 9, witnessed: 10, .. })
        ));
        let other = |_: u64| Ok::<Hash, ()>([8; 32]);
        assert!(matches!(w.check(10, other), Err(WitnessError::Diverged { size: 10, .. })));
        std::fs::write(w.path(), "ten 00\n").unwrap();
        assert!(matches!(w.read(), Err(WitnessError::Malformed(_))));
        std::fs::write(w.path(), "").unwrap();
        assert_eq!(w.read().unwrap(), None, "an empty witness (power cut) is no witness");
    }
}
