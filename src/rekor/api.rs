//! The Rekor v1 REST API (PROTOCOLS §4.1) and C2SP tlog-tiles reads over a [`Log`].
//!
//! Handlers turn a whole [`Request`] into a whole [`Response`]; every failure is a
//! `{"code","message"}` JSON body with the status from [`Error::status`]. Bad input is a 4xx
//! and never reaches storage.

use std::future::Future;
use std::pin::Pin;

use serde_json::{json, Value};

use super::index::SearchQuery;
use super::kinds::{canonicalize_proposed, canonicalize_v2_request};
use super::log::{Log, LogVersion};
use super::{Error, Result};
use crate::encoding::hex_encode;
use crate::http::{Handler, Method, Request, Response, StatusCode};
use crate::tlog::{self, TilePath};

/// The most entry IDs one search answer holds (the newest matches); a key shared by more
/// entries is answered without reading or proving each of them.
pub const MAX_SEARCH_RESULTS: usize = 1000;

/// The Rekor service: routes requests to the log.
#[derive(Clone)]
pub struct Api {
    log: Log,
}

impl Api {
    /// A service over `log`.
    pub fn new(log: Log) -> Api {
        Api { log }
    }

    /// Handles one request (also usable without a socket).
    ///
    /// On PostgreSQL a read waits for the database's answer; done on the runtime's worker
    /// (one per core) it would hold that worker for the round trip, and a server would serve
    /// no more reads at once than it has cores, idle while they wait. So reads there run on
    /// the blocking pool; a submission only awaits its commit and stays on the runtime.
    pub async fn respond(&self, req: Request) -> Response {
        if self.log.on_database() && !is_submission(&req) {
            let api = self.clone();
            let runtime = tokio::runtime::Handle::current();
            return tokio::task::spawn_blocking(move || runtime.block_on(api.respond_here(req)))
                .await
                .unwrap_or_else(|_| error_response(&Error::Unavailable));
        }
        self.respond_here(req).await
    }

    /// Handles one request on the calling thread.
    async fn respond_here(&self, req: Request) -> Response {
        match self.route(&req).await {
            Ok(resp) => resp,
            Err(e) => error_response(&e),
        }
    }

    async fn route(&self, req: &Request) -> Result<Response> {
        let path = req.path.trim_end_matches('/');
        let get = req.method == Method::GET;
        let post = req.method == Method::POST;
        if self.log.version() == LogVersion::V2 {
            return self.route_v2(req, path, get, post).await;
        }
        match path {
            "/api/v1/log/entries" if post => self.create(req).await,
            "/api/v1/log/entries" if get => {
                let index = required_u64(req, "logIndex")?;
                Ok(Response::json_bytes(
                    StatusCode::OK,
                    self.log.entry_by_index(index)?.to_map_json(),
                ))
            }
            "/api/v1/log/entries/retrieve" if post => self.retrieve(req),
            "/api/v1/index/retrieve" if post => self.search(req),
            "/api/v1/log" if get => self.log_info(req),
            "/api/v1/log/proof" if get => self.proof(req),
            "/api/v1/log/publicKey" if get => {
                check_tree_id(req, self.log.tree_id())?;
                Ok(Response::bytes(
                    StatusCode::OK,
                    "application/x-pem-file",
                    self.log.public_key_pem().into_bytes(),
                ))
            }
            "/healthz" | "/ping" if get => {
                Ok(Response::json(StatusCode::OK, &json!({"status": "ok"})))
            }
            "/checkpoint" if get => Ok(Response::bytes(
                StatusCode::OK,
                "text/plain; charset=utf-8",
                self.log.head().checkpoint.into_bytes(),
            )),
            _ if get && path.starts_with("/api/v1/log/entries/") => {
                let id = &path["/api/v1/log/entries/".len()..];
                Ok(Response::json_bytes(StatusCode::OK, self.log.entry_by_uuid(id)?.to_map_json()))
            }
            _ if get && path.starts_with("/tile/") => self.tile(&path[1..]),
            _ => Err(Error::NotFound(format!("{} {}", req.method, req.path))),
        }
    }

