//! CMS detached `SignedData` as gitsign writes it (PROTOCOLS §7.2, RFC 5652).
//!
//! Building uses the `cms` crate's types; parsing walks the DER with [`super::tlv`] so the
//! signed attributes come out as the exact bytes that were signed (re-tagged `SET` 0x31),
//! whatever order the signer put them in. Nothing here verifies a signature or trusts a
//! certificate: the caller checks the signature over [`DetachedSignature::signed_attrs`]
//! (through the bundle verifier) and the chain against its trusted root.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier as Oid;
use der::asn1::{OctetString, SetOfVec, UtcTime};
use der::{Any, Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;

use super::oids;
use super::tlv::{children, read_single};
use super::Certificate;

/// id-data: the content type of a detached signature over raw bytes.
const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
/// signingTime attribute (RFC 5652 §11.3).
const ATTR_SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
/// ecdsa-with-SHA256, the only signature algorithm gitsign writes.
const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");

/// gitsign's unsigned attribute holding a protobuf `TransparencyLogEntry` (offline mode).
pub const OID_GITSIGN_TLOG_ENTRY: &str = "1.3.6.1.4.1.57264.3.1";
/// id-aa-timeStampToken (RFC 3161 token over the signature value).
pub const OID_TIMESTAMP_TOKEN: &str = "1.2.840.113549.1.9.16.2.14";

/// Why a CMS object could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum CmsError {
    /// The DER structure is not a detached SignedData of the expected shape.
    #[error("malformed CMS signature: {0}")]
    Malformed(&'static str),
    /// A DER element could not be walked.
    #[error("malformed CMS signature")]
    Tlv(#[source] super::Error),
    /// The `der`/`cms` crates refused a value.
    #[error("CMS encoding of {what}")]
    Der {
        /// Which part.
        what: &'static str,
        /// The codec error.
        #[source]
        source: der::Error,
    },
    /// The embedded signer certificate does not parse.
    #[error("CMS signer certificate")]
    Certificate(#[source] super::Error),
    /// More or fewer than one signer.
    #[error("CMS signature has {0} signers; exactly one is supported")]
    SignerCount(usize),
    /// No certificate matches the signer identifier.
    #[error("CMS signature does not carry its signer's certificate")]
    NoSignerCertificate,
}

fn der_err(what: &'static str) -> impl FnOnce(der::Error) -> CmsError {
    move |source| CmsError::Der { what, source }
}

/// An unsigned attribute to attach: its OID (dotted) and the DER of its single value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedAttribute {
    /// Attribute type, dotted.
    pub oid: String,
    /// The DER of the attribute's one value.
    pub value_der: Vec<u8>,
}

/// The signed attributes gitsign writes (contentType = id-data, signingTime = UTCTime
/// `signing_time`, messageDigest = `message_digest`), DER-sorted, encoded as a `SET`
/// (tag 0x31): the exact bytes the signature covers.
pub fn signed_attributes(message_digest: &[u8], signing_time: i64) -> Result<Vec<u8>, CmsError> {
    attribute_set(message_digest, signing_time)?.to_der().map_err(der_err("signed attributes"))
}

fn attribute_set(
    message_digest: &[u8],
    signing_time: i64,
) -> Result<SetOfVec<Attribute>, CmsError> {
    let seconds = u64::try_from(signing_time).map_err(|_| CmsError::Malformed("signing time"))?;
    let time = UtcTime::from_unix_duration(std::time::Duration::from_secs(seconds))
        .map_err(der_err("signingTime"))?;
    let one = |oid: Oid, value: Any| -> Result<Attribute, CmsError> {
        let values = SetOfVec::try_from(vec![value]).map_err(der_err("attribute values"))?;
        Ok(Attribute { oid, values })
    };
    let attrs = vec![
        one(oids::ATTR_CONTENT_TYPE, Any::encode_from(&ID_DATA).map_err(der_err("contentType"))?)?,
        one(ATTR_SIGNING_TIME, Any::encode_from(&time).map_err(der_err("signingTime"))?)?,
        one(
            oids::ATTR_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(message_digest).map_err(der_err("messageDigest"))?)
                .map_err(der_err("messageDigest"))?,
        )?,
    ];
    // try_from sorts the attributes into DER SET order.
    SetOfVec::try_from(attrs).map_err(der_err("signed attributes"))
}

/// Builds the DER `ContentInfo` of a detached SignedData: sha256, no eContent, the `leaf`
/// certificate (plus `chain`, the intermediates, when asked to include them), one
/// SignerInfo (issuerAndSerialNumber) with `signed_attrs_der` (as returned by
/// [`signed_attributes`]), the ECDSA-SHA256 `signature` over them, and the `unsigned`
/// attributes.
pub fn detached_signed_data(
    leaf: &Certificate,
    chain: &[Certificate],
    signed_attrs_der: &[u8],
    signature: &[u8],
    unsigned: &[UnsignedAttribute],
) -> Result<Vec<u8>, CmsError> {
    let cert = x509_cert::Certificate::from_der(leaf.der()).map_err(der_err("certificate"))?;
    let mut certificates = vec![CertificateChoices::Certificate(cert.clone())];
    for extra in chain {
        certificates.push(CertificateChoices::Certificate(
            x509_cert::Certificate::from_der(extra.der()).map_err(der_err("chain certificate"))?,
        ));
    }
    let signed_attrs =
        SetOfVec::<Attribute>::from_der(signed_attrs_der).map_err(der_err("signed attributes"))?;
    let unsigned_attrs = if unsigned.is_empty() {
        None
    } else {
        let mut attrs = Vec::with_capacity(unsigned.len());
        for attr in unsigned {
            let oid = Oid::new(&attr.oid).map_err(|_| CmsError::Malformed("attribute OID"))?;
            let value = Any::from_der(&attr.value_der).map_err(der_err("unsigned attribute"))?;
            let values = SetOfVec::try_from(vec![value]).map_err(der_err("attribute values"))?;
            attrs.push(Attribute { oid, values });
        }
        Some(SetOfVec::try_from(attrs).map_err(der_err("unsigned attributes"))?)
    };
    let sha256 = AlgorithmIdentifierOwned { oid: oids::SHA256, parameters: None };
    let signer = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256.clone(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: AlgorithmIdentifierOwned { oid: ECDSA_WITH_SHA256, parameters: None },
        signature: OctetString::new(signature).map_err(der_err("signature"))?,
        unsigned_attrs,
    };
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256]).map_err(der_err("digests"))?,
        encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: None },
        certificates: Some(CertificateSet(
            SetOfVec::try_from(certificates).map_err(der_err("certificates"))?,
        )),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer]).map_err(der_err("signer"))?),
    };
    let info = ContentInfo {
        content_type: oids::SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(der_err("SignedData"))?,
    };
    info.to_der().map_err(der_err("ContentInfo"))
}

