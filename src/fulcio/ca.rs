//! The certificate authority: its root and intermediate, and issuance of Fulcio
//! code-signing certificates with exactly one embedded SCT from the built-in CT log.
//!
//! Keys are generated on first start into the data directory (PKCS#8 PEM, mode 0600) and
//! reused afterwards, or loaded from PEM files given by the operator (an encrypted PKCS#8 key
//! with a password, as Fulcio's file CA takes).

use std::path::Path;
use std::sync::Arc;

use super::ct::CtLog;
use crate::crypto::{self, EcdsaP256Signer, EcdsaP384Signer, PublicKey, Signer};
use crate::oidc::{CertificateIdentity, SubjectName};
use crate::x509::{
    self, build_ca_certificate, encode_sct_list, Certificate, LeafName, LeafProfile, LeafTbs,
};

/// Lifetime of an issued certificate: exactly 10 minutes, as public-good Fulcio.
pub const LEAF_LIFETIME_SECS: i64 = 600;

/// Why the CA could not start or issue.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a key or certificate file failed.
    #[error("CA file {path}")]
    File {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A key file does not parse (or the password is wrong).
    #[error("CA key {path}")]
    Key {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: crypto::Error,
    },
    /// A certificate file does not parse.
    #[error("CA certificate {path}")]
    Certificate {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: x509::Error,
    },
    /// The configured chain and key do not fit together.
    #[error("the CA key does not match the first certificate of the chain")]
    KeyMismatch,
    /// Only part of a generated CA is in the data directory.
    #[error("{0} holds only part of a CA (ca-chain.pem or ca-intermediate.key is missing)")]
    PartialCa(String),
    /// The chain is empty.
    #[error("the CA chain file holds no certificate")]
    EmptyChain,
    /// Building a certificate failed.
    #[error("building a certificate")]
    Build(#[from] x509::BuildError),
    /// The CT log failed.
    #[error("logging the precertificate")]
    Ct(#[from] super::ct::Error),
    /// Random numbers were not available.
    #[error("random serial number")]
    Random(#[source] crypto::Error),
}

/// Which curve newly generated CA keys use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaCurve {
    /// ECDSA P-256 with SHA-256.
    P256,
    /// ECDSA P-384 with SHA-384 (as public-good Fulcio).
    P384,
}

/// The CA: chain (issuing certificate first, root last) and the issuing key.
pub struct CertificateAuthority {
    chain: Vec<Certificate>,
    /// The chain as PEM, made once: every issuance answers with it.
    chain_pem: Vec<String>,
    signer: Arc<dyn Signer>,
}

impl CertificateAuthority {
    /// Loads the CA from `dir`, or creates a root and an intermediate there on first start.
    pub fn load_or_create(
        dir: &Path,
        curve: CaCurve,
        organization: &str,
        now: i64,
    ) -> Result<Self, Error> {
        let chain_path = dir.join("ca-chain.pem");
        let key_path = dir.join("ca-intermediate.key");
        match (chain_path.exists(), key_path.exists()) {
            (true, true) => return Self::from_files(&chain_path, &key_path, None),
            (false, false) => {}
            // Never paper over half a CA (a crash during first start, a file deleted by
            // hand) by generating a new one next to it: the operator must look.
            _ => return Err(Error::PartialCa(dir.display().to_string())),
        }
        std::fs::create_dir_all(dir).map_err(|source| file_error(dir, source))?;
        let root_key = generate(curve);
        let inter_key = generate(curve);
        let start = now - 60;
        let end = now + 10 * 365 * 86_400;
        let root = build_ca_certificate(
            &format!("O={organization},CN={organization}-root"),
            root_key.public_key(),
            None,
            root_key.as_ref(),
            &crate::x509::random_serial().map_err(Error::Random)?,
            start,
            end,
            Some(1),
        )?;
        let intermediate = build_ca_certificate(
            &format!("O={organization},CN={organization}-intermediate"),
            inter_key.public_key(),
            Some(&root),
            root_key.as_ref(),
            &crate::x509::random_serial().map_err(Error::Random)?,
            start,
            end,
            Some(0),
        )?;
        write_private(&dir.join("ca-root.key"), root_key.as_ref())?;
        write_private(&key_path, inter_key.as_ref())?;
        let pem = format!("{}{}", intermediate.to_pem(), root.to_pem());
        std::fs::write(&chain_path, pem).map_err(|source| file_error(&chain_path, source))?;
        tracing::info!(dir = %dir.display(), "created a new CA root and intermediate");
        Ok(CertificateAuthority::new(vec![intermediate, root], Arc::from(inter_key)))
    }

    /// Loads a CA from a PEM chain (issuing certificate first, root last) and the issuing
    /// certificate's private key (`PRIVATE KEY`, `EC PRIVATE KEY` or `ENCRYPTED PRIVATE
    /// KEY` with `password`).
    pub fn from_files(
        chain_path: &Path,
        key_path: &Path,
        password: Option<&[u8]>,
    ) -> Result<Self, Error> {
        let chain_pem =
            std::fs::read_to_string(chain_path).map_err(|s| file_error(chain_path, s))?;
        let chain = Certificate::from_pem_chain(&chain_pem).map_err(|source| {
            Error::Certificate { path: chain_path.display().to_string(), source }
        })?;
        let key_pem = zeroize::Zeroizing::new(
            std::fs::read_to_string(key_path).map_err(|s| file_error(key_path, s))?,
        );
        let signer = crypto::signer_from_pem(&key_pem, password)
            .map_err(|source| Error::Key { path: key_path.display().to_string(), source })?;
        let first = chain.first().ok_or(Error::EmptyChain)?;
        if first.public_key() != signer.public_key() {
            return Err(Error::KeyMismatch);
        }
        Ok(CertificateAuthority::new(chain, Arc::from(signer)))
    }

    /// The CA chain: issuing certificate first, root last (what `trustBundle` and the
    /// trusted root list).
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// [`CertificateAuthority::chain`] as PEM strings (OpenSSL layout).
    pub fn chain_pem(&self) -> &[String] {
        &self.chain_pem
    }

    fn new(chain: Vec<Certificate>, signer: Arc<dyn Signer>) -> Self {
        let chain_pem = chain.iter().map(Certificate::to_pem).collect();
        CertificateAuthority { chain, chain_pem, signer }
    }

    /// Issues a certificate for `identity` and `public_key` at `now`: builds the TBS, logs
    /// the precertificate in `ct`, and signs the final certificate with the SCT embedded.
    /// Returns the chain leaf first.
    pub fn issue(
        &self,
        identity: &CertificateIdentity,
        public_key: &PublicKey,
        now: i64,
        ct: &CtLog,
    ) -> Result<Vec<Certificate>, Error> {
        let issuer = self.chain.first().ok_or(Error::EmptyChain)?;
        let mut extensions = vec![(1, identity.issuer.clone()), (8, identity.issuer.clone())];
        extensions.extend(identity.extensions.iter().cloned());
        let profile = LeafProfile {
            serial: crate::x509::random_serial().map_err(Error::Random)?,
            not_before: now,
            not_after: now + LEAF_LIFETIME_SECS,
            public_key: public_key.clone(),
            name: match &identity.san {
                SubjectName::Email(e) => LeafName::Email(e.clone()),
                SubjectName::Uri(u) => LeafName::Uri(u.clone()),
                SubjectName::OtherName(o) => LeafName::OtherName(o.clone()),
            },
            fulcio_extensions: extensions,
        };
        let tbs = LeafTbs::new(&profile, issuer, self.signer.as_ref())?;
        let precert = tbs.precertificate_der(self.signer.as_ref())?;
        let mut logged_chain = vec![precert];
        logged_chain.extend(self.chain.iter().map(|c| c.der().to_vec()));
        let timestamp_ms = u64::try_from(now).unwrap_or_default().saturating_mul(1000);
        let sct = ct.log_precert(
            &tbs.signed_entry_tbs()?,
            issuer.public_key().spki_der(),
            logged_chain,
            timestamp_ms,
        )?;
        let sct_list = encode_sct_list(&sct.log_id, sct.timestamp_ms, &sct.signature)?;
        let leaf = tbs.finish(&sct_list, self.signer.as_ref())?;
        let serial = leaf.serial_hex();
        tracing::info!(%serial, issuer = %identity.issuer, "certificate issued");
        let mut chain = vec![leaf];
        chain.extend(self.chain.iter().cloned());
        Ok(chain)
    }
}

fn generate(curve: CaCurve) -> Box<dyn Signer> {
    match curve {
        CaCurve::P256 => Box::new(EcdsaP256Signer::generate()),
        CaCurve::P384 => Box::new(EcdsaP384Signer::generate()),
    }
}

fn write_private(path: &Path, signer: &dyn Signer) -> Result<(), Error> {
    crypto::write_private_key(path, signer).map_err(|e| match e {
        crypto::Error::Io(source) => file_error(path, source),
        source => Error::Key { path: path.display().to_string(), source },
    })
}

fn file_error(path: &Path, source: std::io::Error) -> Error {
    Error::File { path: path.display().to_string(), source }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LogStore;

    const NOW: i64 = 1_750_000_000;

    #[test]
    fn issued_certificate_chains_and_its_sct_verifies_against_the_ct_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca =
            CertificateAuthority::load_or_create(dir.path(), CaCurve::P256, "sigbox.test", NOW)
                .expect("creates");
        let ct_key: Arc<dyn Signer> = Arc::new(EcdsaP256Signer::generate());
        let ct = CtLog::open(LogStore::temporary().expect("store"), ct_key.clone()).expect("ct");
        let identity = CertificateIdentity {
            san: SubjectName::Email("alice@example.com".into()),
            issuer: "https://issuer.test".into(),
            challenge: "alice@example.com".into(),
            extensions: vec![],
        };
        let leaf_key = EcdsaP256Signer::generate();
        let chain = ca.issue(&identity, leaf_key.public_key(), NOW, &ct).expect("issues");
        let (leaf, rest) = chain.split_first().expect("leaf");
        let verified = x509::verify_chain(leaf, rest, NOW + 1).expect("chains");
        let ct_logs = [x509::CtLog {
            log_id: ct.log_id(),
            key: ct_key.public_key().clone(),
            valid_from: NOW - 10,
            valid_until: None,
        }];
        assert_eq!(x509::verify_embedded_scts(leaf, verified.issuer(), &ct_logs).expect("sct"), 1);
        assert_eq!(leaf.not_after() - leaf.not_before(), LEAF_LIFETIME_SECS);
        let sth = ct.signed_tree_head(0).expect("read");
        assert_eq!(sth.tree_size, 1);

        // Half a CA is an error, not a reason to make a new one.
        let half = tempfile::tempdir().expect("tempdir");
        std::fs::copy(dir.path().join("ca-chain.pem"), half.path().join("ca-chain.pem"))
            .expect("copy");
        assert!(matches!(
            CertificateAuthority::load_or_create(half.path(), CaCurve::P256, "x", NOW),
            Err(Error::PartialCa(_))
        ));

        // Restarting reuses the same CA.
        let again = CertificateAuthority::load_or_create(dir.path(), CaCurve::P256, "x", NOW)
            .expect("loads");
        assert_eq!(again.chain()[0].der(), ca.chain()[0].der());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("ca-intermediate.key"))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
