//! Reading what a server answered: the whole body, capped, so a server that streams
//! forever gets a clear error instead of filling memory; and the message an error body
//! carries, in the spellings Sigstore services and OAuth servers use. Every HTTP client in
//! sigbox reads its responses through [`Answer::read`].

use std::io::Read as _;

use serde_json::Value;

/// The largest response body clients read by default: trust files, JSON answers and
/// certificate chains are far smaller.
pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// Why a response could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The connection failed while the body was read.
    #[error("reading the response from {url}")]
    Transport {
        /// The URL asked.
        url: String,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The body is larger than the reader allows.
    #[error("the response from {url} is larger than {limit} bytes")]
    TooLarge {
        /// The URL asked.
        url: String,
        /// The cap.
        limit: u64,
    },
}

/// A response read whole: its status and body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// Reads `response` whole, refusing a body over `limit` bytes.
    ///
    /// Errors: [`ReadError::Transport`], [`ReadError::TooLarge`].
    pub fn read(
        response: reqwest::blocking::Response,
        url: &str,
        limit: u64,
    ) -> Result<Answer, ReadError> {
        let status = response.status().as_u16();
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(ReadError::TooLarge { url: url.into(), limit });
        }
        let mut body = Vec::new();
        response
            .take(limit.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|source| ReadError::Transport { url: url.into(), source })?;
        if body.len() as u64 > limit {
            return Err(ReadError::TooLarge { url: url.into(), limit });
        }
        Ok(Answer { status, body })
    }

    /// [`Answer::read`] for an async response: chunks are counted as they arrive, so a
    /// server that streams forever is cut off at `limit`.
    ///
    /// Errors: [`ReadError::Transport`], [`ReadError::TooLarge`].
    pub async fn read_async(
        mut response: reqwest::Response,
        url: &str,
        limit: u64,
    ) -> Result<Answer, ReadError> {
        let status = response.status().as_u16();
        let too_large = || ReadError::TooLarge { url: url.into(), limit };
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| ReadError::Transport {
            url: url.into(),
            source: std::io::Error::other(e),
        })? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer { status, body })
    }

    /// A 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// What an error body says: `message` (Sigstore services), `error_description` or
    /// `error` (OAuth), else the start of the body, else the status.
    pub fn error_message(&self) -> String {
        let from_json = self.json().and_then(|v| {
            ["message", "error_description", "error"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
        });
        from_json.unwrap_or_else(|| {
            let text: String = String::from_utf8_lossy(&self.body).chars().take(200).collect();
            if text.trim().is_empty() {
                format!("HTTP {}", self.status)
            } else {
                text
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer { status, body: body.as_bytes().to_vec() }
    }

    /// A loopback server that answers one request with a close-delimited body of `size`
    /// bytes (no Content-Length), as a server that streams forever would start.
    fn streaming_server(size: usize) -> String {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/stream", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request);
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 0;
            while sent < size && socket.write_all(&chunk).is_ok() {
                sent += chunk.len();
            }
        });
        url
    }

    #[test]
    fn a_body_past_the_cap_is_refused_by_both_readers() {
        let limit = 256 * 1024;
        let url = streaming_server(4 * 1024 * 1024);
        let client = crate::http::blocking_client(std::time::Duration::from_secs(10)).unwrap();
        let response = client.get(&url).send().unwrap();
        let err = Answer::read(response, &url, limit).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { limit: 262_144, .. }), "{err}");

        let url = streaming_server(4 * 1024 * 1024);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let err = runtime.block_on(async {
            let client = crate::http::builder().build().unwrap();
            let response = client.get(&url).send().await.unwrap();
            Answer::read_async(response, &url, limit).await.unwrap_err()
        });
        assert!(matches!(err, ReadError::TooLarge { limit: 262_144, .. }), "{err}");

        let url = streaming_server(100);
        let response = client.get(&url).send().unwrap();
        assert_eq!(Answer::read(response, &url, limit).unwrap().body.len(), 64 * 1024);
    }

    #[test]
    fn error_messages_come_from_each_spelling() {
        assert_eq!(
            answer(400, r#"{"code":400,"message":"bad entry"}"#).error_message(),
            "bad entry"
        );
        let oauth = answer(400, r#"{"error":"invalid_grant","error_description":"expired"}"#);
        assert_eq!(oauth.error_message(), "expired");
        assert_eq!(answer(403, r#"{"error":"access_denied"}"#).error_message(), "access_denied");
        assert_eq!(answer(502, "upstream down").error_message(), "upstream down");
        assert_eq!(answer(500, "").error_message(), "HTTP 500");
        assert!(answer(201, "{}").is_success() && !answer(404, "").is_success());
    }
}
