//! `make bench` (keyless signing): whole-process `cosign sign-blob` (keyless, 1 MiB
//! artifact) against a real `sigbox up`, beside sigstore-python's `sign` against the same
//! instance, with each process's wall time and user+sys CPU (targets for sigbox: ≤ 15 ms
//! wall median, ≤ 8 ms CPU; issue #18). Both get a fresh token from the instance's test
//! issuer before each run (not timed) through `--identity-token`; one more sigbox line
//! times the whole device-flow login as well.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

mod common;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let Some(bin) = common::release_bin() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let up = common::Up::start(&bin, &dir.path().join("state"));
    let oidc = up.oidc.clone();
    let trust = dir.path().join("state/trust_config.json");
    std::fs::write(dir.path().join("artifact.bin"), vec![3u8; 1 << 20]).expect("artifact");

    println!("== keyless sign-blob, whole process, against sigbox up (1 MiB artifact) ==");
    let sigbox = measure("sigbox cosign sign-blob --identity-token", 30, || {
        let token = token(&bin, &oidc);
        let mut command = Command::new(&bin);
        command
            .args(["cosign", "sign-blob", "--identity-token", &token, "--bundle", "b.json"])
            .arg("artifact.bin")
            .env("SIGBOX_TRUST_CONFIG", &trust)
            .current_dir(dir.path());
        command
    });
    measure("sigbox cosign sign-blob (device-flow login)", 15, || {
        let mut command = Command::new(&bin);
        command
            .args(["cosign", "sign-blob", "--bundle", "b.json", "artifact.bin"])
            .env("SIGBOX_TRUST_CONFIG", &trust)
            .current_dir(dir.path());
        command
    });
    let python = root.join(".venv/bin/sigstore");
    if python.exists() {
        let py = measure("sigstore-python sign --identity-token", 5, || {
            let token = token(&bin, &oidc);
            let mut command = Command::new(&python);
            command
                .arg("--trust-config")
                .arg(&trust)
                .args(["sign", "--overwrite", "--identity-token", &token, "--bundle", "p.json"])
                .arg("artifact.bin")
                .current_dir(dir.path());
            command
        });
        println!(
            "sigbox is {:.0}x faster than sigstore-python (wall), {:.0}x less CPU",
            py.wall_ms / sigbox.wall_ms,
            py.cpu_ms / sigbox.cpu_ms.max(0.001)
        );
    } else {
        println!("sigstore-python missing: run `make tools`");
    }
    println!(
        "target: sigbox <= 15 ms wall median, <= 8 ms CPU: {}",
        if sigbox.wall_ms <= 15.0 && sigbox.cpu_ms <= 8.0 { "met" } else { "NOT met" }
    );
    drop(up);
}

fn token(bin: &Path, issuer: &str) -> String {
    let out = Command::new(bin)
        .args(["token", "--issuer", issuer, "--email", "bench@example.com"])
        .output()
        .expect("token");
    String::from_utf8(out.stdout).expect("utf-8").trim().to_string()
}

/// Medians of one kind of process run.
struct Figures {
    wall_ms: f64,
    cpu_ms: f64,
}

/// Runs the command `make` builds `runs` times (after one warm-up) and prints the median
/// wall time and the median user+sys CPU of the child (from `getrusage(RUSAGE_CHILDREN)`).
/// Only the process itself is timed: `make` may fetch a token first.
fn measure(label: &str, runs: usize, mut make: impl FnMut() -> Command) -> Figures {
    let mut run = || {
        let mut command = make();
        let before = children_cpu_ms();
        let start = Instant::now();
        let out = command.output().expect("spawn");
        let wall = start.elapsed().as_secs_f64() * 1e3;
        let cpu = children_cpu_ms() - before;
        assert!(out.status.success(), "{label}: {}", String::from_utf8_lossy(&out.stderr));
        (wall, cpu)
    };
    run();
    let (mut walls, mut cpus): (Vec<f64>, Vec<f64>) = (0..runs).map(|_| run()).unzip();
    walls.sort_by(f64::total_cmp);
    cpus.sort_by(f64::total_cmp);
    let figures = Figures { wall_ms: walls[runs / 2], cpu_ms: cpus[runs / 2] };
    println!(
        "{label:<46} wall median {:>8.2} ms (min {:>7.2})   CPU median {:>7.2} ms   ({runs} runs)",
        figures.wall_ms, walls[0], figures.cpu_ms
    );
    figures
}

/// User + system CPU of all waited-for children so far, in milliseconds.
fn children_cpu_ms() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we pass and reads nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    ms(usage.ru_utime) + ms(usage.ru_stime)
}
