//! RFC 8785 JSON Canonicalization Scheme (JCS) for the values Sigstore signs and hashes:
//! Rekor entry bodies and SET payloads.
//!
//! Keys are sorted by their UTF-16 code units, no whitespace is written, strings use the
//! minimal JSON escapes. Numbers must be integers that fit in an `i64`/`u64` (every number
//! in a Sigstore body is), so the ECMAScript float formatting of RFC 8785 §3.2.2.3 is not
//! needed and a fractional number is refused instead of being written wrongly.

use serde_json::Value;

/// Why a value has no canonical form here.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CanonicalJsonError {
    /// A non-integer number was found.
    #[error("number {0} is not an integer; canonical JSON here takes integers only")]
    NonInteger(String),
}

/// The canonical bytes of `value`.
pub fn to_canonical_vec(value: &Value) -> Result<Vec<u8>, CanonicalJsonError> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out, Style::Jcs)?;
    Ok(out)
}

/// Which canonical form: the two differ only in key order and string escaping, so one
/// writer serves both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    /// RFC 8785: keys by UTF-16 code units, minimal JSON escapes.
    Jcs,
    /// OLPC / securesystemslib (what TUF signs): keys by bytes, only `"` and `\` escaped.
    Olpc,
}

/// `value` in canonical form `style`, appended to `out`.
pub(super) fn write_styled(
    value: &Value,
    out: &mut Vec<u8>,
    style: Style,
) -> Result<(), CanonicalJsonError> {
    write_value(value, out, style)
}

/// Parses JSON text and returns its canonical bytes.
pub fn canonicalize(json: &[u8]) -> Result<Vec<u8>, serde_json::Error> {
    let value: Value = serde_json::from_slice(json)?;
    to_canonical_vec(&value).map_err(serde::de::Error::custom)
}

fn write_value(value: &Value, out: &mut Vec<u8>, style: Style) -> Result<(), CanonicalJsonError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else if let Some(u) = n.as_u64() {
                out.extend_from_slice(u.to_string().as_bytes());
            } else {
                return Err(CanonicalJsonError::NonInteger(n.to_string()));
            }
        }
        Value::String(s) => write_string(s, out, style),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out, style)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // ASCII keys (all of Sigstore's) order the same by bytes as by UTF-16 units.
            entries.sort_by(|a, b| {
                if style == Style::Olpc || (a.0.is_ascii() && b.0.is_ascii()) {
                    a.0.as_bytes().cmp(b.0.as_bytes())
                } else {
                    a.0.encode_utf16().cmp(b.0.encode_utf16())
                }
            });
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out, style);
                out.push(b':');
                write_value(item, out, style)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>, style: Style) {
    if style == Style::Olpc {
        return super::olpc_json::write_string(s, out);
    }
    out.push(b'"');
    // Copy runs that need no escape in one go: every byte of a multi-byte UTF-8 sequence is
    // >= 0x80, so only ASCII controls, `"` and `\` interrupt a run (base64 and hex, most of
    // a Rekor body, never do).
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_and_whitespace_dropped() {
        let out =
            canonicalize(br#"{ "logIndex": 5, "body": "x", "integratedTime": 1 , "logID":"ab"}"#)
                .expect("valid JSON");
        assert_eq!(out, br#"{"body":"x","integratedTime":1,"logID":"ab","logIndex":5}"#.to_vec());
    }

    #[test]
    fn strings_use_minimal_escapes() {
        let out = canonicalize(br#"["\u00e9\u0001\n\/"]"#).expect("valid JSON");
        assert_eq!(out, "[\"é\\u0001\\n/\"]".as_bytes().to_vec());
    }

    #[test]
    fn keys_sort_by_utf16_units() {
        // U+E000 sorts after U+1F600 in UTF-16 (0xD83D...) but before it in UTF-8 order.
        let out = canonicalize("{\"\u{1F600}\":1,\"\u{E000}\":2}".as_bytes()).expect("valid");
        assert_eq!(out, "{\"\u{1F600}\":1,\"\u{E000}\":2}".as_bytes().to_vec());
    }

    #[test]
    fn fractional_numbers_are_refused() {
        assert!(canonicalize(b"[1.5]").is_err());
    }
}
