//! L3 the transparency log service: the Rekor v1 REST API (PROTOCOLS §4), or a Rekor v2 log
//! (§4.8: `POST /api/v2/log/entries`, Ed25519 checkpoints), both with C2SP tlog-tiles reads.
//!
//! [`kinds`] checks and canonicalizes proposed entries, [`Log`] sequences them into the
//! Merkle tree over `store` with group commit, [`Api`] maps HTTP requests onto the log,
//! [`service`] opens a log from a data directory and [`serve`] runs it on a socket.
//! [`client`] talks to a Rekor server from the signing side, [`verify_entry`] checks what it
//! hands out, and [`monitor`] proves a log append-only between two visits. Rekor knowledge (entry kinds,
//! SETs, entry IDs, the search index) lives here; `tlog` only sees leaf bytes.

mod api;
mod body_codec;
mod check;
pub mod client;
mod entry;
mod error;
mod index;
pub mod kinds;
mod log;
pub mod monitor;
pub mod service;

use std::future::Future;
use std::sync::Arc;

pub use api::Api;
pub use check::{checkpoint_key_name, verify_entry, verify_tree_head, VerifiedEntry};
pub use entry::{entry_id, set_payload, EntryView, InclusionProof, Record};
pub use error::{Error, Result};
pub use index::SearchQuery;
pub use kinds::{canonicalize_proposed, canonicalize_v2_request, CanonicalEntry};
pub use log::{retired_keys, Clock, Head, KeyRotation, Log, LogVersion, MAX_BATCH};

/// Serves the Rekor API for `log` on `listener` until `shutdown` completes.
///
/// Errors: [`crate::http::Error`] when the listening socket fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    log: Log,
    limits: crate::http::Limits,
    shutdown: impl Future<Output = ()>,
) -> crate::http::Result<()> {
    crate::http::serve(listener, Arc::new(Api::new(log)), limits, shutdown).await
}

/// Like [`serve`], over TLS (`http::tls_config`).
///
/// Errors: [`crate::http::Error`] when the listening socket fails.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    log: Log,
    limits: crate::http::Limits,
    tls: crate::http::TlsConfig,
    shutdown: impl Future<Output = ()>,
) -> crate::http::Result<()> {
    crate::http::serve_tls(listener, Arc::new(Api::new(log)), limits, tls, shutdown).await
}
