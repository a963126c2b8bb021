//! Hostile clients against every server of a real `sigbox up` (CA, log, test OIDC issuer
//! and whatever else it runs): slowloris headers, slow bodies, oversized headers and
//! bodies, malformed HTTP and 5,000 idle connections. Each is cut off within a bounded
//! time, the server's memory stays bounded, and a well-behaved client is served
//! throughout.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::process::Process;

/// The header and body timeouts the instance runs with (seconds), short so the test is.
const TIMEOUT_SECS: u64 = 2;
/// How long past its timeout a server may take to cut a client off.
const GRACE: Duration = Duration::from_secs(3);

struct Instance {
    process: Process,
    /// (what, address, a GET path that answers 200).
    servers: Vec<(String, SocketAddr, &'static str)>,
}

fn start(data_dir: &std::path::Path) -> Instance {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sigbox"));
    command.arg("up").arg("--data-dir").arg(data_dir);
    for flag in [
        "--fulcio-port",
        "--rekor-port",
        "--oidc-port",
        "--rekor-v2-port",
        "--tsa-port",
        "--tuf-port",
    ] {
        command.args([flag, "0"]);
    }
    let secs = TIMEOUT_SECS.to_string();
    command.args(["--header-timeout", &secs, "--body-timeout", &secs]);
    let mut process = Process::spawn(command, None);
    let lines = process.wait_for(|line| line.trim() == "ready");
    // Every `http://` address the instance printed is a server to attack.
    let mut servers = Vec::new();
    for line in &lines {
        let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) else {
            continue;
        };
        let host_port = url.trim_start_matches("http://").split('/').next().unwrap_or_default();
        let Ok(addr) = host_port.parse::<SocketAddr>() else {
            continue;
        };
        if servers.iter().any(|(_, a, _)| *a == addr) {
            continue;
        }
        let what = line.trim().to_string();
        let path = if what.starts_with("CA") {
            "/api/v2/configuration"
        } else if what.starts_with("OIDC") {
            "/.well-known/openid-configuration"
        } else if what.starts_with("log (Rekor v2)") {
            "/checkpoint"
        } else if what.starts_with("timestamps") {
            "/api/v1/timestamp/certchain"
        } else if what.starts_with("log") {
            "/api/v1/log"
        } else if what.starts_with("TUF") {
            "/root.json"
        } else {
            "/"
        };
        servers.push((what, addr, path));
    }
    assert!(servers.len() >= 5, "expected CA, both logs, TSA and issuer in {lines:?}");
    Instance { process, servers }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// A well-behaved request: must be answered (any status below 500) within two seconds.
fn served(addr: SocketAddr, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok()
        && (head.starts_with(b"HTTP/1.1 2")
            || head.starts_with(b"HTTP/1.1 3")
            || head.starts_with(b"HTTP/1.1 4"))
}

/// Reads until the server answers or closes; returns what it said and how long it took.
fn until_answer_or_close(s: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let start = Instant::now();
    let _ = s.set_read_timeout(Some(limit));
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
        if start.elapsed() > limit {
            break;
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
}

/// Sends `bytes` one at a time every 100 ms on its own thread until the peer stops
/// taking them; the main thread watches for the cut-off.
fn trickle(s: &TcpStream, bytes: &'static [u8]) -> std::thread::JoinHandle<()> {
    let mut w = s.try_clone().expect("clone");
    std::thread::spawn(move || {
        for b in bytes.iter().cycle().take(10_000) {
            if w.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
}

fn slowloris_headers_are_cut_off(what: &str, addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nhost: a\r\n").unwrap();
    let writer = trickle(&s, b"x-slow: aaaaaaaa\r\n");
    let (said, took) = until_answer_or_close(&mut s, Duration::from_secs(TIMEOUT_SECS) + GRACE * 2);
    assert!(
        took <= Duration::from_secs(TIMEOUT_SECS) + GRACE,
        "{what}: a slowloris client was held {took:?} (said {said:?})"
    );
    let _ = s.shutdown(std::net::Shutdown::Both);
    let _ = writer.join();
}

fn slow_bodies_are_cut_off(what: &str, addr: SocketAddr, path: &str) {
    let mut s = TcpStream::connect(addr).unwrap();
    let head = format!("POST {path} HTTP/1.1\r\nhost: a\r\ncontent-length: 100000\r\ncontent-type: application/json\r\n\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let writer = trickle(&s, b"{");
    let (said, took) = until_answer_or_close(&mut s, Duration::from_secs(TIMEOUT_SECS) + GRACE * 2);
    assert!(
        took <= Duration::from_secs(TIMEOUT_SECS) + GRACE,
        "{what}: a slow body was waited for {took:?}"
    );
    assert!(said.is_empty() || said.starts_with("HTTP/1.1 408"), "{what}: slow body got {said:?}");
    let _ = s.shutdown(std::net::Shutdown::Both);
    let _ = writer.join();
}

fn oversized_and_malformed_requests_are_refused(what: &str, addr: SocketAddr, path: &str) {
    let exchange = |request: &[u8]| {
        let mut s = TcpStream::connect(addr).unwrap();
        // The server may answer and close before it has read everything we send.
        let _ = s.write_all(request);
        until_answer_or_close(&mut s, Duration::from_secs(5))
    };
    // A 1 MiB header line.
    let mut big_header = b"GET / HTTP/1.1\r\nhost: a\r\nx-big: ".to_vec();
    big_header.extend(std::iter::repeat(b'a').take(1 << 20));
    big_header.extend_from_slice(b"\r\n\r\n");
    let (said, _) = exchange(&big_header);
    assert!(
        said.is_empty() || said.starts_with("HTTP/1.1 431"),
        "{what}: huge header got {said:?}"
    );
    // A declared 64 MiB body is refused before any of it is read.
    let declared = format!("POST {path} HTTP/1.1\r\nhost: a\r\ncontent-length: 67108864\r\n\r\n");
    let (said, took) = exchange(declared.as_bytes());
    assert!(said.starts_with("HTTP/1.1 413"), "{what}: 64 MiB body got {said:?}");
    assert!(said.contains("application/json"), "{what}: 413 without a JSON body: {said:?}");
    assert!(took < Duration::from_secs(2), "{what}: 413 took {took:?}");
    // An undeclared (chunked) body past the cap.
    let mut chunked =
        format!("POST {path} HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n")
            .into_bytes();
    for _ in 0..64 {
        chunked.extend_from_slice(b"4000\r\n");
        chunked.extend(std::iter::repeat(b'{').take(0x4000));
        chunked.extend_from_slice(b"\r\n");
    }
    let (said, _) = exchange(&chunked);
    assert!(said.starts_with("HTTP/1.1 413"), "{what}: 1 MiB chunked body got {said:?}");
    // Garbage instead of HTTP.
    for garbage in [&b"\x00\x01\x02GARBAGE\r\n\r\n"[..], b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n"]
    {
        let (said, _) = exchange(garbage);
        assert!(
            said.is_empty() || said.starts_with("HTTP/1.1 4") || said.starts_with("HTTP/1.1 505"),
            "{what}: {garbage:?} got {said:?}"
        );
    }
}

/// 5,000 connections that never send a byte: the server keeps serving a well-behaved
/// client while they are open, its memory stays bounded, and it closes them after the
/// header timeout.
fn five_thousand_idle_connections(what: &str, addr: SocketAddr, path: &str, pid: u32) {
    const IDLE: usize = 5_000;
    let before = rss_kib(pid);
    let mut idle = Vec::with_capacity(IDLE);
    for i in 0..IDLE {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(s) => idle.push(s),
            Err(e) => panic!("{what}: idle connection {i} refused: {e}"),
        }
    }
    let opened = Instant::now();
    assert!(served(addr, path), "{what}: not serving with {IDLE} idle connections open");
    let during = rss_kib(pid);
    eprintln!("{what}: RSS {before} KiB before, {during} KiB with {IDLE} idle connections");
    assert!(
        during.saturating_sub(before) < 256 * 1024,
        "{what}: {IDLE} idle connections cost {} KiB",
        during.saturating_sub(before)
    );
    // Every idle connection is closed by the server once the header timeout has passed
    // (a read that blocks until then: EOF or a reset, never data, never still open).
    let deadline = opened + Duration::from_secs(TIMEOUT_SECS) + GRACE * 2;
    for (i, s) in idle.iter_mut().enumerate().step_by(97) {
        let left =
            deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(50));
        s.set_read_timeout(Some(left)).unwrap();
        let mut probe = [0u8; 1];
        match s.read(&mut probe) {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!(
                "{what}: idle connection {i} not closed {:?} after it opened: {other:?}",
                opened.elapsed()
            ),
        }
    }
    drop(idle);
    assert!(served(addr, path), "{what}: not serving after the idle connections went");
}

#[test]
fn every_server_of_sigbox_up_survives_hostile_clients() {
    // The test process needs 5,000 descriptors too.
    let files = sigbox::sys::raise_fd_limit().unwrap_or(0);
    assert!(
        files > 5_200,
        "this test needs an open-file limit above 5,200 (ulimit -Hn is {files})"
    );
    let dir = tempfile::tempdir().unwrap();
    let instance = start(dir.path());
    let pid = instance.process.id();
    // Each server on its own thread: they are attacked at the same time, as they would be.
    std::thread::scope(|scope| {
        for (what, addr, path) in &instance.servers {
            let (what, addr, path) = (what.as_str(), *addr, *path);
            scope.spawn(move || {
                assert!(served(addr, path), "{what}: not serving at the start");
                slowloris_headers_are_cut_off(what, addr);
                assert!(served(addr, path), "{what}: not serving after slowloris");
                slow_bodies_are_cut_off(what, addr, path);
                oversized_and_malformed_requests_are_refused(what, addr, path);
                assert!(served(addr, path), "{what}: not serving after bad requests");
            });
        }
    });
    // The idle floods one server at a time: 5,000 descriptors each on this side too.
    for (what, addr, path) in &instance.servers {
        five_thousand_idle_connections(what, *addr, path, pid);
    }
    let log = instance.process.log();
    assert!(!log.contains("panicked"), "a server panicked:\n{log}");
}
