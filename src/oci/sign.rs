//! Signing images: the payload (simple-signing or an in-toto statement) is signed by the
//! one signing pipeline (`crate::sign`: a key file, or keyless with one certificate for
//! every image of the call), then stored in the registry in cosign's layout.
//!
//! Everything is signed (and logged) before anything is written, so a failed signature
//! leaves the registry untouched.

use std::collections::BTreeMap;

use super::client::Client;
use super::layout::{self, Kind, Layer, RekorBundle};
use super::manifest::{self, Descriptor};
use super::reference::Reference;
use super::Error as OciError;
use crate::bundle::{wire, Checked};
use crate::crypto::{self, HashAlgorithm, Signer};
use crate::http::BlockingClient;
use crate::policy::Policy;
use crate::sign::keyless::{Certified, KeylessConfig};
use crate::trust::TrustedRoot;
use crate::verify::{self, Artifact, Options};
use crate::x509::Certificate;

/// Why signing an image failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Keyless signing (CA, log) failed.
    #[error("keyless signing")]
    Keyless(#[from] crate::sign::keyless::Error),
    /// The key failed to sign.
    #[error("signing with the key")]
    Key(#[from] crate::sign::Error),
    /// The log refused the entry.
    #[error("uploading to the transparency log")]
    Log(#[source] crate::rekor::Error),
    /// The log's answer does not verify.
    #[error("the transparency log's answer does not verify")]
    LogAnswer(#[source] verify::Error),
    /// The bundle we built is malformed.
    #[error("building the bundle")]
    Bundle(#[source] crate::bundle::Error),
    /// Encoding JSON failed.
    #[error("encoding JSON")]
    Json(#[source] serde_json::Error),
    /// The registry refused.
    #[error(transparent)]
    Registry(#[from] OciError),
}

/// Records key signatures in a log.
#[derive(Debug, Clone, Copy)]
pub struct KeyLog<'a> {
    /// HTTP client for the log.
    pub http: &'a BlockingClient,
    /// Rekor v1 base URL.
    pub rekor_url: &'a str,
    /// The root the answer must verify against.
    pub root: &'a TrustedRoot,
    /// Now (Unix seconds).
    pub now: i64,
}

/// Who signs.
pub enum PayloadSigner<'a> {
    /// A self-managed key; logged when `log` is set (`--tlog-upload`).
    Key {
        /// The key.
        signer: &'a dyn Signer,
        /// Where to log.
        log: Option<KeyLog<'a>>,
    },
    /// An ephemeral key with a certificate (one per call).
    Keyless {
        /// HTTP client for the log.
        http: &'a BlockingClient,
        /// CA, log, token, root.
        config: &'a KeylessConfig<'a>,
        /// The certified key.
        certified: &'a Certified,
    },
}

/// A signature with everything cosign stores beside it.
#[derive(Debug, Clone)]
pub struct Signature {
    /// The raw signature (empty for DSSE, whose signature is in the envelope).
    pub signature: Vec<u8>,
    /// The leaf certificate (keyless).
    pub certificate: Option<Certificate>,
    /// The CA chain after the leaf (keyless).
    pub chain: Vec<Certificate>,
    /// The verified v0.3 bundle (tlog entry when logged).
    pub bundle: wire::Bundle,
}

impl Signature {
    /// cosign's layer annotations for this signature.
    pub fn annotations(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        out.insert(layout::ANN_SIGNATURE.to_string(), crate::encoding::b64_encode(&self.signature));
        if let Some(cert) = &self.certificate {
            out.insert(layout::ANN_CERTIFICATE.to_string(), cert.to_pem());
            let chain: String = self.chain.iter().map(Certificate::to_pem).collect();
            out.insert(layout::ANN_CHAIN.to_string(), chain);
        }
        if let Some(rekor) = self.rekor_bundle() {
            if let Ok(json) = serde_json::to_string(&rekor) {
                out.insert(layout::ANN_BUNDLE.to_string(), json);
            }
        }
        out
    }

    /// The Rekor bundle (SET + entry), when the signature was logged.
    pub fn rekor_bundle(&self) -> Option<RekorBundle> {
        let material = self.bundle.verification_material.as_ref()?;
        material.tlog_entries.first().and_then(RekorBundle::from_entry)
    }
}

/// Signs `payload` (a simple-signing payload) as a message signature.
pub fn sign_payload(signer: &PayloadSigner<'_>, payload: &[u8]) -> Result<Signature, Error> {
    match signer {
        PayloadSigner::Key { signer, log } => {
            let mut signed = crate::sign::sign_blob_with_key(*signer, payload)?;
            if let Some(log) = log {
                crate::sign::keyless::log_key_signature(
                    log.http,
                    log.rekor_url,
                    log.root,
                    log.now,
                    signer.public_key(),
                    &mut signed,
                )?;
            }
            Ok(Signature {
                signature: signed.signature,
                certificate: None,
                chain: Vec::new(),
                bundle: signed.bundle,
            })
        }
        PayloadSigner::Keyless { http, config, certified } => {
            let digest = crypto::digest(HashAlgorithm::Sha256, payload);
            let signed = crate::sign::keyless::sign_digest(http, config, certified, digest)?;
            Ok(Signature {
                signature: signed.blob.signature,
                certificate: Some(signed.certificate),
                chain: certified.chain.iter().skip(1).cloned().collect(),
                bundle: signed.blob.bundle,
            })
        }
    }
}

/// Signs an in-toto `statement` in a DSSE envelope (logged as a `dsse` entry unless a key
/// signature has no log).
pub fn sign_statement(signer: &PayloadSigner<'_>, statement: &[u8]) -> Result<Signature, Error> {
    match signer {
        PayloadSigner::Keyless { http, config, certified } => {
            let bundle =
                crate::sign::keyless::attest_certified(http, config, certified, statement)?;
            Ok(Signature {
                signature: Vec::new(),
                certificate: Some(certified.certificate.clone()),
                chain: certified.chain.iter().skip(1).cloned().collect(),
                bundle,
            })
        }
        PayloadSigner::Key { signer, log } => {
            let payload_type = crate::bundle::IN_TOTO_PAYLOAD_TYPE;
            let sig = signer
                .sign(&crate::bundle::pae(payload_type, statement))
                .map_err(|e| Error::Key(crate::sign::Error::Sign(e)))?;
            let envelope = wire::DsseEnvelope {
                payload: statement.to_vec().into(),
                payload_type: payload_type.into(),
                signatures: vec![wire::DsseSignature { sig: sig.into(), keyid: String::new() }],
            };
            let mut bundle = wire::Bundle {
                media_type: wire::MEDIA_TYPE_V03.into(),
                verification_material: Some(wire::VerificationMaterial {
                    public_key: Some(wire::PublicKeyIdentifier {
                        hint: crate::encoding::b64_encode(signer.public_key().key_id()),
                    }),
                    ..Default::default()
                }),
                message_signature: None,
                dsse_envelope: Some(envelope.clone()),
            };
            if let Some(log) = log {
                let json = serde_json::to_string(&envelope).map_err(Error::Json)?;
                let proposal =
                    crate::rekor::client::dsse_proposal(&json, &signer.public_key().to_pem());
                let client = crate::rekor::client::Client::new(log.http.clone(), log.rekor_url);
                let logged = client.create_entry(&proposal).map_err(Error::Log)?;
                if let Some(m) = bundle.verification_material.as_mut() {
                    m.tlog_entries = vec![logged.entry];
                }
                let checked = Checked::try_from(bundle.clone()).map_err(Error::Bundle)?;
                let options =
                    Options { key: Some(signer.public_key().clone()), ..Options::new(log.now) };
                verify::verify(&checked, &Artifact::Omitted, log.root, &Policy::any(), &options)
                    .map_err(Error::LogAnswer)?;
            }
            Ok(Signature { signature: Vec::new(), certificate: None, chain: Vec::new(), bundle })
        }
    }
}

/// The in-toto statement about `image_digest` (`sha256:<hex>`).
pub fn statement(
    repository_name: &str,
    image_digest: &str,
    predicate_type: &str,
    predicate: serde_json::Value,
    annotations: &BTreeMap<String, String>,
) -> Result<Vec<u8>, Error> {
    let hex = image_digest.strip_prefix("sha256:").unwrap_or(image_digest);
    let mut subject = serde_json::json!({"name": repository_name, "digest": {"sha256": hex}});
    if !annotations.is_empty() {
        subject["annotations"] = serde_json::to_value(annotations).map_err(Error::Json)?;
    }
    serde_json::to_vec(&serde_json::json!({
        "_type": crate::bundle::STATEMENT_V1,
        "subject": [subject],
        "predicateType": predicate_type,
        "predicate": predicate,
    }))
    .map_err(Error::Json)
}

/// The `.att` layer for a DSSE signature: the envelope as blob, cosign's annotations.
pub fn attestation_layer(signature: &Signature, predicate_type: &str) -> Result<Layer, Error> {
    let envelope = signature
        .bundle
        .dsse_envelope
        .as_ref()
        .ok_or(Error::Bundle(crate::bundle::Error::ContentCount(0)))?;
    let blob = serde_json::to_vec(envelope).map_err(Error::Json)?;
    let mut annotations = signature.annotations();
    annotations.insert(layout::ANN_SIGNATURE.to_string(), String::new());
    annotations.insert(layout::ANN_PREDICATE_TYPE.to_string(), predicate_type.to_string());
    Ok(Layer { media_type: layout::DSSE_ENVELOPE.into(), blob, annotations })
}

/// Appends `layers` to the legacy `.sig`/`.att` image of `image` (a digest reference),
/// keeping every layer already there. Returns the tag written.
pub fn attach_legacy(
    client: &Client,
    image: &Reference,
    target: &Reference,
    kind: Kind,
    layers: &[Layer],
) -> Result<Reference, OciError> {
    let digest = image.digest().unwrap_or_default();
    let tag = target.with_tag(&layout::legacy_tag(digest, kind));
    let existing = match client.get_manifest(&tag) {
        Ok(pulled) => Some(layout::parse_manifest(&pulled.bytes, &tag.to_string())?),
        Err(OciError::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    for layer in layers {
        client.push_blob(&tag, &layer.blob, None)?;
    }
    let descriptors: Vec<Descriptor> = layers.iter().map(Layer::descriptor).collect();
    let (config, manifest) = layout::signature_manifest(existing.as_ref(), &descriptors);
    client.push_blob(&tag, &config, None)?;
    client.put_manifest(&tag, manifest::OCI_MANIFEST, &layout::to_json(&manifest))?;
    Ok(tag)
}

/// Stores a v0.3 bundle as an OCI 1.1 referrer of `subject` and, since the registry may
/// lack the referrers API, adds it to the `sha256-<hex>` fallback index. Returns the
/// referrer manifest's digest.
pub fn attach_referrer(
    client: &Client,
    target: &Reference,
    subject: Descriptor,
    bundle_json: &[u8],
    predicate_type: &str,
    created: &str,
) -> Result<String, OciError> {
    let subject_digest = subject.digest.clone();
    let manifest =
        layout::referrer_manifest(subject, bundle_json, "dsse-envelope", predicate_type, created);
    client.push_blob(target, bundle_json, None)?;
    client.push_blob(target, b"{}", None)?;
    let bytes = layout::to_json(&manifest);
    let digest = manifest::sha256_digest(&bytes);
    client.put_manifest(&target.with_digest(&digest), manifest::OCI_MANIFEST, &bytes)?;
    let listed = client.referrers(target, &subject_digest)?;
    if !listed.is_some_and(|index| index.manifests.iter().any(|m| m.digest == digest)) {
        let tag = target.with_tag(&layout::fallback_tag(&subject_digest));
        let existing = match client.get_index(&tag) {
            Ok((_, index)) => Some(index),
            Err(OciError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let mut entry = Descriptor::of(manifest::OCI_MANIFEST, &bytes);
        entry.artifact_type = manifest.artifact_type.clone();
        entry.annotations = manifest.annotations.clone();
        let index = layout::fallback_index(existing, entry);
        client.put_manifest(&tag, manifest::OCI_INDEX, &layout::to_json(&index))?;
    }
    Ok(digest)
}

/// An image to sign: its digest reference and descriptor.
#[derive(Debug, Clone)]
pub struct Target {
    /// `registry/repo@sha256:…`.
    pub image: Reference,
    /// Media type, digest and size of its manifest.
    pub descriptor: Descriptor,
}

/// Resolves `reference` to digest targets: the manifest itself and, with `recursive`,
/// every manifest an index lists. Returns the targets and whether a tag was resolved.
pub fn resolve_targets(
    client: &Client,
    reference: &Reference,
    recursive: bool,
) -> Result<(Vec<Target>, bool), OciError> {
    let descriptor = client
        .head_manifest(reference)?
        .ok_or_else(|| OciError::NotFound { what: format!("image {reference}") })?;
    let image = reference.with_digest(&descriptor.digest);
    let mut targets = vec![Target { image: image.clone(), descriptor: descriptor.clone() }];
    if recursive && manifest::is_index(&descriptor.media_type) {
        let (_, index) = client.get_index(&image)?;
        for child in index.manifests {
            targets.push(Target { image: image.with_digest(&child.digest), descriptor: child });
        }
    }
    Ok((targets, reference.digest().is_none()))
}

/// Where and how signatures are stored.
#[derive(Debug, Clone)]
pub struct Storage<'a> {
    /// OCI 1.1 referrers with v0.3 bundles (else legacy tags).
    pub referrers: bool,
    /// Write to the registry at all (`--upload`).
    pub upload: bool,
    /// Signature repository (`COSIGN_REPOSITORY`), else the image's.
    pub repository: Option<&'a Reference>,
    /// RFC 3339 creation time for referrer manifests.
    pub created: &'a str,
}

/// One signed image.
#[derive(Debug, Clone)]
pub struct SignedImage {
    /// The image.
    pub target: Target,
    /// The signed payload (simple-signing JSON or statement).
    pub payload: Vec<u8>,
    /// The signature and its bundle.
    pub signature: Signature,
    /// Where it was stored (tag or referrer digest), if uploaded.
    pub stored: Option<String>,
}

/// Signs every target, then (only if all signed) stores the signatures.
pub fn sign_images(
    client: &Client,
    signer: &PayloadSigner<'_>,
    targets: &[Target],
    annotations: &BTreeMap<String, String>,
    storage: &Storage<'_>,
) -> Result<Vec<SignedImage>, Error> {
    let mut signed = Vec::with_capacity(targets.len());
    for target in targets {
        let name = target.image.repository_name();
        let digest = &target.descriptor.digest;
        let (payload, signature) = if storage.referrers {
            let statement = statement(
                &name,
                digest,
                layout::SIGN_PREDICATE,
                serde_json::json!({}),
                annotations,
            )?;
            let signature = sign_statement(signer, &statement)?;
            (statement, signature)
        } else {
            let payload = layout::simple_signing_payload(&name, digest, annotations);
            let signature = sign_payload(signer, &payload)?;
            (payload, signature)
        };
        signed.push(SignedImage { target: target.clone(), payload, signature, stored: None });
    }
    if storage.upload {
        for item in &mut signed {
            item.stored =
                Some(store(client, item, Kind::Signature, layout::SIGN_PREDICATE, storage)?);
        }
    }
    Ok(signed)
}

/// Attests every target with `predicate` of `predicate_type`, then stores the envelopes.
pub fn attest_images(
    client: &Client,
    signer: &PayloadSigner<'_>,
    targets: &[Target],
    predicate_type: &str,
    predicate: &serde_json::Value,
    storage: &Storage<'_>,
) -> Result<Vec<SignedImage>, Error> {
    let mut signed = Vec::with_capacity(targets.len());
    for target in targets {
        let statement = statement(
            &target.image.repository_name(),
            &target.descriptor.digest,
            predicate_type,
            predicate.clone(),
            &BTreeMap::new(),
        )?;
        let signature = sign_statement(signer, &statement)?;
        signed.push(SignedImage {
            target: target.clone(),
            payload: statement,
            signature,
            stored: None,
        });
    }
    if storage.upload {
        for item in &mut signed {
            item.stored = Some(store(client, item, Kind::Attestation, predicate_type, storage)?);
        }
    }
    Ok(signed)
}

fn store(
    client: &Client,
    item: &SignedImage,
    kind: Kind,
    predicate_type: &str,
    storage: &Storage<'_>,
) -> Result<String, Error> {
    let image = &item.target.image;
    let target = storage.repository.map_or_else(|| image.clone(), |r| image.in_repository(r));
    if storage.referrers {
        let bundle = item.signature.bundle.to_json().map_err(Error::Json)?;
        let digest = attach_referrer(
            client,
            &target,
            item.target.descriptor.clone(),
            bundle.as_bytes(),
            predicate_type,
            storage.created,
        )?;
        return Ok(target.with_digest(&digest).to_string());
    }
    let layer = match kind {
        Kind::Signature => Layer {
            media_type: layout::SIMPLE_SIGNING.into(),
            blob: item.payload.clone(),
            annotations: item.signature.annotations(),
        },
        Kind::Attestation => attestation_layer(&item.signature, predicate_type)?,
    };
    Ok(attach_legacy(client, image, &target, kind, &[layer])?.to_string())
}