/// The DER of an OCTET STRING holding `bytes` (an attribute value).
pub fn octet_string(bytes: &[u8]) -> Result<Vec<u8>, CmsError> {
    OctetString::new(bytes).and_then(|o| o.to_der()).map_err(der_err("OCTET STRING"))
}

/// The contents of a DER OCTET STRING (an attribute value).
pub fn octet_string_contents(value_der: &[u8]) -> Result<Vec<u8>, CmsError> {
    Ok(OctetString::from_der(value_der).map_err(der_err("OCTET STRING"))?.as_bytes().to_vec())
}

/// The dotted OID of `cert`'s signatureAlgorithm (gpg status lines derive their hash
/// algorithm number from it).
pub fn certificate_signature_algorithm(cert: &Certificate) -> Option<String> {
    x509_cert::Certificate::from_der(cert.der()).ok().map(|c| c.signature_algorithm.oid.to_string())
}

/// A parsed detached signature. Nothing in it is verified yet.
#[derive(Debug, Clone)]
pub struct DetachedSignature {
    /// The certificates it carries (gitsign: the leaf only).
    pub certificates: Vec<Certificate>,
    /// The signed attributes exactly as signed, re-tagged as `SET` (0x31).
    pub signed_attrs: Vec<u8>,
    /// The messageDigest attribute.
    pub message_digest: Vec<u8>,
    /// The signingTime attribute (Unix seconds), if present.
    pub signing_time: Option<i64>,
    /// The signature value.
    pub signature: Vec<u8>,
    /// The SignerInfo digest algorithm (dotted OID).
    pub digest_algorithm: String,
    /// The unsigned attributes: OID (dotted) and the DER of each value.
    pub unsigned: Vec<(String, Vec<Vec<u8>>)>,
    signer_issuer: Vec<u8>,
    signer_serial: Vec<u8>,
}

