//! `cargo bench --bench log`: transparency-log throughput, latency, proof cost, disk and RSS.
//!
//! 1. the sequencer alone (`rekor::Log::submit` on verified entries: SET signing, Merkle
//!    append, one checkpoint signature and one fsync'd sled batch per group commit);
//! 2. a real `sigbox rekor-server` process driven over HTTP on 127.0.0.1 by many concurrent
//!    clients with pre-generated signed entries: `POST /api/v1/log/entries` (durable
//!    entries/s, p50/p99), then `GET /api/v1/log/entries?logIndex=N`; the server's peak
//!    VmRSS during the load and its bytes on disk per entry against the raw entry bytes;
//!    Then the same POST load on a fresh server with `--tiles-dir` (the background C2SP
//!    tile export): entries/s and p50/p99 beside the figures without it, and how long after
//!    the last 201 the exported checkpoint covers every entry;
//! 3. proof lookup at 1M entries: a `LogStore` filled with 1,000,000 leaves by large direct
//!    commits (realistic records), then `inclusion_proof` for random indices (p50/p99), and
//!    the store's bytes on disk per entry.
//!
//! Figures are printed, not asserted. `SIGBOX_BENCH_ENTRIES` (default 50000),
//! `SIGBOX_BENCH_CLIENTS` (default 256: many signers, each waiting for its entry to be
//! durable, as group commit expects; 64 gives about 9,400/s on the 2-core machine) and `SIGBOX_BENCH_BIG` (default 1000000) size the run;
//! `SIGBOX_BENCH_ONLY=seq|http|tiles|proof` runs one part (`tiles`: the POST load with
//! `--tiles-dir` only).

mod common;

use std::io::BufRead;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sigbox::crypto::{EcdsaP256Signer, Signer};
use sigbox::rekor::{canonicalize_proposed, Log, Record};
use sigbox::store::LogStore;
use sigbox::tlog::{self, CompactRange};

fn main() {
    let entries: usize = env_or("SIGBOX_BENCH_ENTRIES", 50_000);
    let clients: usize = env_or("SIGBOX_BENCH_CLIENTS", 256);
    let big: u64 = env_or("SIGBOX_BENCH_BIG", 1_000_000) as u64;
    let only = std::env::var("SIGBOX_BENCH_ONLY").unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let signer = EcdsaP256Signer::generate();
    let t = Instant::now();
    let proposals: Vec<serde_json::Value> =
        (0..entries).map(|i| common::proposal(&signer, i)).collect();
    eprintln!("(generated {entries} signed entries in {:.1} s)", t.elapsed().as_secs_f64());
    if only.is_empty() || only == "seq" {
        runtime.block_on(sequencer(&proposals, clients));
    }
    if only.is_empty() || only == "http" {
        runtime.block_on(http_server(&proposals, clients, false));
    }
    if only.is_empty() || only == "tiles" {
        runtime.block_on(http_server(&proposals, clients, true));
    }
    if only.is_empty() || only == "proof" {
        proof_lookup(&proposals[0], big);
    }
}

