//! Errors of the ops module.

/// A damaged store or backup: the first bad thing found, named. Never repaired.
#[derive(Debug, thiserror::Error)]
pub enum Damage {
    /// Entries are stored but no signed checkpoint covers them.
    #[error("the store has {0} entries but no signed checkpoint")]
    NoCheckpoint(u64),
    /// The latest checkpoint does not verify with the log key.
    #[error("the latest checkpoint does not verify with the log key: {0}")]
    Checkpoint(String),
    /// The checkpoint and the stored size disagree.
    #[error("the signed checkpoint covers {checkpoint} entries, the store holds {stored}")]
    Size {
        /// Size in the checkpoint.
        checkpoint: u64,
        /// Size in the store.
        stored: u64,
    },
    /// An entry below the checkpoint's size is not stored.
    #[error("entry {0}: missing")]
    MissingEntry(u64),
    /// A stored record does not parse.
    #[error("entry {0}: the stored record does not parse")]
    UnreadableEntry(u64),
    /// The entry's content no longer hashes to the leaf hash the index and tree hold.
    #[error("entry {0}: its content does not hash to its leaf hash in the index and the tree (the entry is damaged)")]
    Entry(u64),
    /// A record's other fields are wrong.
    #[error("entry {index}: {problem}")]
    Record {
        /// The entry.
        index: u64,
        /// What is wrong.
        problem: &'static str,
    },
    /// The index's leaf hash for an entry is not the entry's.
    #[error("index entry {0}: its leaf hash is not the hash of entry {0} (the index is wrong)")]
    IndexEntry(u64),
    /// A lookup-index record is malformed or missing.
    #[error("index record for entries from {first}: {problem}")]
    IndexRecord {
        /// First entry it covers (or should cover).
        first: u64,
        /// What is wrong.
        problem: &'static str,
    },
    /// A stored tree node differs from the one recomputed from the entries.
    #[error("tree node (level {level}, index {index}): the stored hash differs from the one recomputed from the entries")]
    TreeNode {
        /// Node level.
        level: u8,
        /// Node index.
        index: u64,
    },
    /// The recomputed root is not the signed one.
    #[error("the tree recomputed from the entries has another root than the signed checkpoint at size {0}")]
    Root(u64),
    /// The store is shorter than, or differs from, the tree it last flushed (its witness).
    #[error("the store does not match the tree it last flushed: {0}")]
    Witness(String),
    /// A record is stored beyond the signed size.
    #[error("entry {0}: stored beyond the signed checkpoint's size")]
    Extra(u64),
    /// A tile about to be exported does not agree with the tree above it or with the signed
    /// root (`export-tiles` publishes nothing a reader would reject).
    #[error("{path}: {problem}")]
    Tile {
        /// The tile's C2SP path.
        path: String,
        /// What disagrees.
        problem: String,
    },
}

/// What went wrong checking, backing up or restoring.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store could not be read or written.
    #[error("log store")]
    Store(#[from] crate::store::Error),
    /// Merkle arithmetic failed.
    #[error("merkle tree")]
    Tree(#[from] crate::tlog::Error),
    /// The store or backup holds damaged data.
    #[error(transparent)]
    Damaged(#[from] Damage),
    /// One part of a backup file is damaged or malformed.
    #[error("backup part {part:?}: {problem}")]
    Part {
        /// Part name.
        part: String,
        /// What is wrong.
        problem: String,
    },
    /// The backup file as a whole is malformed (not a backup, truncated, parts missing).
    #[error("backup file: {0}")]
    Format(String),
    /// A file or directory could not be read or written.
    #[error("{path}")]
    Io {
        /// The path.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The operation is refused as asked (e.g. restoring over an existing store).
    #[error("{0}")]
    Refused(String),
    /// A key could not be read, encrypted or decrypted.
    #[error("key file {name}")]
    Key {
        /// File name.
        name: String,
        /// Cause.
        #[source]
        source: crate::crypto::cosign_key::KeyFileError,
    },
    /// A key or public key does not parse.
    #[error("key file {name}")]
    KeyParse {
        /// File name.
        name: String,
        /// Cause.
        #[source]
        source: crate::crypto::Error,
    },
    /// The server's admin socket failed or answered with an error.
    #[error("admin socket: {0}")]
    Admin(String),
    /// A running log could not be read (tile export from a server).
    #[error("transparency log")]
    Log(#[from] crate::rekor::Error),
}

impl Error {
    /// An I/O error on `path`.
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io { path: path.display().to_string(), source }
    }

    /// Whether this is a finding about the data (exit 1) rather than a failure to look.
    pub fn is_damage(&self) -> bool {
        matches!(self, Error::Damaged(_) | Error::Part { .. } | Error::Format(_))
    }
}

/// Result with the ops error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
