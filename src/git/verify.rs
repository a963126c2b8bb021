//! Verifying a gitsign signature: one more kind of checked signature for the one verifier.
//!
//! The CMS messageDigest must equal SHA-256(payload). Then a v0.3 bundle is built whose
//! "artifact" is what the logged signature covers and handed to [`crate::verify::verify`]
//! (signature, SET, inclusion proof, checkpoint, body versus bundle, chain at the logged
//! time, SCTs, identity policy):
//! * offline mode: the embedded entry, its body rebuilt (gitsign leaves it out), artifact =
//!   the DER signed attributes, signature = the CMS signature;
//! * online mode: the entry found in the log for the object ID, artifact = the 40-hex ID,
//!   signature = the logged one; the CMS signature itself is checked with the leaf key.

use serde_json::Value;

use super::object::{self, Kind};
use super::{proto, Error, RekorMode};
use crate::bundle::{wire, Checked};
use crate::crypto::{digest, Digest, HashAlgorithm, SignatureScheme};
use crate::policy::Policy;
use crate::trust::TrustedRoot;
use crate::verify::{self, Artifact, Options, Verdict};
use crate::x509::cms::{self, DetachedSignature, OID_GITSIGN_TLOG_ENTRY};
use crate::x509::Certificate;

/// A signature read from its armor, with the raw armored bytes kept (online mode hashes
/// them into the object ID).
#[derive(Debug, Clone)]
pub struct Signature {
    /// The armored text exactly as stored.
    pub armored: Vec<u8>,
    /// The parsed CMS.
    pub cms: DetachedSignature,
}

impl Signature {
    /// Reads an armored `SIGNED MESSAGE`.
    pub fn from_armored(armored: &[u8]) -> Result<Signature, Error> {
        let text = std::str::from_utf8(armored).map_err(|_| Error::NotArmored)?;
        let (label, der) = crate::encoding::pem_decode(text).map_err(|_| Error::NotArmored)?;
        if label != "SIGNED MESSAGE" {
            return Err(Error::NotArmored);
        }
        Ok(Signature { armored: armored.to_vec(), cms: cms::parse_detached(&der)? })
    }

    /// The signer's certificate.
    pub fn leaf(&self) -> Result<&Certificate, Error> {
        Ok(self.cms.signer_certificate()?)
    }

    /// The embedded log entry (offline mode), if any. The early experimental layout (an
    /// INTEGER in this attribute) is refused as unsupported.
    pub fn embedded_entry(&self) -> Result<Option<wire::TransparencyLogEntry>, Error> {
        match self.cms.unsigned_values(OID_GITSIGN_TLOG_ENTRY) {
            [] => Ok(None),
            [value] => match value.first() {
                Some(0x04) => {
                    let octets = cms::octet_string_contents(value)
                        .map_err(|_| Error::UnsupportedLayout("a malformed OCTET STRING"))?;
                    Ok(Some(proto::decode(&octets)?))
                }
                Some(0x02) => Err(Error::UnsupportedLayout(
                    "an INTEGER (gitsign's early experimental per-field layout)",
                )),
                _ => Err(Error::UnsupportedLayout("an ASN.1 type other than OCTET STRING")),
            },
            _ => Err(Error::UnsupportedLayout("more than one value")),
        }
    }

    /// Which Rekor mode this signature was made in.
    pub fn mode(&self) -> Result<RekorMode, Error> {
        Ok(if self.embedded_entry()?.is_some() { RekorMode::Offline } else { RekorMode::Online })
    }
}

/// What a verification needs besides the signature.
pub struct Check<'a> {
    /// The signed object without its signature.
    pub payload: &'a [u8],
    /// The trusted root.
    pub root: &'a TrustedRoot,
    /// The identity policy.
    pub policy: &'a Policy,
    /// The current time (Unix seconds).
    pub now: i64,
}