/// 1. `Log::submit` in-process.
async fn sequencer(proposals: &[serde_json::Value], clients: usize) {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(&dir.path().join("db")).unwrap();
    let key: Arc<dyn Signer> = Arc::new(EcdsaP256Signer::generate());
    let log = Log::open(store, key, "127.0.0.1:0", Arc::new(|| 1_700_000_000)).unwrap();
    let t = Instant::now();
    let canon: Vec<_> = proposals.iter().map(|p| canonicalize_proposed(p).unwrap()).collect();
    let n = canon.len();
    println!(
        "canonicalize_proposed (parse, verify signature, canonical body): {:.0} us/entry",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let cpu0 = cpu_seconds("self");
    let start = Instant::now();
    let lat = run_concurrent(clients, canon, move |entry| {
        let log = log.clone();
        async move {
            log.submit(entry).await.unwrap();
        }
    })
    .await;
    let elapsed = start.elapsed();
    report("sequencer (Log::submit, durable)", n, elapsed, lat);
    let cpu = cpu_seconds("self") - cpu0;
    println!(
        "  CPU during submit: {:.0} us/entry ({:.2} cores)",
        cpu * 1e6 / n as f64,
        cpu / elapsed.as_secs_f64()
    );
}

/// Part 2: a real `rekor-server` process under HTTP load; with `tiles`, one exporting
/// tiles (`--tiles-dir`) under the POST load only.
async fn http_server(proposals: &[serde_json::Value], clients: usize, tiles: bool) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tiles_dir = dir.path().join("tiles");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sigbox"));
    command.args(["rekor-server", "--listen", "127.0.0.1:0", "--no-genesis", "--data-dir"]);
    command.arg(&data);
    if tiles {
        command.arg("--tiles-dir").arg(&tiles_dir);
    }
    let mut child =
        command.stdout(std::process::Stdio::piped()).spawn().expect("starting sigbox rekor-server");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().trim_start_matches("listening on ").to_string();
    let pid = child.id();

    // Sample the server's resident set while the load runs.
    let peak_rss = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak_rss.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(vm_rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let idle_rss = vm_rss_kib(pid);
    let raw: usize = proposals.iter().map(|p| canonicalize_proposed(p).unwrap().body.len()).sum();
    let http = sigbox::http::builder().pool_max_idle_per_host(clients).build().unwrap();
    let n = proposals.len();
    // Requests are serialized before the clock starts; each client keeps one connection
    // (HTTP/1.1 keep-alive) and writes/reads raw bytes, so the load generator costs a few
    // microseconds per request instead of a full client stack's ~40.
    let addr = url.trim_start_matches("http://").to_string();
    let requests: Vec<Vec<u8>> = proposals
        .iter()
        .map(|p| {
            let body = serde_json::to_vec(p).unwrap();
            let mut req = format!(
                "POST /api/v1/log/entries HTTP/1.1\r\nhost: {addr}\r\n\
                 content-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            req.extend_from_slice(&body);
            req
        })
        .collect();
    let (server_cpu0, self_cpu0) = (cpu_seconds(&pid.to_string()), cpu_seconds("self"));
    let server_split0 = cpu_split(&pid.to_string());
    let start = Instant::now();
    let lat = keep_alive_load(&addr, clients, requests, 201).await;
    let elapsed = start.elapsed();
    let server_cpu = cpu_seconds(&pid.to_string()) - server_cpu0;
    let self_cpu = cpu_seconds("self") - self_cpu0;
    let with = if tiles { " (--tiles-dir)" } else { "" };
    report(&format!("HTTP POST /api/v1/log/entries, {clients} clients{with}"), n, elapsed, lat);
    if tiles {
        // Poll the exported checkpoint until it covers every entry.
        let published = || {
            let text = std::fs::read_to_string(tiles_dir.join("checkpoint")).unwrap_or_default();
            text.lines().nth(1).and_then(|l| l.parse::<usize>().ok()).unwrap_or(0)
        };
        let t = Instant::now();
        while published() < n && t.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(5));
        }
        println!(
            "  tiles: checkpoint of size {} published {:.0} ms after the last 201; server CPU \
             {:.0} us/entry",
            published(),
            t.elapsed().as_secs_f64() * 1e3,
            (cpu_seconds(&pid.to_string()) - server_cpu0) * 1e6 / n as f64
        );
        disk_report("  tiles dir", &tiles_dir, n as u64, raw as u64);
        stop.store(true, Ordering::Relaxed);
        sampler.join().unwrap();
        let _ = child.kill();
        let _ = child.wait();
        return;
    }
    let server_split = cpu_split(&pid.to_string());
    println!(
        "  server CPU split: user {:.0} us/entry, kernel {:.0} us/entry",
        (server_split.0 - server_split0.0) * 1e6 / n as f64,
        (server_split.1 - server_split0.1) * 1e6 / n as f64
    );
    println!(
        "  CPU during POST: server {:.0} us/entry ({:.2} cores), load generator {:.0} us/entry \
         ({:.2} cores), machine has {} cores",
        server_cpu * 1e6 / n as f64,
        server_cpu / elapsed.as_secs_f64(),
        self_cpu * 1e6 / n as f64,
        self_cpu / elapsed.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |c| c.get())
    );

    let start = Instant::now();
    let lat = run_concurrent(clients, (0..n as u64).collect(), {
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
    report("HTTP GET /api/v1/log/entries?logIndex=N", n, start.elapsed(), lat);
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    println!(
        "server RSS: {:.1} MiB idle, {:.1} MiB peak under load",
        idle_rss as f64 / 1024.0,
        peak_rss.load(Ordering::Relaxed) as f64 / 1024.0
    );
    let _ = child.kill();
    let _ = child.wait();
    disk_report("server data dir", &data, n as u64, raw as u64);
}

/// 3. Inclusion proofs from a store of `size` entries, filled by direct big commits.
fn proof_lookup(template: &serde_json::Value, size: u64) {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(&dir.path().join("db")).unwrap();
    let synthetic = common::Synthetic::new(template);
    let mut range = CompactRange::new();
    let mut raw = 0u64;
    let start = Instant::now();
    let chunk = 10_000u64;
    while range.size() < size {
        let end = (range.size() + chunk).min(size);
        let (commit, bytes) = synthetic.commit(&mut range, end);
        raw += bytes;
        store.commit(&commit).unwrap();
    }
    let fill = start.elapsed();
    println!(
        "filled {size} entries by direct commits in {:.1} s ({:.0} entries/s)",
        fill.as_secs_f64(),
        size as f64 / fill.as_secs_f64()
    );
    let root = range.root();
    // Three passes over the same random indices: a freshly opened store (sled's cache
    // empty, the OS page cache as the fill left it, like a restarted server); the same after
    // dropping the OS page cache where allowed (root), so every tile page comes from the
    // disk; and again with everything cached.
    drop(store);
    let (rss0, t) = (vm_rss_kib(std::process::id()), Instant::now());
    let mut store = LogStore::open(&dir.path().join("db")).unwrap();
    println!(
        "reopened the {size}-entry store (lookup index rebuilt) in {:.2} s, +{:.0} MiB resident",
        t.elapsed().as_secs_f64(),
        (vm_rss_kib(std::process::id()) as f64 - rss0 as f64) / 1024.0
    );
    for pass in ["fresh process", "disk-cold", "warm"] {
        if pass == "disk-cold" {
            drop(store);
            if std::fs::write("/proc/sys/vm/drop_caches", "3").is_err() {
                println!("  (cannot drop the OS page cache here: not root)");
            }
            store = LogStore::open(&dir.path().join("db")).unwrap();
        }
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut lat = Vec::new();
        let probes = 20_000;
        let start = Instant::now();
        for _ in 0..probes {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let index = rng % size;
            let t = Instant::now();
            let proof = tlog::inclusion_proof(index, size, |id| store.node(id)).unwrap();
            lat.push(t.elapsed());
            if index % 997 == 0 {
                // Spot-check that what was timed is a real proof.
                let record = Record::from_bytes(&store.entry(index).unwrap().unwrap()).unwrap();
                let leaf = tlog::hash_leaf(&record.body_bytes().unwrap());
                tlog::verify_inclusion(index, size, &leaf, &proof, &root).unwrap();
            }
        }
        report(
            &format!("inclusion_proof at {size} entries ({pass})"),
            probes,
            start.elapsed(),
            lat,
        );
    }
    drop(store);
    disk_report(&format!("{size}-entry store"), &dir.path().join("db"), size, raw);
}

fn disk_report(label: &str, dir: &Path, entries: u64, raw: u64) {
    let used = disk_usage(dir);
    println!(
        "{label}: {:.1} MiB on disk, {:.0} bytes/entry, raw entry {:.0} bytes/entry, {:.2}x raw",
        used as f64 / (1024.0 * 1024.0),
        used as f64 / entries as f64,
        raw as f64 / entries as f64,
        used as f64 / raw as f64
    );
}

/// Bytes allocated on disk under `dir` (like `du`).
fn disk_usage(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            total += disk_usage(&entry.path());
        } else {
            total += meta.blocks() * 512;
        }
    }
    total
}

