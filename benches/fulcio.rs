//! `make bench` (CA part): certificates issued per second and latency percentiles with many
//! concurrent clients against a real `fulcio-server` + `oidc-server` on loopback.
//!
//! Runs the release binary (`SIGBOX_BIN`, default the static build `make release` makes).
//! Knobs (environment): `FULCIO_BENCH_CLIENTS` (default 32 client threads),
//! `FULCIO_BENCH_SECS` (default 10 s per run after a 1 s warm-up), `FULCIO_BENCH_CURVES`
//! (default `p256,p384`: the CA curve of each run). Clients use raw HTTP/1.1 keep-alive
//! connections and request bodies prepared up front (sigstore-js shape: public key + proof
//! of possession), so the client side costs as little CPU as possible on a shared machine.
//! Figures are printed, not asserted.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sigbox::crypto::{EcdsaP256Signer, Signer};
use sigbox::encoding::b64_encode;

const EMAIL: &str = "bench@sigbox.local";

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(bin: &PathBuf, args: &[&str]) -> Server {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        BufReader::new(stdout).read_line(&mut line).expect("reading the listening line");
        let Some(url) = line.trim().strip_prefix("listening on http://") else {
            let _ = child.kill();
            panic!("{args:?} did not start: {line:?}");
        };
        Server { child, addr: url.to_string() }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn main() {
    let bin = std::env::var_os("SIGBOX_BIN").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("target/x86_64-unknown-linux-gnu/release/sigbox")
    });
    let clients = env_number("FULCIO_BENCH_CLIENTS", 32);
    let secs = env_number("FULCIO_BENCH_SECS", 10);
    let curves = std::env::var("FULCIO_BENCH_CURVES").unwrap_or_else(|_| "p256,p384".into());
    println!("fulcio bench: {} ({clients} clients, {secs} s per run)", bin.display());
    for curve in curves.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        run(&bin, curve, clients, Duration::from_secs(secs as u64));
    }
}

fn run(bin: &PathBuf, curve: &str, clients: usize, duration: Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let oidc_dir = dir.path().join("oidc");
    let issuer = Server::start(
        bin,
        &[
            "oidc-server",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            oidc_dir.to_str().expect("utf-8"),
        ],
    );
    let issuer_url = format!("http://{}", issuer.addr);
    let config = serde_json::json!({"OIDCIssuers": {&issuer_url: {
        "IssuerURL": &issuer_url, "ClientID": "sigstore", "Type": "email"}}});
    let config_path = dir.path().join("config.json");
    std::fs::write(&config_path, config.to_string()).expect("config");
    let ca_dir = dir.path().join("ca");
    let fulcio = Server::start(
        bin,
        &[
            "fulcio-server",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            ca_dir.to_str().expect("utf-8"),
            "--config",
            config_path.to_str().expect("utf-8"),
            "--ca-curve",
            curve,
        ],
    );

    let token = token(&issuer.addr);
    // One key per client, bodies prepared before the clock starts.
    let bodies: Vec<Arc<Vec<u8>>> = (0..clients)
        .map(|_| {
            let key = EcdsaP256Signer::generate();
            let proof = key.sign(EMAIL.as_bytes()).expect("signs");
            let body = serde_json::json!({
                "credentials": {"oidcIdentityToken": token},
                "publicKeyRequest": {
                    "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem()},
                    "proofOfPossession": b64_encode(proof),
                }
            });
            let body = body.to_string();
            Arc::new(
                format!(
                    "POST /api/v2/signingCert HTTP/1.1\r\nHost: {}\r\n\
                     Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    fulcio.addr,
                    body.len()
                )
                .into_bytes(),
            )
        })
        .collect();

    let warmup = Duration::from_secs(1);
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = bodies
        .into_iter()
        .map(|request| {
            let addr = fulcio.addr.clone();
            let stop = stop.clone();
            let measuring = measuring.clone();
            std::thread::spawn(move || client(&addr, &request, &stop, &measuring))
        })
        .collect();
    std::thread::sleep(warmup);
    let server_pid = fulcio.child.id();
    let cpu_before = cpu_seconds(server_pid);
    measuring.store(true, Ordering::SeqCst);
    let start = Instant::now();
    std::thread::sleep(duration);
    measuring.store(false, Ordering::SeqCst);
    let elapsed = start.elapsed();
    let server_cpu = cpu_seconds(server_pid) - cpu_before;
    stop.store(true, Ordering::SeqCst);
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in threads {
        let (l, e) = t.join().expect("client thread");
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_unstable();
    let n = latencies.len();
    let pct = |p: f64| -> f64 {
        let i = ((n as f64 * p).ceil() as usize).saturating_sub(1).min(n.saturating_sub(1));
        latencies.get(i).map(|d| d.as_secs_f64() * 1e3).unwrap_or(f64::NAN)
    };
    let log_size = tree_size(&fulcio.addr);
    println!(
        "CA {curve}: {:>8.0} certificates/s   p50 {:>7.2} ms   p99 {:>7.2} ms   \
         ({n} issued in {:.1} s, {errors} errors, CT log size {log_size})",
        n as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        elapsed.as_secs_f64(),
    );
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "        server CPU {:.2} ms per certificate, {:.0}% of {cores} cores busy in the server",
        server_cpu * 1e3 / (n.max(1) as f64),
        server_cpu * 100.0 / elapsed.as_secs_f64() / cores as f64,
    );
}

