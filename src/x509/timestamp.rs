//! RFC 3161 timestamp verification (PROTOCOLS §8.2; RFC 3161 §2.4, RFC 5652 §5).
//!
//! Input is a DER `TimeStampResp` (what bundles store) or a bare `TimeStampToken`
//! ContentInfo (what gitsign stores). The token's structure is walked with the raw TLV
//! reader so the signature is checked over the signedAttrs exactly as sent (re-tagged as
//! SET 0x31, RFC 5652 §5.4), not over a re-sorted re-encoding. Which TSAs are trusted,
//! and their validity, is the caller's input; nonces are not checked here (sigstore
//! clients do not keep them).

use der::asn1::OctetStringRef;
use der::{Decode, Encode};
use x509_cert::attr::Attribute;

use super::chain::{verify_path, Purpose};
use super::tlv::{children, read_single, Tlv};
use super::tsp::hash_from_oid;
use super::{oids, Certificate, Error, Result};
use crate::crypto::{digest, HashAlgorithm, SignatureScheme};

/// A trusted timestamp authority (a `timestampAuthorities` entry of a trusted root).
#[derive(Debug, Clone)]
pub struct TimestampAuthority {
    /// The TSA chain: signing (leaf) certificate first, then intermediates, root last.
    pub chain: Vec<Certificate>,
    /// Start of the authority's validity (unix seconds, inclusive).
    pub valid_from: i64,
    /// End of the authority's validity (unix seconds, inclusive); `None` while active.
    pub valid_until: Option<i64>,
    /// The authority's URI (identifies it when counting distinct timestamps).
    pub uri: String,
}

/// A timestamp whose imprint, signature and chain were checked by [`verify_timestamp`].
/// Only that function makes one.
#[derive(Debug, Clone)]
pub struct VerifiedTimestamp {
    gen_time: i64,
    authority_uri: String,
}

impl VerifiedTimestamp {
    /// The TSTInfo genTime in unix seconds (fractions of a second dropped).
    pub fn gen_time(&self) -> i64 {
        self.gen_time
    }

    /// The URI of the authority whose chain verified it.
    pub fn authority_uri(&self) -> &str {
        &self.authority_uri
    }
}

