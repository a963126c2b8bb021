//! The verdict per target, the stable shape behind `humbly verify --json` (schema
//! `sigbox.humbly.verdict.v1`, documented in `docs/humbly-policy.md`). Field names and the
//! `status` and `check` values are part of that contract.

use serde::Serialize;

/// The outcome for one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The rule was met.
    Pass,
    /// A definite no: the policy was not met.
    Fail,
    /// Could not decide: the target or a log could not be read.
    Error,
}

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Which check: `rule`, `bundle`, `verify`, `signer`, `deny`, `require`, `max_age`,
    /// `not_before`, `threshold`, `attestation`, `lookup`, `log_consistency`, `io`,
    /// `registry`, `claims`, `signature`,
    /// `unsupported`.
    pub check: &'static str,
    /// What went wrong, naming the bundle or entry.
    pub message: String,
}

/// A verified signature the rule accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcceptedSignature {
    /// The policy's signer name.
    pub signer: String,
    /// The certificate SAN, or `key:<key id>`.
    pub identity: String,
    /// The OIDC issuer (certificates only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Where it came from: the bundle path, or `rekor:<url>#<log index>`.
    pub source: String,
    /// The verified signing time (Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<i64>,
    /// The trusted root (policy name) it chained to.
    pub root: String,
}

/// One target's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetVerdict {
    /// The target as given.
    pub target: String,
    /// `file`, `digest`, `image`, `commit` or `unsupported`.
    pub kind: &'static str,
    /// pass / fail / error.
    pub status: Status,
    /// The rule that applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// `sha256:<hex>` of the artifact, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Accepted signatures counted for the threshold.
    pub signatures: Vec<AcceptedSignature>,
    /// Predicate types of the required attestations that were found.
    pub attestations: Vec<String>,
    /// Every failed check (empty when the status is pass).
    pub failures: Vec<Failure>,
}

impl TargetVerdict {
    /// A new verdict for `target`, failing until `finish` says otherwise.
    pub(super) fn new(target: &str, kind: &'static str) -> Self {
        TargetVerdict {
            target: target.to_string(),
            kind,
            status: Status::Fail,
            rule: None,
            digest: None,
            signatures: Vec::new(),
            attestations: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// Records a failed check.
    pub(super) fn fail(&mut self, check: &'static str, message: impl Into<String>) {
        self.failures.push(Failure { check, message: message.into() });
    }
}

/// Counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Targets.
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Could not be decided.
    pub errors: usize,
}

impl Summary {
    /// Counts `verdicts`.
    pub fn of(verdicts: &[TargetVerdict]) -> Summary {
        let count = |s: Status| verdicts.iter().filter(|v| v.status == s).count();
        Summary {
            total: verdicts.len(),
            passed: count(Status::Pass),
            failed: count(Status::Fail),
            errors: count(Status::Error),
        }
    }
}
