//! cosign's signature storage (PROTOCOLS §5.4–5.6).
//!
//! Legacy: the image `sha256:<hex>` has a manifest tagged `sha256-<hex>.sig` (`.att` for
//! attestations) in the same repository; each signature is one layer whose blob is the
//! simple-signing payload (or a DSSE envelope) and whose annotations carry the signature,
//! certificate, chain and the "Rekor bundle" (SET + entry payload). New signatures are
//! appended as layers, never replacing old ones.
//!
//! OCI 1.1: each signature is an artifact manifest holding one v0.3 bundle blob, with the
//! image as `subject`. Registries without the referrers API get the tag-schema fallback:
//! an index tagged `sha256-<hex>` listing those manifests, which the client maintains.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::manifest::{self, Descriptor, Index, Manifest};
use super::Error;
use crate::bundle::wire;

/// Layer media type of a simple-signing payload.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer media type of a DSSE envelope (`.att`).
pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Annotation: base64 signature (note cosign's older `cosignproject` prefix).
pub const ANN_SIGNATURE: &str = "dev.cosignproject.cosign/signature";
/// Annotation: PEM leaf certificate.
pub const ANN_CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
/// Annotation: PEM intermediates and root.
pub const ANN_CHAIN: &str = "dev.sigstore.cosign/chain";
/// Annotation: the Rekor bundle JSON.
pub const ANN_BUNDLE: &str = "dev.sigstore.cosign/bundle";
/// Annotation on `.att` layers: the in-toto predicate type.
pub const ANN_PREDICATE_TYPE: &str = "predicateType";
/// Referrer manifest annotation: what the bundle holds.
pub const ANN_BUNDLE_CONTENT: &str = "dev.sigstore.bundle.content";
/// Referrer manifest annotation: the predicate type of the bundle's statement.
pub const ANN_BUNDLE_PREDICATE: &str = "dev.sigstore.bundle.predicateType";
/// The predicate type cosign v3 uses for image signatures in the new bundle format.
pub const SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
/// The simple-signing `critical.type`.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";

/// Signatures or attestations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `.sig`: simple-signing payloads.
    Signature,
    /// `.att`: DSSE envelopes.
    Attestation,
}

impl Kind {
    /// The tag suffix.
    pub fn suffix(self) -> &'static str {
        match self {
            Kind::Signature => "sig",
            Kind::Attestation => "att",
        }
    }
}

/// `sha256:<hex>` → `sha256-<hex>.<suffix>`.
pub fn legacy_tag(digest: &str, kind: Kind) -> String {
    format!("{}.{}", fallback_tag(digest), kind.suffix())
}

/// `sha256:<hex>` → `sha256-<hex>` (the referrers tag-schema fallback).
pub fn fallback_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1)
}

/// The simple-signing payload cosign signs (PROTOCOLS §5.4), byte for byte as Go writes
/// it: fixed member order, `optional` null when there are no annotations.
pub fn simple_signing_payload(
    docker_reference: &str,
    digest: &str,
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    #[derive(Serialize)]
    struct Payload<'a> {
        critical: Critical<'a>,
        optional: Option<&'a BTreeMap<String, String>>,
    }
    #[derive(Serialize)]
    struct Critical<'a> {
        identity: Identity<'a>,
        image: Image<'a>,
        #[serde(rename = "type")]
        kind: &'a str,
    }
    #[derive(Serialize)]
    struct Identity<'a> {
        #[serde(rename = "docker-reference")]
        docker_reference: &'a str,
    }
    #[derive(Serialize)]
    struct Image<'a> {
        #[serde(rename = "docker-manifest-digest")]
        digest: &'a str,
    }
    let payload = Payload {
        critical: Critical {
            identity: Identity { docker_reference },
            image: Image { digest },
            kind: SIMPLE_SIGNING_TYPE,
        },
        optional: (!annotations.is_empty()).then_some(annotations),
    };
    serde_json::to_vec(&payload).unwrap_or_default()
}