/// messageDigest must be SHA-256 of the payload (catches altered commits and signatures
/// copied from another object).
fn check_digest(check: &Check<'_>, sig: &Signature) -> Result<(), Error> {
    if sig.cms.digest_algorithm != "2.16.840.1.101.3.4.2.1" {
        return Err(Error::UnsupportedLayout("a digest algorithm other than SHA-256"));
    }
    let got = digest(HashAlgorithm::Sha256, check.payload);
    if got.as_bytes() != sig.cms.message_digest.as_slice() {
        return Err(Error::DigestMismatch {
            signed: crate::encoding::hex_encode(&sig.cms.message_digest),
            payload: got.to_hex(),
        });
    }
    Ok(())
}

/// Verifies an offline-mode signature with its embedded entry. No network.
pub fn verify_offline(check: &Check<'_>, sig: &Signature) -> Result<Verdict, Error> {
    check_digest(check, sig)?;
    let mut entry = sig.embedded_entry()?.ok_or(Error::NoLogEntry)?;
    let leaf = sig.leaf()?;
    let attrs_digest = digest(HashAlgorithm::Sha256, &sig.cms.signed_attrs);
    if entry.canonicalized_body.is_empty() {
        let body = if entry.kind_version.version == "0.0.2" {
            hashedrekord_v2_body(&attrs_digest, &sig.cms.signature, leaf)?
        } else {
            hashedrekord_body(&attrs_digest, &sig.cms.signature, leaf)?
        };
        entry.canonicalized_body = wire::Base64Bytes(body);
    }
    let mut bundle = bundle(leaf, attrs_digest, sig.cms.signature.clone(), entry);
    // RFC 3161 tokens over the CMS signature (the bundle's signature here) are checked by
    // the verifier against the trusted root's timestamp authorities.
    let tokens = sig.cms.unsigned_values(cms::OID_TIMESTAMP_TOKEN);
    if let (false, Some(material)) = (tokens.is_empty(), bundle.verification_material.as_mut()) {
        material.timestamp_verification_data = Some(wire::TimestampVerificationData {
            rfc3161_timestamps: tokens
                .iter()
                .map(|t| wire::Rfc3161SignedTimestamp {
                    signed_timestamp: wire::Base64Bytes(t.clone()),
                })
                .collect(),
        });
    }
    run(check, bundle, &Artifact::Bytes(&sig.cms.signed_attrs))
}

/// Verifies an online-mode signature: the payload digest and the CMS signature first,
/// then the log entry `find` returns for the object ID (see [`find_entry`]).
pub fn verify_online(
    check: &Check<'_>,
    sig: &Signature,
    find: impl FnOnce() -> Result<FoundEntry, Error>,
) -> Result<Verdict, Error> {
    check_digest(check, sig)?;
    let leaf = sig.leaf()?;
    leaf.public_key()
        .verify(SignatureScheme::EcdsaSha256, &sig.cms.signed_attrs, &sig.cms.signature)
        .map_err(Error::CmsSignature)?;
    let found = find()?;
    let id = object_id(check.payload, sig);
    let id_digest = digest(HashAlgorithm::Sha256, id.as_bytes());
    let bundle = bundle(leaf, id_digest, found.signature, found.entry);
    run(check, bundle, &Artifact::Bytes(id.as_bytes()))
}

/// The object ID of the payload with this signature in it.
pub fn object_id(payload: &[u8], sig: &Signature) -> String {
    let kind = Kind::of_payload(payload);
    object::object_id(kind, &object::with_signature(kind, payload, &sig.armored))
}

/// An online-mode entry and the signature its body carries.
#[derive(Debug, Clone)]
pub struct FoundEntry {
    /// The entry.
    pub entry: wire::TransparencyLogEntry,
    /// The signature over the object ID, from the body.
    pub signature: Vec<u8>,
}

