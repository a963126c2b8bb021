//! The compact stored form of a canonical `hashedrekord` 0.0.1 body.
//!
//! Such a body is a fixed JSON template around four values: the hash algorithm, the digest
//! in hex, the signature in base64 and the key or certificate as base64 of a PEM that the
//! log itself wrote (`kinds::Verifier::canonical_pem`). Stored as bytes instead, a body of
//! about 560 bytes takes about 200, which is most of what keeps the log's disk use near
//! its raw entry size.
//!
//! [`encode`] only returns a compact form that [`decode`] turns back into exactly the same
//! bytes (it checks), so a body that deviates in any way is simply stored as it is.

use crate::encoding::{b64_decode, b64_encode, hex_decode, hex_encode, pem_decode, pem_encode};

const PREFIX: &str =
    r#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":""#;
const AFTER_ALGORITHM: &str = r#"","value":""#;
const AFTER_DIGEST: &str = r#""}},"signature":{"content":""#;
const AFTER_SIGNATURE: &str = r#"","publicKey":{"content":""#;
const SUFFIX: &str = r#""}}}}"#;

const ALGORITHMS: [&str; 3] = ["sha256", "sha384", "sha512"];
const LABELS: [&str; 2] = ["PUBLIC KEY", "CERTIFICATE"];

/// First byte of a compact hashedrekord 0.0.1 body.
const HASHEDREKORD_V001: u8 = 1;

/// The compact form of `body`, if it is a hashedrekord 0.0.1 body in the log's own
/// canonical layout; `None` otherwise (store it as it is).
pub fn encode(body: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?;
    let rest = text.strip_prefix(PREFIX)?;
    let (algorithm, rest) = rest.split_once(AFTER_ALGORITHM)?;
    let (digest_hex, rest) = rest.split_once(AFTER_DIGEST)?;
    let (signature_b64, rest) = rest.split_once(AFTER_SIGNATURE)?;
    let key_b64 = rest.strip_suffix(SUFFIX)?;
    let algorithm = ALGORITHMS.iter().position(|a| *a == algorithm)?;
    let digest = hex_decode(digest_hex)?;
    let signature = b64_decode(signature_b64)?;
    let pem = String::from_utf8(b64_decode(key_b64)?).ok()?;
    let (label, der) = pem_decode(&pem).ok()?;
    let label = LABELS.iter().position(|l| *l == label)?;
    let mut out = Vec::with_capacity(8 + digest.len() + signature.len() + der.len());
    out.push(HASHEDREKORD_V001);
    out.push(algorithm as u8);
    out.push(label as u8);
    push_field(&mut out, &digest)?;
    push_field(&mut out, &signature)?;
    push_field(&mut out, &der)?;
    // Only a form that gives back these very bytes (hex case, base64 padding, PEM layout).
    (decode(&out)?.as_slice() == body).then_some(out)
}

/// The body bytes of a compact form made by [`encode`]; `None` if `bytes` is not one.
pub fn decode(bytes: &[u8]) -> Option<Vec<u8>> {
    let (&tag, rest) = bytes.split_first()?;
    if tag != HASHEDREKORD_V001 {
        return None;
    }
    let (&[algorithm, label], rest) = rest.split_first_chunk::<2>()?;
    let algorithm = ALGORITHMS.get(usize::from(algorithm))?;
    let label = LABELS.get(usize::from(label))?;
    let (digest, rest) = take_field(rest)?;
    let (signature, rest) = take_field(rest)?;
    let (der, rest) = take_field(rest)?;
    if !rest.is_empty() {
        return None;
    }
    let key = b64_encode(pem_encode(label, der));
    let mut out = String::with_capacity(PREFIX.len() + 160 + key.len());
    for part in [
        PREFIX,
        algorithm,
        AFTER_ALGORITHM,
        &hex_encode(digest),
        AFTER_DIGEST,
        &b64_encode(signature),
        AFTER_SIGNATURE,
        &key,
        SUFFIX,
    ] {
        out.push_str(part);
    }
    Some(out.into_bytes())
}

fn push_field(out: &mut Vec<u8>, field: &[u8]) -> Option<()> {
    out.extend_from_slice(&u16::try_from(field.len()).ok()?.to_be_bytes());
    out.extend_from_slice(field);
    Some(())
}

fn take_field(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = bytes.split_first_chunk::<2>()?;
    rest.split_at_checked(usize::from(u16::from_be_bytes(*len)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{digest, EcdsaP256Signer, HashAlgorithm, Signer};
    use crate::rekor::canonicalize_proposed;

    /// A canonical body as the log stores it, and its digest in hex.
    fn body() -> (Vec<u8>, String) {
        let signer = EcdsaP256Signer::generate();
        let d = digest(HashAlgorithm::Sha256, b"artifact");
        let sig = signer.sign_prehashed(d.as_bytes()).unwrap();
        let proposed = serde_json::json!({"apiVersion": "0.0.1", "kind": "hashedrekord",
            "spec": {"data": {"hash": {"algorithm": "sha256", "value": d.to_hex()}},
                     "signature": {"content": b64_encode(sig),
                                   "publicKey": {"content": b64_encode(signer.public_key().to_pem())}}}});
        (canonicalize_proposed(&proposed).unwrap().body, d.to_hex())
    }

    #[test]
    fn canonical_bodies_round_trip_at_about_a_third_of_their_size() {
        let (b, _) = body();
        let compact = encode(&b).expect("a canonical hashedrekord body");
        assert_eq!(decode(&compact).as_deref(), Some(&b[..]));
        assert!(compact.len() * 5 < b.len() * 2, "{} vs {}", compact.len(), b.len());
    }

    #[test]
    fn anything_else_is_left_alone() {
        let (b, hex) = body();
        let text = String::from_utf8(b.clone()).unwrap();
        // Uppercase hex, another kind, extra field, trailing byte: no compact form.
        for other in [
            text.replace(&hex, &hex.to_uppercase()).into_bytes(),
            text.replace("hashedrekord", "rekord").into_bytes(),
            text.replacen("{\"apiVersion\"", "{\"a\":1,\"apiVersion\"", 1).into_bytes(),
            [&b[..], b" "].concat(),
            b"{}".to_vec(),
            vec![0xff, 0xfe],
        ] {
            assert_eq!(encode(&other), None, "{}", String::from_utf8_lossy(&other));
        }
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[9, 0, 0]), None);
        let mut truncated = encode(&b).unwrap();
        truncated.pop();
        assert_eq!(decode(&truncated), None);
    }
}
