//! The canonical JSON that TUF signs: the OLPC / securesystemslib form (`encode_canonical`
//! in python-securesystemslib, `cjson` in go-securesystemslib), which is what every
//! signature in the public-good `sigstore/root-signing` repository covers.
//!
//! It differs from RFC 8785 ([`super::to_canonical_vec`]) in string escaping: only `"` and
//! `\` are escaped, every other character (control characters included) is written as its
//! raw UTF-8. Keys sort by their bytes (Python sorts `str` by code point, which is the same
//! order as UTF-8 bytes). Only integers are allowed, as in RFC 8785 here.

use serde_json::Value;

use super::CanonicalJsonError;

/// The OLPC canonical bytes of `value`.
///
/// Errors: [`CanonicalJsonError::NonInteger`] for a fractional number (TUF metadata has
/// none; securesystemslib refuses them too).
pub fn to_olpc_canonical_vec(value: &Value) -> Result<Vec<u8>, CanonicalJsonError> {
    let mut out = Vec::with_capacity(1024);
    write_value(value, &mut out)?;
    Ok(out)
}

fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalJsonError> {
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
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_value(item, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
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
