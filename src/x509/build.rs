//! Building and signing certificates: CA roots and intermediates, and Fulcio code-signing
//! leaves in the public-good profile (PROTOCOLS §3.3–§3.5).
//!
//! The TBS is assembled field by field so the extension order matches real Fulcio
//! certificates (KU, EKU, SKI, AKI, SAN, Fulcio extensions, then poison or SCT list), and
//! the same TBS can be emitted as a precertificate (with the critical poison) and as the
//! final certificate (with the SCT list), as RFC 6962 §3.1 requires.

use std::str::FromStr;
use std::time::Duration;

use der::asn1::{BitString, Ia5String, OctetString, UtcTime, Utf8StringRef};
use der::{Any, Decode, Encode};
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName as SanExtension, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{TbsCertificate, Version};

use super::{oids, Certificate};
use crate::crypto::{key_identifier, PublicKey, Signer};

/// Why a certificate could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A field could not be encoded or was out of range.
    #[error("cannot build certificate: {0}")]
    Field(&'static str),
    /// A length did not fit its TLS length prefix.
    #[error("{0} is too long to encode")]
    TooLong(&'static str),
    /// The certificate just built does not parse back.
    #[error("built certificate does not parse")]
    Reparse(#[source] super::Error),
}

type Result<T, E = BuildError> = std::result::Result<T, E>;

/// The SAN of a Fulcio leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeafName {
    /// rfc822Name.
    Email(String),
    /// URI.
    Uri(String),
    /// Sigstore OtherName (`1.3.6.1.4.1.57264.1.7`), UTF8String value.
    OtherName(String),
}

/// What a Fulcio leaf says, apart from its issuer.
#[derive(Debug, Clone)]
pub struct LeafProfile {
    /// Serial number bytes (big-endian; made positive and at most 20 bytes by the CA).
    pub serial: Vec<u8>,
    /// notBefore, Unix seconds.
    pub not_before: i64,
    /// notAfter, Unix seconds.
    pub not_after: i64,
    /// The leaf's public key.
    pub public_key: PublicKey,
    /// The one SAN.
    pub name: LeafName,
    /// Fulcio extensions as (arc under 1.3.6.1.4.1.57264.1, value). Arcs 1–6 are written
    /// raw, 8 and up as DER UTF8String (PROTOCOLS §3.4).
    pub fulcio_extensions: Vec<(u32, String)>,
}

/// A leaf TBS ready to become a precertificate and then the final certificate.
#[derive(Debug, Clone)]
pub struct LeafTbs {
    tbs: TbsCertificate,
}

/// Builds and signs a CA certificate. `issuer` is `None` for a self-signed root
/// (then `signer` must hold `public_key`'s private key). `path_len` is the
/// basicConstraints pathLenConstraint.
#[allow(clippy::too_many_arguments)]
pub fn build_ca_certificate(
    subject: &str,
    public_key: &PublicKey,
    issuer: Option<&Certificate>,
    signer: &dyn Signer,
    serial: &[u8],
    not_before: i64,
    not_after: i64,
    path_len: Option<u8>,
) -> Result<Certificate> {
    let subject_name = Name::from_str(subject).map_err(|_| BuildError::Field("CA subject name"))?;
    let issuer_name = match issuer {
        Some(cert) => subject_of(cert)?,
        None => subject_name.clone(),
    };
    let ski = key_identifier(&public_key.subject_public_key_bits());
    let aki = match issuer {
        Some(cert) => {
            cert.subject_key_id().map(<[u8]>::to_vec).ok_or(BuildError::Field("issuer SKI"))?
        }
        None => ski.to_vec(),
    };
    let mut extensions = vec![
        extension(
            oids::BASIC_CONSTRAINTS,
            true,
            &BasicConstraints { ca: true, path_len_constraint: path_len },
        )?,
        extension(oids::KEY_USAGE, true, &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign))?,
        extension(oids::SUBJECT_KEY_ID, false, &SubjectKeyIdentifier(octets(&ski)?))?,
        extension(oids::AUTHORITY_KEY_ID, false, &authority_key_id(&aki)?)?,
    ];
    if issuer.is_some() {
        // Intermediates carry EKU codeSigning so EKU chaining allows code-signing leaves.
        extensions.push(extension(
            oids::EXTENDED_KEY_USAGE,
            false,
            &ExtendedKeyUsage(vec![oids::KP_CODE_SIGNING]),
        )?);
    }
    let tbs = tbs(
        serial,
        signer,
        issuer_name,
        subject_name,
        public_key,
        not_before,
        not_after,
        extensions,
    )?;
    sign_tbs(tbs, signer)
}

