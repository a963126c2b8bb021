//! `make bench` (humbly part), side by side in one run:
//!
//! 1. 1,000 public-good bundles (`bundle_v3_github.whl`, P-384 CA chain, Rekor v1 SET +
//!    checkpoint) verified against a policy in ONE `humbly verify` call, against one
//!    `sigstore verify identity` call per bundle (sigstore-python from the clone's `.venv`),
//!    as a ratio. sigstore-python is slow per call, so `HUMBLY_BENCH_PY_CALLS` (default 20)
//!    calls are timed and scaled to 1,000; the printout says so.
//! 2. Bundles per second in one call on every core (`HUMBLY_BENCH_BUNDLES`, default 5,000,
//!    for a steady-state figure besides the 1,000-bundle call).
//! 3. Digests per second resolved through the log: a real `sigbox up` on 127.0.0.1 holds
//!    `HUMBLY_BENCH_DIGESTS` (default 1,000) key-signed hashedrekord entries; one `humbly
//!    verify` call gets only `sha256:` targets, so each is searched, fetched, rebuilt into a
//!    bundle and verified (SET, inclusion proof, checkpoint) with the log checked once.
//!
//! Figures are printed, not asserted. `SIGBOX_BIN` picks the binary (default: the one cargo
//! built for this bench, optimized).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sigbox::crypto::{digest, EcdsaP256Signer, HashAlgorithm, Signer};
use sigbox::rekor::client::{hashedrekord_proposal, Client};

const IDENTITY: &str =
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn main() {
    let root_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bin = std::env::var_os("SIGBOX_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_sigbox")));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let dir = tempfile::tempdir().expect("tempdir");
    let fixtures = root_dir.join("fixtures/humbly");
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        format!(
            "version: 1\ntrusted_roots:\n  public: {{embedded: public-good}}\nsigners:\n  \
             release: {{identity: \"{IDENTITY}\", issuer: \"{ISSUER}\"}}\ndefault:\n  \
             signers: [release]\n  require: [tlog]\n"
        ),
    )
    .expect("policy");

    println!("== humbly: 1,000 public-good bundles, one call ({cores} cores) ==");
    let batch = make_batch(dir.path(), "b1000", &fixtures, 1000);
    let humbly_secs = time_humbly(&bin, &policy, &[batch.to_str().expect("utf-8")], 1000, 3);
    println!(
        "humbly verify, 1,000 bundles in one call  {:>8.3} s  ({:>6.0} bundles/s)",
        humbly_secs,
        1000.0 / humbly_secs
    );

    let python = root_dir.join(".venv/bin/sigstore");
    if python.exists() {
        let calls: usize = env_or("HUMBLY_BENCH_PY_CALLS", 20);
        let trust = write_trust_config(dir.path());
        let artifact = batch.join("a0000.whl");
        let bundle = batch.join("a0000.whl.sigstore");
        let start = Instant::now();
        for _ in 0..calls {
            let out = Command::new(&python)
                .arg("--trust-config")
                .arg(&trust)
                .args(["verify", "identity", "--bundle"])
                .arg(&bundle)
                .args(["--cert-identity", IDENTITY, "--cert-oidc-issuer", ISSUER])
                .arg(&artifact)
                .output()
                .expect("sigstore-python runs");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        let per_call = start.elapsed().as_secs_f64() / calls as f64;
        let python_1000 = per_call * 1000.0;
        println!(
            "sigstore verify, 1,000 calls (est.)       {python_1000:>8.1} s  ({calls} calls timed: \
             {:.3} s each)",
            per_call
        );
        println!(
            "ratio: one humbly call is {:.0}x faster than 1,000 sigstore-python calls",
            python_1000 / humbly_secs
        );
    } else {
        println!("sigstore-python missing ({}): run `make tools`", python.display());
    }

    let many: usize = env_or("HUMBLY_BENCH_BUNDLES", 5000);
    let big = make_batch(dir.path(), "bmany", &fixtures, many);
    let secs = time_humbly(&bin, &policy, &[big.to_str().expect("utf-8")], many, 2);
    println!(
        "humbly verify, {many} bundles in one call   {secs:>8.3} s  ({:>6.0} bundles/s on {cores} \
         cores; target >= 3,500/s)",
        many as f64 / secs
    );

    println!("\n== humbly: digests resolved through a loopback log (sigbox up) ==");
    let digests: usize = env_or("HUMBLY_BENCH_DIGESTS", 1000);
    lookup_bench(&bin, dir.path(), digests);
}

/// `n` copies of the public-good wheel and its bundle in `dir/name`.
fn make_batch(dir: &Path, name: &str, fixtures: &Path, n: usize) -> PathBuf {
    let out = dir.join(name);
    std::fs::create_dir_all(&out).expect("batch dir");
    let artifact = std::fs::read(fixtures.join("bundle_v3_github.whl")).expect("artifact");
    let bundle = std::fs::read(fixtures.join("bundle_v3_github.whl.sigstore")).expect("bundle");
    for i in 0..n {
        std::fs::write(out.join(format!("a{i:04}.whl")), &artifact).expect("write");
        std::fs::write(out.join(format!("a{i:04}.whl.sigstore")), &bundle).expect("write");
    }
    out
}