/// Verifies an RFC 3161 timestamp over `signed_bytes` (in Sigstore: the signature bytes,
/// PROTOCOLS §8.1) against the trusted `authorities`.
///
/// `response_der` is a `TimeStampResp` (status must be granted, 0 or 1) or a bare
/// `TimeStampToken`. Checks: the messageImprint uses SHA-256/384/512 and equals
/// H(`signed_bytes`); the token is SignedData with one SignerInfo over id-ct-TSTInfo,
/// whose signedAttrs carry contentType TSTInfo and messageDigest = H(eContent); for an
/// authority whose leaf (`chain[0]`) is the signer: any token certificate naming the
/// signer equals that leaf, a signing-certificate (v1/v2) attribute hashes to it, the
/// signature verifies with its key, the chain verifies at genTime with the leaf's
/// extKeyUsage exactly timeStamping (critical), and genTime is inside the authority's
/// validity.
///
/// Errors: [`Error::NoTimestampAuthority`] for an empty list, parse errors
/// ([`Error::MalformedTimestamp`], [`Error::TimestampDer`]),
/// [`Error::TimestampNotGranted`], [`Error::UnsupportedImprintHash`],
/// [`Error::ImprintMismatch`], [`Error::MessageDigestMismatch`],
/// [`Error::UnknownTimestampAuthority`] when no authority's leaf is the signer, else the
/// failure for the signer's authority.
pub fn verify_timestamp(
    response_der: &[u8],
    signed_bytes: &[u8],
    authorities: &[TimestampAuthority],
) -> Result<VerifiedTimestamp> {
    if authorities.is_empty() {
        return Err(Error::NoTimestampAuthority);
    }
    let token = parse_token(response_der)?;
    let tst = parse_tst_info(token.tst_info)?;

    let imprint_hash = hash_from_oid(&tst.imprint_algorithm)
        .ok_or_else(|| Error::UnsupportedImprintHash(tst.imprint_algorithm.to_string()))?;
    if digest(imprint_hash, signed_bytes).as_bytes() != tst.imprint {
        return Err(Error::ImprintMismatch);
    }

    let signer = &token.signer;
    let digest_hash = hash_from_oid(&signer.info.digest_alg.oid)
        .ok_or_else(|| Error::UnsupportedImprintHash(signer.info.digest_alg.oid.to_string()))?;
    let attrs = signer
        .info
        .signed_attrs
        .as_ref()
        .map(|set| set.as_slice())
        .ok_or(Error::MalformedTimestamp("signer info has no signed attributes"))?;
    let content_type = attribute(attrs, oids::ATTR_CONTENT_TYPE)
        .ok_or(Error::MalformedTimestamp("no contentType attribute"))?;
    if content_type.decode_as::<const_oid::ObjectIdentifier>().ok() != Some(oids::TST_INFO) {
        return Err(Error::MalformedTimestamp("contentType attribute is not TSTInfo"));
    }
    let message_digest = attribute(attrs, oids::ATTR_MESSAGE_DIGEST)
        .ok_or(Error::MalformedTimestamp("no messageDigest attribute"))?
        .decode_as::<OctetStringRef<'_>>()
        .map_err(|source| Error::TimestampDer { what: "messageDigest attribute", source })?;
    if digest(digest_hash, token.tst_info).as_bytes() != message_digest.as_bytes() {
        return Err(Error::MessageDigestMismatch);
    }
    let scheme = signature_scheme(&signer.info.signature_algorithm.oid, digest_hash)?;

    let mut failure = None;
    for authority in authorities {
        let Some(leaf) = authority.chain.first() else {
            continue;
        };
        if !signer_is(&signer.info.sid, leaf) {
            continue;
        }
        let result = check_authority(authority, leaf, &token, attrs, scheme, tst.gen_time);
        match result {
            Ok(()) => {
                return Ok(VerifiedTimestamp {
                    gen_time: tst.gen_time,
                    authority_uri: authority.uri.clone(),
                })
            }
            Err(e) => failure = Some(e),
        }
    }
    Err(failure.unwrap_or(Error::UnknownTimestampAuthority))
}

fn check_authority(
    authority: &TimestampAuthority,
    leaf: &Certificate,
    token: &Token<'_>,
    attrs: &[Attribute],
    scheme: SignatureScheme,
    gen_time: i64,
) -> Result<()> {
    for cert in &token.certificates {
        if signer_is(&token.signer.info.sid, cert) && cert != leaf {
            return Err(Error::TokenCertificateMismatch);
        }
    }
    check_signing_certificate(attrs, leaf)?;
    leaf.public_key()
        .verify(scheme, &token.signer.signed_attrs_der, token.signer.info.signature.as_bytes())
        .map_err(|_| Error::BadTimestampSignature)?;
    let rest = authority.chain.get(1..).unwrap_or_default();
    verify_path(leaf, rest, gen_time, Purpose::TimeStamping)?;
    if gen_time < authority.valid_from || authority.valid_until.is_some_and(|end| gen_time > end) {
        return Err(Error::GenTimeOutsideAuthority { gen_time });
    }
    Ok(())
}

/// The parts of a TimeStampToken we check.
struct Token<'a> {
    /// The eContent octets: the DER TSTInfo.
    tst_info: &'a [u8],
    certificates: Vec<Certificate>,
    signer: Signer,
}

struct Signer {
    info: cms::signed_data::SignerInfo,
    /// The signedAttrs exactly as sent, with the `[0]` tag replaced by SET (0x31).
    signed_attrs_der: Vec<u8>,
}

