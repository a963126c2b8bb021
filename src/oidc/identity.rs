//! How a verified token becomes a certificate identity: the SAN, the issuer written into
//! the certificate, the challenge the proof of possession signs, and the Fulcio
//! extensions (PROTOCOLS §3.4, §3.6).

use super::{Error, IssuerConfig, IssuerType, Result, VerifiedToken};

/// The one Subject Alternative Name a Fulcio certificate carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectName {
    /// rfc822Name.
    Email(String),
    /// uniformResourceIdentifier.
    Uri(String),
    /// OtherName with type-id 1.3.6.1.4.1.57264.1.7 (`username` issuers).
    OtherName(String),
}

/// Everything the CA writes about the identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateIdentity {
    /// The SAN.
    pub san: SubjectName,
    /// The issuer for extensions `.1.1` and `.1.8`.
    pub issuer: String,
    /// The value the proof of possession signs (`email` or `sub`).
    pub challenge: String,
    /// Fulcio extensions as (last OID arc under 1.3.6.1.4.1.57264.1, value), ascending;
    /// arcs 2–6 are written raw, 9 and up as DER UTF8String.
    pub extensions: Vec<(u32, String)>,
}

/// Maps a verified token to the certificate identity its issuer type prescribes.
pub fn identity_from_token(
    token: &VerifiedToken,
    config: &IssuerConfig,
) -> Result<CertificateIdentity> {
    let sub = token.subject().to_string();
    let issuer = match &config.issuer_claim {
        None => token.issuer().to_string(),
        Some(path) => {
            claim_at_path(token, path).ok_or_else(|| Error::MissingClaim(path.clone()))?.to_string()
        }
    };
    let claim = |name: &str| token.string_claim(name).map(str::to_string);
    let need = |name: &str| claim(name).ok_or_else(|| Error::MissingClaim(name.into()));
    let mut extensions = Vec::new();
    let (san, challenge) = match config.r#type {
        IssuerType::Email => {
            let email = need("email")?;
            let verified = token.claim("email_verified").and_then(|v| v.as_bool()) == Some(true);
            if !verified && !config.skip_email_verification {
                return Err(Error::EmailNotVerified);
            }
            extensions.push((24, sub.clone()));
            (SubjectName::Email(email.clone()), email)
        }
        IssuerType::GithubWorkflow | IssuerType::CiProvider => {
            let url = claim("url").unwrap_or_else(|| "https://github.com".into());
            let workflow_ref = need("job_workflow_ref")?;
            github_extensions(token, &url, &mut extensions);
            extensions.push((24, sub.clone()));
            (SubjectName::Uri(format!("{url}/{workflow_ref}")), sub)
        }
        IssuerType::GitlabPipeline => {
            let config_ref = need("ci_config_ref_uri")?;
            extensions.push((24, sub.clone()));
            (SubjectName::Uri(format!("https://{config_ref}")), sub)
        }
        IssuerType::Kubernetes => {
            let k8s = token
                .claim("kubernetes.io")
                .ok_or_else(|| Error::MissingClaim("kubernetes.io".into()))?;
            let ns = k8s.get("namespace").and_then(|v| v.as_str());
            let sa = k8s.get("serviceaccount").and_then(|v| v.get("name")).and_then(|v| v.as_str());
            let (Some(ns), Some(sa)) = (ns, sa) else {
                return Err(Error::MissingClaim("kubernetes.io.namespace/serviceaccount".into()));
            };
            (
                SubjectName::Uri(format!(
                    "https://kubernetes.io/namespaces/{ns}/serviceaccounts/{sa}"
                )),
                sub,
            )
        }
        IssuerType::Spiffe => {
            let domain = config.spiffe_trust_domain.as_deref().unwrap_or_default();
            let host = sub.strip_prefix("spiffe://").and_then(|rest| rest.split('/').next());
            // An empty domain must not match the empty host of `spiffe:///anything`.
            if host != Some(domain) || domain.is_empty() {
                return Err(Error::SubjectNotAllowed {
                    subject: sub,
                    reason: "not in the SPIFFE trust domain",
                });
            }
            (SubjectName::Uri(sub.clone()), sub)
        }
        IssuerType::Uri => {
            let domain = config.subject_domain.as_deref().unwrap_or_default();
            let host = sub.split_once("://").and_then(|(_, rest)| rest.split('/').next());
            if host != Some(domain) || domain.is_empty() {
                return Err(Error::SubjectNotAllowed {
                    subject: sub,
                    reason: "host is not the subject domain",
                });
            }
            (SubjectName::Uri(sub.clone()), sub)
        }
        IssuerType::Username => {
            let domain = config.subject_domain.as_deref().unwrap_or_default();
            if domain.is_empty() || sub.contains('!') {
                return Err(Error::SubjectNotAllowed {
                    subject: sub,
                    reason: "username needs a subject domain and no '!'",
                });
            }
            (SubjectName::OtherName(format!("{sub}!{domain}")), sub)
        }
    };
    extensions.sort_by_key(|(arc, _)| *arc);
    Ok(CertificateIdentity { san, issuer, challenge, extensions })
}

