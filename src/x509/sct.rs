//! Embedded Signed Certificate Timestamps (RFC 6962 §3.2–3.3, PROTOCOLS §3.5).
//!
//! The SCT list sits in extension 1.3.6.1.4.1.11129.2.4.2, double-wrapped: the extnValue
//! OCTET STRING holds a DER OCTET STRING whose contents are the TLS-encoded
//! `SignedCertificateTimestampList`. Each SCT signs a precert entry: the final
//! certificate's TBS with the SCT extension removed (lengths re-encoded), prefixed by
//! SHA-256 of the issuer's SPKI. Which logs are trusted is the caller's input.

use der::asn1::OctetStringRef;
use der::{Decode, Encode};

use super::{oids, Certificate, Error, Result};
use crate::crypto::{digest, HashAlgorithm, PublicKey, SignatureScheme};

/// A trusted CT log key (a `ctlogs` entry of a trusted root).
#[derive(Debug, Clone)]
pub struct CtLog {
    /// SHA-256 of the log's SPKI DER (`logId.keyId`).
    pub log_id: [u8; 32],
    /// The log's public key.
    pub key: PublicKey,
    /// Start of the key's validity (unix seconds, inclusive).
    pub valid_from: i64,
    /// End of the key's validity (unix seconds, inclusive); `None` while active.
    pub valid_until: Option<i64>,
}

/// One parsed SCT (RFC 6962 §3.2, version 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sct {
    /// The log's ID: SHA-256 of its SPKI.
    pub log_id: [u8; 32],
    /// Milliseconds since the epoch.
    pub timestamp_ms: u64,
    /// The opaque `CtExtensions` bytes.
    pub extensions: Vec<u8>,
    /// TLS HashAlgorithm code (4 = SHA-256).
    pub hash_algorithm: u8,
    /// TLS SignatureAlgorithm code (3 = ECDSA, 1 = RSA).
    pub signature_algorithm: u8,
    /// The signature bytes (DER ECDSA for ECDSA logs).
    pub signature: Vec<u8>,
}

/// Verifies the SCTs embedded in `leaf`, whose direct issuer is `issuer`, against the
/// trusted `logs`. Returns how many SCTs verified (at least 1).
///
/// An SCT counts only if its log is in `logs`, its timestamp lies inside that log key's
/// validity, and its signature over the precert entry verifies. SCTs of other versions
/// are skipped.
///
/// Errors (when none verifies): [`Error::NoScts`] when there is no SCT extension or it
/// is empty, [`Error::MalformedSctList`], and otherwise the most telling failure:
/// [`Error::BadSctSignature`], then [`Error::SctOutsideLogValidity`], then
/// [`Error::UnknownLog`].
pub fn verify_embedded_scts(
    leaf: &Certificate,
    issuer: &Certificate,
    logs: &[CtLog],
) -> Result<usize> {
    let scts = embedded_scts(leaf)?;
    if scts.is_empty() {
        return Err(Error::NoScts);
    }
    let tbs = precert_tbs(leaf)?;
    let issuer_spki = issuer.public_key().spki_der();
    let mut verified = 0usize;
    let mut bad_signature = None;
    let mut outside_validity = None;
    let mut unknown = Vec::new();
    for sct in &scts {
        let log_hex = crate::encoding::hex_encode(sct.log_id);
        let Some(log) = logs.iter().find(|l| l.log_id == sct.log_id) else {
            unknown.push(log_hex);
            continue;
        };
        let seconds = i64::try_from(sct.timestamp_ms / 1000).unwrap_or(i64::MAX);
        if seconds < log.valid_from || log.valid_until.is_some_and(|end| seconds > end) {
            outside_validity = Some(Error::SctOutsideLogValidity {
                log_id: log_hex,
                timestamp_ms: sct.timestamp_ms,
            });
            continue;
        }
        let message = sct_signed_data(&tbs, issuer_spki, sct.timestamp_ms, &sct.extensions)?;
        let ok = match sct_scheme(sct.hash_algorithm, sct.signature_algorithm) {
            Ok(scheme) => log.key.verify(scheme, &message, &sct.signature).is_ok(),
            Err(_) => false,
        };
        if ok {
            verified += 1;
        } else {
            bad_signature = Some(Error::BadSctSignature { log_id: log_hex });
        }
    }
    if verified > 0 {
        return Ok(verified);
    }
    Err(bad_signature
        .or(outside_validity)
        .unwrap_or(Error::UnknownLog { log_ids: unknown }))
}

/// The SCTs of `cert`'s embedded SCT list extension, in order (empty when absent).
/// SCTs whose version is not v1 (0) are skipped.
pub fn embedded_scts(cert: &Certificate) -> Result<Vec<Sct>> {
    let Some(value) = cert.extension_value(&oids::CT_SCT_LIST) else {
        return Ok(Vec::new());
    };
    let inner = OctetStringRef::from_der(value)
        .map_err(|_| Error::MalformedSctList("extension is not an OCTET STRING"))?;
    parse_sct_list(inner.as_bytes())
}

