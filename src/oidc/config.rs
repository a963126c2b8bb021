//! The CA's issuer configuration, in Fulcio's shape: issuer URL → client ID, type and the
//! per-type settings, plus "meta-issuers" whose URL has `*` wildcards (EKS, GKE, ...).
//!
//! Both spellings Fulcio reads are accepted: the JSON one (`OIDCIssuers`, `IssuerURL`,
//! `ClientID`, `Type`, ...) and the YAML-style one (`oidc-issuers`, `issuer-url`,
//! `client-id`, `type`, ...). sigbox adds `JWKSFile` / `jwks-file`: a static key set for
//! air-gapped sites, used instead of OIDC discovery.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Error, Result};

/// The kinds of issuer, which decide the certificate's SAN and the challenge claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssuerType {
    /// SAN = `email`; challenge = `email`; `email_verified` must be true.
    Email,
    /// GitHub Actions: SAN = `https://github.com/{job_workflow_ref}`; CI extensions.
    GithubWorkflow,
    /// Fulcio's generic CI type; sigbox fills it with the GitHub template.
    CiProvider,
    /// GitLab CI: SAN = `https://{ci_config_ref_uri}`.
    GitlabPipeline,
    /// Kubernetes service accounts: SAN from the `kubernetes.io` claim.
    Kubernetes,
    /// SPIFFE: SAN = `sub`, whose host must be the trust domain.
    Spiffe,
    /// SAN = `sub` (a URI), whose host must be the subject domain.
    Uri,
    /// SAN = OtherName `sub!domain`.
    Username,
}

/// One issuer's settings.
#[derive(Debug, Clone, Deserialize)]
pub struct IssuerConfig {
    /// The issuer URL (`iss`); for meta-issuers, filled from the token.
    #[serde(default, alias = "IssuerURL", alias = "issuer-url")]
    pub issuer_url: String,
    /// The audience tokens must carry (default `sigstore`).
    #[serde(default = "default_client_id", alias = "ClientID", alias = "client-id")]
    pub client_id: String,
    /// The issuer type.
    #[serde(alias = "Type")]
    pub r#type: IssuerType,
    /// `uri`/`username`: the domain subjects must belong to.
    #[serde(default, alias = "SubjectDomain", alias = "subject-domain")]
    pub subject_domain: Option<String>,
    /// `spiffe`: the trust domain.
    #[serde(default, alias = "SPIFFETrustDomain", alias = "spiffe-trust-domain")]
    pub spiffe_trust_domain: Option<String>,
    /// A static JWKS file (air-gapped): no discovery, no network.
    #[serde(default, alias = "JWKSFile", alias = "jwks-file")]
    pub jwks_file: Option<String>,
    /// Where the certificate's issuer (`.1.1`/`.1.8`) comes from instead of `iss`: a JSON
    /// path such as `$.federated_claims.connector_id` (Dex, as public-good Fulcio uses it).
    #[serde(default, alias = "IssuerClaim", alias = "issuer-claim")]
    pub issuer_claim: Option<String>,
    /// Skip the `email_verified` check (Fulcio's `skip-email-verification`).
    #[serde(default, alias = "SkipEmailVerification", alias = "skip-email-verification")]
    pub skip_email_verification: bool,
}

fn default_client_id() -> String {
    "sigstore".into()
}

/// The whole issuer configuration.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OidcConfig {
    /// Issuers by exact URL.
    #[serde(default, alias = "OIDCIssuers", alias = "oidc-issuers")]
    pub oidc_issuers: BTreeMap<String, IssuerConfig>,
    /// Issuers by wildcard URL (`*` matches one or more characters other than `/`).
    #[serde(default, alias = "MetaIssuers", alias = "meta-issuers")]
    pub meta_issuers: BTreeMap<String, IssuerConfig>,
}

impl OidcConfig {
    /// Parses the JSON configuration and checks every issuer entry (see [`validate`]), so
    /// a CA never runs with an entry that would accept more than its operator meant.
    ///
    /// Errors: [`Error::MalformedConfig`], [`Error::InvalidConfig`] naming the entry.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let config: OidcConfig = serde_json::from_slice(bytes).map_err(Error::MalformedConfig)?;
        for (key, issuer) in &config.oidc_issuers {
            validate(key, issuer, false)?;
        }
        for (key, issuer) in &config.meta_issuers {
            validate(key, issuer, true)?;
        }
        Ok(config)
    }

    /// The configuration for issuer `iss`: an exact entry, else the first meta-issuer
    /// pattern it matches (with `issuer_url` set to `iss`).
    pub fn issuer(&self, iss: &str) -> Result<IssuerConfig> {
        if let Some(found) = self.oidc_issuers.get(iss) {
            let mut found = found.clone();
            if found.issuer_url.is_empty() {
                found.issuer_url = iss.to_string();
            }
            return Ok(found);
        }
        for (pattern, config) in &self.meta_issuers {
            if wildcard_match(pattern, iss) {
                let mut config = config.clone();
                config.issuer_url = iss.to_string();
                return Ok(config);
            }
        }
        Err(Error::UnknownIssuer(iss.to_string()))
    }
}

