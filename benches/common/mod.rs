//! What the whole-process benches share: the release binary they time, and a `sigbox up`
//! instance on free loopback ports.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The binary to time: `SIGBOX_BIN`, else the static build `make release` makes. `None`
/// (after saying so) when it is missing.
pub fn release_bin() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bin = std::env::var_os("SIGBOX_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/x86_64-unknown-linux-gnu/release/sigbox"));
    if bin.exists() {
        Some(bin)
    } else {
        println!("release binary missing: run `make release`");
        None
    }
}

/// A running `sigbox up` (killed on drop) and its test issuer's URL.
pub struct Up {
    child: Child,
    /// The OIDC issuer URL.
    pub oidc: String,
    /// The Rekor (v1) URL.
    pub rekor: String,
    /// The CA (Fulcio) URL.
    pub fulcio: String,
}

impl Up {
    /// Starts `sigbox up` with its state in `state`, on free ports, and waits for `ready`.
    pub fn start(bin: &Path, state: &Path) -> Up {
        let mut child = Command::new(bin)
            .args([
                "up",
                "--fulcio-port",
                "0",
                "--rekor-port",
                "0",
                "--oidc-port",
                "0",
                "--rekor-v2-port",
                "0",
                "--tsa-port",
                "0",
                "--tuf-port",
                "0",
            ])
            .arg("--data-dir")
            .arg(state)
            .stdout(Stdio::piped())
            .spawn()
            .expect("sigbox up");
        let mut oidc = String::new();
        let mut rekor = String::new();
        let mut fulcio = String::new();
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            if line.trim_start().starts_with("OIDC issuer") {
                oidc = line.split_whitespace().last().unwrap_or_default().to_string();
            }
            if line.trim_start().starts_with("CA (Fulcio) ") {
                fulcio = line.split_whitespace().last().unwrap_or_default().to_string();
            }
            if line.trim_start().starts_with("log (Rekor) ") {
                rekor = line.split_whitespace().last().unwrap_or_default().to_string();
            }
            if line.trim() == "ready" {
                break;
            }
            line.clear();
        }
        Up { child, oidc, rekor, fulcio }
    }

    /// The instance's process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A hashedrekord proposal for artifact `i`, signed by `signer`.
pub fn proposal(signer: &sigbox::crypto::EcdsaP256Signer, i: usize) -> serde_json::Value {
    use sigbox::crypto::{digest, HashAlgorithm, Signer};
    use sigbox::encoding::b64_encode;
    let d = digest(HashAlgorithm::Sha256, format!("bench artifact {i}").as_bytes());
    let sig = signer.sign_prehashed(d.as_bytes()).expect("signs");
    serde_json::json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": d.to_hex()}},
        "signature": {"content": b64_encode(sig),
                      "publicKey": {"content": b64_encode(signer.public_key().to_pem())}}}})
}

/// Entries for filling a big store by direct commits: the hashedrekord `template` again and
/// again with another artifact digest each (a distinct, realistic body per entry).
pub struct Synthetic {
    entry: sigbox::rekor::CanonicalEntry,
    body: String,
    digest_hex: String,
}

impl Synthetic {
    /// From a proposed entry (e.g. [`proposal`]).
    pub fn new(template: &serde_json::Value) -> Synthetic {
        let entry = sigbox::rekor::canonicalize_proposed(template).expect("a valid proposal");
        let body = String::from_utf8(entry.body.clone()).expect("UTF-8 body");
        let digest_hex = entry
            .search_keys
            .iter()
            .find_map(|k| k.strip_prefix("sha256:"))
            .expect("a digest key")
            .to_string();
        Synthetic { entry, body, digest_hex }
    }

    /// The commit of entries `range.size()..end` (appended to `range`), and their raw body
    /// bytes. The checkpoint is a placeholder: nothing verifies it.
    pub fn commit(
        &self,
        range: &mut sigbox::tlog::CompactRange,
        end: u64,
    ) -> (sigbox::store::Commit, u64) {
        use sigbox::crypto::{digest, HashAlgorithm};
        use sigbox::encoding::b64_encode;
        let set = [0x30u8; 71];
        let mut commit = sigbox::store::Commit::default();
        let mut raw = 0u64;
        for i in range.size()..end {
            let d = digest(HashAlgorithm::Sha256, &i.to_be_bytes()).to_hex();
            let body = self.body.replace(&self.digest_hex, &d);
            raw += body.len() as u64;
            let leaf = sigbox::tlog::hash_leaf(body.as_bytes());
            range.append(leaf, |id, h| commit.nodes.push((id, *h))).expect("append");
            let record = sigbox::rekor::Record {
                body: b64_encode(body.as_bytes()),
                integrated_time: 1_700_000_000,
                log_index: i,
                set: b64_encode(set),
            };
            let mut keys = self.entry.search_keys.clone();
            keys.retain(|k| !k.starts_with("sha256:"));
            keys.push(format!("sha256:{d}"));
            commit.entries.push(sigbox::store::CommittedEntry {
                index: i,
                leaf_hash: leaf,
                record: record.to_bytes().expect("record"),
                search_keys: keys,
            });
        }
        commit.checkpoint = format!("bench\n{}\n", range.size());
        (commit, raw)
    }
}
