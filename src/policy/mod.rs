//! L1 identity policy: who must have signed (PROTOCOLS §9 step 6).
//!
//! A [`Policy`] names the expected certificate identity (SAN: email, URI or Sigstore
//! OtherName; exact or regex), the OIDC issuer (exact or regex) and optional Fulcio
//! extension values (the `--certificate-github-workflow-*` flags). It checks only a
//! [`VerifiedIdentity`], which is made from a leaf certificate whose chain has been
//! verified, so an unverified certificate cannot reach a policy decision.
//!
//! Regexes use the `regex` crate (RE2 semantics, like Go's `regexp`) and must match the
//! whole value: the pattern is anchored as `^(?:pattern)$`.

pub mod file;

use regex::Regex;

use crate::x509::{FulcioExtensions, SubjectAltName, VerifiedChain};

/// Result alias for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a policy could not be built or was not met.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A regex flag does not compile.
    #[error("invalid {what} regular expression {pattern:?}")]
    BadRegex {
        /// Which flag.
        what: &'static str,
        /// The pattern, quoted back.
        pattern: String,
        /// Why.
        #[source]
        source: regex::Error,
    },
    /// No SAN matched the expected identity.
    #[error("certificate identity {got:?} does not match expected {want}")]
    Identity {
        /// The certificate's SANs.
        got: Vec<String>,
        /// The expectation.
        want: String,
    },
    /// The issuer did not match.
    #[error("certificate OIDC issuer {got:?} does not match expected {want}")]
    Issuer {
        /// The certificate's issuer, if any.
        got: Option<String>,
        /// The expectation.
        want: String,
    },
    /// A Fulcio extension did not match.
    #[error("certificate {extension} {got:?} does not match expected {want:?}")]
    Extension {
        /// Which extension.
        extension: Extension,
        /// The certificate's value, if any.
        got: Option<String>,
        /// The expected value.
        want: String,
    },
}

/// How a string is matched: exactly, or by a whole-string regex.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Byte-for-byte equality.
    Exact(String),
    /// Anchored regex; `source` is the pattern as given.
    Regex {
        /// The pattern as given.
        source: String,
        /// The compiled, anchored regex.
        regex: Regex,
    },
}

impl Matcher {
    /// An exact matcher.
    pub fn exact(value: impl Into<String>) -> Self {
        Matcher::Exact(value.into())
    }

    /// A whole-string regex matcher.
    ///
    /// Errors: [`Error::BadRegex`] naming `what` (the flag) when the pattern is invalid.
    pub fn regex(what: &'static str, pattern: &str) -> Result<Self> {
        let regex = Regex::new(&format!("^(?:{pattern})$")).map_err(|source| Error::BadRegex {
            what,
            pattern: pattern.to_string(),
            source,
        })?;
        Ok(Matcher::Regex { source: pattern.to_string(), regex })
    }

    /// True when `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(want) => want == value,
            Matcher::Regex { regex, .. } => regex.is_match(value),
        }
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Matcher::Exact(value) => write!(f, "{value:?}"),
            Matcher::Regex { source, .. } => write!(f, "/{source}/"),
        }
    }
}

/// A Fulcio extension a policy can require (PROTOCOLS §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extension {
    /// `.1.5` GitHub Workflow Repository.
    GithubWorkflowRepository,
    /// `.1.6` GitHub Workflow Ref.
    GithubWorkflowRef,
    /// `.1.3` GitHub Workflow SHA.
    GithubWorkflowSha,
    /// `.1.4` GitHub Workflow Name.
    GithubWorkflowName,
    /// `.1.2` GitHub Workflow Trigger.
    GithubWorkflowTrigger,
    /// `.1.12` Source Repository URI.
    SourceRepositoryUri,
    /// `.1.14` Source Repository Ref.
    SourceRepositoryRef,
    /// `.1.13` Source Repository Digest.
    SourceRepositoryDigest,
    /// Any Fulcio extension by its last OID arc: `.1.N` (N in 2..=24, not 7), so GitLab and
    /// Buildkite claims (which reuse the generic `.1.9`–`.1.24` OIDs) can be required too.
    Fulcio(u8),
}

