//! PEM (RFC 7468) in the exact layout OpenSSL and Go's `pem.Encode` write: 64-column
//! base64 lines, `\n` line ends, a final newline. Rekor's canonical bodies embed PEM
//! byte for byte, so the layout matters.

use base64::Engine as _;

/// Why PEM text could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PemError {
    /// No `-----BEGIN ...-----` line was found.
    #[error("no PEM block found")]
    NoBlock,
    /// The block has no matching END line.
    #[error("PEM block {0} has no END line")]
    Unterminated(String),
    /// The body is not valid base64.
    #[error("PEM block {0} has invalid base64")]
    BadBase64(String),
}

/// Encodes `der` as a PEM block with `label`.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// Decodes the first PEM block in `text`: its label and DER bytes. Headers
/// (`Proc-Type:` lines) are skipped; text before and after the block is ignored.
pub fn pem_decode(text: &str) -> Result<(String, Vec<u8>), PemError> {
    pem_decode_all(text)?.into_iter().next().ok_or(PemError::NoBlock)
}

/// Decodes every PEM block in `text`, in order (certificate chains).
pub fn pem_decode_all(text: &str) -> Result<Vec<(String, Vec<u8>)>, PemError> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        let Some(label) = line.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        let mut terminated = false;
        for inner in lines.by_ref() {
            let inner = inner.trim();
            if inner == end {
                terminated = true;
                break;
            }
            if inner.contains(':') {
                continue;
            }
            body.push_str(inner);
        }
        if !terminated {
            return Err(PemError::Unterminated(label.to_string()));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|_| PemError::BadBase64(label.to_string()))?;
        blocks.push((label.to_string(), der));
    }
    if blocks.is_empty() {
        return Err(PemError::NoBlock);
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trips_with_64_column_lines() {
        let der: Vec<u8> = (0..100u8).collect();
        let pem = pem_encode("CERTIFICATE", &der);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN CERTIFICATE-----"));
        assert_eq!(lines.get(1).map(|l| l.len()), Some(64));
        assert!(pem.ends_with("-----END CERTIFICATE-----\n"));
        assert_eq!(pem_decode(&pem), Ok(("CERTIFICATE".to_string(), der)));
    }

    #[test]
    fn pem_without_end_line_is_rejected() {
        assert_eq!(
            pem_decode("-----BEGIN X-----\nAAAA\n"),
            Err(PemError::Unterminated("X".into()))
        );
        assert_eq!(pem_decode("hello"), Err(PemError::NoBlock));
    }

    #[test]
    fn pem_chain_yields_every_block_in_order() {
        let text = format!("{}{}", pem_encode("A", b"1"), pem_encode("B", b"2"));
        let blocks = pem_decode_all(&text).expect("two valid blocks");
        assert_eq!(blocks, vec![("A".into(), b"1".to_vec()), ("B".into(), b"2".to_vec())]);
    }
}
