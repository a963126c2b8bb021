//! Wire models of the Sigstore bundle (`dev.sigstore.bundle.v1.Bundle`, v0.1–v0.3), shaped
//! like its protobuf JSON (PROTOCOLS §0.1, §1).
//!
//! These types only read and write JSON; they check nothing. [`crate::bundle::Checked`] is
//! made from a [`Bundle`] once and is what verification takes.
//!
//! Reading is tolerant, as proto3 JSON readers must be: camelCase and snake_case names,
//! int64 as strings or numbers, bytes in any base64 alphabet with or without padding,
//! missing or `null` fields as their default, unknown fields ignored. Writing is strict
//! (INTEROP.md "Bundles that our sign must produce"): camelCase, int64 as strings, standard
//! base64, `logIndex` and `hashes` always present, empty optional members left out.

use serde::{Deserialize, Deserializer, Serialize};

/// Media type of bundle v0.1.
pub const MEDIA_TYPE_V01: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";
/// Media type of bundle v0.2.
pub const MEDIA_TYPE_V02: &str = "application/vnd.dev.sigstore.bundle+json;version=0.2";
/// Canonical media type of bundle v0.3 (the one sigbox writes).
pub const MEDIA_TYPE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The older spelling of v0.3, accepted when reading.
pub const MEDIA_TYPE_V03_ALT: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";

/// A whole bundle: media type, verification material and one content member (oneof).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// One of the four `MEDIA_TYPE_*` strings.
    #[serde(default, alias = "media_type", deserialize_with = "nullable")]
    pub media_type: String,
    /// Key or certificate, tlog entries and timestamps.
    #[serde(default, alias = "verification_material", skip_serializing_if = "Option::is_none")]
    pub verification_material: Option<VerificationMaterial>,
    /// Content oneof: a signature over an artifact digest (hashedrekord).
    #[serde(default, alias = "message_signature", skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<MessageSignature>,
    /// Content oneof: a DSSE envelope (attestations).
    #[serde(default, alias = "dsse_envelope", skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<DsseEnvelope>,
}

impl Bundle {
    /// Parses bundle JSON. Checks only that it is JSON of the right shape.
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Writes the bundle as compact JSON (INTEROP.md writing rules).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// Writes the bundle as indented JSON.
    pub fn to_json_pretty(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}

/// `verificationMaterial`: the oneof `content` (public key hint, certificate chain, or
/// single certificate) plus tlog entries and RFC 3161 timestamps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    /// Content oneof: an opaque hint naming a self-managed key.
    #[serde(default, alias = "public_key", skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    /// Content oneof: certificates, leaf first (v0.1/v0.2). Only the leaf is used.
    #[serde(default, alias = "x509_certificate_chain", skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<X509CertificateChain>,
    /// Content oneof: the leaf certificate alone (v0.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<X509Certificate>,
    /// Transparency log entries (clients write exactly one).
    #[serde(
        default,
        alias = "tlog_entries",
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tlog_entries: Vec<TransparencyLogEntry>,
    /// RFC 3161 timestamps over the signature.
    #[serde(
        default,
        alias = "timestamp_verification_data",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp_verification_data: Option<TimestampVerificationData>,
}

/// `PublicKeyIdentifier`: `{"hint": "..."}`; unauthenticated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyIdentifier {
    /// The hint, opaque (npm's is not derivable from the key).
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub hint: String,
}

/// `X509CertificateChain`: `{"certificates": [...]}`, leaf first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct X509CertificateChain {
    /// The certificates, leaf first.
    #[serde(default, deserialize_with = "nullable")]
    pub certificates: Vec<X509Certificate>,
}

/// `X509Certificate`: `{"rawBytes": b64(DER)}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509Certificate {
    /// The DER certificate.
    #[serde(default, alias = "raw_bytes")]
    pub raw_bytes: Base64Bytes,
}

/// `dev.sigstore.rekor.v1.TransparencyLogEntry` (PROTOCOLS §1.5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransparencyLogEntry {
    /// The global ("virtual") index, used in the SET. Always written, even `"0"`.
    #[serde(default, alias = "log_index", with = "int64")]
    pub log_index: i64,
    /// Which log: `{"keyId": b64}`.
    #[serde(default, alias = "log_id")]
    pub log_id: LogId,
    /// Entry kind and version, e.g. `hashedrekord` / `0.0.1`.
    #[serde(default, alias = "kind_version")]
    pub kind_version: KindVersion,
    /// Unix seconds; 0 (omitted) for Rekor v2. Trusted only through a verified SET.
    #[serde(default, alias = "integrated_time", with = "int64", skip_serializing_if = "is_zero")]
    pub integrated_time: i64,
    /// The SET (Rekor v1 only).
    #[serde(default, alias = "inclusion_promise", skip_serializing_if = "Option::is_none")]
    pub inclusion_promise: Option<InclusionPromise>,
    /// Merkle inclusion proof with a checkpoint.
    #[serde(default, alias = "inclusion_proof", skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<InclusionProof>,
    /// The exact leaf bytes stored in the log (never re-serialize them).
    #[serde(default, alias = "canonicalized_body", skip_serializing_if = "Base64Bytes::is_empty")]
    pub canonicalized_body: Base64Bytes,
}

