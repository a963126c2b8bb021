//! The accept loop: HTTP/1.1 connections served by hyper, bodies read whole under a size cap
//! and a timeout, slow header senders cut off.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{StatusCode, Uri};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::{Error, Request, Response, Result, TlsConfig};

/// A service: turns a whole request into a whole response. Errors are responses too.
pub trait Handler: Send + Sync + 'static {
    /// Handles one request.
    fn handle(&self, request: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>>;
}

/// Limits applied to every connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body; larger gets 413.
    pub max_body: usize,
    /// Time allowed for the request headers to arrive.
    pub header_timeout: Duration,
    /// Time allowed for the whole body to arrive; slower gets 408.
    pub body_timeout: Duration,
    /// Most connections served at once; a connection beyond it is closed at once (and
    /// logged), so a flood of idle sockets cannot exhaust descriptors or memory.
    pub max_connections: usize,
}

impl Default for Limits {
    /// 128 KiB bodies, 10 s for headers, 30 s for the body, 16,384 connections.
    fn default() -> Self {
        Limits {
            max_body: 128 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 16_384,
        }
    }
}

/// Serves HTTP/1.1 on `listener` until `shutdown` completes. Connections already accepted
/// finish on their own tasks.
///
/// Errors: [`Error::Accept`] when the listening socket fails for good.
pub async fn serve(
    listener: TcpListener,
    handler: Arc<dyn Handler>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    serve_with(listener, handler, limits, None, shutdown).await
}

/// Like [`serve`], over TLS (see [`super::tls_config`]). A handshake that does not finish
/// within the header timeout is dropped.
///
/// Errors: [`Error::Accept`] when the listening socket fails for good.
pub async fn serve_tls(
    listener: TcpListener,
    handler: Arc<dyn Handler>,
    limits: Limits,
    tls: TlsConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    serve_with(listener, handler, limits, Some(tls), shutdown).await
}

async fn serve_with(
    listener: TcpListener,
    handler: Arc<dyn Handler>,
    limits: Limits,
    tls: Option<TlsConfig>,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let acceptor = tls.map(|t| tokio_rustls::TlsAcceptor::from(t.0));
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => accepted,
        };
        let (stream, _peer) = match accepted {
            Ok(pair) => pair,
            // Out of file descriptors and the like: back off instead of spinning.
            Err(e) if is_transient(&e) => {
                tracing::warn!(error = %e, "accept failed; retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(source) => return Err(Error::Accept { addr, source }),
        };
        // Over the cap: close at once rather than queue (a queued socket still holds a
        // descriptor and the client would only wait longer).
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(max = limits.max_connections, "connection limit reached; closing");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _slot = slot;
            match acceptor {
                None => serve_connection(stream, handler, limits).await,
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await;
                    match handshake {
                        Ok(Ok(tls_stream)) => serve_connection(tls_stream, handler, limits).await,
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                }
            }
        });
    }
}

async fn serve_connection<S>(stream: S, handler: Arc<dyn Handler>, limits: Limits)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let handler = handler.clone();
        async move { Ok::<_, std::convert::Infallible>(respond(&*handler, req, limits).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(TokioIo::new(stream), service);
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

async fn respond(
    handler: &dyn Handler,
    req: hyper::Request<Incoming>,
    limits: Limits,
) -> hyper::Response<Full<Bytes>> {
    let response = match read_request(req, limits).await {
        Ok(request) => {
            use tracing::Instrument;
            // A debug span: at the default level it is disabled and costs nothing, where an
            // info span would format its fields on every request.
            let span =
                tracing::debug_span!("request", method = %request.method, path = %request.path);
            handler.handle(request).instrument(span).await
        }
        // The body was not read to its end, so the connection cannot carry another request;
        // say so, or a pooling client may reuse it and lose its next request.
        Err(response) => response.with_header("connection", "close"),
    };
    to_hyper(response)
}

async fn read_request(
    req: hyper::Request<Incoming>,
    limits: Limits,
) -> std::result::Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body as u64) {
        return Err(too_large(limits));
    }
    let collected =
        tokio::time::timeout(limits.body_timeout, Limited::new(body, limits.max_body).collect())
            .await;
    let body = match collected {
        Err(_) => {
            return Err(Response::error(StatusCode::REQUEST_TIMEOUT, "request body timed out"))
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large(limits)),
        Ok(Err(_)) => {
            return Err(Response::error(StatusCode::BAD_REQUEST, "request body could not be read"))
        }
        Ok(Ok(c)) => c.to_bytes().to_vec(),
    };
    let (path, query) = split_uri(&parts.uri);
    Ok(Request { method: parts.method, path, query, headers: parts.headers, body })
}

