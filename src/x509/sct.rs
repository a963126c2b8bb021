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
    Err(bad_signature.or(outside_validity).unwrap_or(Error::UnknownLog { log_ids: unknown }))
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
        let log_id: [u8; 32] =
            sct.take(32, "log id")?.try_into().map_err(|_| Error::MalformedSctList("log id"))?;
        let timestamp_ms = u64::from_be_bytes(
            sct.take(8, "timestamp")?
                .try_into()
                .map_err(|_| Error::MalformedSctList("timestamp"))?,
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

/// Encodes SCTs as the contents of the embedded-SCT extension's extnValue: a DER OCTET
/// STRING around the TLS `SignedCertificateTimestampList` (RFC 6962 §3.3). The inverse
/// of [`embedded_scts`] for v1 SCTs.
///
/// Errors: [`Error::FieldTooLong`] when a field or the list exceeds its uint16 length.
pub fn encode_sct_list_extension(scts: &[Sct]) -> Result<Vec<u8>> {
    let mut list = Vec::new();
    for sct in scts {
        let mut one = vec![0u8];
        one.extend_from_slice(&sct.log_id);
        one.extend_from_slice(&sct.timestamp_ms.to_be_bytes());
        push_vector16(&mut one, &sct.extensions, "SCT extensions")?;
        one.push(sct.hash_algorithm);
        one.push(sct.signature_algorithm);
        push_vector16(&mut one, &sct.signature, "SCT signature")?;
        push_vector16(&mut list, &one, "SCT")?;
    }
    let mut tls = Vec::with_capacity(list.len() + 2);
    push_vector16(&mut tls, &list, "SCT list")?;
    OctetStringRef::new(&tls)
        .and_then(|octets| octets.to_der())
        .map_err(|source| Error::Encode { what: "SCT list extension", source })
}

fn push_vector16(out: &mut Vec<u8>, data: &[u8], what: &'static str) -> Result<()> {
    let len = u16::try_from(data.len()).map_err(|_| Error::FieldTooLong(what))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data);
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(der: &[u8]) -> Certificate {
        Certificate::from_der(der).unwrap()
    }

    fn log(spki: &[u8], valid_from: i64, valid_until: Option<i64>) -> CtLog {
        let key = PublicKey::from_spki_der(spki).unwrap();
        CtLog { log_id: key.key_id(), key, valid_from, valid_until }
    }

    fn ctfe_2022() -> CtLog {
        // validFor start 2022-10-20T00:00:00Z, open end.
        log(include_bytes!("../../fixtures/x509/ctfe-2022.spki.der"), 1666224000, None)
    }

    fn ctfe_test() -> CtLog {
        // 2021-03-14 .. 2022-10-31.
        log(include_bytes!("../../fixtures/x509/ctfe-test.spki.der"), 1615680000, Some(1667260799))
    }

    fn github_leaf() -> Certificate {
        cert(include_bytes!("../../fixtures/x509/github-leaf.der"))
    }

    fn intermediate() -> Certificate {
        cert(include_bytes!("../../fixtures/x509/fulcio-intermediate.der"))
    }

    #[test]
    fn github_leaf_sct_verifies_with_ctfe_2022() {
        let n = verify_embedded_scts(&github_leaf(), &intermediate(), &[ctfe_test(), ctfe_2022()])
            .unwrap();
        assert_eq!(n, 1);
        let scts = embedded_scts(&github_leaf()).unwrap();
        assert_eq!(scts.len(), 1);
        assert_eq!(scts[0].log_id, ctfe_2022().log_id);
        assert_eq!((scts[0].hash_algorithm, scts[0].signature_algorithm), (4, 3));
    }

    #[test]
    fn other_leaves_scts_verify() {
        for (leaf, issuer, logs) in [
            (
                cert(include_bytes!("../../fixtures/x509/dsse-2023-leaf.der")),
                intermediate(),
                vec![ctfe_2022()],
            ),
            (
                cert(include_bytes!("../../fixtures/x509/staging-leaf.der")),
                cert(include_bytes!("../../fixtures/x509/fulcio-staging-0.der")),
                vec![log(
                    include_bytes!("../../fixtures/x509/ctfe-staging-2022-2.spki.der"),
                    1656633600,
                    None,
                )],
            ),
        ] {
            assert_eq!(verify_embedded_scts(&leaf, &issuer, &logs).unwrap(), 1);
        }
    }

    #[test]
    fn static_ct_sct_with_extensions_verifies() {
        // log2026-1.ctfe.sigstage.dev is a static-CT log: its SCTs carry a leaf_index
        // extension, which the signed data must include.
        let leaf = cert(include_bytes!("../../fixtures/x509/staging-dsse-2026-leaf.der"));
        let issuer = cert(include_bytes!("../../fixtures/x509/fulcio-staging-0.der"));
        let scts = embedded_scts(&leaf).unwrap();
        assert_eq!(scts.len(), 1);
        assert!(!scts[0].extensions.is_empty());
        let log2026 = log(
            include_bytes!("../../fixtures/x509/ctfe-staging-log2026-1.spki.der"),
            1768348800,
            None,
        );
        assert_eq!(scts[0].log_id, log2026.log_id);
        assert_eq!(verify_embedded_scts(&leaf, &issuer, &[log2026]).unwrap(), 1);
        let root = cert(include_bytes!("../../fixtures/x509/fulcio-staging-1.der"));
        let chain = [issuer, root];
        assert!(crate::x509::verify_chain(&leaf, &chain, leaf.not_before()).is_ok());
    }

    #[test]
    fn sct_with_only_unknown_log_is_rejected() {
        let err =
            verify_embedded_scts(&github_leaf(), &intermediate(), &[ctfe_test()]).unwrap_err();
        assert!(matches!(err, Error::UnknownLog { .. }), "{err}");
        let err = verify_embedded_scts(&github_leaf(), &intermediate(), &[]).unwrap_err();
        assert!(matches!(err, Error::UnknownLog { .. }), "{err}");
    }

    #[test]
    fn sct_under_wrong_key_with_matching_id_is_rejected() {
        let mut wrong = ctfe_test();
        wrong.log_id = ctfe_2022().log_id;
        wrong.valid_until = None;
        let err = verify_embedded_scts(&github_leaf(), &intermediate(), &[wrong]).unwrap_err();
        assert!(matches!(err, Error::BadSctSignature { .. }), "{err}");
    }

    #[test]
    fn sct_with_wrong_issuer_is_rejected() {
        let root = cert(include_bytes!("../../fixtures/x509/fulcio-root.der"));
        let err = verify_embedded_scts(&github_leaf(), &root, &[ctfe_2022()]).unwrap_err();
        assert!(matches!(err, Error::BadSctSignature { .. }), "{err}");
    }

    #[test]
    fn sct_outside_log_validity_is_rejected() {
        let mut log = ctfe_2022();
        log.valid_until = Some(1700000000);
        let err = verify_embedded_scts(&github_leaf(), &intermediate(), &[log]).unwrap_err();
        assert!(matches!(err, Error::SctOutsideLogValidity { .. }), "{err}");
        let mut log = ctfe_2022();
        log.valid_from = 1710888076;
        let err = verify_embedded_scts(&github_leaf(), &intermediate(), &[log]).unwrap_err();
        assert!(matches!(err, Error::SctOutsideLogValidity { .. }), "{err}");
    }

    #[test]
    fn sct_with_tampered_signature_is_rejected() {
        let scts = embedded_scts(&github_leaf()).unwrap();
        let sct = &scts[0];
        let tbs = precert_tbs(&github_leaf()).unwrap();
        let spki = intermediate().public_key().spki_der().to_vec();
        let message = sct_signed_data(&tbs, &spki, sct.timestamp_ms, &sct.extensions).unwrap();
        let key = ctfe_2022().key;
        key.verify(SignatureScheme::EcdsaSha256, &message, &sct.signature).unwrap();
        let mut bad = sct.signature.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let err = key.verify(SignatureScheme::EcdsaSha256, &message, &bad).unwrap_err();
        assert!(matches!(err, crate::crypto::Error::BadSignature), "{err:?}");
        // Tampering inside the certificate extension itself.
        let der = include_bytes!("../../fixtures/x509/github-leaf.der");
        let sig_pos = der.windows(sct.signature.len()).position(|w| w == &sct.signature[..]);
        let mut der = der.to_vec();
        der[sig_pos.unwrap() + sct.signature.len() - 1] ^= 1;
        let err = verify_embedded_scts(&cert(&der), &intermediate(), &[ctfe_2022()]).unwrap_err();
        assert!(matches!(err, Error::BadSctSignature { .. }), "{err}");
    }

    #[test]
    fn sct_list_extension_round_trips_byte_for_byte() {
        for leaf in [
            github_leaf(),
            cert(include_bytes!("../../fixtures/x509/dsse-2023-leaf.der")),
            cert(include_bytes!("../../fixtures/x509/staging-leaf.der")),
        ] {
            let scts = embedded_scts(&leaf).unwrap();
            let encoded = encode_sct_list_extension(&scts).unwrap();
            assert_eq!(encoded, leaf.extension_value(&oids::CT_SCT_LIST).unwrap());
        }
    }

    #[test]
    fn precert_tbs_drops_only_the_sct_extension() {
        let leaf = github_leaf();
        let tbs = precert_tbs(&leaf).unwrap();
        let ext = leaf.extension_value(&oids::CT_SCT_LIST).unwrap();
        assert!(tbs.len() < leaf.tbs_der().len() - ext.len());
        assert!(tbs.windows(ext.len()).all(|w| w != ext));
        // A certificate without SCTs keeps its TBS unchanged.
        let root = cert(include_bytes!("../../fixtures/x509/fulcio-root.der"));
        assert_eq!(precert_tbs(&root).unwrap(), root.tbs_der());
        assert!(matches!(verify_embedded_scts(&root, &root, &[ctfe_2022()]), Err(Error::NoScts)));
    }

    #[test]
    fn sct_signed_data_layout_matches_rfc6962() {
        let data = sct_signed_data(b"TBS", b"spki", 0x0102030405060708, b"ex").unwrap();
        assert_eq!(&data[..2], &[0, 0]);
        assert_eq!(&data[2..10], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&data[10..12], &[0, 1]);
        assert_eq!(&data[12..44], digest(HashAlgorithm::Sha256, b"spki").as_bytes());
        assert_eq!(&data[44..50], &[0, 0, 3, b'T', b'B', b'S']);
        assert_eq!(&data[50..], &[0, 2, b'e', b'x']);
        let err = sct_signed_data(b"", b"", 0, &vec![0; 70000]).unwrap_err();
        assert!(matches!(err, Error::FieldTooLong("extensions")), "{err:?}");
    }

    #[test]
    fn sct_with_extensions_round_trips_through_parse_and_verify() {
        use crate::crypto::{EcdsaP256Signer, Signer};
        let signer = EcdsaP256Signer::generate();
        let key = signer.public_key();
        let log =
            CtLog { log_id: key.key_id(), key: key.clone(), valid_from: 0, valid_until: None };
        let leaf = github_leaf();
        let tbs = precert_tbs(&leaf).unwrap();
        let extensions = b"\x00\x00\x05\x00\x00\x00\x00\x2a".to_vec();
        let ts = 1710888076000u64;
        let spki = intermediate().public_key().spki_der().to_vec();
        let message = sct_signed_data(&tbs, &spki, ts, &extensions).unwrap();
        let signature = signer.sign(&message).unwrap();
        let mut sct = vec![0u8];
        sct.extend_from_slice(&log.log_id);
        sct.extend_from_slice(&ts.to_be_bytes());
        sct.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        sct.extend_from_slice(&extensions);
        sct.extend_from_slice(&[4, 3]);
        sct.extend_from_slice(&(signature.len() as u16).to_be_bytes());
        sct.extend_from_slice(&signature);
        let mut list = ((sct.len() + 2) as u16).to_be_bytes().to_vec();
        list.extend_from_slice(&(sct.len() as u16).to_be_bytes());
        list.extend_from_slice(&sct);
        let parsed = parse_sct_list(&list).unwrap();
        assert_eq!(parsed[0].extensions, extensions);
        let message2 =
            sct_signed_data(&tbs, &spki, parsed[0].timestamp_ms, &parsed[0].extensions).unwrap();
        log.key.verify(SignatureScheme::EcdsaSha256, &message2, &parsed[0].signature).unwrap();
        // Dropping the extensions breaks the signature.
        let message3 = sct_signed_data(&tbs, &spki, ts, b"").unwrap();
        let err = log.key.verify(SignatureScheme::EcdsaSha256, &message3, &signature).unwrap_err();
        assert!(matches!(err, crate::crypto::Error::BadSignature), "{err:?}");
    }

    #[test]
    fn sct_list_with_bad_lengths_is_rejected() {
        for bad in [&[][..], &[0, 5, 0, 3, 0], &[0, 0, 1]] {
            let err = parse_sct_list(bad).unwrap_err();
            assert!(matches!(err, Error::MalformedSctList(_)), "{bad:?}: {err:?}");
        }
        assert!(parse_sct_list(&[0, 0]).unwrap().is_empty());
        // A v2 SCT (version byte 1) is skipped, not misread.
        assert!(parse_sct_list(&[0, 3, 0, 1, 1]).unwrap().is_empty());
    }
}
