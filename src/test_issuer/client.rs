//! Asking a sigbox test issuer for a token (`sigbox token`, tests, benchmarks): one
//! `client_credentials` request to its `/token` endpoint.

use std::time::Duration;

/// Why no token came back.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The request failed or the issuer answered with an error status.
    #[error("requesting a token from {url}")]
    Request {
        /// The token endpoint.
        url: String,
        /// Cause.
        #[source]
        source: reqwest::Error,
    },
    /// The answer could not be read, or is an error status (its message quoted).
    #[error("the token endpoint {url} answered: {message}")]
    Refused {
        /// The token endpoint.
        url: String,
        /// What it said, or why its answer could not be read.
        message: String,
    },
    /// The answer has no `id_token`.
    #[error("the answer of {0} has no id_token")]
    NoToken(String),
}

/// Whom the token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSubject {
    /// An email (the token carries `email` and `email_verified: true`; `sub` = the email).
    Email(String),
    /// A bare subject, no email claim.
    Subject(String),
}

/// Requests a token for `who` from the test issuer at `issuer_url` (blocking; do not call
/// from async code).
pub fn request_token(issuer_url: &str, who: &TokenSubject) -> Result<String, ClientError> {
    let url = format!("{}/token", issuer_url.trim_end_matches('/'));
    let error = |source| ClientError::Request { url: url.clone(), source };
    let client =
        crate::http::blocking_builder().timeout(Duration::from_secs(30)).build().map_err(error)?;
    let (field, value) = match who {
        TokenSubject::Email(e) => ("email", e.as_str()),
        TokenSubject::Subject(s) => ("subject", s.as_str()),
    };
    let response = client
        .post(&url)
        .form(&[("grant_type", "client_credentials"), (field, value)])
        .send()
        .map_err(error)?;
    let refused = |message: String| ClientError::Refused { url: url.clone(), message };
    let read = crate::http::Answer::read(response, &url, crate::http::MAX_RESPONSE_BYTES)
        .map_err(|e| refused(e.to_string()))?;
    if !read.is_success() {
        return Err(refused(read.error_message()));
    }
    let answer = read.json().ok_or_else(|| refused("an answer that is not JSON".into()))?;
    answer
        .get("id_token")
        .and_then(|t| t.as_str())
        .map(str::to_string)
        .ok_or_else(|| ClientError::NoToken(url.clone()))
}