/// Finds the online-mode entry for `payload` + `sig` in the log at `client`: searches by
/// the certificate and SHA-256 of the object ID, then picks the entry whose body carries
/// that hash.
/// Nothing is trusted here; [`verify_online`] checks the entry.
pub fn find_entry(
    client: &crate::rekor::client::Client,
    payload: &[u8],
    sig: &Signature,
) -> Result<FoundEntry, Error> {
    let leaf = sig.leaf()?;
    let id = object_id(payload, sig);
    let want = digest(HashAlgorithm::Sha256, id.as_bytes()).to_hex();
    // By certificate AND hash: with the credential cache one certificate signs many
    // commits, and this keeps the answer to the one entry instead of all of them.
    let query = serde_json::json!({
        "publicKey": {"format": "x509", "content": crate::encoding::b64_encode(leaf.to_pem())},
        "hash": format!("sha256:{want}"),
        "operator": "and",
    });
    for uuid in client.search(&query).map_err(Error::Log)? {
        let logged = client.entry_by_uuid(&uuid).map_err(Error::Log)?;
        let body: Value = serde_json::from_slice(&logged.entry.canonicalized_body)
            .map_err(|_| Error::LogBody("not JSON"))?;
        let hash = body.pointer("/spec/data/hash/value").and_then(Value::as_str);
        if hash.is_some_and(|h| h.eq_ignore_ascii_case(&want)) {
            let signature = body
                .pointer("/spec/signature/content")
                .and_then(Value::as_str)
                .and_then(crate::encoding::b64_decode)
                .ok_or(Error::LogBody("no signature"))?;
            return Ok(FoundEntry { entry: logged.entry, signature });
        }
    }
    Err(Error::EntryNotFound { object_id: id })
}

/// The hashedrekord 0.0.1 body gitsign's offline entry was logged with, canonical JSON.
fn hashedrekord_body(d: &Digest, signature: &[u8], leaf: &Certificate) -> Result<Vec<u8>, Error> {
    let proposal = crate::rekor::client::hashedrekord_proposal(d, signature, &leaf.to_pem());
    crate::encoding::to_canonical_vec(&proposal).map_err(|_| Error::Encode("the entry body"))
}

/// The hashedrekord 0.0.2 body of an offline entry written to a Rekor v2 log
/// (`gitsign.rekorVersion 2`), canonical JSON.
fn hashedrekord_v2_body(
    d: &Digest,
    signature: &[u8],
    leaf: &Certificate,
) -> Result<Vec<u8>, Error> {
    use crate::rekor_model::{hashedrekord::SignatureV002, Body, HashOutputV002, HashedRekordV002};
    use crate::rekor_model::{RawBytes, VerifierV002};
    let body = Body::HashedRekordV002(HashedRekordV002 {
        data: HashOutputV002 {
            algorithm: d.algorithm().proto_name().into(),
            digest: d.as_bytes().to_vec().into(),
        },
        signature: SignatureV002 {
            content: signature.to_vec().into(),
            verifier: VerifierV002 {
                key_details: "PKIX_ECDSA_P256_SHA_256".into(),
                x509_certificate: Some(RawBytes { raw_bytes: leaf.der().to_vec().into() }),
                public_key: None,
            },
        },
    });
    body.to_canonical().map_err(|_| Error::Encode("the entry body"))
}

fn bundle(
    leaf: &Certificate,
    message_digest: Digest,
    signature: Vec<u8>,
    entry: wire::TransparencyLogEntry,
) -> wire::Bundle {
    wire::Bundle {
        media_type: wire::MEDIA_TYPE_V03.into(),
        verification_material: Some(wire::VerificationMaterial {
            certificate: Some(wire::X509Certificate {
                raw_bytes: wire::Base64Bytes(leaf.der().to_vec()),
            }),
            tlog_entries: vec![entry],
            ..Default::default()
        }),
        message_signature: Some(wire::MessageSignature {
            message_digest: Some(wire::HashOutput {
                algorithm: message_digest.algorithm().proto_name().into(),
                digest: wire::Base64Bytes(message_digest.as_bytes().to_vec()),
            }),
            signature: wire::Base64Bytes(signature),
        }),
        dsse_envelope: None,
    }
}

