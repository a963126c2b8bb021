//! A parsed X.509 certificate that keeps its exact DER bytes.
//!
//! Parsing (RFC 5280 §4.1) goes through `x509-cert`, which is strict DER; the original
//! TBSCertificate bytes are kept beside it because signatures cover those bytes. Reading
//! Sigstore-specific extensions lives in `extensions.rs`; chain checks in `chain.rs`.

use std::collections::HashSet;
use std::sync::Arc;

use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};

use super::extensions::{parse_fulcio_extensions, parse_subject_alt_names};
use super::tlv::{children, read_single};
use super::{oids, Error, FulcioExtensions, Result, SubjectAltName};
use crate::crypto::{PublicKey, SignatureScheme};

/// A parsed X.509 certificate. Cheap to clone (shared); compares by DER bytes.
#[derive(Clone)]
pub struct Certificate {
    inner: Arc<Inner>,
}

struct Inner {
    der: Vec<u8>,
    tbs_der: Vec<u8>,
    parsed: x509_cert::Certificate,
    public_key: PublicKey,
    not_before: i64,
    not_after: i64,
    basic_constraints: Option<BasicConstraints>,
    key_usage: Option<KeyUsage>,
    extended_key_usage: Option<Vec<ObjectIdentifier>>,
    subject_key_id: Option<Vec<u8>>,
    authority_key_id: Option<Vec<u8>>,
}

impl Certificate {
    /// Parses a DER certificate.
    ///
    /// Errors: [`Error::MalformedCertificate`] for bytes that are not one strict-DER
    /// certificate (trailing data included), [`Error::DuplicateExtension`],
    /// [`Error::MalformedExtension`] for an undecodable basicConstraints, keyUsage,
    /// extKeyUsage, SKI or AKI, [`Error::UnsupportedKey`] for keys sigbox cannot use.
    pub fn from_der(der_bytes: &[u8]) -> Result<Self> {
        let parsed =
            x509_cert::Certificate::from_der(der_bytes).map_err(Error::MalformedCertificate)?;
        // The signed bytes: the first element of the outer SEQUENCE, exactly as given.
        let outer = read_single(der_bytes, 0x30)?;
        let tbs = children(outer.value)?
            .into_iter()
            .next()
            .ok_or(Error::Tlv("certificate without TBSCertificate"))?;
        let tbs_der = tbs.whole.to_vec();

        let tbs_cert = &parsed.tbs_certificate;
        let spki = tbs_cert
            .subject_public_key_info
            .to_der()
            .map_err(|source| Error::Encode { what: "subjectPublicKeyInfo", source })?;
        let public_key = PublicKey::from_spki_der(&spki).map_err(Error::UnsupportedKey)?;
        let not_before = unix_seconds(tbs_cert.validity.not_before);
        let not_after = unix_seconds(tbs_cert.validity.not_after);

        let mut basic_constraints = None;
        let mut key_usage = None;
        let mut extended_key_usage = None;
        let mut subject_key_id = None;
        let mut authority_key_id = None;
        let mut seen = HashSet::new();
        for ext in tbs_cert.extensions.iter().flatten() {
            let oid = ext.extn_id;
            if !seen.insert(oid) {
                return Err(Error::DuplicateExtension(oid.to_string()));
            }
            let value = ext.extn_value.as_bytes();
            let bad = || Error::MalformedExtension { oid: oid.to_string() };
            match oid {
                oids::BASIC_CONSTRAINTS => {
                    basic_constraints = Some(BasicConstraints::from_der(value).map_err(|_| bad())?);
                }
                oids::KEY_USAGE => {
                    key_usage = Some(KeyUsage::from_der(value).map_err(|_| bad())?);
                }
                oids::EXTENDED_KEY_USAGE => {
                    let eku = ExtendedKeyUsage::from_der(value).map_err(|_| bad())?;
                    extended_key_usage = Some(eku.0);
                }
                oids::SUBJECT_KEY_ID => {
                    let ski = SubjectKeyIdentifier::from_der(value).map_err(|_| bad())?;
                    subject_key_id = Some(ski.0.as_bytes().to_vec());
                }
                oids::AUTHORITY_KEY_ID => {
                    let aki = AuthorityKeyIdentifier::from_der(value).map_err(|_| bad())?;
                    authority_key_id = aki.key_identifier.map(|k| k.as_bytes().to_vec());
                }
                _ => {}
            }
        }
        let inner = Inner {
            der: der_bytes.to_vec(),
            tbs_der,
            parsed,
            public_key,
            not_before,
            not_after,
            basic_constraints,
            key_usage,
            extended_key_usage,
            subject_key_id,
            authority_key_id,
        };
        Ok(Certificate { inner: Arc::new(inner) })
    }

