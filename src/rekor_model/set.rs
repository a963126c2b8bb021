//! The payload a Rekor v1 log signs as its Signed Entry Timestamp (PROTOCOLS §4.5): RFC 8785
//! JSON of `{body, integratedTime, logID, logIndex}`, with the body in standard base64 and
//! the global log index. The log signs it and the verifier checks it: one function for both.

/// Why a SET payload could not be written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("entry body is not standard base64")]
pub struct NotBase64;

/// The SET payload for an entry whose body is `body_b64` (standard base64).
///
/// Written directly: the keys are already in JCS order, integers are plain decimals, and
/// base64 and hex need no escaping, so this is exactly what a JCS encoder produces (the
/// tests compare it with one). Errors: [`NotBase64`] if `body_b64` holds a character that
/// would need escaping (never the case for base64).
pub fn payload(
    body_b64: &str,
    integrated_time: i64,
    log_id: &[u8],
    log_index: u64,
) -> Result<Vec<u8>, NotBase64> {
    if !body_b64.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')) {
        return Err(NotBase64);
    }
    let log_id = crate::encoding::hex_encode(log_id);
    Ok(format!(
        r#"{{"body":"{body_b64}","integratedTime":{integrated_time},"logID":"{log_id}","logIndex":{log_index}}}"#
    )
    .into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::hex_encode;

    #[test]
    fn payload_is_jcs_with_sorted_keys_and_numbers() {
        let got = payload("Ym9keQ==", 1_710_888_076, &[1u8; 32], 79_605_083).unwrap();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            format!(
                r#"{{"body":"Ym9keQ==","integratedTime":1710888076,"logID":"{}","logIndex":79605083}}"#,
                hex_encode([1u8; 32])
            )
        );
    }

    #[test]
    fn payload_equals_the_jcs_encoder_output() {
        for (i, t) in [(0u64, 0i64), (7, 1), (u64::MAX, i64::MAX), (12, -5)] {
            let value = serde_json::json!({"logIndex": i, "logID": hex_encode([7u8; 32]),
                                           "integratedTime": t, "body": "ab+/cd=="});
            let jcs = crate::encoding::to_canonical_vec(&value).unwrap();
            assert_eq!(payload("ab+/cd==", t, &[7u8; 32], i).unwrap(), jcs);
        }
    }

    #[test]
    fn a_body_that_is_not_base64_is_refused() {
        assert_eq!(payload("a\"b", 1, &[0u8; 32], 1), Err(NotBase64));
    }
}