impl std::fmt::Display for Extension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Extension::GithubWorkflowRepository => "github workflow repository",
            Extension::GithubWorkflowRef => "github workflow ref",
            Extension::GithubWorkflowSha => "github workflow sha",
            Extension::GithubWorkflowName => "github workflow name",
            Extension::GithubWorkflowTrigger => "github workflow trigger",
            Extension::SourceRepositoryUri => "source repository uri",
            Extension::SourceRepositoryRef => "source repository ref",
            Extension::SourceRepositoryDigest => "source repository digest",
            Extension::Fulcio(arc) => {
                return match FULCIO_NAMES.iter().find(|(n, _)| n == arc) {
                    Some((_, name)) => write!(f, "{name} (1.3.6.1.4.1.57264.1.{arc})"),
                    None => write!(f, "extension 1.3.6.1.4.1.57264.1.{arc}"),
                }
            }
        })
    }
}

impl Extension {
    fn value<'a>(&self, ext: &'a FulcioExtensions) -> Option<&'a str> {
        match self {
            Extension::GithubWorkflowRepository => ext.github_workflow_repository.as_deref(),
            Extension::GithubWorkflowRef => ext.github_workflow_ref.as_deref(),
            Extension::GithubWorkflowSha => ext.github_workflow_sha.as_deref(),
            Extension::GithubWorkflowName => ext.github_workflow_name.as_deref(),
            Extension::GithubWorkflowTrigger => ext.github_workflow_trigger.as_deref(),
            Extension::SourceRepositoryUri => ext.source_repository_uri.as_deref(),
            Extension::SourceRepositoryRef => ext.source_repository_ref.as_deref(),
            Extension::SourceRepositoryDigest => ext.source_repository_digest.as_deref(),
            Extension::Fulcio(arc) => fulcio_value(ext, *arc),
        }
    }

    /// The extension with OID `1.3.6.1.4.1.57264.1.N`, when N names a string claim
    /// (2..=24 except 7, the OtherName SAN type-id, and 8/1, the issuer, matched apart).
    pub fn from_oid(oid: &str) -> Option<Extension> {
        let arc: u8 = oid.strip_prefix("1.3.6.1.4.1.57264.1.")?.parse().ok()?;
        ((2..=6).contains(&arc) || (9..=24).contains(&arc)).then_some(Extension::Fulcio(arc))
    }
}

/// Names of the Fulcio string extensions by last OID arc (PROTOCOLS §3.4).
const FULCIO_NAMES: [(u8, &str); 21] = [
    (2, "github workflow trigger"),
    (3, "github workflow sha"),
    (4, "github workflow name"),
    (5, "github workflow repository"),
    (6, "github workflow ref"),
    (9, "build signer uri"),
    (10, "build signer digest"),
    (11, "runner environment"),
    (12, "source repository uri"),
    (13, "source repository digest"),
    (14, "source repository ref"),
    (15, "source repository identifier"),
    (16, "source repository owner uri"),
    (17, "source repository owner identifier"),
    (18, "build config uri"),
    (19, "build config digest"),
    (20, "build trigger"),
    (21, "run invocation uri"),
    (22, "source repository visibility"),
    (23, "deployment environment"),
    (24, "token subject"),
];

