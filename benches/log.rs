//! `cargo bench --bench log`: transparency-log throughput and latency.
//!
//! Three figures, each printed as entries/s plus p50/p99 latency:
//! 1. the sequencer alone (`rekor::Log::submit` on verified entries: SET signing, Merkle
//!    append, one checkpoint signature and one fsync'd sled batch per group commit);
//! 2. `POST /api/v1/log/entries` over HTTP on 127.0.0.1 (adds JSON, signature checks,
//!    canonicalization, hyper);
//! 3. `GET /api/v1/log/entries?logIndex=N` (entry + inclusion proof + checkpoint).
//!
//! Figures are printed, not asserted. `SIGBOX_BENCH_ENTRIES` (default 4000) and
//! `SIGBOX_BENCH_CLIENTS` (default 64) size the run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sigbox::crypto::{digest, EcdsaP256Signer, HashAlgorithm, Signer};
use sigbox::encoding::b64_encode;
use sigbox::rekor::{self, canonicalize_proposed, Log};
use sigbox::store::LogStore;

fn main() {
    let entries: usize = env_or("SIGBOX_BENCH_ENTRIES", 4000);
    let clients: usize = env_or("SIGBOX_BENCH_CLIENTS", 64);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let signer = EcdsaP256Signer::generate();
        let proposals: Vec<serde_json::Value> =
            (0..2 * entries).map(|i| proposal(&signer, i)).collect();

        // 1. Sequencer only.
        let dir = tempfile::tempdir().unwrap();
        let log = open_log(dir.path());
        let canon: Vec<_> =
            proposals[..entries].iter().map(|p| canonicalize_proposed(p).unwrap()).collect();
        let start = Instant::now();
        let lat = run_concurrent(clients, canon, {
            let log = log.clone();
            move |entry| {
                let log = log.clone();
                async move {
                    log.submit(entry).await.unwrap();
                }
            }
        })
        .await;
        report("sequencer (Log::submit, durable)", entries, start.elapsed(), lat);

        // 2. HTTP POST.
        let dir = tempfile::tempdir().unwrap();
        let log = open_log(dir.path());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(rekor::serve(
            listener,
            log,
            sigbox::http::Limits::default(),
            std::future::pending(),
        ));
        let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build().unwrap();
        let posts: Vec<_> = proposals[entries..].to_vec();
        let start = Instant::now();
        let lat = run_concurrent(clients, posts, {
            let (http, url) = (http.clone(), url.clone());
            move |p| {
                let (http, url) = (http.clone(), url.clone());
                async move {
                    let r = http.post(format!("{url}/api/v1/log/entries")).json(&p).send().await;
                    assert_eq!(r.unwrap().status().as_u16(), 201);
                }
            }
        })
        .await;
        report("HTTP POST /api/v1/log/entries", entries, start.elapsed(), lat);

        // 3. HTTP GET by index.
        let start = Instant::now();
        let lat = run_concurrent(clients, (0..entries as u64).collect(), {
            let (http, url) = (http.clone(), url.clone());
            move |i| {
                let (http, url) = (http.clone(), url.clone());
                async move {
                    let r = http
                        .get(format!("{url}/api/v1/log/entries?logIndex={i}"))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 200);
                    r.bytes().await.unwrap();
                }
            }
        })
        .await;
        report("HTTP GET /api/v1/log/entries?logIndex=N", entries, start.elapsed(), lat);
    });
}

fn open_log(dir: &std::path::Path) -> Log {
    let store = LogStore::open(&dir.join("db")).unwrap();
    let signer: Arc<dyn Signer> = Arc::new(EcdsaP256Signer::generate());
    Log::open(store, signer, "127.0.0.1:0", Arc::new(|| 1_700_000_000)).unwrap()
}

fn proposal(signer: &EcdsaP256Signer, i: usize) -> serde_json::Value {
    let d = digest(HashAlgorithm::Sha256, format!("bench artifact {i}").as_bytes());
    let sig = signer.sign_prehashed(d.as_bytes()).unwrap();
    serde_json::json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": d.to_hex()}},
        "signature": {"content": b64_encode(sig),
                      "publicKey": {"content": b64_encode(signer.public_key().to_pem())}}}})
}

/// Runs `op` on every item with `clients` concurrent tasks; returns each call's latency.
async fn run_concurrent<T, F, Fut>(clients: usize, items: Vec<T>, op: F) -> Vec<Duration>
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let queue = Arc::new(std::sync::Mutex::new(items.into_iter()));
    let op = Arc::new(op);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (queue, op) = (queue.clone(), op.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let next = queue.lock().unwrap().next();
                let Some(item) = next else { break };
                let t = Instant::now();
                op(item).await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

fn report(label: &str, n: usize, elapsed: Duration, mut lat: Vec<Duration>) {
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "{label:<44} {:>8.0} entries/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({n} entries)",
        n as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
    );
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