/// `LogId`: `{"keyId": b64}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    /// SHA-256 of the log's SPKI (Rekor v1, CT) or the C2SP key ID (Rekor v2).
    #[serde(default, alias = "key_id")]
    pub key_id: Base64Bytes,
}

/// `KindVersion`: `{"kind": "hashedrekord", "version": "0.0.1"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindVersion {
    /// Entry kind (`hashedrekord`, `dsse`, `intoto`).
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// Kind version (`0.0.1`, `0.0.2`).
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
}

/// `InclusionPromise`: `{"signedEntryTimestamp": b64(DER ECDSA)}` (PROTOCOLS §4.5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionPromise {
    /// The SET.
    #[serde(default, alias = "signed_entry_timestamp")]
    pub signed_entry_timestamp: Base64Bytes,
}

/// `InclusionProof` (PROTOCOLS §1.5, §4.6). Index and size are the shard tree's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    /// Leaf index inside the shard tree. Always written.
    #[serde(default, alias = "log_index", with = "int64")]
    pub log_index: i64,
    /// Root hash of the tree of `tree_size` leaves (32 bytes).
    #[serde(default, alias = "root_hash")]
    pub root_hash: Base64Bytes,
    /// Tree size.
    #[serde(default, alias = "tree_size", with = "int64")]
    pub tree_size: i64,
    /// Audit path, leaf to root. Always written, even `[]`.
    #[serde(default, deserialize_with = "nullable")]
    pub hashes: Vec<Base64Bytes>,
    /// The signed checkpoint (required from v0.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
}

/// `Checkpoint`: `{"envelope": "<signed note text>"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The whole signed note (C2SP signed-note), ending in `\n`.
    #[serde(default, deserialize_with = "nullable")]
    pub envelope: String,
}

/// `TimestampVerificationData`: `{"rfc3161Timestamps": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimestampVerificationData {
    /// The timestamps (may be empty).
    #[serde(default, alias = "rfc3161_timestamps", deserialize_with = "nullable")]
    pub rfc3161_timestamps: Vec<Rfc3161SignedTimestamp>,
}

/// `RFC3161SignedTimestamp`: `{"signedTimestamp": b64(DER TimeStampResp)}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rfc3161SignedTimestamp {
    /// The whole DER `TimeStampResp` (not just the token).
    #[serde(default, alias = "signed_timestamp")]
    pub signed_timestamp: Base64Bytes,
}

/// `MessageSignature`: the artifact digest and the signature (PROTOCOLS §1.4, §5.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSignature {
    /// The artifact digest, as claimed by the signer (always checked, never trusted).
    #[serde(default, alias = "message_digest", skip_serializing_if = "Option::is_none")]
    pub message_digest: Option<HashOutput>,
    /// DER signature over the artifact.
    #[serde(default)]
    pub signature: Base64Bytes,
}

/// `HashOutput`: `{"algorithm": "SHA2_256", "digest": b64}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashOutput {
    /// Enum name (`SHA2_256`, `SHA2_384`, `SHA2_512`); integers are read as their names.
    #[serde(default, deserialize_with = "hash_algorithm_name")]
    pub algorithm: String,
    /// The raw digest.
    #[serde(default)]
    pub digest: Base64Bytes,
}

/// A DSSE envelope (`io.intoto.Envelope`, PROTOCOLS §5.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DsseEnvelope {
    /// The payload bytes.
    #[serde(default)]
    pub payload: Base64Bytes,
    /// The payload type, e.g. `application/vnd.in-toto+json`.
    #[serde(default, alias = "payload_type", deserialize_with = "nullable")]
    pub payload_type: String,
    /// Signatures over PAE(payloadType, payload). A bundle must hold exactly one.
    #[serde(default, deserialize_with = "nullable")]
    pub signatures: Vec<DsseSignature>,
}

/// One DSSE signature: `{"sig": b64, "keyid": "..."}`; `keyid` is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsseSignature {
    /// The signature bytes.
    #[serde(default)]
    pub sig: Base64Bytes,
    /// Optional key ID (left out when empty).
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub keyid: String,
}

