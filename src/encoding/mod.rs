//! L0 encodings: base64 (both alphabets, with or without padding), hex, PEM, RFC 8785
//! canonical JSON, TUF's OLPC canonical JSON and RFC 3339 times.

mod base64_bytes;
mod canonical_json;
mod olpc_json;
mod pem;

pub use base64_bytes::Base64Bytes;
pub use canonical_json::{canonicalize, to_canonical_vec, CanonicalJsonError};
pub use olpc_json::to_olpc_canonical_vec;
pub use pem::{pem_decode, pem_decode_all, pem_encode, PemError};

use base64::Engine as _;

/// Standard base64 with padding, as protobuf JSON and Rekor write it.
pub fn b64_encode(data: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Decodes base64 in the standard or URL-safe alphabet, padded or not (protobuf JSON
/// readers must accept all four). Whitespace is not allowed.
pub fn b64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    if text.contains(['-', '_']) {
        let trimmed = text.trim_end_matches('=');
        URL_SAFE_NO_PAD.decode(trimmed).or_else(|_| URL_SAFE.decode(text)).ok()
    } else {
        STANDARD.decode(text).or_else(|_| STANDARD_NO_PAD.decode(text)).ok()
    }
}

/// URL-safe base64 without padding (JWTs, PKCE).
pub fn b64url_encode(data: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// Percent-encodes everything but RFC 3986 unreserved characters (query values, URLs).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// Lowercase hex.
pub fn hex_encode(data: impl AsRef<[u8]>) -> String {
    hex::encode(data)
}

/// Decodes hex in either case.
pub fn hex_decode(text: &str) -> Option<Vec<u8>> {
    hex::decode(text).ok()
}

/// RFC 3339 UTC with `Z` and whole seconds (`2026-01-02T03:04:05Z`), as trust files and
/// people read times; `None` for a time `time` cannot represent.
pub fn rfc3339(unix: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Parses an RFC 3339 time (`Z` or offset, 0–9 fractional digits) into Unix seconds,
/// dropping the fraction.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let parsed =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some(parsed.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_reads_every_alphabet_and_padding() {
        let data = [0xfbu8, 0xff, 0x01];
        assert_eq!(b64_decode("+/8B").as_deref(), Some(&data[..]));
        assert_eq!(b64_decode("-_8B").as_deref(), Some(&data[..]));
        assert_eq!(b64_decode("AQ==").as_deref(), Some(&[1u8][..]));
        assert_eq!(b64_decode("AQ").as_deref(), Some(&[1u8][..]));
        assert_eq!(b64_decode("A"), None);
        assert_eq!(b64_decode("@@@@"), None);
    }
}
