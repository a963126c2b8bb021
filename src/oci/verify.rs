//! Verifying image signatures: each stored signature (a legacy layer or an OCI 1.1
//! referrer bundle) is turned into a Sigstore bundle and checked by the one verifier,
//! `crate::verify::verify`, offline (the Rekor bundle stored beside the signature carries
//! the SET); then the signed claims must name the image's digest and the required
//! annotations.
//!
//! Fetching (`super::store::candidates`) is kept apart from checking ([`check`]), so signatures read from
//! an on-disk layout (`verify --local-image`) go through the same checks.

use std::collections::BTreeMap;

use super::layout::{self, Kind, RekorBundle, SimpleSigning};
use super::manifest::{Descriptor, Index};
use super::Error as OciError;
use crate::bundle::{wire, Checked, Statement};
use crate::crypto::{Digest, HashAlgorithm};
use crate::policy::Policy;
use crate::trust::TrustedRoot;
use crate::verify::{self, Artifact, Options, Verdict};

/// One stored signature, as fetched.
#[derive(Debug, Clone)]
pub enum Candidate {
    /// A layer of the `.sig`/`.att` image.
    Legacy {
        /// The layer descriptor (annotations included).
        layer: Descriptor,
        /// The layer blob (digest checked).
        blob: Vec<u8>,
    },
    /// An OCI 1.1 referrer holding a v0.3 bundle.
    Referrer {
        /// The referrer manifest digest.
        manifest: String,
        /// The bundle JSON (digest checked).
        bundle: Vec<u8>,
    },
}

impl Candidate {
    /// Where it came from, for messages.
    pub fn source(&self) -> String {
        match self {
            Candidate::Legacy { layer, .. } => format!("layer {}", layer.digest),
            Candidate::Referrer { manifest, .. } => format!("referrer {manifest}"),
        }
    }
}

/// What a verified signature showed.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Where it came from.
    pub source: String,
    /// The signed payload: simple-signing JSON or the in-toto statement.
    pub payload: Vec<u8>,
    /// The DSSE envelope JSON (attestations and referrer bundles).
    pub envelope: Option<Vec<u8>>,
    /// The verifier's verdict.
    pub verdict: Verdict,
    /// The Rekor bundle, for cosign's JSON output.
    pub rekor_bundle: Option<RekorBundle>,
}

/// What signatures must satisfy besides the verifier's checks.
#[derive(Debug)]
pub struct Expectations<'a> {
    /// The trusted root.
    pub root: &'a TrustedRoot,
    /// The identity policy.
    pub policy: &'a Policy,
    /// Key, time, `--insecure-ignore-tlog`, predicate type.
    pub options: &'a Options,
    /// `-a k=v`: required annotations.
    pub annotations: &'a BTreeMap<String, String>,
    /// `--check-claims`: the payload must name the image digest.
    pub check_claims: bool,
}

/// Why no signature of an image verified.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nothing stored for the image.
    #[error("no {what} found for {image}")]
    NoSignatures {
        /// The image.
        image: String,
        /// `signatures` or `attestations`.
        what: &'static str,
    },
    /// Every stored signature failed; each failure names its check.
    #[error("no {what} of {image} verified: {}", failures.iter().map(|(s, r)| format!("{s}: {r}")).collect::<Vec<_>>().join("; "))]
    AllFailed {
        /// The image.
        image: String,
        /// `signatures` or `attestations`.
        what: &'static str,
        /// (source, reason) per signature.
        failures: Vec<(String, String)>,
    },
    /// The image digest is not `sha256:<hex>`.
    #[error("image digest {0:?} is not sha256:<hex>")]
    Digest(String),
    /// Fetching failed.
    #[error(transparent)]
    Registry(#[from] OciError),
}

/// The referrer index entries holding bundles of `kind` (signatures carry cosign's sign
/// predicate; everything else is an attestation).
pub fn referrer_entries(index: Option<&Index>, kind: Kind) -> Vec<&Descriptor> {
    let Some(index) = index else { return Vec::new() };
    index
        .manifests
        .iter()
        .filter(|d| layout::is_bundle_referrer(d))
        .filter(|d| {
            let sign = d.annotations.get(layout::ANN_BUNDLE_PREDICATE).map(String::as_str)
                == Some(layout::SIGN_PREDICATE);
            sign == (kind == Kind::Signature)
        })
        .collect()
}

