//! Certificate path validation against a trusted chain (RFC 5280 §6, the parts Sigstore
//! needs).
//!
//! The path is built only from the trusted certificates handed in (a trusted root's CA
//! entry: intermediates first, the self-signed anchor last). Certificates that arrived in
//! a bundle are never passed here, so they can never act as anchors or intermediates.
//! Revocation and policy OIDs are out of scope (Sigstore uses neither); name constraints
//! are not processed, so a critical nameConstraints extension is rejected.

use super::{oids, Certificate, Error, Result};

/// A leaf whose path to a trusted anchor was checked by [`verify_chain`]. Only that
/// function makes one.
#[derive(Debug, Clone)]
pub struct VerifiedChain {
    leaf: Certificate,
    issuer: Certificate,
    cas: Vec<Certificate>,
}

impl VerifiedChain {
    /// The end-entity certificate.
    pub fn leaf(&self) -> &Certificate {
        &self.leaf
    }

    /// The leaf's direct issuer (needed for the SCT issuer_key_hash).
    pub fn issuer(&self) -> &Certificate {
        &self.issuer
    }

    /// The CA certificates of the path, issuer first, self-signed anchor last.
    pub fn cas(&self) -> &[Certificate] {
        &self.cas
    }
}

/// What the end-entity key is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Fulcio leaves: keyUsage digitalSignature, extKeyUsage codeSigning.
    CodeSigning,
    /// TSA leaves: extKeyUsage exactly timeStamping, critical (RFC 3161 §2.3).
    TimeStamping,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::CodeSigning => "codeSigning",
            Purpose::TimeStamping => "timeStamping",
        }
    }

    fn oid(self) -> const_oid::ObjectIdentifier {
        match self {
            Purpose::CodeSigning => oids::KP_CODE_SIGNING,
            Purpose::TimeStamping => oids::KP_TIME_STAMPING,
        }
    }
}

/// Validates `leaf` for code signing at unix time `at` against `trusted`, a CA chain
/// from a trusted root: intermediates first, self-signed anchor **last**.
///
/// Checks: every signature (issuer key over the exact TBS bytes, inner and outer
/// algorithm equal), every certificate valid at `at` (both ends inclusive), issuer and
/// subject names chain, each CA has basicConstraints CA:TRUE, keyUsage keyCertSign, a
/// respected pathLenConstraint and an extKeyUsage that is absent or allows codeSigning;
/// the leaf is not a CA, has keyUsage digitalSignature and extKeyUsage codeSigning and
/// is not a CT precertificate; no certificate has a critical extension sigbox does not
/// process (a critical SAN, OtherName-only included, is fine); the anchor is self-issued
/// and verifies itself. The leaf's issuer may be any certificate of `trusted`; the path
/// then runs from there to the end of the list.
///
/// Errors: [`Error::EmptyTrustedChain`], [`Error::IssuerNotFound`],
/// [`Error::BadCertificateSignature`], [`Error::OutsideValidity`], and the profile
/// errors named above.
pub fn verify_chain(leaf: &Certificate, trusted: &[Certificate], at: i64) -> Result<VerifiedChain> {
    verify_path(leaf, trusted, at, Purpose::CodeSigning)
}

/// [`verify_chain`] with the end-entity purpose as a parameter (the TSA uses it).
pub(crate) fn verify_path(
    leaf: &Certificate,
    trusted: &[Certificate],
    at: i64,
    purpose: Purpose,
) -> Result<VerifiedChain> {
    if trusted.is_empty() {
        return Err(Error::EmptyTrustedChain);
    }
    check_leaf_profile(leaf, purpose)?;
    check_validity(leaf, at)?;

    let leaf_issuer = leaf.issuer_der()?;
    let mut start = None;
    let mut signature_error = None;
    for (index, candidate) in trusted.iter().enumerate() {
        if candidate.subject_der()? != leaf_issuer {
            continue;
        }
        match verify_signature(leaf, candidate) {
            Ok(()) => {
                start = Some(index);
                break;
            }
            Err(e) => signature_error = Some(e),
        }
    }
    let Some(start) = start else {
        return Err(signature_error
            .unwrap_or_else(|| Error::IssuerNotFound { issuer: leaf.issuer_string() }));
    };
    let cas = trusted.get(start..).unwrap_or_default();

    for (depth, ca) in cas.iter().enumerate() {
        check_ca_profile(ca, depth, purpose)?;
        check_validity(ca, at)?;
        match cas.get(depth + 1) {
            Some(next) => {
                if ca.issuer_der()? != next.subject_der()? {
                    return Err(Error::NameChaining {
                        subject: ca.subject_string(),
                        issuer: ca.issuer_string(),
                        next: next.subject_string(),
                    });
                }
                verify_trusted_signature(ca, next)?;
            }
            None => {
                if ca.issuer_der()? != ca.subject_der()?
                    || verify_trusted_signature(ca, ca).is_err()
                {
                    return Err(Error::AnchorNotSelfSigned { subject: ca.subject_string() });
                }
            }
        }
    }
    let issuer = cas.first().ok_or(Error::EmptyTrustedChain)?.clone();
    Ok(VerifiedChain { leaf: leaf.clone(), issuer, cas: cas.to_vec() })
}

