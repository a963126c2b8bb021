//! Signing a commit or tag payload the way gitsign does (PROTOCOLS §7.2, §7.3): CMS signed
//! attributes over SHA-256(payload), one ECDSA signature over them with a certified
//! ephemeral key, and a Rekor entry in one of two modes.
//!
//! Both modes go through [`crate::sign::keyless::sign_digest`], which logs a hashedrekord
//! and runs the full verifier over the log's answer before returning: offline mode signs
//! SHA-256(signedAttrs) (so the CMS signature *is* the logged signature) and embeds the
//! entry; online mode signs the final commit ID and leaves the entry in the log.

use super::object::{self, Kind};
use super::{proto, Error, RekorMode};
use crate::crypto::{digest, HashAlgorithm, Signer};
use crate::http::BlockingClient;
use crate::sign::keyless::{sign_digest, Certified, KeylessConfig};
use crate::x509::cms::{self, UnsignedAttribute, OID_GITSIGN_TLOG_ENTRY, OID_TIMESTAMP_TOKEN};
use crate::x509::Certificate;

/// How to sign.
#[derive(Debug, Clone, Copy)]
pub struct SignOptions {
    /// Online or offline Rekor mode.
    pub mode: RekorMode,
    /// Put the rest of the CA's chain in the CMS too (`gitsign.includeChain`, a sigbox
    /// extension; gitsign itself writes only the leaf).
    pub include_chain: bool,
}

/// A finished signature.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The armored `SIGNED MESSAGE` (ends in a newline): what goes to stdout for git.
    pub armored: String,
    /// The leaf certificate that signed.
    pub certificate: Certificate,
    /// The object ID the signed object will get (logged in online mode).
    pub object_id: String,
    /// The Rekor entry (embedded in offline mode; in the log in online mode).
    pub log_index: i64,
}

/// Signs `payload` (a commit or tag without signature) at time `now`.
pub fn sign_payload(
    http: &BlockingClient,
    config: &KeylessConfig<'_>,
    certified: &Certified,
    payload: &[u8],
    options: &SignOptions,
    now: i64,
) -> Result<Signed, Error> {
    let leaf = &certified.certificate;
    // gitsign writes only the leaf; the chain comes from the trusted root.
    let chain =
        if options.include_chain { certified.chain.get(1..).unwrap_or_default() } else { &[] };
    let payload_digest = digest(HashAlgorithm::Sha256, payload);
    let attrs = cms::signed_attributes(payload_digest.as_bytes(), now)?;
    let attrs_digest = digest(HashAlgorithm::Sha256, &attrs);
    let kind = Kind::of_payload(payload);
    let armor = |der: &[u8]| crate::encoding::pem_encode("SIGNED MESSAGE", der);
    let object_id_with = |armored: &str| {
        object::object_id(kind, &object::with_signature(kind, payload, armored.as_bytes()))
    };
    let (armored, object_id, logged) = match options.mode {
        RekorMode::Offline => {
            let logged = sign_digest(http, config, certified, attrs_digest)?;
            let mut entry = first_entry(&logged)?;
            // gitsign leaves the body out; verifiers rebuild it from the signature.
            entry.canonicalized_body = Default::default();
            let value = cms::octet_string(&proto::encode(&entry))?;
            let mut unsigned =
                vec![UnsignedAttribute { oid: OID_GITSIGN_TLOG_ENTRY.into(), value_der: value }];
            // The logged signature is the CMS signature, so the bundle's timestamp (when a
            // TSA is configured) is over it already.
            unsigned.extend(bundle_timestamp_token(&logged)?);
            let signature = &logged.blob.signature;
            let armored =
                armor(&cms::detached_signed_data(leaf, chain, &attrs, signature, &unsigned)?);
            let id = object_id_with(&armored);
            (armored, id, logged)
        }
        RekorMode::Online => {
            let signature = certified.signer.sign_prehashed(attrs_digest.as_bytes())?;
            let unsigned = match config.tsa_url {
                Some(url) => {
                    let trusted = config.root.timestamp_authorities_for_x509();
                    let response = crate::tsa::timestamp(http, url, &signature, &trusted)
                        .map_err(|e| Error::Timestamp(e.to_string()))?;
                    vec![token_attribute(&response)?]
                }
                None => Vec::new(),
            };
            let armored =
                armor(&cms::detached_signed_data(leaf, chain, &attrs, &signature, &unsigned)?);
            // The object ID git will compute once the signature is in the object.
            let id = object_id_with(&armored);
            let logged =
                sign_digest(http, config, certified, digest(HashAlgorithm::Sha256, id.as_bytes()))?;
            (armored, id, logged)
        }
    };
    let log_index = first_entry(&logged)?.log_index;
    Ok(Signed { armored, certificate: leaf.clone(), object_id, log_index })
}

