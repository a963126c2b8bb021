//! `cargo bench --bench tsa`: signed time and Rekor v2 writes, over loopback HTTP against
//! real server processes (the release binary: `SIGBOX_BIN`, else `make release`'s).
//!
//! 1. `tsa-server`: DER `TimeStampReq`s (SHA-256 imprints, nonce, certReq) from
//!    `SIGBOX_BENCH_CLIENTS` (default 64) keep-alive connections; timestamps/s, p50/p99,
//!    for the P-384 key public good uses and for P-256.
//! 2. `rekor-server --v2` against `rekor-server` (v1), same client count and entries:
//!    durable `POST /api/v2/log/entries` (hashedrekord 0.0.2) and `POST
//!    /api/v1/log/entries` (hashedrekord 0.0.1) per second, p50/p99.
//!
//! Figures are printed, not asserted (targets: ≥ 10,000 timestamps/s with p99 ≤ 20 ms; v2
//! writes as fast as v1). `SIGBOX_BENCH_TIMESTAMPS` (default 40000) and
//! `SIGBOX_BENCH_ENTRIES` (default 20000) size the run.

mod common;

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sigbox::crypto::{digest, EcdsaP256Signer, HashAlgorithm, Signer};
use sigbox::encoding::b64_encode;
use sigbox::x509::tsp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn main() {
    let Some(bin) = common::release_bin() else { return };
    let clients = env_or("SIGBOX_BENCH_CLIENTS", 64);
    let stamps = env_or("SIGBOX_BENCH_TIMESTAMPS", 40_000);
    let entries = env_or("SIGBOX_BENCH_ENTRIES", 20_000);
    println!("load: {}", std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for curve in ["p384", "p256"] {
        let dir = tempfile::tempdir().unwrap();
        let (mut child, addr) = start(&bin, &["tsa-server", "--curve", curve], dir.path());
        let requests: Vec<Vec<u8>> = (0..stamps)
            .map(|i| {
                let imprint = digest(HashAlgorithm::Sha256, format!("signature {i}").as_bytes());
                let nonce = (i as u64 + 1).to_be_bytes();
                let body = tsp::build_request(
                    HashAlgorithm::Sha256,
                    imprint.as_bytes(),
                    Some(&nonce),
                    true,
                )
                .unwrap();
                http_request(&addr, "/api/v1/timestamp", "application/timestamp-query", &body)
            })
            .collect();
        let start = Instant::now();
        let lat = runtime.block_on(load(&addr, clients, requests, 200));
        report(
            &format!("tsa-server {curve}: DER timestamps, {clients} clients"),
            start.elapsed(),
            lat,
            "timestamps",
        );
        let _ = child.kill();
        let _ = child.wait();
    }

    let signer = EcdsaP256Signer::generate();
    let spki = signer.public_key().spki_der().to_vec();
    for (version, flags, path) in [
        (1, &["rekor-server", "--no-genesis"][..], "/api/v1/log/entries"),
        (2, &["rekor-server", "--v2"][..], "/api/v2/log/entries"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (mut child, addr) = start(&bin, flags, dir.path());
        let requests: Vec<Vec<u8>> = (0..entries)
            .map(|i| {
                let d =
                    digest(HashAlgorithm::Sha256, format!("v{version} artifact {i}").as_bytes());
                let sig = signer.sign_prehashed(d.as_bytes()).unwrap();
                let body = if version == 2 {
                    sigbox::rekor::client::hashedrekord_v2_request(
                        d.as_bytes(),
                        &sig,
                        &spki,
                        false,
                        "PKIX_ECDSA_P256_SHA_256",
                    )
                } else {
                    serde_json::json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
                        "data": {"hash": {"algorithm": "sha256", "value": d.to_hex()}},
                        "signature": {"content": b64_encode(&sig),
                            "publicKey": {"content": b64_encode(signer.public_key().to_pem())}}}})
                };
                http_request(&addr, path, "application/json", &serde_json::to_vec(&body).unwrap())
            })
            .collect();
        let start = Instant::now();
        let lat = runtime.block_on(load(&addr, clients, requests, 201));
        report(
            &format!("rekor v{version}: POST {path} (durable), {clients} clients"),
            start.elapsed(),
            lat,
            "entries",
        );
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Starts `bin ARGS --listen 127.0.0.1:0 --data-dir DIR` and reads its address.
fn start(bin: &Path, args: &[&str], dir: &Path) -> (Child, String) {
    let mut child = Command::new(bin)
        .args(args)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("data"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the server");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().trim_start_matches("listening on http://").to_string();
    (child, addr)
}

fn http_request(addr: &str, path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: {content_type}\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

/// Sends every request over `clients` keep-alive connections (each client takes the next
/// request when its last answer is read); checks every status; returns the latencies.
async fn load(addr: &str, clients: usize, requests: Vec<Vec<u8>>, want: u16) -> Vec<Duration> {
    let queue = std::sync::Arc::new(std::sync::Mutex::new(requests));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (queue, addr) = (queue.clone(), addr.to_string());
        tasks.push(tokio::spawn(async move {
            let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
            conn.set_nodelay(true).unwrap();
            let mut lat = Vec::new();
            let mut buf = Vec::with_capacity(8192);
            loop {
                let Some(req) = queue.lock().unwrap().pop() else { break };
                let t = Instant::now();
                conn.write_all(&req).await.unwrap();
                let status = read_response(&mut conn, &mut buf).await;
                assert_eq!(status, want, "{}", String::from_utf8_lossy(&buf));
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}

/// Reads one HTTP/1.1 response (Content-Length framed); returns its status.
async fn read_response(conn: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> u16 {
    buf.clear();
    let mut chunk = [0u8; 16384];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = conn.read(&mut chunk).await.unwrap();
                assert!(n > 0, "connection closed");
                buf.extend_from_slice(&chunk[..n]);
            }
            return head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        }
        let n = conn.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn report(label: &str, elapsed: Duration, mut lat: Vec<Duration>, unit: &str) {
    lat.sort();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)));
    let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    println!(
        "{label}: {} {unit} in {:.2} s = {:.0} {unit}/s, p50 {:.2} ms, p99 {:.2} ms",
        lat.len(),
        elapsed.as_secs_f64(),
        lat.len() as f64 / elapsed.as_secs_f64(),
        ms(pct(0.50)),
        ms(pct(0.99)),
    );
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
