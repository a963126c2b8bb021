//! Errors of the store module.

/// What went wrong reading or writing the database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database could not be opened, read, written or flushed.
    #[error("database error")]
    Database(#[from] sled::Error),
    /// A stored value has the wrong shape (the database is damaged or from another program).
    #[error("stored value for {0} is corrupt")]
    Corrupt(&'static str),
    /// A batch does not continue the stored log (wrong first index or size).
    #[error("commit starts at index {got}, the log has {want} entries")]
    OutOfSequence {
        /// First index of the batch.
        got: u64,
        /// Current log size.
        want: u64,
    },
    /// The file system is (nearly) full: the store takes no more entries until space
    /// returns, so that the database never meets a failed write (which sled cannot recover
    /// from without a restart).
    #[error("only {free} bytes free on the store's disk; entries are refused below {reserve}")]
    NoSpace {
        /// Free bytes.
        free: u64,
        /// The reserve kept free.
        reserve: u64,
    },
    /// The store is shorter than, or different from, what it had flushed (see
    /// [`super::Witness`]): damaged on disk or rolled back.
    #[error("the store is refused")]
    Refused(#[from] super::WitnessError),
    /// A Merkle computation over stored nodes failed (e.g. a missing node).
    #[error("merkle tree")]
    Tree(#[from] crate::tlog::Error),
}

/// Result with the store error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
