//! Sigstore-specific certificate contents: subjectAltName identities and the Fulcio
//! extensions (OID arc 1.3.6.1.4.1.57264.1, PROTOCOLS §3.4).
//!
//! Encoding quirk: `.1.1`–`.1.6` hold the raw UTF-8 bytes as the extnValue contents,
//! `.1.8` and later hold a DER UTF8String. The SAN may be OtherName-only (type-id
//! `.1.7`, `[0] EXPLICIT UTF8String`), which Go cannot parse, so it is read here.

use der::asn1::Utf8StringRef;
use der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName as SanExtension;

use super::{oids, Certificate};

/// One subjectAltName entry that identifies a Sigstore signer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SubjectAltName {
    /// rfc822Name (email issuers).
    Email(String),
    /// uniformResourceIdentifier (CI workflows, SPIFFE, Kubernetes, `uri` issuers).
    Uri(String),
    /// dNSName (not issued by Fulcio; read for completeness).
    Dns(String),
    /// OtherName with type-id 1.3.6.1.4.1.57264.1.7 (`username` issuers): `sub!domain`.
    OtherName(String),
}

impl SubjectAltName {
    /// The identity string, whatever its kind.
    pub fn value(&self) -> &str {
        match self {
            Self::Email(v) | Self::Uri(v) | Self::Dns(v) | Self::OtherName(v) => v,
        }
    }
}

impl std::fmt::Display for SubjectAltName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.value())
    }
}

/// The Fulcio extension values of a certificate, decoded to strings. `None` when the
/// extension is absent or its bytes are not valid for its encoding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FulcioExtensions {
    /// OIDC issuer: `.1.8` (DER UTF8String) if present, else `.1.1` (raw bytes).
    pub issuer: Option<String>,
    /// `.1.2` GitHub Workflow Trigger (raw).
    pub github_workflow_trigger: Option<String>,
    /// `.1.3` GitHub Workflow SHA (raw).
    pub github_workflow_sha: Option<String>,
    /// `.1.4` GitHub Workflow Name (raw).
    pub github_workflow_name: Option<String>,
    /// `.1.5` GitHub Workflow Repository (raw).
    pub github_workflow_repository: Option<String>,
    /// `.1.6` GitHub Workflow Ref (raw).
    pub github_workflow_ref: Option<String>,
    /// `.1.9` Build Signer URI.
    pub build_signer_uri: Option<String>,
    /// `.1.10` Build Signer Digest.
    pub build_signer_digest: Option<String>,
    /// `.1.11` Runner Environment.
    pub runner_environment: Option<String>,
    /// `.1.12` Source Repository URI.
    pub source_repository_uri: Option<String>,
    /// `.1.13` Source Repository Digest.
    pub source_repository_digest: Option<String>,
    /// `.1.14` Source Repository Ref.
    pub source_repository_ref: Option<String>,
    /// `.1.15` Source Repository Identifier.
    pub source_repository_identifier: Option<String>,
    /// `.1.16` Source Repository Owner URI.
    pub source_repository_owner_uri: Option<String>,
    /// `.1.17` Source Repository Owner Identifier.
    pub source_repository_owner_identifier: Option<String>,
    /// `.1.18` Build Config URI.
    pub build_config_uri: Option<String>,
    /// `.1.19` Build Config Digest.
    pub build_config_digest: Option<String>,
    /// `.1.20` Build Trigger.
    pub build_trigger: Option<String>,
    /// `.1.21` Run Invocation URI.
    pub run_invocation_uri: Option<String>,
    /// `.1.22` Source Repository Visibility At Signing.
    pub source_repository_visibility_at_signing: Option<String>,
    /// `.1.23` Deployment Environment.
    pub deployment_environment: Option<String>,
    /// `.1.24` Token Subject (raw `sub` claim; newest Fulcio only).
    pub token_subject: Option<String>,
}

/// Reads every Fulcio extension of `cert`.
pub(crate) fn parse_fulcio_extensions(cert: &Certificate) -> FulcioExtensions {
    let raw = |n: u32| raw_string(cert, n);
    let der = |n: u32| der_string(cert, n);
    FulcioExtensions {
        issuer: der(8).or_else(|| raw(1)),
        github_workflow_trigger: raw(2),
        github_workflow_sha: raw(3),
        github_workflow_name: raw(4),
        github_workflow_repository: raw(5),
        github_workflow_ref: raw(6),
        build_signer_uri: der(9),
        build_signer_digest: der(10),
        runner_environment: der(11),
        source_repository_uri: der(12),
        source_repository_digest: der(13),
        source_repository_ref: der(14),
        source_repository_identifier: der(15),
        source_repository_owner_uri: der(16),
        source_repository_owner_identifier: der(17),
        build_config_uri: der(18),
        build_config_digest: der(19),
        build_trigger: der(20),
        run_invocation_uri: der(21),
        source_repository_visibility_at_signing: der(22),
        deployment_environment: der(23),
        token_subject: der(24),
    }
}