fn run(check: &Check<'_>, bundle: wire::Bundle, artifact: &Artifact<'_>) -> Result<Verdict, Error> {
    let checked = Checked::try_from(bundle)?;
    Ok(verify::verify(&checked, artifact, check.root, check.policy, &Options::new(check.now))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMIT: &[u8] = include_bytes!("../../fixtures/gitsign/offline.commit");

    fn vector() -> (Vec<u8>, Signature) {
        let (payload, armored) = object::split(Kind::Commit, COMMIT).unwrap();
        (payload, Signature::from_armored(&armored.unwrap()).unwrap())
    }

    #[test]
    fn public_good_offline_commit_verifies_with_no_network() {
        let (payload, sig) = vector();
        let root = TrustedRoot::public_good().unwrap();
        let policy = Policy::any()
            .with_identity(crate::policy::Matcher::exact("billy@chainguard.dev"))
            .with_issuer(crate::policy::Matcher::exact("https://accounts.google.com"));
        let check = Check { payload: &payload, root: &root, policy: &policy, now: 1_767_225_600 };
        let verdict = verify_offline(&check, &sig).unwrap();
        assert_eq!(verdict.tlog.as_ref().map(|t| t.log_index), Some(22_784_639));
        assert_eq!(sig.mode().unwrap(), RekorMode::Offline);
    }

    #[test]
    fn altered_payload_and_wrong_identity_fail_with_the_reason() {
        let (payload, sig) = vector();
        let root = TrustedRoot::public_good().unwrap();
        let any = Policy::any();
        let mut altered = payload.clone();
        altered.extend_from_slice(b"more\n");
        let check = Check { payload: &altered, root: &root, policy: &any, now: 1_767_225_600 };
        assert!(matches!(verify_offline(&check, &sig), Err(Error::DigestMismatch { .. })));
        let other = Policy::any().with_identity(crate::policy::Matcher::exact("x@y.z"));
        let check = Check { payload: &payload, root: &root, policy: &other, now: 1_767_225_600 };
        let err = verify_offline(&check, &sig).unwrap_err();
        assert!(format!("{:#}", anyhow::Error::new(err)).contains("identity"));
    }

    #[test]
    fn embedded_timestamp_tokens_are_checked_not_ignored() {
        let (payload, mut sig) = vector();
        sig.cms
            .unsigned
            .push((cms::OID_TIMESTAMP_TOKEN.into(), vec![vec![0x30, 0x03, 0x02, 0x01, 0x00]]));
        let root = TrustedRoot::public_good().unwrap();
        let any = Policy::any();
        let check = Check { payload: &payload, root: &root, policy: &any, now: 1_767_225_600 };
        let err = verify_offline(&check, &sig).unwrap_err();
        let text = format!("{:#}", anyhow::Error::new(err));
        assert!(text.contains("timestamp"), "{text}");
    }

    #[test]
    fn early_integer_layout_is_unsupported_not_a_panic() {
        let (_, mut sig) = vector();
        for (oid, values) in &mut sig.cms.unsigned {
            if oid == OID_GITSIGN_TLOG_ENTRY {
                *values = vec![vec![0x02, 0x04, 0x01, 0x5b, 0xad, 0x7f]];
            }
        }
        let err = sig.embedded_entry().unwrap_err();
        assert!(err.to_string().contains("unsupported"), "{err}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// A damaged signature (any byte of the DER) is an error, never a panic or a pass.
        #[test]
        fn damaged_signatures_are_rejected_without_panic(at in 0usize..8192, flip in 1u8..=255) {
            let (payload, armored) = object::split(Kind::Commit, COMMIT).unwrap();
            let text = String::from_utf8(armored.unwrap()).unwrap();
            let (_, mut der) = crate::encoding::pem_decode(&text).unwrap();
            let i = at % der.len();
            der[i] ^= flip;
            let armored = crate::encoding::pem_encode("SIGNED MESSAGE", &der);
            let root = TrustedRoot::public_good().unwrap();
            let any = Policy::any();
            let check = Check { payload: &payload, root: &root, policy: &any, now: 1_767_225_600 };
            if let Ok(sig) = Signature::from_armored(armored.as_bytes()) {
                proptest::prop_assert!(verify_offline(&check, &sig).is_err(), "byte {i} flipped");
            }
        }
    }
}
