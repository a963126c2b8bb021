//! RFC 3161 Time-Stamp Protocol messages: the ASN.1 model (`TimeStampReq`, `TSTInfo`,
//! `TimeStampResp`) and building a signed `TimeStampToken`.
//!
//! The `cms` crate has no TSP types, so they are defined here with the `der` derive. The
//! module is pure: the caller chooses the time, serial number and policy, and hands in the
//! signer; the timestamp authority service (`crate::tsa`) decides what to accept.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier as Oid;
use der::asn1::{BitString, GeneralizedTime, Int, OctetString, SetOfVec, Uint};
use der::{Any, Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::Extension;

use super::{oids, Certificate};
use crate::crypto::{digest, HashAlgorithm, Signer};

/// Why a TSP message could not be read or built.
#[derive(Debug, thiserror::Error)]
pub enum TspError {
    /// The DER does not decode as the expected message.
    #[error("malformed {what}")]
    Decode {
        /// Which message or field.
        what: &'static str,
        /// The codec error.
        #[source]
        source: der::Error,
    },
    /// A value could not be encoded.
    #[error("encoding {what}")]
    Encode {
        /// Which field.
        what: &'static str,
        /// The codec error.
        #[source]
        source: der::Error,
    },
    /// The signer failed.
    #[error("signing the timestamp token")]
    Sign(#[source] crate::crypto::Error),
    /// The signer's scheme is not one a TSA token is written with (ECDSA).
    #[error("the TSA key must be ECDSA P-256 or P-384")]
    UnsupportedKey,
    /// A time outside GeneralizedTime's range.
    #[error("time {0} cannot be written as GeneralizedTime")]
    Time(i64),
}

fn dec(what: &'static str) -> impl FnOnce(der::Error) -> TspError {
    move |source| TspError::Decode { what, source }
}

fn enc(what: &'static str) -> impl FnOnce(der::Error) -> TspError {
    move |source| TspError::Encode { what, source }
}

/// `MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct MessageImprint {
    /// The hash algorithm.
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// The hash of the timestamped data.
    pub hashed_message: OctetString,
}

impl MessageImprint {
    /// The SHA-2 hash the imprint names; `None` for SHA-1 and anything else (refused).
    pub fn sha2_algorithm(&self) -> Option<HashAlgorithm> {
        hash_from_oid(&self.hash_algorithm.oid)
    }
}

/// `TimeStampReq` (RFC 3161 §2.4.1).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampReq {
    /// Must be 1.
    pub version: u8,
    /// What to timestamp.
    pub message_imprint: MessageImprint,
    /// The policy the requester wants, if any.
    #[asn1(optional = "true")]
    pub req_policy: Option<Oid>,
    /// A nonce to echo.
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    /// Whether the token must carry the TSA certificate.
    #[asn1(default = "bool_false")]
    pub cert_req: bool,
    /// Request extensions (none are understood).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Vec<Extension>>,
}

fn bool_false() -> bool {
    false
}

impl TimeStampReq {
    /// Decodes a DER `TimeStampReq` (trailing bytes are an error).
    pub fn from_der_bytes(der_bytes: &[u8]) -> Result<Self, TspError> {
        Self::from_der(der_bytes).map_err(dec("TimeStampReq"))
    }
}

/// `Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER OPTIONAL,
/// micros [1] INTEGER OPTIONAL }` (the RFC 3161 module uses implicit tags).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct Accuracy {
    /// Whole seconds.
    #[asn1(optional = "true")]
    pub seconds: Option<u32>,
    /// Milliseconds (1..999).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub millis: Option<u16>,
    /// Microseconds (1..999).
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub micros: Option<u16>,
}

