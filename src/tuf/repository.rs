//! The TUF repository every instance keeps (`<data-dir>/tuf/`) and serves: root, targets,
//! snapshot and timestamp metadata signed with ECDSA P-256 keys (`keys/<role>.pem`,
//! PKCS#8, mode 0600), consistent snapshots (`N.root.json`, `N.snapshot.json`,
//! `N.targets.json`, `targets/<sha256>.<name>`), and the two Sigstore targets
//! `trusted_root.json` and `signing_config.v0.2.json`.
//!
//! The online roles (snapshot, timestamp) are short-lived and re-signed by the running
//! instance before they expire ([`Repository::refresh`]); root and targets last a year.
//! A new root is made by [`Repository::sign_root`] with a threshold of root keys given
//! as files (offline keys), and checked exactly as a client will check it before it is
//! published.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use super::client::write_atomic;
use super::{Error, Result};
use crate::crypto::{EcdsaP256Signer, Signer};
use crate::trust::tuf::{
    key_id, Envelope, Key, KeyVal, MetaFile, MetaList, Role, Root, Signature, Signed, TargetFile,
    Targets, TrustedSet,
};

const DAY: i64 = 86_400;
/// Root and targets lifetime.
const LONG: i64 = 365 * DAY;
/// Snapshot lifetime; re-signed when less than half is left.
const SNAPSHOT_LIFE: i64 = 7 * DAY;
/// Timestamp lifetime; re-signed when less than half is left.
const TIMESTAMP_LIFE: i64 = DAY;
/// The roles, in the order keys are made.
pub const ROLES: [&str; 4] = ["root", "targets", "snapshot", "timestamp"];

/// An instance's TUF repository on disk.
pub struct Repository {
    dir: PathBuf,
    signers: BTreeMap<&'static str, Arc<dyn Signer>>,
    /// One writer at a time: the refresher and a live key rotation's publish both make the
    /// next timestamp version.
    writing: std::sync::Mutex<()>,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// The TUF form of a P-256 public key, as the public-good repository writes it.
pub fn tuf_key(signer: &dyn Signer) -> Key {
    Key {
        keytype: "ecdsa".into(),
        scheme: "ecdsa-sha2-nistp256".into(),
        keyval: KeyVal { public: signer.public_key().to_pem() },
        unrecognized: BTreeMap::new(),
    }
}

/// Reads a PKCS#8 PEM private key file (an offline root key).
///
/// Errors: [`Error::Io`], [`Error::KeyFile`].
pub fn read_key_file(path: &Path) -> Result<Arc<dyn Signer>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        what: "TUF key file",
        path: path.to_path_buf(),
        source,
    })?;
    let signer = crate::crypto::signer_from_pem(&text, None)
        .map_err(|source| Error::KeyFile { path: path.to_path_buf(), source })?;
    Ok(Arc::from(signer))
}

/// Writes a fresh P-256 key to `path` (PKCS#8 PEM, 0600, never replacing a file).
///
/// Errors: [`Error::Io`], [`Error::Sign`].
pub fn new_key_file(path: &Path) -> Result<Arc<dyn Signer>> {
    let signer = EcdsaP256Signer::generate();
    let der = signer.to_pkcs8_der().map_err(|source| Error::Sign { role: "key", source })?;
    let pem = crate::crypto::Zeroizing::new(crate::encoding::pem_encode("PRIVATE KEY", &der));
    crate::crypto::write_secret_file(path, pem.as_bytes()).map_err(|source| Error::Io {
        what: "TUF key file",
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Arc::new(signer))
}

/// Signs `signed` with `signers`, giving the envelope as pretty JSON.
///
/// Errors: [`Error::Sign`].
pub fn sign_envelope(
    role: &'static str,
    signed: &impl serde::Serialize,
    signers: &[Arc<dyn Signer>],
) -> Result<Vec<u8>> {
    let value = serde_json::to_value(signed).map_err(|e| Error::Repository(e.to_string()))?;
    let canonical = crate::encoding::to_olpc_canonical_vec(&value)
        .map_err(|e| Error::Repository(e.to_string()))?;
    let mut signatures = Vec::new();
    for signer in signers {
        let sig = signer.sign(&canonical).map_err(|source| Error::Sign { role, source })?;
        signatures.push(Signature {
            keyid: key_id(&tuf_key(signer.as_ref())),
            sig: crate::encoding::hex_encode(sig),
        });
    }
    let envelope = Envelope { signed: value, signatures };
    let mut text =
        serde_json::to_vec_pretty(&envelope).map_err(|e| Error::Repository(e.to_string()))?;
    text.push(b'\n');
    Ok(text)
}

fn expires(at: i64) -> String {
    crate::encoding::rfc3339(at).unwrap_or_else(|| "2100-01-01T00:00:00Z".into())
}

fn sha256_hex(bytes: &[u8]) -> String {
    crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, bytes).to_hex()
}