/// A parsed simple-signing payload (only what verification reads).
#[derive(Debug, Clone, Deserialize)]
pub struct SimpleSigning {
    /// The critical section.
    pub critical: SimpleCritical,
    /// User annotations (and, in cosign's output, more).
    #[serde(default)]
    pub optional: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `critical`.
#[derive(Debug, Clone, Deserialize)]
pub struct SimpleCritical {
    /// `image`.
    pub image: SimpleImage,
    /// `type`.
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// `critical.image`; Go's decoder matches the key case-insensitively.
#[derive(Debug, Clone, Deserialize)]
pub struct SimpleImage {
    /// The signed manifest digest.
    #[serde(rename = "docker-manifest-digest", alias = "Docker-manifest-digest")]
    pub digest: String,
}

impl SimpleSigning {
    /// Parses a payload.
    pub fn parse(bytes: &[u8]) -> Result<SimpleSigning, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// The "Rekor bundle" annotation: the SET and the entry it signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekorBundle {
    /// base64 DER ECDSA signature of the log.
    #[serde(rename = "SignedEntryTimestamp")]
    pub signed_entry_timestamp: String,
    /// What the SET signs.
    #[serde(rename = "Payload")]
    pub payload: RekorPayload,
}

/// The SET payload (PROTOCOLS §4.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RekorPayload {
    /// base64 of the canonicalized entry body.
    pub body: String,
    /// Unix seconds.
    #[serde(rename = "integratedTime")]
    pub integrated_time: i64,
    /// Global log index.
    #[serde(rename = "logIndex")]
    pub log_index: i64,
    /// Hex log ID.
    #[serde(rename = "logID")]
    pub log_id: String,
}

impl RekorBundle {
    /// From a bundle's tlog entry (which must carry a SET).
    pub fn from_entry(entry: &wire::TransparencyLogEntry) -> Option<RekorBundle> {
        let set = entry.inclusion_promise.as_ref()?;
        Some(RekorBundle {
            signed_entry_timestamp: crate::encoding::b64_encode(
                set.signed_entry_timestamp.as_slice(),
            ),
            payload: RekorPayload {
                body: crate::encoding::b64_encode(entry.canonicalized_body.as_slice()),
                integrated_time: entry.integrated_time,
                log_index: entry.log_index,
                log_id: crate::encoding::hex_encode(entry.log_id.key_id.as_slice()),
            },
        })
    }

    /// Back into a tlog entry (kind and version read from the body) for the verifier.
    pub fn to_entry(&self) -> Result<wire::TransparencyLogEntry, String> {
        let body = crate::encoding::b64_decode(&self.payload.body)
            .ok_or("Rekor bundle body is not base64")?;
        #[derive(Deserialize)]
        struct KindOnly {
            kind: String,
            #[serde(rename = "apiVersion")]
            api_version: String,
        }
        let kind: KindOnly = serde_json::from_slice(&body)
            .map_err(|e| format!("Rekor bundle body is not an entry: {e}"))?;
        let log_id = crate::encoding::hex_decode(&self.payload.log_id)
            .ok_or("Rekor bundle logID is not hex")?;
        let set = crate::encoding::b64_decode(&self.signed_entry_timestamp)
            .ok_or("Rekor bundle SignedEntryTimestamp is not base64")?;
        Ok(wire::TransparencyLogEntry {
            log_index: self.payload.log_index,
            log_id: wire::LogId { key_id: log_id.into() },
            kind_version: wire::KindVersion { kind: kind.kind, version: kind.api_version },
            integrated_time: self.payload.integrated_time,
            inclusion_promise: Some(wire::InclusionPromise { signed_entry_timestamp: set.into() }),
            inclusion_proof: None,
            canonicalized_body: body.into(),
        })
    }
}

/// One signature layer to add: its blob and annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// [`SIMPLE_SIGNING`] or [`DSSE_ENVELOPE`].
    pub media_type: String,
    /// The blob.
    pub blob: Vec<u8>,
    /// cosign's annotations.
    pub annotations: BTreeMap<String, String>,
}

impl Layer {
    /// Its descriptor.
    pub fn descriptor(&self) -> Descriptor {
        let mut d = Descriptor::of(&self.media_type, &self.blob);
        d.annotations = self.annotations.clone();
        d
    }
}

/// The config blob and manifest of a signature image holding `layers`: `existing` layers
/// first (an identical layer is not added twice).
pub fn signature_manifest(existing: Option<&Manifest>, new: &[Descriptor]) -> (Vec<u8>, Manifest) {
    let mut layers = existing.map(|m| m.layers.clone()).unwrap_or_default();
    for d in new {
        if !layers.iter().any(|l| l.digest == d.digest && l.annotations == d.annotations) {
            layers.push(d.clone());
        }
    }
    let config = serde_json::json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": layers.iter().map(|_| serde_json::json!({"created": "0001-01-01T00:00:00Z"})).collect::<Vec<_>>(),
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.digest.clone()).collect::<Vec<_>>()},
        "config": {},
    });
    let config = serde_json::to_vec(&config).unwrap_or_default();
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(manifest::OCI_MANIFEST.into()),
        artifact_type: None,
        config: Descriptor::of(manifest::OCI_CONFIG, &config),
        layers,
        subject: None,
        annotations: BTreeMap::new(),
    };
    (config, manifest)
}

