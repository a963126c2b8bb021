//! L1 TUF 1.0 metadata and the client's checks (TUF specification §5.3–5.7): root rotation
//! by threshold, rollback, freeze (expiry), mix-and-match (versions and hashes across
//! roles) and endless data (lengths). No I/O: the L3 updater in `crate::tuf` fetches bytes
//! and feeds them to [`TrustedSet`] in the order the spec prescribes.
//!
//! Every rejection names the TUF check it failed, so an operator can tell a rotated-away
//! key from a replayed file.

mod metadata;
mod trusted_set;

pub use metadata::{
    key_id, public_key, Envelope, Key, KeyVal, MetaFile, MetaList, Role, RoleData, Root, Signature,
    Signed, TargetFile, Targets,
};
pub use trusted_set::{check_length_and_hashes, TrustedSet};

/// The public-good TUF root the binary trusts first: root v1 of `sigstore/root-signing`
/// (the repository's own trust anchor, hex-encoded P-256 keys); a client walks from it
/// through every root version to the newest, each signed by a threshold of the previous.
pub const PUBLIC_GOOD_TUF_ROOT: &str = include_str!("../public_good/tuf_root.json");

/// The public-good TUF repository.
pub const PUBLIC_GOOD_MIRROR: &str = "https://tuf-repo-cdn.sigstore.dev";

/// The largest root / timestamp / snapshot / targets file a client reads (endless data).
pub const MAX_ROOT_BYTES: u64 = 512 * 1024;
/// See [`MAX_ROOT_BYTES`].
pub const MAX_TIMESTAMP_BYTES: u64 = 16 * 1024;
/// See [`MAX_ROOT_BYTES`]; used when the timestamp does not give the snapshot's length.
pub const MAX_SNAPSHOT_BYTES: u64 = 2 * 1024 * 1024;
/// See [`MAX_ROOT_BYTES`]; used when the snapshot does not give the targets' length.
pub const MAX_TARGETS_BYTES: u64 = 5 * 1024 * 1024;
/// The most root versions one refresh walks through.
pub const MAX_ROOT_ROTATIONS: u64 = 256;

/// Result alias for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why TUF metadata or a target was rejected; each names the spec check.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not JSON of the expected shape.
    #[error("{role} metadata is not valid TUF JSON")]
    Json {
        /// The role.
        role: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// `signed` holds a non-integer number and has no canonical form.
    #[error("{role} metadata has no canonical form (fractional number)")]
    Canonical {
        /// The role.
        role: &'static str,
    },
    /// `_type` is not the role expected.
    #[error("metadata type check: expected {want}, got {got:?}")]
    WrongType {
        /// Expected role.
        want: &'static str,
        /// What `_type` said.
        got: String,
    },
    /// Unsupported spec version.
    #[error("{role} spec_version {got:?} is not 1.x")]
    SpecVersion {
        /// The role.
        role: &'static str,
        /// What it said.
        got: String,
    },
    /// An expiry that is not RFC 3339.
    #[error("{role} expires {text:?} is not an RFC 3339 time")]
    Time {
        /// The role.
        role: &'static str,
        /// The text.
        text: String,
    },
    /// A key sigbox cannot read.
    #[error("unsupported TUF key {0}")]
    Key(String),
    /// A signature is not hex or does not verify (counted as missing, see Threshold).
    #[error("signature does not verify")]
    SignatureEncoding,
    /// The root does not define a role.
    #[error("root defines no {0} role")]
    UnknownRole(&'static str),
    /// Fewer valid signatures than the threshold.
    #[error(
        "signature threshold check (TUF 5.3-5.6): {role} v{version} has {valid} valid \
         signatures from {role} keys, threshold {threshold}"
    )]
    Threshold {
        /// The role whose keys were counted.
        role: &'static str,
        /// The version of the file checked.
        version: u64,
        /// Valid distinct signatures.
        valid: usize,
        /// Needed.
        threshold: u64,
    },
    /// A new root is not exactly the next version.
    #[error("root version check (TUF 5.3.5): expected root v{want}, got v{got}")]
    RootVersion {
        /// Expected.
        want: u64,
        /// Got.
        got: u64,
    },
    /// A version went backwards.
    #[error(
        "rollback attack check (TUF {section}): {role} v{got} is older than trusted v{trusted}"
    )]
    Rollback {
        /// The spec section.
        section: &'static str,
        /// The role.
        role: &'static str,
        /// The version received.
        got: u64,
        /// The trusted version.
        trusted: u64,
    },
    /// A file is expired.
    #[error("freeze attack check (expiry): {role} v{version} expired at {expires}")]
    Expired {
        /// The role.
        role: &'static str,
        /// Its expiry.
        expires: String,
        /// Its version.
        version: u64,
    },
    /// A file's version differs from what the listing role says.
    #[error(
        "mix-and-match check (TUF {section}): {role} v{got} does not match v{want} listed in \
         {listed_in}"
    )]
    VersionMismatch {
        /// The spec section.
        section: &'static str,
        /// The role.
        role: &'static str,
        /// Got.
        got: u64,
        /// Listed.
        want: u64,
        /// Which role listed it.
        listed_in: &'static str,
    },
    /// A role is missing from a listing.
    #[error("mix-and-match check: {listed_in} does not list {name}")]
    NotListed {
        /// The file.
        name: String,
        /// Which role should have.
        listed_in: &'static str,
    },
    /// Bytes are longer than listed.
    #[error("length check (endless data, TUF 5.x): {name} is {got} bytes, listed as {want}")]
    Length {
        /// The file.
        name: String,
        /// Got.
        got: u64,
        /// Listed.
        want: u64,
    },
    /// A hash does not match.
    #[error("hash check (TUF {section}): {name} {algorithm} does not match the listed hash")]
    Hash {
        /// The spec section.
        section: &'static str,
        /// The file.
        name: String,
        /// The algorithm.
        algorithm: String,
    },
    /// No usable hash is listed.
    #[error("hash check: {name} lists no sha256 or sha512 hash")]
    NoHash {
        /// The file.
        name: String,
    },
    /// An update was asked for before the role it depends on.
    #[error("update order: {role} needs a trusted {needs} first")]
    Order {
        /// The role being updated.
        role: &'static str,
        /// The missing role.
        needs: &'static str,
    },
    /// The targets role lists no such target.
    #[error("target {0:?} is not listed in targets metadata")]
    NoTarget(String),
}

#[cfg(test)]
mod tests;
