//! The canonical JSON that TUF signs: the OLPC / securesystemslib form (`encode_canonical`
//! in python-securesystemslib, `cjson` in go-securesystemslib), which is what every
//! signature in the public-good `sigstore/root-signing` repository covers.
//!
//! It differs from RFC 8785 ([`super::to_canonical_vec`]) in string escaping: only `"` and
//! `\` are escaped, every other character (control characters included) is written as its
//! raw UTF-8. Keys sort by their bytes (Python sorts `str` by code point, which is the same
//! order as UTF-8 bytes). Only integers are allowed, as in RFC 8785 here.

use serde_json::Value;

use super::canonical_json::Style;
use super::CanonicalJsonError;

/// The OLPC canonical bytes of `value`.
///
/// Errors: [`CanonicalJsonError::NonInteger`] for a fractional number (TUF metadata has
/// none; securesystemslib refuses them too).
pub fn to_olpc_canonical_vec(value: &Value) -> Result<Vec<u8>, CanonicalJsonError> {
    let mut out = Vec::with_capacity(1024);
    super::canonical_json::write_styled(value, &mut out, Style::Olpc)?;
    Ok(out)
}

/// A string as OLPC writes it: quoted, with only `"` and `\` escaped.
pub(super) fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s.as_bytes() {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_quote_and_backslash_are_escaped() {
        let value: Value = serde_json::from_str(r#"{"b":"x\n\"\\é","a":[1,true,null]}"#).unwrap();
        let out = to_olpc_canonical_vec(&value).unwrap();
        assert_eq!(out, "{\"a\":[1,true,null],\"b\":\"x\n\\\"\\\\é\"}".as_bytes());
    }

    #[test]
    fn fractions_are_refused() {
        let value: Value = serde_json::from_str("[0.5]").unwrap();
        assert!(to_olpc_canonical_vec(&value).is_err());
    }
}
