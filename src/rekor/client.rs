//! A Rekor v1 client: submit proposed entries, read entries back, search, and turn a
//! `LogEntry` response (PROTOCOLS §4.3) into a bundle `TransparencyLogEntry` (§1.5).
//!
//! The client checks shapes only; whether an entry is trustworthy (SET, proof, checkpoint)
//! is decided offline by `verify`. The HTTP client is handed in (`http::blocking_client`).

use serde_json::{json, Value};

use super::{Error, Result};
use crate::bundle::wire::{
    Base64Bytes, Bundle, Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId,
    TransparencyLogEntry,
};
use crate::crypto::{Digest, HashAlgorithm};
use crate::encoding::{b64_decode, b64_encode, hex_decode, pem_encode};
use crate::http::BlockingClient;
use crate::tlog::Hash;

/// A client for one Rekor v1 server.
#[derive(Debug, Clone)]
pub struct Client {
    http: BlockingClient,
    base: String,
}

/// `GET /api/v1/log` as the server states it (nothing verified yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogInfo {
    /// Number of entries.
    pub tree_size: u64,
    /// Root hash at `tree_size`.
    pub root_hash: Hash,
    /// The signed checkpoint note.
    pub signed_tree_head: String,
    /// The tree ID (decimal string), if given.
    pub tree_id: String,
}

/// An entry as returned by the log: its entry ID and the bundle form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEntry {
    /// The 80-hex entry ID (the response map key).
    pub entry_id: String,
    /// The bundle `TransparencyLogEntry`.
    pub entry: TransparencyLogEntry,
}

impl Client {
    /// A client for the server at `base_url` (e.g. `http://127.0.0.1:3000`; a trailing `/`
    /// is dropped, a path prefix is kept).
    pub fn new(http: BlockingClient, base_url: &str) -> Client {
        Client { http, base: base_url.trim_end_matches('/').to_string() }
    }

    /// Submits a proposed entry. A 409 (already logged) is not an error: the existing entry
    /// is fetched from the `Location` the server names, as sigstore-js does.
    ///
    /// Errors: [`Error::Transport`], [`Error::Rejected`] (any other non-2xx, quoting the
    /// server's message), [`Error::MalformedResponse`].
    pub fn create_entry(&self, proposed: &Value) -> Result<LoggedEntry> {
        let url = format!("{}/api/v1/log/entries", self.base);
        let resp = self.http.post(&url).json(proposed).send().map_err(transport(&url))?;
        let status = resp.status().as_u16();
        if status == 409 {
            let location = resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .ok_or(Error::MalformedResponse("409 without a Location header"))?;
            let id = location.rsplit('/').next().unwrap_or_default();
            return self.entry_by_uuid(id);
        }
        let map = read_json(resp, &url)?;
        log_entry_from_map(&map)
    }

    /// Submits a Rekor v2 `CreateEntryRequest` to `POST /api/v2/log/entries` and returns the
    /// `TransparencyLogEntry` the log answers with (already in bundle form). A duplicate is
    /// [`Error::Rejected`] with status 409 (Rekor v2 has no read-by-ID API).
    pub fn create_entry_v2(&self, request: &Value) -> Result<TransparencyLogEntry> {
        let url = format!("{}/api/v2/log/entries", self.base);
        let resp = self.http.post(&url).json(request).send().map_err(transport(&url))?;
        let value = read_json(resp, &url)?;
        serde_json::from_value(value).map_err(|_| Error::MalformedResponse("TransparencyLogEntry"))
    }

    /// Reads the entry with this UUID or entry ID.
    pub fn entry_by_uuid(&self, uuid: &str) -> Result<LoggedEntry> {
        log_entry_from_map(&self.entry_map_by_uuid(uuid)?)
    }

    /// Reads the entry at a (global) log index.
    pub fn entry_by_index(&self, index: u64) -> Result<LoggedEntry> {
        log_entry_from_map(&self.entry_map_by_index(index)?)
    }

