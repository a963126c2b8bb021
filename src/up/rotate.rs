//! Key rotation for a local instance (`sigbox up rotate ca|log|ct|tsa`), and the key history
//! that makes the trust files keep every key a bundle may have been signed with.
//!
//! Rotating at time T retires the current key (its files move to `retired/<kind>-<T>/`),
//! closes its trust-file entry at T (`validFor.end`), opens the new key's entry at T, keeps
//! the closed entry in `history.json`, and republishes the trust files as TUF targets. A
//! restarted instance rebuilds its trust files from the current keys and then applies
//! `history.json` ([`apply_history`]), so the history survives restarts. Verifiers accept a
//! key only inside its `validFor`, so the retired key cannot sign anything dated after T.
//!
//! [`Plan`] is the part both paths share (make the new key, compute and write the trust
//! files); [`rotate`] runs it on a stopped instance, `super::live` inside a running one,
//! which also switches the service to the new key.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::crypto::{EcdsaP256Signer, Signer};
use crate::encoding::b64_encode;
use crate::fulcio::ca::CaCurve;

/// Which key to rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// The CA (a new root and intermediate).
    Ca,
    /// The Rekor log's signing key.
    Log,
    /// The CT log's signing key.
    Ct,
    /// The timestamp authority (a new root and signing certificate).
    Tsa,
}

impl KeyKind {
    /// The trusted-root list the key appears in.
    fn list(self) -> &'static str {
        match self {
            KeyKind::Ca => "certificateAuthorities",
            KeyKind::Log => "tlogs",
            KeyKind::Ct => "ctlogs",
            KeyKind::Tsa => "timestampAuthorities",
        }
    }

    /// Parses `ca`, `log`, `ct` or `tsa`.
    pub fn from_name(name: &str) -> Option<KeyKind> {
        [KeyKind::Ca, KeyKind::Log, KeyKind::Ct, KeyKind::Tsa]
            .into_iter()
            .find(|k| k.name() == name)
    }

    /// `ca`, `log`, `ct` or `tsa`.
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::Ca => "ca",
            KeyKind::Log => "log",
            KeyKind::Ct => "ct",
            KeyKind::Tsa => "tsa",
        }
    }

    /// The key files, relative to the data directory.
    fn files(self) -> &'static [&'static str] {
        match self {
            KeyKind::Ca => {
                &["fulcio/ca-chain.pem", "fulcio/ca-intermediate.key", "fulcio/ca-root.key"]
            }
            KeyKind::Log => &["rekor/signer.key"],
            KeyKind::Ct => &["fulcio/ct.key", "fulcio/ct.pub"],
            KeyKind::Tsa => &["tsa/tsa-chain.pem", "tsa/tsa-signing.key", "tsa/tsa-root.key"],
        }
    }
}