impl DetachedSignature {
    /// The certificate the SignerInfo names (issuer and serial number).
    pub fn signer_certificate(&self) -> Result<&Certificate, CmsError> {
        self.certificates
            .iter()
            .find(|c| {
                x509_cert::Certificate::from_der(c.der()).is_ok_and(|p| {
                    p.tbs_certificate.serial_number.as_bytes() == self.signer_serial.as_slice()
                        && p.tbs_certificate.issuer.to_der().ok().as_deref()
                            == Some(self.signer_issuer.as_slice())
                })
            })
            .ok_or(CmsError::NoSignerCertificate)
    }

    /// The values of unsigned attribute `oid` (empty if absent).
    pub fn unsigned_values(&self, oid: &str) -> &[Vec<u8>] {
        self.unsigned.iter().find(|(o, _)| o == oid).map_or(&[], |(_, v)| v.as_slice())
    }
}

/// Parses a DER `ContentInfo` holding a detached SignedData with one signer and signed
/// attributes. Errors name the part that is wrong; never panics on any input.
pub fn parse_detached(der_bytes: &[u8]) -> Result<DetachedSignature, CmsError> {
    let tlv_err = CmsError::Tlv;
    let info = read_single(der_bytes, 0x30).map_err(tlv_err)?;
    let parts = children(info.value).map_err(tlv_err)?;
    let (Some(content_type), Some(explicit), None) = (parts.first(), parts.get(1), parts.get(2))
    else {
        return Err(CmsError::Malformed("ContentInfo shape"));
    };
    if oid_of(content_type)? != oids::SIGNED_DATA || explicit.tag != 0xa0 {
        return Err(CmsError::Malformed("not a SignedData"));
    }
    let signed_data = read_single(explicit.value, 0x30).map_err(tlv_err)?;
    let fields = children(signed_data.value).map_err(tlv_err)?;
    let encap = fields
        .get(2)
        .filter(|t| t.tag == 0x30)
        .ok_or(CmsError::Malformed("no encapContentInfo"))?;
    // The fields outside the signed attributes are not covered by the signature, so they
    // must be exactly what a gitsign signature holds.
    if fields.first().map(|t| (t.tag, t.value)) != Some((0x02, &[1u8][..])) {
        return Err(CmsError::Malformed("SignedData version is not 1"));
    }
    let digests = fields
        .get(1)
        .filter(|t| t.tag == 0x31)
        .ok_or(CmsError::Malformed("no digestAlgorithms"))?;
    for algorithm in children(digests.value).map_err(tlv_err)? {
        let id = AlgorithmIdentifierOwned::from_der(algorithm.whole)
            .map_err(der_err("digestAlgorithms"))?;
        if id.oid != oids::SHA256 {
            return Err(CmsError::Malformed("digestAlgorithms holds a digest other than SHA-256"));
        }
    }
    let encap_parts = children(encap.value).map_err(tlv_err)?;
    let [econtent_type] = encap_parts.as_slice() else {
        return Err(CmsError::Malformed("not a detached signature (eContent present)"));
    };
    if oid_of(econtent_type)? != ID_DATA {
        return Err(CmsError::Malformed("eContentType is not id-data"));
    }
    let mut certificates = Vec::new();
    let mut signer_infos = None;
    for field in fields.get(3..).unwrap_or_default() {
        match field.tag {
            0xa0 => {
                for choice in children(field.value).map_err(tlv_err)? {
                    if choice.tag == 0x30 {
                        certificates.push(
                            Certificate::from_der(choice.whole).map_err(CmsError::Certificate)?,
                        );
                    }
                }
            }
            0xa1 => {}
            0x31 => signer_infos = Some(*field),
            _ => return Err(CmsError::Malformed("unexpected SignedData field")),
        }
    }
    let signers = children(signer_infos.ok_or(CmsError::Malformed("no signerInfos"))?.value)
        .map_err(tlv_err)?;
    let [signer] = signers.as_slice() else {
        return Err(CmsError::SignerCount(signers.len()));
    };
    let info = SignerInfo::from_der(signer.whole).map_err(der_err("SignerInfo"))?;
    if info.version != CmsVersion::V1 {
        return Err(CmsError::Malformed("SignerInfo version is not 1"));
    }
    if info.digest_alg.oid != oids::SHA256 {
        return Err(CmsError::Malformed("the signer's digest algorithm is not SHA-256"));
    }
    if info.signature_algorithm.oid != ECDSA_WITH_SHA256 {
        return Err(CmsError::Malformed("the signature algorithm is not ecdsa-with-SHA256"));
    }
    let SignerIdentifier::IssuerAndSerialNumber(sid) = &info.sid else {
        return Err(CmsError::Malformed("signer identified by key ID, not issuer and serial"));
    };
    let raw_attrs = children(signer.value)
        .map_err(tlv_err)?
        .into_iter()
        .find(|t| t.tag == 0xa0)
        .ok_or(CmsError::Malformed("no signed attributes"))?;
    let mut signed_attrs = raw_attrs.whole.to_vec();
    if let Some(tag) = signed_attrs.first_mut() {
        *tag = 0x31;
    }
    let (mut message_digest, mut signing_time, mut content_type_ok) = (None, None, false);
    for attr in children(raw_attrs.value).map_err(tlv_err)? {
        let parts = children(attr.value).map_err(tlv_err)?;
        let (Some(oid), Some(values)) = (parts.first(), parts.get(1)) else {
            return Err(CmsError::Malformed("attribute shape"));
        };
        let values = children(values.value).map_err(tlv_err)?;
        let [value] = values.as_slice() else {
            return Err(CmsError::Malformed("signed attribute without exactly one value"));
        };
        let oid = oid_of(oid)?;
        if oid == oids::ATTR_MESSAGE_DIGEST {
            if message_digest.is_some() || value.tag != 0x04 {
                return Err(CmsError::Malformed("messageDigest attribute"));
            }
            message_digest = Some(value.value.to_vec());
        } else if oid == ATTR_SIGNING_TIME {
            let time = match value.tag {
                0x17 => UtcTime::from_der(value.whole)
                    .map_err(der_err("signingTime"))?
                    .to_unix_duration(),
                0x18 => der::asn1::GeneralizedTime::from_der(value.whole)
                    .map_err(der_err("signingTime"))?
                    .to_unix_duration(),
                _ => return Err(CmsError::Malformed("signingTime attribute")),
            };
            signing_time = Some(i64::try_from(time.as_secs()).unwrap_or(i64::MAX));
        } else if oid == oids::ATTR_CONTENT_TYPE {
            content_type_ok = oid_of(value)? == ID_DATA;
        }
    }
    if !content_type_ok {
        return Err(CmsError::Malformed("contentType attribute is missing or not id-data"));
    }
    let mut unsigned = Vec::new();
    for attr in info.unsigned_attrs.iter().flat_map(|set| set.iter()) {
        let values = attr
            .values
            .iter()
            .map(|v| v.to_der().map_err(der_err("unsigned attribute")))
            .collect::<Result<Vec<_>, _>>()?;
        unsigned.push((attr.oid.to_string(), values));
    }
    Ok(DetachedSignature {
        certificates,
        signed_attrs,
        message_digest: message_digest.ok_or(CmsError::Malformed("no messageDigest attribute"))?,
        signing_time,
        signature: info.signature.as_bytes().to_vec(),
        digest_algorithm: info.digest_alg.oid.to_string(),
        unsigned,
        signer_issuer: sid.issuer.to_der().map_err(der_err("signer issuer"))?,
        signer_serial: sid.serial_number.as_bytes().to_vec(),
    })
}

