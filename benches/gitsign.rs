//! `make bench` (gitsign): whole-process `git commit -S` through the gitsign persona
//! against a real `sigbox up`, without and with the credential cache (target: ≤ 80 ms per
//! signed commit with the cache), then `git log --show-signature` over 1,000 offline-mode
//! signed commits (target: ≤ 5 ms per verified commit). git itself drives every run.
//!
//! `GITSIGN_BENCH_COMMITS` changes the history length (default 1000).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

fn main() {
    let Some(bin) = common::release_bin() else { return };
    let history: usize =
        std::env::var("GITSIGN_BENCH_COMMITS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let dir = tempfile::tempdir().expect("tempdir");
    let up = common::Up::start(&bin, &dir.path().join("state"));
    let trust = dir.path().join("state/trust_config.json");
    let gitsign = dir.path().join("gitsign");
    std::os::unix::fs::symlink(&bin, &gitsign).expect("gitsign symlink");
    let repo = dir.path().join("repo");
    let git = |args: &[&str], cache: Option<&Path>| {
        let mut cmd = Command::new("git");
        cmd.args(args)
            .current_dir(&repo)
            .env("HOME", dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("SIGBOX_TRUST_CONFIG", &trust)
            .env("GITSIGN_TOKEN_PROVIDER", "device")
            .env_remove("GITSIGN_CREDENTIAL_CACHE");
        if let Some(socket) = cache {
            cmd.env("GITSIGN_CREDENTIAL_CACHE", socket);
        }
        let out = cmd.output().expect("running git (install Debian's git)");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    std::fs::create_dir_all(&repo).expect("repo dir");
    git(&["init", "-q", "-b", "main"], None);
    for (k, v) in [
        ("user.name", "Bench"),
        ("user.email", "test-user@sigbox.local"),
        ("gpg.format", "x509"),
        ("gpg.x509.program", gitsign.to_str().expect("utf-8")),
    ] {
        git(&["config", k, v], None);
    }
    let commit = |cache: Option<&Path>| {
        git(&["commit", "-q", "--allow-empty", "-S", "-m", "bench"], cache);
    };

    println!("== gitsign: whole-process `git commit -S` against sigbox up ==");
    time("git commit -S, no cache (a login and a certificate each)", 20, || commit(None));
    let socket = dir.path().join("cache.sock");
    let mut cache = start_cache(&bin, &socket);
    commit(Some(&socket)); // the one login
    let cached =
        time("git commit -S, credential cache (target <= 80 ms)", 50, || commit(Some(&socket)));
    println!("  cached commit target 80 ms: {}", verdict(cached <= 80.0));

    println!("== gitsign: `git log --show-signature` over {history} offline-mode commits ==");
    git(&["config", "gitsign.rekorMode", "offline"], None);
    let start = Instant::now();
    for _ in 0..history {
        commit(Some(&socket));
    }
    let made = start.elapsed();
    println!(
        "  made {history} signed commits in {:.1} s ({:.1} ms each, cached, offline mode)",
        made.as_secs_f64(),
        made.as_secs_f64() * 1e3 / history as f64
    );
    let start = Instant::now();
    let log = git(&["log", "--show-signature", &format!("-{history}")], None);
    let per = start.elapsed().as_secs_f64() * 1e3 / history as f64;
    let good = String::from_utf8_lossy(&log).matches("Good signature").count();
    assert_eq!(good, history, "every commit verified");
    println!(
        "  git log --show-signature: {per:.2} ms per verified commit (target <= 5 ms): {}",
        verdict(per <= 5.0)
    );

    let _ = cache.kill();
    let _ = cache.wait();
    drop(up);
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

/// Runs `f` `n` times and prints min / median / mean; returns the median in ms.
fn time(label: &str, n: usize, mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..n)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let median = samples[n / 2];
    let mean = samples.iter().sum::<f64>() / n as f64;
    println!(
        "  {label}: min {:.1} ms, median {median:.1} ms, mean {mean:.1} ms ({n} runs)",
        samples[0]
    );
    median
}

fn start_cache(bin: &Path, socket: &Path) -> Child {
    let child = Command::new(bin)
        .args(["gitsign", "credential-cache", "--socket"])
        .arg(socket)
        .stdout(Stdio::null())
        .spawn()
        .expect("credential cache");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::os::unix::net::UnixStream::connect(socket).is_err() {
        assert!(Instant::now() < deadline, "the credential cache never listened");
        std::thread::yield_now();
    }
    child
}
