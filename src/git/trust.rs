//! gitsign's trust knobs applied to the trusted root (PROTOCOLS §7.4):
//!
//! * `gitsign.fulcioRoot` / `GITSIGN_FULCIO_ROOT` / `SIGSTORE_ROOT_FILE`: a PEM file of CA
//!   certificates; as in gitsign it *replaces* the root's certificate authorities, so
//!   signing (the chain Fulcio returns) and verification (the commit's chain) accept
//!   exactly the CAs in the file;
//! * `gitsign.timestampCertChain` / `GITSIGN_TIMESTAMP_CERT_CHAIN`: a PEM file of a TSA's
//!   chain; it replaces the root's timestamp authorities, for timestamps from a TSA the
//!   root does not list;
//! * `SIGSTORE_REKOR_PUBLIC_KEY`: a PEM file of a Rekor public key; as in cosign it
//!   replaces the root's Rekor keys, for a private log the root does not list.
//!
//! Pure: the caller reads the files; errors name the knob.

use crate::crypto::PublicKey;
use crate::trust::{Authority, TransparencyLog, TrustedRoot, ValidFor};
use crate::x509::Certificate;

/// Why a trust knob could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The PEM holds no certificate, or one does not parse.
    #[error("gitsign.fulcioRoot: {0}")]
    FulcioRoot(String),
    /// The PEM holds no certificate, or one does not parse.
    #[error("gitsign.timestampCertChain: {0}")]
    TimestampChain(String),
    /// The PEM is not a public key.
    #[error("SIGSTORE_REKOR_PUBLIC_KEY")]
    RekorKey(#[source] crate::crypto::Error),
}

/// `root` with its CAs replaced by the certificates of `pem` (one authority: the
/// certificates in file order, self-signed ones moved last as the anchor).
///
/// Errors: [`TrustError::FulcioRoot`].
pub fn with_fulcio_root(root: TrustedRoot, pem: &str) -> Result<TrustedRoot, TrustError> {
    let authority =
        authority_from_pem(pem, "gitsign.fulcioRoot").map_err(TrustError::FulcioRoot)?;
    Ok(root.with_certificate_authorities(vec![authority]))
}

/// `root` with its timestamp authorities replaced by the chain in `pem`.
///
/// Errors: [`TrustError::TimestampChain`].
pub fn with_timestamp_chain(root: TrustedRoot, pem: &str) -> Result<TrustedRoot, TrustError> {
    let authority = authority_from_pem(pem, "gitsign.timestampCertChain")
        .map_err(TrustError::TimestampChain)?;
    Ok(root.with_timestamp_authorities(vec![authority]))
}

/// One authority from the certificates of `pem`, in file order with self-signed ones moved
/// last as the anchor, valid from the earliest `notBefore`.
fn authority_from_pem(pem: &str, operator: &str) -> Result<Authority, String> {
    let mut chain =
        Certificate::from_pem_chain(pem).map_err(|e| format!("not PEM certificates: {e}"))?;
    if chain.is_empty() {
        return Err("the file holds no CERTIFICATE block".into());
    }
    // Intermediates first, the anchor (self-issued) last, as trusted roots list them.
    chain.sort_by_key(|c| c.subject_string() == c.issuer_string());
    let start = chain.iter().map(Certificate::not_before).min().unwrap_or(0);
    let first = chain.first().map(Certificate::subject_string).unwrap_or_default();
    Ok(Authority {
        uri: String::new(),
        organization: String::new(),
        common_name: first,
        chain,
        valid_for: ValidFor { start, end: None },
        operator: operator.into(),
    })
}

