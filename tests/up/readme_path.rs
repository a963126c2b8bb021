//! A new user's path, exactly as README.md tells it: `make up` in one shell; in another,
//! `cosign sign-blob` through the symlink `make up` installed, then `cosign verify-blob`.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::harness::Sandbox;

#[test]
fn readme_quick_start_make_up_then_cosign_sign_and_verify() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    // The commands this test runs are the ones README gives.
    for line in [
        "make up",
        "cosign sign-blob --bundle file.txt.sigstore.json file.txt",
        "--certificate-identity test-user@sigbox.local",
        "--certificate-oidc-issuer http://127.0.0.1:3002 file.txt",
    ] {
        assert!(readme.contains(line), "README no longer says {line:?}");
    }
    let sb = Sandbox::new();
    let state = sb.join("state");
    // Shell 1: make up (its own process group, so the whole tree stops at the end).
    let mut make = Command::new("make")
        .arg("up")
        .arg(format!("UP_DATA={}", state.display()))
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .expect("make up");
    let mut out = BufReader::new(make.stdout.take().expect("stdout"));
    let mut line = String::new();
    loop {
        line.clear();
        assert!(out.read_line(&mut line).expect("reading make up") > 0, "make up ended early");
        if line.trim() == "ready" {
            break;
        }
    }
    // Shell 2: README's commands.
    let path =
        format!("{}:{}", root.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let trust = state.join("trust_config.json");
    sb.write("file.txt", "hello\n");
    let run = |args: &[&str]| {
        Command::new("cosign")
            .args(args)
            .env("PATH", &path)
            .env("SIGBOX_TRUST_CONFIG", &trust)
            .current_dir(sb.path())
            .output()
            .expect("cosign from bin/")
    };
    let signed = run(&["sign-blob", "--bundle", "file.txt.sigstore.json", "file.txt"]);
    let verified = run(&[
        "verify-blob",
        "--trusted-root",
        trust.to_str().expect("utf-8"),
        "--bundle",
        "file.txt.sigstore.json",
        "--certificate-identity",
        "test-user@sigbox.local",
        "--certificate-oidc-issuer",
        "http://127.0.0.1:3002",
        "file.txt",
    ]);
    let pgid = make.id().to_string();
    let _ = Command::new("kill").args(["-s", "TERM", "--", &format!("-{pgid}")]).status();
    let _ = make.wait();
    assert!(signed.status.success(), "sign-blob: {}", String::from_utf8_lossy(&signed.stderr));
    assert!(
        verified.status.success(),
        "verify-blob: {}",
        String::from_utf8_lossy(&verified.stderr)
    );
}
