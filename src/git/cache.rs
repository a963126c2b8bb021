//! The credential cache: a per-user daemon on a unix socket that keeps one ephemeral key
//! and its certificate chain per instance for the certificate's lifetime, so a burst of
//! commits (a rebase, `commit.gpgsign=true`) logs in once.
//!
//! Protocol: one JSON request line, one JSON answer line per connection.
//! `{"op":"get","id":ID}` → `{"ok":true,"key":b64(PKCS#8),"chain":PEM}` or
//! `{"ok":true,"missing":true}`; `{"op":"store","id":ID,"key":..,"chain":..}` → `{"ok":true}`.
//! The daemon answers only peers whose SO_PEERCRED uid is its own (the socket is also
//! mode 0600), the client talks only to a daemon of its own uid, and the daemon forgets an entry once its certificate expires (checked on every
//! request and by a sweeper once a second). Keys never leave memory and are zeroized.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::crypto::{EcdsaP256Signer, Signer, Zeroizing};
use crate::sign::keyless::Certified;
use crate::x509::Certificate;

/// An entry is handed out only while its certificate has at least this long left, so a
/// signature made with it is still inside the validity window when the log records it.
pub const MIN_REMAINING_SECONDS: i64 = 30;

/// How long a client waits for the daemon.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the cache failed.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The socket could not be created, reached, read or written.
    #[error("credential cache socket {path}")]
    Io {
        /// The socket path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Another daemon already serves the socket.
    #[error("a credential cache is already listening on {0}")]
    AlreadyRunning(PathBuf),
    /// The daemon refused (wrong user, bad request).
    #[error("the credential cache refused: {0}")]
    Refused(String),
    /// The answer or the cached material is malformed.
    #[error("the credential cache answered malformed data: {0}")]
    Malformed(&'static str),
}

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    op: String,
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    chain: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    missing: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    chain: Option<String>,
}

struct Entry {
    pkcs8: Zeroizing<Vec<u8>>,
    chain_pem: String,
    not_after: i64,
}

/// The daemon's memory: entries by ID, each dropped when its certificate expires.
#[derive(Default)]
pub struct Store {
    entries: HashMap<String, Entry>,
}

impl Store {
    /// Keeps `pkcs8` and `chain_pem` (leaf first) under `id` until the leaf expires.
    pub fn put(&mut self, id: &str, pkcs8: Vec<u8>, chain_pem: String) -> Result<(), String> {
        let chain = Certificate::from_pem_chain(&chain_pem)
            .map_err(|e| format!("the chain does not parse: {e}"))?;
        let leaf = chain.first().ok_or("the chain is empty")?;
        let signer = EcdsaP256Signer::from_pkcs8_der(&pkcs8)
            .map_err(|_| "the key is not a P-256 PKCS#8 key".to_string())?;
        if signer.public_key() != leaf.public_key() {
            return Err("the key does not match the certificate".into());
        }
        let entry = Entry { pkcs8: Zeroizing::new(pkcs8), chain_pem, not_after: leaf.not_after() };
        self.entries.insert(id.to_string(), entry);
        Ok(())
    }

    /// The entry under `id` if its certificate is still good for a while at `now`.
    pub fn get(&mut self, id: &str, now: i64) -> Option<(Zeroizing<Vec<u8>>, String)> {
        self.sweep(now);
        self.entries.get(id).map(|e| (e.pkcs8.clone(), e.chain_pem.clone()))
    }

    /// Forgets every entry whose certificate expires within [`MIN_REMAINING_SECONDS`].
    pub fn sweep(&mut self, now: i64) {
        self.entries.retain(|_, e| e.not_after - MIN_REMAINING_SECONDS > now);
    }

    /// How many entries are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The default socket: `$XDG_RUNTIME_DIR/sigbox-gitsign-cache.sock`, else in the temp dir
/// with the uid in the name.
pub fn default_socket() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("sigbox-gitsign-cache.sock"),
        None => {
            std::env::temp_dir().join(format!("sigbox-gitsign-cache-{}.sock", crate::sys::uid()))
        }
    }
}

/// A bound daemon socket, ready to [`serve`](Daemon::serve).
pub struct Daemon {
    listener: UnixListener,
    path: PathBuf,
    store: Arc<Mutex<Store>>,
}

