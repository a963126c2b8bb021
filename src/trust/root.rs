//! The checked trusted root: keys parsed, validity windows parsed into closed intervals,
//! certificate chains parsed (PROTOCOLS §2.1).
//!
//! [`TrustedRoot`] is made once from JSON and then only read. It hands out what the lower
//! layers verify with: tlog entries by log ID, C2SP note verifiers, `x509::CtLog`s and
//! `x509::TimestampAuthority`s.

use crate::crypto::{PublicKey, SignatureScheme};
use crate::tlog::NoteVerifier;
use crate::trust::{parse_time, wire, Error, Result};
use crate::x509::{Certificate, CtLog, TimestampAuthority};

/// Media type of trusted root v0.1 (what public good ships).
pub const TRUSTED_ROOT_V01: &str = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
/// Media type of trusted root v0.2.
pub const TRUSTED_ROOT_V02: &str = "application/vnd.dev.sigstore.trustedroot.v0.2+json";

/// The public-good production trusted root embedded in the binary (from the TUF repository
/// at tuf-repo-cdn.sigstore.dev; shipped data, see `src/trust/public_good/README.md`).
pub const PUBLIC_GOOD_TRUSTED_ROOT: &str = include_str!("public_good/trusted_root.json");

/// A closed validity interval in Unix seconds: `start <= t <= end` (`end` absent = open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidFor {
    /// First valid second.
    pub start: i64,
    /// Last valid second, if the entry has ended.
    pub end: Option<i64>,
}

impl ValidFor {
    /// True when `t` lies inside the interval, both ends included.
    pub fn contains(&self, t: i64) -> bool {
        t >= self.start && self.end.map_or(true, |end| t <= end)
    }
}

/// A transparency log (Rekor or CT) the root trusts.
#[derive(Debug, Clone)]
pub struct TransparencyLog {
    /// Base URL as written.
    pub base_url: String,
    /// The log key.
    pub key: PublicKey,
    /// The signature scheme named by `keyDetails` (or the key's default).
    pub scheme: SignatureScheme,
    /// `logId.keyId`.
    pub log_id: Vec<u8>,
    /// v0.2 `checkpointKeyId`, if given.
    pub checkpoint_key_id: Option<Vec<u8>>,
    /// When the key is valid.
    pub valid_for: ValidFor,
    /// Operator (may be empty).
    pub operator: String,
}

impl TransparencyLog {
    /// The C2SP note verifiers for this log's checkpoints: key name = the base URL's host,
    /// and also `host:port` when the URL has a port (local instances).
    ///
    /// Errors: [`Error::NoteKey`] when the key cannot sign notes.
    pub fn note_verifiers(&self) -> Result<Vec<NoteVerifier>> {
        let (host, host_port) = url_host(&self.base_url);
        let mut names = vec![host];
        if let Some(with_port) = host_port {
            names.push(with_port);
        }
        names
            .into_iter()
            .map(|name| {
                NoteVerifier::for_key(&name, self.key.clone())
                    .map_err(|source| Error::NoteKey { url: self.base_url.clone(), source })
            })
            .collect()
    }
}

/// A certificate authority (Fulcio) or timestamp authority the root trusts.
#[derive(Debug, Clone)]
pub struct Authority {
    /// Service URI.
    pub uri: String,
    /// `O=` of the subject, informational.
    pub organization: String,
    /// `CN=` of the subject, informational.
    pub common_name: String,
    /// The chain as listed: intermediates (TSA: leaf first), anchor last.
    pub chain: Vec<Certificate>,
    /// When the authority may be used.
    pub valid_for: ValidFor,
    /// Operator (may be empty).
    pub operator: String,
}

/// A checked `trusted_root.json`.
#[derive(Debug, Clone)]
pub struct TrustedRoot {
    media_type: String,
    tlogs: Vec<TransparencyLog>,
    certificate_authorities: Vec<Authority>,
    ctlogs: Vec<TransparencyLog>,
    timestamp_authorities: Vec<Authority>,
}