fn meta_for(version: u64, bytes: &[u8]) -> MetaFile {
    let hashes = BTreeMap::from([("sha256".to_string(), sha256_hex(bytes))]);
    MetaFile { version, length: Some(bytes.len() as u64), hashes: Some(hashes) }
}

impl Repository {
    /// Opens the repository in `dir`, creating keys and root v1 on first use.
    ///
    /// Errors: [`Error::Io`], [`Error::KeyFile`], [`Error::Sign`].
    pub fn open_or_create(dir: &Path, now: i64) -> Result<Repository> {
        let keys = dir.join("keys");
        std::fs::create_dir_all(&keys).map_err(|source| Error::Io {
            what: "TUF directory",
            path: keys.clone(),
            source,
        })?;
        let mut signers = BTreeMap::new();
        for role in ROLES {
            let path = keys.join(format!("{role}.pem"));
            let signer = if path.exists() { read_key_file(&path)? } else { new_key_file(&path)? };
            signers.insert(role, signer);
        }
        let repo = Repository { dir: dir.to_path_buf(), signers, writing: Default::default() };
        if !repo.served().join("1.root.json").exists() {
            let key = |role: &str| repo.signers.get(role).map(|s| tuf_key(s.as_ref()));
            let mut keys = BTreeMap::new();
            let mut roles = BTreeMap::new();
            for role in ROLES {
                let Some(k) = key(role) else { continue };
                let id = key_id(&k);
                keys.insert(id.clone(), k);
                roles.insert(role.to_string(), Role { keyids: vec![id], threshold: 1 });
            }
            let root = Root {
                kind: "root".into(),
                spec_version: "1.0".into(),
                version: 1,
                expires: expires(now + LONG),
                consistent_snapshot: true,
                keys,
                roles,
                unrecognized: BTreeMap::new(),
            };
            let signer = repo.signer("root")?;
            let bytes = sign_envelope("root", &root, &[signer])?;
            repo.write_root(1, &bytes)?;
        }
        Ok(repo)
    }

    /// The directory served over HTTP.
    pub fn served(&self) -> PathBuf {
        self.dir.join("repo")
    }

    /// The newest root.json (what `sigbox trust init --root` wants).
    pub fn root_path(&self) -> PathBuf {
        self.served().join("root.json")
    }

    fn signer(&self, role: &str) -> Result<Arc<dyn Signer>> {
        self.signers
            .get(role)
            .cloned()
            .ok_or_else(|| Error::Repository(format!("no {role} key in {}", self.dir.display())))
    }

    fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let path = self.served().join(name);
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Io { what: "TUF metadata", path, source }),
        }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        write_atomic(&self.served().join(name), bytes, "TUF metadata")
    }

    fn write_root(&self, version: u64, bytes: &[u8]) -> Result<()> {
        self.write(&format!("{version}.root.json"), bytes)?;
        self.write("root.json", bytes)
    }

    fn parse<T: crate::trust::tuf::RoleData>(
        role: &'static str,
        bytes: &[u8],
    ) -> Result<Signed<T>> {
        Signed::<T>::parse(role, bytes).map_err(|source| Error::Check {
            file: format!("{role}.json"),
            mirror: "the local repository".into(),
            source,
        })
    }

    /// The newest root.
    ///
    /// Errors: [`Error::Repository`] when none was written, parse errors.
    pub fn root(&self) -> Result<Signed<Root>> {
        let bytes = self
            .read("root.json")?
            .ok_or_else(|| Error::Repository("the repository has no root.json".into()))?;
        Self::parse("root", &bytes)
    }

    fn timestamp(&self) -> Result<Option<Signed<MetaList>>> {
        self.read("timestamp.json")?.map(|b| Self::parse("timestamp", &b)).transpose()
    }

    fn snapshot(&self) -> Result<Option<Signed<MetaList>>> {
        let Some(ts) = self.timestamp()? else { return Ok(None) };
        let Some(v) = ts.signed.meta.get("snapshot.json").map(|m| m.version) else {
            return Ok(None);
        };
        self.read(&format!("{v}.snapshot.json"))?.map(|b| Self::parse("snapshot", &b)).transpose()
    }

    fn targets(&self) -> Result<Option<Signed<Targets>>> {
        let Some(snapshot) = self.snapshot()? else { return Ok(None) };
        let Some(v) = snapshot.signed.meta.get("targets.json").map(|m| m.version) else {
            return Ok(None);
        };
        self.read(&format!("{v}.targets.json"))?.map(|b| Self::parse("targets", &b)).transpose()
    }

    /// Publishes `targets` (name, bytes) as a new targets version, with a new snapshot and
    /// timestamp, unless the current targets already list exactly these bytes. Returns
    /// whether anything changed.
    ///
    /// Errors: [`Error::Io`], [`Error::Sign`].
    pub fn publish(&self, targets: &[(&str, &[u8])], now: i64) -> Result<bool> {
        let _one = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let mut files = BTreeMap::new();
        for (name, bytes) in targets {
            let hash = sha256_hex(bytes);
            self.write(&format!("targets/{hash}.{name}"), bytes)?;
            let hashes = BTreeMap::from([("sha256".to_string(), hash)]);
            files.insert(
                name.to_string(),
                TargetFile { length: bytes.len() as u64, hashes, custom: None },
            );
        }
        let current = self.targets()?;
        if current.as_ref().is_some_and(|t| t.signed.targets == files) {
            self.refresh_locked(now)?;
            return Ok(false);
        }
        let version = current.map_or(1, |t| t.signed.version + 1);
        let signed = Targets {
            kind: "targets".into(),
            spec_version: "1.0".into(),
            version,
            expires: expires(now + LONG),
            targets: files,
            delegations: None,
        };
        let bytes = sign_envelope("targets", &signed, &[self.signer("targets")?])?;
        self.write(&format!("{version}.targets.json"), &bytes)?;
        self.new_snapshot(now, Some((version, &bytes)))?;
        Ok(true)
    }

    fn new_snapshot(&self, now: i64, targets: Option<(u64, &[u8])>) -> Result<()> {
        let old = self.snapshot()?;
        let mut meta = old.as_ref().map(|s| s.signed.meta.clone()).unwrap_or_default();
        if let Some((version, bytes)) = targets {
            meta.insert("targets.json".into(), meta_for(version, bytes));
        }
        let version = old.map_or(1, |s| s.signed.version + 1);
        let signed = MetaList {
            kind: "snapshot".into(),
            spec_version: "1.0".into(),
            version,
            expires: expires(now + SNAPSHOT_LIFE),
            meta,
        };
        let bytes = sign_envelope("snapshot", &signed, &[self.signer("snapshot")?])?;
        self.write(&format!("{version}.snapshot.json"), &bytes)?;
        self.new_timestamp(now, version, &bytes)
    }

    fn new_timestamp(&self, now: i64, snapshot_version: u64, snapshot: &[u8]) -> Result<()> {
        let version = self.timestamp()?.map_or(1, |t| t.signed.version + 1);
        let signed = MetaList {
            kind: "timestamp".into(),
            spec_version: "1.0".into(),
            version,
            expires: expires(now + TIMESTAMP_LIFE),
            meta: BTreeMap::from([("snapshot.json".into(), meta_for(snapshot_version, snapshot))]),
        };
        let bytes = sign_envelope("timestamp", &signed, &[self.signer("timestamp")?])?;
        self.write("timestamp.json", &bytes)
    }

    /// Re-signs the snapshot (and timestamp) or the timestamp alone when less than half
    /// of its life is left at `now`. Returns whether anything was signed.
    ///
    /// Errors: [`Error::Io`], [`Error::Sign`].
    pub fn refresh(&self, now: i64) -> Result<bool> {
        let _one = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        self.refresh_locked(now)
    }

    fn refresh_locked(&self, now: i64) -> Result<bool> {
        let Some(snapshot) = self.snapshot()? else { return Ok(false) };
        if snapshot.expires - now < SNAPSHOT_LIFE / 2 {
            self.new_snapshot(now, None)?;
            return Ok(true);
        }
        let timestamp = self.timestamp()?;
        if timestamp.is_some_and(|t| t.expires - now < TIMESTAMP_LIFE / 2) {
            let bytes = self
                .read(&format!("{}.snapshot.json", snapshot.signed.version))?
                .unwrap_or_default();
            self.new_timestamp(now, snapshot.signed.version, &bytes)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Makes root v(N+1): `edit` changes a copy of the current root (keys, threshold), the
    /// version and expiry are set, and it is signed by `signers` (root keys read from
    /// files). It is published only if a client trusting root vN would accept it: a
    /// threshold of the old root's keys and of the new root's keys signed it.
    ///
    /// Errors: [`Error::Check`] naming the failed check, [`Error::Sign`], [`Error::Io`].
    pub fn sign_root(
        &self,
        edit: impl FnOnce(&mut Root),
        signers: &[Arc<dyn Signer>],
        now: i64,
    ) -> Result<u64> {
        let current = self.root()?;
        let mut root = current.signed.clone();
        edit(&mut root);
        root.version = current.signed.version + 1;
        root.expires = expires(now + LONG);
        let bytes = sign_envelope("root", &root, signers)?;
        let old = self.read("root.json")?.unwrap_or_default();
        let mut set = TrustedSet::new(&old, now).map_err(|source| Error::Check {
            file: "root.json".into(),
            mirror: "the local repository".into(),
            source,
        })?;
        set.update_root(&bytes).map_err(|source| Error::Check {
            file: format!("{}.root.json", root.version),
            mirror: "the local repository".into(),
            source,
        })?;
        self.write_root(root.version, &bytes)?;
        // Online keys may have changed: re-sign what they cover.
        self.new_snapshot(now, None)?;
        Ok(root.version)
    }
}

/// Serves a repository's files read-only: `/<name>` and `/targets/<name>`, names of
/// `[A-Za-z0-9._-]` only.
#[derive(Debug, Clone)]
pub struct Server {
    served: PathBuf,
}

impl Server {
    /// Serves `repository`.
    pub fn new(repository: &Repository) -> Server {
        Server { served: repository.served() }
    }
}

fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
}

