//! The checked bundle: a [`wire::Bundle`] whose shape has been validated once, per version
//! (PROTOCOLS §9 step 1). Verification takes only [`Checked`].
//!
//! What is checked here: media type (all four accepted spellings), exactly one key/cert
//! member and one content member, exactly one DSSE signature, known tlog kinds, the shape of
//! tlog entries for the bundle's version, 32-byte hashes, non-negative integers, and that
//! the leaf certificate parses. Nothing cryptographic is checked here.

use crate::bundle::wire;
use crate::crypto::{Digest, HashAlgorithm};
use crate::x509::Certificate;

/// Result alias for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a bundle is malformed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not bundle JSON.
    #[error("bundle is not valid bundle JSON")]
    Json(#[source] serde_json::Error),
    /// The media type is none of the four known strings.
    #[error("unsupported bundle media type {0:?}")]
    MediaType(String),
    /// `verificationMaterial` is missing.
    #[error("bundle has no verificationMaterial")]
    MissingVerificationMaterial,
    /// Not exactly one of publicKey / x509CertificateChain / certificate.
    #[error("bundle verificationMaterial has {0} key or certificate members, want exactly 1")]
    KeyMaterialCount(usize),
    /// A v0.3 bundle used `x509CertificateChain`.
    #[error("bundle v0.3 must carry a certificate, not x509CertificateChain")]
    ChainInV03,
    /// The certificate chain is empty.
    #[error("bundle x509CertificateChain is empty")]
    EmptyCertificateChain,
    /// The leaf certificate does not parse.
    #[error("bundle leaf certificate is malformed")]
    Certificate(#[source] crate::x509::Error),
    /// Not exactly one of messageSignature / dsseEnvelope.
    #[error("bundle has {0} content members (messageSignature, dsseEnvelope), want exactly 1")]
    ContentCount(usize),
    /// The DSSE envelope does not have exactly one signature.
    #[error("bundle dsseEnvelope has {0} signatures, want exactly 1")]
    DsseSignatureCount(usize),
    /// The signature is empty.
    #[error("bundle signature is empty")]
    EmptySignature,
    /// messageDigest names an unsupported algorithm.
    #[error("bundle messageDigest algorithm {0:?} is not supported")]
    DigestAlgorithm(String),
    /// messageDigest has the wrong length for its algorithm.
    #[error("bundle messageDigest has {got} bytes, {algorithm:?} needs {want}")]
    DigestLength {
        /// The algorithm named.
        algorithm: HashAlgorithm,
        /// Bytes given.
        got: usize,
        /// Bytes needed.
        want: usize,
    },
    /// Too many tlog entries or timestamps to be a real bundle.
    #[error("bundle has {got} {what}, at most {max} allowed")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// How many were given.
        got: usize,
        /// The cap.
        max: usize,
    },
    /// A tlog entry kind/version sigbox does not know.
    #[error("tlog entry {entry}: unsupported kind {kind:?} version {version:?}")]
    UnknownKind {
        /// Entry position.
        entry: usize,
        /// The kind.
        kind: String,
        /// The version.
        version: String,
    },
    /// A required tlog entry field is missing.
    #[error("tlog entry {entry}: {field} is missing")]
    MissingField {
        /// Entry position.
        entry: usize,
        /// The proto field name.
        field: &'static str,
    },
    /// A tlog entry integer is negative.
    #[error("tlog entry {entry}: {field} is negative")]
    Negative {
        /// Entry position.
        entry: usize,
        /// The proto field name.
        field: &'static str,
    },
    /// A hash in the inclusion proof is not 32 bytes.
    #[error("tlog entry {entry}: {field} has {got} bytes, want 32")]
    HashLength {
        /// Entry position.
        entry: usize,
        /// The proto field name.
        field: &'static str,
        /// Bytes given.
        got: usize,
    },
}