/// [`verify_signature`] for a link between two certificates of the trusted chain, which
/// every verification repeats: whether a signature verifies is a pure function of the two
/// certificates' bytes, so pairs that verified are remembered (by SHA-256 of both DERs) and
/// not checked again. This takes the P-384 CA signatures off the per-bundle cost. Validity
/// periods and profiles are still checked every time by the caller.
fn verify_trusted_signature(subject: &Certificate, issuer: &Certificate) -> Result<()> {
    use std::collections::HashSet;
    use std::sync::{OnceLock, RwLock};
    static VERIFIED: OnceLock<RwLock<HashSet<[u8; 32]>>> = OnceLock::new();
    let cache = VERIFIED.get_or_init(|| RwLock::new(HashSet::new()));
    let mut input = Vec::with_capacity(subject.der().len() + issuer.der().len() + 8);
    input.extend_from_slice(&(subject.der().len() as u64).to_be_bytes());
    input.extend_from_slice(subject.der());
    input.extend_from_slice(issuer.der());
    let mut key = [0u8; 32];
    key.copy_from_slice(
        crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, &input).as_bytes(),
    );
    if cache.read().is_ok_and(|set| set.contains(&key)) {
        return Ok(());
    }
    verify_signature(subject, issuer)?;
    if let Ok(mut set) = cache.write() {
        // Trusted roots hold a handful of CAs; the bound only stops unbounded growth if a
        // caller feeds many different "trusted" chains.
        if set.len() >= 4096 {
            set.clear();
        }
        set.insert(key);
    }
    Ok(())
}

fn verify_signature(subject: &Certificate, issuer: &Certificate) -> Result<()> {
    subject.verify_signed_by(issuer.public_key()).map_err(|e| match e {
        Error::BadCertificateSignature { subject, .. } => {
            Error::BadCertificateSignature { subject, issuer: issuer.subject_string() }
        }
        other => other,
    })
}

fn check_validity(cert: &Certificate, at: i64) -> Result<()> {
    if at < cert.not_before() || at > cert.not_after() {
        return Err(Error::OutsideValidity {
            subject: cert.subject_string(),
            at,
            not_before: cert.not_before(),
            not_after: cert.not_after(),
        });
    }
    Ok(())
}

fn check_leaf_profile(leaf: &Certificate, purpose: Purpose) -> Result<()> {
    if leaf.extension_value(&oids::CT_POISON).is_some() {
        return Err(Error::Precertificate);
    }
    check_critical_extensions(leaf)?;
    if leaf.is_ca() {
        return Err(Error::LeafIsCa);
    }
    match (purpose, leaf.key_usage()) {
        (_, Some(ku)) if ku.digital_signature() => {}
        // RFC 3161 does not require keyUsage on a TSA certificate.
        (Purpose::TimeStamping, None) => {}
        _ => return Err(Error::LeafKeyUsage),
    }
    let eku = leaf.extended_key_usage().unwrap_or_default();
    let allowed = match purpose {
        Purpose::CodeSigning => eku.contains(&oids::KP_CODE_SIGNING),
        // RFC 3161 §2.3: exactly one EKU, timeStamping, and the extension is critical.
        Purpose::TimeStamping => {
            eku == [oids::KP_TIME_STAMPING]
                && leaf.extensions().any(|e| e.extn_id == oids::EXTENDED_KEY_USAGE && e.critical)
        }
    };
    if !allowed {
        return Err(Error::LeafExtendedKeyUsage { purpose: purpose.name() });
    }
    Ok(())
}

/// `depth` is the number of intermediate CA certificates between this CA and the leaf.
fn check_ca_profile(ca: &Certificate, depth: usize, purpose: Purpose) -> Result<()> {
    check_critical_extensions(ca)?;
    let Some(bc) = ca.basic_constraints().filter(|bc| bc.ca) else {
        return Err(Error::NotCa { subject: ca.subject_string() });
    };
    if let Some(max) = bc.path_len_constraint {
        if depth > usize::from(max) {
            return Err(Error::PathLength { subject: ca.subject_string() });
        }
    }
    if !ca.key_usage().map(|ku| ku.key_cert_sign()).unwrap_or(false) {
        return Err(Error::MissingKeyCertSign { subject: ca.subject_string() });
    }
    if let Some(eku) = ca.extended_key_usage() {
        if !eku.contains(&purpose.oid()) && !eku.contains(&oids::ANY_EXTENDED_KEY_USAGE) {
            return Err(Error::CaExtendedKeyUsage {
                subject: ca.subject_string(),
                purpose: purpose.name(),
            });
        }
    }
    Ok(())
}