    /// The raw `{entryID: LogEntry}` map for a UUID or entry ID (hex only, so the ID can
    /// not change the URL path).
    pub fn entry_map_by_uuid(&self, uuid: &str) -> Result<Value> {
        if uuid.is_empty() || !uuid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::BadRequest(format!("{uuid:?} is not a hex entry UUID")));
        }
        self.get_json(&format!("/api/v1/log/entries/{uuid}"))
    }

    /// The raw `{entryID: LogEntry}` map at a (global) log index.
    pub fn entry_map_by_index(&self, index: u64) -> Result<Value> {
        self.get_json(&format!("/api/v1/log/entries?logIndex={index}"))
    }

    /// `GET /api/v1/log`: tree size, root hash, signed tree head, tree ID. Unverified.
    pub fn log_info(&self) -> Result<LogInfo> {
        let v = self.get_json("/api/v1/log")?;
        let root = hex_field(&v, "/rootHash")?;
        Ok(LogInfo {
            tree_size: v.get("treeSize").and_then(Value::as_u64).ok_or(bad("treeSize"))?,
            root_hash: root.as_slice().try_into().map_err(|_| bad("rootHash"))?,
            signed_tree_head: v
                .get("signedTreeHead")
                .and_then(Value::as_str)
                .ok_or(bad("signedTreeHead"))?
                .to_string(),
            tree_id: v.get("treeID").and_then(Value::as_str).unwrap_or_default().to_string(),
        })
    }

    /// `GET /api/v1/log/proof?firstSize=&lastSize=`: the consistency proof between two tree
    /// sizes and the root the server claims at `last`. Unverified.
    pub fn consistency_proof(&self, first: u64, last: u64) -> Result<(Hash, Vec<Hash>)> {
        let v = self.get_json(&format!("/api/v1/log/proof?firstSize={first}&lastSize={last}"))?;
        let root = hex_field(&v, "/rootHash")?;
        let root: Hash = root.as_slice().try_into().map_err(|_| bad("rootHash"))?;
        let hashes = v
            .get("hashes")
            .and_then(Value::as_array)
            .ok_or(bad("hashes"))?
            .iter()
            .map(|h| h.as_str().and_then(hex_decode).and_then(|b| Hash::try_from(b).ok()))
            .collect::<Option<Vec<Hash>>>()
            .ok_or(bad("hashes"))?;
        Ok((root, hashes))
    }

    fn get_json(&self, path: &str) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let resp = self.http.get(&url).send().map_err(transport(&url))?;
        read_json(resp, &url)
    }

    /// `POST /api/v1/index/retrieve` with a `SearchIndex` query; returns entry IDs.
    pub fn search(&self, query: &Value) -> Result<Vec<String>> {
        let url = format!("{}/api/v1/index/retrieve", self.base);
        let resp = self.http.post(&url).json(query).send().map_err(transport(&url))?;
        let value = read_json(resp, &url)?;
        let list =
            value.as_array().ok_or(Error::MalformedResponse("search result is not a list"))?;
        list.iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or(Error::MalformedResponse("search result holds a non-string"))
    }

    /// The entry map of the hashedrekord entry for `signature` over `digest` by the key or
    /// certificate `verifier_pem`, found by its UUID: the log stores the canonical form, so
    /// computing that form here gives the leaf hash without a search.
    ///
    /// Errors: the entry kind's own errors for a bad signature; client errors.
    pub fn entry_map_for_signature(
        &self,
        digest: &Digest,
        signature: &[u8],
        verifier_pem: &str,
    ) -> Result<Value> {
        let proposal = hashedrekord_proposal(digest, signature, verifier_pem);
        let entry = super::canonicalize_proposed(&proposal)?;
        self.entry_map_by_uuid(&crate::encoding::hex_encode(crate::tlog::hash_leaf(&entry.body)))
    }

    /// `GET /api/v1/log/publicKey`: the log key PEM.
    pub fn public_key_pem(&self) -> Result<String> {
        let url = format!("{}/api/v1/log/publicKey", self.base);
        let resp = self.http.get(&url).send().map_err(transport(&url))?;
        let answer = read(resp, &url)?;
        String::from_utf8(answer.body).map_err(|_| Error::MalformedResponse("key is not text"))
    }
}

