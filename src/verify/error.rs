//! Errors of the verifier: one variant per check, so a rejection names what failed.

use crate::crypto::HashAlgorithm;

/// Result alias for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a bundle was rejected (or could not be checked).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A message-signature bundle needs the artifact (bytes or digest).
    #[error("this bundle signs an artifact: give the artifact or its digest")]
    ArtifactRequired,
    /// The artifact digest differs from the bundle's `messageDigest`.
    #[error("artifact digest {got} does not match the bundle messageDigest {expected}")]
    ArtifactMismatch {
        /// Hex digest in the bundle.
        expected: String,
        /// Hex digest of the artifact.
        got: String,
    },
    /// A digest given for the artifact uses another algorithm than the bundle.
    #[error("artifact digest is {got:?}, the bundle signs a {want:?} digest")]
    DigestAlgorithm {
        /// Given.
        got: HashAlgorithm,
        /// Needed.
        want: HashAlgorithm,
    },
    /// The signature over the artifact or DSSE PAE does not verify.
    #[error("signature does not verify with the signer's key")]
    SignatureInvalid(#[source] crate::crypto::Error),
    /// The key cannot verify this kind of input (e.g. Ed25519 with only a digest).
    #[error("the signer's key cannot verify a bare digest; give the artifact bytes")]
    NeedsArtifactBytes,
    /// A public-key bundle was given no key.
    #[error("bundle is signed by a key (hint {hint:?}); give the public key")]
    KeyRequired {
        /// The bundle's key hint.
        hint: String,
    },
    /// The key given does not match the bundle's certificate.
    #[error("the given public key is not the key of the bundle certificate")]
    KeyMismatch,
    /// The DSSE payload is not an in-toto statement.
    #[error("DSSE payload is not an in-toto statement")]
    DssePayload(#[source] serde_json::Error),
    /// No in-toto subject carries the artifact digest.
    #[error("no in-toto subject has digest {digest}")]
    DsseSubject {
        /// `alg:hex` of the artifact.
        digest: String,
    },
    /// The DSSE payload type is not the expected one.
    #[error("DSSE payload type is {got:?}, expected {want:?}")]
    PayloadType {
        /// Found.
        got: String,
        /// Expected.
        want: String,
    },
    /// The in-toto predicate type is not the expected one.
    #[error("in-toto predicate type is {got:?}, expected {want:?}")]
    PredicateType {
        /// Found.
        got: String,
        /// Expected.
        want: String,
    },
    /// Not exactly one tlog entry.
    #[error("bundle has {got} transparency log entries, want exactly 1")]
    TlogEntryCount {
        /// How many.
        got: usize,
    },
    /// The tlog entry names a log the trusted root does not have.
    #[error("transparency log {log_id} is not in the trusted root")]
    UnknownLog {
        /// Hex log ID.
        log_id: String,
    },
    /// A trusted log's key cannot verify checkpoints.
    #[error("trusted log key cannot verify checkpoints")]
    TrustedLogKey(#[source] crate::trust::Error),
    /// The SET payload could not be built.
    #[error("SET payload could not be canonicalized")]
    SetPayload,
    /// The SET (inclusion promise) does not verify.
    #[error("signed entry timestamp (SET) does not verify")]
    Set(#[source] crate::crypto::Error),
    /// The log key was not valid at the entry's time.
    #[error("log {url} was not valid at {time}")]
    LogNotValid {
        /// The log.
        url: String,
        /// The time checked.
        time: i64,
    },
    /// The inclusion proof does not verify.
    #[error("inclusion proof does not verify")]
    InclusionProof(#[source] crate::tlog::Error),
    /// The checkpoint signature does not verify (or is missing / malformed).
    #[error("checkpoint signature does not verify")]
    CheckpointSignature(#[source] crate::tlog::Error),
    /// The checkpoint signature line names the log with another key ID.
    #[error("checkpoint key hint does not match the trusted log")]
    CheckpointKeyHint(#[source] crate::tlog::Error),
    /// The checkpoint and the inclusion proof disagree.
    #[error("checkpoint {field} differs from the inclusion proof")]
    CheckpointMismatch {
        /// `tree size` or `root hash`.
        field: &'static str,
    },
    /// The entry has neither a SET nor an inclusion proof.
    #[error("tlog entry has neither a verified SET nor an inclusion proof")]
    NoInclusion,
    /// The tlog body is not a well-formed body of a known kind (the shared model says
    /// what is wrong).
    #[error("tlog entry body is malformed")]
    Body(#[source] crate::rekor_model::Error),
    /// A field of the tlog body cannot be read (PEM that is not PEM, say).
    #[error("tlog entry body is malformed at {field}")]
    BodyMalformed {
        /// The field.
        field: &'static str,
    },
    /// The tlog body does not describe this bundle.
    #[error("tlog entry body does not match the bundle at {field}")]
    BodyMismatch {
        /// The field.
        field: &'static str,
    },
    /// The tlog entry kind cannot hold this bundle's content.
    #[error("tlog entry kind {kind} {version} does not fit the bundle content")]
    KindMismatch {
        /// Kind.
        kind: String,
        /// Version.
        version: String,
    },
    /// An RFC 3161 timestamp does not verify.
    #[error("RFC 3161 timestamp {index} does not verify")]
    Timestamp {
        /// Position in the bundle.
        index: usize,
        /// Why.
        #[source]
        source: crate::x509::Error,
    },
    /// Two timestamps from the same authority.
    #[error("two RFC 3161 timestamps from the same authority {uri}")]
    DuplicateTimestamp {
        /// The authority.
        uri: String,
    },
    /// No verified time (SET or RFC 3161): a bare integratedTime is not trusted.
    #[error(
        "no verified signing time: {got} verified, need {want} (a SET or an RFC 3161 timestamp)"
    )]
    NoTrustedTime {
        /// Verified times found.
        got: usize,
        /// Needed.
        want: usize,
    },
    /// A verified time lies outside the leaf certificate's validity.
    #[error("signing time {time} is outside the certificate validity {not_before}..={not_after}")]
    SigningTimeOutsideCertificate {
        /// The time.
        time: i64,
        /// Leaf notBefore.
        not_before: i64,
        /// Leaf notAfter.
        not_after: i64,
    },
    /// No trusted CA was valid at the signing time.
    #[error("no certificate authority in the trusted root is valid at {time}")]
    CaNotValid {
        /// The time.
        time: i64,
    },
    /// The leaf does not chain to a trusted CA.
    #[error("certificate does not chain to a trusted CA at {time}")]
    CertificateChain {
        /// The time.
        time: i64,
        /// Why (last CA tried).
        #[source]
        source: crate::x509::Error,
    },
    /// No embedded SCT verified against a trusted CT log.
    #[error("certificate has no SCT that verifies against a trusted CT log")]
    Sct(#[source] crate::x509::Error),
    /// The certificate identity does not match the policy.
    #[error("certificate identity rejected")]
    Identity(#[source] crate::policy::Error),
    /// The certificate issuer does not match the policy.
    #[error("certificate OIDC issuer rejected")]
    Issuer(#[source] crate::policy::Error),
    /// A required certificate extension does not match.
    #[error("certificate extension rejected")]
    Extension(#[source] crate::policy::Error),
}

impl Error {
    /// A stable kebab-case name of the check that failed, for `--json` output and scripts.
    pub fn check(&self) -> &'static str {
        match self {
            Error::ArtifactRequired => "artifact-required",
            Error::ArtifactMismatch { .. } | Error::DigestAlgorithm { .. } => "artifact-digest",
            Error::SignatureInvalid(_) | Error::NeedsArtifactBytes => "signature",
            Error::KeyRequired { .. } | Error::KeyMismatch => "key",
            Error::DssePayload(_) | Error::DsseSubject { .. } => "dsse-subject",
            Error::PayloadType { .. } => "payload-type",
            Error::PredicateType { .. } => "predicate-type",
            Error::TlogEntryCount { .. } => "tlog-entry-count",
            Error::UnknownLog { .. } | Error::TrustedLogKey(_) => "unknown-log",
            Error::SetPayload | Error::Set(_) => "set",
            Error::LogNotValid { .. } => "log-validity",
            Error::InclusionProof(_) | Error::NoInclusion => "inclusion-proof",
            Error::CheckpointSignature(_) => "checkpoint-signature",
            Error::CheckpointKeyHint(_) => "checkpoint-key-hint",
            Error::CheckpointMismatch { .. } => "checkpoint-mismatch",
            Error::Body(_)
            | Error::BodyMalformed { .. }
            | Error::BodyMismatch { .. }
            | Error::KindMismatch { .. } => "tlog-body",
            Error::Timestamp { .. } | Error::DuplicateTimestamp { .. } => "timestamp",
            Error::NoTrustedTime { .. } => "no-trusted-time",
            Error::SigningTimeOutsideCertificate { .. } => "certificate-validity",
            Error::CaNotValid { .. } => "ca-validity",
            Error::CertificateChain { .. } => "certificate-chain",
            Error::Sct(_) => "sct",
            Error::Identity(_) => "identity",
            Error::Issuer(_) => "issuer",
            Error::Extension(_) => "extension",
        }
    }
}

impl From<crate::policy::Error> for Error {
    fn from(error: crate::policy::Error) -> Self {
        match error {
            crate::policy::Error::Issuer { .. } => Error::Issuer(error),
            crate::policy::Error::Extension { .. } => Error::Extension(error),
            _ => Error::Identity(error),
        }
    }
}