/// Why a rotation failed.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// A file could not be read, moved or written.
    #[error("{what} {path}")]
    Io {
        /// What the file is.
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The instance has not been started yet, or its trust files are not what sigbox wrote.
    #[error("{0}")]
    State(String),
    /// Making the new key failed.
    #[error("making the new key")]
    Key(#[source] crate::crypto::Error),
    /// Making the new CA failed.
    #[error("making the new CA")]
    Ca(#[source] crate::fulcio::ca::Error),
    /// Making the new timestamp authority failed.
    #[error("making the new timestamp authority")]
    Tsa(#[source] crate::tsa::Error),
    /// Republishing the TUF targets failed.
    #[error("republishing the TUF targets")]
    Tuf(#[source] crate::tuf::Error),
}

/// What a rotation did.
#[derive(Debug, Clone)]
pub struct Rotated {
    /// The rotation time (RFC 3339): the old key's end, the new key's start.
    pub at: String,
    /// Where the retired key files went.
    pub retired: PathBuf,
}

fn io<'p>(what: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> RotateError + 'p {
    move |source| RotateError::Io { what, path: path.to_path_buf(), source }
}

fn read_json(path: &Path) -> Result<Value, RotateError> {
    let bytes = std::fs::read(path).map_err(io("trust file", path))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| RotateError::State(format!("{} is not JSON: {e}", path.display())))
}

fn write_json(path: &Path, value: &Value) -> Result<(), RotateError> {
    let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
    crate::tuf::client::write_atomic(path, text.as_bytes(), "trust file").map_err(RotateError::Tuf)
}

/// The `validFor` object of an entry (CAs hold it directly, logs under `publicKey`).
fn valid_for(kind: KeyKind, entry: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    let holder = match kind {
        KeyKind::Ca | KeyKind::Tsa => entry,
        KeyKind::Log | KeyKind::Ct => entry.get_mut("publicKey")?,
    };
    holder.get_mut("validFor")?.as_object_mut()
}

/// The key a rotation made, for the running service to take (or dropped by an offline
/// rotation: the files are what a restart loads).
pub(crate) enum NewKey {
    /// A new CA (root, intermediate and issuing key).
    Ca(crate::fulcio::ca::CertificateAuthority),
    /// A new timestamp authority (root, signing certificate and key).
    Tsa(crate::tsa::Authority),
    /// A new Rekor or CT log key.
    Signer(std::sync::Arc<dyn Signer>),
}

/// A rotation whose new key exists (its files written, the old ones moved aside) and whose
/// trust files are computed but not yet written: [`Plan::commit`] writes them,
/// [`Plan::undo`] puts the old key files back.
pub(crate) struct Plan {
    at: String,
    retired: PathBuf,
    root: Value,
    history: Value,
    /// (where the old file was, where it went).
    moved: Vec<(PathBuf, PathBuf)>,
    /// The new key's files.
    made: Vec<PathBuf>,
}

/// Rotates `kind` in the (stopped) instance in `data_dir` at `now`.
///
/// Errors: [`RotateError`].
pub fn rotate(data_dir: &Path, kind: KeyKind, now: i64) -> Result<Rotated, RotateError> {
    refuse_if_running(&read_root(data_dir)?)?;
    let (plan, _new_key) = Plan::make(data_dir, kind, now)?;
    plan.commit(data_dir, |now| super::publish_trust_files(data_dir, now).map(drop), now)
}

/// The instance's `trusted_root.json`, or an error saying it was never started.
fn read_root(data_dir: &Path) -> Result<Value, RotateError> {
    let root_path = data_dir.join("trusted_root.json");
    if !root_path.is_file() {
        return Err(RotateError::State(format!(
            "{} has no trusted_root.json: start `sigbox up --data-dir {}` once first",
            data_dir.display(),
            data_dir.display()
        )));
    }
    read_json(&root_path)
}

impl Plan {
    /// Moves the current key files of `kind` to `retired/<kind>-<now>/`, makes the new
    /// key (in the curve of the one it replaces) and computes the trust files with the old
    /// entry closed at `now` and the new one open from `now`. On failure the old files are
    /// back in place.
    pub(crate) fn make(
        data_dir: &Path,
        kind: KeyKind,
        now: i64,
    ) -> Result<(Plan, NewKey), RotateError> {
        let at = crate::encoding::rfc3339(now)
            .ok_or_else(|| RotateError::State("the clock is out of range".into()))?;
        let mut root = read_root(data_dir)?;
        let list = root
            .get_mut(kind.list())
            .and_then(Value::as_array_mut)
            .ok_or_else(|| RotateError::State(format!("trusted root has no {}", kind.list())))?;
        // The current entry: the open one; for logs, the one whose key is in the key file
        // (the instance also lists its Rekor v2 log under tlogs).
        let current_id = current_log_id(data_dir, kind)?;
        let index = list
            .iter_mut()
            .position(|e| {
                let id_matches = current_id
                    .as_ref()
                    .map_or(true, |id| e["logId"]["keyId"].as_str() == Some(id.as_str()));
                id_matches && valid_for(kind, e).is_some_and(|v| !v.contains_key("end"))
            })
            .ok_or_else(|| RotateError::State(format!("no open entry in {}", kind.list())))?;
        let p384 = current_is_p384(data_dir, kind);

        // Move the old key files aside, then make the new key.
        let retired = data_dir.join("retired").join(format!("{}-{now}", kind.name()));
        std::fs::create_dir_all(&retired).map_err(io("retired keys", &retired))?;
        let mut plan = Plan {
            at,
            retired: retired.clone(),
            root: Value::Null,
            history: Value::Null,
            moved: Vec::new(),
            made: Vec::new(),
        };
        for file in kind.files() {
            let from = data_dir.join(file);
            if from.exists() {
                let to = retired.join(Path::new(file).file_name().unwrap_or_default());
                if let Err(e) = std::fs::rename(&from, &to) {
                    plan.undo();
                    return Err(io("key file", &from)(e));
                }
                plan.moved.push((from, to));
            }
        }
        // None of the key files is in place now: whatever is there after a failure is the
        // new key's.
        plan.made = kind.files().iter().map(|f| data_dir.join(f)).collect();
        let made = new_key(data_dir, kind, now, p384);
        let (new_key, certs, public) = match made {
            Ok(made) => made,
            Err(e) => {
                plan.undo();
                return Err(e);
            }
        };
        let mut new_entry = list[index].clone();
        if let Some(certs) = certs {
            new_entry["certChain"] = json!({ "certificates": certs });
        }
        if let Some(public) = public {
            new_entry["publicKey"]["rawBytes"] = json!(b64_encode(public.spki_der()));
            new_entry["logId"] = json!({"keyId": b64_encode(public.key_id())});
        }
        if let Some(v) = valid_for(kind, &mut new_entry) {
            v.insert("start".into(), json!(plan.at));
            v.remove("end");
        }
        let new_id = new_entry["logId"]["keyId"].clone();
        let mut old_entry = list[index].clone();
        if let Some(v) = valid_for(kind, &mut old_entry) {
            v.insert("end".into(), json!(plan.at));
        }
        list[index] = new_entry;
        list.insert(index, old_entry.clone());

        // history.json: closed entries and when each current key started.
        let history_path = data_dir.join("history.json");
        let mut history = if history_path.exists() { read_json(&history_path)? } else { json!({}) };
        if let Some(closed) = history["retired"][kind.list()].as_array_mut() {
            closed.push(old_entry);
        } else {
            history["retired"][kind.list()] = json!([old_entry]);
        }
        history["currentStart"][kind.list()] = json!({"start": plan.at, "keyId": new_id});
        plan.root = root;
        plan.history = history;
        Ok((plan, new_key))
    }

    /// Writes `history.json`, `trusted_root.json` and `trust_config.json` (each replaced
    /// whole, so a client reading one never sees half of it) and publishes them with
    /// `publish` (the TUF targets).
    pub(crate) fn commit(
        self,
        data_dir: &Path,
        publish: impl FnOnce(i64) -> crate::tuf::Result<()>,
        now: i64,
    ) -> Result<Rotated, RotateError> {
        write_json(&data_dir.join("history.json"), &self.history)?;
        write_json(&data_dir.join("trusted_root.json"), &self.root)?;
        rewrite_trust_config(data_dir, &self.root)?;
        publish(now).map_err(RotateError::Tuf)?;
        Ok(Rotated { at: self.at, retired: self.retired })
    }

    /// Removes the new key's files and puts the old ones back.
    pub(crate) fn undo(&self) {
        for path in self.made.iter().filter(|p| p.exists()) {
            let _ = std::fs::remove_file(path);
        }
        for (from, to) in &self.moved {
            if let Err(e) = std::fs::rename(to, from) {
                tracing::error!(error = %e, path = %from.display(), "restoring a key file");
            }
        }
        let _ = std::fs::remove_dir(&self.retired);
    }
}

/// Certificates (`rawBytes` objects) of a new chain.
type NewChain = Option<Vec<Value>>;

/// Makes the new key of `kind` in `data_dir` (its files written, 0600).
fn new_key(
    data_dir: &Path,
    kind: KeyKind,
    now: i64,
    p384: bool,
) -> Result<(NewKey, NewChain, Option<crate::crypto::PublicKey>), RotateError> {
    let chain = |certs: &[crate::x509::Certificate]| -> Vec<Value> {
        certs.iter().map(|c| json!({"rawBytes": b64_encode(c.der())})).collect()
    };
    Ok(match kind {
        KeyKind::Ca => {
            let curve = if p384 { CaCurve::P384 } else { super::CA_CURVE };
            let ca = crate::fulcio::ca::CertificateAuthority::load_or_create(
                &data_dir.join("fulcio"),
                curve,
                crate::fulcio::service::DEFAULT_ORGANIZATION,
                now,
            )
            .map_err(RotateError::Ca)?;
            let certs = chain(ca.chain());
            (NewKey::Ca(ca), Some(certs), None)
        }
        KeyKind::Tsa => {
            let curve = if p384 { crate::tsa::Curve::P384 } else { super::TSA_CURVE };
            let tsa = crate::tsa::Authority::load_or_create(
                &data_dir.join("tsa"),
                curve,
                crate::fulcio::service::DEFAULT_ORGANIZATION,
                now,
            )
            .map_err(RotateError::Tsa)?;
            let certs = chain(tsa.chain());
            (NewKey::Tsa(tsa), Some(certs), None)
        }
        KeyKind::Log | KeyKind::Ct => {
            let file = data_dir.join(kind.files()[0]);
            let signer = EcdsaP256Signer::generate();
            let der = signer.to_pkcs8_der().map_err(RotateError::Key)?;
            let pem =
                crate::crypto::Zeroizing::new(crate::encoding::pem_encode("PRIVATE KEY", &der));
            crate::crypto::write_secret_file(&file, pem.as_bytes())
                .map_err(io("key file", &file))?;
            if kind == KeyKind::Ct {
                // A restart rebuilds the trust files from ct.pub.
                let pub_path = data_dir.join("fulcio/ct.pub");
                std::fs::write(&pub_path, signer.public_key().to_pem())
                    .map_err(io("key file", &pub_path))?;
            }
            let public = signer.public_key().clone();
            (NewKey::Signer(std::sync::Arc::new(signer)), None, Some(public))
        }
    })
}

/// Whether the key being replaced is a P-384 one (the new key keeps the instance's curve;
/// CA and TSA only, logs are P-256).
fn current_is_p384(data_dir: &Path, kind: KeyKind) -> bool {
    let chain = match kind {
        KeyKind::Ca => "fulcio/ca-chain.pem",
        KeyKind::Tsa => "tsa/tsa-chain.pem",
        KeyKind::Log | KeyKind::Ct => return false,
    };
    std::fs::read_to_string(data_dir.join(chain))
        .ok()
        .and_then(|pem| crate::x509::Certificate::from_pem_chain(&pem).ok())
        .and_then(|certs| certs.first().map(|c| c.public_key().kind()))
        .is_some_and(|k| k == crate::crypto::KeyKind::EcdsaP384)
}

/// The log ID (base64, as trust files write it) of the key in the log's key file; `None`
/// for CA and TSA, whose list has one open entry.
fn current_log_id(data_dir: &Path, kind: KeyKind) -> Result<Option<String>, RotateError> {
    if !matches!(kind, KeyKind::Log | KeyKind::Ct) {
        return Ok(None);
    }
    let path = data_dir.join(kind.files()[0]);
    let pem = crate::crypto::Zeroizing::new(
        std::fs::read_to_string(&path).map_err(io("key file", &path))?,
    );
    let signer = crate::crypto::signer_from_pem(&pem, None).map_err(RotateError::Key)?;
    Ok(Some(b64_encode(signer.public_key().key_id())))
}

/// A running instance keeps its keys in memory and would go on signing with the retired
/// key, whose signatures verifiers then reject: an instance the command could not reach
/// through its admin socket (see `super::live`) must be stopped for an offline rotation.
/// It is running if its CA port still accepts connections.
fn refuse_if_running(root: &Value) -> Result<(), RotateError> {
    let urls = root["certificateAuthorities"].as_array().into_iter().flatten();
    for url in urls.filter_map(|ca| ca["uri"].as_str()) {
        let Some(addr) = url
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .and_then(|hostport| hostport.parse::<std::net::SocketAddr>().ok())
        else {
            continue;
        };
        let timeout = std::time::Duration::from_millis(500);
        if std::net::TcpStream::connect_timeout(&addr, timeout).is_ok() {
            return Err(RotateError::State(format!(
                "the instance is running (its CA answers at {url}) but its admin socket does not \
                 answer: stop it, rotate, start it again"
            )));
        }
    }
    Ok(())
}

fn rewrite_trust_config(data_dir: &Path, root: &Value) -> Result<(), RotateError> {
    let path = data_dir.join("trust_config.json");
    let mut config = read_json(&path)?;
    config["trustedRoot"] = root.clone();
    write_json(&path, &config)
}

/// Applies `history.json` to the trust files a starting instance just wrote from its
/// current keys: each current entry starts at its rotation time, and the retired entries
/// (closed `validFor`) come first. Nothing to do for an instance never rotated.
///
/// Errors: [`RotateError`].
pub fn apply_history(data_dir: &Path) -> Result<(), RotateError> {
    let history_path = data_dir.join("history.json");
    if !history_path.exists() {
        return Ok(());
    }
    let history = read_json(&history_path)?;
    let root_path = data_dir.join("trusted_root.json");
    let mut root = read_json(&root_path)?;
    for kind in [KeyKind::Ca, KeyKind::Log, KeyKind::Ct, KeyKind::Tsa] {
        let Some(list) = root.get_mut(kind.list()).and_then(Value::as_array_mut) else { continue };
        let current = &history["currentStart"][kind.list()];
        if let Some(start) = current["start"].as_str() {
            // Logs are told apart by key ID (tlogs also lists the Rekor v2 log).
            let key_id = current["keyId"].as_str();
            for entry in list.iter_mut() {
                if key_id.is_some_and(|id| entry["logId"]["keyId"].as_str() != Some(id)) {
                    continue;
                }
                if let Some(v) = valid_for(kind, entry) {
                    v.insert("start".into(), json!(start));
                }
            }
        }
        if let Some(closed) = history["retired"][kind.list()].as_array() {
            let mut merged = closed.clone();
            merged.append(list);
            *list = merged;
        }
    }
    write_json(&root_path, &root)?;
    rewrite_trust_config(data_dir, &root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SignatureScheme;

    const NOW: i64 = 1_790_000_000;

    /// A data directory with a TSA of `curve` and a trusted root listing it.
    fn instance(dir: &Path, curve: crate::tsa::Curve) {
        let tsa = crate::tsa::Authority::load_or_create(&dir.join("tsa"), curve, "t", NOW - 100)
            .expect("tsa");
        let certs: Vec<Value> =
            tsa.chain().iter().map(|c| json!({"rawBytes": b64_encode(c.der())})).collect();
        let root = json!({"timestampAuthorities": [{
            "uri": "http://tsa.test",
            "certChain": {"certificates": certs},
            "validFor": {"start": "2026-09-21T00:00:00Z"},
        }]});
        write_json(&dir.join("trusted_root.json"), &root).expect("root");
        write_json(&dir.join("trust_config.json"), &json!({"trustedRoot": root})).expect("config");
    }

    #[test]
    fn a_rotated_tsa_keeps_the_instance_curve() {
        for (curve, scheme) in [
            (crate::tsa::Curve::P256, SignatureScheme::EcdsaSha256),
            (crate::tsa::Curve::P384, SignatureScheme::EcdsaSha384),
        ] {
            let dir = tempfile::tempdir().expect("tempdir");
            instance(dir.path(), curve);
            let (plan, key) = Plan::make(dir.path(), KeyKind::Tsa, NOW).expect("plan");
            let NewKey::Tsa(tsa) = key else { panic!("a TSA was made") };
            assert_eq!(tsa.signer().scheme(), scheme);
            let rotated = plan.commit(dir.path(), |_| Ok(()), NOW).expect("commit");
            assert_eq!(rotated.at, "2026-09-21T14:13:20Z");
            let root = read_json(&dir.path().join("trusted_root.json")).expect("root");
            let list = root["timestampAuthorities"].as_array().expect("list");
            assert_eq!(list.len(), 2);
            assert_eq!(list[0]["validFor"]["end"], rotated.at);
            assert_eq!(list[1]["validFor"], json!({"start": rotated.at}));
        }
    }

    #[test]
    fn undo_puts_the_old_key_files_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        instance(dir.path(), crate::tsa::Curve::P256);
        let key_path = dir.path().join("tsa/tsa-signing.key");
        let before = std::fs::read(&key_path).expect("key");
        let (plan, _) = Plan::make(dir.path(), KeyKind::Tsa, NOW).expect("plan");
        assert_ne!(std::fs::read(&key_path).expect("new key"), before);
        plan.undo();
        assert_eq!(std::fs::read(&key_path).expect("old key back"), before);
        assert!(!dir.path().join(format!("retired/tsa-{NOW}")).exists());
        assert!(!dir.path().join("history.json").exists(), "nothing committed");
    }
}
