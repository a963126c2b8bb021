//! The policy file as written (serde models), before cross-checks.
//!
//! Every struct denies unknown keys, and every value that can be wrong on its own (a regex,
//! a glob, a duration, a time, a digest) is checked while it is deserialized, so the YAML or
//! JSON parser reports the error at that value's line and column. Checks that need several
//! values (signer names, thresholds) are in `check.rs`.

use std::collections::BTreeMap;

use serde::de::{self, Deserializer};
use serde::Deserialize;

use crate::policy::Matcher;

/// The whole file (`version: 1`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Format version; only 1 exists.
    pub version: u32,
    /// Trusted roots by name; empty means the verifier's default instance.
    #[serde(default)]
    pub trusted_roots: BTreeMap<String, RootSpec>,
    /// Signers by name.
    pub signers: BTreeMap<String, SignerSpec>,
    /// Revocations that apply to every rule.
    #[serde(default)]
    pub deny: DenySpec,
    /// Per-target rules, first match wins.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    /// The rule for targets no rule matches; without it such targets fail.
    #[serde(default)]
    pub default: Option<RuleSpec>,
}

/// Where a trusted root comes from: exactly one of the three sources.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootSpec {
    /// `public-good`: the root embedded in the binary.
    #[serde(default)]
    pub embedded: Option<Embedded>,
    /// A `trusted_root.json` (path relative to the policy file).
    #[serde(default)]
    pub trusted_root: Option<String>,
    /// A `ClientTrustConfig` (what `sigbox up` writes), relative to the policy file.
    #[serde(default)]
    pub trust_config: Option<String>,
    /// Rekor v1 URLs to search by digest; default: the root's logs valid now.
    #[serde(default)]
    pub rekor_urls: Option<Vec<String>>,
}

/// The embedded instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Embedded {
    /// The Sigstore public-good instance.
    #[serde(rename = "public-good")]
    PublicGood,
}

/// One accepted signer: a certificate identity or a public key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerSpec {
    /// Certificate SAN, exact.
    #[serde(default)]
    pub identity: Option<String>,
    /// Certificate SAN, whole-string regex.
    #[serde(default)]
    pub identity_regex: Option<RegexSpec>,
    /// OIDC issuer, exact.
    #[serde(default)]
    pub issuer: Option<String>,
    /// OIDC issuer, whole-string regex.
    #[serde(default)]
    pub issuer_regex: Option<RegexSpec>,
    /// GitHub Actions claims.
    #[serde(default)]
    pub github: Option<GithubSpec>,
    /// Any Fulcio extension by OID (`1.3.6.1.4.1.57264.1.N`), exact value.
    #[serde(default)]
    pub extensions: BTreeMap<String, String>,
    /// A public key file (PEM or DER), relative to the policy file.
    #[serde(default)]
    pub public_key: Option<String>,
}

/// GitHub Actions claims carried in Fulcio extensions.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubSpec {
    /// `.1.5` `owner/repo`.
    #[serde(default)]
    pub repository: Option<String>,
    /// `.1.6` e.g. `refs/tags/v1.2.3`.
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    /// `.1.4` workflow name.
    #[serde(default)]
    pub workflow: Option<String>,
    /// `.1.2` event name (`push`, `release`, ...).
    #[serde(default)]
    pub trigger: Option<String>,
    /// `.1.3` commit SHA.
    #[serde(default)]
    pub sha: Option<String>,
    /// `.1.11` `github-hosted` or `self-hosted`.
    #[serde(default)]
    pub runner_environment: Option<String>,
}

/// Revocations.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenySpec {
    /// Certificate SANs (exact).
    #[serde(default)]
    pub identities: Vec<String>,
    /// Certificate serial numbers, hex (case and leading zeros ignored).
    #[serde(default)]
    pub serials: Vec<HexSpec>,
    /// Signing key IDs: hex SHA-256 of the SubjectPublicKeyInfo.
    #[serde(default)]
    pub key_ids: Vec<HexSpec>,
    /// Log entries: 64-hex UUID (leaf hash) or 80-hex entry ID.
    #[serde(default)]
    pub log_entries: Vec<HexSpec>,
}

/// A rule (or the default rule).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Rule name (required for rules; the default rule is named `default`).
    #[serde(default)]
    pub name: Option<String>,
    /// Which targets it applies to (required for rules, absent for the default).
    #[serde(default, rename = "match")]
    pub selector: Option<MatchSpec>,
    /// Accepted signers by name.
    #[serde(default)]
    pub signers: Vec<String>,
    /// How many distinct listed signers, each a distinct identity, must have signed.
    #[serde(default)]
    pub threshold: Option<usize>,
    /// Evidence each accepted signature must carry.
    #[serde(default)]
    pub require: Vec<Requirement>,
    /// The signing time may be at most this old (`90d`, `12h`, `30m`, `45s`, `2w`).
    #[serde(default)]
    pub max_age: Option<DurationSpec>,
    /// The signing time may not be earlier (RFC 3339).
    #[serde(default)]
    pub not_before: Option<TimeSpec>,
    /// Attestations that must accompany the target.
    #[serde(default)]
    pub attestations: Vec<AttestationSpec>,
    /// Reject every target this rule matches (a deny rule).
    #[serde(default)]
    pub reject: bool,
}