impl crate::http::Handler for Server {
    fn handle(
        &self,
        request: crate::http::Request,
    ) -> Pin<Box<dyn std::future::Future<Output = crate::http::Response> + Send + '_>> {
        Box::pin(async move {
            use crate::http::{Method, Response, StatusCode};
            if request.method != Method::GET && request.method != Method::HEAD {
                return Response::error(StatusCode::METHOD_NOT_ALLOWED, "read-only repository");
            }
            let path = request.path.trim_start_matches('/');
            let (sub, name) = match path.split_once('/') {
                Some(("targets", name)) => (Some("targets"), name),
                Some(_) => return Response::error(StatusCode::NOT_FOUND, "not found"),
                None => (None, path),
            };
            if !safe_name(name) {
                return Response::error(StatusCode::NOT_FOUND, "not found");
            }
            let file = match sub {
                Some(s) => self.served.join(s).join(name),
                None => self.served.join(name),
            };
            match tokio::fs::read(&file).await {
                Ok(body) => {
                    let kind = if name.ends_with(".json") {
                        "application/json"
                    } else {
                        "application/octet-stream"
                    };
                    Response::bytes(StatusCode::OK, kind, body)
                }
                Err(_) => Response::error(StatusCode::NOT_FOUND, "not found"),
            }
        })
    }
}