/// Builds and signs a timestamp authority's signing certificate under `issuer`: keyUsage
/// digitalSignature and extKeyUsage timeStamping only, both critical (RFC 3161 §2.3; what
/// verifiers demand of a TSA leaf, PROTOCOLS §8.1).
#[allow(clippy::too_many_arguments)]
pub fn build_tsa_certificate(
    subject: &str,
    public_key: &PublicKey,
    issuer: &Certificate,
    signer: &dyn Signer,
    serial: &[u8],
    not_before: i64,
    not_after: i64,
) -> Result<Certificate> {
    let subject_name =
        Name::from_str(subject).map_err(|_| BuildError::Field("TSA subject name"))?;
    let issuer_ski = issuer.subject_key_id().ok_or(BuildError::Field("issuer SKI"))?.to_vec();
    let ski = key_identifier(&public_key.subject_public_key_bits());
    let extensions = vec![
        extension(oids::KEY_USAGE, true, &KeyUsage(KeyUsages::DigitalSignature.into()))?,
        extension(oids::EXTENDED_KEY_USAGE, true, &ExtendedKeyUsage(vec![oids::KP_TIME_STAMPING]))?,
        extension(oids::SUBJECT_KEY_ID, false, &SubjectKeyIdentifier(octets(&ski)?))?,
        extension(oids::AUTHORITY_KEY_ID, false, &authority_key_id(&issuer_ski)?)?,
    ];
    let tbs = tbs(
        serial,
        signer,
        subject_of(issuer)?,
        subject_name,
        public_key,
        not_before,
        not_after,
        extensions,
    )?;
    sign_tbs(tbs, signer)
}

impl LeafTbs {
    /// Assembles the leaf TBS (no poison, no SCT list yet) under `issuer`.
    pub fn new(profile: &LeafProfile, issuer: &Certificate, signer: &dyn Signer) -> Result<Self> {
        let issuer_ski = issuer.subject_key_id().ok_or(BuildError::Field("issuer SKI"))?.to_vec();
        let ski = key_identifier(&profile.public_key.subject_public_key_bits());
        let mut extensions = vec![
            extension(oids::KEY_USAGE, true, &KeyUsage(KeyUsages::DigitalSignature.into()))?,
            extension(
                oids::EXTENDED_KEY_USAGE,
                false,
                &ExtendedKeyUsage(vec![oids::KP_CODE_SIGNING]),
            )?,
            extension(oids::SUBJECT_KEY_ID, false, &SubjectKeyIdentifier(octets(&ski)?))?,
            extension(oids::AUTHORITY_KEY_ID, false, &authority_key_id(&issuer_ski)?)?,
            // The subject is empty, so the SAN must be critical (RFC 5280 §4.2.1.6).
            extension(
                oids::SUBJECT_ALT_NAME,
                true,
                &SanExtension(vec![general_name(&profile.name)?]),
            )?,
        ];
        let mut fulcio = profile.fulcio_extensions.clone();
        fulcio.sort_by_key(|(arc, _)| *arc);
        for (arc, value) in fulcio {
            let oid = der::asn1::ObjectIdentifier::new(&format!("{}{arc}", oids::FULCIO_ARC))
                .map_err(|_| BuildError::Field("Fulcio extension OID"))?;
            let bytes = if arc <= 6 {
                value.into_bytes()
            } else {
                Utf8StringRef::new(&value)
                    .and_then(|s| s.to_der())
                    .map_err(|_| BuildError::Field("Fulcio extension value"))?
            };
            extensions.push(Extension {
                extn_id: oid,
                critical: false,
                extn_value: octets(&bytes)?,
            });
        }
        let tbs = tbs(
            &profile.serial,
            signer,
            subject_of(issuer)?,
            Name::default(),
            &profile.public_key,
            profile.not_before,
            profile.not_after,
            extensions,
        )?;
        Ok(LeafTbs { tbs })
    }

    /// DER of the TBS with neither poison nor SCT list: what an SCT signs (RFC 6962 §3.2).
    pub fn signed_entry_tbs(&self) -> Result<Vec<u8>> {
        self.tbs.to_der().map_err(|_| BuildError::Field("encoding the TBS"))
    }