/// The Fulcio extension `.1.arc` of a certificate (PROTOCOLS §3.4).
fn fulcio_value(ext: &FulcioExtensions, arc: u8) -> Option<&str> {
    match arc {
        2 => ext.github_workflow_trigger.as_deref(),
        3 => ext.github_workflow_sha.as_deref(),
        4 => ext.github_workflow_name.as_deref(),
        5 => ext.github_workflow_repository.as_deref(),
        6 => ext.github_workflow_ref.as_deref(),
        9 => ext.build_signer_uri.as_deref(),
        10 => ext.build_signer_digest.as_deref(),
        11 => ext.runner_environment.as_deref(),
        12 => ext.source_repository_uri.as_deref(),
        13 => ext.source_repository_digest.as_deref(),
        14 => ext.source_repository_ref.as_deref(),
        15 => ext.source_repository_identifier.as_deref(),
        16 => ext.source_repository_owner_uri.as_deref(),
        17 => ext.source_repository_owner_identifier.as_deref(),
        18 => ext.build_config_uri.as_deref(),
        19 => ext.build_config_digest.as_deref(),
        20 => ext.build_trigger.as_deref(),
        21 => ext.run_invocation_uri.as_deref(),
        22 => ext.source_repository_visibility_at_signing.as_deref(),
        23 => ext.deployment_environment.as_deref(),
        24 => ext.token_subject.as_deref(),
        _ => None,
    }
}

/// The identity of a leaf certificate whose chain has been verified.
///
/// Made only from an `x509::VerifiedChain` (which only `x509::verify_chain` makes), so policy
/// decisions are only ever made on verified certificates.
#[derive(Debug, Clone)]
pub struct VerifiedIdentity {
    sans: Vec<SubjectAltName>,
    extensions: FulcioExtensions,
}

impl VerifiedIdentity {
    /// Reads the identity of the leaf of a verified chain.
    pub fn from_chain(chain: &VerifiedChain) -> Self {
        let leaf = chain.leaf();
        VerifiedIdentity { sans: leaf.subject_alt_names(), extensions: leaf.fulcio_extensions() }
    }

    /// The subjectAltName identities.
    pub fn subject_alt_names(&self) -> &[SubjectAltName] {
        &self.sans
    }

    /// The Fulcio extension values.
    pub fn extensions(&self) -> &FulcioExtensions {
        &self.extensions
    }

    /// The OIDC issuer (`.1.8`, else `.1.1`).
    pub fn issuer(&self) -> Option<&str> {
        self.extensions.issuer.as_deref()
    }
}

/// Proof that a policy accepted an identity: which SAN and issuer matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The SAN that matched (the first SAN if no identity was required).
    pub identity: Option<String>,
    /// The certificate's issuer.
    pub issuer: Option<String>,
}

/// Expected signer identity.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    identity: Option<Matcher>,
    issuer: Option<Matcher>,
    extensions: Vec<(Extension, String)>,
}

impl Policy {
    /// A policy that accepts any verified identity (callers decide whether that is allowed;
    /// cosign requires an identity and an issuer).
    pub fn any() -> Self {
        Policy::default()
    }

    /// Requires a SAN matching `matcher`.
    pub fn with_identity(mut self, matcher: Matcher) -> Self {
        self.identity = Some(matcher);
        self
    }

    /// Requires the issuer to match `matcher`.
    pub fn with_issuer(mut self, matcher: Matcher) -> Self {
        self.issuer = Some(matcher);
        self
    }

    /// Requires a Fulcio extension to equal `value` exactly.
    pub fn with_extension(mut self, extension: Extension, value: impl Into<String>) -> Self {
        self.extensions.push((extension, value.into()));
        self
    }

    /// In words: `identity "x" from issuer /y/ with github workflow ref "z"`.
    pub fn describe(&self) -> String {
        let mut out = match &self.identity {
            Some(m) => format!("identity {m}"),
            None => "any identity".to_string(),
        };
        if let Some(m) = &self.issuer {
            out.push_str(&format!(" from issuer {m}"));
        }
        for (extension, value) in &self.extensions {
            out.push_str(&format!(" with {extension} {value:?}"));
        }
        out
    }

    /// True when the policy names neither identity nor issuer.
    pub fn is_any_identity(&self) -> bool {
        self.identity.is_none() && self.issuer.is_none()
    }