/// A `POST /api/v1/index/retrieve` query: entries by artifact hash, by signer key or
/// certificate, or by email, combined with `and` or `or`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// `sha256:<hex>` of an artifact.
    pub hash: Option<String>,
    /// A PEM public key or certificate.
    pub public_key_pem: Option<String>,
    /// A certificate email identity.
    pub email: Option<String>,
    /// `and` or `or` (Rekor's default is `and`).
    pub operator: String,
}

impl SearchQuery {
    /// True when it names nothing to search for.
    pub fn is_empty(&self) -> bool {
        self.hash.is_none() && self.public_key_pem.is_none() && self.email.is_none()
    }

    /// The query JSON Rekor takes.
    pub fn to_value(&self) -> Value {
        let mut query = serde_json::Map::new();
        if let Some(hash) = &self.hash {
            query.insert("hash".into(), hash.clone().into());
        }
        if let Some(pem) = &self.public_key_pem {
            let key = json!({"format": "x509", "content": crate::encoding::b64_encode(pem)});
            query.insert("publicKey".into(), key);
        }
        if let Some(email) = &self.email {
            query.insert("email".into(), email.clone().into());
        }
        let operator = if self.operator.is_empty() { "and" } else { self.operator.as_str() };
        query.insert("operator".into(), operator.into());
        Value::Object(query)
    }
}

/// A `hashedrekord` 0.0.1 proposal: `digest` of the artifact, the DER `signature` over it,
/// and the signer's certificate or public key as PEM.
pub fn hashedrekord_proposal(digest: &Digest, signature: &[u8], verifier_pem: &str) -> Value {
    json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": digest.algorithm().rekor_name(), "value": digest.to_hex()}},
        "signature": {"content": b64_encode(signature),
                      "publicKey": {"content": b64_encode(verifier_pem)}}}})
}

/// A Rekor v2 `hashedrekord` 0.0.2 request. `verifier_der` is the leaf certificate DER
/// (`is_certificate`) or an SPKI DER; `key_details` is the protobuf-specs name, e.g.
/// `PKIX_ECDSA_P256_SHA_256`. For DSSE, `digest` is SHA-256 of the PAE and `signature` the
/// envelope signature (PROTOCOLS §4.8).
pub fn hashedrekord_v2_request(
    digest: &[u8],
    signature: &[u8],
    verifier_der: &[u8],
    is_certificate: bool,
    key_details: &str,
) -> Value {
    let material = if is_certificate { "x509Certificate" } else { "publicKey" };
    let mut verifier = serde_json::Map::new();
    verifier.insert(material.into(), json!({"rawBytes": b64_encode(verifier_der)}));
    verifier.insert("keyDetails".into(), key_details.into());
    json!({"hashedRekordRequestV002": {
        "digest": b64_encode(digest),
        "signature": {"content": b64_encode(signature), "verifier": verifier}}})
}

/// A `dsse` 0.0.1 proposal: the envelope JSON text exactly as it will be kept, and the
/// signer's certificate or public key as PEM.
pub fn dsse_proposal(envelope_json: &str, verifier_pem: &str) -> Value {
    json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {"proposedContent": {
        "envelope": envelope_json, "verifiers": [b64_encode(verifier_pem)]}}})
}