/// Reads the SAN extension value (the GeneralNames DER). Undecodable input gives an
/// empty list: callers treat "no identity" as a failed policy match.
pub(crate) fn parse_subject_alt_names(value: &[u8]) -> Vec<SubjectAltName> {
    let Ok(names) = SanExtension::from_der(value) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for name in names.0 {
        match name {
            GeneralName::Rfc822Name(s) => out.push(SubjectAltName::Email(s.to_string())),
            GeneralName::UniformResourceIdentifier(s) => {
                out.push(SubjectAltName::Uri(s.to_string()))
            }
            GeneralName::DnsName(s) => out.push(SubjectAltName::Dns(s.to_string())),
            GeneralName::OtherName(other) if other.type_id == oids::FULCIO_OTHERNAME_SAN => {
                if let Ok(s) = other.value.decode_as::<Utf8StringRef<'_>>() {
                    out.push(SubjectAltName::OtherName(s.as_str().to_string()));
                }
            }
            _ => {}
        }
    }
    out
}

fn fulcio_oid(n: u32) -> Option<const_oid::ObjectIdentifier> {
    const_oid::ObjectIdentifier::new(&format!("1.3.6.1.4.1.57264.1.{n}")).ok()
}

fn raw_string(cert: &Certificate, n: u32) -> Option<String> {
    let value = cert.extension_value(&fulcio_oid(n)?)?;
    String::from_utf8(value.to_vec()).ok()
}

fn der_string(cert: &Certificate, n: u32) -> Option<String> {
    let value = cert.extension_value(&fulcio_oid(n)?)?;
    Utf8StringRef::from_der(value).ok().map(|s| s.as_str().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAN: &str =
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
    const SHA: &str = "d8b4a6445f38c48b9137a8099706d9b8073146e4";

    fn github_leaf() -> Certificate {
        Certificate::from_der(include_bytes!("../../fixtures/x509/github-leaf.der")).unwrap()
    }

    #[test]
    fn github_leaf_san_is_the_workflow_uri() {
        assert_eq!(github_leaf().subject_alt_names(), vec![SubjectAltName::Uri(SAN.into())]);
    }

    #[test]
    fn github_leaf_fulcio_extensions_match_sigstore_python() {
        let ext = github_leaf().fulcio_extensions();
        let s = |v: &str| Some(v.to_string());
        let want = FulcioExtensions {
            issuer: s("https://token.actions.githubusercontent.com"),
            github_workflow_trigger: s("release"),
            github_workflow_sha: s(SHA),
            github_workflow_name: s("release"),
            github_workflow_repository: s("trailofbits/rfc8785.py"),
            github_workflow_ref: s("refs/tags/v0.1.2"),
            build_signer_uri: s(SAN),
            build_signer_digest: s(SHA),
            runner_environment: s("github-hosted"),
            source_repository_uri: s("https://github.com/trailofbits/rfc8785.py"),
            source_repository_digest: s(SHA),
            source_repository_ref: s("refs/tags/v0.1.2"),
            source_repository_identifier: s("768213997"),
            source_repository_owner_uri: s("https://github.com/trailofbits"),
            source_repository_owner_identifier: s("2314423"),
            build_config_uri: s(SAN),
            build_config_digest: s(SHA),
            build_trigger: s("release"),
            run_invocation_uri: s(
                "https://github.com/trailofbits/rfc8785.py/actions/runs/8351058501/attempts/1",
            ),
            source_repository_visibility_at_signing: s("public"),
            deployment_environment: None,
            token_subject: None,
        };
        assert_eq!(ext, want);
    }

    #[test]
    fn issuer_raw_and_der_encodings_differ_on_the_wire() {
        let leaf = github_leaf();
        let raw = leaf.extension("1.3.6.1.4.1.57264.1.1").unwrap();
        let der = leaf.extension("1.3.6.1.4.1.57264.1.8").unwrap();
        assert_eq!(raw, b"https://token.actions.githubusercontent.com");
        assert_eq!(&der[..2], &[0x0c, 0x2b]);
        assert_eq!(&der[2..], raw);
    }

    #[test]
    fn email_leaf_san_and_issuer_are_read() {
        let leaf =
            Certificate::from_der(include_bytes!("../../fixtures/x509/staging-leaf.der")).unwrap();
        assert_eq!(leaf.subject_alt_names(), vec![SubjectAltName::Email("jku@goto.fi".into())]);
        assert_eq!(
            leaf.fulcio_extensions().issuer.as_deref(),
            Some("https://github.com/login/oauth")
        );
    }

    #[test]
    fn issuer_falls_back_to_raw_extension() {
        // 2022 leaf with only `.1.1` (no `.1.8`).
        let leaf = Certificate::from_pem(include_str!(
            "../../fixtures/x509/fulcio-root-direct-2022-leaf.pem"
        ))
        .unwrap();
        assert!(leaf.extension("1.3.6.1.4.1.57264.1.8").is_none());
        assert_eq!(leaf.fulcio_extensions().issuer.as_deref(), Some("https://accounts.google.com"));
        assert_eq!(
            leaf.subject_alt_names(),
            vec![SubjectAltName::Email(
                "workload-identity@priya-chainguard.iam.gserviceaccount.com".into()
            )]
        );
    }

    #[test]
    fn othername_san_is_read() {
        // GeneralNames { [0] OtherName { 1.3.6.1.4.1.57264.1.7, [0] EXPLICIT UTF8 "a!b" } }
        let der = [
            0x30, 0x16, 0xa0, 0x14, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30,
            0x01, 0x07, 0xa0, 0x06, 0x0c, 0x04, b'a', b'!', b'b', b'c',
        ];
        assert_eq!(parse_subject_alt_names(&der), vec![SubjectAltName::OtherName("a!bc".into())]);
    }

    #[test]
    fn malformed_san_gives_no_names() {
        assert!(parse_subject_alt_names(&[0x30, 0x05, 0x01]).is_empty());
    }
}