/// Re-signs the online roles before they expire, checking every minute, until the
/// returned task is aborted.
pub fn spawn_refresher(
    repository: Arc<Repository>,
    clock: fn() -> i64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            let repo = repository.clone();
            let outcome = tokio::task::spawn_blocking(move || repo.refresh(clock())).await;
            match outcome {
                Ok(Ok(true)) => tracing::info!("TUF snapshot/timestamp re-signed"),
                Ok(Ok(false)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "re-signing TUF metadata failed"),
                Err(e) => tracing::warn!(error = %e, "TUF re-signing task failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000;

    fn client_walk(
        repo: &Repository,
        now: i64,
    ) -> std::result::Result<TrustedSet, crate::trust::tuf::Error> {
        let read = |name: &str| std::fs::read(repo.served().join(name)).unwrap();
        let mut set = TrustedSet::new(&read("1.root.json"), now)?;
        let mut v = 2;
        while repo.served().join(format!("{v}.root.json")).exists() {
            set.update_root(&read(&format!("{v}.root.json")))?;
            v += 1;
        }
        set.update_timestamp(&read("timestamp.json"))?;
        let snap = set.timestamp().unwrap().signed.meta["snapshot.json"].version;
        set.update_snapshot(&read(&format!("{snap}.snapshot.json")), false)?;
        let targets = set.targets_meta()?.version;
        set.update_targets(&read(&format!("{targets}.targets.json")))?;
        Ok(set)
    }

    #[test]
    fn only_plain_names_are_served() {
        for ok in ["root.json", "1.root.json", "timestamp.json", "abc.trusted_root.json"] {
            assert!(safe_name(ok), "{ok}");
        }
        for bad in ["", "..", ".hidden", "a/b", "..%2f", "keys\\root.pem"] {
            assert!(!safe_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_new_repository_publishes_targets_a_client_accepts() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::open_or_create(dir.path(), NOW).unwrap();
        assert!(repo.publish(&[("trusted_root.json", b"{}")], NOW).unwrap());
        assert!(!repo.publish(&[("trusted_root.json", b"{}")], NOW).unwrap());
        let set = client_walk(&repo, NOW).unwrap();
        set.check_target("trusted_root.json", b"{}").unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode =
            std::fs::metadata(dir.path().join("keys/root.pem")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // Reopening keeps the keys: the same root still verifies what follows.
        let again = Repository::open_or_create(dir.path(), NOW).unwrap();
        assert!(again.publish(&[("trusted_root.json", b"{\"a\":1}")], NOW).unwrap());
        client_walk(&again, NOW).unwrap().check_target("trusted_root.json", b"{\"a\":1}").unwrap();
    }

    #[test]
    fn online_roles_are_re_signed_before_they_expire() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::open_or_create(dir.path(), NOW).unwrap();
        repo.publish(&[("trusted_root.json", b"{}")], NOW).unwrap();
        assert!(!repo.refresh(NOW + 3600).unwrap());
        let later = NOW + TIMESTAMP_LIFE - 3600;
        assert!(matches!(
            client_walk(&repo, NOW + TIMESTAMP_LIFE + 1),
            Err(crate::trust::tuf::Error::Expired { role: "timestamp", .. })
        ));
        assert!(repo.refresh(later).unwrap());
        client_walk(&repo, NOW + TIMESTAMP_LIFE + 1).unwrap();
        assert!(repo.refresh(NOW + 5 * DAY).unwrap());
        // The new snapshot outlives the first one (which expired at NOW + 7 days).
        let set = client_walk(&repo, NOW + 5 * DAY + 3600).unwrap();
        assert!(set.snapshot().unwrap().expires > NOW + 7 * DAY);
    }

    #[test]
    fn a_new_root_needs_the_old_and_new_thresholds() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::open_or_create(dir.path(), NOW).unwrap();
        repo.publish(&[("trusted_root.json", b"{}")], NOW).unwrap();
        let old = read_key_file(&dir.path().join("keys/root.pem")).unwrap();
        let offline = new_key_file(&dir.path().join("offline.pem")).unwrap();
        let add = |root: &mut Root| {
            let key = tuf_key(offline.as_ref());
            let id = key_id(&key);
            root.keys.insert(id.clone(), key);
            let role = root.roles.get_mut("root").unwrap();
            role.keyids.push(id);
            role.threshold = 2;
        };
        // Signed by the new key alone: the old root's threshold is not met.
        let err = repo.sign_root(add, std::slice::from_ref(&offline), NOW).unwrap_err();
        assert!(err.to_string().contains("2.root.json"), "{err}");
        // Signed by the old key alone: the new root's own threshold (2) is not met.
        let err = repo.sign_root(add, std::slice::from_ref(&old), NOW).unwrap_err();
        let Error::Check { source, .. } = &err else { panic!("{err}") };
        assert!(
            matches!(source, crate::trust::tuf::Error::Threshold { threshold: 2, .. }),
            "{err}"
        );
        assert_eq!(repo.sign_root(add, &[old, offline.clone()], NOW).unwrap(), 2);
        let set = client_walk(&repo, NOW).unwrap();
        assert_eq!(set.root().signed.version, 2);
    }
}
