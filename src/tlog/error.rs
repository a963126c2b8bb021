//! Errors of the tlog module: proof checks, checkpoint parsing and signatures, tile paths.

use super::Hash;

/// What went wrong while checking or building Merkle proofs and checkpoints.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An inclusion proof was asked for or checked with `index >= size`.
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof between sizes that cannot be compared (`size1 > size2`, or
    /// `size1 == 0 < size2`).
    #[error("tree sizes {size1} and {size2} cannot be proven consistent")]
    SizesOutOfOrder {
        /// The older tree size.
        size1: u64,
        /// The newer tree size.
        size2: u64,
    },
    /// The proof has the wrong number of hashes for its index and sizes.
    #[error("proof has {got} hashes, want {want}")]
    ProofLength {
        /// Number of hashes given.
        got: usize,
        /// Number of hashes the sizes call for.
        want: usize,
    },
    /// The root computed from the proof differs from the expected root.
    #[error(
        "root hash mismatch: expected {}, computed {}",
        hex::encode(expected),
        hex::encode(computed)
    )]
    RootMismatch {
        /// The root the caller trusts.
        expected: Hash,
        /// The root the proof leads to.
        computed: Hash,
    },
    /// A node that a proof or root needs is not in the store.
    #[error("merkle node at level {level}, index {index} is missing")]
    MissingNode {
        /// Tree level (0 = leaves).
        level: u8,
        /// Index of the node within its level.
        index: u64,
    },
    /// The tree is too large for the arithmetic (more than 2^63 leaves).
    #[error("tree size {0} is too large")]
    TreeTooLarge(u64),
    /// A compact range was given the wrong number of hashes for its size.
    #[error("compact range for size {size} needs {want} hashes, got {got}")]
    CompactRangeLength {
        /// The tree size.
        size: u64,
        /// Hashes given.
        got: usize,
        /// Hashes needed (the number of set bits in `size`).
        want: usize,
    },
    /// A signed note has no blank line between text and signatures, or does not end in `\n`.
    #[error("signed note is malformed: {0}")]
    MalformedNote(&'static str),
    /// A signature line of a signed note is malformed.
    #[error("signed note signature line {line} is malformed")]
    MalformedSignatureLine {
        /// 1-based number of the line within the signature block.
        line: usize,
    },
    /// The checkpoint body (origin, size, root hash, extensions) is malformed.
    #[error("checkpoint {field} is malformed")]
    MalformedCheckpoint {
        /// Which part: `origin`, `tree size`, `root hash`, `extension line`.
        field: &'static str,
    },
    /// A signature line names a known key but with another key ID, and nothing verified.
    #[error(
        "checkpoint signature by {name:?}: key hint mismatch (got {}, want {})",
        hex::encode(got),
        hex::encode(want)
    )]
    KeyHintMismatch {
        /// The key name, quoted from the note.
        name: String,
        /// The key ID on the line.
        got: [u8; 4],
        /// The key ID of the trusted key with that name.
        want: [u8; 4],
    },
    /// A signature line from a trusted key does not verify.
    #[error("checkpoint signature by {name:?} does not verify")]
    BadSignature {
        /// The key name.
        name: String,
        /// Why the signature check failed.
        #[source]
        source: crate::crypto::Error,
    },
    /// No signature line comes from a trusted key.
    #[error("checkpoint has no signature from a trusted key (names seen: {names:?})")]
    NoTrustedSignature {
        /// The key names on the signature lines.
        names: Vec<String>,
    },
    /// A key name is empty or holds a space, `+` or a newline (C2SP signed-note).
    #[error("invalid signed-note key name {0:?}")]
    InvalidKeyName(String),
    /// The key cannot sign or verify notes (e.g. RSA, or the wrong kind for the call).
    #[error("key of kind {0:?} cannot be used for signed notes here")]
    UnsupportedNoteKey(crate::crypto::KeyKind),
    /// Signing a note failed in the signer.
    #[error("signing the checkpoint failed")]
    Signing(#[source] crate::crypto::Error),
    /// A tlog-tiles path is malformed.
    #[error("malformed tile path {0:?}")]
    MalformedTilePath(String),
}

/// Result with the tlog error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
