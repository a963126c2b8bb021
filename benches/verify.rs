//! `make bench` (verifier part), measured side by side in one run on the same public-good
//! bundle (`bundle_v3_github.whl`, P-384 CA chain, Rekor v1 SET + checkpoint):
//!
//! * whole-process offline verification: the sigbox release binary vs sigstore-python
//!   (`sigstore --trust-config … verify identity`, from the clone's `.venv`);
//! * in-process verifications per second on one core (parse + every check).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sigbox::bundle::{wire, Checked};
use sigbox::policy::{Matcher, Policy};
use sigbox::trust::TrustedRoot;
use sigbox::verify::{verify, Artifact, Options};

const IDENTITY: &str =
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const INTEGRATED_TIME: i64 = 1_710_888_076;

fn main() {
    let root_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let fixtures = root_dir.join("fixtures/bundle/valid");
    let bundle_path = fixtures.join("bundle_v3_github.whl.sigstore");
    let artifact_path = fixtures.join("bundle_v3_github.whl");
    let trust_path = root_dir.join("fixtures/trust/trusted_root.json");
    let bundle_bytes = std::fs::read(&bundle_path).expect("bundle fixture");
    let artifact = std::fs::read(&artifact_path).expect("artifact fixture");
    let root = TrustedRoot::from_json(&std::fs::read(&trust_path).expect("root")).expect("root");
    let policy =
        Policy::any().with_identity(Matcher::exact(IDENTITY)).with_issuer(Matcher::exact(ISSUER));
    let options = Options::new(INTEGRATED_TIME + 3600);

    println!("== in-process verification (1 core, {}) ==", bundle_path.display());
    let once = || {
        let wire = wire::Bundle::from_json(&bundle_bytes).expect("parses");
        let checked = Checked::try_from(wire).expect("checks");
        let verdict = verify(&checked, &Artifact::Bytes(&artifact), &root, &policy, &options);
        std::hint::black_box(verdict.expect("verifies"));
    };
    for _ in 0..50 {
        once();
    }
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed().as_secs_f64() < 3.0 {
        for _ in 0..20 {
            once();
        }
        n += 20;
    }
    let per_sec = f64::from(n) / start.elapsed().as_secs_f64();
    println!(
        "public-good bundle verifications      {per_sec:>9.0} /s   ({:.3} ms each; target >= 3,000/s)",
        1e3 / per_sec
    );

    println!("\n== whole process, offline, same bundle ==");
    let bin = std::env::var_os("SIGBOX_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root_dir.join("target/x86_64-unknown-linux-gnu/release/sigbox"));
    let dir = tempfile::tempdir().expect("tempdir");
    let trust_config = write_trust_config(dir.path(), &trust_path);
    let sigbox_args = [
        "cosign",
        "verify-blob",
        "--bundle",
        path(&bundle_path),
        "--trusted-root",
        path(&trust_path),
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
        path(&artifact_path),
    ];
    let sigbox_ms = if bin.exists() {
        Some(time_command("sigbox cosign verify-blob", &bin, &sigbox_args, 30))
    } else {
        println!("sigbox release binary missing: run `make release`");
        None
    };
    let python = root_dir.join(".venv/bin/sigstore");
    let python_args = [
        "--trust-config",
        path(&trust_config),
        "verify",
        "identity",
        "--bundle",
        path(&bundle_path),
        "--cert-identity",
        IDENTITY,
        "--cert-oidc-issuer",
        ISSUER,
        path(&artifact_path),
    ];
    let python_ms = if python.exists() {
        Some(time_command("sigstore-python verify identity", &python, &python_args, 5))
    } else {
        println!("sigstore-python missing: run `make tools`");
        None
    };
    if let (Some(s), Some(p)) = (sigbox_ms, python_ms) {
        println!(
            "sigbox is {:.0}x faster than sigstore-python whole-process (target >= 50x)",
            p / s
        );
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 paths")
}

/// sigstore-python takes trust only as a ClientTrustConfig: the same trusted root plus an
/// empty signing config, which is enough for verification (INTEROP.md).
fn write_trust_config(dir: &Path, trusted_root: &Path) -> PathBuf {
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(trusted_root).expect("root")).expect("json");
    let config = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": root,
        "signingConfig": {"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json"},
    });
    let out = dir.join("trust_config.json");
    std::fs::write(&out, config.to_string()).expect("write");
    out
}

/// Runs the command `runs` times (after one warm-up) and prints median and min wall time.
fn time_command(label: &str, program: &Path, args: &[&str], runs: usize) -> f64 {
    let run = || {
        let out = Command::new(program).args(args).output().expect("runs");
        assert!(
            out.status.success(),
            "{label} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run();
    let mut samples: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    println!("{label:<38} median {median:>8.2} ms   min {:>8.2} ms   ({runs} runs)", samples[0]);
    median
}