/// Bundle format version, from the media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BundleVersion {
    /// v0.1: SET required, inclusion proof optional.
    V01,
    /// v0.2: checkpointed inclusion proof required.
    V02,
    /// v0.3: like v0.2, single leaf `certificate`.
    V03,
}

/// Who signed: a self-managed key (named only by an untrusted hint) or a certificate.
#[derive(Debug, Clone)]
pub enum KeyMaterial {
    /// `publicKey.hint`; the caller supplies the key.
    PublicKey {
        /// The hint, unauthenticated.
        hint: String,
    },
    /// The leaf certificate (bundle certificates after the leaf are dropped, never trusted).
    Certificate(Box<Certificate>),
}

/// What was signed.
#[derive(Debug, Clone)]
pub enum Content {
    /// A signature over an artifact (hashedrekord).
    MessageSignature {
        /// The claimed artifact digest, if the bundle carries one.
        digest: Option<Digest>,
        /// The DER signature.
        signature: Vec<u8>,
    },
    /// A DSSE envelope with its one signature.
    Dsse {
        /// The payload type.
        payload_type: String,
        /// The raw payload bytes.
        payload: Vec<u8>,
        /// The one signature.
        signature: Vec<u8>,
        /// The signature's key ID (may be empty).
        keyid: String,
    },
}

/// A tlog entry whose shape fits the bundle version.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// Global log index (used in the SET).
    pub log_index: u64,
    /// `logId.keyId`.
    pub log_id: Vec<u8>,
    /// Entry kind (`hashedrekord`, `dsse`, `intoto`).
    pub kind: String,
    /// Kind version.
    pub version: String,
    /// `integratedTime`, 0 when absent. Untrusted until the SET verifies.
    pub integrated_time: u64,
    /// The SET, if present.
    pub inclusion_promise: Option<Vec<u8>>,
    /// The inclusion proof, if present (with a checkpoint from v0.2 on).
    pub inclusion_proof: Option<Proof>,
    /// The exact leaf bytes.
    pub canonicalized_body: Vec<u8>,
}

/// A checkpointed inclusion proof.
#[derive(Debug, Clone)]
pub struct Proof {
    /// Leaf index in the shard tree.
    pub log_index: u64,
    /// Tree size.
    pub tree_size: u64,
    /// Root hash.
    pub root_hash: [u8; 32],
    /// Audit path, leaf to root.
    pub hashes: Vec<[u8; 32]>,
    /// The signed checkpoint note (always present in a [`Checked`] bundle).
    pub checkpoint: String,
}

/// A bundle whose shape is valid for its version. Made only by `TryFrom<wire::Bundle>`.
#[derive(Debug, Clone)]
pub struct Checked {
    version: BundleVersion,
    key: KeyMaterial,
    content: Content,
    tlog_entries: Vec<LogEntry>,
    timestamps: Vec<Vec<u8>>,
}

impl Checked {
    /// A key bundle holding nothing but a bare signature (cosign's pre-bundle form:
    /// `verify-blob --key K --signature S FILE`), so the one verifier checks it too.
    ///
    /// Errors: as [`Checked::try_from`] (an empty signature).
    pub fn from_detached_signature(signature: Vec<u8>) -> Result<Self> {
        Checked::try_from(wire::Bundle {
            media_type: wire::MEDIA_TYPE_V03.into(),
            verification_material: Some(wire::VerificationMaterial {
                public_key: Some(wire::PublicKeyIdentifier { hint: String::new() }),
                ..Default::default()
            }),
            message_signature: Some(wire::MessageSignature {
                message_digest: None,
                signature: wire::Base64Bytes(signature),
            }),
            dsse_envelope: None,
        })
    }

