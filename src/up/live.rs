//! Rotating a key of a RUNNING instance: `sigbox up rotate KIND` asks the running `sigbox
//! up` through its admin socket (`DATA/admin.sock`, mode 0600, other accounts refused) with
//! one line, `rotate <kind>`, and gets one line back: `rotated <RFC 3339 time> <retired
//! dir>` or `error <why>`.
//!
//! The instance takes the rotated service's key lock for writing (issuances, log batches
//! or timestamps under way finish first, under the old key), reads the clock (T), makes
//! the new key as the offline path does ([`super::rotate::Plan`]), switches the service
//! to it, writes the trust files and publishes the TUF targets, and only then lets
//! requests through again. So nothing is signed by the old key after T nor by the new one
//! before T, and nothing signed by the new key is handed out before the trusted root that
//! lists it is published.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::rotate::{KeyKind, NewKey, Plan, RotateError, Rotated};
use crate::fulcio::api::FulcioApi;
use crate::rekor::Log;
use crate::tsa::TsaService;
use crate::tuf::repository::Repository;

/// How long the command waits for the instance's answer.
const ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// The running services whose keys a live rotation switches.
pub struct Live {
    /// The instance's data directory.
    pub data_dir: PathBuf,
    /// The CA (and its CT log).
    pub fulcio: Arc<FulcioApi>,
    /// The Rekor v1 log.
    pub log: Log,
    /// The timestamp authority.
    pub tsa: Arc<TsaService>,
    /// The TUF repository the trust files are published in.
    pub repository: Arc<Repository>,
    /// The clock (Unix seconds).
    pub clock: fn() -> i64,
    /// One rotation at a time: each rewrites the trust files.
    pub busy: Mutex<()>,
}

impl Live {
    /// Rotates `kind` now (see the module docs).
    ///
    /// Errors: [`RotateError`]; the service keeps its old key then.
    pub fn rotate(&self, kind: KeyKind) -> Result<Rotated, RotateError> {
        let _one = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        let dir = &self.data_dir;
        let publish = |now: i64| self.publish(now);
        match kind {
            KeyKind::Ca | KeyKind::Ct => {
                let mut guard = self.fulcio.rotation();
                let now = (self.clock)();
                let (plan, key) = Plan::make(dir, kind, now)?;
                match key {
                    NewKey::Ca(ca) => guard.install_ca(ca),
                    NewKey::Signer(signer) => {
                        if let Err(e) = guard.install_ct_key(signer, now) {
                            plan.undo();
                            return Err(RotateError::State(format!("switching the CT key: {e}")));
                        }
                    }
                    NewKey::Tsa(_) => return Err(mismatch(&plan)),
                }
                plan.commit(dir, publish, now)
            }
            KeyKind::Log => {
                let mut guard = self.log.rotation();
                let now = (self.clock)();
                let (plan, key) = Plan::make(dir, kind, now)?;
                let NewKey::Signer(signer) = key else { return Err(mismatch(&plan)) };
                if let Err(e) = guard.install(signer) {
                    plan.undo();
                    return Err(RotateError::State(format!("switching the log key: {e}")));
                }
                plan.commit(dir, publish, now)
            }
            KeyKind::Tsa => {
                let mut guard = self.tsa.rotation();
                let now = (self.clock)();
                let (plan, key) = Plan::make(dir, kind, now)?;
                let NewKey::Tsa(authority) = key else { return Err(mismatch(&plan)) };
                if let Err(e) = guard.install(&authority) {
                    plan.undo();
                    return Err(RotateError::Tsa(e));
                }
                plan.commit(dir, publish, now)
            }
        }
    }

    fn publish(&self, now: i64) -> crate::tuf::Result<()> {
        let read = |name: &str| {
            let path = self.data_dir.join(name);
            std::fs::read(&path).map_err(|source| crate::tuf::Error::Io {
                what: "trust file",
                path,
                source,
            })
        };
        let root = read("trusted_root.json")?;
        let signing = read("signing_config.json")?;
        self.repository
            .publish(
                &[
                    (crate::tuf::TRUSTED_ROOT_TARGET, &root),
                    (crate::tuf::SIGNING_CONFIG_TARGET, &signing),
                ],
                now,
            )
            .map(drop)
    }

    /// Answers one admin-socket request.
    ///
    /// Errors: writing the answer failed.
    pub fn answer(&self, request: &str, mut stream: UnixStream) -> std::io::Result<()> {
        let line = match request.strip_prefix("rotate ").map(str::trim).map(KeyKind::from_name) {
            Some(Some(kind)) => match self.rotate(kind) {
                Ok(done) => {
                    tracing::info!(kind = kind.name(), at = %done.at, "key rotated live");
                    format!("rotated {} {}", done.at, done.retired.display())
                }
                Err(e) => {
                    let why = error_chain(&e);
                    tracing::error!(kind = kind.name(), error = %why, "live rotation failed");
                    format!("error {why}")
                }
            },
            Some(None) => "error the key kind must be ca, log, ct or tsa".to_string(),
            None => format!("error unknown request {request:?}"),
        };
        stream.write_all(line.as_bytes())?;
        stream.write_all(b"\n")?;
        stream.flush()
    }
}

/// The error and its causes on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn mismatch(plan: &Plan) -> RotateError {
    plan.undo();
    RotateError::State("the new key is not of the kind rotated".into())
}

/// Asks the instance running on `data_dir` to rotate `kind`. `Ok(None)` when no instance
/// answers on its admin socket (the caller rotates offline).
///
/// Errors: [`RotateError::State`] when the socket refuses this account or the instance
/// answers with an error.
pub fn request(data_dir: &Path, kind: KeyKind) -> Result<Option<Rotated>, RotateError> {
    let path = data_dir.join(crate::ops::admin::SOCKET);
    let mut stream = match UnixStream::connect(&path) {
        Ok(stream) => stream,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(RotateError::State(format!(
                "{}: permission denied: only the account that runs the instance may rotate \
                 its keys",
                path.display()
            )))
        }
        Err(_) => return Ok(None),
    };
    let failed =
        |e: std::io::Error| RotateError::Io { what: "admin socket", path: path.clone(), source: e };
    stream.set_read_timeout(Some(ANSWER_TIMEOUT)).map_err(failed)?;
    stream.write_all(format!("rotate {}\n", kind.name()).as_bytes()).map_err(failed)?;
    let mut line = String::new();
    BufReader::new(&stream).take(64 * 1024).read_line(&mut line).map_err(failed)?;
    let line = line.trim_end();
    if line.is_empty() {
        // The server closes without a word on a connection from another account.
        return Err(RotateError::State(format!(
            "{} closed without an answer (the instance refuses other accounts)",
            path.display()
        )));
    }
    if let Some(why) = line.strip_prefix("error ") {
        return Err(RotateError::State(format!("the running instance refused: {why}")));
    }
    let (at, retired) = line
        .strip_prefix("rotated ")
        .and_then(|rest| rest.split_once(' '))
        .ok_or_else(|| RotateError::State(format!("unexpected answer {line:?}")))?;
    Ok(Some(Rotated { at: at.to_string(), retired: PathBuf::from(retired) }))
}