pub use crate::encoding::Base64Bytes;

/// proto3 int64: written as a JSON string, read from a string or a number (or `null`).
pub mod int64 {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the value as a decimal string.
    pub fn serialize<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    /// Reads a string or a number; `null` is 0.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Number(i64),
            Text(String),
        }
        match Option::<Either>::deserialize(deserializer)? {
            None => Ok(0),
            Some(Either::Number(n)) => Ok(n),
            Some(Either::Text(text)) => text
                .parse::<i64>()
                .map_err(|_| serde::de::Error::custom("int64 field is not a decimal integer")),
        }
    }
}

/// Reads `null` as the type's default (proto3: null means absent).
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads a `HashAlgorithm` enum as its name, accepting the integer form too.
fn hash_algorithm_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(i64),
        Text(String),
    }
    Ok(match Option::<Either>::deserialize(deserializer)? {
        None => String::new(),
        Some(Either::Text(text)) => text,
        Some(Either::Number(n)) => match n {
            0 => "HASH_ALGORITHM_UNSPECIFIED",
            1 => "SHA2_256",
            2 => "SHA2_384",
            3 => "SHA2_512",
            4 => "SHA3_256",
            5 => "SHA3_384",
            _ => return Err(serde::de::Error::custom("unknown HashAlgorithm number")),
        }
        .to_string(),
    })
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int64_fields_accept_strings_numbers_and_null() {
        let json = r#"{"logIndex":"7","integratedTime":12,"inclusionProof":{"logIndex":null,
            "tree_size":"3","rootHash":"AAEC","hashes":null}}"#;
        let entry: TransparencyLogEntry = serde_json::from_str(json).unwrap();
        assert_eq!(entry.log_index, 7);
        assert_eq!(entry.integrated_time, 12);
        let proof = entry.inclusion_proof.unwrap();
        assert_eq!(proof.log_index, 0);
        assert_eq!(proof.tree_size, 3);
        assert_eq!(proof.root_hash.as_slice(), &[0, 1, 2]);
        assert!(proof.hashes.is_empty());
    }

    #[test]
    fn zero_log_index_and_empty_hashes_are_written() {
        let entry = TransparencyLogEntry {
            inclusion_proof: Some(InclusionProof::default()),
            ..Default::default()
        };
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(json["logIndex"], "0");
        assert_eq!(json["inclusionProof"]["logIndex"], "0");
        assert_eq!(json["inclusionProof"]["hashes"], serde_json::json!([]));
        assert!(json.get("integratedTime").is_none());
        assert!(json.get("inclusionPromise").is_none());
        assert!(json.get("canonicalizedBody").is_none());
        assert!(json["inclusionProof"].get("checkpoint").is_none());
    }

    #[test]
    fn snake_case_and_url_safe_base64_are_read() {
        let json = r#"{"media_type":"x","verification_material":{"certificate":
            {"raw_bytes":"-_8"}},"message_signature":{"message_digest":
            {"algorithm":1,"digest":"AA=="},"signature":"AQ"}}"#;
        let bundle = Bundle::from_json(json.as_bytes()).unwrap();
        assert_eq!(bundle.media_type, "x");
        let cert = bundle.verification_material.unwrap().certificate.unwrap();
        assert_eq!(cert.raw_bytes.as_slice(), &[0xfb, 0xff]);
        let sig = bundle.message_signature.unwrap();
        assert_eq!(sig.message_digest.unwrap().algorithm, "SHA2_256");
        assert_eq!(sig.signature.as_slice(), &[1]);
    }

    #[test]
    fn written_bundle_uses_camel_case_and_omits_empty_members() {
        let bundle = Bundle {
            media_type: MEDIA_TYPE_V03.into(),
            verification_material: Some(VerificationMaterial {
                certificate: Some(X509Certificate { raw_bytes: vec![1, 2].into() }),
                ..Default::default()
            }),
            dsse_envelope: Some(DsseEnvelope {
                payload: b"{}".to_vec().into(),
                payload_type: "application/vnd.in-toto+json".into(),
                signatures: vec![DsseSignature { sig: vec![9].into(), keyid: String::new() }],
            }),
            ..Default::default()
        };
        let json = bundle.to_json().unwrap();
        assert_eq!(
            json,
            r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"certificate":{"rawBytes":"AQI="}},"dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"CQ=="}]}}"#
        );
    }

    #[test]
    fn bad_base64_is_an_error() {
        let json = r#"{"rawBytes":"!!"}"#;
        assert!(serde_json::from_str::<X509Certificate>(json).is_err());
    }
}
