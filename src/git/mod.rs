//! L3 gitsign: git's x509 signing program (PROTOCOLS §7).
//!
//! * [`object`]: payloads, signatures inside commit and tag objects, object IDs;
//! * [`sign`]: the CMS signature plus a Rekor entry (online or offline mode);
//! * [`verify`]: turning a commit signature into a bundle for the one verifier;
//! * [`proto`]: the protobuf `TransparencyLogEntry` offline mode embeds;
//! * [`repo`]: the commits of a revision range, raw objects (the `git` program);
//! * [`config`]: `gitsign.*` git config and `GITSIGN_*` / `SIGSTORE_*` environment;
//! * [`trust`]: `gitsign.fulcioRoot` and `SIGSTORE_REKOR_PUBLIC_KEY` applied to the root;
//! * [`cache`]: the per-user credential cache (one login for a burst of commits).
//!
//! CMS itself is L1 ([`crate::x509::cms`]).

pub mod cache;
pub mod config;
pub mod object;
pub mod proto;
pub mod repo;
pub mod sign;
pub mod trust;
pub mod verify;

/// Where the Rekor entry of a signature lives (PROTOCOLS §7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RekorMode {
    /// The entry is for the object ID and stays in the log (gitsign's default).
    Online,
    /// The entry is for the signed attributes and is embedded in the signature.
    Offline,
}

impl RekorMode {
    /// Parses `online` / `offline` (case-insensitive).
    pub fn parse(text: &str) -> Option<RekorMode> {
        match text.to_ascii_lowercase().as_str() {
            "online" => Some(RekorMode::Online),
            "offline" => Some(RekorMode::Offline),
            _ => None,
        }
    }

    /// `online` / `offline`.
    pub fn name(self) -> &'static str {
        match self {
            RekorMode::Online => "online",
            RekorMode::Offline => "offline",
        }
    }
}

/// Why signing or verifying a git object failed. Each variant names the check.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The CMS structure could not be built or read.
    #[error(transparent)]
    Cms(#[from] crate::x509::cms::CmsError),
    /// Keyless signing or logging failed.
    #[error("signing")]
    Sign(#[from] crate::sign::keyless::Error),
    /// The key refused to sign.
    #[error("signing")]
    Crypto(#[from] crate::crypto::Error),
    /// The log answered without an entry.
    #[error("the transparency log returned no entry")]
    NoLogEntry,
    /// The timestamp authority's answer could not be used.
    #[error("timestamping the signature: {0}")]
    Timestamp(String),
    /// A value could not be encoded.
    #[error("encoding {0}")]
    Encode(&'static str),
    /// The signature text is not an armored `SIGNED MESSAGE`.
    #[error("the signature is not an armored -----BEGIN SIGNED MESSAGE----- block")]
    NotArmored,
    /// The signed content differs from the payload.
    #[error(
        "the signed content does not match this object: the signature's messageDigest is \
         {signed} but the object hashes to {payload} (altered after signing, or a signature \
         copied from another object)"
    )]
    DigestMismatch {
        /// messageDigest, hex.
        signed: String,
        /// SHA-256 of the payload, hex.
        payload: String,
    },
    /// A layout this implementation does not read.
    #[error("unsupported gitsign signature layout: attribute 1.3.6.1.4.1.57264.3.1 holds {0}")]
    UnsupportedLayout(&'static str),
    /// The embedded entry is not a protobuf `TransparencyLogEntry`.
    #[error("the embedded transparency log entry")]
    Proto(#[from] proto::ProtoError),
    /// The bundle built from the signature breaks the bundle rules.
    #[error("the signature's bundle form")]
    Bundle(#[from] crate::bundle::Error),
    /// The verifier rejected it (the source names the check).
    #[error("verification failed")]
    Verify(#[from] crate::verify::Error),
    /// The CMS signature does not verify with the leaf key.
    #[error("the CMS signature does not verify with the certificate's key")]
    CmsSignature(#[source] crate::crypto::Error),
    /// Online mode: the log has no entry for this object.
    #[error(
        "no transparency log entry for object {object_id} signed by this certificate \
         (online mode: the entry was never uploaded, or this is another log)"
    )]
    EntryNotFound {
        /// The object ID searched for.
        object_id: String,
    },
    /// The log could not be searched or read.
    #[error("reading the transparency log")]
    Log(#[source] crate::rekor::Error),
    /// A log entry body is not a hashedrekord.
    #[error("log entry body: {0}")]
    LogBody(&'static str),
    /// The committer is not the certificate's identity (`gitsign.matchCommitter`).
    #[error("committer email {committer:?} is not the certificate identity {identity:?} (gitsign.matchCommitter)")]
    CommitterMismatch {
        /// The committer (or tagger) email.
        committer: String,
        /// The certificate's identities.
        identity: String,
    },
}