fn parse_token(input: &[u8]) -> Result<Token<'_>> {
    let outer = read_single(input, 0x30)?;
    let parts = children(outer.value)?;
    let content_info = match parts.first().map(|t| t.tag) {
        // A bare ContentInfo starts with its contentType OID.
        Some(0x06) => outer,
        // TimeStampResp: PKIStatusInfo, then the token.
        Some(0x30) => {
            let status_info = children(parts.first().map(|t| t.value).unwrap_or_default())?;
            let status = status_info
                .first()
                .filter(|t| t.tag == 0x02)
                .ok_or(Error::MalformedTimestamp("PKIStatusInfo without status"))?;
            let status = small_uint(status.value)?;
            if status > 1 {
                return Err(Error::TimestampNotGranted(status));
            }
            if parts.len() != 2 {
                return Err(Error::MalformedTimestamp("response without exactly one token"));
            }
            *parts.get(1).ok_or(Error::MalformedTimestamp("response without token"))?
        }
        _ => return Err(Error::MalformedTimestamp("neither TimeStampResp nor ContentInfo")),
    };
    let ci = children(content_info.value)?;
    let (Some(content_type), Some(explicit), None) = (ci.first(), ci.get(1), ci.get(2)) else {
        return Err(Error::MalformedTimestamp("ContentInfo shape"));
    };
    if content_type.whole != oid_der(oids::SIGNED_DATA)?.as_slice() || explicit.tag != 0xa0 {
        return Err(Error::MalformedTimestamp("token is not SignedData"));
    }
    let signed_data = read_single(explicit.value, 0x30)?;
    let fields = children(signed_data.value)?;
    let encap = fields
        .get(2)
        .filter(|t| t.tag == 0x30)
        .ok_or(Error::MalformedTimestamp("SignedData without encapContentInfo"))?;
    let mut certificates = Vec::new();
    let mut signer_infos = None;
    for field in fields.get(3..).unwrap_or_default() {
        match field.tag {
            0xa0 => {
                for choice in children(field.value)? {
                    // Only plain certificates (not attribute or other certificate choices).
                    if choice.tag == 0x30 {
                        certificates.push(Certificate::from_der(choice.whole)?);
                    }
                }
            }
            0xa1 => {}
            0x31 => signer_infos = Some(*field),
            _ => return Err(Error::MalformedTimestamp("unexpected SignedData field")),
        }
    }
    let tst_info = parse_encapsulated(encap)?;
    let signer_infos = children(
        signer_infos.ok_or(Error::MalformedTimestamp("SignedData without signerInfos"))?.value,
    )?;
    let [signer_info] = signer_infos.as_slice() else {
        return Err(Error::MalformedTimestamp("token does not have exactly one signer"));
    };
    Ok(Token { tst_info, certificates, signer: parse_signer(signer_info)? })
}

/// Returns the eContent octets of an EncapsulatedContentInfo that must hold TSTInfo.
fn parse_encapsulated<'a>(encap: &Tlv<'a>) -> Result<&'a [u8]> {
    let parts = children(encap.value)?;
    let (Some(content_type), Some(explicit)) = (parts.first(), parts.get(1)) else {
        return Err(Error::MalformedTimestamp("encapContentInfo without eContent"));
    };
    if content_type.whole != oid_der(oids::TST_INFO)?.as_slice() || explicit.tag != 0xa0 {
        return Err(Error::MalformedTimestamp("eContentType is not TSTInfo"));
    }
    Ok(read_single(explicit.value, 0x04)?.value)
}

fn parse_signer(tlv: &Tlv<'_>) -> Result<Signer> {
    let info = cms::signed_data::SignerInfo::from_der(tlv.whole)
        .map_err(|source| Error::TimestampDer { what: "SignerInfo", source })?;
    let raw_attrs = children(tlv.value)?
        .into_iter()
        .find(|t| t.tag == 0xa0)
        .ok_or(Error::MalformedTimestamp("signer info has no signed attributes"))?;
    let mut signed_attrs_der = raw_attrs.whole.to_vec();
    if let Some(tag) = signed_attrs_der.first_mut() {
        *tag = 0x31;
    }
    Ok(Signer { info, signed_attrs_der })
}

/// The TSTInfo fields we check (RFC 3161 §2.4.2).
struct TstInfo {
    imprint_algorithm: const_oid::ObjectIdentifier,
    imprint: Vec<u8>,
    gen_time: i64,
}