/// The proposed entry for a bundle's content: `hashedrekord` 0.0.1 for a message signature
/// (digest and signature from the bundle), `dsse` 0.0.1 for a DSSE envelope. The verifier
/// is the bundle's leaf certificate, or `public_key_pem` for key-signed bundles (whose
/// bundle names the key only by a hint).
///
/// Errors: [`Error::BadRequest`] naming what the bundle lacks.
pub fn proposal_from_bundle(bundle: &Bundle, public_key_pem: Option<&str>) -> Result<Value> {
    let material = bundle.verification_material.as_ref();
    let leaf = material.and_then(|m| {
        m.certificate
            .as_ref()
            .or_else(|| m.x509_certificate_chain.as_ref().and_then(|c| c.certificates.first()))
    });
    let verifier_pem = match (leaf, public_key_pem) {
        (Some(cert), _) => pem_encode("CERTIFICATE", &cert.raw_bytes),
        (None, Some(pem)) => pem.to_string(),
        (None, None) => {
            return Err(Error::BadRequest(
                "the bundle has no certificate; give the signer's public key".into(),
            ))
        }
    };
    if let Some(sig) = &bundle.message_signature {
        let hash = sig
            .message_digest
            .as_ref()
            .ok_or_else(|| Error::BadRequest("the bundle has no messageDigest".into()))?;
        let algorithm = HashAlgorithm::from_name(&hash.algorithm).ok_or_else(|| {
            Error::BadRequest(format!("unknown digest algorithm {:?}", hash.algorithm))
        })?;
        let digest = Digest::from_bytes(algorithm, hash.digest.0.clone())
            .ok_or_else(|| Error::BadRequest("messageDigest has the wrong length".into()))?;
        return Ok(hashedrekord_proposal(&digest, &sig.signature, &verifier_pem));
    }
    if let Some(envelope) = &bundle.dsse_envelope {
        let json = serde_json::to_string(envelope)
            .map_err(|e| Error::BadRequest(format!("DSSE envelope: {e}")))?;
        return Ok(dsse_proposal(&json, &verifier_pem));
    }
    Err(Error::BadRequest("the bundle has neither messageSignature nor dsseEnvelope".into()))
}

/// Converts a `{entryID: LogEntry}` response map into the bundle form (PROTOCOLS §4.3):
/// hex fields become bytes, `kindVersion` comes from the body, the body is kept verbatim.
///
/// Errors: [`Error::MalformedResponse`] naming what is missing.
pub fn log_entry_from_map(map: &Value) -> Result<LoggedEntry> {
    let obj = map.as_object().ok_or(Error::MalformedResponse("entry response is not a map"))?;
    let (entry_id, e) = match obj.iter().next() {
        Some(pair) if obj.len() == 1 => pair,
        _ => return Err(Error::MalformedResponse("entry response must hold exactly one entry")),
    };
    let body_b64 = e.get("body").and_then(Value::as_str).ok_or(bad("body"))?;
    let body = b64_decode(body_b64).ok_or(bad("body"))?;
    let parsed: Value = serde_json::from_slice(&body).map_err(|_| bad("body"))?;
    let kind_version = KindVersion {
        kind: parsed.get("kind").and_then(Value::as_str).ok_or(bad("body kind"))?.to_string(),
        version: parsed
            .get("apiVersion")
            .and_then(Value::as_str)
            .ok_or(bad("body apiVersion"))?
            .to_string(),
    };
    let log_id = hex_field(e, "/logID")?;
    let log_index = int_field(e, "/logIndex")?;
    let integrated_time = int_field(e, "/integratedTime")?;
    let verification = e.get("verification");
    let inclusion_promise = match verification.and_then(|v| v.get("signedEntryTimestamp")) {
        Some(set) => Some(InclusionPromise {
            signed_entry_timestamp: set
                .as_str()
                .and_then(b64_decode)
                .ok_or(bad("signedEntryTimestamp"))?
                .into(),
        }),
        None => None,
    };
    let inclusion_proof = match verification.and_then(|v| v.get("inclusionProof")) {
        Some(p) => Some(InclusionProof {
            log_index: int_field(p, "/logIndex")?,
            root_hash: hex_field(p, "/rootHash")?,
            tree_size: int_field(p, "/treeSize")?,
            hashes: p
                .get("hashes")
                .and_then(Value::as_array)
                .ok_or(bad("inclusionProof.hashes"))?
                .iter()
                .map(|h| h.as_str().and_then(hex_decode).map(Base64Bytes::from))
                .collect::<Option<Vec<_>>>()
                .ok_or(bad("inclusionProof.hashes"))?,
            checkpoint: p
                .get("checkpoint")
                .and_then(Value::as_str)
                .map(|c| Checkpoint { envelope: c.to_string() }),
        }),
        None => None,
    };
    Ok(LoggedEntry {
        entry_id: entry_id.clone(),
        entry: TransparencyLogEntry {
            log_index,
            log_id: LogId { key_id: log_id },
            kind_version,
            integrated_time,
            inclusion_promise,
            inclusion_proof,
            canonicalized_body: body.into(),
        },
    })
}