    /// The precertificate: this TBS plus the critical poison extension, signed.
    pub fn precertificate(&self, signer: &dyn Signer) -> Result<Certificate> {
        Certificate::from_der(&self.precertificate_der(signer)?).map_err(BuildError::Reparse)
    }

    /// The precertificate's DER, without parsing it back (what the CT log stores).
    pub fn precertificate_der(&self, signer: &dyn Signer) -> Result<Vec<u8>> {
        let mut tbs = self.tbs.clone();
        let poison = Extension {
            extn_id: oids::CT_POISON,
            critical: true,
            extn_value: octets(&[0x05, 0x00])?,
        };
        tbs.extensions.get_or_insert_with(Vec::new).push(poison);
        sign_tbs_der(tbs, signer)
    }

    /// The final certificate: this TBS plus the SCT list extension (`sct_list` is the TLS
    /// `SignedCertificateTimestampList`), signed.
    pub fn finish(&self, sct_list: &[u8], signer: &dyn Signer) -> Result<Certificate> {
        let mut tbs = self.tbs.clone();
        let wrapped = OctetString::new(sct_list)
            .and_then(|o| o.to_der())
            .map_err(|_| BuildError::Field("SCT list"))?;
        let ext = Extension {
            extn_id: oids::CT_SCT_LIST,
            critical: false,
            extn_value: octets(&wrapped)?,
        };
        tbs.extensions.get_or_insert_with(Vec::new).push(ext);
        sign_tbs(tbs, signer)
    }
}

/// Encodes one SCT (RFC 6962 §3.2 `SignedCertificateTimestamp`, v1, SHA-256 + ECDSA) and
/// wraps it as a one-element `SignedCertificateTimestampList`.
pub fn encode_sct_list(
    log_id: &[u8; 32],
    timestamp_ms: u64,
    signature_der: &[u8],
) -> Result<Vec<u8>> {
    let sig_len =
        u16::try_from(signature_der.len()).map_err(|_| BuildError::TooLong("SCT signature"))?;
    let mut sct = Vec::with_capacity(50 + signature_der.len());
    sct.push(0); // v1
    sct.extend_from_slice(log_id);
    sct.extend_from_slice(&timestamp_ms.to_be_bytes());
    sct.extend_from_slice(&0u16.to_be_bytes()); // no extensions
    sct.push(4); // sha256
    sct.push(3); // ecdsa
    sct.extend_from_slice(&sig_len.to_be_bytes());
    sct.extend_from_slice(signature_der);
    let sct_len = u16::try_from(sct.len()).map_err(|_| BuildError::TooLong("SCT"))?;
    let list_len = sct_len.checked_add(2).ok_or(BuildError::TooLong("SCT list"))?;
    let mut list = Vec::with_capacity(sct.len() + 4);
    list.extend_from_slice(&list_len.to_be_bytes());
    list.extend_from_slice(&sct_len.to_be_bytes());
    list.extend_from_slice(&sct);
    Ok(list)
}

#[allow(clippy::too_many_arguments)]
fn tbs(
    serial: &[u8],
    signer: &dyn Signer,
    issuer: Name,
    subject: Name,
    public_key: &PublicKey,
    not_before: i64,
    not_after: i64,
    extensions: Vec<Extension>,
) -> Result<TbsCertificate> {
    Ok(TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(serial).map_err(|_| BuildError::Field("serial number"))?,
        signature: algorithm(signer),
        issuer,
        validity: Validity { not_before: time(not_before)?, not_after: time(not_after)? },
        subject,
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(public_key.spki_der())
            .map_err(|_| BuildError::Field("subject public key"))?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    })
}

fn sign_tbs(tbs: TbsCertificate, signer: &dyn Signer) -> Result<Certificate> {
    Certificate::from_der(&sign_tbs_der(tbs, signer)?).map_err(BuildError::Reparse)
}

fn sign_tbs_der(tbs: TbsCertificate, signer: &dyn Signer) -> Result<Vec<u8>> {
    let tbs_der = tbs.to_der().map_err(|_| BuildError::Field("encoding the TBS"))?;
    let signature = signer.sign(&tbs_der).map_err(|_| BuildError::Field("signing the TBS"))?;
    let cert = x509_cert::Certificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm(signer),
        signature: BitString::from_bytes(&signature).map_err(|_| BuildError::Field("signature"))?,
    };
    cert.to_der().map_err(|_| BuildError::Field("encoding the certificate"))
}

