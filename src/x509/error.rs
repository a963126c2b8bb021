//! Errors of the x509 module: certificate parsing, chain building, SCTs and RFC 3161
//! timestamps.

use crate::encoding::PemError;

/// What went wrong while reading or checking certificates, SCTs or timestamps.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Raw DER structure could not be walked.
    #[error("malformed DER: {0}")]
    Tlv(&'static str),
    /// The certificate bytes are not a DER X.509 certificate.
    #[error("malformed certificate (DER)")]
    MalformedCertificate(#[source] der::Error),
    /// The certificate PEM text could not be decoded.
    #[error("malformed certificate PEM")]
    CertificatePem(#[source] PemError),
    /// The PEM block is not a certificate.
    #[error("PEM block is {0:?}, expected CERTIFICATE")]
    WrongPemLabel(String),
    /// An extension's value could not be decoded.
    #[error("malformed certificate extension {oid}")]
    MalformedExtension {
        /// OID of the extension.
        oid: String,
    },
    /// The same extension appears twice (RFC 5280 §4.2).
    #[error("certificate has extension {0} twice")]
    DuplicateExtension(String),
    /// The certificate's key is of a kind sigbox cannot use.
    #[error("unsupported public key in certificate")]
    UnsupportedKey(#[source] crate::crypto::Error),
    /// The signature algorithm OID is not one sigbox verifies.
    #[error("unsupported signature algorithm {0}")]
    UnsupportedSignatureAlgorithm(String),
    /// The TBS `signature` field differs from the outer `signatureAlgorithm`.
    #[error("certificate {subject:?}: inner and outer signature algorithms differ")]
    SignatureAlgorithmMismatch {
        /// Subject of the certificate.
        subject: String,
    },
    /// A certificate's signature does not verify with its issuer's key.
    #[error("signature on certificate {subject:?} does not verify with the key of {issuer:?}")]
    BadCertificateSignature {
        /// Subject of the signed certificate.
        subject: String,
        /// Subject of the certificate whose key was used.
        issuer: String,
    },
    /// A certificate is not valid at the time checked.
    #[error("certificate {subject:?} is not valid at {at} (valid {not_before}..={not_after})")]
    OutsideValidity {
        /// Subject of the certificate.
        subject: String,
        /// The time checked (unix seconds).
        at: i64,
        /// notBefore (unix seconds).
        not_before: i64,
        /// notAfter (unix seconds).
        not_after: i64,
    },
    /// The list of trusted CA certificates is empty.
    #[error("trusted certificate chain is empty")]
    EmptyTrustedChain,
    /// No trusted certificate has the leaf's issuer name and key.
    #[error("no trusted certificate issued the certificate (issuer {issuer:?})")]
    IssuerNotFound {
        /// The leaf's issuer name.
        issuer: String,
    },
    /// Issuer name of one certificate is not the subject of the next.
    #[error("certificate {subject:?} names issuer {issuer:?}, the next certificate is {next:?}")]
    NameChaining {
        /// Subject of the certificate.
        subject: String,
        /// Its issuer field.
        issuer: String,
        /// Subject of the next certificate in the chain.
        next: String,
    },
    /// A CA certificate lacks basicConstraints CA:TRUE.
    #[error("certificate {subject:?} is used as a CA but lacks basicConstraints CA:TRUE")]
    NotCa {
        /// Subject of the certificate.
        subject: String,
    },
    /// A CA certificate lacks keyUsage keyCertSign.
    #[error("CA certificate {subject:?} lacks keyUsage keyCertSign")]
    MissingKeyCertSign {
        /// Subject of the certificate.
        subject: String,
    },
    /// A CA's pathLenConstraint is exceeded.
    #[error("CA certificate {subject:?}: path length constraint exceeded")]
    PathLength {
        /// Subject of the certificate.
        subject: String,
    },
    /// The last trusted certificate is not self-signed.
    #[error("trust anchor {subject:?} is not self-signed")]
    AnchorNotSelfSigned {
        /// Subject of the anchor.
        subject: String,
    },
    /// The end-entity certificate is a CA certificate.
    #[error("end-entity certificate is a CA certificate")]
    LeafIsCa,
    /// The end-entity certificate lacks keyUsage digitalSignature.
    #[error("end-entity certificate lacks keyUsage digitalSignature")]
    LeafKeyUsage,
    /// The end-entity certificate's extended key usage does not allow the purpose.
    #[error("end-entity certificate extended key usage does not allow {purpose}")]
    LeafExtendedKeyUsage {
        /// The purpose required (codeSigning, timeStamping).
        purpose: &'static str,
    },
    /// A CA's extended key usage does not allow the purpose.
    #[error("CA certificate {subject:?} extended key usage does not allow {purpose}")]
    CaExtendedKeyUsage {
        /// Subject of the CA.
        subject: String,
        /// The purpose required.
        purpose: &'static str,
    },
    /// A critical extension sigbox does not process.
    #[error("certificate {subject:?} has unknown critical extension {oid}")]
    UnknownCriticalExtension {
        /// Subject of the certificate.
        subject: String,
        /// OID of the extension.
        oid: String,
    },
    /// The certificate carries the CT poison extension.
    #[error("certificate is a CT precertificate (poison extension present)")]
    Precertificate,
    /// The certificate has no embedded SCTs.
    #[error("certificate has no embedded SCTs")]
    NoScts,
    /// The SCT list extension could not be decoded.
    #[error("malformed SCT list: {0}")]
    MalformedSctList(&'static str),
    /// No SCT came from a known CT log.
    #[error("no SCT is from a known CT log (log ids {log_ids:?})")]
    UnknownLog {
        /// Hex log IDs seen.
        log_ids: Vec<String>,
    },
    /// The SCT timestamp is outside the CT log key's validity.
    #[error("SCT from log {log_id} has timestamp {timestamp_ms} ms outside the log key validity")]
    SctOutsideLogValidity {
        /// Hex log ID.
        log_id: String,
        /// SCT timestamp (ms since the epoch).
        timestamp_ms: u64,
    },
    /// The SCT signature does not verify.
    #[error("SCT signature from log {log_id} does not verify")]
    BadSctSignature {
        /// Hex log ID.
        log_id: String,
    },
    /// The SCT's hash/signature algorithm pair is not supported.
    #[error("unsupported SCT algorithm (hash {hash}, signature {signature})")]
    UnsupportedSctAlgorithm {
        /// TLS HashAlgorithm code.
        hash: u8,
        /// TLS SignatureAlgorithm code.
        signature: u8,
    },
    /// A field is too long for its TLS length prefix.
    #[error("{0} too long for its length prefix")]
    FieldTooLong(&'static str),
    /// Re-encoding a structure failed.
    #[error("encoding {what}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's error.
        #[source]
        source: der::Error,
    },
    /// The RFC 3161 timestamp could not be decoded.
    #[error("malformed RFC 3161 timestamp: {0}")]
    MalformedTimestamp(&'static str),
    /// A typed part of the timestamp could not be decoded.
    #[error("malformed RFC 3161 timestamp {what}")]
    TimestampDer {
        /// Which part.
        what: &'static str,
        /// The decoder's error.
        #[source]
        source: der::Error,
    },
    /// The TimeStampResp status is not granted.
    #[error("timestamp response status is {0}, not granted")]
    TimestampNotGranted(u32),
    /// The messageImprint hash algorithm is not SHA-256/384/512.
    #[error("timestamp messageImprint uses unsupported hash {0}")]
    UnsupportedImprintHash(String),
    /// The messageImprint is not the hash of the signed bytes.
    #[error("timestamp messageImprint does not match the signature bytes")]
    ImprintMismatch,
    /// The messageDigest signed attribute is not the hash of the TSTInfo.
    #[error("timestamp messageDigest attribute does not match the TSTInfo")]
    MessageDigestMismatch,
    /// The signing certificate attribute names another certificate.
    #[error("timestamp signing-certificate attribute does not match the TSA certificate")]
    SigningCertificateMismatch,
    /// A certificate in the token differs from the trusted TSA certificate.
    #[error("timestamp token certificate differs from the trusted TSA certificate")]
    TokenCertificateMismatch,
    /// The CMS signature over the signed attributes does not verify.
    #[error("timestamp signature does not verify")]
    BadTimestampSignature,
    /// genTime is outside the authority's validFor.
    #[error("timestamp genTime {gen_time} is outside the authority validity")]
    GenTimeOutsideAuthority {
        /// genTime (unix seconds).
        gen_time: i64,
    },
    /// No timestamp authority was given.
    #[error("no timestamp authority to verify against")]
    NoTimestampAuthority,
    /// No trusted authority signed the timestamp.
    #[error("timestamp was not signed by any trusted timestamp authority")]
    UnknownTimestampAuthority,
}

/// Result with the x509 error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