/// Best of `runs` wall times of one `humbly verify` call that must pass `expect` targets.
/// Also prints the CPU time the call used (user + system, all threads), because on a shared
/// machine the wall time also measures the other processes.
fn time_humbly(bin: &Path, policy: &Path, targets: &[&str], expect: usize, runs: usize) -> f64 {
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    for _ in 0..runs {
        let cpu_before = children_cpu_seconds();
        let start = Instant::now();
        let out = Command::new(bin)
            .args(["humbly", "verify", "--json", "--policy"])
            .arg(policy)
            .args(targets)
            .env("XDG_STATE_HOME", policy.with_file_name("xdg"))
            .output()
            .expect("humbly runs");
        let secs = start.elapsed().as_secs_f64();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("humbly output: {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(
            doc["summary"]["passed"].as_u64(),
            Some(expect as u64),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        best = best.min(secs);
        best_cpu = best_cpu.min(children_cpu_seconds() - cpu_before);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    println!(
        "  (CPU {best_cpu:.2} s for {expect}: {:.3} ms each, so {:.0}/s if all {cores} cores were \
         free; load average now {})",
        best_cpu * 1e3 / expect as f64,
        expect as f64 * cores / best_cpu.max(1e-9),
        load_average()
    );
    best
}

/// CPU seconds (user + system) used by waited-for children: `cutime` + `cstime` of
/// /proc/self/stat (proc(5) fields 16 and 17, in clock ticks of 1/100 s on Linux).
fn children_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let fields: Vec<f64> = after.split_whitespace().map(|f| f.parse().unwrap_or(0.0)).collect();
    (fields.get(13).unwrap_or(&0.0) + fields.get(14).unwrap_or(&0.0)) / 100.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn lookup_bench(bin: &Path, dir: &Path, n: usize) {
    let data = dir.join("up");
    let mut child = Command::new(bin)
        .args(["up", "--data-dir"])
        .arg(&data)
        .args([
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
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sigbox up");
    let stdout = child.stdout.take().expect("stdout");
    let mut rekor_url = String::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("up output");
        if line.contains("log (Rekor)") {
            rekor_url = line.split_whitespace().last().unwrap_or_default().to_string();
        }
        if line.trim() == "ready" {
            break;
        }
    }
    // Key-signed entries, logged concurrently (the log commits in groups).
    let signer = EcdsaP256Signer::generate();
    let key_path = dir.join("release.pub");
    std::fs::write(&key_path, signer.public_key().to_pem()).expect("key");
    let http = sigbox::http::blocking_client(Duration::from_secs(30)).expect("http");
    let client = Client::new(http, &rekor_url);
    let proposals: Vec<(String, serde_json::Value)> = (0..n)
        .map(|i| {
            let d = digest(HashAlgorithm::Sha256, format!("artifact {i}").as_bytes());
            let sig = signer.sign_prehashed(d.as_bytes()).expect("sign");
            (
                format!("sha256:{}", d.to_hex()),
                hashedrekord_proposal(&d, &sig, &signer.public_key().to_pem()),
            )
        })
        .collect();
    let start = Instant::now();
    std::thread::scope(|s| {
        for chunk in proposals.chunks(n.div_ceil(32).max(1)) {
            let client = client.clone();
            s.spawn(move || {
                for (_, p) in chunk {
                    client.create_entry(p).expect("logged");
                }
            });
        }
    });
    eprintln!("(logged {n} entries in {:.1} s)", start.elapsed().as_secs_f64());
    let policy = dir.join("lookup.yaml");
    std::fs::write(
        &policy,
        format!(
            "version: 1\ntrusted_roots:\n  local: {{trust_config: \"{}\"}}\nsigners:\n  \
             release: {{public_key: \"{}\"}}\ndefault:\n  signers: [release]\n  require: [tlog]\n",
            data.join("trust_config.json").display(),
            key_path.display()
        ),
    )
    .expect("policy");
    let targets: Vec<&str> = proposals.iter().map(|(t, _)| t.as_str()).collect();
    let secs = time_humbly(bin, &policy, &targets, n, 2);
    println!(
        "humbly verify, {n} sha256: targets via the log  {secs:>8.3} s  ({:>6.0} digests/s; \
         target >= 300/s)",
        n as f64 / secs
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// sigstore-python takes trust as a ClientTrustConfig: the public-good root plus an empty
/// signing config is enough to verify (INTEROP.md).
fn write_trust_config(dir: &Path) -> PathBuf {
    let root: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(public_good_root()).expect("root"))
            .expect("json");
    let config = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": root,
        "signingConfig": {"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json"},
    });
    let out = dir.join("trust_config.json");
    std::fs::write(&out, config.to_string()).expect("write");
    out
}

fn public_good_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/trust/public_good/trusted_root.json")
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