    /// Rekor v2 (rekor-tiles): writes at `/api/v2/log/entries`, reads are tiles only.
    async fn route_v2(&self, req: &Request, path: &str, get: bool, post: bool) -> Result<Response> {
        match path {
            "/api/v2/log/entries" if post => {
                let value: Value = serde_json::from_slice(&req.body)
                    .map_err(|e| Error::BadRequest(format!("request body is not JSON: {e}")))?;
                let entry = canonicalize_v2_request(&value)?;
                let view = self.log.submit(entry).await?;
                let tle = view.to_transparency_log_entry(&self.log.log_id())?;
                let json = serde_json::to_value(&tle)
                    .map_err(|_| Error::BadRequest("entry cannot be encoded".into()))?;
                Ok(Response::json(StatusCode::CREATED, &json))
            }
            "/healthz" | "/ping" if get => {
                Ok(Response::json(StatusCode::OK, &json!({"status": "ok"})))
            }
            "/checkpoint" if get => Ok(Response::bytes(
                StatusCode::OK,
                "text/plain; charset=utf-8",
                self.log.head().checkpoint.into_bytes(),
            )),
            _ if get && path.starts_with("/tile/") => self.tile(&path[1..]),
            _ => Err(Error::NotFound(format!(
                "{} {} (this is a Rekor v2 log)",
                req.method, req.path
            ))),
        }
    }

    async fn create(&self, req: &Request) -> Result<Response> {
        let value: Value = serde_json::from_slice(&req.body)
            .map_err(|e| Error::BadRequest(format!("request body is not JSON: {e}")))?;
        let entry = canonicalize_proposed(&value)?;
        let view = self.log.submit(entry).await?;
        let location = format!("/api/v1/log/entries/{}", view.entry_id);
        Ok(Response::json_bytes(StatusCode::CREATED, view.to_map_json())
            .with_header("etag", view.entry_id.clone())
            .with_header("location", location))
    }