fn algorithm(signer: &dyn Signer) -> AlgorithmIdentifierOwned {
    // ECDSA and Ed25519 signature algorithms take no parameters (RFC 5758 §3.2, RFC 8410 §3).
    AlgorithmIdentifierOwned { oid: signer.scheme().x509_oid(), parameters: None }
}

fn time(unix: i64) -> Result<Time> {
    let secs = u64::try_from(unix).map_err(|_| BuildError::Field("time before 1970"))?;
    UtcTime::from_unix_duration(Duration::from_secs(secs))
        .map(Time::UtcTime)
        .map_err(|_| BuildError::Field("time outside UTCTime"))
}

fn subject_of(cert: &Certificate) -> Result<Name> {
    Ok(cert.parsed().tbs_certificate.subject.clone())
}

fn extension<T: Encode>(
    oid: der::asn1::ObjectIdentifier,
    critical: bool,
    value: &T,
) -> Result<Extension> {
    let bytes = value.to_der().map_err(|_| BuildError::Field("extension value"))?;
    Ok(Extension { extn_id: oid, critical, extn_value: octets(&bytes)? })
}

fn octets(bytes: &[u8]) -> Result<OctetString> {
    OctetString::new(bytes).map_err(|_| BuildError::Field("octet string"))
}

fn authority_key_id(key_id: &[u8]) -> Result<AuthorityKeyIdentifier> {
    Ok(AuthorityKeyIdentifier {
        key_identifier: Some(octets(key_id)?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    })
}

fn general_name(name: &LeafName) -> Result<GeneralName> {
    let ia5 = |s: &str| Ia5String::new(s).map_err(|_| BuildError::Field("SAN is not ASCII"));
    Ok(match name {
        LeafName::Email(email) => GeneralName::Rfc822Name(ia5(email)?),
        LeafName::Uri(uri) => GeneralName::UniformResourceIdentifier(ia5(uri)?),
        LeafName::OtherName(value) => {
            let utf8 =
                Utf8StringRef::new(value).map_err(|_| BuildError::Field("OtherName value"))?;
            GeneralName::OtherName(OtherName {
                type_id: oids::FULCIO_OTHERNAME_SAN,
                value: Any::encode_from(&utf8).map_err(|_| BuildError::Field("OtherName value"))?,
            })
        }
    })
}

/// A random positive certificate serial of 20 bytes (RFC 5280 §4.1.2.2 allows at most 20
/// octets; the top bit is cleared so the DER INTEGER stays positive without a padding
/// byte), from the OS RNG.
///
/// Errors: the RNG's.
pub fn random_serial() -> crate::crypto::Result<Vec<u8>> {
    let mut serial = vec![0u8; 20];
    crate::crypto::fill_random(&mut serial)?;
    if let Some(first) = serial.first_mut() {
        *first = (*first & 0x7f).max(1);
    }
    Ok(serial)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{EcdsaP256Signer, EcdsaP384Signer};

    const NOW: i64 = 1_750_000_000;

    fn ca() -> (EcdsaP384Signer, Certificate, EcdsaP384Signer, Certificate) {
        let root_key = EcdsaP384Signer::generate();
        let root = build_ca_certificate(
            "O=sigbox.test,CN=sigbox-root",
            root_key.public_key(),
            None,
            &root_key,
            &[1],
            NOW - 100,
            NOW + 86_400,
            None,
        )
        .expect("root");
        let inter_key = EcdsaP384Signer::generate();
        let inter = build_ca_certificate(
            "O=sigbox.test,CN=sigbox-intermediate",
            inter_key.public_key(),
            Some(&root),
            &root_key,
            &[2],
            NOW - 100,
            NOW + 86_400,
            Some(0),
        )
        .expect("intermediate");
        (root_key, root, inter_key, inter)
    }

    #[test]
    fn issued_leaf_chains_to_the_ca_and_carries_the_fulcio_profile() {
        let (_, root, inter_key, inter) = ca();
        let leaf_key = EcdsaP256Signer::generate();
        let profile = LeafProfile {
            serial: vec![0x42; 20],
            not_before: NOW,
            not_after: NOW + 600,
            public_key: leaf_key.public_key().clone(),
            name: LeafName::Email("alice@example.com".into()),
            fulcio_extensions: vec![
                (1, "https://issuer.test".into()),
                (8, "https://issuer.test".into()),
            ],
        };
        let tbs = LeafTbs::new(&profile, &inter, &inter_key).expect("tbs");
        let pre = tbs.precertificate(&inter_key).expect("precert");
        assert!(pre.extension("1.3.6.1.4.1.11129.2.4.3").is_some());
        let leaf = tbs
            .finish(&encode_sct_list(&[7; 32], 1, &[0x30, 0x00]).expect("sct"), &inter_key)
            .expect("leaf");
        let chain = super::super::verify_chain(&leaf, &[inter.clone(), root.clone()], NOW + 10)
            .expect("chains");
        assert_eq!(chain.issuer().der(), inter.der());
        assert_eq!(leaf.fulcio_extensions().issuer.as_deref(), Some("https://issuer.test"));
        assert_eq!(leaf.authority_key_id(), inter.subject_key_id());
        assert_eq!(leaf.not_after() - leaf.not_before(), 600);
        assert!(super::super::verify_chain(&leaf, &[inter, root], NOW + 601).is_err());
    }

    #[test]
    fn sct_list_round_trips_through_the_parser() {
        let list = encode_sct_list(&[9; 32], 1_234, &[0x30, 0x03, 1, 2, 3]).expect("encodes");
        let scts = super::super::parse_sct_list(&list).expect("parses");
        assert_eq!(scts.len(), 1);
        assert_eq!(scts[0].log_id, [9; 32]);
        assert_eq!(scts[0].timestamp_ms, 1_234);
        assert_eq!((scts[0].hash_algorithm, scts[0].signature_algorithm), (4, 3));
        assert_eq!(scts[0].signature, vec![0x30, 0x03, 1, 2, 3]);
        assert!(matches!(
            encode_sct_list(&[0; 32], 0, &vec![0; 70_000]),
            Err(BuildError::TooLong(_))
        ));
    }

    #[test]
    fn uri_and_othername_leaves_and_the_sct_tbs_match_what_verifiers_recompute() {
        let (_, _, inter_key, inter) = ca();
        let leaf_key = EcdsaP256Signer::generate();
        for name in [
            LeafName::Uri("https://github.com/o/r/.github/workflows/x.yml@refs/heads/main".into()),
            LeafName::OtherName("alice!example.com".into()),
        ] {
            let profile = LeafProfile {
                serial: vec![0x01; 20],
                not_before: NOW,
                not_after: NOW + 600,
                public_key: leaf_key.public_key().clone(),
                name: name.clone(),
                fulcio_extensions: vec![
                    (8, "https://issuer.test".into()),
                    (1, "https://issuer.test".into()),
                ],
            };
            let tbs = LeafTbs::new(&profile, &inter, &inter_key).expect("tbs");
            let pre = tbs.precertificate(&inter_key).expect("precert");
            let leaf = tbs
                .finish(&encode_sct_list(&[7; 32], 1, &[0x30, 0x00]).expect("sct"), &inter_key)
                .expect("leaf");
            // The SCT covers exactly the TBS a verifier rebuilds from the final certificate.
            assert_eq!(
                tbs.signed_entry_tbs().expect("tbs"),
                super::super::precert_tbs(&leaf).expect("tbs")
            );
            assert_ne!(pre.tbs_der(), leaf.tbs_der());
            let sans = leaf.subject_alt_names();
            assert_eq!(sans.len(), 1, "{name:?}");
            // Extension order as in real Fulcio leaves: KU, EKU, SKI, AKI, SAN, the Fulcio
            // extensions in ascending arc order (whatever the input order), SCT list last.
            let parsed = x509_cert::Certificate::from_der(leaf.der()).expect("parses");
            let oids: Vec<String> = parsed
                .tbs_certificate
                .extensions
                .expect("extensions")
                .iter()
                .map(|e| e.extn_id.to_string())
                .collect();
            assert_eq!(
                oids,
                [
                    "2.5.29.15",
                    "2.5.29.37",
                    "2.5.29.14",
                    "2.5.29.35",
                    "2.5.29.17",
                    "1.3.6.1.4.1.57264.1.1",
                    "1.3.6.1.4.1.57264.1.8",
                    "1.3.6.1.4.1.11129.2.4.2"
                ]
            );
        }
    }
}