/// `TSTInfo` (RFC 3161 §2.4.2).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TstInfo {
    /// Always 1.
    pub version: u8,
    /// The TSA policy under which the token was issued.
    pub policy: Oid,
    /// The request's imprint, copied.
    pub message_imprint: MessageImprint,
    /// Unique per token from this TSA.
    pub serial_number: Uint,
    /// The time (whole seconds).
    pub gen_time: GeneralizedTime,
    /// How far genTime may be off.
    #[asn1(optional = "true")]
    pub accuracy: Option<Accuracy>,
    /// Whether tokens can be ordered by genTime alone.
    #[asn1(default = "bool_false")]
    pub ordering: bool,
    /// The request's nonce, echoed.
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    /// The TSA's name (a CHOICE, so the tag is explicit).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub tsa: Option<GeneralName>,
    /// Extensions.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Vec<Extension>>,
}

/// `PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL,
/// failInfo PKIFailureInfo OPTIONAL }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct PkiStatusInfo {
    /// 0 granted, 1 grantedWithMods, 2 rejection, ...
    pub status: u8,
    /// Free text, UTF-8.
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<String>>,
    /// Why it was refused (named bits, [`FailInfo`]).
    #[asn1(optional = "true")]
    pub fail_info: Option<BitString>,
}

/// The PKIFailureInfo bits a TSA reports (RFC 3161 §2.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailInfo {
    /// Unrecognized or unsupported algorithm (SHA-1 imprints, for one).
    BadAlg = 0,
    /// Transaction not permitted or supported.
    BadRequest = 2,
    /// The data submitted has the wrong format.
    BadDataFormat = 5,
    /// The TSA's time source is not available.
    TimeNotAvailable = 14,
    /// The requested policy is not supported.
    UnacceptedPolicy = 15,
    /// The requested extension is not supported.
    UnacceptedExtension = 16,
    /// The request cannot be handled due to system failure.
    SystemFailure = 25,
}

impl FailInfo {
    /// The DER BIT STRING with only this named bit set (trailing zero bits dropped).
    fn bit_string(self) -> Result<BitString, TspError> {
        let bit = self as usize;
        let mut bytes = vec![0u8; bit / 8 + 1];
        if let Some(last) = bytes.last_mut() {
            *last = 0x80 >> (bit % 8);
        }
        let unused = u8::try_from(7 - bit % 8).unwrap_or(0);
        BitString::new(unused, bytes).map_err(enc("failInfo"))
    }
}

/// The status of a TimeStampResp with no token: rejection (2) with `fail` and `text`.
pub fn rejection_response(fail: FailInfo, text: &'static str) -> Result<Vec<u8>, TspError> {
    let status = PkiStatusInfo {
        status: 2,
        status_string: Some(vec![text.to_string()]),
        fail_info: Some(fail.bit_string()?),
    };
    let status_der = status.to_der().map_err(enc("PKIStatusInfo"))?;
    sequence(&[&status_der])
}

/// A granted TimeStampResp (status 0) around the DER `token`.
pub fn granted_response(token: &[u8]) -> Result<Vec<u8>, TspError> {
    let status = PkiStatusInfo { status: 0, status_string: None, fail_info: None };
    let status_der = status.to_der().map_err(enc("PKIStatusInfo"))?;
    sequence(&[&status_der, token])
}

/// `TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken OPTIONAL }`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampResp {
    /// The status.
    pub status: PkiStatusInfo,
    /// The token (a ContentInfo), when granted.
    #[asn1(optional = "true")]
    pub token: Option<Any>,
}

/// The status and token of a DER TimeStampResp (the token as its DER ContentInfo).
pub fn parse_response(der_bytes: &[u8]) -> Result<(PkiStatusInfo, Option<Vec<u8>>), TspError> {
    let resp = TimeStampResp::from_der(der_bytes).map_err(dec("TimeStampResp"))?;
    let token = resp.token.map(|t| t.to_der()).transpose().map_err(enc("token"))?;
    Ok((resp.status, token))
}