    fn retrieve(&self, req: &Request) -> Result<Response> {
        /// Retrieval answers with the entries that exist and skips unknown ones.
        fn push_found(out: &mut Vec<Value>, found: Result<crate::rekor::EntryView>) -> Result<()> {
            match found {
                Ok(view) => out.push(view.to_map()),
                Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
            Ok(())
        }

        let value: Value = serde_json::from_slice(&req.body)
            .map_err(|e| Error::BadRequest(format!("request body is not JSON: {e}")))?;
        let mut out = Vec::new();
        if let Some(ids) = value.get("entryUUIDs").and_then(Value::as_array) {
            check_count(ids.len(), "entryUUIDs")?;
            for id in ids {
                let id =
                    id.as_str().ok_or(Error::BadRequest("entryUUIDs holds a non-string".into()))?;
                push_found(&mut out, self.log.entry_by_uuid(id))?;
            }
        } else if let Some(indexes) = value.get("logIndexes").and_then(Value::as_array) {
            check_count(indexes.len(), "logIndexes")?;
            for i in indexes {
                let i =
                    i.as_u64().ok_or(Error::BadRequest("logIndexes holds a non-integer".into()))?;
                push_found(&mut out, self.log.entry_by_index(i))?;
            }
        } else if let Some(entries) = value.get("entries").and_then(Value::as_array) {
            check_count(entries.len(), "entries")?;
            for proposed in entries {
                let entry = canonicalize_proposed(proposed)?;
                if let Some(i) = self.log.index_of(&tlog::hash_leaf(&entry.body))? {
                    out.push(self.log.entry_by_index(i)?.to_map());
                }
            }
        } else {
            return Err(Error::BadRequest("give one of entryUUIDs, logIndexes or entries".into()));
        }
        Ok(Response::json(StatusCode::OK, &Value::Array(out)))
    }

    /// `POST /api/v1/index/retrieve`: the IDs of matching entries, at most
    /// [`MAX_SEARCH_RESULTS`] — the most recent ones, in log order — each read from the
    /// stored tree (a leaf hash), so a key that matches 100,000 entries stays cheap.
    fn search(&self, req: &Request) -> Result<Response> {
        let query = SearchQuery::from_json(&req.body)?;
        let mut indices = query.run(|key| self.log.search(key))?;
        indices.sort_unstable();
        let newest = &indices[indices.len().saturating_sub(MAX_SEARCH_RESULTS)..];
        let ids = newest
            .iter()
            .map(|&i| self.log.entry_id_at(i).map(Value::String))
            .collect::<Result<Vec<_>>>()?;
        Ok(Response::json(StatusCode::OK, &Value::Array(ids)))
    }

    fn log_info(&self, req: &Request) -> Result<Response> {
        check_tree_id(req, self.log.tree_id())?;
        let head = self.log.head();
        Ok(Response::json(
            StatusCode::OK,
            &json!({
                "rootHash": hex_encode(head.root),
                "treeSize": head.size,
                "signedTreeHead": head.checkpoint,
                "treeID": self.log.tree_id().to_string(),
            }),
        ))
    }

    fn proof(&self, req: &Request) -> Result<Response> {
        check_tree_id(req, self.log.tree_id())?;
        let first = required_u64(req, "firstSize")?;
        let last = match req.query_param("lastSize") {
            Some(v) => parse_u64(&v, "lastSize")?,
            None => self.log.head().size,
        };
        if first < 1 || first > last {
            return Err(Error::BadRequest(format!(
                "firstSize {first} must be at least 1 and at most lastSize {last}"
            )));
        }
        let hashes = self.log.consistency_proof(first, last)?;
        let root = self.log.root_at(last)?;
        Ok(Response::json(
            StatusCode::OK,
            &json!({
                "rootHash": hex_encode(root),
                "hashes": hashes.iter().map(hex_encode).collect::<Vec<_>>(),
            }),
        ))
    }

    fn tile(&self, path: &str) -> Result<Response> {
        let tile =
            tlog::parse_tile_path(path).map_err(|_| Error::NotFound(format!("tile {path}")))?;
        let size = self.log.head().size;
        let (level, first, end) = tile.node_range();
        let body = match tile {
            TilePath::Hashes { level: tile_level, index, width } => {
                let available = tlog::tile_width(tile_level, index, size).unwrap_or(0);
                if width > available {
                    return Err(Error::NotFound(format!("tile {path}")));
                }
                self.log.level_nodes(level, first, end)?.concat()
            }
            TilePath::Entries { index, width } => {
                let available = tlog::tile_width(0, index, size).unwrap_or(0);
                if width > available {
                    return Err(Error::NotFound(format!("tile {path}")));
                }
                let mut out = Vec::new();
                for body in self.log.bodies(first, end)? {
                    // Bodies over 65535 bytes are refused at submission.
                    let len =
                        u16::try_from(body.len()).map_err(|_| Error::BodyTooLarge(body.len()))?;
                    out.extend_from_slice(&len.to_be_bytes());
                    out.extend_from_slice(&body);
                }
                out
            }
        };
        Ok(Response::bytes(StatusCode::OK, "application/octet-stream", body))
    }
}

impl Handler for Api {
    fn handle(&self, request: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(self.respond(request))
    }
}

fn error_response(e: &Error) -> Response {
    let status = e.status();
    if status.is_server_error() {
        tracing::error!(error = crate::error_text::chain(e), "request failed");
    }
    let response = Response::error(status, e.to_string());
    match e {
        Error::Duplicate { entry_id } => {
            response.with_header("location", format!("/api/v1/log/entries/{entry_id}"))
        }
        _ => response,
    }
}

fn required_u64(req: &Request, name: &'static str) -> Result<u64> {
    let v = req
        .query_param(name)
        .ok_or_else(|| Error::BadRequest(format!("query parameter {name} is required")))?;
    parse_u64(&v, name)
}

fn parse_u64(text: &str, name: &str) -> Result<u64> {
    text.parse()
        .map_err(|_| Error::BadRequest(format!("{name} {text:?} is not a non-negative integer")))
}

/// Whether `req` submits an entry (v1 or v2), the one request that awaits the sequencer.
fn is_submission(req: &Request) -> bool {
    req.method == Method::POST
        && matches!(req.path.trim_end_matches('/'), "/api/v1/log/entries" | "/api/v2/log/entries")
}

fn check_count(n: usize, field: &str) -> Result<()> {
    if !(1..=10).contains(&n) {
        return Err(Error::BadRequest(format!("{field} must hold 1 to 10 items, not {n}")));
    }
    Ok(())
}

/// `?treeID=` must name this log's tree when given (there are no inactive shards).
fn check_tree_id(req: &Request, tree_id: u64) -> Result<()> {
    match req.query_param("treeID") {
        Some(t) if t != tree_id.to_string() => Err(Error::NotFound(format!("tree {t}"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::crypto::{EcdsaP256Signer, HashAlgorithm, Signer};
    use crate::encoding::b64_encode;
    use crate::store::LogStore;

    fn request(method: Method, target: &str, body: &[u8]) -> Request {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (target.to_string(), None),
        };
        Request { method, path, query, headers: Default::default(), body: body.to_vec() }
    }

    fn proposal(signer: &EcdsaP256Signer, i: usize) -> Vec<u8> {
        let d = crate::crypto::digest(HashAlgorithm::Sha256, format!("tile {i}").as_bytes());
        let sig = signer.sign_prehashed(d.as_bytes()).unwrap();
        serde_json::to_vec(&json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": d.to_hex()}},
            "signature": {"content": b64_encode(sig),
                          "publicKey": {"content": b64_encode(signer.public_key().to_pem())}}}}))
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn search_answers_are_capped_to_the_newest_entries_with_their_ids() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        let key: Arc<dyn Signer> = Arc::new(EcdsaP256Signer::generate());
        let log = Log::open(store, key, "search.test", Arc::new(|| 1)).unwrap();
        let api = Api::new(log.clone());
        let s = EcdsaP256Signer::generate();
        let total = MAX_SEARCH_RESULTS + 50;
        let mut tasks = Vec::new();
        for i in 0..total {
            let (api, body) = (api.clone(), proposal(&s, i));
            tasks.push(tokio::spawn(async move {
                api.respond(request(Method::POST, "/api/v1/log/entries", &body)).await.status
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), StatusCode::CREATED);
        }
        // Every entry was signed by one key: search by it matches them all.
        let pem = b64_encode(s.public_key().to_pem());
        let query = json!({"publicKey": {"format": "x509", "content": pem}}).to_string();
        let answer =
            api.respond(request(Method::POST, "/api/v1/index/retrieve", query.as_bytes())).await;
        assert_eq!(answer.status, StatusCode::OK);
        let ids: Vec<String> = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(ids.len(), MAX_SEARCH_RESULTS, "capped");
        // The newest entries, in log order, each ID the one the entry itself has.
        let last = log.head().size - 1;
        assert_eq!(ids.last().unwrap(), &log.entry_by_index(last).unwrap().entry_id);
        let first = last + 1 - MAX_SEARCH_RESULTS as u64;
        assert_eq!(ids[0], log.entry_by_index(first).unwrap().entry_id);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tiles_over_300_entries_rebuild_the_signed_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        let key: Arc<dyn Signer> = Arc::new(EcdsaP256Signer::generate());
        let log = Log::open(store, key, "tiles.test", Arc::new(|| 1)).unwrap();
        let api = Api::new(log.clone());
        let s = EcdsaP256Signer::generate();
        let mut tasks = Vec::new();
        for i in 0..300 {
            let (api, body) = (api.clone(), proposal(&s, i));
            tasks.push(tokio::spawn(async move {
                api.respond(request(Method::POST, "/api/v1/log/entries", &body)).await.status
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), StatusCode::CREATED);
        }
        let get = |target: &str| {
            let api = api.clone();
            let target = target.to_string();
            async move { api.respond(request(Method::GET, &target, b"")).await }
        };
        let full = get("/tile/0/000").await;
        assert_eq!((full.status, full.body.len()), (StatusCode::OK, 256 * 32));
        let partial = get("/tile/0/001.p/44").await;
        assert_eq!((partial.status, partial.body.len()), (StatusCode::OK, 44 * 32));
        assert_eq!(get("/tile/0/001").await.status, StatusCode::NOT_FOUND, "not full yet");
        assert_eq!(get("/tile/0/001.p/45").await.status, StatusCode::NOT_FOUND);
        let level1 = get("/tile/1/000.p/1").await;
        assert_eq!(level1.body.len(), 32);
        // The level-1 node is the root of the first 256 leaves.
        let leaves: Vec<tlog::Hash> = full.body.chunks(32).map(|c| c.try_into().unwrap()).collect();
        let mut range = tlog::CompactRange::new();
        for l in &leaves {
            range.append(*l, |_, _| {}).unwrap();
        }
        assert_eq!(range.root().to_vec(), level1.body);
        for l in partial.body.chunks(32) {
            range.append(l.try_into().unwrap(), |_, _| {}).unwrap();
        }
        assert_eq!(range.root(), log.head().root);
        // Entry bundles hold the bodies whose leaf hashes the tile lists.
        let bundle = get("/tile/entries/001.p/44").await.body;
        let mut rest = &bundle[..];
        let mut i = 0;
        while let Some((len, tail)) = rest.split_first_chunk::<2>() {
            let len = u16::from_be_bytes(*len) as usize;
            let leaf = tlog::hash_leaf(&tail[..len]);
            assert_eq!(&leaf[..], &partial.body[i * 32..(i + 1) * 32]);
            rest = &tail[len..];
            i += 1;
        }
        assert_eq!(i, 44);
        assert_eq!(get("/tile/0/x001/000").await.status, StatusCode::NOT_FOUND);
        assert_eq!(get("/tile/0/1").await.status, StatusCode::NOT_FOUND, "non-canonical");
    }
}