fn oid_of(tlv: &super::tlv::Tlv<'_>) -> Result<Oid, CmsError> {
    if tlv.tag != 0x06 {
        return Err(CmsError::Malformed("expected an OBJECT IDENTIFIER"));
    }
    Oid::from_der(tlv.whole).map_err(der_err("OBJECT IDENTIFIER"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR: &str = include_str!("../../fixtures/gitsign/offline.commit");

    fn vector_der() -> Vec<u8> {
        let start = VECTOR.find("gpgsig ").unwrap() + 7;
        let end = VECTOR.find("-----END SIGNED MESSAGE-----").unwrap() + 28;
        let armored: String = VECTOR[start..end]
            .lines()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        crate::encoding::pem_decode(&armored).unwrap().1
    }

    #[test]
    fn parses_the_public_good_gitsign_signature() {
        let sig = parse_detached(&vector_der()).unwrap();
        assert_eq!(sig.certificates.len(), 1);
        assert_eq!(sig.signing_time, Some(1_685_981_479));
        assert_eq!(sig.digest_algorithm, "2.16.840.1.101.3.4.2.1");
        let payload = include_bytes!("../../fixtures/gitsign/offline.commit.payload");
        let digest = crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, payload);
        assert_eq!(sig.message_digest, digest.as_bytes());
        assert_eq!(sig.unsigned_values(OID_GITSIGN_TLOG_ENTRY).len(), 1);
        let leaf = sig.signer_certificate().unwrap();
        let scheme = crate::crypto::SignatureScheme::EcdsaSha256;
        leaf.public_key().verify(scheme, &sig.signed_attrs, &sig.signature).unwrap();
    }

    #[test]
    fn builds_what_it_parses() {
        let signer = crate::crypto::EcdsaP256Signer::generate();
        let leaf = parse_detached(&vector_der()).unwrap().certificates[0].clone();
        let attrs = signed_attributes(&[7u8; 32], 1_700_000_000).unwrap();
        use crate::crypto::Signer as _;
        let signature = signer.sign(&attrs).unwrap();
        let extra = UnsignedAttribute {
            oid: OID_GITSIGN_TLOG_ENTRY.into(),
            value_der: vec![0x04, 0x02, 0x08, 0x01],
        };
        let der = detached_signed_data(&leaf, &[], &attrs, &signature, &[extra]).unwrap();
        let parsed = parse_detached(&der).unwrap();
        assert_eq!(parsed.signed_attrs, attrs);
        assert_eq!(parsed.message_digest, vec![7u8; 32]);
        assert_eq!(parsed.signing_time, Some(1_700_000_000));
        assert_eq!(parsed.signature, signature);
        assert_eq!(parsed.unsigned_values(OID_GITSIGN_TLOG_ENTRY), &[vec![0x04, 0x02, 0x08, 0x01]]);
        assert_eq!(parsed.signer_certificate().unwrap().der(), leaf.der());
        // With the chain: the signer is still found by issuer and serial.
        let root = crate::trust::TrustedRoot::public_good().unwrap();
        let intermediate = root.certificate_authorities()[0].chain[0].clone();
        let der = detached_signed_data(&leaf, &[intermediate], &attrs, &signature, &[]).unwrap();
        let parsed = parse_detached(&der).unwrap();
        assert_eq!(parsed.certificates.len(), 2);
        assert_eq!(parsed.signer_certificate().unwrap().der(), leaf.der());
    }

    #[test]
    fn garbage_and_truncations_are_errors_not_panics() {
        let der = vector_der();
        for cut in (0..der.len()).step_by(37) {
            assert!(parse_detached(&der[..cut]).is_err());
        }
        assert!(parse_detached(b"not der").is_err());
    }
}