    /// Parses and checks bundle JSON in one step.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let bundle = wire::Bundle::from_json(bytes).map_err(Error::Json)?;
        Checked::try_from(bundle)
    }

    /// The bundle version.
    pub fn version(&self) -> BundleVersion {
        self.version
    }

    /// The key hint or leaf certificate.
    pub fn key(&self) -> &KeyMaterial {
        &self.key
    }

    /// The leaf certificate, if the bundle is keyless.
    pub fn certificate(&self) -> Option<&Certificate> {
        match &self.key {
            KeyMaterial::Certificate(cert) => Some(cert),
            KeyMaterial::PublicKey { .. } => None,
        }
    }

    /// The signed content.
    pub fn content(&self) -> &Content {
        &self.content
    }

    /// The signature bytes (message signature or the one DSSE signature).
    pub fn signature(&self) -> &[u8] {
        match &self.content {
            Content::MessageSignature { signature, .. } | Content::Dsse { signature, .. } => {
                signature
            }
        }
    }

    /// The tlog entries (shape-checked).
    pub fn tlog_entries(&self) -> &[LogEntry] {
        &self.tlog_entries
    }

    /// The DER `TimeStampResp`s of `timestampVerificationData`.
    pub fn timestamps(&self) -> &[Vec<u8>] {
        &self.timestamps
    }
}

impl TryFrom<wire::Bundle> for Checked {
    type Error = Error;

    fn try_from(bundle: wire::Bundle) -> Result<Self> {
        let version = match bundle.media_type.as_str() {
            wire::MEDIA_TYPE_V01 => BundleVersion::V01,
            wire::MEDIA_TYPE_V02 => BundleVersion::V02,
            wire::MEDIA_TYPE_V03 | wire::MEDIA_TYPE_V03_ALT => BundleVersion::V03,
            other => return Err(Error::MediaType(other.to_string())),
        };
        let material = bundle.verification_material.ok_or(Error::MissingVerificationMaterial)?;
        let key = check_key(version, &material)?;
        let content = check_content(bundle.message_signature, bundle.dsse_envelope)?;
        if material.tlog_entries.len() > MAX_ENTRIES {
            return Err(Error::TooMany {
                what: "tlog entries",
                got: material.tlog_entries.len(),
                max: MAX_ENTRIES,
            });
        }
        let tlog_entries = material
            .tlog_entries
            .into_iter()
            .enumerate()
            .map(|(i, entry)| check_entry(version, i, entry))
            .collect::<Result<Vec<_>>>()?;
        let timestamps: Vec<Vec<u8>> = material
            .timestamp_verification_data
            .map(|data| data.rfc3161_timestamps.into_iter().map(|t| t.signed_timestamp.0))
            .into_iter()
            .flatten()
            .collect();
        if timestamps.len() > MAX_TIMESTAMPS {
            return Err(Error::TooMany {
                what: "timestamps",
                got: timestamps.len(),
                max: MAX_TIMESTAMPS,
            });
        }
        Ok(Checked { version, key, content, tlog_entries, timestamps })
    }
}

fn check_key(version: BundleVersion, material: &wire::VerificationMaterial) -> Result<KeyMaterial> {
    let count = usize::from(material.public_key.is_some())
        + usize::from(material.x509_certificate_chain.is_some())
        + usize::from(material.certificate.is_some());
    if count != 1 {
        return Err(Error::KeyMaterialCount(count));
    }
    if let Some(key) = &material.public_key {
        return Ok(KeyMaterial::PublicKey { hint: key.hint.clone() });
    }
    let leaf_der = if let Some(cert) = &material.certificate {
        &cert.raw_bytes
    } else if let Some(chain) = &material.x509_certificate_chain {
        if version == BundleVersion::V03 {
            return Err(Error::ChainInV03);
        }
        // Certificates after the leaf are untrusted and dropped here (PROTOCOLS §1.3).
        &chain.certificates.first().ok_or(Error::EmptyCertificateChain)?.raw_bytes
    } else {
        return Err(Error::KeyMaterialCount(0));
    };
    let cert = Certificate::from_der(leaf_der).map_err(Error::Certificate)?;
    Ok(KeyMaterial::Certificate(Box::new(cert)))
}

