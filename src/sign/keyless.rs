//! Keyless signing: an ephemeral P-256 key, a 10-minute certificate from the CA for the
//! caller's identity token, a hashedrekord entry in the transparency log, and a v0.3 bundle.
//!
//! Nothing is trusted on the way: the certificate must chain to the trusted root and carry
//! a valid SCT before the key signs anything, and the finished bundle goes through the full
//! offline verifier before it is returned, so a log that answers with a bad proof or SET
//! yields an error and no bundle.

use std::io::Read;

use super::{Error as SignError, SignedBlob};
use crate::bundle::{wire, Checked};
use crate::crypto::{self, EcdsaP256Signer, HashAlgorithm, Signer};
use crate::http::BlockingClient;
use crate::policy::Policy;
use crate::trust::TrustedRoot;
use crate::verify::{self, Artifact, Options};
use crate::x509::{self, Certificate};

/// Where and as whom to sign.
#[derive(Debug, Clone)]
pub struct KeylessConfig<'a> {
    /// The identity token (compact JWT).
    pub token: &'a str,
    /// CA base URL (`caUrls[0]` of the signing config).
    pub ca_url: &'a str,
    /// Rekor v1 base URL.
    pub rekor_url: &'a str,
    /// The trusted root the results must verify against.
    pub root: &'a TrustedRoot,
    /// The clock (Unix seconds). Read at each check rather than once up front: the CA
    /// stamps `notBefore` with its own "now", which may be a second later than a time taken
    /// before the request (seen as a rare CI failure: "not valid at T (valid T+1..)").
    pub clock: fn() -> i64,
    /// The RFC 3161 TSA endpoint to timestamp the signature with (the bundle then carries
    /// the `TimeStampResp`), when one is configured.
    pub tsa_url: Option<&'a str>,
    /// Which Rekor API `rekor_url` speaks: 1 (hashedrekord/dsse 0.0.1 with a SET) or 2
    /// (hashedrekord 0.0.2, no SET: the time comes from the TSA, which is then required).
    pub rekor_version: u32,
}