/// Target selectors; every one given must match.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    /// Path glob (`*` within a segment, `**` across segments, `?` one character).
    #[serde(default)]
    pub glob: Option<GlobSpec>,
    /// OCI image repository (`registry/namespace/name`), for image targets.
    #[serde(default)]
    pub image: Option<String>,
    /// Exact artifact digest `sha256:<hex>`.
    #[serde(default)]
    pub digest: Option<DigestSpec>,
}

/// Evidence a signature must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Requirement {
    /// A verified transparency log entry (SET-backed time or inclusion proof).
    Tlog,
    /// A verified RFC 3161 timestamp.
    Timestamp,
}

/// A required attestation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationSpec {
    /// The in-toto predicate type URI.
    pub predicate_type: String,
    /// Who may sign it; default: the rule's signers.
    #[serde(default)]
    pub signers: Vec<String>,
    /// Constraints on the predicate.
    #[serde(default)]
    pub constraints: Vec<ConstraintSpec>,
}

/// A constraint on one predicate field: exactly one of `equals`, `regex`, `one_of`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstraintSpec {
    /// RFC 6901 JSON pointer into the predicate (`/runDetails/builder/id`).
    pub pointer: PointerSpec,
    /// The value must equal this JSON value.
    #[serde(default)]
    pub equals: Option<serde_json::Value>,
    /// The value must be a string matching this whole-string regex.
    #[serde(default)]
    pub regex: Option<RegexSpec>,
    /// The value must equal one of these.
    #[serde(default)]
    pub one_of: Option<Vec<serde_json::Value>>,
}

/// A regex, compiled (anchored) while parsing.
#[derive(Debug, Clone)]
pub struct RegexSpec(pub Matcher);

impl<'de> Deserialize<'de> for RegexSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pattern = String::deserialize(d)?;
        Matcher::regex("policy", &pattern).map(RegexSpec).map_err(|e| {
            de::Error::custom(format!("invalid regular expression {pattern:?}: {}", cause(&e)))
        })
    }
}

/// A glob, compiled to an anchored regex while parsing.
#[derive(Debug, Clone)]
pub struct GlobSpec {
    /// The glob as written.
    pub source: String,
    /// The equivalent regex.
    pub regex: regex::Regex,
}

impl<'de> Deserialize<'de> for GlobSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        super::glob::compile(&source)
            .map(|regex| GlobSpec { source: source.clone(), regex })
            .map_err(|e| de::Error::custom(format!("invalid glob {source:?}: {e}")))
    }
}

/// A duration such as `90d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationSpec(pub i64);

impl<'de> Deserialize<'de> for DurationSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text).map(DurationSpec).ok_or_else(|| {
            de::Error::custom(format!(
                "invalid duration {text:?}: use a number and a unit s, m, h, d or w (e.g. 30d)"
            ))
        })
    }
}

/// A point in time (Unix seconds), written as RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSpec(pub i64);

impl<'de> Deserialize<'de> for TimeSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
            .map(|t| TimeSpec(t.unix_timestamp()))
            .map_err(|_| {
                de::Error::custom(format!(
                    "invalid time {text:?}: use RFC 3339, e.g. 2025-01-31T00:00:00Z"
                ))
            })
    }
}

/// Lowercase hex, checked while parsing (leading zeros of serials are kept as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexSpec(pub String);

impl<'de> Deserialize<'de> for HexSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let clean: String = text.chars().filter(|c| *c != ':').collect::<String>().to_lowercase();
        if clean.is_empty() || !clean.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(de::Error::custom(format!("{text:?} is not hex")));
        }
        Ok(HexSpec(clean))
    }
}

/// `sha256:<64 hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestSpec(pub String);

impl<'de> Deserialize<'de> for DigestSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.strip_prefix("sha256:") {
            Some(hex) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Ok(DigestSpec(hex.to_lowercase()))
            }
            _ => Err(de::Error::custom(format!("{text:?} is not sha256:<64 hex digits>"))),
        }
    }
}

/// An RFC 6901 JSON pointer (empty, or starting with `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointerSpec(pub String);

impl<'de> Deserialize<'de> for PointerSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if !text.is_empty() && !text.starts_with('/') {
            return Err(de::Error::custom(format!(
                "JSON pointer {text:?} must start with '/' (RFC 6901)"
            )));
        }
        Ok(PointerSpec(text))
    }
}

/// Parses `<n><unit>` with unit s, m, h, d or w.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: i64 = text.get(..text.len().checked_sub(1)?)?.parse().ok()?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    (number >= 0).then(|| number.checked_mul(scale)).flatten()
}

/// The innermost message of a regex error (the regex crate's own text).
fn cause(e: &crate::policy::Error) -> String {
    use std::error::Error as _;
    let text = e.source().map_or_else(|| e.to_string(), |s| s.to_string());
    text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().trim().to_string()
}