impl TrustedRoot {
    /// Parses and checks `trusted_root.json` (media type v0.1 or v0.2).
    ///
    /// Errors: [`Error::Json`], [`Error::MediaType`], and per entry [`Error::MissingStart`],
    /// [`Error::Time`], [`Error::Key`], [`Error::Certificate`], [`Error::EmptyChain`].
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let root: wire::TrustedRoot = serde_json::from_slice(bytes).map_err(Error::Json)?;
        TrustedRoot::try_from(root)
    }

    /// The embedded public-good production root.
    pub fn public_good() -> Result<Self> {
        TrustedRoot::from_json(PUBLIC_GOOD_TRUSTED_ROOT.as_bytes())
    }

    /// The media type as written.
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    /// This root with its certificate authorities replaced (gitsign's `fulcioRoot`: a PEM
    /// file that decides which CA chains are accepted).
    pub fn with_certificate_authorities(mut self, authorities: Vec<Authority>) -> Self {
        self.certificate_authorities = authorities;
        self
    }

    /// This root with its timestamp authorities replaced (gitsign's
    /// `timestampCertChain`: a TSA chain given by hand).
    pub fn with_timestamp_authorities(mut self, authorities: Vec<Authority>) -> Self {
        self.timestamp_authorities = authorities;
        self
    }

    /// This root with its Rekor logs replaced (`SIGSTORE_REKOR_PUBLIC_KEY`: a log key given
    /// by hand, as cosign and gitsign accept it).
    pub fn with_tlogs(mut self, tlogs: Vec<TransparencyLog>) -> Self {
        self.tlogs = tlogs;
        self
    }

    /// Every Rekor log.
    pub fn tlogs(&self) -> &[TransparencyLog] {
        &self.tlogs
    }

    /// Every Fulcio CA.
    pub fn certificate_authorities(&self) -> &[Authority] {
        &self.certificate_authorities
    }

    /// Every CT log.
    pub fn ctlogs(&self) -> &[TransparencyLog] {
        &self.ctlogs
    }

    /// Every timestamp authority.
    pub fn timestamp_authorities(&self) -> &[Authority] {
        &self.timestamp_authorities
    }

    /// The Rekor log whose `logId` (or `checkpointKeyId`) equals `log_id`.
    pub fn tlog_by_id(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.tlogs
            .iter()
            .find(|log| log.log_id == log_id || log.checkpoint_key_id.as_deref() == Some(log_id))
    }

    /// The CT logs in the form `x509::verify_embedded_scts` takes.
    pub fn ct_logs_for_x509(&self) -> Vec<CtLog> {
        // CT log IDs are always SHA-256 sized; an entry with another length can match no SCT.
        self.ctlogs
            .iter()
            .filter_map(|log| {
                Some(CtLog {
                    log_id: <[u8; 32]>::try_from(log.log_id.as_slice()).ok()?,
                    key: log.key.clone(),
                    valid_from: log.valid_for.start,
                    valid_until: log.valid_for.end,
                })
            })
            .collect()
    }

    /// The TSAs in the form `x509::verify_timestamp` takes.
    pub fn timestamp_authorities_for_x509(&self) -> Vec<TimestampAuthority> {
        self.timestamp_authorities
            .iter()
            .map(|tsa| TimestampAuthority {
                chain: tsa.chain.clone(),
                valid_from: tsa.valid_for.start,
                valid_until: tsa.valid_for.end,
                uri: tsa.uri.clone(),
            })
            .collect()
    }
}

impl TryFrom<wire::TrustedRoot> for TrustedRoot {
    type Error = Error;

    fn try_from(root: wire::TrustedRoot) -> Result<Self> {
        if root.media_type != TRUSTED_ROOT_V01 && root.media_type != TRUSTED_ROOT_V02 {
            return Err(Error::MediaType(root.media_type));
        }
        let tlogs = convert_all("tlogs", root.tlogs, convert_log)?;
        let ctlogs = convert_all("ctlogs", root.ctlogs, convert_log)?;
        let certificate_authorities =
            convert_all("certificateAuthorities", root.certificate_authorities, convert_authority)?;
        let timestamp_authorities =
            convert_all("timestampAuthorities", root.timestamp_authorities, convert_authority)?;
        Ok(TrustedRoot {
            media_type: root.media_type,
            tlogs,
            certificate_authorities,
            ctlogs,
            timestamp_authorities,
        })
    }
}