/// The TSTInfo inside a DER TimeStampToken (ContentInfo), decoded but not verified
/// (callers verify with [`super::verify_timestamp`]; this reads the echoed nonce).
pub fn token_tst_info(token_der: &[u8]) -> Result<TstInfo, TspError> {
    let info = ContentInfo::from_der(token_der).map_err(dec("TimeStampToken"))?;
    let signed: SignedData = info.content.decode_as().map_err(dec("SignedData"))?;
    let content = signed.encap_content_info.econtent.ok_or(TspError::Decode {
        what: "TimeStampToken without TSTInfo",
        source: der::ErrorKind::Failed.into(),
    })?;
    let octets: OctetString = content.decode_as().map_err(dec("eContent"))?;
    TstInfo::from_der(octets.as_bytes()).map_err(dec("TSTInfo"))
}

/// What a token states, chosen by the TSA (never by the request, apart from the imprint,
/// nonce and certReq it echoes).
pub struct TokenFields<'a> {
    /// The TSA policy OID.
    pub policy: Oid,
    /// The request's imprint.
    pub imprint: &'a MessageImprint,
    /// The serial number (big-endian, unsigned).
    pub serial: &'a [u8],
    /// genTime, unix seconds: the TSA's current time.
    pub gen_time: i64,
    /// Accuracy in seconds.
    pub accuracy_seconds: u32,
    /// The request's nonce.
    pub nonce: Option<&'a Int>,
    /// Whether to include the signing certificate (certReq).
    pub include_certificate: bool,
}

/// A TSA signing identity with its encodings computed once (every token reuses them).
pub struct TokenSigner {
    leaf: x509_cert::Certificate,
    signer: std::sync::Arc<dyn Signer>,
    digest_alg: HashAlgorithm,
    digest_oid: Oid,
    /// The signingCertificateV2 attribute (ESSCertIDv2 with the leaf's hash).
    ess_attribute: Attribute,
    tsa_name: GeneralName,
}

impl TokenSigner {
    /// A token signer for the TSA `leaf` certificate and its private key.
    pub fn new(leaf: &Certificate, signer: std::sync::Arc<dyn Signer>) -> Result<Self, TspError> {
        use crate::crypto::SignatureScheme;
        let (digest_alg, digest_oid) = match signer.scheme() {
            SignatureScheme::EcdsaSha256 => (HashAlgorithm::Sha256, oids::SHA256),
            SignatureScheme::EcdsaSha384 => (HashAlgorithm::Sha384, oids::SHA384),
            SignatureScheme::EcdsaSha512 => (HashAlgorithm::Sha512, oids::SHA512),
            _ => return Err(TspError::UnsupportedKey),
        };
        let parsed =
            x509_cert::Certificate::from_der(leaf.der()).map_err(dec("TSA certificate"))?;
        // ESSCertIDv2 with the default hash (SHA-256, so hashAlgorithm is omitted) and no
        // issuerSerial: SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 }.
        let cert_hash = digest(HashAlgorithm::Sha256, leaf.der());
        let hash = OctetString::new(cert_hash.as_bytes()).map_err(enc("certHash"))?;
        let hash_der = hash.to_der().map_err(enc("certHash"))?;
        let ess_cert_id = sequence(&[&hash_der])?;
        let certs = sequence(&[&ess_cert_id])?;
        let signing_certificate = sequence(&[&certs])?;
        let ess_attribute = Attribute {
            oid: oids::ATTR_SIGNING_CERTIFICATE_V2,
            values: SetOfVec::try_from(vec![
                Any::from_der(&signing_certificate).map_err(enc("signingCertificateV2"))?
            ])
            .map_err(enc("signingCertificateV2"))?,
        };
        let tsa_name = GeneralName::DirectoryName(parsed.tbs_certificate.subject.clone());
        Ok(TokenSigner { leaf: parsed, signer, digest_alg, digest_oid, ess_attribute, tsa_name })
    }

