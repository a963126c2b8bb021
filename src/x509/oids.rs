//! Object identifiers used by the x509 module (one table).

use const_oid::ObjectIdentifier as Oid;

/// basicConstraints (RFC 5280 §4.2.1.9).
pub(crate) const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
/// keyUsage (RFC 5280 §4.2.1.3).
pub(crate) const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
/// extKeyUsage (RFC 5280 §4.2.1.12).
pub(crate) const EXTENDED_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
/// subjectKeyIdentifier.
pub(crate) const SUBJECT_KEY_ID: Oid = Oid::new_unwrap("2.5.29.14");
/// authorityKeyIdentifier.
pub(crate) const AUTHORITY_KEY_ID: Oid = Oid::new_unwrap("2.5.29.35");
/// subjectAltName.
pub(crate) const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
/// certificatePolicies.
pub(crate) const CERTIFICATE_POLICIES: Oid = Oid::new_unwrap("2.5.29.32");
/// anyExtendedKeyUsage.
pub(crate) const ANY_EXTENDED_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37.0");
/// id-kp-codeSigning.
pub(crate) const KP_CODE_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.3");
/// id-kp-timeStamping.
pub(crate) const KP_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
/// Sigstore OtherName SAN type-id.
pub(crate) const FULCIO_OTHERNAME_SAN: Oid = Oid::new_unwrap("1.3.6.1.4.1.57264.1.7");
/// Embedded SCT list (RFC 6962 §3.3).
pub(crate) const CT_SCT_LIST: Oid = Oid::new_unwrap("1.3.6.1.4.1.11129.2.4.2");
/// CT precertificate poison (RFC 6962 §3.1).
pub(crate) const CT_POISON: Oid = Oid::new_unwrap("1.3.6.1.4.1.11129.2.4.3");
/// The Fulcio extension arc prefix, as dotted text.
pub(crate) const FULCIO_ARC: &str = "1.3.6.1.4.1.57264.1.";
/// SHA-256, SHA-384, SHA-512 (NIST hash algorithm OIDs).
pub(crate) const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
/// SHA-384.
pub(crate) const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
/// SHA-512.
pub(crate) const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
/// SHA-1 (only for ESSCertID v1).
pub(crate) const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
/// id-ecPublicKey used as a CMS signature algorithm.
pub(crate) const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
/// rsaEncryption used as a CMS signature algorithm.
pub(crate) const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// id-signedData.
pub(crate) const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
/// id-ct-TSTInfo.
pub(crate) const TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// contentType attribute.
pub(crate) const ATTR_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
/// messageDigest attribute.
pub(crate) const ATTR_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
/// id-aa-signingCertificate (ESSCertID, SHA-1).
pub(crate) const ATTR_SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// id-aa-signingCertificateV2 (ESSCertIDv2).
pub(crate) const ATTR_SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
