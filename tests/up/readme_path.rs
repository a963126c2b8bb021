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
        "export PATH=\"$PWD/bin:$PATH\"",
        "sigbox token --issuer http://127.0.0.1:3002 --email you@example.com",
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
    // Shell 2: README's commands, with nothing on PATH but the bin/ that `make up` filled
    // (so every command README names there must be one of its links).
    let path = root.join("bin").display().to_string();
    let trust = state.join("trust_config.json");
    sb.write("file.txt", "hello\n");
    let run_as = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .env("PATH", &path)
            .env("SIGBOX_TRUST_CONFIG", &trust)
            .current_dir(sb.path())
            .output()
            .unwrap_or_else(|e| panic!("{program} from bin/ only: {e}"))
    };
    let run = |args: &[&str]| run_as("cosign", args);
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
    let token = run_as(
        "sigbox",
        &["token", "--issuer", "http://127.0.0.1:3002", "--email", "you@example.com"],
    );
    let pgid = make.id().to_string();
    let _ = Command::new("kill").args(["-s", "TERM", "--", &format!("-{pgid}")]).status();
    let _ = make.wait();
    assert!(token.status.success(), "sigbox token: {}", String::from_utf8_lossy(&token.stderr));
    assert_eq!(String::from_utf8_lossy(&token.stdout).trim().split('.').count(), 3, "not a JWT");
    assert!(signed.status.success(), "sign-blob: {}", String::from_utf8_lossy(&signed.stderr));
    assert!(
        verified.status.success(),
        "verify-blob: {}",
        String::from_utf8_lossy(&verified.stderr)
    );
}