    /// Parses the first `CERTIFICATE` block of PEM text.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let (label, der_bytes) = crate::encoding::pem_decode(pem).map_err(Error::CertificatePem)?;
        if label != "CERTIFICATE" {
            return Err(Error::WrongPemLabel(label));
        }
        Self::from_der(&der_bytes)
    }

    /// Parses every `CERTIFICATE` block of PEM text, in order (a chain).
    pub fn from_pem_chain(pem: &str) -> Result<Vec<Self>> {
        let blocks = crate::encoding::pem_decode_all(pem).map_err(Error::CertificatePem)?;
        let mut out = Vec::with_capacity(blocks.len());
        for (label, der_bytes) in blocks {
            if label != "CERTIFICATE" {
                return Err(Error::WrongPemLabel(label));
            }
            out.push(Self::from_der(&der_bytes)?);
        }
        Ok(out)
    }

    /// The certificate's DER bytes, exactly as parsed.
    pub fn der(&self) -> &[u8] {
        &self.inner.der
    }

    /// PEM text in the OpenSSL layout (64 columns, `\n`, final newline).
    pub fn to_pem(&self) -> String {
        crate::encoding::pem_encode("CERTIFICATE", &self.inner.der)
    }

    /// The exact DER bytes of the TBSCertificate (what the issuer signed).
    pub fn tbs_der(&self) -> &[u8] {
        &self.inner.tbs_der
    }

    /// The subject public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.inner.public_key
    }

    /// notBefore in unix seconds.
    pub fn not_before(&self) -> i64 {
        self.inner.not_before
    }

    /// notAfter in unix seconds (inclusive, RFC 5280 §4.1.2.5).
    pub fn not_after(&self) -> i64 {
        self.inner.not_after
    }

    /// The serial number as lowercase hex, without the DER sign byte.
    pub fn serial_hex(&self) -> String {
        let bytes = self.inner.parsed.tbs_certificate.serial_number.as_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count().min(bytes.len().saturating_sub(1));
        crate::encoding::hex_encode(bytes.get(skip..).unwrap_or_default())
    }

    /// The subjectAltName entries sigbox understands (email, URI, DNS and the Sigstore
    /// OtherName 1.3.6.1.4.1.57264.1.7), in certificate order. Other kinds are skipped; a
    /// missing or undecodable SAN gives an empty list.
    pub fn subject_alt_names(&self) -> Vec<SubjectAltName> {
        self.extension_value(&oids::SUBJECT_ALT_NAME)
            .map(parse_subject_alt_names)
            .unwrap_or_default()
    }

    /// The Fulcio extensions (OID arc 1.3.6.1.4.1.57264.1, PROTOCOLS §3.4).
    pub fn fulcio_extensions(&self) -> FulcioExtensions {
        parse_fulcio_extensions(self)
    }

    /// Whether basicConstraints says CA:TRUE.
    pub fn is_ca(&self) -> bool {
        self.inner.basic_constraints.as_ref().map(|b| b.ca).unwrap_or(false)
    }

    /// The subjectKeyIdentifier, if present.
    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.inner.subject_key_id.as_deref()
    }

    /// The authorityKeyIdentifier's keyIdentifier, if present.
    pub fn authority_key_id(&self) -> Option<&[u8]> {
        self.inner.authority_key_id.as_deref()
    }

    /// The extnValue contents (the bytes inside the OCTET STRING) of the extension with
    /// dotted OID `oid`, if present.
    pub fn extension(&self, oid: &str) -> Option<&[u8]> {
        let oid = ObjectIdentifier::new(oid).ok()?;
        self.extension_value(&oid)
    }

    /// The subject name in RFC 4514 form (`CN=sigstore-intermediate,O=sigstore.dev`);
    /// empty for an empty subject.
    pub fn subject_string(&self) -> String {
        self.inner.parsed.tbs_certificate.subject.to_string()
    }

    /// The issuer name in RFC 4514 form.
    pub fn issuer_string(&self) -> String {
        self.inner.parsed.tbs_certificate.issuer.to_string()
    }

    // ----- crate-internal accessors used by chain, SCT and timestamp checks -----

    pub(crate) fn parsed(&self) -> &x509_cert::Certificate {
        &self.inner.parsed
    }

    pub(crate) fn extension_value(&self, oid: &ObjectIdentifier) -> Option<&[u8]> {
        self.extensions().find(|ext| ext.extn_id == *oid).map(|ext| ext.extn_value.as_bytes())
    }

    pub(crate) fn extensions(&self) -> impl Iterator<Item = &x509_cert::ext::Extension> {
        self.inner.parsed.tbs_certificate.extensions.iter().flatten()
    }

    pub(crate) fn subject_der(&self) -> Result<Vec<u8>> {
        self.inner
            .parsed
            .tbs_certificate
            .subject
            .to_der()
            .map_err(|source| Error::Encode { what: "subject name", source })
    }

    pub(crate) fn issuer_der(&self) -> Result<Vec<u8>> {
        self.inner
            .parsed
            .tbs_certificate
            .issuer
            .to_der()
            .map_err(|source| Error::Encode { what: "issuer name", source })
    }

    pub(crate) fn basic_constraints(&self) -> Option<&BasicConstraints> {
        self.inner.basic_constraints.as_ref()
    }

    pub(crate) fn key_usage(&self) -> Option<KeyUsage> {
        self.inner.key_usage
    }

    pub(crate) fn extended_key_usage(&self) -> Option<&[ObjectIdentifier]> {
        self.inner.extended_key_usage.as_deref()
    }

    /// Verifies this certificate's signature with `issuer_key`.
    pub(crate) fn verify_signed_by(&self, issuer_key: &PublicKey) -> Result<()> {
        let parsed = &self.inner.parsed;
        if parsed.signature_algorithm != parsed.tbs_certificate.signature {
            return Err(Error::SignatureAlgorithmMismatch { subject: self.subject_string() });
        }
        let oid = parsed.signature_algorithm.oid;
        let scheme = SignatureScheme::from_x509_oid(&oid)
            .ok_or_else(|| Error::UnsupportedSignatureAlgorithm(oid.to_string()))?;
        let signature = parsed.signature.as_bytes().ok_or(Error::Tlv("signature bit string"))?;
        issuer_key.verify(scheme, &self.inner.tbs_der, signature).map_err(|_| {
            Error::BadCertificateSignature { subject: self.subject_string(), issuer: String::new() }
        })
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.inner.der == other.inner.der
    }
}

