//! Whole-body request and response values passed between the server and services.

use hyper::{HeaderMap, Method, StatusCode};

/// A request whose body was read completely (under the size cap).
#[derive(Debug, Clone)]
pub struct Request {
    /// The HTTP method.
    pub method: Method,
    /// The path, percent-encoded as received, without the query.
    pub path: String,
    /// The raw query string (after `?`), if any.
    pub query: Option<String>,
    /// Request headers.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// The value of query parameter `name` (first occurrence), percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        query_param(self.query.as_deref()?, name)
    }
}

/// A response: status, headers, body bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: StatusCode,
    /// Headers as (name, value) pairs; names in lowercase.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON response with `Content-Type: application/json`.
    pub fn json(status: StatusCode, value: &serde_json::Value) -> Response {
        Response::bytes(status, "application/json", value.to_string().into_bytes())
    }

    /// A JSON response from bytes already serialized.
    pub fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
        Response::bytes(status, "application/json", body)
    }

    /// A response with the given content type.
    pub fn bytes(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response {
        Response { status, headers: vec![("content-type".into(), content_type.into())], body }
    }

    /// The Rekor/Fulcio error shape: `{"code": <status>, "message": "..."}`.
    pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
        let message: String = message.into();
        Response::json(status, &serde_json::json!({"code": status.as_u16(), "message": message}))
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// The value of header `name`, if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// The first value of `name` in a raw query string, percent-decoded (`+` is a space).
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k)? == name).then(|| percent_decode(v)).flatten()
    })
}

/// Decodes one query component: `+` is a space, then percent-decoding by the
/// `percent-encoding` crate (rust-url's). Stricter than that crate alone: a `%` not followed
/// by two hex digits (`%zz`, `%+1`) or bytes that are not UTF-8 make the whole value
/// invalid rather than passing through.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, b)| {
        *b != b'%' || bytes.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8().ok().map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_percent_decoded() {
        assert_eq!(query_param("a=1&logIndex=42", "logIndex").as_deref(), Some("42"));
        assert_eq!(query_param("x=a%2Bb+c", "x").as_deref(), Some("a+b c"));
        assert_eq!(query_param("x=%zz", "x"), None);
        // u8::from_str_radix took a sign: "%+1" decoded to 0x01.
        assert_eq!(query_param("x=%+1", "x"), None);
        assert_eq!(query_param("x=%4", "x"), None);
        assert_eq!(query_param("x=%ff", "x"), None, "not UTF-8");
        assert_eq!(query_param("x=%E2%9C%93", "x").as_deref(), Some("✓"));
        assert_eq!(query_param("y=1", "x"), None);
    }

    #[test]
    fn error_response_has_code_and_message() {
        let r = Response::error(StatusCode::NOT_FOUND, "entry 7 not found");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v, serde_json::json!({"code": 404, "message": "entry 7 not found"}));
        assert_eq!(r.header("Content-Type"), Some("application/json"));
    }
}