fn convert_all<W, T>(
    list: &'static str,
    items: Vec<W>,
    convert: fn(&'static str, usize, W) -> Result<T>,
) -> Result<Vec<T>> {
    items.into_iter().enumerate().map(|(i, item)| convert(list, i, item)).collect()
}

fn convert_log(
    list: &'static str,
    index: usize,
    log: wire::TransparencyLogInstance,
) -> Result<TransparencyLog> {
    let raw = log.public_key.raw_bytes.as_slice();
    let key = match PublicKey::from_spki_der(raw) {
        Ok(key) => key,
        // compat(staging): `PKCS1_RSA_*` keys are a bare PKCS#1 RSAPublicKey, not SPKI.
        Err(_) if log.public_key.key_details.starts_with("PKCS1_RSA") => {
            PublicKey::from_spki_der(&rsa_pkcs1_to_spki(raw)).map_err(|source| Error::Key {
                list,
                index,
                source,
            })?
        }
        Err(source) => return Err(Error::Key { list, index, source }),
    };
    let scheme = SignatureScheme::from_key_details(&log.public_key.key_details)
        .unwrap_or_else(|| key.default_scheme());
    let valid_for = convert_range(list, index, log.public_key.valid_for.as_ref())?;
    let log_id = if log.log_id.key_id.is_empty() {
        // compat: old roots may omit logId; the v1 rule SHA-256(SPKI) is what it would be.
        key.key_id().to_vec()
    } else {
        log.log_id.key_id.0
    };
    Ok(TransparencyLog {
        base_url: log.base_url,
        key,
        scheme,
        log_id,
        checkpoint_key_id: log.checkpoint_key_id.map(|id| id.key_id.0).filter(|id| !id.is_empty()),
        valid_for,
        operator: log.operator,
    })
}

fn convert_authority(
    list: &'static str,
    index: usize,
    ca: wire::CertificateAuthority,
) -> Result<Authority> {
    let valid_for = convert_range(list, index, ca.valid_for.as_ref())?;
    if ca.cert_chain.certificates.is_empty() {
        return Err(Error::EmptyChain { list, index });
    }
    let chain = ca
        .cert_chain
        .certificates
        .iter()
        .map(|c| Certificate::from_der(&c.raw_bytes))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|source| Error::Certificate { list, index, source })?;
    Ok(Authority {
        uri: ca.uri,
        organization: ca.subject.organization,
        common_name: ca.subject.common_name,
        chain,
        valid_for,
        operator: ca.operator,
    })
}

fn convert_range(
    list: &'static str,
    index: usize,
    range: Option<&wire::TimeRange>,
) -> Result<ValidFor> {
    let start =
        range.and_then(|r| r.start.as_deref()).ok_or(Error::MissingStart { list, index })?;
    let start = parse_time(start).ok_or_else(|| Error::Time { list, index, text: start.into() })?;
    let end = match range.and_then(|r| r.end.as_deref()) {
        None => None,
        Some(text) => {
            Some(parse_time(text).ok_or_else(|| Error::Time { list, index, text: text.into() })?)
        }
    };
    Ok(ValidFor { start, end })
}

/// Wraps a PKCS#1 RSAPublicKey in a SubjectPublicKeyInfo with the rsaEncryption OID.
fn rsa_pkcs1_to_spki(pkcs1: &[u8]) -> Vec<u8> {
    // AlgorithmIdentifier { rsaEncryption, NULL }, DER.
    const ALGORITHM: [u8; 15] =
        [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
    let mut bits = vec![0u8];
    bits.extend_from_slice(pkcs1);
    let mut body = ALGORITHM.to_vec();
    body.extend(der_tlv(0x03, &bits));
    der_tlv(0x30, &body)
}

fn der_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}