impl Daemon {
    /// Binds `path` with mode 0600. A stale socket (nobody answering) is replaced; a live
    /// one is an error.
    pub fn bind(path: &Path) -> Result<Daemon, CacheError> {
        let io = |source| CacheError::Io { path: path.to_path_buf(), source };
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                return Err(CacheError::AlreadyRunning(path.to_path_buf()));
            }
            std::fs::remove_file(path).map_err(io)?;
        }
        // Create the socket with no group/other bits at all, then make sure of 0600.
        let bound = crate::sys::with_umask(0o177, || UnixListener::bind(path));
        let listener = bound.map_err(io)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        Ok(Daemon { listener, path: path.to_path_buf(), store: Arc::default() })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serves forever: one thread per connection, a sweeper thread forgetting expired
    /// entries. `clock` gives Unix seconds.
    pub fn serve(self, clock: fn() -> i64) -> Result<(), CacheError> {
        let sweeper = Arc::clone(&self.store);
        std::thread::spawn(move || loop {
            if let Ok(mut store) = sweeper.lock() {
                store.sweep(clock());
            }
            std::thread::sleep(Duration::from_secs(1));
        });
        let own_uid = crate::sys::uid();
        for conn in self.listener.incoming() {
            let Ok(stream) = conn else { continue };
            let store = Arc::clone(&self.store);
            std::thread::spawn(move || {
                let allowed = crate::sys::peer_uid(&stream).is_ok_and(|uid| uid == own_uid);
                let _ = handle(stream, &store, allowed, clock);
            });
        }
        Ok(())
    }
}

fn handle(
    stream: UnixStream,
    store: &Mutex<Store>,
    allowed: bool,
    clock: fn() -> i64,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    let mut writer = stream.try_clone()?;
    // The request is read either way (bounded, with a timeout), so a refused peer gets
    // the refusal instead of a reset connection.
    let mut line = String::new();
    BufReader::new(&stream).take_line(&mut line)?;
    let answer = if allowed {
        answer(&line, store, clock())
    } else {
        Answer {
            error: Some("connection from another user refused (SO_PEERCRED uid differs)".into()),
            ..Answer::default()
        }
    };
    let mut text = serde_json::to_string(&answer).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    writer.write_all(text.as_bytes())
}

trait TakeLine {
    fn take_line(self, line: &mut String) -> std::io::Result<()>;
}

impl<R: BufRead> TakeLine for R {
    /// Reads one line of at most 1 MiB.
    fn take_line(self, line: &mut String) -> std::io::Result<()> {
        self.take(1 << 20).read_line(line).map(|_| ())
    }
}

fn answer(line: &str, store: &Mutex<Store>, now: i64) -> Answer {
    let fail = |e: String| Answer { error: Some(e), ..Answer::default() };
    let Ok(request) = serde_json::from_str::<Request>(line) else {
        return fail("malformed request".into());
    };
    let Ok(mut store) = store.lock() else { return fail("cache state poisoned".into()) };
    match request.op.as_str() {
        "get" => match store.get(&request.id, now) {
            Some((key, chain)) => Answer {
                ok: true,
                key: Some(crate::encoding::b64_encode(key.as_slice())),
                chain: Some(chain),
                ..Answer::default()
            },
            None => Answer { ok: true, missing: true, ..Answer::default() },
        },
        "store" => {
            let (Some(key), Some(chain)) = (request.key, request.chain) else {
                return fail("store needs key and chain".into());
            };
            let Some(pkcs8) = crate::encoding::b64_decode(&key) else {
                return fail("key is not base64".into());
            };
            match store.put(&request.id, pkcs8, chain) {
                Ok(()) => Answer { ok: true, ..Answer::default() },
                Err(e) => fail(e),
            }
        }
        other => fail(format!("unknown op {other:?}")),
    }
}

/// A client of a running daemon.
#[derive(Debug, Clone)]
pub struct Client {
    path: PathBuf,
}