fn split_uri(uri: &Uri) -> (String, Option<String>) {
    (uri.path().to_string(), uri.query().map(str::to_string))
}

fn too_large(limits: Limits) -> Response {
    Response::error(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("request body is larger than {} bytes", limits.max_body),
    )
}

fn to_hyper(response: Response) -> hyper::Response<Full<Bytes>> {
    let mut builder = hyper::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder.body(Full::new(Bytes::from(response.body))).unwrap_or_else(|_| {
        // A header value we built was not valid; never expected, but do not panic a server.
        let mut r = hyper::Response::new(Full::new(Bytes::from_static(
            br#"{"code":500,"message":"invalid response header"}"#,
        )));
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

fn is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted | WouldBlock)
        || e.raw_os_error().is_some_and(|c| c == 23 || c == 24)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::*;

    struct Echo;

    impl Handler for Echo {
        fn handle(&self, request: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
            Box::pin(async move {
                Response::bytes(StatusCode::OK, "application/octet-stream", request.body)
            })
        }
    }

    /// Starts the server on a thread with its own runtime; returns the address.
    fn start(limits: Limits) -> std::net::SocketAddr {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                serve(listener, Arc::new(Echo), limits, std::future::pending()).await.unwrap();
            });
        });
        rx.recv().unwrap()
    }

    fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        // Read until the response is complete (Content-Length known) or the peer closes.
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
            let text = String::from_utf8_lossy(&out);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|v| v.trim().parse::<usize>().ok());
                if len.is_some_and(|n| body.len() >= n) {
                    break;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    fn limits() -> Limits {
        Limits {
            max_body: 64,
            header_timeout: Duration::from_millis(300),
            body_timeout: Duration::from_millis(300),
            max_connections: 64,
        }
    }

    #[test]
    fn connections_over_the_cap_are_closed_and_a_freed_slot_serves_again() {
        let addr = start(Limits { max_connections: 2, ..Limits::default() });
        let idle: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
        // Wait until the server has accepted both (their slots are taken): a third
        // connection is then closed without an answer.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let mut third = TcpStream::connect(addr).unwrap();
            third.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let _ = third.write_all(b"GET /x HTTP/1.1\r\nhost: a\r\n\r\n");
            let mut buf = [0u8; 64];
            match third.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => assert!(std::time::Instant::now() < deadline, "never refused"),
            }
        }
        drop(idle);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let resp =
                exchange(addr, b"POST /x HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\n\r\nok");
            if resp.starts_with("HTTP/1.1 200") {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "a freed slot never served: {resp}");
        }
    }

    #[test]
    fn body_within_cap_is_handed_to_the_handler() {
        let addr = start(limits());
        let resp = exchange(addr, b"POST /x HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello");
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        assert!(resp.ends_with("hello"), "{resp}");
    }

    #[test]
    fn declared_oversized_body_is_413_json() {
        let addr = start(limits());
        let resp = exchange(addr, b"POST /x HTTP/1.1\r\nhost: a\r\ncontent-length: 65\r\n\r\n");
        assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
        assert!(resp.contains(r#""code":413"#), "{resp}");
        assert!(resp.contains("connection: close"), "{resp}");
    }

    #[test]
    fn chunked_body_over_the_cap_is_413() {
        let addr = start(limits());
        let chunk = "a".repeat(40);
        let req = format!(
            "POST /x HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n\
             28\r\n{chunk}\r\n28\r\n{chunk}\r\n0\r\n\r\n"
        );
        let resp = exchange(addr, req.as_bytes());
        assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    }

    #[test]
    fn slow_body_is_408_json() {
        let addr = start(limits());
        let resp = exchange(addr, b"POST /x HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\nabc");
        assert!(resp.starts_with("HTTP/1.1 408"), "{resp}");
        assert!(resp.contains(r#""code":408"#), "{resp}");
    }

    #[test]
    fn slow_headers_close_the_connection() {
        let addr = start(limits());
        let started = std::time::Instant::now();
        let resp = exchange(addr, b"GET /x HTTP/1.1\r\nhost: a\r\n");
        assert!(!resp.contains(" 200 "), "{resp}");
        assert!(started.elapsed() < Duration::from_secs(5), "connection was not cut off");
    }
}
