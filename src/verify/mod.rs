//! L3 offline verification: checked bundle + trusted root + policy + artifact → [`Verdict`]
//! (PROTOCOLS §9, §8.3).
//!
//! [`verify`] runs the checks in this order, stopping at the first failure, which the
//! [`Error`] variant names: (1) the signature over the artifact or DSSE PAE, the bundle's
//! `messageDigest` and the in-toto subject; (2) the tlog entry: trusted log, SET, inclusion
//! proof, checkpoint, body versus bundle; (3) verified times (SET-backed integratedTime,
//! RFC 3161 timestamps; never a bare integratedTime); (4) for certificates: each verified
//! time inside the leaf validity, the chain to a trusted-root CA valid at that time, the
//! embedded SCTs, and the identity policy. Key-signed bundles skip (4).
//!
//! Nothing here does I/O or reads the clock: the artifact, the root and `now` are inputs.

mod body;
mod error;
#[cfg(test)]
mod negative_tests;
#[cfg(test)]
mod tests;
mod tlog_entry;

use serde::Serialize;

pub use error::{Error, Result};

use crate::bundle::{pae, BundleVersion, Checked, Content, KeyMaterial, Statement};
use crate::crypto::{digest, Digest, HashAlgorithm, KeyKind, PublicKey, SignatureScheme};
use crate::policy::{Policy, VerifiedIdentity};
use crate::trust::TrustedRoot;
use crate::x509::{self, CtLog, VerifiedChain};

/// What was signed, as the caller has it.
#[derive(Debug, Clone)]
pub enum Artifact<'a> {
    /// The artifact bytes (verified with a one-pass signature check).
    Bytes(&'a [u8]),
    /// Only its digest (`sha256:<hex>` inputs, streamed large files).
    Digest(Digest),
    /// No artifact: allowed only for DSSE bundles, whose payload is checked by itself.
    Omitted,
}

/// Verification settings other than the policy.
#[derive(Debug, Clone)]
pub struct Options {
    /// The current time (Unix seconds), recorded in the verdict.
    pub now: i64,
    /// The public key for key-signed bundles (`--key`). For a certificate bundle it must
    /// be the certificate's key.
    pub key: Option<PublicKey>,
    /// Required in-toto predicate type (`--type`), DSSE bundles only.
    pub predicate_type: Option<String>,
    /// How many verified times are needed (default 1).
    pub time_threshold: usize,
    /// Danger: skip the transparency log and time checks for key-signed bundles
    /// (`cosign verify-blob --key … --insecure-ignore-tlog`). Ignored for certificate
    /// bundles, whose validity needs a verified time.
    pub insecure_ignore_tlog: bool,
}

impl Options {
    /// Default settings at time `now`.
    pub fn new(now: i64) -> Self {
        Options {
            now,
            key: None,
            predicate_type: None,
            time_threshold: 1,
            insecure_ignore_tlog: false,
        }
    }
}

/// The outcome of a successful verification. Only [`verify`] makes one (the type is
/// `non_exhaustive`, so no other crate can build one).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Verdict {
    /// Bundle format version (`0.1`, `0.2`, `0.3`).
    pub bundle_version: &'static str,
    /// Who signed.
    pub signer: SignerInfo,
    /// `message_signature` or `dsse`.
    pub content: &'static str,
    /// The DSSE payload type, for DSSE bundles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_type: Option<String>,
    /// The in-toto predicate type, when the payload is a statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// `alg:hex` of the artifact, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_digest: Option<String>,
    /// The verified signing times.
    pub verified_times: Vec<VerifiedTime>,
    /// The transparency log entry, if it was checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tlog: Option<TlogInfo>,
    /// How many embedded SCTs verified (0 for key-signed bundles).
    pub verified_scts: usize,
    /// `now` as given.
    pub verified_at: i64,
    /// The verified certificate identity (SANs, issuer, Fulcio extensions), so a caller
    /// can apply further identity rules without verifying again (`humbly` signer lists).
    #[serde(skip)]
    pub identity: Option<VerifiedIdentity>,
}

