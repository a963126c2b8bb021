//! `make soak` (not part of `make test`): SOAK_SECONDS (default 600) of mixed load on one
//! `sigbox up` — keyless signing and verification through whole `cosign` processes (device
//! flow login against the instance's issuer, as a user would) and log searches and entry
//! reads over HTTP — while the instance's resident memory is sampled every 10 s. After the
//! warm-up memory must stay flat: the figures are printed, and the run fails if the RSS at
//! the end exceeds the RSS after warm-up by more than 10 % plus 8 MiB (the logs' in-memory
//! lookup indexes grow with their entries, ~24 bytes per leaf and per search key).
//!
//! Warm-up is two phases. First SOAK_PREFILL (default 60,000) certificates and as many log
//! entries are written through the CA's and the log's APIs, because sled keeps recently
//! written pages until its page cache is full and a store reaches that plateau only after
//! tens of thousands of entries (measured on one store of 1.6 KB records: RSS +23 MiB over
//! the first ~45,000 entries, then ~70 bytes per entry); whole `cosign` processes sign 30 to
//! 100 artifacts a second, so a warm-up by time alone mistook the cache filling for a leak.
//! Then the first sixth of the timed run.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[derive(Default)]
struct Counts {
    signed: AtomicU64,
    verified: AtomicU64,
    searched: AtomicU64,
    failed: AtomicU64,
}