/// A string claim addressed by a simple JSON path (`$.a.b` or `a.b`): object keys only.
fn claim_at_path<'a>(token: &'a VerifiedToken, path: &str) -> Option<&'a str> {
    let path = path.strip_prefix("$.").unwrap_or(path);
    let mut parts = path.split('.');
    let mut value = token.claim(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    value.as_str().filter(|s| !s.is_empty())
}

/// The GitHub Actions claims → extensions table (PROTOCOLS §3.4), skipping empty values.
fn github_extensions(token: &VerifiedToken, url: &str, out: &mut Vec<(u32, String)>) {
    let claim = |name: &str| token.string_claim(name).filter(|v| !v.is_empty()).map(str::to_string);
    let mut push = |arc: u32, value: Option<String>| {
        if let Some(v) = value {
            out.push((arc, v));
        }
    };
    push(2, claim("event_name"));
    push(3, claim("sha"));
    push(4, claim("workflow"));
    push(5, claim("repository"));
    push(6, claim("ref"));
    push(9, claim("job_workflow_ref").map(|r| format!("{url}/{r}")));
    push(10, claim("job_workflow_sha"));
    push(11, claim("runner_environment"));
    push(12, claim("repository").map(|r| format!("{url}/{r}")));
    push(13, claim("sha"));
    push(14, claim("ref"));
    push(15, claim("repository_id"));
    push(16, claim("repository_owner").map(|o| format!("{url}/{o}")));
    push(17, claim("repository_owner_id"));
    push(18, claim("workflow_ref").map(|r| format!("{url}/{r}")));
    push(19, claim("workflow_sha"));
    push(20, claim("event_name"));
    let run = (claim("repository"), claim("run_id"), claim("run_attempt"));
    if let (Some(repo), Some(id), Some(attempt)) = run {
        push(21, Some(format!("{url}/{repo}/actions/runs/{id}/attempts/{attempt}")));
    }
    push(22, claim("repository_visibility"));
    push(23, claim("environment"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{EcdsaP256Signer, Signer};
    use crate::oidc::jwt::tests::{claims, mint};
    use crate::oidc::{parse_unverified, verify_token, ClaimChecks, Jwk, JwkSet};

    const NOW: i64 = 1_750_000_000;

    fn verified(claims: &serde_json::Value) -> VerifiedToken {
        let signer = EcdsaP256Signer::generate();
        let set = JwkSet::from_keys(vec![Jwk {
            kid: Some("k".into()),
            alg: None,
            key: signer.public_key().clone(),
        }]);
        let token = mint(&signer, "ES256", "k", claims);
        let checks = ClaimChecks {
            issuer: "https://issuer.test",
            audience: "sigstore",
            now: NOW,
            leeway: 0,
        };
        verify_token(&parse_unverified(&token).expect("parses"), &set, &checks).expect("verifies")
    }

    fn config(t: IssuerType) -> IssuerConfig {
        IssuerConfig {
            issuer_url: "https://issuer.test".into(),
            client_id: "sigstore".into(),
            r#type: t,
            subject_domain: Some("example.com".into()),
            spiffe_trust_domain: Some("example.com".into()),
            jwks_file: None,
            issuer_claim: None,
            skip_email_verification: false,
        }
    }

    #[test]
    fn issuer_claim_path_replaces_iss_in_the_certificate() {
        let mut c = claims(NOW);
        c["federated_claims"] =
            serde_json::json!({"connector_id": "https://github.com/login/oauth"});
        let mut dex = config(IssuerType::Email);
        dex.issuer_claim = Some("$.federated_claims.connector_id".into());
        let id = identity_from_token(&verified(&c), &dex).expect("ok");
        assert_eq!(id.issuer, "https://github.com/login/oauth");
        assert!(matches!(
            identity_from_token(&verified(&claims(NOW)), &dex),
            Err(Error::MissingClaim(p)) if p == "$.federated_claims.connector_id"
        ));
        let plain = identity_from_token(&verified(&c), &config(IssuerType::Email)).expect("ok");
        assert_eq!(plain.issuer, "https://issuer.test");
    }

    #[test]
    fn email_issuer_uses_email_and_requires_verification() {
        let id =
            identity_from_token(&verified(&claims(NOW)), &config(IssuerType::Email)).expect("ok");
        assert_eq!(id.san, SubjectName::Email("alice@example.com".into()));
        assert_eq!(id.challenge, "alice@example.com");
        let mut unverified = claims(NOW);
        unverified["email_verified"] = false.into();
        assert!(matches!(
            identity_from_token(&verified(&unverified), &config(IssuerType::Email)),
            Err(Error::EmailNotVerified)
        ));
    }

    #[test]
    fn github_token_fills_the_workflow_extensions() {
        let mut c = claims(NOW);
        for (k, v) in [
            ("job_workflow_ref", "o/r/.github/workflows/rel.yml@refs/tags/v1"),
            ("repository", "o/r"),
            ("sha", "abc"),
            ("event_name", "push"),
            ("ref", "refs/tags/v1"),
            ("run_id", "7"),
            ("run_attempt", "1"),
            ("repository_owner", "o"),
        ] {
            c[k] = v.into();
        }
        let id =
            identity_from_token(&verified(&c), &config(IssuerType::GithubWorkflow)).expect("ok");
        assert_eq!(
            id.san,
            SubjectName::Uri(
                "https://github.com/o/r/.github/workflows/rel.yml@refs/tags/v1".into()
            )
        );
        assert_eq!(id.challenge, "alice");
        let get = |arc| id.extensions.iter().find(|(a, _)| *a == arc).map(|(_, v)| v.as_str());
        assert_eq!(get(12), Some("https://github.com/o/r"));
        assert_eq!(get(21), Some("https://github.com/o/r/actions/runs/7/attempts/1"));
        assert_eq!(get(2), Some("push"));
    }

    #[test]
    fn uri_and_spiffe_subjects_must_be_in_their_domain() {
        let mut c = claims(NOW);
        c["sub"] = "spiffe://evil.com/workload".into();
        assert!(identity_from_token(&verified(&c), &config(IssuerType::Spiffe)).is_err());
        c["sub"] = "spiffe://example.com/workload".into();
        assert!(identity_from_token(&verified(&c), &config(IssuerType::Spiffe)).is_ok());
        // A configuration without a trust domain (refused at load, and here too).
        let mut no_domain = config(IssuerType::Spiffe);
        no_domain.spiffe_trust_domain = None;
        c["sub"] = "spiffe:///anything".into();
        let err = identity_from_token(&verified(&c), &no_domain).unwrap_err();
        assert!(matches!(err, Error::SubjectNotAllowed { .. }), "{err}");
        c["sub"] = "https://example.com/u/alice".into();
        assert!(identity_from_token(&verified(&c), &config(IssuerType::Uri)).is_ok());
        let id = identity_from_token(&verified(&claims(NOW)), &config(IssuerType::Username))
            .expect("ok");
        assert_eq!(id.san, SubjectName::OtherName("alice!example.com".into()));
    }
}