/// Checks one issuer entry: an http(s) URL key with a host (wildcards only inside host
/// labels or path segments of meta-issuers, never two in a row), an `IssuerURL` equal to
/// the key when given, a client ID, and the domain each subject type needs — a SPIFFE trust
/// domain, or for `uri` / `username` a subject domain that shares the issuer's top two
/// host labels (Fulcio's rule: an issuer vouches only for names under its own domain).
fn validate(key: &str, config: &IssuerConfig, meta: bool) -> Result<()> {
    let bad = |problem: String| Error::InvalidConfig { issuer: key.to_string(), problem };
    if !meta && key.contains('*') {
        return Err(bad("a wildcard belongs under MetaIssuers".into()));
    }
    if key.contains("**") {
        return Err(bad("two wildcards in a row".into()));
    }
    let host = url_host(key).ok_or_else(|| bad("is not an http(s) URL with a host".into()))?;
    if meta && host.contains('*') && host.split('.').count() < 3 {
        return Err(bad("a wildcard host needs at least two fixed labels".into()));
    }
    if !meta && !config.issuer_url.is_empty() && config.issuer_url != key {
        return Err(bad(format!("IssuerURL {:?} differs from its key", config.issuer_url)));
    }
    if config.client_id.trim().is_empty() {
        return Err(bad("ClientID is empty".into()));
    }
    let domain_ok = |d: &str| {
        !d.is_empty()
            && d.split('.').all(|label| {
                !label.is_empty()
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
    };
    match config.r#type {
        IssuerType::Spiffe => {
            let domain = config.spiffe_trust_domain.as_deref().unwrap_or_default();
            if !domain_ok(domain) {
                return Err(bad("type spiffe needs a SPIFFETrustDomain (a DNS name)".into()));
            }
        }
        IssuerType::Uri | IssuerType::Username => {
            let domain = config.subject_domain.as_deref().unwrap_or_default();
            if !domain_ok(domain) {
                return Err(bad("types uri and username need a SubjectDomain (a DNS name)".into()));
            }
            fn top_two(h: &str) -> Vec<&str> {
                h.rsplit('.').take(2).collect()
            }
            if host.contains('*') || top_two(domain) != top_two(host) {
                return Err(bad(format!(
                    "SubjectDomain {domain:?} is not under the issuer's domain {host:?}"
                )));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The host of an `http://` or `https://` URL (port dropped), if it has one.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split('/').next()?;
    let host = authority.rsplit_once(':').map_or(authority, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            authority
        }
    });
    (!host.is_empty() && !host.contains('@')).then_some(host)
}

/// Matches each `*` against one or more of `[-_a-zA-Z0-9]`, as Fulcio does, so a wildcard
/// can never swallow a `.` or `/` and point at a host the operator never meant to trust.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((prefix, rest)) => {
            let Some(tail) = text.strip_prefix(prefix) else { return false };
            (1..=tail.len()).any(|n| {
                tail.get(..n).is_some_and(|seg| {
                    seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                }) && tail.get(n..).is_some_and(|after| wildcard_match(rest, after))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_parse_and_meta_issuers_match() {
        let json = br#"{
          "OIDCIssuers": {"https://accounts.google.com": {
            "IssuerURL": "https://accounts.google.com", "ClientID": "sigstore", "Type": "email"}},
          "meta-issuers": {"https://oidc.eks.*.amazonaws.com/id/*": {
            "client-id": "sigstore", "type": "kubernetes"}}
        }"#;
        let config = OidcConfig::from_json(json).expect("parses");
        assert_eq!(
            config.issuer("https://accounts.google.com").expect("exact").r#type,
            IssuerType::Email
        );
        let eks = config.issuer("https://oidc.eks.us-west-2.amazonaws.com/id/ABC").expect("meta");
        assert_eq!(eks.r#type, IssuerType::Kubernetes);
        assert_eq!(eks.issuer_url, "https://oidc.eks.us-west-2.amazonaws.com/id/ABC");
        assert!(matches!(config.issuer("https://evil.test"), Err(Error::UnknownIssuer(_))));
        // A wildcard never spans a slash or a dot.
        assert!(config.issuer("https://oidc.eks.evil.test/x.amazonaws.com/id/A").is_err());
        assert!(config.issuer("https://oidc.eks.evil.test.amazonaws.com/id/A").is_err());
    }

    fn refused(json: serde_json::Value) -> (String, String) {
        match OidcConfig::from_json(json.to_string().as_bytes()) {
            Err(Error::InvalidConfig { issuer, problem }) => (issuer, problem),
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn unusable_issuer_entries_are_refused_with_the_entry_named() {
        use serde_json::json;
        // A SPIFFE issuer without a trust domain accepted `spiffe:///anything`.
        let (issuer, problem) = refused(json!({"OIDCIssuers": {"https://spire.example.com": {
            "ClientID": "sigstore", "Type": "spiffe"}}}));
        assert_eq!(issuer, "https://spire.example.com");
        assert!(problem.contains("SPIFFETrustDomain"), "{problem}");
        let (_, problem) = refused(json!({"OIDCIssuers": {"https://id.example.com": {
            "ClientID": "sigstore", "Type": "uri", "SubjectDomain": "evil.test"}}}));
        assert!(problem.contains("not under the issuer's domain"), "{problem}");
        let (_, problem) = refused(json!({"OIDCIssuers": {"https://id.example.com": {
            "ClientID": "sigstore", "Type": "username"}}}));
        assert!(problem.contains("SubjectDomain"), "{problem}");
        let (_, problem) = refused(json!({"OIDCIssuers": {"ftp://id.example.com": {
            "ClientID": "sigstore", "Type": "email"}}}));
        assert!(problem.contains("http(s) URL"), "{problem}");
        let (_, problem) = refused(json!({"OIDCIssuers": {"https://a.example.com": {
            "IssuerURL": "https://b.example.com", "ClientID": "sigstore", "Type": "email"}}}));
        assert!(problem.contains("differs from its key"), "{problem}");
        let (_, problem) = refused(json!({"OIDCIssuers": {"https://a.example.com": {
            "ClientID": " ", "Type": "email"}}}));
        assert!(problem.contains("ClientID"), "{problem}");
        let (_, problem) = refused(json!({"OIDCIssuers": {"https://*.example.com": {
            "ClientID": "sigstore", "Type": "email"}}}));
        assert!(problem.contains("MetaIssuers"), "{problem}");
        let (_, problem) = refused(json!({"MetaIssuers": {"https://*.com": {
            "ClientID": "sigstore", "Type": "email"}}}));
        assert!(problem.contains("two fixed labels"), "{problem}");
        // The good shapes pass.
        OidcConfig::from_json(
            json!({"OIDCIssuers": {
            "https://id.example.com": {"ClientID": "sigstore", "Type": "uri",
                                       "SubjectDomain": "workloads.example.com"},
            "https://spire.example.com": {"ClientID": "sigstore", "Type": "spiffe",
                                          "SPIFFETrustDomain": "example.com"},
            "http://127.0.0.1:5556": {"ClientID": "sigstore", "Type": "email"}}})
            .to_string()
            .as_bytes(),
        )
        .expect("valid entries");
    }

    #[test]
    fn fixture_config_parses_with_issuer_claim_and_jwks_file() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/fulcio/config.json");
        let config = OidcConfig::from_json(&std::fs::read(path).expect("fixture")).expect("parses");
        let dex = config.issuer("https://oauth2.sigstore.dev/auth").expect("dex");
        assert_eq!(dex.issuer_claim.as_deref(), Some("$.federated_claims.connector_id"));
        let local = config.issuer("http://127.0.0.1:5556").expect("local");
        assert_eq!(local.jwks_file.as_deref(), Some("/var/lib/sigbox/test-issuer-jwks.json"));
        let gh = config.issuer("https://token.actions.githubusercontent.com").expect("gh");
        assert_eq!((gh.r#type, gh.client_id.as_str()), (IssuerType::GithubWorkflow, "sigstore"));
        let eks = config.issuer("https://oidc.eks.eu-west-1.amazonaws.com/id/X1").expect("eks");
        assert_eq!(eks.r#type, IssuerType::Kubernetes);
    }
}