fn cosign(bin: &Path, dir: &Path, trust: &Path, args: &[&str]) -> bool {
    Command::new(bin)
        .arg("cosign")
        .args(args)
        .env("SIGBOX_TRUST_CONFIG", trust)
        .current_dir(dir)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Writes `n` certificates (each one CT log entry) and `n` hashedrekord entries to the
/// instance over HTTP, eight clients each; panics (failing the bench) on any refusal.
fn prefill(up: &common::Up, n: usize) {
    const CLIENTS: usize = 8;
    let http =
        sigbox::http::blocking_builder().timeout(Duration::from_secs(60)).build().expect("client");
    let token: serde_json::Value = http
        .post(format!("{}/token", up.oidc))
        .form(&[("grant_type", "client_credentials"), ("email", "test-user@sigbox.local")])
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.json())
        .expect("a token from the instance's issuer");
    let token = token["id_token"].as_str().expect("id_token").to_string();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|t| {
            let (http, token) = (http.clone(), token.clone());
            let (fulcio, rekor) = (up.fulcio.clone(), up.rekor.clone());
            std::thread::spawn(move || {
                use sigbox::crypto::Signer;
                let key = sigbox::crypto::EcdsaP256Signer::generate();
                let proof = key.sign(b"test-user@sigbox.local").expect("signs");
                let request = serde_json::json!({
                    "credentials": {"oidcIdentityToken": token},
                    "publicKeyRequest": {
                        "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem()},
                        "proofOfPossession": sigbox::encoding::b64_encode(proof),
                    }
                });
                for i in (t..n).step_by(CLIENTS) {
                    let cert = http
                        .post(format!("{fulcio}/api/v2/signingCert"))
                        .json(&request)
                        .send()
                        .map(|r| r.status());
                    assert!(
                        cert.as_ref().is_ok_and(|s| s.is_success()),
                        "prefill certificate: {cert:?}"
                    );
                    let entry = http
                        .post(format!("{rekor}/api/v1/log/entries"))
                        .json(&common::proposal(&key, i))
                        .send()
                        .map(|r| r.status());
                    assert!(
                        entry.as_ref().is_ok_and(|s| s.as_u16() == 201),
                        "prefill entry: {entry:?}"
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("prefill client");
    }
}

fn main() -> std::process::ExitCode {
    let Some(bin) = common::release_bin() else { return std::process::ExitCode::SUCCESS };
    let seconds: u64 =
        std::env::var("SOAK_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(600);
    let dir = tempfile::tempdir().expect("tempdir");
    let up = common::Up::start(&bin, &dir.path().join("state"));
    let trust = dir.path().join("state/trust_config.json");
    let pid = up.pid();
    let prefill_n: usize =
        std::env::var("SOAK_PREFILL").ok().and_then(|v| v.parse().ok()).unwrap_or(60_000);
    let before = rss_kib(pid);
    let filled = Instant::now();
    prefill(&up, prefill_n);
    println!(
        "soak: prefilled {prefill_n} certificates and {prefill_n} log entries in {:.0} s; \
         RSS {:.1} → {:.1} MiB",
        filled.elapsed().as_secs_f64(),
        before as f64 / 1024.0,
        rss_kib(pid) as f64 / 1024.0
    );
    let issuer = up.oidc.clone();
    let rekor = up.rekor.clone();
    println!(
        "== soak: {seconds} s of mixed sign / verify / search load on sigbox up (pid {pid}) =="
    );
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(Counts::default());
    let digests: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut workers = Vec::new();
    for w in 0..2 {
        let (bin, trust, issuer) = (bin.clone(), trust.clone(), issuer.clone());
        let (stop, counts, digests) = (stop.clone(), counts.clone(), digests.clone());
        let work = dir.path().join(format!("signer-{w}"));
        std::fs::create_dir_all(&work).expect("work dir");
        workers.push(std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let content = format!("soak artifact {w} {i}\n");
                std::fs::write(work.join("a.txt"), &content).expect("artifact");
                let ok = cosign(&bin, &work, &trust, &["sign-blob", "--bundle", "a.json", "a.txt"]);
                if !ok {
                    counts.failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                counts.signed.fetch_add(1, Ordering::Relaxed);
                let ok = cosign(
                    &bin,
                    &work,
                    &trust,
                    &[
                        "verify-blob",
                        "--bundle",
                        "a.json",
                        "--certificate-identity",
                        "test-user@sigbox.local",
                        "--certificate-oidc-issuer",
                        &issuer,
                        "a.txt",
                    ],
                );
                let counter = if ok { &counts.verified } else { &counts.failed };
                counter.fetch_add(1, Ordering::Relaxed);
                let digest = sigbox::crypto::digest(
                    sigbox::crypto::HashAlgorithm::Sha256,
                    content.as_bytes(),
                );
                digests.lock().unwrap_or_else(|p| p.into_inner()).push(digest.to_hex());
                i += 1;
            }
        }));
    }
    for _ in 0..2 {
        let (rekor, stop, counts, digests) =
            (rekor.clone(), stop.clone(), counts.clone(), digests.clone());
        workers.push(std::thread::spawn(move || {
            let http = sigbox::http::blocking_builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client");
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let hex = {
                    let d = digests.lock().unwrap_or_else(|p| p.into_inner());
                    if d.is_empty() {
                        None
                    } else {
                        Some(d[i % d.len()].clone())
                    }
                };
                let Some(hex) = hex else {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                };
                i += 1;
                let found = http
                    .post(format!("{rekor}/api/v1/index/retrieve"))
                    .json(&serde_json::json!({"hash": format!("sha256:{hex}")}))
                    .send()
                    .ok()
                    .filter(|r| r.status().is_success())
                    .and_then(|r| r.json::<Vec<String>>().ok());
                let ok = match found.as_deref().and_then(|ids| ids.first()) {
                    Some(id) => http
                        .get(format!("{rekor}/api/v1/log/entries/{id}"))
                        .send()
                        .map(|r| r.status().is_success())
                        .unwrap_or(false),
                    None => false,
                };
                let counter = if ok { &counts.searched } else { &counts.failed };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let started = Instant::now();
    let warm_up = Duration::from_secs(seconds / 6);
    let mut samples: Vec<(u64, u64)> = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_secs(10).min(Duration::from_secs(seconds)));
        let at = started.elapsed().as_secs();
        let rss = rss_kib(pid);
        samples.push((at, rss));
        println!(
            "  t={at:>4} s  RSS {:>7.1} MiB  signed {:>6}  verified {:>6}  searched {:>7}  failed {}",
            rss as f64 / 1024.0,
            counts.signed.load(Ordering::Relaxed),
            counts.verified.load(Ordering::Relaxed),
            counts.searched.load(Ordering::Relaxed),
            counts.failed.load(Ordering::Relaxed),
        );
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    let after_warm_up = samples.iter().find(|(at, _)| *at >= warm_up.as_secs()).map_or(0, |s| s.1);
    let end = samples.last().map_or(0, |s| s.1);
    let peak = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let limit = after_warm_up + after_warm_up / 10 + 8 * 1024;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "soak: {:.0} s; {} signed ({:.1}/s), {} verified, {} searches ({:.0}/s), {} failed",
        secs,
        counts.signed.load(Ordering::Relaxed),
        counts.signed.load(Ordering::Relaxed) as f64 / secs,
        counts.verified.load(Ordering::Relaxed),
        counts.searched.load(Ordering::Relaxed),
        counts.searched.load(Ordering::Relaxed) as f64 / secs,
        counts.failed.load(Ordering::Relaxed),
    );
    println!(
        "soak: RSS after warm-up {:.1} MiB, at the end {:.1} MiB, peak {:.1} MiB (limit {:.1} MiB)",
        after_warm_up as f64 / 1024.0,
        end as f64 / 1024.0,
        peak as f64 / 1024.0,
        limit as f64 / 1024.0
    );
    let failed = counts.failed.load(Ordering::Relaxed);
    if end > limit || failed > 0 {
        println!("soak: FAILED ({})", if failed > 0 { "operations failed" } else { "memory grew" });
        return std::process::ExitCode::FAILURE;
    }
    println!("soak: memory flat, no failures");
    std::process::ExitCode::SUCCESS
}