impl Client {
    /// A client for the daemon at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Client {
        Client { path: path.into() }
    }

    fn call(&self, request: &Request) -> Result<Answer, CacheError> {
        let io = |source| CacheError::Io { path: self.path.clone(), source };
        let mut stream = UnixStream::connect(&self.path).map_err(io)?;
        // The key goes only to a daemon run by this user (not to whoever created the path).
        let daemon_uid = crate::sys::peer_uid(&stream).map_err(io)?;
        if daemon_uid != crate::sys::uid() {
            return Err(CacheError::Refused(format!(
                "the daemon on {} runs as uid {}, not as this user",
                self.path.display(),
                daemon_uid
            )));
        }
        stream.set_read_timeout(Some(CLIENT_TIMEOUT)).map_err(io)?;
        let mut text = serde_json::to_string(request)
            .map_err(|_| CacheError::Malformed("request encoding"))?;
        text.push('\n');
        stream.write_all(text.as_bytes()).map_err(io)?;
        let mut line = String::new();
        BufReader::new(&stream).take_line(&mut line).map_err(io)?;
        let answer: Answer =
            serde_json::from_str(&line).map_err(|_| CacheError::Malformed("answer"))?;
        if !answer.ok {
            return Err(CacheError::Refused(answer.error.unwrap_or_default()));
        }
        Ok(answer)
    }

    /// The cached key and chain under `id`, if any.
    pub fn get(&self, id: &str) -> Result<Option<Certified>, CacheError> {
        let answer =
            self.call(&Request { op: "get".into(), id: id.into(), key: None, chain: None })?;
        if answer.missing {
            return Ok(None);
        }
        let (Some(key), Some(chain)) = (answer.key, answer.chain) else {
            return Err(CacheError::Malformed("answer without key or chain"));
        };
        let pkcs8 = Zeroizing::new(
            crate::encoding::b64_decode(&key).ok_or(CacheError::Malformed("key base64"))?,
        );
        let signer =
            EcdsaP256Signer::from_pkcs8_der(&pkcs8).map_err(|_| CacheError::Malformed("key"))?;
        let chain =
            Certificate::from_pem_chain(&chain).map_err(|_| CacheError::Malformed("chain"))?;
        let certificate = chain.first().cloned().ok_or(CacheError::Malformed("empty chain"))?;
        if signer.public_key() != certificate.public_key() {
            return Err(CacheError::Malformed("key does not match the certificate"));
        }
        Ok(Some(Certified { signer, certificate, chain }))
    }

    /// Hands `certified` to the daemon under `id`.
    pub fn store(&self, id: &str, certified: &Certified) -> Result<(), CacheError> {
        let pkcs8 =
            certified.signer.to_pkcs8_der().map_err(|_| CacheError::Malformed("key export"))?;
        let chain: String = certified.chain.iter().map(Certificate::to_pem).collect();
        self.call(&Request {
            op: "store".into(),
            id: id.into(),
            key: Some(crate::encoding::b64_encode(pkcs8.as_slice())),
            chain: Some(chain),
        })
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf_pem() -> (String, i64) {
        let commit = include_str!("../../fixtures/gitsign/offline.commit");
        let (_, armored) =
            super::super::object::split(super::super::object::Kind::Commit, commit.as_bytes())
                .unwrap();
        let sig = super::super::verify::Signature::from_armored(&armored.unwrap()).unwrap();
        let leaf = sig.leaf().unwrap().clone();
        (leaf.to_pem(), leaf.not_after())
    }

    #[test]
    fn refuses_a_key_that_is_not_the_certificates() {
        let (pem, _) = leaf_pem();
        let other = EcdsaP256Signer::generate();
        let mut store = Store::default();
        let err = store.put("x", other.to_pkcs8_der().unwrap().to_vec(), pem).unwrap_err();
        assert!(err.contains("does not match"), "{err}");
        assert!(store.is_empty());
    }

    #[test]
    fn forgets_entries_when_the_certificate_expires() {
        let (pem, not_after) = leaf_pem();
        let mut store = Store::default();
        let entry = Entry { pkcs8: Zeroizing::new(vec![1, 2, 3]), chain_pem: pem, not_after };
        store.entries.insert("id".into(), entry);
        assert!(store.get("id", not_after - 600).is_some());
        assert!(store.get("id", not_after - MIN_REMAINING_SECONDS + 1).is_none());
        assert_eq!(store.len(), 0, "the expired entry is gone, not just hidden");
    }
}
