//! The one timestamp client: asks a TSA for an RFC 3161 token over signature bytes
//! (PROTOCOLS §8.1) and checks the answer before a signer stores it. Used by blob signing
//! (bundles store the whole `TimeStampResp`) and gitsign (which stores the token).

use crate::crypto::{digest, fill_random, HashAlgorithm};
use crate::http::{Answer, BlockingClient};
use crate::x509::tsp;
use crate::x509::{verify_timestamp, TimestampAuthority};

/// Largest reply read from a TSA.
const MAX_REPLY: u64 = 64 * 1024;

/// Why no timestamp was obtained.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The request could not be sent or the reply not read.
    #[error("timestamp request to {url}")]
    Transport {
        /// The TSA URL.
        url: String,
        /// Cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The TSA answered a non-2xx status.
    #[error("TSA {url} answered HTTP {status}{detail}")]
    Status {
        /// The TSA URL.
        url: String,
        /// The status.
        status: u16,
        /// The rejection's status text, when the body was a TimeStampResp.
        detail: String,
    },
    /// The reply is not a granted TimeStampResp with a token.
    #[error("TSA {url} reply: {reason}")]
    Reply {
        /// The TSA URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The token does not verify against the trusted timestamp authorities.
    #[error("the timestamp from {url} does not verify")]
    Verify {
        /// The TSA URL.
        url: String,
        /// Cause.
        #[source]
        source: crate::x509::Error,
    },
}

/// Requests a timestamp over `signature` from the TSA at `url` (the full endpoint URL):
/// a SHA-256 imprint, a random nonce and certReq. Returns the DER `TimeStampResp` after
/// checking it is granted, echoes the nonce, and — when `trusted` is not empty — verifies
/// against those authorities.
pub fn timestamp(
    http: &BlockingClient,
    url: &str,
    signature: &[u8],
    trusted: &[TimestampAuthority],
) -> Result<Vec<u8>, ClientError> {
    let transport = |source: Box<dyn std::error::Error + Send + Sync>| ClientError::Transport {
        url: url.to_string(),
        source,
    };
    let reply = |reason: String| ClientError::Reply { url: url.to_string(), reason };
    let mut nonce = [0u8; 8];
    fill_random(&mut nonce).map_err(|e| transport(Box::new(e)))?;
    let imprint = digest(HashAlgorithm::Sha256, signature);
    let request = tsp::build_request(HashAlgorithm::Sha256, imprint.as_bytes(), Some(&nonce), true)
        .map_err(|e| transport(Box::new(e)))?;
    let response = http
        .post(url)
        .header("content-type", "application/timestamp-query")
        .header("accept", "application/timestamp-reply")
        .body(request)
        .send()
        .map_err(|e| transport(Box::new(e)))?;
    let answer = Answer::read(response, url, MAX_REPLY).map_err(|e| transport(Box::new(e)))?;
    let parsed = tsp::parse_response(&answer.body);
    if !answer.is_success() {
        let detail = parsed
            .ok()
            .and_then(|(status, _)| status.status_string)
            .map(|text| format!(": {}", text.join("; ")))
            .unwrap_or_else(|| format!(": {}", answer.error_message()));
        return Err(ClientError::Status { url: url.into(), status: answer.status, detail });
    }
    let (status, token) = parsed.map_err(|e| reply(e.to_string()))?;
    if status.status > 1 {
        let text = status.status_string.map(|t| t.join("; ")).unwrap_or_default();
        return Err(reply(format!("status {} {text}", status.status)));
    }
    let token = token.ok_or_else(|| reply("granted without a token".into()))?;
    let tst = tsp::token_tst_info(&token).map_err(|e| reply(e.to_string()))?;
    let echoed = tst.nonce.as_ref().map(|n| strip_zeros(n.as_bytes()));
    if echoed != Some(strip_zeros(&nonce)) {
        return Err(reply("the nonce was not echoed".into()));
    }
    if tst.message_imprint.hashed_message.as_bytes() != imprint.as_bytes() {
        return Err(reply("the token is over another imprint".into()));
    }
    if !trusted.is_empty() {
        verify_timestamp(&answer.body, signature, trusted)
            .map_err(|source| ClientError::Verify { url: url.into(), source })?;
    }
    Ok(answer.body)
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}