fn read_json(resp: reqwest::blocking::Response, url: &str) -> Result<Value> {
    let answer = read(resp, url)?;
    answer.json().ok_or(Error::MalformedResponse("response is not JSON"))
}

/// The answer whole (capped), or [`Error::Rejected`] with its message for a non-2xx.
fn read(resp: reqwest::blocking::Response, url: &str) -> Result<crate::http::Answer> {
    let answer = crate::http::Answer::read(resp, url, crate::http::MAX_RESPONSE_BYTES)
        .map_err(Error::Read)?;
    if !answer.is_success() {
        return Err(Error::Rejected { status: answer.status, message: answer.error_message() });
    }
    Ok(answer)
}

fn transport(url: &str) -> impl FnOnce(reqwest::Error) -> Error + '_ {
    move |source| Error::Transport { url: url.to_string(), source }
}

fn bad(field: &'static str) -> Error {
    Error::MalformedResponse(field)
}

fn hex_field(v: &Value, pointer: &'static str) -> Result<Base64Bytes> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .and_then(hex_decode)
        .map(Base64Bytes::from)
        .ok_or(bad(pointer))
}

fn int_field(v: &Value, pointer: &'static str) -> Result<i64> {
    v.pointer(pointer).and_then(Value::as_i64).ok_or(bad(pointer))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::crypto::{EcdsaP256Signer, Signer};
    use crate::rekor::{Log, LogVersion};
    use crate::store::LogStore;
    use crate::tlog::{self, NoteVerifier};

    /// A real v1 server on 127.0.0.1 (own runtime thread); returns its URL and log key.
    fn start_server() -> (String, Arc<dyn Signer>, tempfile::TempDir) {
        start(LogVersion::V1, Arc::new(EcdsaP256Signer::generate()))
    }

    fn start(
        version: LogVersion,
        key: Arc<dyn Signer>,
    ) -> (String, Arc<dyn Signer>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let log_key = key.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let name = match version {
                    LogVersion::V1 => addr.to_string(),
                    LogVersion::V2 => addr.ip().to_string(),
                };
                let clock = Arc::new(|| 1_700_000_000);
                let log = Log::open_version(store, log_key, &name, version, clock).unwrap();
                log.seed_genesis().await.unwrap();
                tx.send(format!("http://{addr}")).unwrap();
                crate::rekor::serve(listener, log, Default::default(), std::future::pending())
                    .await
                    .unwrap();
            });
        });
        (rx.recv().unwrap(), key, dir)
    }

    #[test]
    fn created_entry_converts_to_a_verifiable_bundle_entry_and_409_refetches() {
        let (url, log_key, _dir) = start_server();
        let client =
            Client::new(crate::http::blocking_client(Duration::from_secs(30)).unwrap(), &url);
        let signer = EcdsaP256Signer::generate();
        let digest = crate::crypto::digest(HashAlgorithm::Sha256, b"artifact");
        let sig = signer.sign_prehashed(digest.as_bytes()).unwrap();
        let proposal = hashedrekord_proposal(&digest, &sig, &signer.public_key().to_pem());
        let logged = client.create_entry(&proposal).unwrap();
        let e = &logged.entry;
        assert_eq!(e.log_index, 1);
        assert_eq!(
            e.kind_version,
            KindVersion { kind: "hashedrekord".into(), version: "0.0.1".into() }
        );
        assert_eq!(&e.log_id.key_id[..], &log_key.public_key().key_id()[..]);
        assert_eq!(e.integrated_time, 1_700_000_000);
        let proof = e.inclusion_proof.as_ref().unwrap();
        let hashes: Vec<tlog::Hash> =
            proof.hashes.iter().map(|h| h[..].try_into().unwrap()).collect();
        let root: tlog::Hash = proof.root_hash[..].try_into().unwrap();
        let leaf = tlog::hash_leaf(&e.canonicalized_body);
        tlog::verify_inclusion(
            proof.log_index as u64,
            proof.tree_size as u64,
            &leaf,
            &hashes,
            &root,
        )
        .unwrap();
        let name = url.trim_start_matches("http://");
        let v = NoteVerifier::ecdsa(name, log_key.public_key().clone()).unwrap();
        tlog::verify_checkpoint(&proof.checkpoint.as_ref().unwrap().envelope, &[v]).unwrap();
        let set = &e.inclusion_promise.as_ref().unwrap().signed_entry_timestamp;
        let payload = crate::rekor::set_payload(
            &b64_encode(&e.canonicalized_body[..]),
            e.integrated_time,
            &log_key.public_key().key_id(),
            e.log_index as u64,
        )
        .unwrap();
        let k = log_key.public_key();
        k.verify(k.default_scheme(), &payload, set).unwrap();

        // Submitting again gives the same entry through the 409 Location.
        let again = client.create_entry(&proposal).unwrap();
        assert_eq!(again.entry_id, logged.entry_id);
        assert_eq!(again.entry.canonicalized_body, e.canonicalized_body);
        // Search by digest finds it.
        let ids = client.search(&json!({"hash": format!("sha256:{}", digest.to_hex())})).unwrap();
        assert_eq!(ids, vec![logged.entry_id.clone()]);
        assert_eq!(client.public_key_pem().unwrap(), log_key.public_key().to_pem());
    }

    #[test]
    fn rejected_entry_quotes_the_server_message() {
        let (url, _key, _dir) = start_server();
        let client =
            Client::new(crate::http::blocking_client(Duration::from_secs(30)).unwrap(), &url);
        let signer = EcdsaP256Signer::generate();
        let digest = crate::crypto::digest(HashAlgorithm::Sha256, b"artifact");
        let proposal =
            hashedrekord_proposal(&digest, b"not a signature", &signer.public_key().to_pem());
        match client.create_entry(&proposal) {
            Err(Error::Rejected { status: 400, message }) => {
                assert!(message.contains("signature"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn map_with_two_entries_is_malformed() {
        let map = json!({"a": {}, "b": {}});
        assert!(matches!(log_entry_from_map(&map), Err(Error::MalformedResponse(_))));
    }

    #[test]
    fn v2_request_gets_a_bundle_entry_without_set() {
        let key: Arc<dyn Signer> = Arc::new(crate::crypto::Ed25519Signer::generate());
        let (url, log_key, _dir) = start(LogVersion::V2, key);
        let client =
            Client::new(crate::http::blocking_client(Duration::from_secs(30)).unwrap(), &url);
        let signer = EcdsaP256Signer::generate();
        let digest = crate::crypto::digest(HashAlgorithm::Sha256, b"v2");
        let sig = signer.sign_prehashed(digest.as_bytes()).unwrap();
        let request = hashedrekord_v2_request(
            digest.as_bytes(),
            &sig,
            signer.public_key().spki_der(),
            false,
            "PKIX_ECDSA_P256_SHA_256",
        );
        let e = client.create_entry_v2(&request).unwrap();
        assert_eq!(e.log_index, 0);
        assert!(e.inclusion_promise.is_none());
        assert_eq!(e.integrated_time, 0);
        let v = NoteVerifier::ed25519("127.0.0.1", log_key.public_key().clone()).unwrap();
        assert_eq!(&e.log_id.key_id[..], &v.log_id()[..]);
        let proof = e.inclusion_proof.as_ref().unwrap();
        tlog::verify_checkpoint(&proof.checkpoint.as_ref().unwrap().envelope, &[v]).unwrap();
        match client.create_entry_v2(&request) {
            Err(Error::Rejected { status: 409, .. }) => {}
            other => panic!("{other:?}"),
        }
    }
}