/// gitsign stores the TimeStampToken (not the whole response) as id-aa-timeStampToken.
fn token_attribute(response: &[u8]) -> Result<UnsignedAttribute, Error> {
    let (_, token) =
        crate::x509::tsp::parse_response(response).map_err(|e| Error::Timestamp(e.to_string()))?;
    let token = token.ok_or_else(|| Error::Timestamp("the TSA reply has no token".into()))?;
    Ok(UnsignedAttribute { oid: OID_TIMESTAMP_TOKEN.into(), value_der: token })
}

/// The timestamp token of `logged`'s bundle as an unsigned attribute, if it has one.
fn bundle_timestamp_token(
    logged: &crate::sign::keyless::KeylessSigned,
) -> Result<Option<UnsignedAttribute>, Error> {
    let response = logged
        .blob
        .bundle
        .verification_material
        .as_ref()
        .and_then(|m| m.timestamp_verification_data.as_ref())
        .and_then(|t| t.rfc3161_timestamps.first())
        .map(|t| t.signed_timestamp.0.clone());
    response.map(|r| token_attribute(&r)).transpose()
}

fn first_entry(
    logged: &crate::sign::keyless::KeylessSigned,
) -> Result<crate::bundle::wire::TransparencyLogEntry, Error> {
    logged
        .blob
        .bundle
        .verification_material
        .as_ref()
        .and_then(|m| m.tlog_entries.first().cloned())
        .ok_or(Error::NoLogEntry)
}

/// The `SIG_CREATED` status line git waits for (PROTOCOLS §7.1): detached, pkalgo and
/// hashalgo from the leaf's signature algorithm, class 00, time, SHA-1 fingerprint.
pub fn sig_created_line(leaf: &Certificate, now: i64) -> String {
    format!(
        "[GNUPG:] SIG_CREATED D {} {} 00 {now} {}",
        19,
        hash_algo_number(leaf),
        fingerprint(leaf)
    )
}

/// gpg's hash algorithm number for the leaf's signatureAlgorithm: 8 SHA-256, 9 SHA-384
/// (public-good leaves), 10 SHA-512.
fn hash_algo_number(leaf: &Certificate) -> u8 {
    match cms::certificate_signature_algorithm(leaf).as_deref() {
        Some("1.2.840.10045.4.3.3") => 9,
        Some("1.2.840.10045.4.3.4") => 10,
        _ => 8,
    }
}

/// The upper-case hex SHA-1 of the certificate DER (what gpgsm and gitsign print).
pub fn fingerprint(leaf: &Certificate) -> String {
    crate::encoding::hex_encode(crate::crypto::sha1_identifier(leaf.der())).to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sig_created_names_the_leaf_hash_and_fingerprint() {
        let commit = include_bytes!("../../fixtures/gitsign/offline.commit");
        let (_, armored) = object::split(Kind::Commit, commit).unwrap();
        let sig = super::super::verify::Signature::from_armored(&armored.unwrap()).unwrap();
        let leaf = sig.leaf().unwrap();
        let line = sig_created_line(leaf, 1_685_981_477);
        // Public-good leaves are signed ecdsa-with-SHA384: pkalgo 19, hashalgo 9.
        assert!(line.starts_with("[GNUPG:] SIG_CREATED D 19 9 00 1685981477 "), "{line}");
        let fpr = line.rsplit(' ').next().unwrap();
        assert_eq!(fpr.len(), 40);
        assert!(fpr.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
    }
}