fn parse_tst_info(der_bytes: &[u8]) -> Result<TstInfo> {
    let tst = read_single(der_bytes, 0x30)?;
    let fields = children(tst.value)?;
    // version, policy, messageImprint, serialNumber, genTime, then optional fields.
    let imprint = fields
        .get(2)
        .filter(|t| t.tag == 0x30)
        .ok_or(Error::MalformedTimestamp("TSTInfo without messageImprint"))?;
    let gen_time = fields
        .get(4)
        .filter(|t| t.tag == 0x18)
        .ok_or(Error::MalformedTimestamp("TSTInfo without genTime"))?;
    if fields.first().map(|v| v.value) != Some(&[1u8][..]) {
        return Err(Error::MalformedTimestamp("TSTInfo version is not 1"));
    }
    let imprint_parts = children(imprint.value)?;
    let (Some(algorithm), Some(hashed), None) =
        (imprint_parts.first(), imprint_parts.get(1), imprint_parts.get(2))
    else {
        return Err(Error::MalformedTimestamp("messageImprint shape"));
    };
    let algorithm = spki::AlgorithmIdentifierOwned::from_der(algorithm.whole)
        .map_err(|source| Error::TimestampDer { what: "messageImprint algorithm", source })?;
    if hashed.tag != 0x04 {
        return Err(Error::MalformedTimestamp("hashedMessage is not an OCTET STRING"));
    }
    Ok(TstInfo {
        imprint_algorithm: algorithm.oid,
        imprint: hashed.value.to_vec(),
        gen_time: parse_generalized_time(gen_time.value)?,
    })
}

/// Parses `YYYYMMDDHHMMSS[.f*]Z` (RFC 3161 §2.4.2 allows fractions) to unix seconds.
fn parse_generalized_time(text: &[u8]) -> Result<i64> {
    let bad = || Error::MalformedTimestamp("genTime");
    let text = text.strip_suffix(b"Z").ok_or(Error::MalformedTimestamp("genTime"))?;
    let (main, fraction) = match text.iter().position(|b| *b == b'.') {
        Some(dot) => (text.get(..dot).unwrap_or_default(), text.get(dot + 1..)),
        None => (text, None),
    };
    if main.len() != 14 || !main.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    if let Some(f) = fraction {
        if f.is_empty() || !f.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
    }
    let num = |range: std::ops::Range<usize>| -> u16 {
        main.get(range)
            .unwrap_or_default()
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'))
    };
    let byte = |range| u8::try_from(num(range)).map_err(|_| Error::MalformedTimestamp("genTime"));
    let month = time::Month::try_from(byte(4..6)?).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(i32::from(num(0..4)), month, byte(6..8)?)
        .map_err(|_| bad())?;
    // A leap second (:60) is read as the second after :59.
    let second = byte(12..14)?;
    let leap = i64::from(second == 60);
    let clock =
        time::Time::from_hms(byte(8..10)?, byte(10..12)?, second.min(59)).map_err(|_| bad())?;
    Ok(date.with_time(clock).assume_utc().unix_timestamp() + leap)
}

fn attribute(attrs: &[Attribute], oid: const_oid::ObjectIdentifier) -> Option<&der::Any> {
    attrs.iter().find(|a| a.oid == oid).and_then(|a| a.values.iter().next())
}

