//! A minimal DER tag-length-value walker over borrowed bytes.
//!
//! The typed parsers (x509-cert, cms) re-encode what they decode; for signatures we need
//! the exact bytes that were signed (a TBSCertificate, CMS signedAttrs possibly not in
//! DER SET order). This walker hands out those original slices. Only single-byte tags and
//! definite lengths (DER) are accepted; every size is checked.

use super::{Error, Result};

/// One TLV element: its tag byte, the whole encoding and the contents.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    /// The identifier octet (class, constructed bit, number < 31).
    pub tag: u8,
    /// Tag, length and contents, exactly as in the input.
    pub whole: &'a [u8],
    /// The contents octets.
    pub value: &'a [u8],
}

/// Reads the first TLV of `input`, returning it and the bytes after it.
pub(crate) fn read_tlv(input: &[u8]) -> Result<(Tlv<'_>, &[u8])> {
    let tag = *input.first().ok_or(Error::Tlv("truncated tag"))?;
    if tag & 0x1f == 0x1f {
        return Err(Error::Tlv("multi-byte tag"));
    }
    let first_len = *input.get(1).ok_or(Error::Tlv("truncated length"))?;
    let (len, header_len) = if first_len < 0x80 {
        (usize::from(first_len), 2usize)
    } else {
        let count = usize::from(first_len & 0x7f);
        if count == 0 || count > 4 {
            return Err(Error::Tlv("unsupported length form"));
        }
        let bytes = input.get(2..2 + count).ok_or(Error::Tlv("truncated length"))?;
        if bytes.first() == Some(&0) {
            return Err(Error::Tlv("non-minimal length"));
        }
        let len = bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        if len < 0x80 {
            return Err(Error::Tlv("non-minimal length"));
        }
        (len, 2 + count)
    };
    let end = header_len.checked_add(len).ok_or(Error::Tlv("length overflow"))?;
    let whole = input.get(..end).ok_or(Error::Tlv("truncated contents"))?;
    let value = whole.get(header_len..).ok_or(Error::Tlv("truncated contents"))?;
    let rest = input.get(end..).ok_or(Error::Tlv("truncated contents"))?;
    Ok((Tlv { tag, whole, value }, rest))
}

/// Reads exactly one TLV with tag `tag` filling all of `input`.
pub(crate) fn read_single(input: &[u8], tag: u8) -> Result<Tlv<'_>> {
    let (tlv, rest) = read_tlv(input)?;
    if tlv.tag != tag {
        return Err(Error::Tlv("unexpected tag"));
    }
    if !rest.is_empty() {
        return Err(Error::Tlv("trailing data"));
    }
    Ok(tlv)
}

/// Splits the contents of a constructed element into its child TLVs.
pub(crate) fn children(value: &[u8]) -> Result<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let (tlv, next) = read_tlv(rest)?;
        out.push(tlv);
        rest = next;
    }
    Ok(out)
}

/// Appends a DER length to `out`.
#[cfg(test)]
pub(crate) fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let significant = bytes.get(skip..).unwrap_or_default();
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// Encodes one TLV with the given tag and contents.
#[cfg(test)]
pub(crate) fn encode_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    out.push(tag);
    push_length(&mut out, value.len());
    out.extend_from_slice(value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_tlv_long_length_round_trips() {
        let value = vec![7u8; 300];
        let enc = encode_tlv(0x04, &value);
        assert_eq!(&enc[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let (tlv, rest) = read_tlv(&enc).unwrap();
        assert_eq!(tlv.value, &value[..]);
        assert!(rest.is_empty());
    }

    #[test]
    fn read_tlv_truncated_contents_is_rejected() {
        assert!(read_tlv(&[0x30, 0x05, 0x01]).is_err());
        assert!(read_tlv(&[0x30, 0x81, 0x05]).is_err());
        assert!(read_tlv(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(read_tlv(&[]).is_err());
    }

    #[test]
    fn read_tlv_non_minimal_length_is_rejected() {
        assert!(read_tlv(&[0x04, 0x81, 0x01, 0x00]).is_err());
    }
}
