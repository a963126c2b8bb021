//! `cargo bench --bench postgres`: the log on PostgreSQL, on this machine with the database
//! on it (synchronous commit on, fsync on).
//!
//! 1. durable writes: `POST /api/v1/log/entries` from 64 concurrent keep-alive clients with
//!    pre-signed entries to one `rekor-server --storage`, then spread over three servers
//!    sharing the database (entries/s, p50/p99);
//! 2. reads: `GET /api/v1/log/entries?logIndex=N` (entry + inclusion proof) from one server
//!    and from three;
//! 3. proof lookups at 1M entries: a log filled with 1,000,000 entries by direct commits
//!    through `PgStore`, then inclusion proofs for random indices as a server builds them
//!    (one query for the proof's tiles, then the nodes from memory): a fresh store, then warm.
//!
//! Targets are printed beside the figures, not asserted. The server binary is
//! `SIGBOX_BIN` (the release build `make bench` passes) or the cargo-built one.
//! `SIGBOX_BENCH_ENTRIES` (default 20000), `SIGBOX_BENCH_CLIENTS` (64) and
//! `SIGBOX_BENCH_BIG` (1000000) size the run; `SIGBOX_BENCH_ONLY=write|proof` runs one part.
//! Without PostgreSQL's server binaries (Debian's `postgresql`) it prints why and stops.