/// Who signed a verified bundle.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignerInfo {
    /// A Fulcio-style certificate.
    Certificate {
        /// The SAN that matched the policy (or the first SAN).
        identity: Option<String>,
        /// The OIDC issuer extension.
        issuer: Option<String>,
        /// Serial number, hex.
        serial: String,
    },
    /// A self-managed key.
    Key {
        /// SHA-256 of the SPKI, hex.
        key_id: String,
    },
}

/// A signing time and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct VerifiedTime {
    /// `tlog` (a verified SET) or `timestamp` (a verified RFC 3161 timestamp).
    pub source: &'static str,
    /// The timestamp authority URI, for `timestamp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// Unix seconds.
    pub time: i64,
}

/// The verified tlog entry.
#[derive(Debug, Clone, Serialize)]
pub struct TlogInfo {
    /// The log's base URL.
    pub log_url: String,
    /// The global log index.
    pub log_index: u64,
    /// The integrated time, when backed by a verified SET.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrated_time: Option<i64>,
    /// Whether an inclusion proof and its checkpoint were verified (v0.1 may lack one).
    pub inclusion_proof: bool,
}

/// Verifies `bundle` (PROTOCOLS §9). See the module docs for the order of checks.
///
/// `policy` applies to certificate bundles only; pass [`Policy::any`] to accept any
/// identity that chains to the trusted root.
pub fn verify(
    bundle: &Checked,
    artifact: &Artifact<'_>,
    root: &TrustedRoot,
    policy: &Policy,
    options: &Options,
) -> Result<Verdict> {
    // Who signed: the certificate's key, or the key the caller supplies.
    let certificate = bundle.certificate();
    let key = match (bundle.key(), &options.key) {
        (KeyMaterial::Certificate(cert), Some(given)) => {
            if given != cert.public_key() {
                return Err(Error::KeyMismatch);
            }
            cert.public_key()
        }
        (KeyMaterial::Certificate(cert), None) => cert.public_key(),
        (KeyMaterial::PublicKey { .. }, Some(given)) => given,
        (KeyMaterial::PublicKey { hint }, None) => {
            return Err(Error::KeyRequired { hint: hint.clone() })
        }
    };

    // (1) Signature, artifact digest, DSSE subject.
    let signed = verify_content(bundle.content(), artifact, key, options)?;

    // (2) Transparency log entry.
    let skip_tlog = options.insecure_ignore_tlog && certificate.is_none();
    let mut times = Vec::new();
    let mut tlog = None;
    if !skip_tlog {
        let [entry] = bundle.tlog_entries() else {
            return Err(Error::TlogEntryCount { got: bundle.tlog_entries().len() });
        };
        let verified = tlog_entry::verify_entry(entry, root)?;
        body::check_body(
            entry,
            &body::Expected {
                content: bundle.content(),
                artifact_digest: signed.message_digest.as_ref(),
                certificate_der: certificate.map(|c| c.der()),
                key,
            },
        )?;
        if let Some(time) = verified.set_time {
            times.push(VerifiedTime { source: "tlog", authority: None, time });
        }
        tlog = Some(TlogInfo {
            log_url: verified.log.base_url.clone(),
            log_index: entry.log_index,
            integrated_time: verified.set_time,
            inclusion_proof: verified.proof_verified,
        });
    }

    // (3) Verified times: SET-backed integratedTime above, plus RFC 3161 timestamps.
    times.extend(verify_timestamps(bundle, root)?);
    if !skip_tlog && times.len() < options.time_threshold {
        return Err(Error::NoTrustedTime { got: times.len(), want: options.time_threshold });
    }

    // (4) Certificate path, SCTs and identity at every verified time.
    let mut verified_identity = None;
    let (signer, verified_scts) = match certificate {
        None => (SignerInfo::Key { key_id: crate::encoding::hex_encode(key.key_id()) }, 0),
        Some(leaf) => {
            let chain = verify_certificate(leaf, root, &times)?;
            let scts = x509::verify_embedded_scts(leaf, chain.issuer(), &ct_logs(root))
                .map_err(Error::Sct)?;
            let identity = VerifiedIdentity::from_chain(&chain);
            let accepted = policy.check(&identity)?;
            verified_identity = Some(identity);
            let signer = SignerInfo::Certificate {
                identity: accepted.identity,
                issuer: accepted.issuer,
                serial: leaf.serial_hex(),
            };
            (signer, scts)
        }
    };

    Ok(Verdict {
        bundle_version: match bundle.version() {
            BundleVersion::V01 => "0.1",
            BundleVersion::V02 => "0.2",
            BundleVersion::V03 => "0.3",
        },
        signer,
        content: match bundle.content() {
            Content::MessageSignature { .. } => "message_signature",
            Content::Dsse { .. } => "dsse",
        },
        payload_type: signed.payload_type,
        predicate_type: signed.predicate_type,
        artifact_digest: signed
            .artifact_digest
            .map(|d| format!("{}:{}", d.algorithm().rekor_name(), d.to_hex())),
        verified_times: times,
        tlog,
        verified_scts,
        verified_at: options.now,
        identity: verified_identity,
    })
}