fn check_content(
    message: Option<wire::MessageSignature>,
    dsse: Option<wire::DsseEnvelope>,
) -> Result<Content> {
    match (message, dsse) {
        (Some(message), None) => {
            if message.signature.is_empty() {
                return Err(Error::EmptySignature);
            }
            let digest = match message.message_digest {
                None => None,
                Some(output) => {
                    let algorithm = HashAlgorithm::from_name(&output.algorithm)
                        .ok_or_else(|| Error::DigestAlgorithm(output.algorithm.clone()))?;
                    let got = output.digest.len();
                    Some(Digest::from_bytes(algorithm, output.digest.0).ok_or(
                        Error::DigestLength { algorithm, got, want: algorithm.output_len() },
                    )?)
                }
            };
            Ok(Content::MessageSignature { digest, signature: message.signature.0 })
        }
        (None, Some(envelope)) => {
            let [signature] = <[wire::DsseSignature; 1]>::try_from(envelope.signatures)
                .map_err(|sigs| Error::DsseSignatureCount(sigs.len()))?;
            if signature.sig.is_empty() {
                return Err(Error::EmptySignature);
            }
            Ok(Content::Dsse {
                payload_type: envelope.payload_type,
                payload: envelope.payload.0,
                signature: signature.sig.0,
                keyid: signature.keyid,
            })
        }
        (message, dsse) => {
            Err(Error::ContentCount(usize::from(message.is_some()) + usize::from(dsse.is_some())))
        }
    }
}

fn check_entry(
    version: BundleVersion,
    i: usize,
    entry: wire::TransparencyLogEntry,
) -> Result<LogEntry> {
    let kind = entry.kind_version.kind;
    let kind_version = entry.kind_version.version;
    let known = matches!(
        (kind.as_str(), kind_version.as_str()),
        ("hashedrekord", "0.0.1" | "0.0.2") | ("dsse", "0.0.1") | ("intoto", "0.0.2")
    );
    if !known {
        return Err(Error::UnknownKind { entry: i, kind, version: kind_version });
    }
    if entry.log_id.key_id.is_empty() {
        return Err(Error::MissingField { entry: i, field: "logId" });
    }
    if entry.canonicalized_body.is_empty() {
        return Err(Error::MissingField { entry: i, field: "canonicalizedBody" });
    }
    let log_index = non_negative(i, "logIndex", entry.log_index)?;
    let integrated_time = non_negative(i, "integratedTime", entry.integrated_time)?;
    let inclusion_promise =
        entry.inclusion_promise.map(|p| p.signed_entry_timestamp.0).filter(|set| !set.is_empty());
    let inclusion_proof = match entry.inclusion_proof {
        None => None,
        // v0.1: a proof without a checkpoint is ignored (PROTOCOLS §9 step 1).
        Some(proof) if proof.checkpoint.as_ref().map_or(true, |c| c.envelope.is_empty()) => {
            if version == BundleVersion::V01 {
                None
            } else {
                return Err(Error::MissingField { entry: i, field: "inclusionProof.checkpoint" });
            }
        }
        Some(proof) => Some(check_proof(i, proof)?),
    };
    if version == BundleVersion::V01 && inclusion_promise.is_none() {
        return Err(Error::MissingField { entry: i, field: "inclusionPromise" });
    }
    if version != BundleVersion::V01 && inclusion_proof.is_none() {
        return Err(Error::MissingField { entry: i, field: "inclusionProof" });
    }
    Ok(LogEntry {
        log_index,
        log_id: entry.log_id.key_id.0,
        kind,
        version: kind_version,
        integrated_time,
        inclusion_promise,
        inclusion_proof,
        canonicalized_body: entry.canonicalized_body.0,
    })
}