    /// Builds and signs the DER TimeStampToken (a SignedData ContentInfo over the TSTInfo).
    pub fn sign(&self, fields: &TokenFields<'_>) -> Result<Vec<u8>, TspError> {
        let tst = TstInfo {
            version: 1,
            policy: fields.policy,
            message_imprint: fields.imprint.clone(),
            serial_number: Uint::new(fields.serial).map_err(enc("serialNumber"))?,
            gen_time: generalized_time(fields.gen_time)?,
            accuracy: Some(Accuracy {
                seconds: Some(fields.accuracy_seconds),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce: fields.nonce.cloned(),
            tsa: Some(self.tsa_name.clone()),
            extensions: None,
        };
        let tst_der = tst.to_der().map_err(enc("TSTInfo"))?;
        let one = |oid: Oid, value: Any| -> Result<Attribute, TspError> {
            let values = SetOfVec::try_from(vec![value]).map_err(enc("attribute"))?;
            Ok(Attribute { oid, values })
        };
        let content_digest = digest(self.digest_alg, &tst_der);
        let signed_attrs = SetOfVec::try_from(vec![
            one(oids::ATTR_CONTENT_TYPE, Any::encode_from(&oids::TST_INFO).map_err(enc("oid"))?)?,
            one(
                oids::ATTR_MESSAGE_DIGEST,
                Any::encode_from(
                    &OctetString::new(content_digest.as_bytes()).map_err(enc("messageDigest"))?,
                )
                .map_err(enc("messageDigest"))?,
            )?,
            self.ess_attribute.clone(),
        ])
        .map_err(enc("signed attributes"))?;
        let attrs_der = signed_attrs.to_der().map_err(enc("signed attributes"))?;
        let signature = self.signer.sign(&attrs_der).map_err(TspError::Sign)?;
        let digest_alg = AlgorithmIdentifierOwned { oid: self.digest_oid, parameters: None };
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: self.leaf.tbs_certificate.issuer.clone(),
                serial_number: self.leaf.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: digest_alg.clone(),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: AlgorithmIdentifierOwned {
                oid: self.signer.scheme().x509_oid(),
                parameters: None,
            },
            signature: OctetString::new(signature).map_err(enc("signature"))?,
            unsigned_attrs: None,
        };
        let certificates = if fields.include_certificate {
            Some(CertificateSet(
                SetOfVec::try_from(vec![CertificateChoices::Certificate(self.leaf.clone())])
                    .map_err(enc("certificates"))?,
            ))
        } else {
            None
        };
        let signed_data = SignedData {
            // RFC 5652 §5.1: version 3 when eContentType is not id-data.
            version: CmsVersion::V3,
            digest_algorithms: SetOfVec::try_from(vec![digest_alg]).map_err(enc("digests"))?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: oids::TST_INFO,
                econtent: Some(
                    Any::encode_from(&OctetString::new(tst_der).map_err(enc("eContent"))?)
                        .map_err(enc("eContent"))?,
                ),
            },
            certificates,
            crls: None,
            signer_infos: SignerInfos(
                SetOfVec::try_from(vec![signer_info]).map_err(enc("signer infos"))?,
            ),
        };
        let info = ContentInfo {
            content_type: oids::SIGNED_DATA,
            content: Any::encode_from(&signed_data).map_err(enc("SignedData"))?,
        };
        info.to_der().map_err(enc("ContentInfo"))
    }
}

/// The DER SEQUENCE of already-encoded `parts`.
fn sequence(parts: &[&[u8]]) -> Result<Vec<u8>, TspError> {
    let body = parts.concat();
    let len = der::Length::try_from(body.len()).map_err(enc("length"))?;
    let mut out = Vec::with_capacity(body.len() + 6);
    out.push(0x30);
    len.encode_to_vec(&mut out).map_err(enc("length"))?;
    out.extend_from_slice(&body);
    Ok(out)
}

fn generalized_time(unix: i64) -> Result<GeneralizedTime, TspError> {
    let secs = u64::try_from(unix).map_err(|_| TspError::Time(unix))?;
    GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map_err(|_| TspError::Time(unix))
}

