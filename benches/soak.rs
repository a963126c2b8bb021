//! `make soak` (not part of `make test`): SOAK_SECONDS (default 600) of mixed load on one
//! `sigbox up` — keyless signing and verification through whole `cosign` processes (device
//! flow login against the instance's issuer, as a user would) and log searches and entry
//! reads over HTTP — while the instance's resident memory is sampled every 10 s. After the
//! warm-up (the first sixth of the run) memory must stay flat: the figures are printed,
//! and the run fails if the RSS at the end exceeds the RSS after warm-up by more than 10 %
//! plus 8 MiB (the log's in-memory lookup index grows with its entries, by design).

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

fn main() -> std::process::ExitCode {
    let Some(bin) = common::release_bin() else { return std::process::ExitCode::SUCCESS };
    let seconds: u64 =
        std::env::var("SOAK_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(600);
    let dir = tempfile::tempdir().expect("tempdir");
    let up = common::Up::start(&bin, &dir.path().join("state"));
    let trust = dir.path().join("state/trust_config.json");
    let pid = up.pid();
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
