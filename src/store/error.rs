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
    /// The PostgreSQL database could not be reached or refused a statement. `target` names
    /// the database (`user@host:port/db`, never the password).
    #[error("PostgreSQL database {target}: {what}: {detail}")]
    Postgres {
        /// Which database.
        target: String,
        /// What the store was doing.
        what: &'static str,
        /// The client's or the server's message.
        detail: String,
    },
    /// Another server integrated first: the tree in the database is no longer the size
    /// this batch extends (the fence of a PostgreSQL commit), so nothing was written.
    #[error(
        "the log moved on: another server committed tree size {found}, this batch extends {want}"
    )]
    Fenced {
        /// The size this batch expected.
        want: u64,
        /// The size found (if known; `want` + something).
        found: u64,
    },
    /// A bulk load ([`super::postgres::BulkLoad`]) found the schema already holding (part of)
    /// a log; nothing was written.
    #[error(
        "PostgreSQL database {target}: schema {schema} is not empty (it holds {found}); a log \
         is moved only into an empty schema"
    )]
    NotEmpty {
        /// Which database.
        target: String,
        /// The schema.
        schema: String,
        /// What it holds.
        found: String,
    },
    /// A `--storage` value that is not a usable database URL.
    #[error("storage URL: {0}")]
    BadUrl(String),
    /// An operation the PostgreSQL store does not offer (offline tools of the sled store).
    #[error("{0} is not available on a PostgreSQL log (use pg_dump / the database's own tools)")]
    Unsupported(&'static str),
}

/// Result with the store error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
