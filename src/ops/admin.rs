//! The admin socket: how `sigbox log backup` reaches a running server, whose store sled
//! locks against every other process.
//!
//! A Unix socket `admin.sock` in the server's data directory, mode 0600 (only the account
//! that owns the data can use it; nothing listens on the network). A client sends one line,
//! `backup`, and the server answers with the log parts of a backup cut at its current signed
//! checkpoint ([`super::write_log_parts`], the backup file's own framing without a manifest),
//! or with one part named `error`, and closes. Writers are not paused: see
//! [`super::backup`] for why the cut is consistent.
//!
//! Other servers answer other one-line requests on a socket of the same kind through
//! [`spawn_with`] (`sigbox up` answers `rotate <kind>` on `DATA/admin.sock`). Besides the
//! 0600 mode, a connection from another account than the socket's owner is refused (root
//! passes file modes).

use std::io::{BufReader, BufWriter, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use super::archive::{ArchiveReader, ArchiveWriter};
use super::{Error, LogKind, Result};
use crate::crypto::PublicKey;
use crate::store::Store;

/// The socket's file name in the data directory.
pub const SOCKET: &str = "admin.sock";

/// What the server backs up when asked.
#[derive(Clone)]
pub struct Source {
    /// The running log's store (a clone of the server's handle). Online backups are of sled
    /// stores; a PostgreSQL log is backed up with the database's own tools.
    pub store: Store,
    /// Which log.
    pub kind: LogKind,
    /// The log key (public half).
    pub key: PublicKey,
    /// The current log key, when it can change while the server runs (a live rotation);
    /// overrides `key`.
    pub current_key: Option<std::sync::Arc<dyn Fn() -> PublicKey + Send + Sync>>,
}

/// Answers one request line (the request, the connection to answer on).
pub type Handler = std::sync::Arc<dyn Fn(&str, UnixStream) -> std::io::Result<()> + Send + Sync>;

/// A bound admin socket; the file is removed on drop.
pub struct Admin {
    listener: tokio::net::UnixListener,
    path: PathBuf,
}

impl Admin {
    /// Binds `DATA/admin.sock` (mode 0600), replacing a stale socket file left by a server
    /// that died; refuses if another server answers on it.
    ///
    /// Errors: [`Error::Refused`] if a live server owns it; [`Error::Io`].
    pub fn bind(data_dir: &Path) -> Result<Admin> {
        let path = data_dir.join(SOCKET);
        if path.exists() {
            if UnixStream::connect(&path).is_ok() {
                return Err(Error::Refused(format!(
                    "{} answers: another server runs on this data directory",
                    path.display()
                )));
            }
            std::fs::remove_file(&path).map_err(Error::io(&path))?;
        }
        let listener = tokio::net::UnixListener::bind(&path).map_err(Error::io(&path))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(Error::io(&path))?;
        Ok(Admin { listener, path })
    }

    /// Serves backups until the task is dropped; each on a blocking thread.
    pub async fn serve(self, source: Source) {
        self.serve_with(std::sync::Arc::new(move |request: &str, stream: UnixStream| {
            answer(request, stream, &source)
        }))
        .await
    }

    /// Serves requests with `handler` until the task is dropped; each on a blocking
    /// thread, after its first line is read.
    pub async fn serve_with(self, handler: Handler) {
        use std::os::unix::fs::MetadataExt;
        let owner = std::fs::metadata(&self.path).map(|m| m.uid()).ok();
        loop {
            let stream = match self.listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "admin socket accept failed");
                    continue;
                }
            };
            let peer = stream.peer_cred().ok().map(|c| c.uid());
            if owner.is_none() || peer != owner {
                tracing::warn!(?peer, ?owner, "admin connection from another account refused");
                continue;
            }
            let handler = handler.clone();
            tokio::task::spawn_blocking(move || {
                let stream = match stream.into_std().and_then(|s| {
                    s.set_nonblocking(false)?;
                    Ok(s)
                }) {
                    Ok(s) => s,
                    Err(e) => return tracing::warn!(error = %e, "admin socket"),
                };
                let request = stream
                    .try_clone()
                    .and_then(|s| super::backup::read_line(&mut BufReader::new(s)));
                let outcome = request.and_then(|request| match request.is_empty() {
                    // A probe: a client only checking whether a server runs here
                    // (`export-tiles`).
                    true => Ok(()),
                    false => handler(&request, stream),
                });
                if let Err(e) = outcome {
                    tracing::warn!(error = %e, "admin request failed");
                }
            });
        }
    }
}

impl Drop for Admin {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn answer(request: &str, stream: UnixStream, source: &Source) -> std::io::Result<()> {
    let mut out = ArchiveWriter::new(BufWriter::with_capacity(1 << 20, stream))?;
    if request != "backup" {
        out.add("error", format!("unknown request {request:?}").as_bytes())?;
        return out.into_inner().map(drop);
    }
    let started = std::time::Instant::now();
    let Some(store) = source.store.as_sled() else {
        out.add(
            "error",
            crate::store::Error::Unsupported("an online backup").to_string().as_bytes(),
        )?;
        return out.into_inner().map(drop);
    };
    let key = source.current_key.as_ref().map_or_else(|| source.key.clone(), |current| current());
    match super::write_log_parts(store, source.kind, &key, &mut out, &mut |_, _| {}) {
        Ok(info) => tracing::info!(
            entries = info.size,
            ms = started.elapsed().as_millis() as u64,
            "online backup sent"
        ),
        Err(e) => {
            tracing::error!(error = %e, "online backup failed");
            // The client sees this part in place of the next one it expects.
            out.add("error", format!("{e}").as_bytes())?;
        }
    }
    out.into_inner()?.flush()
}

/// Binds the admin socket of `data_dir` and serves it on the current tokio runtime. A
/// socket that cannot be bound (e.g. a path longer than the 108 bytes Unix allows) costs
/// only online backups, not the server: it is logged and `None` returned.
pub fn spawn(data_dir: &Path, source: Source) -> Option<tokio::task::JoinHandle<()>> {
    if source.store.as_sled().is_none() {
        tracing::info!("the log is on PostgreSQL: no admin socket (back up the database)");
        return None;
    }
    match Admin::bind(data_dir) {
        Ok(admin) => Some(tokio::spawn(admin.serve(source))),
        Err(e) => {
            tracing::warn!(error = %e, "no admin socket: online backups are not available");
            None
        }
    }
}

/// Like [`spawn`], answering requests with `handler`.
pub fn spawn_with(data_dir: &Path, handler: Handler) -> Option<tokio::task::JoinHandle<()>> {
    match Admin::bind(data_dir) {
        Ok(admin) => Some(tokio::spawn(admin.serve_with(handler))),
        Err(e) => {
            tracing::warn!(error = %e, "no admin socket");
            None
        }
    }
}

/// Connects to the admin socket of a server running on `data_dir`, if one answers.
pub fn connect(data_dir: &Path) -> Option<UnixStream> {
    UnixStream::connect(data_dir.join(SOCKET)).ok()
}

/// Asks the server for a backup; returns the answer to read with
/// [`super::copy_log_parts`].
///
/// Errors: [`Error::Admin`] if the request cannot be sent; [`Error::Format`] if the answer
/// is not a backup stream.
pub fn request_backup(mut stream: UnixStream) -> Result<ArchiveReader<BufReader<UnixStream>>> {
    stream.write_all(b"backup\n").map_err(|e| Error::Admin(format!("sending the request: {e}")))?;
    ArchiveReader::new(BufReader::with_capacity(1 << 20, stream))
}