/// What step (1) established.
struct SignedContent {
    /// The digest a hashedrekord body must carry (message signatures).
    message_digest: Option<Digest>,
    /// The artifact digest that was matched, for the verdict.
    artifact_digest: Option<Digest>,
    payload_type: Option<String>,
    predicate_type: Option<String>,
}

fn verify_content(
    content: &Content,
    artifact: &Artifact<'_>,
    key: &PublicKey,
    options: &Options,
) -> Result<SignedContent> {
    match content {
        Content::MessageSignature { digest: claimed, signature } => {
            let algorithm = claimed.as_ref().map_or(HashAlgorithm::Sha256, Digest::algorithm);
            let scheme = scheme_for(key, algorithm);
            let computed = match artifact {
                Artifact::Omitted => return Err(Error::ArtifactRequired),
                Artifact::Bytes(bytes) => digest(algorithm, bytes),
                Artifact::Digest(given) => {
                    if given.algorithm() != algorithm {
                        return Err(Error::DigestAlgorithm {
                            got: given.algorithm(),
                            want: algorithm,
                        });
                    }
                    given.clone()
                }
            };
            if let Some(claimed) = claimed {
                if claimed != &computed {
                    return Err(Error::ArtifactMismatch {
                        expected: claimed.to_hex(),
                        got: computed.to_hex(),
                    });
                }
            }
            match (artifact, key.kind()) {
                (Artifact::Bytes(bytes), _) => key.verify(scheme, bytes, signature),
                (_, KeyKind::Ed25519) => return Err(Error::NeedsArtifactBytes),
                _ => key.verify_prehashed(scheme, computed.as_bytes(), signature),
            }
            .map_err(Error::SignatureInvalid)?;
            Ok(SignedContent {
                message_digest: Some(computed.clone()),
                artifact_digest: Some(computed),
                payload_type: None,
                predicate_type: None,
            })
        }
        Content::Dsse { payload_type, payload, signature, .. } => {
            key.verify(key.default_scheme(), &pae(payload_type, payload), signature)
                .map_err(Error::SignatureInvalid)?;
            let statement = if payload_type == crate::bundle::IN_TOTO_PAYLOAD_TYPE {
                Some(Statement::from_json(payload).map_err(Error::DssePayload)?)
            } else {
                None
            };
            let predicate_type = statement.as_ref().map(|s| s.predicate_type.clone());
            if let Some(want) = &options.predicate_type {
                if predicate_type.as_deref() != Some(want.as_str()) {
                    return Err(Error::PredicateType {
                        got: predicate_type.unwrap_or_default(),
                        want: want.clone(),
                    });
                }
            }
            let artifact_digest = match artifact {
                Artifact::Omitted => None,
                _ => Some(match_subject(statement.as_ref(), artifact)?),
            };
            Ok(SignedContent {
                message_digest: None,
                artifact_digest,
                payload_type: Some(payload_type.clone()),
                predicate_type,
            })
        }
    }
}

