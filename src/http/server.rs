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

use super::{Error, Request, Response, Result};

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
}

impl Default for Limits {
    /// 128 KiB bodies, 10 s for headers, 30 s for the body.
    fn default() -> Self {
        Limits {
            max_body: 128 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
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
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
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
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        tokio::spawn(async move {
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
        });
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
            let span =
                tracing::info_span!("request", method = %request.method, path = %request.path);
            handler.handle(request).instrument(span).await
        }
        Err(response) => response,
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
