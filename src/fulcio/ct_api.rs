//! The RFC 6962 read API of the CA's built-in CT log (§4.3–§4.8: `get-sth`,
//! `get-sth-consistency`, `get-proof-by-hash`, `get-entries`, `get-roots`,
//! `get-entry-and-proof`), plus `public-key`, a sigbox addition that serves the log's PEM
//! key so clients and tests can build a trusted root. Read-only: nothing here changes the log.

use serde_json::json;

use super::ct::CtLog;
use super::responses::{bad_request, internal};
use crate::http::{Method, Request, Response, StatusCode};
use crate::tlog;
use crate::x509::Certificate;

/// Answers `GET /ct/v1/<path>`; `root` is the CA root (for `get-roots`), `now_ms` the time
/// for the tree head of an empty log.
pub(super) fn route(
    ct: &CtLog,
    root: Option<&Certificate>,
    now_ms: u64,
    request: &Request,
    path: &str,
) -> Response {
    if request.method != Method::GET {
        return Response::error(StatusCode::METHOD_NOT_ALLOWED, "the CT log API is read-only");
    }
    match path {
        "get-sth" => get_sth(ct, now_ms),
        "get-sth-consistency" => get_sth_consistency(ct, request),
        "get-proof-by-hash" => get_proof_by_hash(ct, request),
        "get-entries" => get_entries(ct, request),
        "get-entry-and-proof" => get_entry_and_proof(ct, request),
        "get-roots" => get_roots(root),
        "public-key" => Response::bytes(
            StatusCode::OK,
            "application/x-pem-file",
            ct.public_key().to_pem().into_bytes(),
        ),
        _ => Response::error(StatusCode::NOT_FOUND, format!("no route for {}", request.path)),
    }
}

fn get_sth(ct: &CtLog, now_ms: u64) -> Response {
    match ct.signed_tree_head(now_ms) {
        Ok(sth) => Response::json(StatusCode::OK, &json!(sth)),
        Err(e) => internal(e),
    }
}

fn get_sth_consistency(ct: &CtLog, request: &Request) -> Response {
    let (Some(first), Some(second)) = (u64_param(request, "first"), u64_param(request, "second"))
    else {
        return bad_request("first and second must be decimal tree sizes");
    };
    let store = ct.store();
    let size = match store.size() {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    if first > second || second > size {
        return bad_request(format!("need first <= second <= {size}"));
    }
    match tlog::consistency_proof(first, second, |id| store.node(id)) {
        Ok(proof) => Response::json(StatusCode::OK, &json!({"consistency": b64_list(&proof)})),
        Err(e) => bad_request(format!("{e}")),
    }
}

fn get_proof_by_hash(ct: &CtLog, request: &Request) -> Response {
    let Some(size) = u64_param(request, "tree_size") else {
        return bad_request("tree_size must be a decimal size");
    };
    let hash = request.query_param("hash").and_then(|h| crate::encoding::b64_decode(&h));
    let Some(hash) = hash.and_then(|h| <[u8; 32]>::try_from(h).ok()) else {
        return bad_request("hash must be a base64 32-byte leaf hash");
    };
    let store = ct.store();
    let index = match store.index_of(&hash) {
        Ok(Some(i)) if i < size => i,
        Ok(_) => {
            return Response::error(StatusCode::NOT_FOUND, "no such leaf in a tree of that size")
        }
        Err(e) => return internal(e),
    };
    match store.size() {
        Ok(current) if size <= current => {}
        Ok(current) => {
            return bad_request(format!("tree_size {size} is beyond the log size {current}"))
        }
        Err(e) => return internal(e),
    }
    match tlog::inclusion_proof(index, size, |id| store.node(id)) {
        Ok(proof) => Response::json(
            StatusCode::OK,
            &json!({"leaf_index": index, "audit_path": b64_list(&proof)}),
        ),
        Err(e) => bad_request(format!("{e}")),
    }
}

fn get_entries(ct: &CtLog, request: &Request) -> Response {
    let (Some(start), Some(end)) = (u64_param(request, "start"), u64_param(request, "end")) else {
        return bad_request("start and end must be decimal indices");
    };
    if end < start {
        return bad_request("end must not be less than start");
    }
    // RFC 6962 §4.6 lets a log return fewer entries than asked: cap the page.
    let end = end.min(start.saturating_add(255));
    match ct.store().entries(start, end.saturating_add(1)) {
        Ok(records) => {
            let entries: Vec<serde_json::Value> =
                records.iter().filter_map(|r| serde_json::from_slice(r).ok()).collect();
            Response::json(StatusCode::OK, &json!({"entries": entries}))
        }
        Err(e) => internal(e),
    }
}

/// RFC 6962 §4.8: one entry with its inclusion proof in a tree of `tree_size`.
fn get_entry_and_proof(ct: &CtLog, request: &Request) -> Response {
    let (Some(index), Some(size)) =
        (u64_param(request, "leaf_index"), u64_param(request, "tree_size"))
    else {
        return bad_request("leaf_index and tree_size must be decimal numbers");
    };
    let store = ct.store();
    match store.size() {
        Ok(current) if index < size && size <= current => {}
        Ok(current) => {
            return bad_request(format!("need leaf_index < tree_size <= {current}"));
        }
        Err(e) => return internal(e),
    }
    let record = match store.entry(index) {
        Ok(Some(r)) => r,
        Ok(None) => return Response::error(StatusCode::NOT_FOUND, "no such entry"),
        Err(e) => return internal(e),
    };
    let Ok(mut entry) = serde_json::from_slice::<serde_json::Value>(&record) else {
        return internal(format!("corrupt CT log record at index {index}"));
    };
    match tlog::inclusion_proof(index, size, |id| store.node(id)) {
        Ok(proof) => {
            entry["audit_path"] = json!(b64_list(&proof));
            Response::json(StatusCode::OK, &entry)
        }
        Err(e) => bad_request(format!("{e}")),
    }
}

/// RFC 6962 §4.7: the roots the log accepts (this CA's root).
fn get_roots(root: Option<&Certificate>) -> Response {
    let roots: Vec<String> =
        root.map(|root| crate::encoding::b64_encode(root.der())).into_iter().collect();
    Response::json(StatusCode::OK, &json!({"certificates": roots}))
}

fn u64_param(request: &Request, name: &str) -> Option<u64> {
    request.query_param(name)?.parse().ok()
}

fn b64_list(hashes: &[tlog::Hash]) -> Vec<String> {
    hashes.iter().map(crate::encoding::b64_encode).collect()
}