    /// Checks a verified identity: some SAN matches the identity, the issuer matches, and
    /// every required extension is equal.
    ///
    /// Errors: [`Error::Identity`], [`Error::Issuer`], [`Error::Extension`].
    pub fn check(&self, identity: &VerifiedIdentity) -> Result<Accepted> {
        let matched = match &self.identity {
            None => identity.sans.first().map(|san| san.value().to_string()),
            Some(matcher) => Some(
                identity
                    .sans
                    .iter()
                    .map(SubjectAltName::value)
                    .find(|value| matcher.matches(value))
                    .ok_or_else(|| Error::Identity {
                        got: identity.sans.iter().map(|s| s.value().to_string()).collect(),
                        want: matcher.to_string(),
                    })?
                    .to_string(),
            ),
        };
        if let Some(matcher) = &self.issuer {
            if !identity.issuer().is_some_and(|got| matcher.matches(got)) {
                return Err(Error::Issuer {
                    got: identity.issuer().map(str::to_string),
                    want: matcher.to_string(),
                });
            }
        }
        for (extension, want) in &self.extensions {
            let got = extension.value(&identity.extensions);
            if got != Some(want.as_str()) {
                return Err(Error::Extension {
                    extension: *extension,
                    got: got.map(str::to_string),
                    want: want.clone(),
                });
            }
        }
        Ok(Accepted { identity: matched, issuer: identity.issuer().map(str::to_string) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(sans: Vec<SubjectAltName>, issuer: &str) -> VerifiedIdentity {
        VerifiedIdentity {
            sans,
            extensions: FulcioExtensions {
                issuer: Some(issuer.to_string()),
                github_workflow_ref: Some("refs/tags/v1".into()),
                ..Default::default()
            },
        }
    }

    #[test]
    fn exact_identity_matches_any_san_kind() {
        let id = identity(
            vec![SubjectAltName::Email("a@b.c".into()), SubjectAltName::Uri("https://x/y".into())],
            "https://issuer",
        );
        let policy = Policy::any()
            .with_identity(Matcher::exact("https://x/y"))
            .with_issuer(Matcher::exact("https://issuer"));
        let accepted = policy.check(&id).unwrap();
        assert_eq!(accepted.identity.as_deref(), Some("https://x/y"));
    }

    #[test]
    fn regex_identity_is_anchored() {
        let id = identity(vec![SubjectAltName::Email("evil-a@b.c.attacker".into())], "i");
        let partial = Policy::any().with_identity(Matcher::regex("identity", "a@b\\.c").unwrap());
        assert!(matches!(partial.check(&id), Err(Error::Identity { .. })));
        let whole = Policy::any().with_identity(Matcher::regex("identity", ".*a@b\\.c.*").unwrap());
        assert!(whole.check(&id).is_ok());
    }

    #[test]
    fn wrong_issuer_is_rejected() {
        let id = identity(vec![SubjectAltName::Email("a@b.c".into())], "https://good");
        let policy = Policy::any().with_issuer(Matcher::exact("https://other"));
        assert!(matches!(policy.check(&id), Err(Error::Issuer { .. })));
        let regex = Policy::any().with_issuer(Matcher::regex("issuer", "https://go+d").unwrap());
        assert!(regex.check(&id).is_ok());
    }

    #[test]
    fn extension_mismatch_is_rejected() {
        let id = identity(vec![SubjectAltName::Email("a@b.c".into())], "i");
        let ok = Policy::any().with_extension(Extension::GithubWorkflowRef, "refs/tags/v1");
        assert!(ok.check(&id).is_ok());
        let bad = Policy::any().with_extension(Extension::GithubWorkflowRef, "refs/heads/main");
        assert!(matches!(bad.check(&id), Err(Error::Extension { .. })));
        let absent = Policy::any().with_extension(Extension::GithubWorkflowSha, "abc");
        assert!(matches!(absent.check(&id), Err(Error::Extension { got: None, .. })));
    }

    #[test]
    fn invalid_regex_is_an_error() {
        assert!(matches!(Matcher::regex("identity", "("), Err(Error::BadRegex { .. })));
    }
}