mod common;
#[path = "../tests/postgres/server.rs"]
mod server;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sigbox::crypto::{EcdsaP256Signer, Signer};
use sigbox::rekor::Record;
use sigbox::store::postgres::PgStore;
use sigbox::tlog::{self, CompactRange, NodeId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn main() {
    if server::find_server_binaries().is_none() {
        println!(
            "postgres bench skipped: no PostgreSQL server binaries under \
             /usr/lib/postgresql/*/bin (install the Debian package `postgresql`)"
        );
        return;
    }
    let entries: usize = env_or("SIGBOX_BENCH_ENTRIES", 20_000);
    let clients: usize = env_or("SIGBOX_BENCH_CLIENTS", 64);
    let big: u64 = env_or("SIGBOX_BENCH_BIG", 1_000_000) as u64;
    let only = std::env::var("SIGBOX_BENCH_ONLY").unwrap_or_default();
    let pg = server::Postgres::start();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    if only.is_empty() || only == "write" {
        let signer = EcdsaP256Signer::generate();
        let t = Instant::now();
        let proposals: Vec<Vec<u8>> = (0..2 * entries)
            .map(|i| serde_json::to_vec(&common::proposal(&signer, i)).unwrap())
            .collect();
        eprintln!(
            "(generated {} signed entries in {:.1} s)",
            2 * entries,
            t.elapsed().as_secs_f64()
        );
        let key_dir = tempfile::tempdir().unwrap();
        let key = key_dir.path().join("log.key");
        let log_key = EcdsaP256Signer::generate();
        let pem = sigbox::encoding::pem_encode("PRIVATE KEY", &log_key.to_pkcs8_der().unwrap());
        std::fs::write(&key, pem).unwrap();
        // (servers, rate, machine busy fraction) of each run.
        let (mut writes, mut reads) = (Vec::new(), Vec::new());
        for (db, servers, batch) in
            [("one", 1, &proposals[..entries]), ("three", 3, &proposals[entries..])]
        {
            pg.create_database(db);
            let running: Vec<Server> =
                (0..servers).map(|_| Server::start(&pg.url_of(db), &key)).collect();
            let addrs: Vec<String> = running.iter().map(|s| s.addr.clone()).collect();
            let requests: Vec<(usize, Vec<u8>)> = batch
                .iter()
                .enumerate()
                .map(|(i, body)| (i % addrs.len(), post(&addrs[i % addrs.len()], body)))
                .collect();
            let n = requests.len();
            let cpu = CpuMeter::start();
            let start = Instant::now();
            let lat = runtime.block_on(load(&addrs, clients, requests, 201));
            let busy = cpu.busy();
            let rate = report(
                &format!(
                    "durable POST, {servers} server(s), {clients} clients, machine CPU {:.0}% busy",
                    busy * 100.0
                ),
                n,
                start.elapsed(),
                lat,
                Some((5_000.0, 100.0)),
            );
            writes.push((servers, rate, busy));
            transactions(&pg.url_of(db), n);
            for reads_on in if servers == 3 { vec![1, 3] } else { vec![] } {
                let requests: Vec<(usize, Vec<u8>)> = (0..n)
                    .map(|i| {
                        let s = i % reads_on;
                        (s, get(&addrs[s], &format!("/api/v1/log/entries?logIndex={i}")))
                    })
                    .collect();
                let cpu = CpuMeter::start();
                let start = Instant::now();
                let lat = runtime.block_on(load(&addrs, clients, requests, 200));
                let busy = cpu.busy();
                let rate = report(
                    &format!(
                        "GET entry + proof, {reads_on} server(s), {clients} clients, \
                         machine CPU {:.0}% busy",
                        busy * 100.0
                    ),
                    n,
                    start.elapsed(),
                    lat,
                    None,
                );
                reads.push((reads_on, rate, busy));
            }
        }
        limit_report("durable POST", &writes);
        limit_report("GET entry + proof", &reads);
    }
    if only.is_empty() || only == "proof" {
        proof_lookup(&pg, big);
    }
}

/// A `rekor-server` on the database.
struct Server {
    child: Child,
    addr: String,
    _data: tempfile::TempDir,
}

impl Server {
    fn start(url: &str, key: &std::path::Path) -> Server {
        let bin = std::env::var_os("SIGBOX_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_sigbox")));
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(bin)
            .args(["rekor-server", "--listen", "127.0.0.1:0", "--no-genesis", "--data-dir"])
            .arg(data.path())
            .args(["--storage", url, "--origin", "bench.log", "--signer-key"])
            .arg(key)
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting sigbox rekor-server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().trim_start_matches("listening on http://").to_string();
        Server { child, addr, _data: data }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post(addr: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST /api/v1/log/entries HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

fn get(addr: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\n\r\n").into_bytes()
}

/// Sends each (server, request) over keep-alive connections, `clients` at a time (each
/// client holds one connection per server); checks each status; returns the latencies.
async fn load(
    addrs: &[String],
    clients: usize,
    requests: Vec<(usize, Vec<u8>)>,
    want: u16,
) -> Vec<Duration> {
    let queue = Arc::new(std::sync::Mutex::new(requests.into_iter()));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (queue, addrs) = (queue.clone(), addrs.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut conns: Vec<Option<tokio::net::TcpStream>> =
                addrs.iter().map(|_| None).collect();
            let mut lat = Vec::new();
            let mut buf = Vec::with_capacity(16 << 10);
            loop {
                let next = queue.lock().unwrap().next();
                let Some((server, req)) = next else { break };
                if conns[server].is_none() {
                    let c = tokio::net::TcpStream::connect(&addrs[server]).await.unwrap();
                    c.set_nodelay(true).unwrap();
                    conns[server] = Some(c);
                }
                let conn = conns[server].as_mut().unwrap();
                let t = Instant::now();
                conn.write_all(&req).await.unwrap();
                buf.clear();
                let (head_end, body_len) = loop {
                    read_some(conn, &mut buf).await;
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = std::str::from_utf8(&buf[..end]).unwrap().to_ascii_lowercase();
                        let status: u16 = head[9..12].parse().unwrap();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map(|v| v.trim().parse::<usize>().unwrap())
                            .expect("content-length");
                        while buf.len() < end + 4 + len {
                            read_some(conn, &mut buf).await;
                        }
                        assert_eq!(
                            status,
                            want,
                            "{head}\n{}",
                            String::from_utf8_lossy(&buf[end + 4..])
                        );
                        break (end + 4, len);
                    }
                };
                assert!(buf.len() >= head_end + body_len);
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

async fn read_some(conn: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) {
    let mut chunk = [0u8; 8192];
    let got = conn.read(&mut chunk).await.unwrap();
    assert!(got > 0, "server closed the connection");
    buf.extend_from_slice(&chunk[..got]);
}

/// 3. Inclusion proofs from a `size`-entry log on PostgreSQL.
fn proof_lookup(pg: &server::Postgres, size: u64) {
    pg.create_database("big");
    let url = pg.url_of("big");
    let store = PgStore::open(&url, "rekor").unwrap();
    let signer = EcdsaP256Signer::generate();
    let synthetic = common::Synthetic::new(&common::proposal(&signer, 0));
    let mut range = CompactRange::new();
    let start = Instant::now();
    let chunk = 10_000u64;
    while range.size() < size {
        let end = (range.size() + chunk).min(size);
        let (commit, _) = synthetic.commit(&mut range, end);
        store.commit(&commit, &[]).unwrap();
    }
    let fill = start.elapsed();
    println!(
        "filled {size} entries by direct commits in {:.1} s ({:.0} entries/s)",
        fill.as_secs_f64(),
        size as f64 / fill.as_secs_f64()
    );
    let root = range.root();
    drop(store);
    let store = PgStore::open(&url, "rekor").unwrap();
    for pass in ["fresh store", "warm"] {
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
            // As `rekor::Log` does: the proof's tiles in one query, then the nodes.
            let mut ids: Vec<NodeId> = Vec::new();
            let _ = tlog::inclusion_proof(index, size, |id| {
                ids.push(id);
                Ok::<_, tlog::Error>([0u8; 32])
            });
            store.prefetch(&ids).unwrap();
            let proof = tlog::inclusion_proof(index, size, |id| store.node(id)).unwrap();
            lat.push(t.elapsed());
            if index % 997 == 0 {
                let record = Record::from_bytes(&store.entry(index).unwrap().unwrap()).unwrap();
                let leaf = tlog::hash_leaf(&record.body_bytes().unwrap());
                tlog::verify_inclusion(index, size, &leaf, &proof, &root).unwrap();
            }
        }
        report(
            &format!("inclusion proof at {size} entries ({pass})"),
            probes,
            start.elapsed(),
            lat,
            Some((0.0, 2.0)),
        );
    }
}

/// How the database was used by `n` writes: leader commits (one checkpoint row each), the
/// entries per commit, and transactions per entry (every server's, from pg_stat_database).
fn transactions(url: &str, n: usize) {
    let psql = |sql: &str| -> f64 {
        let out = Command::new("psql")
            .args([url, "-XAtc", sql])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        out.parse().unwrap_or(0.0)
    };
    let commits = psql("SELECT count(*) FROM rekor.checkpoints");
    let xacts = psql(
        "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()",
    );
    println!(
        "  database: {commits:.0} log commits ({:.1} entries each), {:.2} transactions per entry",
        n as f64 / commits.max(1.0),
        xacts / n as f64
    );
}

/// What more servers can give on this machine: every server, the database and the load
/// generator share its cores, so once one server's run keeps them busy the limit is the
/// one-server rate scaled to a fully busy machine (rate / busy fraction). Printed with the
/// three-server rate as a share of it (the brief's rule: a target above the physical limit
/// is met at >= 90% of that limit).
fn limit_report(label: &str, runs: &[(usize, f64, f64)]) {
    let (Some(one), Some(three)) = (runs.iter().find(|r| r.0 == 1), runs.iter().find(|r| r.0 == 3))
    else {
        return;
    };
    let limit = one.1 / one.2.max(0.01);
    println!(
        "{label}: this machine's limit (1 server: {:.0}/s at {:.0}% CPU, so {limit:.0}/s with \
         every core busy); 3 servers: {:.0}/s = {:.0}% of it   [target >= 90%]",
        one.1,
        one.2 * 100.0,
        three.1,
        three.1 / limit * 100.0
    );
}

/// Prints throughput and p50/p99; `target` is (entries/s, p99 ms), printed beside them.
/// Returns the throughput.
fn report(
    label: &str,
    n: usize,
    elapsed: Duration,
    mut lat: Vec<Duration>,
    target: Option<(f64, f64)>,
) -> f64 {
    lat.sort();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)));
    let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1e3);
    let rate = n as f64 / elapsed.as_secs_f64();
    let (p50, p99) = (ms(pct(0.50)), ms(pct(0.99)));
    let target = match target {
        Some((r, p)) if r > 0.0 => format!("   [target >= {r:.0}/s, p99 <= {p:.0} ms]"),
        Some((_, p)) => format!("   [target p99 <= {p:.0} ms]"),
        None => String::new(),
    };
    println!(
        "{label}: {rate:.0}/s, p50 {p50:.2} ms, p99 {p99:.2} ms ({n} in {:.1} s){target}",
        elapsed.as_secs_f64()
    );
    rate
}

/// The machine's busy CPU time, from `/proc/stat` (all cores): what a phase used of what
/// the machine has. Why: on one machine, servers added beside the database cannot raise
/// throughput once one server's run already keeps every core busy; this figure shows when
/// that limit is reached.
struct CpuMeter {
    busy: u64,
    total: u64,
}

impl CpuMeter {
    fn start() -> CpuMeter {
        let (busy, total) = cpu_ticks();
        CpuMeter { busy, total }
    }

    /// Busy fraction of all cores since `start`.
    fn busy(&self) -> f64 {
        let (busy, total) = cpu_ticks();
        (busy - self.busy) as f64 / (total - self.total).max(1) as f64
    }
}

/// (busy, total) ticks summed over all cores; busy excludes idle and iowait.
fn cpu_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