/// A non-negative DER INTEGER from big-endian unsigned bytes (minimal encoding).
pub fn positive_int(bytes: &[u8]) -> Result<Int, TspError> {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let digits = bytes.get(first..).unwrap_or_default();
    let mut out = Vec::with_capacity(digits.len() + 1);
    if digits.first().map_or(true, |b| b & 0x80 != 0) {
        out.push(0);
    }
    out.extend_from_slice(digits);
    Int::new(&out).map_err(enc("INTEGER"))
}

/// SHA-2 hashes only: SHA-1 imprints are refused (PROTOCOLS §8.2 step 2).
pub(crate) fn hash_from_oid(oid: &Oid) -> Option<HashAlgorithm> {
    match *oid {
        oids::SHA256 => Some(HashAlgorithm::Sha256),
        oids::SHA384 => Some(HashAlgorithm::Sha384),
        oids::SHA512 => Some(HashAlgorithm::Sha512),
        _ => None,
    }
}

/// The AlgorithmIdentifier of a SHA-2 hash (parameters absent).
pub fn hash_algorithm_identifier(algorithm: HashAlgorithm) -> AlgorithmIdentifierOwned {
    let oid = match algorithm {
        HashAlgorithm::Sha384 => oids::SHA384,
        HashAlgorithm::Sha512 => oids::SHA512,
        _ => oids::SHA256,
    };
    AlgorithmIdentifierOwned { oid, parameters: None }
}

/// A DER TimeStampReq for `imprint` (hashed with `algorithm`), with an optional nonce and
/// certReq (what a timestamp client sends).
pub fn build_request(
    algorithm: HashAlgorithm,
    imprint: &[u8],
    nonce: Option<&[u8]>,
    cert_req: bool,
) -> Result<Vec<u8>, TspError> {
    let request = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: hash_algorithm_identifier(algorithm),
            hashed_message: OctetString::new(imprint).map_err(enc("imprint"))?,
        },
        req_policy: None,
        nonce: nonce.map(positive_int).transpose()?,
        cert_req,
        extensions: None,
    };
    request.to_der().map_err(enc("TimeStampReq"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_info_bits_are_minimal_der() {
        assert_eq!(FailInfo::BadAlg.bit_string().unwrap().to_der().unwrap(), [3, 2, 7, 0x80]);
        assert_eq!(
            FailInfo::BadDataFormat.bit_string().unwrap().to_der().unwrap(),
            [3, 2, 2, 0x04]
        );
        assert_eq!(
            FailInfo::UnacceptedPolicy.bit_string().unwrap().to_der().unwrap(),
            [3, 3, 0, 0, 0x01]
        );
    }

    #[test]
    fn request_round_trips_with_defaults_omitted() {
        let der = build_request(HashAlgorithm::Sha256, &[7; 32], Some(&[1, 2]), false).unwrap();
        let parsed = TimeStampReq::from_der_bytes(&der).unwrap();
        assert_eq!(parsed.version, 1);
        assert!(!parsed.cert_req);
        assert_eq!(parsed.message_imprint.sha2_algorithm(), Some(HashAlgorithm::Sha256));
        assert_eq!(parsed.nonce.unwrap().as_bytes(), [1, 2]);
        let with_cert = build_request(HashAlgorithm::Sha384, &[7; 48], None, true).unwrap();
        assert!(TimeStampReq::from_der_bytes(&with_cert).unwrap().cert_req);
        assert!(TimeStampReq::from_der_bytes(&der[..der.len() - 1]).is_err());
    }

    #[test]
    fn rejection_parses_back() {
        let der = rejection_response(FailInfo::BadAlg, "SHA-1 is refused").unwrap();
        let (status, token) = parse_response(&der).unwrap();
        assert_eq!(status.status, 2);
        assert!(token.is_none());
        assert_eq!(status.fail_info.unwrap().raw_bytes(), [0x80]);
    }
}