fn check_proof(i: usize, proof: wire::InclusionProof) -> Result<Proof> {
    let root_hash = hash32(i, "inclusionProof.rootHash", &proof.root_hash)?;
    let hashes = proof
        .hashes
        .iter()
        .map(|h| hash32(i, "inclusionProof.hashes", h))
        .collect::<Result<Vec<_>>>()?;
    Ok(Proof {
        log_index: non_negative(i, "inclusionProof.logIndex", proof.log_index)?,
        tree_size: non_negative(i, "inclusionProof.treeSize", proof.tree_size)?,
        root_hash,
        hashes,
        checkpoint: proof.checkpoint.map(|c| c.envelope).unwrap_or_default(),
    })
}

fn non_negative(entry: usize, field: &'static str, value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| Error::Negative { entry, field })
}

fn hash32(entry: usize, field: &'static str, bytes: &[u8]) -> Result<[u8; 32]> {
    <[u8; 32]>::try_from(bytes).map_err(|_| Error::HashLength { entry, field, got: bytes.len() })
}

/// Real bundles carry one entry; a cap keeps hostile input from costing much.
const MAX_ENTRIES: usize = 32;
/// sigstore-python's cap on timestamps per bundle (PROTOCOLS §8.2).
const MAX_TIMESTAMPS: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(name: &str) -> serde_json::Value {
        let path = format!("{}/fixtures/bundle/valid/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    fn check(value: &serde_json::Value) -> Result<Checked> {
        Checked::from_json(value.to_string().as_bytes())
    }

    #[test]
    fn every_valid_vector_has_a_valid_shape() {
        for name in [
            "bundle-publish.json",
            "bundleV01-full-cert-chain.sigstore",
            "bundleV03-dsse.sigstore",
            "bundleV03-intoto.sigstore",
            "bundle_v3_github.whl.sigstore",
            "bundle_v3_no_signed_time.txt.sigstore.json",
            "sigstore.js@2.0.0-provenance.sigstore.json",
        ] {
            let checked = check(&vector(name));
            assert!(checked.is_ok(), "{name}: {:?}", checked.err());
        }
    }

    #[test]
    fn all_four_media_types_are_accepted_and_others_rejected() {
        let mut b = vector("bundleV03-dsse.sigstore");
        for (media, version) in [
            (wire::MEDIA_TYPE_V03, BundleVersion::V03),
            (wire::MEDIA_TYPE_V03_ALT, BundleVersion::V03),
        ] {
            b["mediaType"] = media.into();
            assert_eq!(check(&b).unwrap().version(), version);
        }
        let mut chain = vector("bundle_v3_github.whl.sigstore");
        for (media, version) in
            [(wire::MEDIA_TYPE_V01, BundleVersion::V01), (wire::MEDIA_TYPE_V02, BundleVersion::V02)]
        {
            chain["mediaType"] = media.into();
            assert_eq!(check(&chain).unwrap().version(), version);
        }
        b["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.4".into();
        assert!(matches!(check(&b), Err(Error::MediaType(_))));
    }

    #[test]
    fn two_content_members_are_rejected() {
        let mut b = vector("bundleV03-dsse.sigstore");
        b["messageSignature"] = serde_json::json!({"signature": "AQ=="});
        assert!(matches!(check(&b), Err(Error::ContentCount(2))));
        let mut none = vector("bundleV03-dsse.sigstore");
        none.as_object_mut().unwrap().remove("dsseEnvelope");
        assert!(matches!(check(&none), Err(Error::ContentCount(0))));
    }

    #[test]
    fn second_dsse_signature_is_rejected() {
        let mut b = vector("bundleV03-dsse.sigstore");
        let sig = b["dsseEnvelope"]["signatures"][0].clone();
        b["dsseEnvelope"]["signatures"] = serde_json::json!([sig.clone(), sig]);
        assert!(matches!(check(&b), Err(Error::DsseSignatureCount(2))));
    }

    #[test]
    fn v03_with_certificate_chain_is_rejected() {
        let mut b = vector("bundle_v3_github.whl.sigstore");
        b["mediaType"] = wire::MEDIA_TYPE_V03.into();
        assert!(matches!(check(&b), Err(Error::ChainInV03)));
    }

    #[test]
    fn v02_without_checkpoint_is_rejected_but_v01_ignores_it() {
        let mut b = vector("bundle_v3_github.whl.sigstore");
        b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
            .as_object_mut()
            .unwrap()
            .remove("checkpoint");
        assert!(matches!(
            check(&b),
            Err(Error::MissingField { field: "inclusionProof.checkpoint", .. })
        ));
        b["mediaType"] = wire::MEDIA_TYPE_V01.into();
        let checked = check(&b).unwrap();
        assert!(checked.tlog_entries().first().unwrap().inclusion_proof.is_none());
    }

    #[test]
    fn v01_without_set_is_rejected() {
        let mut b = vector("bundleV01-full-cert-chain.sigstore");
        b["verificationMaterial"]["tlogEntries"][0]
            .as_object_mut()
            .unwrap()
            .remove("inclusionPromise");
        assert!(matches!(check(&b), Err(Error::MissingField { field: "inclusionPromise", .. })));
    }

    #[test]
    fn unknown_kind_and_short_root_hash_are_rejected() {
        let mut b = vector("bundle_v3_github.whl.sigstore");
        b["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"] = "rekord".into();
        assert!(matches!(check(&b), Err(Error::UnknownKind { .. })));
        let mut short = vector("bundle_v3_github.whl.sigstore");
        short["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["rootHash"] =
            "AAEC".into();
        assert!(matches!(check(&short), Err(Error::HashLength { got: 3, .. })));
    }

    #[test]
    fn client_quirks_are_accepted() {
        // INTEROP.md: missing logIndex/hashes, empty rfc3161Timestamps, DSSE without keyid.
        let mut b = vector("bundleV03-dsse.sigstore");
        let entry = &mut b["verificationMaterial"]["tlogEntries"][0];
        entry.as_object_mut().unwrap().remove("logIndex");
        entry["inclusionProof"]["hashes"] = serde_json::Value::Null;
        b["verificationMaterial"]["timestampVerificationData"] =
            serde_json::json!({"rfc3161Timestamps": []});
        b["dsseEnvelope"]["signatures"][0].as_object_mut().unwrap().remove("keyid");
        let checked = check(&b).unwrap();
        assert_eq!(checked.tlog_entries().first().unwrap().log_index, 0);
        assert!(checked.timestamps().is_empty());
    }

    #[test]
    fn negative_log_index_is_rejected() {
        let mut b = vector("bundleV03-dsse.sigstore");
        b["verificationMaterial"]["tlogEntries"][0]["logIndex"] = "-1".into();
        assert!(matches!(check(&b), Err(Error::Negative { field: "logIndex", .. })));
    }

    #[test]
    fn wire_round_trip_keeps_every_vector_equal() {
        for name in
            ["bundle_v3_github.whl.sigstore", "bundleV03-dsse.sigstore", "bundle-publish.json"]
        {
            let text = vector(name).to_string();
            let parsed = wire::Bundle::from_json(text.as_bytes()).unwrap();
            let again = wire::Bundle::from_json(parsed.to_json().unwrap().as_bytes()).unwrap();
            assert_eq!(parsed, again, "{name}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]

        #[test]
        fn random_bytes_never_panic_the_bundle_parser(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            crate::bundle::fuzz_parse(&data);
        }

        #[test]
        fn mutated_vector_never_panics_the_bundle_parser(at in 0usize..6000, byte in proptest::prelude::any::<u8>()) {
            let path = format!("{}/fixtures/bundle/valid/bundleV03-dsse.sigstore", env!("CARGO_MANIFEST_DIR"));
            let mut data = std::fs::read(path).unwrap();
            let i = at % data.len();
            data[i] = byte;
            crate::bundle::fuzz_parse(&data);
        }
    }
}
