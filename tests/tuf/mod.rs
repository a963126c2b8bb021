//! TUF end to end: sigbox's TUF client (`trust init` / `trust update`, `cosign initialize`)
//! against the real public-good repository history (fixtures/tuf, copied from
//! sigstore/root-signing) served over loopback HTTP by python's `http.server`, with the
//! clock pinned; then the personas using the cached trusted root with no flags.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::process::Process;
use crate::harness::{fixtures, Sandbox};

mod instance;
mod live;
mod rotation;

/// Before the fixture timestamp expires (2026-08-28T19:25:56Z).
const REFERENCE: &str = "2026-08-25T00:00:00Z";
const GITHUB_ID: &str =
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// A static file server on a free loopback port (python3's `http.server`), killed on drop.
pub struct StaticServer {
    _process: Process,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl StaticServer {
    /// Serves `dir`.
    pub fn start(dir: &Path) -> StaticServer {
        let mut command = Command::new("python3");
        command.args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory"]);
        command.arg(dir);
        if Command::new("python3").arg("--version").output().is_err() {
            panic!("python3 is missing: install the Debian package python3");
        }
        let mut process = Process::spawn(command, None);
        let lines = process.wait_for(|l| l.contains("Serving HTTP on"));
        let line = lines.last().cloned().unwrap_or_default();
        let port = line
            .split(" port ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        StaticServer { _process: process, url: format!("http://127.0.0.1:{port}") }
    }
}

/// Copies the public-good fixture repository into `sandbox/repo` (so a test can spoil it).
fn public_good_copy(sandbox: &Sandbox) -> PathBuf {
    let dest = sandbox.join("repo");
    copy_dir(&fixtures().join("tuf/public-good"), &dest);
    dest
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn init(sandbox: &Sandbox, url: &str, at: &str) -> crate::harness::Run {
    sandbox
        .sigbox()
        .env("XDG_CACHE_HOME", sandbox.join("cache"))
        .args(["trust", "init", "--mirror", url, "--public-good-root", "--reference-time", at])
        .run()
}

#[test]
fn the_public_good_history_walks_from_the_embedded_root_and_personas_use_it() {
    let sandbox = Sandbox::new();
    let server = StaticServer::start(&public_good_copy(&sandbox));
    init(&sandbox, &server.url, REFERENCE).code(0).stdout_has("root v15, timestamp v762");
    let cache = sandbox.join("cache");
    // Every persona now resolves the TUF-cached root with no flags.
    sandbox
        .sigbox()
        .env("XDG_CACHE_HOME", &cache)
        .args(["trust", "show"])
        .succeeds()
        .stdout_has(&format!("(TUF mirror {})", server.url))
        .stdout_has("https://log2025-1.rekor.sigstore.dev");
    let bundle = fixtures().join("bundle/valid/bundle_v3_github.whl.sigstore");
    sandbox
        .cosign()
        .env("XDG_CACHE_HOME", &cache)
        .arg("verify-blob")
        .arg("--bundle")
        .arg(&bundle)
        .args(["--certificate-identity", GITHUB_ID, "--certificate-oidc-issuer", GITHUB_ISSUER])
        .arg(fixtures().join("bundle/valid/bundle_v3_github.whl"))
        .succeeds();
    // A second refresh finds nothing new and still succeeds (cached snapshot and targets).
    sandbox
        .sigbox()
        .env("XDG_CACHE_HOME", &cache)
        .args(["trust", "update", "--mirror", &server.url, "--reference-time", REFERENCE])
        .succeeds()
        .stdout_has("root v15, timestamp v762");
}

#[test]
fn tampered_metadata_is_rejected_by_the_signature_threshold() {
    let sandbox = Sandbox::new();
    let repo = public_good_copy(&sandbox);
    let path = repo.join("timestamp.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"version\": 165", "\"version\": 166")).unwrap();
    let server = StaticServer::start(&repo);
    init(&sandbox, &server.url, REFERENCE)
        .code(1)
        .stderr_has("timestamp.json")
        .stderr_has("signature threshold check");
}

#[test]
fn a_rolled_back_timestamp_is_rejected() {
    let sandbox = Sandbox::new();
    let repo = public_good_copy(&sandbox);
    let server = StaticServer::start(&repo);
    init(&sandbox, &server.url, REFERENCE).code(0);
    std::fs::copy(fixtures().join("tuf/timestamp-761.json"), repo.join("timestamp.json")).unwrap();
    sandbox
        .sigbox()
        .env("XDG_CACHE_HOME", sandbox.join("cache"))
        .args(["trust", "update", "--mirror", &server.url, "--reference-time", REFERENCE])
        .run()
        .code(1)
        .stderr_has("rollback attack check")
        .stderr_has("timestamp v761 is older than trusted v762");
}

#[test]
fn an_expired_timestamp_is_rejected_as_a_freeze_attack() {
    let sandbox = Sandbox::new();
    let server = StaticServer::start(&public_good_copy(&sandbox));
    init(&sandbox, &server.url, "2026-09-01T00:00:00Z")
        .code(1)
        .stderr_has("freeze attack check (expiry): timestamp v762 expired");
}

#[test]
fn a_target_whose_hash_does_not_match_is_rejected() {
    let sandbox = Sandbox::new();
    let repo = public_good_copy(&sandbox);
    let target = repo.join(
        "targets/6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66.trusted_root.json",
    );
    let mut bytes = std::fs::read(&target).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(&target, bytes).unwrap();
    let server = StaticServer::start(&repo);
    init(&sandbox, &server.url, REFERENCE).code(1).stderr_has("hash check (TUF 5.7.3)");
}

#[test]
fn an_uninitialised_mirror_is_named() {
    let sandbox = Sandbox::new();
    sandbox
        .sigbox()
        .env("XDG_CACHE_HOME", sandbox.join("cache"))
        .env("SIGBOX_TUF_MIRROR", "http://127.0.0.1:9")
        .args(["trust", "show"])
        .run()
        .code(2)
        .stderr_has("sigbox trust update --mirror http://127.0.0.1:9");
}