/// Checks `candidates` for the image `image_digest`; returns those that verify, or an
/// error naming every failed check.
pub fn check(
    image: &str,
    image_digest: &str,
    candidates: &[Candidate],
    kind: Kind,
    expect: &Expectations<'_>,
) -> Result<Vec<Verified>, Error> {
    let what = match kind {
        Kind::Signature => "signatures",
        Kind::Attestation => "attestations",
    };
    if candidates.is_empty() {
        return Err(Error::NoSignatures { image: image.to_string(), what });
    }
    let digest = parse_digest(image_digest)?;
    let mut verified = Vec::new();
    let mut failures = Vec::new();
    for candidate in candidates {
        match check_one(candidate, &digest, image_digest, kind, expect) {
            Ok(v) => verified.push(v),
            Err(reason) => failures.push((candidate.source(), reason)),
        }
    }
    if verified.is_empty() {
        return Err(Error::AllFailed { image: image.to_string(), what, failures });
    }
    Ok(verified)
}

/// `sha256:<hex>` as a digest.
///
/// Errors: [`Error::Digest`].
pub fn parse_digest(text: &str) -> Result<Digest, Error> {
    text.strip_prefix("sha256:")
        .and_then(crate::encoding::hex_decode)
        .and_then(|b| Digest::from_bytes(HashAlgorithm::Sha256, b))
        .ok_or_else(|| Error::Digest(text.to_string()))
}

/// A stored signature as a bundle for the one verifier, with what the claims check needs.
/// `humbly` checks image signatures through this too (its own signer rules on the verdict).
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The bundle to verify.
    pub bundle: Checked,
    /// The signed payload: simple-signing JSON or the in-toto statement.
    pub payload: Vec<u8>,
    /// The DSSE envelope JSON (attestations and referrer bundles).
    pub envelope: Option<Vec<u8>>,
    /// The Rekor bundle, for cosign's JSON output.
    pub rekor_bundle: Option<RekorBundle>,
}

impl Prepared {
    /// What the verifier checks the signature against: a DSSE statement names the image
    /// digest as its subject; a simple-signing signature is over the payload bytes.
    pub fn artifact(&self, image: &Digest) -> Artifact<'_> {
        if self.envelope.is_some() {
            Artifact::Digest(image.clone())
        } else {
            Artifact::Bytes(&self.payload)
        }
    }

    /// The predicate type the verifier must insist on: cosign's sign predicate for a DSSE
    /// signature (so an attestation is never taken for a signature).
    pub fn required_predicate(&self, kind: Kind) -> Option<String> {
        (kind == Kind::Signature && self.envelope.is_some())
            .then(|| layout::SIGN_PREDICATE.to_string())
    }

    /// The claims check (`check_claims`: a simple-signing payload must name `image_digest`;
    /// a signature moved from another image fails here) and the payload's annotations.
    pub fn claims(
        &self,
        image_digest: &str,
        check_claims: bool,
    ) -> Result<serde_json::Map<String, serde_json::Value>, String> {
        if self.envelope.is_some() {
            return Ok(subject_annotations(&self.payload));
        }
        let claims = SimpleSigning::parse(&self.payload)
            .map_err(|e| format!("payload is not a cosign simple-signing payload: {e}"))?;
        if check_claims && claims.critical.image.digest != image_digest {
            return Err(format!(
                "claims check failed: the payload signs {}, not {image_digest} \
                 (a signature moved from another image?)",
                claims.critical.image.digest
            ));
        }
        Ok(claims.optional.unwrap_or_default())
    }
}

/// Turns a stored signature into a bundle (legacy layer or referrer bundle).
///
/// Errors: a message naming what is malformed.
pub fn prepare(candidate: &Candidate, kind: Kind) -> Result<Prepared, String> {
    let (bundle, payload, rekor_bundle) = match candidate {
        Candidate::Legacy { layer, blob } => {
            let (bundle, rekor) = legacy_bundle(layer, blob, kind)?;
            let payload = match &bundle.dsse_envelope {
                Some(env) => env.payload.0.clone(),
                None => blob.clone(),
            };
            (bundle, payload, rekor)
        }
        Candidate::Referrer { bundle, .. } => {
            let parsed = wire::Bundle::from_json(bundle)
                .map_err(|e| format!("referrer bundle is not bundle JSON: {e}"))?;
            let payload = parsed
                .dsse_envelope
                .as_ref()
                .map(|e| e.payload.0.clone())
                .ok_or("referrer bundle holds no DSSE envelope")?;
            let rekor = parsed
                .verification_material
                .as_ref()
                .and_then(|m| m.tlog_entries.first())
                .and_then(RekorBundle::from_entry);
            (parsed, payload, rekor)
        }
    };
    let envelope = bundle.dsse_envelope.as_ref().and_then(|e| serde_json::to_vec(e).ok());
    let bundle = Checked::try_from(bundle)
        .map_err(|e| format!("malformed signature: {}", crate::error_text::chain(&e)))?;
    Ok(Prepared { bundle, payload, envelope, rekor_bundle })
}