fn check_critical_extensions(cert: &Certificate) -> Result<()> {
    for ext in cert.extensions().filter(|e| e.critical) {
        let oid = ext.extn_id;
        let handled = [
            oids::BASIC_CONSTRAINTS,
            oids::KEY_USAGE,
            oids::EXTENDED_KEY_USAGE,
            oids::SUBJECT_ALT_NAME,
            oids::SUBJECT_KEY_ID,
            oids::AUTHORITY_KEY_ID,
            oids::CERTIFICATE_POLICIES,
            oids::CT_SCT_LIST,
        ]
        .contains(&oid)
            || oid.to_string().starts_with(oids::FULCIO_ARC);
        if !handled {
            return Err(Error::UnknownCriticalExtension {
                subject: cert.subject_string(),
                oid: oid.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(der: &[u8]) -> Certificate {
        Certificate::from_der(der).unwrap()
    }

    fn github_leaf() -> Certificate {
        cert(include_bytes!("../../fixtures/x509/github-leaf.der"))
    }

    fn fulcio_chain() -> Vec<Certificate> {
        vec![
            cert(include_bytes!("../../fixtures/x509/fulcio-intermediate.der")),
            cert(include_bytes!("../../fixtures/x509/fulcio-root.der")),
        ]
    }

    const INTEGRATED_TIME: i64 = 1710888076;

    #[test]
    fn github_leaf_at_integrated_time_verifies() {
        let chain = fulcio_chain();
        let verified = verify_chain(&github_leaf(), &chain, INTEGRATED_TIME).unwrap();
        assert_eq!(verified.issuer(), &chain[0]);
        assert_eq!(verified.leaf(), &github_leaf());
        assert_eq!(verified.cas().len(), 2);
    }

    #[test]
    fn github_leaf_validity_ends_are_inclusive() {
        let leaf = github_leaf();
        let chain = fulcio_chain();
        assert!(verify_chain(&leaf, &chain, leaf.not_before()).is_ok());
        assert!(verify_chain(&leaf, &chain, leaf.not_after()).is_ok());
    }

    #[test]
    fn github_leaf_hour_after_not_after_is_rejected() {
        let leaf = github_leaf();
        let err = verify_chain(&leaf, &fulcio_chain(), leaf.not_after() + 3600).unwrap_err();
        assert!(matches!(err, Error::OutsideValidity { .. }), "{err}");
        let err = verify_chain(&leaf, &fulcio_chain(), leaf.not_after() + 1).unwrap_err();
        assert!(matches!(err, Error::OutsideValidity { .. }), "{err}");
    }

    #[test]
    fn github_leaf_before_not_before_is_rejected() {
        let leaf = github_leaf();
        let err = verify_chain(&leaf, &fulcio_chain(), leaf.not_before() - 1).unwrap_err();
        assert!(matches!(err, Error::OutsideValidity { .. }), "{err}");
    }

    #[test]
    fn dsse_leaf_2023_verifies_with_current_chain_not_old_root() {
        let leaf = cert(include_bytes!("../../fixtures/x509/dsse-2023-leaf.der"));
        let at = leaf.not_before() + 5;
        assert!(verify_chain(&leaf, &fulcio_chain(), at).is_ok());
        // The 2021 `sigstore` root did not issue it (its issuer is the intermediate).
        let old_root = cert(include_bytes!("../../fixtures/x509/fulcio-2021-root.der"));
        let err = verify_chain(&leaf, &[old_root], at).unwrap_err();
        assert!(matches!(err, Error::IssuerNotFound { .. }), "{err}");
    }

    #[test]
    fn old_root_chain_of_one_checks_itself_as_anchor() {
        // The old CA entry is a lone self-signed root: used as leaf issuer and anchor.
        let old_root = cert(include_bytes!("../../fixtures/x509/fulcio-2021-root.der"));
        assert!(old_root.is_ca());
        assert!(old_root.verify_signed_by(old_root.public_key()).is_ok());
        check_ca_profile(&old_root, 0, Purpose::CodeSigning).unwrap();
        check_ca_profile(&old_root, 1, Purpose::CodeSigning).unwrap();
        // pathlen:1 allows one intermediate below, not two.
        assert!(matches!(
            check_ca_profile(&old_root, 2, Purpose::CodeSigning),
            Err(Error::PathLength { .. })
        ));
    }

    #[test]
    fn root_issued_2022_leaf_verifies_through_the_root() {
        // A real May 2022 leaf issued directly by the current root (before the
        // intermediate): the issuer is found at the end of the trusted chain.
        let leaf = Certificate::from_pem(include_str!(
            "../../fixtures/x509/fulcio-root-direct-2022-leaf.pem"
        ))
        .unwrap();
        let at = leaf.not_before() + 60;
        let chain = fulcio_chain();
        let verified = verify_chain(&leaf, &chain, at).unwrap();
        assert_eq!(verified.issuer(), &chain[1]);
        assert_eq!(verified.cas().len(), 1);
        assert!(verify_chain(&leaf, &chain[1..], at).is_ok());
        // The 2021 root has the same name but another key.
        let old_root = cert(include_bytes!("../../fixtures/x509/fulcio-2021-root.der"));
        let err = verify_chain(&leaf, &[old_root], at).unwrap_err();
        assert!(matches!(err, Error::BadCertificateSignature { .. }), "{err}");
        // The intermediate did not exist yet at the leaf's time.
        assert!(verify_chain(&github_leaf(), &chain, at).is_err());
    }

    #[test]
    fn staging_leaf_with_production_chain_is_rejected() {
        let leaf = cert(include_bytes!("../../fixtures/x509/staging-leaf.der"));
        let at = leaf.not_before();
        let err = verify_chain(&leaf, &fulcio_chain(), at).unwrap_err();
        // Same issuer name, different key.
        assert!(matches!(err, Error::BadCertificateSignature { .. }), "{err}");
        let staging = vec![
            cert(include_bytes!("../../fixtures/x509/fulcio-staging-0.der")),
            cert(include_bytes!("../../fixtures/x509/fulcio-staging-1.der")),
        ];
        assert!(verify_chain(&leaf, &staging, at).is_ok());
    }

    #[test]
    fn chain_without_anchor_is_rejected() {
        let chain = fulcio_chain();
        let err = verify_chain(&github_leaf(), &chain[..1], INTEGRATED_TIME).unwrap_err();
        assert!(matches!(err, Error::AnchorNotSelfSigned { .. }), "{err}");
    }

    #[test]
    fn chain_root_only_does_not_issue_leaf() {
        let chain = fulcio_chain();
        let err = verify_chain(&github_leaf(), &chain[1..], INTEGRATED_TIME).unwrap_err();
        assert!(matches!(err, Error::IssuerNotFound { .. }), "{err}");
    }

    #[test]
    fn empty_trusted_chain_is_rejected() {
        let err = verify_chain(&github_leaf(), &[], INTEGRATED_TIME).unwrap_err();
        assert!(matches!(err, Error::EmptyTrustedChain), "{err}");
    }

    #[test]
    fn leaf_as_its_own_issuer_is_rejected() {
        let leaf = github_leaf();
        assert!(verify_chain(&leaf, std::slice::from_ref(&leaf), INTEGRATED_TIME).is_err());
    }

    #[test]
    fn ca_certificate_as_leaf_is_rejected() {
        let chain = fulcio_chain();
        let err = verify_chain(&chain[0], &chain[1..], INTEGRATED_TIME).unwrap_err();
        assert!(matches!(err, Error::LeafIsCa), "{err}");
    }

    #[test]
    fn leaf_with_flipped_signature_bit_is_rejected() {
        let mut der = include_bytes!("../../fixtures/x509/github-leaf.der").to_vec();
        let last = der.len() - 3;
        der[last] ^= 0x01;
        let leaf = cert(&der);
        let err = verify_chain(&leaf, &fulcio_chain(), INTEGRATED_TIME).unwrap_err();
        assert!(matches!(err, Error::BadCertificateSignature { .. }), "{err}");
    }

    #[test]
    fn tsa_leaf_is_not_a_code_signing_leaf() {
        let tsa = cert(include_bytes!("../../fixtures/x509/tsa-prod-0.der"));
        let root = cert(include_bytes!("../../fixtures/x509/tsa-prod-1.der"));
        let at = tsa.not_before() + 10;
        let err = verify_chain(&tsa, std::slice::from_ref(&root), at).unwrap_err();
        assert!(matches!(err, Error::LeafExtendedKeyUsage { .. }), "{err}");
        assert!(verify_path(&tsa, &[root], at, Purpose::TimeStamping).is_ok());
    }

    #[test]
    fn code_signing_leaf_is_not_a_timestamping_leaf() {
        let err =
            verify_path(&github_leaf(), &fulcio_chain(), INTEGRATED_TIME, Purpose::TimeStamping)
                .unwrap_err();
        assert!(matches!(err, Error::LeafExtendedKeyUsage { .. }), "{err}");
    }
}