/// Checks the ESS signing-certificate attribute (RFC 5035 v2, RFC 2634 v1) if present:
/// its first certHash must be the hash of the TSA leaf.
fn check_signing_certificate(attrs: &[Attribute], leaf: &Certificate) -> Result<()> {
    let (value, v2) = match (
        attribute(attrs, oids::ATTR_SIGNING_CERTIFICATE_V2),
        attribute(attrs, oids::ATTR_SIGNING_CERTIFICATE),
    ) {
        (Some(v), _) => (v, true),
        (None, Some(v)) => (v, false),
        (None, None) => return Ok(()),
    };
    let encoded = value
        .to_der()
        .map_err(|source| Error::Encode { what: "signing-certificate attribute", source })?;
    let outer = read_single(&encoded, 0x30)?;
    let certs = children(outer.value)?;
    let certs = certs
        .first()
        .filter(|t| t.tag == 0x30)
        .ok_or(Error::MalformedTimestamp("signing-certificate without certs"))?;
    let first = children(certs.value)?;
    let first = first
        .first()
        .filter(|t| t.tag == 0x30)
        .ok_or(Error::MalformedTimestamp("signing-certificate without ESSCertID"))?;
    let parts = children(first.value)?;
    let (hash_alg, hash) = match parts.first() {
        Some(alg) if v2 && alg.tag == 0x30 => {
            let alg = spki::AlgorithmIdentifierOwned::from_der(alg.whole)
                .map_err(|source| Error::TimestampDer { what: "ESSCertIDv2 algorithm", source })?;
            (alg.oid, parts.get(1))
        }
        _ if v2 => (oids::SHA256, parts.first()),
        _ => (oids::SHA1, parts.first()),
    };
    let hash = hash
        .filter(|t| t.tag == 0x04)
        .ok_or(Error::MalformedTimestamp("ESSCertID without certHash"))?;
    let expected = if hash_alg == oids::SHA1 {
        crate::crypto::sha1_identifier(leaf.der()).to_vec()
    } else {
        let alg = hash_from_oid(&hash_alg)
            .ok_or_else(|| Error::UnsupportedImprintHash(hash_alg.to_string()))?;
        digest(alg, leaf.der()).as_bytes().to_vec()
    };
    if expected != hash.value {
        return Err(Error::SigningCertificateMismatch);
    }
    Ok(())
}

/// Whether the SignerIdentifier names `cert` (issuer and serial, or subject key id).
fn signer_is(sid: &cms::signed_data::SignerIdentifier, cert: &Certificate) -> bool {
    use cms::signed_data::SignerIdentifier;
    let tbs = &cert.parsed().tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            ias.issuer == tbs.issuer && ias.serial_number == tbs.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            cert.subject_key_id() == Some(ski.0.as_bytes())
        }
    }
}

/// The signature scheme of a SignerInfo. Some TSAs name only the key type
/// (id-ecPublicKey, rsaEncryption) and leave the hash to digestAlgorithm.
fn signature_scheme(
    oid: &const_oid::ObjectIdentifier,
    digest_hash: HashAlgorithm,
) -> Result<SignatureScheme> {
    if let Some(scheme) = SignatureScheme::from_x509_oid(oid) {
        return Ok(scheme);
    }
    Ok(match (*oid, digest_hash) {
        (oids::EC_PUBLIC_KEY, HashAlgorithm::Sha256) => SignatureScheme::EcdsaSha256,
        (oids::EC_PUBLIC_KEY, HashAlgorithm::Sha384) => SignatureScheme::EcdsaSha384,
        (oids::EC_PUBLIC_KEY, HashAlgorithm::Sha512) => SignatureScheme::EcdsaSha512,
        (oids::RSA_ENCRYPTION, HashAlgorithm::Sha256) => SignatureScheme::RsaPkcs1Sha256,
        (oids::RSA_ENCRYPTION, HashAlgorithm::Sha384) => SignatureScheme::RsaPkcs1Sha384,
        (oids::RSA_ENCRYPTION, HashAlgorithm::Sha512) => SignatureScheme::RsaPkcs1Sha512,
        _ => return Err(Error::UnsupportedSignatureAlgorithm(oid.to_string())),
    })
}

fn oid_der(oid: const_oid::ObjectIdentifier) -> Result<Vec<u8>> {
    oid.to_der().map_err(|source| Error::Encode { what: "object identifier", source })
}