/// (`host`, `Some("host:port")` if a port is given) of a URL like `https://h:p/path`.
fn url_host(url: &str) -> (String, Option<String>) {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            (host.to_string(), Some(authority.to_string()))
        }
        _ => (authority.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_good_root_parses_with_expected_entries() {
        let root = TrustedRoot::public_good().unwrap();
        assert_eq!(root.tlogs().len(), 2);
        assert_eq!(root.ctlogs().len(), 2);
        assert_eq!(root.certificate_authorities().len(), 2);
        assert_eq!(root.timestamp_authorities().len(), 1);
        let rekor =
            root.tlog_by_id(&crate::encoding::hex_decode(REKOR_V1_LOG_ID).unwrap()).unwrap();
        assert_eq!(rekor.base_url, "https://rekor.sigstore.dev");
        assert_eq!(rekor.key.key_id().to_vec(), rekor.log_id);
        assert_eq!(rekor.valid_for.start, 1610452407);
        assert_eq!(rekor.valid_for.end, None);
        let v2 = root.tlogs().get(1).unwrap();
        let verifiers = v2.note_verifiers().unwrap();
        // The Rekor v2 log ID is the full C2SP key hash of its hostname key.
        assert_eq!(verifiers.first().unwrap().log_id().to_vec(), v2.log_id);
    }

    #[test]
    fn valid_for_is_closed_at_both_ends() {
        let range = ValidFor { start: 10, end: Some(20) };
        assert!(range.contains(10));
        assert!(range.contains(20));
        assert!(!range.contains(9));
        assert!(!range.contains(21));
        assert!(ValidFor { start: 10, end: None }.contains(i64::MAX));
    }

    #[test]
    fn entry_without_start_is_rejected() {
        let mut root: serde_json::Value = serde_json::from_str(PUBLIC_GOOD_TRUSTED_ROOT).unwrap();
        root["tlogs"][0]["publicKey"]["validFor"] =
            serde_json::json!({"end": "2030-01-01T00:00:00Z"});
        let err = TrustedRoot::from_json(root.to_string().as_bytes()).unwrap_err();
        assert!(matches!(err, Error::MissingStart { list: "tlogs", index: 0 }), "{err}");
    }

    #[test]
    fn unknown_media_type_is_rejected() {
        let text = PUBLIC_GOOD_TRUSTED_ROOT.replace("version=0.1", "version=9.9");
        assert!(matches!(TrustedRoot::from_json(text.as_bytes()), Err(Error::MediaType(_))));
    }

    #[test]
    fn v02_root_with_checkpoint_key_id_is_accepted_and_searchable() {
        let mut root: serde_json::Value = serde_json::from_str(PUBLIC_GOOD_TRUSTED_ROOT).unwrap();
        root["mediaType"] = TRUSTED_ROOT_V02.into();
        root["tlogs"][0]["checkpointKeyId"] = serde_json::json!({"keyId": "AAECAw=="});
        root["tlogs"][0]["operator"] = "sigstore.dev".into();
        let parsed = TrustedRoot::from_json(root.to_string().as_bytes()).unwrap();
        let log = parsed.tlog_by_id(&[0, 1, 2, 3]).unwrap();
        assert_eq!(log.operator, "sigstore.dev");
    }

    #[test]
    fn staging_root_reads_the_pkcs1_rsa_ct_key() {
        let text = include_str!("../../fixtures/trust/staging_trusted_root.json");
        let root = TrustedRoot::from_json(text.as_bytes()).unwrap();
        let rsa = root.ctlogs().first().unwrap();
        assert_eq!(rsa.key.kind(), crate::crypto::KeyKind::Rsa);
        // Its log ID is SHA-256 of the SPKI we rebuilt, which proves the wrapping is exact.
        assert_eq!(rsa.key.key_id().to_vec(), rsa.log_id);
    }

    #[test]
    fn url_host_drops_scheme_path_and_keeps_port_variant() {
        assert_eq!(url_host("https://rekor.sigstore.dev"), ("rekor.sigstore.dev".into(), None));
        assert_eq!(
            url_host("http://127.0.0.1:3001/x"),
            ("127.0.0.1".into(), Some("127.0.0.1:3001".into()))
        );
    }

    const REKOR_V1_LOG_ID: &str =
        "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d";
}