/// Finds an in-toto subject whose digest is the artifact's.
fn match_subject(statement: Option<&Statement>, artifact: &Artifact<'_>) -> Result<Digest> {
    let fallback = |d: Option<Digest>| Error::DsseSubject {
        digest: d
            .map_or_else(String::new, |d| format!("{}:{}", d.algorithm().rekor_name(), d.to_hex())),
    };
    let Some(statement) = statement else {
        return Err(match artifact {
            Artifact::Digest(d) => fallback(Some(d.clone())),
            Artifact::Bytes(bytes) => fallback(Some(digest(HashAlgorithm::Sha256, bytes))),
            Artifact::Omitted => fallback(None),
        });
    };
    match artifact {
        Artifact::Digest(d) => statement
            .subject_matching(d)
            .map(|_| d.clone())
            .ok_or_else(|| fallback(Some(d.clone()))),
        Artifact::Bytes(bytes) => {
            for algorithm in [HashAlgorithm::Sha256, HashAlgorithm::Sha384, HashAlgorithm::Sha512] {
                let d = digest(algorithm, bytes);
                if statement.subject_matching(&d).is_some() {
                    return Ok(d);
                }
            }
            Err(fallback(Some(digest(HashAlgorithm::Sha256, bytes))))
        }
        Artifact::Omitted => Err(fallback(None)),
    }
}

/// The scheme for a message signature whose digest uses `algorithm` (legacy P-384 +
/// SHA-256 bundles are allowed, PROTOCOLS §5.1).
fn scheme_for(key: &PublicKey, algorithm: HashAlgorithm) -> SignatureScheme {
    SignatureScheme::for_key_and_hash(key.kind(), algorithm)
}

/// Verifies every RFC 3161 timestamp over the signature bytes; at most one per authority.
fn verify_timestamps(bundle: &Checked, root: &TrustedRoot) -> Result<Vec<VerifiedTime>> {
    if bundle.timestamps().is_empty() {
        return Ok(Vec::new());
    }
    let authorities = root.timestamp_authorities_for_x509();
    let mut out: Vec<VerifiedTime> = Vec::new();
    for (index, response) in bundle.timestamps().iter().enumerate() {
        let verified = x509::verify_timestamp(response, bundle.signature(), &authorities)
            .map_err(|source| Error::Timestamp { index, source })?;
        let uri = verified.authority_uri().to_string();
        if out.iter().any(|t| t.authority.as_deref() == Some(uri.as_str())) {
            return Err(Error::DuplicateTimestamp { uri });
        }
        out.push(VerifiedTime {
            source: "timestamp",
            authority: Some(uri),
            time: verified.gen_time(),
        });
    }
    Ok(out)
}

/// For every verified time: inside the leaf validity, and a chain to a CA whose `validFor`
/// contains it. Returns the chain found at the first time.
fn verify_certificate(
    leaf: &x509::Certificate,
    root: &TrustedRoot,
    times: &[VerifiedTime],
) -> Result<VerifiedChain> {
    let mut first = None;
    for t in times {
        let time = t.time;
        if time < leaf.not_before() || time > leaf.not_after() {
            return Err(Error::SigningTimeOutsideCertificate {
                time,
                not_before: leaf.not_before(),
                not_after: leaf.not_after(),
            });
        }
        let mut last_error = None;
        let mut found = None;
        for ca in root.certificate_authorities().iter().filter(|ca| ca.valid_for.contains(time)) {
            match x509::verify_chain(leaf, &ca.chain, time) {
                Ok(chain) => {
                    found = Some(chain);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        match (found, last_error) {
            (Some(chain), _) => {
                first.get_or_insert(chain);
            }
            (None, Some(source)) => return Err(Error::CertificateChain { time, source }),
            (None, None) => return Err(Error::CaNotValid { time }),
        }
    }
    first.ok_or(Error::NoTrustedTime { got: 0, want: 1 })
}

fn ct_logs(root: &TrustedRoot) -> Vec<CtLog> {
    root.ct_logs_for_x509()
}

/// Fuzz entry point: arbitrary bytes as a bundle, verified against the embedded public-good
/// root with no artifact and any identity. Must never panic (it will almost always reject).
#[doc(hidden)]
pub fn fuzz_verify(data: &[u8]) {
    static ROOT: std::sync::OnceLock<Option<TrustedRoot>> = std::sync::OnceLock::new();
    let Some(root) = ROOT.get_or_init(|| TrustedRoot::public_good().ok()) else { return };
    let Ok(bundle) = Checked::from_json(data) else { return };
    for artifact in [Artifact::Omitted, Artifact::Bytes(data)] {
        let _ = verify(&bundle, &artifact, root, &Policy::any(), &Options::new(1_767_225_600));
    }
}
