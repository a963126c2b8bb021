//! A `sigbox rekor-server` process on 127.0.0.1 for tests: started on a free port, ready when
//! it prints its address, killed on drop. Also a client that signs and submits entries.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use sigbox::crypto::{digest, EcdsaP256Signer, HashAlgorithm, PublicKey, Signer};
use sigbox::encoding::{b64_decode, b64_encode, hex_decode};
use sigbox::tlog::{self, Hash, NoteVerifier};

use crate::harness::process::Process;

/// A running server.
pub struct RekorServer {
    process: Process,
    /// `http://127.0.0.1:PORT` (`https://` with `--tls-cert`).
    pub url: String,
    /// `127.0.0.1:PORT`, the checkpoint key name.
    pub name: String,
}

impl RekorServer {
    /// Starts `sigbox rekor-server --listen 127.0.0.1:0 --data-dir DIR EXTRA...`.
    pub fn start(data_dir: &Path, extra: &[&str]) -> RekorServer {
        Self::start_on(data_dir, "127.0.0.1:0", extra)
    }

    /// Starts on a given address (restarts reuse the old port so the key name stays).
    pub fn start_on(data_dir: &Path, listen: &str, extra: &[&str]) -> RekorServer {
        Self::start_with_env(data_dir, listen, extra, &[])
    }

    /// Starts like [`RekorServer::start_on`] with extra environment variables (e.g.
    /// `SIGBOX_LOG=info` to read what the server logs).
    pub fn start_with_env(
        data_dir: &Path,
        listen: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> RekorServer {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sigbox"));
        command.arg("rekor-server").args(["--listen", listen, "--data-dir"]).arg(data_dir);
        command.args(extra);
        command.envs(env.iter().copied());
        let mut process = Process::spawn(command, None);
        let lines = process.wait_for(|line| line.starts_with("listening on "));
        let url = lines.last().and_then(|l| l.strip_prefix("listening on ")).unwrap_or_default();
        let url = url.trim().to_string();
        let name = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest).to_string();
        RekorServer { process, url, name }
    }

    /// Kills the process with SIGKILL (no shutdown path runs).
    pub fn kill_9(mut self) {
        self.process.kill();
    }

    /// Stops with SIGTERM and waits; true when it exited cleanly.
    pub fn stop(mut self) -> bool {
        self.process.terminate()
    }

    /// What the server logged on stderr so far.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// `url + path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The log's public key.
    pub fn public_key(&self, client: &reqwest::blocking::Client) -> PublicKey {
        let pem = client.get(self.at("/api/v1/log/publicKey")).send().unwrap().text().unwrap();
        PublicKey::from_pem(&pem).unwrap()
    }
}

/// A blocking HTTP client with a generous timeout.
pub fn client() -> reqwest::blocking::Client {
    sigbox::http::blocking_builder().timeout(Duration::from_secs(60)).build().unwrap()
}

/// A hashedrekord proposal for `artifact`, signed by `signer`.
pub fn hashedrekord(signer: &dyn Signer, artifact: &[u8]) -> Value {
    let d = digest(HashAlgorithm::Sha256, artifact);
    let sig = signer.sign_prehashed(d.as_bytes()).unwrap();
    json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": d.to_hex()}},
        "signature": {"content": b64_encode(sig),
                      "publicKey": {"content": b64_encode(signer.public_key().to_pem())}}}})
}

/// A fresh signer.
pub fn signer() -> EcdsaP256Signer {
    EcdsaP256Signer::generate()
}

fn hash_of(v: &Value) -> Hash {
    hex_decode(v.as_str().unwrap()).unwrap().try_into().unwrap()
}

/// Checks one `LogEntry` map completely: SET, leaf, inclusion proof, checkpoint (signed by
/// the log key under `name`, same size and root as the proof). Returns (entryID, logIndex).
pub fn check_entry(map: &Value, log_key: &PublicKey, name: &str) -> (String, u64) {
    let obj = map.as_object().expect("a LogEntry map");
    assert_eq!(obj.len(), 1, "one entry per map: {map}");
    let (entry_id, e) = obj.iter().next().unwrap();
    let body_b64 = e["body"].as_str().unwrap();
    let body = b64_decode(body_b64).unwrap();
    let leaf = tlog::hash_leaf(&body);
    assert_eq!(&entry_id[16..], hex::encode(leaf), "entry ID ends with the leaf hash");
    let log_index = e["logIndex"].as_u64().unwrap();
    let log_id: Hash = hex_decode(e["logID"].as_str().unwrap()).unwrap().try_into().unwrap();
    assert_eq!(log_id, log_key.key_id());
    // SET over the JCS payload.
    let payload = sigbox::rekor::set_payload(
        body_b64,
        e["integratedTime"].as_i64().unwrap(),
        &log_id,
        log_index,
    )
    .unwrap();
    let set = b64_decode(e["verification"]["signedEntryTimestamp"].as_str().unwrap()).unwrap();
    log_key.verify(log_key.default_scheme(), &payload, &set).expect("SET verifies");
    // Inclusion proof and checkpoint.
    let p = &e["verification"]["inclusionProof"];
    let hashes: Vec<Hash> = p["hashes"].as_array().unwrap().iter().map(hash_of).collect();
    let size = p["treeSize"].as_u64().unwrap();
    let root = hash_of(&p["rootHash"]);
    assert_eq!(p["logIndex"].as_u64().unwrap(), log_index);
    tlog::verify_inclusion(log_index, size, &leaf, &hashes, &root).expect("inclusion proof");
    let verifier = NoteVerifier::ecdsa(name, log_key.clone()).unwrap();
    let cp = tlog::verify_checkpoint(p["checkpoint"].as_str().unwrap(), &[verifier])
        .expect("checkpoint verifies");
    assert_eq!(cp.checkpoint().size, size);
    assert_eq!(cp.checkpoint().root_hash, root);
    (entry_id.clone(), log_index)
}