/// Parses a TLS `SignedCertificateTimestampList` (RFC 6962 §3.3).
pub fn parse_sct_list(bytes: &[u8]) -> Result<Vec<Sct>> {
    let mut reader = TlsReader(bytes);
    let list = reader.vector16("list")?;
    if !reader.0.is_empty() {
        return Err(Error::MalformedSctList("trailing data after list"));
    }
    let mut list = TlsReader(list);
    let mut out = Vec::new();
    while !list.0.is_empty() {
        let raw = list.vector16("sct")?;
        let mut sct = TlsReader(raw);
        if sct.u8("version")? != 0 {
            continue;
        }
        let log_id: [u8; 32] = sct
            .take(32, "log id")?
            .try_into()
            .map_err(|_| Error::MalformedSctList("log id"))?;
        let timestamp_ms = u64::from_be_bytes(
            sct.take(8, "timestamp")?.try_into().map_err(|_| Error::MalformedSctList("timestamp"))?,
        );
        let extensions = sct.vector16("extensions")?.to_vec();
        let hash_algorithm = sct.u8("hash algorithm")?;
        let signature_algorithm = sct.u8("signature algorithm")?;
        let signature = sct.vector16("signature")?.to_vec();
        if !sct.0.is_empty() {
            return Err(Error::MalformedSctList("trailing data after sct"));
        }
        out.push(Sct {
            log_id,
            timestamp_ms,
            extensions,
            hash_algorithm,
            signature_algorithm,
            signature,
        });
    }
    Ok(out)
}

/// The TBSCertificate DER of `cert` without the SCT list extension: what the CT log saw
/// (minus the poison). All lengths are re-encoded.
pub fn precert_tbs(cert: &Certificate) -> Result<Vec<u8>> {
    let mut tbs = cert.parsed().tbs_certificate.clone();
    if let Some(exts) = tbs.extensions.as_mut() {
        exts.retain(|e| e.extn_id != oids::CT_SCT_LIST);
        if exts.is_empty() {
            tbs.extensions = None;
        }
    }
    tbs.to_der().map_err(|source| Error::Encode { what: "precertificate TBS", source })
}

/// The bytes an SCT signature covers for a precert entry (RFC 6962 §3.2
/// `digitally-signed struct`): version 0, signature_type 0 (certificate_timestamp),
/// `timestamp_ms`, entry_type 1 (precert_entry), SHA-256(`issuer_spki_der`), the uint24
/// length-prefixed `tbs_without_sct`, and the uint16 length-prefixed `extensions`.
///
/// Errors: [`Error::FieldTooLong`] when the TBS exceeds 2^24-1 bytes or the extensions
/// 2^16-1 bytes.
pub fn sct_signed_data(
    tbs_without_sct: &[u8],
    issuer_spki_der: &[u8],
    timestamp_ms: u64,
    extensions: &[u8],
) -> Result<Vec<u8>> {
    let tbs_len = u32::try_from(tbs_without_sct.len())
        .ok()
        .filter(|len| *len < (1 << 24))
        .ok_or(Error::FieldTooLong("precertificate TBS"))?;
    let ext_len = u16::try_from(extensions.len()).map_err(|_| Error::FieldTooLong("extensions"))?;
    let issuer_key_hash = digest(HashAlgorithm::Sha256, issuer_spki_der);
    let mut out = Vec::with_capacity(tbs_without_sct.len() + extensions.len() + 50);
    out.push(0); // sct_version v1
    out.push(0); // signature_type certificate_timestamp
    out.extend_from_slice(&timestamp_ms.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // entry_type precert_entry
    out.extend_from_slice(issuer_key_hash.as_bytes());
    out.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
    out.extend_from_slice(tbs_without_sct);
    out.extend_from_slice(&ext_len.to_be_bytes());
    out.extend_from_slice(extensions);
    Ok(out)
}

/// The signature scheme for an SCT's TLS (hash, signature) algorithm pair.
fn sct_scheme(hash: u8, signature: u8) -> Result<SignatureScheme> {
    Ok(match (hash, signature) {
        (4, 3) => SignatureScheme::EcdsaSha256,
        (5, 3) => SignatureScheme::EcdsaSha384,
        (6, 3) => SignatureScheme::EcdsaSha512,
        (4, 1) => SignatureScheme::RsaPkcs1Sha256,
        (5, 1) => SignatureScheme::RsaPkcs1Sha384,
        (6, 1) => SignatureScheme::RsaPkcs1Sha512,
        // RFC 8446 ed25519 (0x0807) as a hash/signature pair.
        (8, 7) => SignatureScheme::Ed25519,
        _ => return Err(Error::UnsupportedSctAlgorithm { hash, signature }),
    })
}

/// Reads TLS presentation-language fields, checking every length.
struct TlsReader<'a>(&'a [u8]);

impl<'a> TlsReader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        let head = self.0.get(..n).ok_or(Error::MalformedSctList(what))?;
        self.0 = self.0.get(n..).ok_or(Error::MalformedSctList(what))?;
        Ok(head)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(*self.take(1, what)?.first().ok_or(Error::MalformedSctList(what))?)
    }

    fn vector16(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let len = self.take(2, what)?;
        let len = usize::from(u16::from_be_bytes([
            *len.first().ok_or(Error::MalformedSctList(what))?,
            *len.get(1).ok_or(Error::MalformedSctList(what))?,
        ]));
        self.take(len, what)
    }
}