impl Eq for Certificate {}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certificate(serial {}, subject {:?})", self.serial_hex(), self.subject_string())
    }
}

/// Seconds since the epoch of an X.509 time (dates before 1970 are not representable in
/// `der` and never reach here).
fn unix_seconds(time: x509_cert::time::Time) -> i64 {
    i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GITHUB_LEAF: &[u8] = include_bytes!("../../fixtures/x509/github-leaf.der");

    #[test]
    fn github_leaf_fields_are_read() {
        let leaf = Certificate::from_der(GITHUB_LEAF).unwrap();
        assert_eq!(leaf.der(), GITHUB_LEAF);
        assert_eq!(leaf.subject_string(), "");
        assert_eq!(leaf.issuer_string(), "CN=sigstore-intermediate,O=sigstore.dev");
        assert_eq!(leaf.not_after() - leaf.not_before(), 600);
        assert_eq!(leaf.not_before(), 1710888075);
        assert!(!leaf.is_ca());
        assert_eq!(leaf.serial_hex().len(), 40);
        assert_eq!(leaf.public_key().kind(), crate::crypto::KeyKind::EcdsaP256);
        let intermediate =
            Certificate::from_der(include_bytes!("../../fixtures/x509/fulcio-intermediate.der"))
                .unwrap();
        assert_eq!(leaf.authority_key_id(), intermediate.subject_key_id());
        assert!(leaf.subject_key_id().is_some());
        assert!(intermediate.is_ca());
    }

    #[test]
    fn pem_round_trip_keeps_der() {
        let leaf = Certificate::from_der(GITHUB_LEAF).unwrap();
        let pem = leaf.to_pem();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(pem.ends_with("-----END CERTIFICATE-----\n"));
        assert_eq!(Certificate::from_pem(&pem).unwrap(), leaf);
        let chain = Certificate::from_pem_chain(&format!("{pem}{pem}")).unwrap();
        assert_eq!(chain.len(), 2);
    }

    #[test]
    fn pem_with_other_label_is_rejected() {
        let pem = crate::encoding::pem_encode("PUBLIC KEY", GITHUB_LEAF);
        assert!(matches!(Certificate::from_pem(&pem), Err(Error::WrongPemLabel(_))));
    }

    #[test]
    fn tbs_der_is_a_prefix_slice_of_the_certificate() {
        let leaf = Certificate::from_der(GITHUB_LEAF).unwrap();
        let tbs = leaf.tbs_der();
        assert_eq!(tbs[0], 0x30);
        let start = GITHUB_LEAF.windows(tbs.len()).position(|w| w == tbs);
        assert_eq!(start, Some(4));
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        let mut der = GITHUB_LEAF.to_vec();
        der.push(0);
        assert!(Certificate::from_der(&der).is_err());
    }

    #[test]
    fn truncated_certificate_is_rejected() {
        for len in [0, 1, 10, GITHUB_LEAF.len() / 2, GITHUB_LEAF.len() - 1] {
            assert!(Certificate::from_der(&GITHUB_LEAF[..len]).is_err(), "len {len}");
        }
    }

    #[test]
    fn extension_with_bad_oid_text_is_none() {
        let leaf = Certificate::from_der(GITHUB_LEAF).unwrap();
        assert!(leaf.extension("not an oid").is_none());
        assert!(leaf.extension("2.5.29.15").is_some());
    }
}