/// The OCI 1.1 artifact manifest for one v0.3 bundle blob about `subject`.
pub fn referrer_manifest(
    subject: Descriptor,
    bundle: &[u8],
    content: &str,
    predicate_type: &str,
    created: &str,
) -> Manifest {
    let artifact_type = wire::MEDIA_TYPE_V03.to_string();
    let mut config = Descriptor::of(manifest::OCI_EMPTY, b"{}");
    config.artifact_type = Some(artifact_type.clone());
    let mut subject = subject;
    subject.annotations.clear();
    subject.platform = None;
    subject.artifact_type = None;
    Manifest {
        schema_version: 2,
        media_type: Some(manifest::OCI_MANIFEST.into()),
        artifact_type: Some(artifact_type),
        config,
        layers: vec![Descriptor::of(wire::MEDIA_TYPE_V03, bundle)],
        subject: Some(subject),
        annotations: BTreeMap::from([
            (ANN_BUNDLE_CONTENT.to_string(), content.to_string()),
            (ANN_BUNDLE_PREDICATE.to_string(), predicate_type.to_string()),
            ("org.opencontainers.image.created".to_string(), created.to_string()),
        ]),
    }
}

/// The fallback index with `entry` added (kept once).
pub fn fallback_index(existing: Option<Index>, entry: Descriptor) -> Index {
    let mut index = existing.unwrap_or_else(Index::empty);
    if !index.manifests.iter().any(|m| m.digest == entry.digest) {
        index.manifests.push(entry);
    }
    index
}

/// True for referrer entries that hold Sigstore bundles.
pub fn is_bundle_referrer(descriptor: &Descriptor) -> bool {
    descriptor
        .artifact_type
        .as_deref()
        .is_some_and(|t| t.starts_with("application/vnd.dev.sigstore.bundle"))
}

/// Parses manifest bytes, naming `what` on failure.
pub fn parse_manifest(bytes: &[u8], what: &str) -> Result<Manifest, Error> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::Manifest { what: what.to_string(), detail: e.to_string() })
}

/// Encodes a manifest or index.
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn payload_bytes_match_cosign() {
        let p = simple_signing_payload("r.example/app", D, &BTreeMap::new());
        assert_eq!(
            String::from_utf8(p).unwrap(),
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"r.example/app"}},"image":{{"docker-manifest-digest":"{D}"}},"type":"cosign container image signature"}},"optional":null}}"#
            )
        );
        let a = BTreeMap::from([("b".to_string(), "2".to_string()), ("a".into(), "1".into())]);
        let p = simple_signing_payload("r", D, &a);
        assert!(String::from_utf8(p.clone())
            .unwrap()
            .ends_with(r#""optional":{"a":"1","b":"2"}}"#));
        assert_eq!(SimpleSigning::parse(&p).unwrap().critical.image.digest, D);
    }

    #[test]
    fn tags_and_appending_keep_old_layers() {
        assert_eq!(legacy_tag(D, Kind::Signature), format!("sha256-{}.sig", &D[7..]));
        assert_eq!(legacy_tag(D, Kind::Attestation), format!("sha256-{}.att", &D[7..]));
        let one = Descriptor::of(SIMPLE_SIGNING, b"one");
        let two = Descriptor::of(SIMPLE_SIGNING, b"two");
        let (_, first) = signature_manifest(None, std::slice::from_ref(&one));
        let (config, second) = signature_manifest(Some(&first), &[one.clone(), two.clone()]);
        assert_eq!(second.layers, vec![one, two]);
        let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
        assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn rekor_bundle_round_trips_through_a_tlog_entry() {
        let body = br#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}"#;
        let entry = wire::TransparencyLogEntry {
            log_index: 7,
            log_id: wire::LogId { key_id: vec![0xab; 32].into() },
            kind_version: wire::KindVersion {
                kind: "hashedrekord".into(),
                version: "0.0.1".into(),
            },
            integrated_time: 1_700_000_000,
            inclusion_promise: Some(wire::InclusionPromise {
                signed_entry_timestamp: vec![1, 2, 3].into(),
            }),
            inclusion_proof: None,
            canonicalized_body: body.to_vec().into(),
        };
        let rb = RekorBundle::from_entry(&entry).unwrap();
        assert_eq!(rb.payload.log_id, "ab".repeat(32));
        assert_eq!(rb.to_entry().unwrap(), entry);
        let json = serde_json::to_string(&rb).unwrap();
        assert!(json.starts_with(r#"{"SignedEntryTimestamp":"#), "{json}");
    }
}
