//! The client against an in-process fake registry (plain sockets): bearer challenges,
//! retries, digest checks and chunked uploads — behaviours the real test registry
//! (`docker-registry` with htpasswd) cannot show.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;

/// One request as the fake saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    body: Vec<u8>,
}

type Reply = (u16, Vec<(String, String)>, Vec<u8>);

/// Serves `handler` on a loopback port until the test ends; returns `host:port` and the
/// log of requests.
fn fake(
    handler: impl Fn(&Seen, &str) -> Reply + Send + 'static,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen_log = log.clone();
    let own = host.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            // The client tries HTTPS first: a TLS hello is not HTTP, so anything that does
            // not parse (or stalls) just closes the connection and the client falls back.
            let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
            if let Some(seen) = read_request(&stream) {
                seen_log.lock().unwrap().push(seen.clone());
                let (status, headers, body) = handler(&seen, &own);
                let mut out = format!("HTTP/1.1 {status} X\r\nconnection: close\r\n");
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                let length = if seen.method == "HEAD" { 0 } else { body.len() };
                out.push_str(&format!("content-length: {length}\r\n\r\n"));
                let mut stream = stream;
                let _ = stream.write_all(out.as_bytes());
                if seen.method != "HEAD" {
                    let _ = stream.write_all(&body);
                }
            }
        }
    });
    (host, log)
}

fn read_request(stream: &std::net::TcpStream) -> Option<Seen> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    if !path.starts_with('/') {
        return None;
    }
    let (mut length, mut authorization) = (0usize, None);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "authorization" => authorization = Some(value.trim().to_string()),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Seen { method, path, authorization, body })
}

fn client(credentials: Option<Credentials>) -> Client {
    Client::new(Options {
        credentials,
        docker_config: None,
        backoff: Duration::from_millis(1),
        chunk_size: 4,
        ..Options::default()
    })
    .unwrap()
}

const MANIFEST: &[u8] = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a","digest":"sha256:00","size":0},"layers":[]}"#;

fn manifest_reply(digest: &str) -> Reply {
    (
        200,
        vec![
            ("content-type".into(), manifest::OCI_MANIFEST.into()),
            ("docker-content-digest".into(), digest.into()),
        ],
        MANIFEST.to_vec(),
    )
}

#[test]
fn bearer_challenge_is_answered_once_with_basic_credentials() {
    let (host, log) = fake(|seen, host| {
        let challenge = format!(
            r#"Bearer realm="http://{host}/token",service="fake",scope="repository:app:pull""#
        );
        if seen.path.starts_with("/token") {
            assert!(seen.path.contains("service=fake"), "{}", seen.path);
            assert!(seen.path.contains("scope=repository%3Aapp%3Apull"), "{}", seen.path);
            assert_eq!(seen.authorization.as_deref(), Some("Basic dTpw"));
            return (200, vec![], br#"{"token":"tok"}"#.to_vec());
        }
        if seen.authorization.as_deref() != Some("Bearer tok") {
            return (401, vec![("www-authenticate".into(), challenge)], Vec::new());
        }
        manifest_reply(&manifest::sha256_digest(MANIFEST))
    });
    let c = client(Some(Credentials { username: "u".into(), password: "p".into() }));
    let reference = Reference::parse(&format!("{host}/app:v1")).unwrap();
    for _ in 0..2 {
        let pulled = c.get_manifest(&reference).unwrap();
        assert_eq!(pulled.digest, manifest::sha256_digest(MANIFEST));
    }
    let tokens = log.lock().unwrap().iter().filter(|s| s.path.starts_with("/token")).count();
    assert_eq!(tokens, 1, "the token is cached for the scope");
}

#[test]
fn busy_registry_is_retried_and_wrong_digest_is_refused() {
    let calls = Arc::new(Mutex::new(0));
    let counter = calls.clone();
    let (host, _) = fake(move |seen, _| {
        if seen.path == "/v2/" {
            return (200, vec![], Vec::new());
        }
        let mut n = counter.lock().unwrap();
        *n += 1;
        if *n <= 2 {
            return (503, vec![], b"busy".to_vec());
        }
        if seen.path.ends_with("/bad") {
            return manifest_reply(&format!("sha256:{}", "0".repeat(64)));
        }
        manifest_reply(&manifest::sha256_digest(MANIFEST))
    });
    let c = client(None);
    let good = Reference::parse(&format!("{host}/app:good")).unwrap();
    assert!(c.get_manifest(&good).is_ok());
    assert_eq!(*calls.lock().unwrap(), 3, "two 503s, then success");
    let bad = Reference::parse(&format!("{host}/app:bad")).unwrap();
    let err = c.get_manifest(&bad).unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    assert!(err.to_string().contains("app:bad"), "names the reference: {err}");
}

#[test]
fn large_blobs_go_up_in_chunks_and_basic_auth_is_refused_without_credentials() {
    let (host, log) = fake(|seen, _| match (seen.method.as_str(), seen.path.as_str()) {
        ("GET", "/v2/") => (200, vec![], Vec::new()),
        ("HEAD", _) => (404, vec![], Vec::new()),
        ("POST", _) => (202, vec![("location".into(), "/upload/1?_state=s".into())], Vec::new()),
        ("PATCH", _) => (202, vec![("location".into(), "/upload/1?_state=t".into())], Vec::new()),
        ("PUT", p) if p.starts_with("/upload/1?_state=t&digest=sha256%3A") => {
            (201, vec![], Vec::new())
        }
        ("GET", p) if p.starts_with("/v2/locked") => {
            (401, vec![("www-authenticate".into(), r#"Basic realm="x""#.into())], Vec::new())
        }
        other => panic!("unexpected {other:?}"),
    });
    let c = client(None);
    let repo = Reference::parse(&format!("{host}/app:v1")).unwrap();
    let data = b"0123456789";
    assert_eq!(c.push_blob(&repo, data, None).unwrap(), manifest::sha256_digest(data));
    let seen = log.lock().unwrap().clone();
    let patches: Vec<_> = seen.iter().filter(|s| s.method == "PATCH").collect();
    assert_eq!(patches.len(), 3);
    let joined: Vec<u8> = patches.iter().flat_map(|s| s.body.clone()).collect();
    assert_eq!(joined, data);
    let locked = Reference::parse(&format!("{host}/locked:v1")).unwrap();
    let err = c.get_manifest(&locked).unwrap_err().to_string();
    assert!(err.contains("cosign login"), "{err}");
}
