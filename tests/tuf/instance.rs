//! The TUF repository of `sigbox up`, judged by independent clients: sigstore-python
//! (`--instance URL trust-instance ROOT`, then sign and verify with no trust config) and
//! python-tuf's `ngclient.Updater`; and sigbox's client against a repository written by
//! python-tuf's metadata API. Root rotation with an offline key through `sigbox tuf`.

use std::path::Path;
use std::process::Command;

use super::StaticServer;
use crate::harness::{fixtures, Cmd, Sandbox};
use crate::up::instance::{sigstore_python, Up};

fn python() -> std::path::PathBuf {
    let bin = sigstore_python().with_file_name("python");
    assert!(bin.exists(), "{} is missing: run `make tools` (make test does)", bin.display());
    bin
}

fn script(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tuf").join(name)
}

/// sigstore-python with its data and cache dirs inside the sandbox.
fn sigstore(sb: &Sandbox) -> Cmd {
    Cmd::new(sigstore_python())
        .cwd(sb.path())
        .env("HOME", sb.join("home"))
        .env("XDG_DATA_HOME", sb.join("home/data"))
        .env("XDG_CACHE_HOME", sb.join("home/cache"))
}

/// sigbox with its TUF cache inside the sandbox and no trust config.
fn sigbox(sb: &Sandbox) -> Cmd {
    sb.sigbox().env("XDG_CACHE_HOME", sb.join("cache"))
}

#[test]
fn sigstore_python_trusts_sigbox_up_through_tuf_then_signs_and_verifies() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("up"));
    assert!(up.tuf_url.starts_with("http://127.0.0.1:"), "TUF URL printed: {:?}", up.tuf_url);
    let root = up.data_dir.join("tuf/repo/root.json");
    sigstore(&sb).arg("--instance").arg(&up.tuf_url).arg("trust-instance").arg(&root).succeeds();
    sb.write("a.txt", "released through TUF\n");
    let token = up.token("tuf@example.com");
    sigstore(&sb)
        .args(["--instance", &up.tuf_url, "sign", "--identity-token", &token, "a.txt"])
        .succeeds();
    sigstore(&sb)
        .args(["--instance", &up.tuf_url, "verify", "identity", "--cert-identity"])
        .args(["tuf@example.com", "--cert-oidc-issuer", &up.oidc_url, "a.txt"])
        .succeeds()
        .stderr_has("OK: a.txt");

    // sigbox's own client: one command on "another machine", then no flags anywhere.
    sigbox(&sb)
        .args(["trust", "init", "--mirror", &up.tuf_url, "--root"])
        .arg(&root)
        .succeeds()
        .stdout_has("root v1");
    sigbox(&sb)
        .args(["verify", "--bundle", "a.txt.sigstore.json", "--identity", "tuf@example.com"])
        .args(["--issuer", &up.oidc_url, "a.txt"])
        .succeeds();
    sb.write("b.txt", "signed by sigbox with the TUF-cached signing config\n");
    sigbox(&sb)
        .args(["cosign", "sign-blob", "--identity-token", &token, "--bundle", "b.sigstore.json"])
        .arg("b.txt")
        .succeeds();
    sigstore(&sb)
        .args(["--instance", &up.tuf_url, "verify", "identity", "--bundle", "b.sigstore.json"])
        .args(["--cert-identity", "tuf@example.com", "--cert-oidc-issuer", &up.oidc_url, "b.txt"])
        .succeeds();
}

#[test]
fn python_tuf_ngclient_refreshes_sigbox_repository_and_downloads_both_targets() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("up"));
    let root = up.data_dir.join("tuf/repo/root.json");
    let run = Cmd::new(python())
        .arg(script("ngclient.py"))
        .arg(&up.tuf_url)
        .arg(&root)
        .arg(sb.join("ng"))
        .succeeds();
    let out = run.stdout();
    assert!(out.contains("downloaded trusted_root.json"), "{out}");
    assert!(out.contains("downloaded signing_config.v0.2.json"), "{out}");
    let served = std::fs::read(sb.join("ng/targets/trusted_root.json")).unwrap();
    assert_eq!(served, std::fs::read(up.data_dir.join("trusted_root.json")).unwrap());

    // Root rotation with an offline key: v2 needs the old key and the new one.
    sigbox(&sb).args(["tuf", "new-key", "--out"]).arg(sb.join("offline.pem")).succeeds();
    let online = up.data_dir.join("tuf/keys/root.pem");
    sigbox(&sb)
        .args(["tuf", "sign-root", "--data-dir"])
        .arg(&up.data_dir)
        .arg("--key")
        .arg(sb.join("offline.pem"))
        .arg("--add-root-key")
        .arg(sb.join("offline.pem"))
        .args(["--threshold", "2"])
        .run()
        .code(1)
        .stderr_has("signature threshold check");
    sigbox(&sb)
        .args(["tuf", "sign-root", "--data-dir"])
        .arg(&up.data_dir)
        .arg("--key")
        .arg(&online)
        .arg("--key")
        .arg(sb.join("offline.pem"))
        .arg("--add-root-key")
        .arg(sb.join("offline.pem"))
        .args(["--threshold", "2"])
        .succeeds()
        .stdout_has("published root v2");
    // python-tuf (starting from its cached root v1) follows to root v2.
    let run = Cmd::new(python())
        .arg(script("ngclient.py"))
        .arg(&up.tuf_url)
        .arg(&root)
        .arg(sb.join("ng"))
        .succeeds();
    assert!(run.stdout().contains("root 2"), "{}", run.stdout());
}

#[test]
fn sigbox_refreshes_a_repository_written_by_python_tuf() {
    let sb = Sandbox::new();
    let repo = sb.join("pyrepo");
    let public_good = fixtures().join("tuf/public-good/targets");
    let target = |suffix: &str| {
        std::fs::read_dir(&public_good)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(suffix))
            .unwrap()
    };
    let status = Command::new(python())
        .arg(script("python_repo.py"))
        .arg(&repo)
        .arg(target(".trusted_root.json"))
        .arg(target(".signing_config.v0.2.json"))
        .status()
        .expect("running python_repo.py");
    assert!(status.success());
    let server = StaticServer::start(&repo);
    // cosign's spelling of `sigbox trust init`.
    sigbox(&sb)
        .args(["cosign", "initialize", "--mirror", &server.url, "--root"])
        .arg(repo.join("1.root.json"))
        .succeeds()
        .stdout_has("root v1, timestamp v1");
    // With no mirror, `trust update` refreshes every mirror set up, and public good (a
    // failure there, e.g. offline, only warns: the embedded trusted root stays in use).
    sigbox(&sb).args(["trust", "update"]).succeeds().stdout_has(&server.url);
    sigbox(&sb)
        .args(["trust", "show"])
        .succeeds()
        .stdout_has(&format!("(TUF mirror {})", server.url))
        .stdout_has("https://rekor.sigstore.dev");
    // The same bytes the python repository lists, or the client refuses them.
    let cached = sb.path().join("cache/sigbox/tuf");
    let found = walk(&cached).into_iter().any(|p| p.ends_with("targets/trusted_root.json"));
    assert!(found, "no cached trusted root under {}", cached.display());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
