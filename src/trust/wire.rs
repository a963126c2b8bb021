//! Wire models of `trusted_root.json` (`dev.sigstore.trustroot.v1.TrustedRoot`), signing
//! config v0.2 and `ClientTrustConfig`, shaped like their protobuf JSON (PROTOCOLS §2).
//!
//! Reading is tolerant (camelCase or snake_case, `null` as absent, any base64 alphabet,
//! unknown fields ignored); writing leaves empty optional members out, because
//! sigstore-python rejects unknown and some empty fields (INTEROP.md). The checked forms
//! are in `root.rs` and `signing_config.rs`.

use serde::{Deserialize, Deserializer, Serialize};

use crate::encoding::Base64Bytes;

/// `TrustedRoot`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedRoot {
    /// `application/vnd.dev.sigstore.trustedroot+json;version=0.1` or `....v0.2+json`.
    #[serde(default, alias = "media_type", deserialize_with = "nullable")]
    pub media_type: String,
    /// Rekor logs.
    #[serde(default, deserialize_with = "nullable")]
    pub tlogs: Vec<TransparencyLogInstance>,
    /// Fulcio CAs.
    #[serde(default, alias = "certificate_authorities", deserialize_with = "nullable")]
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// CT logs.
    #[serde(default, deserialize_with = "nullable")]
    pub ctlogs: Vec<TransparencyLogInstance>,
    /// RFC 3161 timestamp authorities (chain starts with the TSA leaf).
    #[serde(default, alias = "timestamp_authorities", deserialize_with = "nullable")]
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

/// `TransparencyLogInstance` (Rekor logs and CT logs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransparencyLogInstance {
    /// Base URL, e.g. `https://rekor.sigstore.dev`.
    #[serde(default, alias = "base_url", deserialize_with = "nullable")]
    pub base_url: String,
    /// `SHA2_256`.
    #[serde(default, alias = "hash_algorithm", deserialize_with = "nullable")]
    pub hash_algorithm: String,
    /// The log key.
    #[serde(default, alias = "public_key")]
    pub public_key: PublicKey,
    /// Log ID (SHA-256 of the SPKI, or the C2SP key ID for Rekor v2).
    #[serde(default, alias = "log_id")]
    pub log_id: LogId,
    /// v0.2: checkpoint key ID.
    #[serde(default, alias = "checkpoint_key_id", skip_serializing_if = "Option::is_none")]
    pub checkpoint_key_id: Option<LogId>,
    /// v0.2: operator.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub operator: String,
}

/// `PublicKey`: DER SPKI, key details and validity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    /// DER SPKI.
    #[serde(default, alias = "raw_bytes")]
    pub raw_bytes: Base64Bytes,
    /// `PublicKeyDetails` name, e.g. `PKIX_ECDSA_P256_SHA_256`.
    #[serde(default, alias = "key_details", deserialize_with = "nullable")]
    pub key_details: String,
    /// When the key may be used.
    #[serde(default, alias = "valid_for", skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
}

/// `LogId`: `{"keyId": b64}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    /// The key ID bytes.
    #[serde(default, alias = "key_id")]
    pub key_id: Base64Bytes,
}

/// `CertificateAuthority` (Fulcio CAs and TSAs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAuthority {
    /// Distinguished name (informational).
    #[serde(default)]
    pub subject: DistinguishedName,
    /// Service URI.
    #[serde(default, deserialize_with = "nullable")]
    pub uri: String,
    /// The chain: intermediates (or TSA leaf first), trust anchor last.
    #[serde(default, alias = "cert_chain")]
    pub cert_chain: CertificateChain,
    /// When the CA may be used.
    #[serde(default, alias = "valid_for", skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
    /// v0.2: operator.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub operator: String,
}

/// `DistinguishedName`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DistinguishedName {
    /// O=.
    #[serde(default, deserialize_with = "nullable")]
    pub organization: String,
    /// CN=.
    #[serde(default, alias = "common_name", deserialize_with = "nullable")]
    pub common_name: String,
}

/// `X509CertificateChain`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateChain {
    /// Certificates in order.
    #[serde(default, deserialize_with = "nullable")]
    pub certificates: Vec<crate::bundle::wire::X509Certificate>,
}

/// `TimeRange`: RFC 3339 `start` and optional `end`, both inclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// Start (required by sigbox: an entry without it is invalid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// End; absent means still valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// `SigningConfig` v0.2.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningConfig {
    /// `application/vnd.dev.sigstore.signingconfig.v0.2+json`.
    #[serde(default, alias = "media_type", deserialize_with = "nullable")]
    pub media_type: String,
    /// Fulcio base URLs.
    #[serde(default, alias = "ca_urls", deserialize_with = "nullable")]
    pub ca_urls: Vec<Service>,
    /// OIDC issuer base URLs.
    #[serde(default, alias = "oidc_urls", deserialize_with = "nullable")]
    pub oidc_urls: Vec<Service>,
    /// Rekor base URLs.
    #[serde(default, alias = "rekor_tlog_urls", deserialize_with = "nullable")]
    pub rekor_tlog_urls: Vec<Service>,
    /// How many Rekor logs to use.
    #[serde(default, alias = "rekor_tlog_config", skip_serializing_if = "Option::is_none")]
    pub rekor_tlog_config: Option<ServiceConfiguration>,
    /// Full RFC 3161 endpoint URLs.
    #[serde(default, alias = "tsa_urls", deserialize_with = "nullable")]
    pub tsa_urls: Vec<Service>,
    /// How many TSAs to use.
    #[serde(default, alias = "tsa_config", skip_serializing_if = "Option::is_none")]
    pub tsa_config: Option<ServiceConfiguration>,
}

/// `Service`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// The URL.
    #[serde(default, deserialize_with = "nullable")]
    pub url: String,
    /// Major API version (a JSON number).
    #[serde(default, alias = "major_api_version", deserialize_with = "nullable")]
    pub major_api_version: u32,
    /// When the service may be used.
    #[serde(default, alias = "valid_for", skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
    /// Operator, used to pick at most one service per operator.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub operator: String,
}

/// `ServiceConfiguration`: `{"selector": "ANY"|"ALL"|"EXACT", "count": n}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceConfiguration {
    /// `ALL`, `ANY` or `EXACT`.
    #[serde(default, deserialize_with = "nullable")]
    pub selector: String,
    /// For `EXACT`.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "is_zero")]
    pub count: u32,
}

/// `ClientTrustConfig` v0.1: a trusted root plus a signing config, both required.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientTrustConfig {
    /// `application/vnd.dev.sigstore.clienttrustconfig.v0.1+json`.
    #[serde(default, alias = "media_type", deserialize_with = "nullable")]
    pub media_type: String,
    /// The trusted root.
    #[serde(default, alias = "trusted_root", skip_serializing_if = "Option::is_none")]
    pub trusted_root: Option<TrustedRoot>,
    /// The signing config.
    #[serde(default, alias = "signing_config", skip_serializing_if = "Option::is_none")]
    pub signing_config: Option<SigningConfig>,
}

fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}