/// A small non-negative INTEGER (PKIStatus).
fn small_uint(value: &[u8]) -> Result<u32> {
    if value.is_empty() || value.len() > 4 || value.first().is_some_and(|b| *b & 0x80 != 0) {
        return Err(Error::MalformedTimestamp("status is not a small non-negative integer"));
    }
    Ok(value.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x509::tlv::{encode_tlv, read_tlv};

    const RESPONSE: &[u8] = include_bytes!("../../fixtures/x509/staging-rekor-v2.tsr");
    const SIGNATURE: &[u8] = include_bytes!("../../fixtures/x509/staging-rekor-v2.sig");
    /// 2025-06-09T11:57:38Z.
    const GEN_TIME: i64 = 1749470258;

    fn cert(der: &[u8]) -> Certificate {
        Certificate::from_der(der).unwrap()
    }

    fn staging_tsa() -> TimestampAuthority {
        TimestampAuthority {
            chain: vec![
                cert(include_bytes!("../../fixtures/x509/tsa-staging-0.der")),
                cert(include_bytes!("../../fixtures/x509/tsa-staging-1.der")),
            ],
            valid_from: 1744156800,
            valid_until: None,
            uri: "https://timestamp.sigstage.dev/api/v1/timestamp".into(),
        }
    }

    fn production_tsa() -> TimestampAuthority {
        TimestampAuthority {
            chain: vec![
                cert(include_bytes!("../../fixtures/x509/tsa-prod-0.der")),
                cert(include_bytes!("../../fixtures/x509/tsa-prod-1.der")),
            ],
            valid_from: 1751587200,
            valid_until: None,
            uri: "https://timestamp.sigstore.dev/api/v1/timestamp".into(),
        }
    }

    /// The TimeStampToken (second element of the TimeStampResp).
    fn bare_token() -> Vec<u8> {
        let (outer, _) = read_tlv(RESPONSE).unwrap();
        children(outer.value).unwrap()[1].whole.to_vec()
    }

    #[test]
    fn staging_timestamp_verifies_with_staging_tsa() {
        let verified =
            verify_timestamp(RESPONSE, SIGNATURE, &[production_tsa(), staging_tsa()]).unwrap();
        assert_eq!(verified.gen_time(), GEN_TIME);
        assert_eq!(verified.authority_uri(), "https://timestamp.sigstage.dev/api/v1/timestamp");
    }

    #[test]
    fn bare_token_verifies_like_the_response() {
        let verified = verify_timestamp(&bare_token(), SIGNATURE, &[staging_tsa()]).unwrap();
        assert_eq!(verified.gen_time(), GEN_TIME);
    }

    #[test]
    fn staging_timestamp_with_production_tsa_is_rejected() {
        let err = verify_timestamp(RESPONSE, SIGNATURE, &[production_tsa()]).unwrap_err();
        assert!(matches!(err, Error::UnknownTimestampAuthority), "{err}");
    }

    #[test]
    fn no_authorities_is_rejected() {
        let err = verify_timestamp(RESPONSE, SIGNATURE, &[]).unwrap_err();
        assert!(matches!(err, Error::NoTimestampAuthority), "{err}");
    }

    #[test]
    fn other_signed_bytes_are_rejected() {
        let mut other = SIGNATURE.to_vec();
        other[10] ^= 1;
        let err = verify_timestamp(RESPONSE, &other, &[staging_tsa()]).unwrap_err();
        assert!(matches!(err, Error::ImprintMismatch), "{err}");
    }

    #[test]
    fn tampered_imprint_in_token_is_rejected() {
        // Change the imprint inside the TSTInfo and pass matching signed bytes: the
        // messageDigest attribute no longer matches the TSTInfo.
        let imprint = digest(HashAlgorithm::Sha256, SIGNATURE);
        let pos = RESPONSE.windows(32).position(|w| w == imprint.as_bytes()).unwrap();
        let mut response = RESPONSE.to_vec();
        let other = digest(HashAlgorithm::Sha256, b"other signature");
        response[pos..pos + 32].copy_from_slice(other.as_bytes());
        let err = verify_timestamp(&response, b"other signature", &[staging_tsa()]).unwrap_err();
        assert!(matches!(err, Error::MessageDigestMismatch), "{err}");
    }

    #[test]
    fn tampered_cms_signature_is_rejected() {
        let token = bare_token();
        let ci = children(read_tlv(&token).unwrap().0.value).unwrap();
        let sd = read_single(ci[1].value, 0x30).unwrap();
        let infos = children(sd.value).unwrap().pop().unwrap();
        let info = children(infos.value).unwrap().pop().unwrap();
        let sig = children(info.value).unwrap().into_iter().find(|t| t.tag == 0x04).unwrap();
        let pos = RESPONSE.windows(sig.value.len()).position(|w| w == sig.value).unwrap();
        let mut response = RESPONSE.to_vec();
        let last = pos + sig.value.len() - 2;
        response[last] ^= 1;
        let err = verify_timestamp(&response, SIGNATURE, &[staging_tsa()]).unwrap_err();
        assert!(matches!(err, Error::BadTimestampSignature), "{err}");
    }

    #[test]
    fn signing_certificate_naming_another_cert_is_rejected() {
        let leaf = staging_tsa().chain[0].clone();
        let hash = digest(HashAlgorithm::Sha256, leaf.der());
        let pos = RESPONSE.windows(32).position(|w| w == hash.as_bytes()).unwrap();
        let mut response = RESPONSE.to_vec();
        response[pos] ^= 1;
        let err = verify_timestamp(&response, SIGNATURE, &[staging_tsa()]).unwrap_err();
        assert!(matches!(err, Error::SigningCertificateMismatch), "{err}");
    }

    /// Rebuilds the response with the SignedData fields passed through `edit`.
    fn rebuild(edit: impl Fn(Vec<Tlv<'_>>) -> Vec<Vec<u8>>) -> Vec<u8> {
        let (outer, _) = read_tlv(RESPONSE).unwrap();
        let parts = children(outer.value).unwrap();
        let ci = children(parts[1].value).unwrap();
        let sd = read_single(ci[1].value, 0x30).unwrap();
        let fields = edit(children(sd.value).unwrap()).concat();
        let sd = encode_tlv(0xa0, &encode_tlv(0x30, &fields));
        let ci = encode_tlv(0x30, &[ci[0].whole, &sd].concat());
        encode_tlv(0x30, &[parts[0].whole, &ci].concat())
    }

    #[test]
    fn rebuild_without_edits_gives_the_original() {
        assert_eq!(rebuild(|f| f.iter().map(|t| t.whole.to_vec()).collect()), RESPONSE);
    }

    #[test]
    fn token_without_certificates_uses_the_trusted_leaf() {
        let response =
            rebuild(|f| f.iter().filter(|t| t.tag != 0xa0).map(|t| t.whole.to_vec()).collect());
        assert!(response.len() < RESPONSE.len() - 500);
        let verified = verify_timestamp(&response, SIGNATURE, &[staging_tsa()]).unwrap();
        assert_eq!(verified.gen_time(), GEN_TIME);
        let err = verify_timestamp(&response, SIGNATURE, &[production_tsa()]).unwrap_err();
        assert!(matches!(err, Error::UnknownTimestampAuthority), "{err}");
    }

    #[test]
    fn token_certificate_differing_from_trusted_leaf_is_rejected() {
        // Same issuer and serial (so it names the signer) but other bytes.
        let leaf = staging_tsa().chain[0].clone();
        let pos = RESPONSE.windows(leaf.der().len()).position(|w| w == leaf.der()).unwrap();
        let mut response = RESPONSE.to_vec();
        response[pos + leaf.der().len() - 2] ^= 1;
        let err = verify_timestamp(&response, SIGNATURE, &[staging_tsa()]).unwrap_err();
        assert!(matches!(err, Error::TokenCertificateMismatch), "{err}");
    }

    #[test]
    fn token_with_two_signers_is_rejected() {
        let response = rebuild(|f| {
            f.iter()
                .map(|t| {
                    if t.tag != 0x31 || t.value.first() != Some(&0x30) {
                        return t.whole.to_vec();
                    }
                    let infos = children(t.value).unwrap();
                    if infos.len() != 1 || t.whole == f[1].whole {
                        return t.whole.to_vec();
                    }
                    encode_tlv(0x31, &[infos[0].whole, infos[0].whole].concat())
                })
                .collect()
        });
        assert_ne!(response, RESPONSE);
        let err = verify_timestamp(&response, SIGNATURE, &[staging_tsa()]).unwrap_err();
        assert!(matches!(err, Error::MalformedTimestamp(_)), "{err}");
    }

    #[test]
    fn gen_time_outside_authority_validity_is_rejected() {
        let mut tsa = staging_tsa();
        tsa.valid_from = GEN_TIME + 1;
        let err = verify_timestamp(RESPONSE, SIGNATURE, &[tsa]).unwrap_err();
        assert!(matches!(err, Error::GenTimeOutsideAuthority { .. }), "{err}");
        let mut tsa = staging_tsa();
        tsa.valid_until = Some(GEN_TIME - 1);
        let err = verify_timestamp(RESPONSE, SIGNATURE, &[tsa]).unwrap_err();
        assert!(matches!(err, Error::GenTimeOutsideAuthority { .. }), "{err}");
        let mut tsa = staging_tsa();
        tsa.valid_from = GEN_TIME;
        tsa.valid_until = Some(GEN_TIME);
        assert!(verify_timestamp(RESPONSE, SIGNATURE, &[tsa]).is_ok());
    }

    #[test]
    fn authority_without_root_is_rejected() {
        let mut tsa = staging_tsa();
        tsa.chain.truncate(1);
        let err = verify_timestamp(RESPONSE, SIGNATURE, &[tsa]).unwrap_err();
        assert!(matches!(err, Error::EmptyTrustedChain), "{err}");
    }

    #[test]
    fn rejection_status_is_reported() {
        // TimeStampResp { PKIStatusInfo { status 2 (rejection) } }
        let status = encode_tlv(0x30, &encode_tlv(0x02, &[2]));
        let response = encode_tlv(0x30, &status);
        let err = verify_timestamp(&response, SIGNATURE, &[staging_tsa()]).unwrap_err();
        assert!(matches!(err, Error::TimestampNotGranted(2)), "{err}");
    }

    #[test]
    fn granted_status_without_token_is_rejected() {
        let status = encode_tlv(0x30, &encode_tlv(0x02, &[0]));
        let response = encode_tlv(0x30, &status);
        let err = verify_timestamp(&response, SIGNATURE, &[staging_tsa()]).unwrap_err();
        assert!(matches!(err, Error::MalformedTimestamp(_)), "{err:?}");
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        let mut response = RESPONSE.to_vec();
        response.push(0);
        let err = verify_timestamp(&response, SIGNATURE, &[staging_tsa()]).unwrap_err();
        assert!(matches!(err, Error::Tlv("trailing data")), "{err:?}");
    }

    #[test]
    fn generalized_time_with_fraction_is_read() {
        assert_eq!(parse_generalized_time(b"20250609115738Z").unwrap(), GEN_TIME);
        assert_eq!(parse_generalized_time(b"20250609115738.123Z").unwrap(), GEN_TIME);
        assert_eq!(parse_generalized_time(b"19700101000000Z").unwrap(), 0);
        assert_eq!(parse_generalized_time(b"20000301000000Z").unwrap(), 951868800);
        for bad in [&b"20250609115738"[..], b"2025060911573Z", b"20251309115738Z", b"2025.Z", b""] {
            let err = parse_generalized_time(bad).unwrap_err();
            assert!(matches!(err, Error::MalformedTimestamp("genTime")), "{bad:?}: {err:?}");
        }
        let err = parse_generalized_time(b"20250609115738.Z").unwrap_err();
        assert!(matches!(err, Error::MalformedTimestamp("genTime")), "{err:?}");
        // The calendar is checked (no 30 February), and a leap second is the next second.
        let err = parse_generalized_time(b"20250230000000Z").unwrap_err();
        assert!(matches!(err, Error::MalformedTimestamp("genTime")), "{err:?}");
        assert_eq!(parse_generalized_time(b"20161231235960Z").unwrap(), 1483228800);
    }
}