fn check_one(
    candidate: &Candidate,
    digest: &Digest,
    image_digest: &str,
    kind: Kind,
    expect: &Expectations<'_>,
) -> Result<Verified, String> {
    let prepared = prepare(candidate, kind)?;
    let mut options = expect.options.clone();
    if let Some(predicate) = prepared.required_predicate(kind) {
        options.predicate_type = Some(predicate);
    }
    let verdict = verify::verify(
        &prepared.bundle,
        &prepared.artifact(digest),
        expect.root,
        expect.policy,
        &options,
    )
    .map_err(|e| format!("{} check failed: {}", e.check(), crate::error_text::chain(&e)))?;
    let annotations = prepared.claims(image_digest, expect.check_claims)?;
    for (key, want) in expect.annotations {
        let got = annotations.get(key).map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        if got.as_deref() != Some(want.as_str()) {
            return Err(format!(
                "annotations check failed: {key}={want} required, signature has {}",
                got.map_or_else(|| "none".to_string(), |g| format!("{key}={g}"))
            ));
        }
    }
    let Prepared { payload, envelope, rekor_bundle, .. } = prepared;
    Ok(Verified { source: candidate.source(), payload, envelope, verdict, rekor_bundle })
}

fn subject_annotations(statement: &[u8]) -> serde_json::Map<String, serde_json::Value> {
    let _ = Statement::from_json(statement);
    serde_json::from_slice::<serde_json::Value>(statement)
        .ok()
        .and_then(|v| v.get("subject")?.get(0)?.get("annotations")?.as_object().cloned())
        .unwrap_or_default()
}

/// A legacy layer as a v0.1 bundle: the signature (or envelope), the certificate, and a
/// tlog entry rebuilt from the Rekor bundle annotation (SET, no inclusion proof).
pub fn legacy_bundle(
    layer: &Descriptor,
    blob: &[u8],
    kind: Kind,
) -> Result<(wire::Bundle, Option<RekorBundle>), String> {
    let annotation = |key: &str| layer.annotations.get(key).filter(|v| !v.is_empty());
    let rekor = match annotation(layout::ANN_BUNDLE) {
        Some(json) => Some(
            serde_json::from_str::<RekorBundle>(json)
                .map_err(|e| format!("malformed {} annotation: {e}", layout::ANN_BUNDLE))?,
        ),
        None => None,
    };
    let tlog_entries = match &rekor {
        Some(r) => vec![r.to_entry()?],
        None => Vec::new(),
    };
    let mut material = wire::VerificationMaterial { tlog_entries, ..Default::default() };
    match annotation(layout::ANN_CERTIFICATE) {
        Some(pem) => {
            let (label, der) = crate::encoding::pem_decode(pem)
                .map_err(|e| format!("malformed {} annotation: {e}", layout::ANN_CERTIFICATE))?;
            if label != "CERTIFICATE" {
                return Err(format!("{} annotation holds a {label}", layout::ANN_CERTIFICATE));
            }
            material.x509_certificate_chain = Some(wire::X509CertificateChain {
                certificates: vec![wire::X509Certificate { raw_bytes: der.into() }],
            });
        }
        None => material.public_key = Some(wire::PublicKeyIdentifier::default()),
    }
    let mut bundle = wire::Bundle {
        media_type: wire::MEDIA_TYPE_V01.into(),
        verification_material: Some(material),
        ..Default::default()
    };
    match kind {
        Kind::Signature => {
            let text = annotation(layout::ANN_SIGNATURE)
                .ok_or_else(|| format!("layer has no {} annotation", layout::ANN_SIGNATURE))?;
            let signature = crate::encoding::b64_decode(text)
                .ok_or_else(|| format!("{} annotation is not base64", layout::ANN_SIGNATURE))?;
            let digest = crate::crypto::digest(HashAlgorithm::Sha256, blob);
            bundle.message_signature = Some(wire::MessageSignature {
                message_digest: Some(wire::HashOutput {
                    algorithm: digest.algorithm().proto_name().into(),
                    digest: digest.as_bytes().to_vec().into(),
                }),
                signature: signature.into(),
            });
        }
        Kind::Attestation => {
            let envelope: wire::DsseEnvelope = serde_json::from_slice(blob)
                .map_err(|e| format!("attestation layer is not a DSSE envelope: {e}"))?;
            bundle.dsse_envelope = Some(envelope);
        }
    }
    Ok((bundle, rekor))
}

/// Fetches and checks the signatures (or attestations) of the image `digest` in `store`;
/// `docker_reference` is the image's `registry/repo`, when known (see
/// [`super::store::candidates`]).
pub fn verify_image(
    store: &dyn super::store::Store,
    image: &str,
    digest: &str,
    kind: Kind,
    docker_reference: Option<&str>,
    expect: &Expectations<'_>,
) -> Result<Vec<Verified>, Error> {
    let candidates = super::store::candidates(store, digest, kind, docker_reference)?;
    check(image, digest, &candidates, kind, expect)
}