/// Why keyless signing failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The CA refused or could not be reached.
    #[error("getting a certificate")]
    Certificate(#[source] crate::fulcio::client::ClientError),
    /// The CA's certificate does not chain to the trusted root.
    #[error("the CA's certificate does not chain to the trusted root")]
    UntrustedCertificate(#[source] x509::Error),
    /// The certificate's SCT does not verify against a trusted CT log.
    #[error("the certificate's SCT does not verify against a trusted CT log")]
    BadSct(#[source] x509::Error),
    /// The trusted root lists no CA valid now.
    #[error("the trusted root has no certificate authority valid now")]
    NoCertificateAuthority,
    /// The CA returned an empty chain.
    #[error("the CA returned no certificate")]
    EmptyChain,
    /// Signing or reading the artifact failed.
    #[error("signing")]
    Sign(#[from] SignError),
    /// The transparency log refused or could not be reached.
    #[error("uploading to the transparency log")]
    Log(#[source] crate::rekor::Error),
    /// The log's answer does not verify (proof, SET, checkpoint or body).
    #[error("the transparency log's answer does not verify; no bundle written")]
    LogAnswer(#[source] verify::Error),
    /// The DSSE envelope could not be encoded.
    #[error("encoding the DSSE envelope")]
    Encode(#[source] serde_json::Error),
    /// The timestamp authority refused or could not be reached.
    #[error("timestamping the signature")]
    Timestamp(#[source] crate::tsa::ClientError),
    /// A Rekor v2 entry was asked for without a TSA to give it a time.
    #[error("a Rekor v2 entry carries no time: configure a timestamp authority (tsaUrls or --timestamp-server-url)")]
    V2WithoutTimestamp,
    /// The bundle we built does not pass the bundle shape rules.
    #[error("building the bundle")]
    Bundle(#[source] crate::bundle::Error),
}

/// The result of keyless signing: the blob signature plus the signing certificate.
#[derive(Debug, Clone)]
pub struct KeylessSigned {
    /// Digest, signature and bundle.
    pub blob: SignedBlob,
    /// The leaf certificate.
    pub certificate: Certificate,
}

/// Signs `artifact` keylessly (see the module docs).
pub fn sign_blob_keyless(
    http: &BlockingClient,
    config: &KeylessConfig<'_>,
    artifact: impl Read,
) -> Result<KeylessSigned, Error> {
    let certified = certify(http, config)?;
    let digest = crypto::digest_reader(HashAlgorithm::Sha256, artifact).map_err(|e| match e {
        crypto::Error::Io(io) => Error::Sign(SignError::ReadArtifact(io)),
        other => Error::Sign(SignError::Sign(other)),
    })?;
    sign_digest(http, config, &certified, digest)
}

/// Signs a SHA-256 `digest` with an already certified key, logs it as a hashedrekord
/// entry and returns the verified v0.3 bundle. Clients that sign several things with one
/// certificate (image signing with `--recursive`, gitsign's credential cache) call this
/// once per signature after one [`certify`].
pub fn sign_digest(
    http: &BlockingClient,
    config: &KeylessConfig<'_>,
    certified: &Certified,
    digest: crypto::Digest,
) -> Result<KeylessSigned, Error> {
    let leaf = &certified.certificate;
    let signature = certified
        .signer
        .sign_prehashed(digest.as_bytes())
        .map_err(|e| Error::Sign(SignError::Sign(e)))?;
    let request = if config.rekor_version == 2 {
        LogRequest::v2(&digest, &signature, leaf)
    } else {
        LogRequest::V1(crate::rekor::client::hashedrekord_proposal(
            &digest,
            &signature,
            &leaf.to_pem(),
        ))
    };
    let content = Content::Message(wire::MessageSignature {
        message_digest: Some(wire::HashOutput {
            algorithm: digest.algorithm().proto_name().into(),
            digest: wire::Base64Bytes(digest.as_bytes().to_vec()),
        }),
        signature: wire::Base64Bytes(signature.clone()),
    });
    let bundle = log_and_bundle(
        http,
        config,
        leaf,
        &request,
        content,
        &signature,
        &Artifact::Digest(digest.clone()),
    )?;
    Ok(KeylessSigned { blob: SignedBlob { digest, signature, bundle }, certificate: leaf.clone() })
}

/// Attests keylessly: signs an in-toto `statement` (JSON bytes) in a DSSE envelope, logs
/// it as a `dsse` entry (v1) or a hashedrekord 0.0.2 entry over the PAE (v2) and returns the
/// v0.3 bundle and the certificate.
pub fn attest_keyless(
    http: &BlockingClient,
    config: &KeylessConfig<'_>,
    statement: &[u8],
) -> Result<(wire::Bundle, Certificate), Error> {
    let certified = certify(http, config)?;
    let bundle = attest_certified(http, config, &certified, statement)?;
    Ok((bundle, certified.certificate))
}

/// Like [`attest_keyless`] with an already certified key (one certificate for several
/// attestations, e.g. every image of an index).
pub fn attest_certified(
    http: &BlockingClient,
    config: &KeylessConfig<'_>,
    certified: &Certified,
    statement: &[u8],
) -> Result<wire::Bundle, Error> {
    let Certified { signer, certificate: leaf, .. } = certified;
    let payload_type = crate::bundle::IN_TOTO_PAYLOAD_TYPE;
    let pae = crate::bundle::pae(payload_type, statement);
    let signature = signer.sign(&pae).map_err(|e| Error::Sign(SignError::Sign(e)))?;
    let envelope = wire::DsseEnvelope {
        payload: wire::Base64Bytes(statement.to_vec()),
        payload_type: payload_type.into(),
        signatures: vec![wire::DsseSignature {
            sig: wire::Base64Bytes(signature.clone()),
            keyid: String::new(),
        }],
    };
    let request = if config.rekor_version == 2 {
        // Rekor v2 has one kind: a DSSE envelope is logged as hashedrekord 0.0.2 over
        // SHA-256(PAE), with the envelope's signature (what the public v2 log and
        // sigstore-python do; the bundle still carries the envelope).
        let digest = crypto::digest(HashAlgorithm::Sha256, &pae);
        LogRequest::v2(&digest, &signature, leaf)
    } else {
        // compat(rekor): the dsse kind takes the envelope as a JSON *string*.
        let envelope_json = serde_json::to_string(&envelope).map_err(Error::Encode)?;
        LogRequest::V1(crate::rekor::client::dsse_proposal(&envelope_json, &leaf.to_pem()))
    };
    let signed = envelope.signatures.first().map(|s| s.sig.0.clone()).unwrap_or_default();
    log_and_bundle(
        http,
        config,
        leaf,
        &request,
        Content::Dsse(envelope),
        &signed,
        &Artifact::Omitted,
    )
}

/// Records a key-based signature in the transparency log (cosign's default for
/// `sign-blob --key`): uploads a hashedrekord entry carrying the public key, adds the entry
/// to `signed`'s bundle and verifies the result with the key before returning it.
pub fn log_key_signature(
    http: &BlockingClient,
    rekor_url: &str,
    root: &TrustedRoot,
    now: i64,
    public_key: &crypto::PublicKey,
    signed: &mut SignedBlob,
) -> Result<(), Error> {
    let proposal = crate::rekor::client::hashedrekord_proposal(
        &signed.digest,
        &signed.signature,
        &public_key.to_pem(),
    );
    let client = crate::rekor::client::Client::new(http.clone(), rekor_url);
    let logged = client.create_entry(&proposal).map_err(Error::Log)?;
    if let Some(material) = signed.bundle.verification_material.as_mut() {
        material.tlog_entries = vec![logged.entry];
    }
    let checked = Checked::try_from(signed.bundle.clone()).map_err(Error::Bundle)?;
    let options = Options { key: Some(public_key.clone()), ..Options::new(now) };
    verify::verify(
        &checked,
        &Artifact::Digest(signed.digest.clone()),
        root,
        &Policy::any(),
        &options,
    )
    .map_err(Error::LogAnswer)?;
    Ok(())
}

/// What to write to the log: a v1 proposed entry or a v2 `CreateEntryRequest`.
enum LogRequest {
    V1(serde_json::Value),
    V2(serde_json::Value),
}

impl LogRequest {
    /// The v2 request for a keyless signature over `digest`: Rekor v2's one kind,
    /// hashedrekord 0.0.2, with the leaf certificate as verifier (ephemeral keys are P-256).
    fn v2(digest: &crypto::Digest, signature: &[u8], leaf: &Certificate) -> LogRequest {
        LogRequest::V2(crate::rekor::client::hashedrekord_v2_request(
            digest.as_bytes(),
            signature,
            leaf.der(),
            true,
            "PKIX_ECDSA_P256_SHA_256",
        ))
    }
}

enum Content {
    Message(wire::MessageSignature),
    Dsse(wire::DsseEnvelope),
}

/// An ephemeral key and the CA's certificate chain for it, checked against the trusted
/// root (chain and SCT) before the key signs anything.
pub struct Certified {
    /// The ephemeral key (zeroized on drop).
    pub signer: EcdsaP256Signer,
    /// The leaf certificate binding the key to the token's identity.
    pub certificate: Certificate,
    /// The whole chain as the CA returned it, leaf first.
    pub chain: Vec<Certificate>,
}

impl std::fmt::Debug for Certified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certified").field("certificate", &self.certificate).finish_non_exhaustive()
    }
}

/// Makes an ephemeral key and gets a certificate for it that chains to the trusted root
/// with a valid SCT.
pub fn certify(http: &BlockingClient, config: &KeylessConfig<'_>) -> Result<Certified, Error> {
    let signer = EcdsaP256Signer::generate();
    let chain =
        crate::fulcio::client::request_certificate(http, config.ca_url, config.token, &signer)
            .map_err(Error::Certificate)?;
    let leaf = chain.first().cloned().ok_or(Error::EmptyChain)?;
    check_certificate(&leaf, config.root, (config.clock)())?;
    Ok(Certified { signer, certificate: leaf, chain })
}

/// Timestamps `signature` (when a TSA is configured), logs `request`, builds the bundle
/// and runs the whole verifier over it before returning.
#[allow(clippy::too_many_arguments)]
fn log_and_bundle(
    http: &BlockingClient,
    config: &KeylessConfig<'_>,
    leaf: &Certificate,
    request: &LogRequest,
    content: Content,
    signature: &[u8],
    artifact: &Artifact<'_>,
) -> Result<wire::Bundle, Error> {
    let timestamp = match config.tsa_url {
        Some(url) => Some(
            crate::tsa::timestamp(
                http,
                url,
                signature,
                &config.root.timestamp_authorities_for_x509(),
            )
            .map_err(Error::Timestamp)?,
        ),
        None => None,
    };
    let client = crate::rekor::client::Client::new(http.clone(), config.rekor_url);
    let entry = match request {
        LogRequest::V1(proposal) => client.create_entry(proposal).map_err(Error::Log)?.entry,
        LogRequest::V2(_) if timestamp.is_none() => return Err(Error::V2WithoutTimestamp),
        LogRequest::V2(body) => client.create_entry_v2(body).map_err(Error::Log)?,
    };
    let timestamp_verification_data = timestamp.map(|response| wire::TimestampVerificationData {
        rfc3161_timestamps: vec![wire::Rfc3161SignedTimestamp {
            signed_timestamp: wire::Base64Bytes(response),
        }],
    });
    let (message_signature, dsse_envelope) = match content {
        Content::Message(m) => (Some(m), None),
        Content::Dsse(d) => (None, Some(d)),
    };
    let bundle = wire::Bundle {
        media_type: wire::MEDIA_TYPE_V03.into(),
        verification_material: Some(wire::VerificationMaterial {
            certificate: Some(wire::X509Certificate {
                raw_bytes: wire::Base64Bytes(leaf.der().to_vec()),
            }),
            tlog_entries: vec![entry],
            timestamp_verification_data,
            ..Default::default()
        }),
        message_signature,
        dsse_envelope,
    };
    let checked = Checked::try_from(bundle.clone()).map_err(Error::Bundle)?;
    let now = (config.clock)();
    verify::verify(&checked, artifact, config.root, &Policy::any(), &Options::new(now))
        .map_err(Error::LogAnswer)?;
    Ok(bundle)
}

/// The leaf must chain to a CA of the trusted root and carry a valid SCT, before use.
fn check_certificate(leaf: &Certificate, root: &TrustedRoot, now: i64) -> Result<(), Error> {
    let mut last = None;
    for authority in root.certificate_authorities().iter().filter(|a| a.valid_for.contains(now)) {
        match x509::verify_chain(leaf, &authority.chain, now) {
            Ok(chain) => {
                return x509::verify_embedded_scts(leaf, chain.issuer(), &root.ct_logs_for_x509())
                    .map(|_| ())
                    .map_err(Error::BadSct);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.map_or(Error::NoCertificateAuthority, Error::UntrustedCertificate))
}