/// User + system CPU seconds used so far by process `pid` (Linux `/proc/PID/stat`, fields
/// 14 and 15, in clock ticks of 1/100 s as on every Linux x86_64 build).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // The command name (field 2) may hold spaces: count fields after its closing ')'.
    let Some((_, after)) = stat.rsplit_once(')') else { return 0.0 };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // After ')': field 3 is index 0, so utime (14) is index 11 and stime (15) index 12.
    (ticks(11) + ticks(12)) / 100.0
}

/// One client: a keep-alive connection sending the same request until told to stop.
/// Returns the latencies measured while `measuring` was set and the error count.
fn client(
    addr: &str,
    request: &[u8],
    stop: &AtomicBool,
    measuring: &AtomicBool,
) -> (Vec<Duration>, usize) {
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut conn: Option<BufReader<TcpStream>> = None;
    while !stop.load(Ordering::Relaxed) {
        let reader = match conn.as_mut() {
            Some(c) => c,
            None => {
                let stream = TcpStream::connect(addr).expect("connect");
                let _ = stream.set_nodelay(true);
                conn.insert(BufReader::new(stream))
            }
        };
        let started = Instant::now();
        let counted = measuring.load(Ordering::Relaxed);
        match exchange(reader, request) {
            Ok(200) => {
                if counted && measuring.load(Ordering::Relaxed) {
                    latencies.push(started.elapsed());
                }
            }
            Ok(_) => errors += 1,
            Err(_) => {
                errors += 1;
                conn = None;
            }
        }
    }
    (latencies, errors)
}

/// Sends one request and reads one response; returns the status.
fn exchange(reader: &mut BufReader<TcpStream>, request: &[u8]) -> std::io::Result<u16> {
    reader.get_mut().write_all(request)?;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    Ok(status)
}

fn token(issuer_addr: &str) -> String {
    let body = format!("grant_type=client_credentials&email={}", EMAIL.replace('@', "%40"));
    let request = format!(
        "POST /token HTTP/1.1\r\nHost: {issuer_addr}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let text = http_text(issuer_addr, &request);
    let json: serde_json::Value = serde_json::from_str(&text).expect("token JSON");
    json["id_token"].as_str().expect("id_token").to_string()
}

fn tree_size(addr: &str) -> u64 {
    let request =
        format!("GET /ct/v1/get-sth HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let text = http_text(addr, &request);
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["tree_size"].as_u64())
        .unwrap_or(0)
}

fn http_text(addr: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