/// `root` with its Rekor logs replaced by one log at `base_url` whose key is `pem`.
///
/// Errors: [`TrustError::RekorKey`].
pub fn with_rekor_key(
    root: TrustedRoot,
    pem: &[u8],
    base_url: &str,
) -> Result<TrustedRoot, TrustError> {
    let key = PublicKey::from_pem_or_der(pem).map_err(TrustError::RekorKey)?;
    let log = TransparencyLog {
        base_url: base_url.trim_end_matches('/').to_string(),
        scheme: key.default_scheme(),
        log_id: key.key_id().to_vec(),
        checkpoint_key_id: None,
        key,
        valid_for: ValidFor { start: 0, end: None },
        operator: "SIGSTORE_REKOR_PUBLIC_KEY".into(),
    };
    Ok(root.with_tlogs(vec![log]))
}

/// Applies both knobs to an instance: `fulcio_root` (PEM text) replaces the CAs;
/// `rekor_key` (PEM) replaces the log keys, for the log at `rekor_url` (gitsign's
/// `gitsign.rekor`), else the instance's Rekor v1 log at `now`, else its first log.
///
/// Errors: [`TrustError`].
pub fn apply(
    mut instance: crate::instance::Instance,
    fulcio_root: Option<&str>,
    timestamp_chain: Option<&str>,
    rekor_key: Option<&[u8]>,
    rekor_url: Option<&str>,
    now: i64,
) -> Result<crate::instance::Instance, TrustError> {
    if let Some(pem) = fulcio_root {
        instance.root = with_fulcio_root(instance.root, pem)?;
    }
    if let Some(pem) = timestamp_chain {
        instance.root = with_timestamp_chain(instance.root, pem)?;
    }
    if let Some(pem) = rekor_key {
        let url = rekor_url
            .map(str::to_string)
            .or_else(|| instance.rekor_v1(now).ok())
            .or_else(|| instance.root.tlogs().first().map(|t| t.base_url.clone()))
            .unwrap_or_default();
        instance.root = with_rekor_key(instance.root, pem, &url)?;
    }
    Ok(instance)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fulcio_root_replaces_the_authorities_and_bad_files_are_named() {
        let root = TrustedRoot::public_good().unwrap();
        let original = root.certificate_authorities().len();
        assert!(original > 1);
        let anchor = root.certificate_authorities()[0].chain.last().unwrap().to_pem();
        let replaced = with_fulcio_root(root.clone(), &anchor).unwrap();
        assert_eq!(replaced.certificate_authorities().len(), 1);
        assert_eq!(replaced.certificate_authorities()[0].chain.len(), 1);
        assert_eq!(replaced.tlogs().len(), root.tlogs().len());
        let err = with_fulcio_root(root.clone(), "not a pem").unwrap_err();
        assert!(err.to_string().contains("gitsign.fulcioRoot"), "{err}");
    }

    #[test]
    fn timestamp_chain_replaces_the_tsas_and_bad_files_are_named() {
        let root = TrustedRoot::public_good().unwrap();
        let anchor = root.certificate_authorities()[0].chain.last().unwrap().to_pem();
        let replaced = with_timestamp_chain(root.clone(), &anchor).unwrap();
        assert_eq!(replaced.timestamp_authorities().len(), 1);
        assert_eq!(replaced.timestamp_authorities()[0].chain[0].to_pem(), anchor);
        assert_eq!(replaced.certificate_authorities().len(), root.certificate_authorities().len());
        let err = with_timestamp_chain(root, "junk").unwrap_err();
        assert!(err.to_string().contains("gitsign.timestampCertChain"), "{err}");
    }

    #[test]
    fn rekor_key_replaces_the_logs() {
        let root = TrustedRoot::public_good().unwrap();
        let key = root.tlogs()[0].key.clone();
        let pem = key.to_pem();
        let replaced = with_rekor_key(root.clone(), pem.as_bytes(), "http://127.0.0.1:1/").unwrap();
        assert_eq!(replaced.tlogs().len(), 1);
        assert_eq!(replaced.tlogs()[0].log_id, root.tlogs()[0].log_id);
        assert_eq!(replaced.tlogs()[0].base_url, "http://127.0.0.1:1");
        assert!(with_rekor_key(root, b"junk", "http://x").is_err());
    }
}
