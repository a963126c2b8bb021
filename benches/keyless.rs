//! `make bench` (keyless signing): whole-process `cosign sign-blob` (keyless) against a real
//! `sigbox up`, beside sigstore-python's `sign` against the same instance (target: sigbox
//! ≤ 50 ms). Both get a fresh token from the instance's test issuer for each run, sigbox
//! through its own login (the device flow), sigstore-python through `--identity-token`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bin = std::env::var_os("SIGBOX_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/x86_64-unknown-linux-gnu/release/sigbox"));
    if !bin.exists() {
        println!("release binary missing: run `make release`");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut up = Command::new(&bin)
        .args(["up", "--fulcio-port", "0", "--rekor-port", "0", "--oidc-port", "0", "--data-dir"])
        .arg(dir.path().join("state"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("sigbox up");
    let mut oidc = String::new();
    let mut reader = BufReader::new(up.stdout.take().expect("stdout"));
    let mut line = String::new();
    while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
        if line.trim_start().starts_with("OIDC issuer") {
            oidc = line.split_whitespace().last().unwrap_or_default().to_string();
        }
        if line.trim() == "ready" {
            break;
        }
        line.clear();
    }
    let trust = dir.path().join("state/trust_config.json");
    std::fs::write(dir.path().join("artifact.bin"), vec![3u8; 1 << 20]).expect("artifact");

    println!("== keyless sign-blob, whole process, against sigbox up (1 MiB artifact) ==");
    let sigbox_ms = time("sigbox cosign sign-blob (keyless)", 20, || {
        let out = Command::new(&bin)
            .args(["cosign", "sign-blob", "--bundle", "b.json", "artifact.bin"])
            .env("SIGBOX_TRUST_CONFIG", &trust)
            .current_dir(dir.path())
            .output()
            .expect("sign-blob");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    });
    let python = root.join(".venv/bin/sigstore");
    if python.exists() {
        let python_ms = time("sigstore-python sign", 5, || {
            let token = token(&bin, &oidc);
            let out = Command::new(&python)
                .arg("--trust-config")
                .arg(&trust)
                .args([
                    "sign",
                    "--overwrite",
                    "--identity-token",
                    &token,
                    "--bundle",
                    "p.json",
                    "artifact.bin",
                ])
                .current_dir(dir.path())
                .output()
                .expect("sigstore-python sign");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        });
        println!(
            "sigbox is {:.0}x faster than sigstore-python (target: sigbox <= 50 ms)",
            python_ms / sigbox_ms
        );
    } else {
        println!("sigstore-python missing: run `make tools`");
    }
    let _ = up.kill();
    let _ = up.wait();
}

fn token(bin: &Path, issuer: &str) -> String {
    let out = Command::new(bin)
        .args(["token", "--issuer", issuer, "--email", "bench@example.com"])
        .output()
        .expect("token");
    String::from_utf8(out.stdout).expect("utf-8").trim().to_string()
}

fn time(label: &str, runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut samples: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    println!("{label:<40} median {median:>8.2} ms   min {:>8.2} ms   ({runs} runs)", samples[0]);
    median
}
