//! `make bench` (container images): whole-process `cosign sign` (keyless, against a real
//! `sigbox up`) and `cosign verify` against a loopback `docker-registry`, and images
//! verified per second for 100 signed images in one `cosign verify` call. Targets: sign
//! ≤ 60 ms, verify ≤ 15 ms, ≥ 500 images/s.
//!
//! The 100 images are pushed with the registry's HTTP API directly (each a distinct config
//! blob over one shared layer), which is the fastest independent way to populate it.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

const IMAGES: usize = 100;
const IDENTITY: &str = "test-user@sigbox.local";

mod common;

fn main() {
    let Some(bin) = common::release_bin() else { return };
    if Command::new("docker-registry").arg("--version").output().is_err() {
        println!("docker-registry missing: install the Debian package `docker-registry`");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let up = common::Up::start(&bin, &dir.path().join("state"));
    let oidc = up.oidc.clone();
    let trust = dir.path().join("state/trust_config.json");
    let (mut registry, host) = start_registry(dir.path());
    let http = sigbox::http::blocking_builder().build().expect("http client");
    let images: Vec<String> =
        (0..IMAGES + 40).map(|i| format!("{host}/bench@{}", push_image(&http, &host, i))).collect();
    let (batch, singles) = images.split_at(IMAGES);
    let cosign = |args: &[&str]| {
        let out = Command::new(&bin)
            .arg("cosign")
            .args(args)
            .env("SIGBOX_TRUST_CONFIG", &trust)
            .env("DOCKER_CONFIG", dir.path().join("docker"))
            .current_dir(dir.path())
            .output()
            .expect("cosign");
        assert!(out.status.success(), "cosign {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let verify_flags =
        ["--certificate-identity", IDENTITY, "--certificate-oidc-issuer", oidc.as_str()];

    println!("== cosign sign / verify, whole process, loopback registry + sigbox up ==");
    let mut next = 0;
    let sign_ms = time("sigbox cosign sign IMAGE (keyless)", 20, || {
        cosign(&["sign", "-y", &singles[next]]);
        next += 1;
    });
    let verify_ms = time("sigbox cosign verify IMAGE (keyless sig)", 20, || {
        let mut args = vec!["verify"];
        args.extend(verify_flags);
        args.push(&singles[0]);
        cosign(&args);
    });

    let mut args: Vec<&str> = vec!["sign", "-y"];
    args.extend(batch.iter().map(String::as_str));
    cosign(&args);
    let mut args: Vec<&str> = vec!["verify"];
    args.extend(verify_flags);
    args.extend(batch.iter().map(String::as_str));
    let batch_ms = time(&format!("sigbox cosign verify {IMAGES} images"), 5, || cosign(&args));
    let rate = IMAGES as f64 / (batch_ms / 1e3);
    println!("{rate:.0} images verified per second in one call");
    println!(
        "targets: sign <= 60 ms ({}), verify <= 15 ms ({}), >= 500 images/s ({})",
        verdict(sign_ms <= 60.0),
        verdict(verify_ms <= 15.0),
        verdict(rate >= 500.0)
    );
    drop(up);
    stop(&mut registry);
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn start_registry(dir: &Path) -> (Child, String) {
    let port = TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let config = dir.join("registry.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.join("registry").display()
        ),
    )
    .expect("registry config");
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry");
    let host = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&host).is_err() {
        assert!(Instant::now() < deadline, "docker-registry did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, host)
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn put_blob(http: &reqwest::blocking::Client, host: &str, bytes: &[u8]) -> String {
    let d = digest(bytes);
    let resp = http.post(format!("http://{host}/v2/bench/blobs/uploads/")).send().expect("POST");
    let location = resp.headers()["location"].to_str().expect("location").to_string();
    let url =
        if location.starts_with("http") { location } else { format!("http://{host}{location}") };
    let sep = if url.contains('?') { '&' } else { '?' };
    let resp = http.put(format!("{url}{sep}digest={d}")).body(bytes.to_vec()).send().expect("PUT");
    assert!(resp.status().is_success(), "blob upload: {}", resp.status());
    d
}

fn push_image(http: &reqwest::blocking::Client, host: &str, i: usize) -> String {
    let layer = b"a layer shared by every bench image\n".repeat(100);
    let layer_digest = put_blob(http, host, &layer);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {"Labels": {"n": i.to_string()}},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    }))
    .expect("json");
    let config_digest = put_blob(http, host, &config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer.len()}],
    }))
    .expect("json");
    let d = digest(&manifest);
    let resp = http
        .put(format!("http://{host}/v2/bench/manifests/{d}"))
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(manifest)
        .send()
        .expect("PUT manifest");
    assert!(resp.status().is_success(), "manifest: {}", resp.status());
    d
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
    println!("{label:<44} median {median:>8.2} ms   min {:>8.2} ms   ({runs} runs)", samples[0]);
    median
}