/// User + system CPU seconds of process `pid` (or `self`) from `/proc/<pid>/stat`.
fn cpu_seconds(pid: &str) -> f64 {
    let (user, system) = cpu_split(pid);
    user + system
}

/// (user, system) CPU seconds of process `pid` (or `self`).
fn cpu_split(pid: &str) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)`: state is field 3, utime 14 and stime 15 (1-based).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) / 100.0, ticks(12) / 100.0)
}

/// VmRSS of process `pid` in KiB (0 if unreadable).
fn vm_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmRSS:")
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
        })
        .unwrap_or(0)
}

/// Sends every pre-serialized request over `clients` keep-alive connections and checks that
/// each answer has status `want`; returns each request's latency.
async fn keep_alive_load(
    addr: &str,
    clients: usize,
    requests: Vec<Vec<u8>>,
    want: u16,
) -> Vec<Duration> {
    use tokio::io::AsyncWriteExt;
    let addr = addr.to_string();
    let connect = move || {
        let addr = addr.clone();
        async move {
            let conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
            conn.set_nodelay(true).unwrap();
            (conn, Vec::with_capacity(16 << 10))
        }
    };
    drive(clients, requests, connect, move |(mut conn, mut buf), req: Vec<u8>| async move {
        conn.write_all(&req).await.unwrap();
        buf.clear();
        // Read the head, then exactly content-length bytes of body.
        let (head_end, body_len) = loop {
            read_some(&mut conn, &mut buf).await;
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&buf[..end]).unwrap().to_ascii_lowercase();
                let status: u16 = head[9..12].parse().unwrap();
                assert_eq!(status, want, "{head}");
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse::<usize>().unwrap())
                    .expect("content-length");
                break (end + 4, len);
            }
        };
        while buf.len() < head_end + body_len {
            read_some(&mut conn, &mut buf).await;
        }
        (conn, buf)
    })
    .await
}

/// Appends what the next read returns; the server closing the connection is a failure.
async fn read_some(conn: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) {
    use tokio::io::AsyncReadExt;
    let mut chunk = [0u8; 8192];
    let got = conn.read(&mut chunk).await.unwrap();
    assert!(got > 0, "server closed the connection");
    buf.extend_from_slice(&chunk[..got]);
}

/// Runs `op` on every item with `clients` concurrent tasks; returns each call's latency.
async fn run_concurrent<T, F, Fut>(clients: usize, items: Vec<T>, op: F) -> Vec<Duration>
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    drive(clients, items, || async {}, move |(), item| op(item)).await
}

/// The load loop: `clients` tasks, each with its own state from `init` (a connection, or
/// nothing), take items from one queue and run `op` on each; returns each call's latency.
async fn drive<T, S, I, IFut, F, Fut>(
    clients: usize,
    items: Vec<T>,
    init: I,
    op: F,
) -> Vec<Duration>
where
    T: Send + 'static,
    S: Send + 'static,
    I: Fn() -> IFut + Send + Sync + 'static,
    IFut: std::future::Future<Output = S> + Send,
    F: Fn(S, T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = S> + Send,
{
    let queue = Arc::new(std::sync::Mutex::new(items.into_iter()));
    let (init, op) = (Arc::new(init), Arc::new(op));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (queue, init, op) = (queue.clone(), init.clone(), op.clone());
        tasks.push(tokio::spawn(async move {
            let mut state = init().await;
            let mut lat = Vec::new();
            loop {
                let next = queue.lock().unwrap().next();
                let Some(item) = next else { break };
                let t = Instant::now();
                state = op(state, item).await;
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
        "{label:<48} {:>8.0} ops/s   p50 {:>8.3} ms   p99 {:>8.3} ms   ({n} ops)",
        n as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
    );
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
