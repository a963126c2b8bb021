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
