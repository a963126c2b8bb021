//! Protobuf binary encoding of exactly one message: `dev.sigstore.rekor.v1.
//! TransparencyLogEntry`, which gitsign embeds in unsigned attribute 1.3.6.1.4.1.57264.3.1
//! (PROTOCOLS §7.2). The bundle JSON form is [`wire::TransparencyLogEntry`]; this module
//! only maps it to and from the wire bytes.
//!
//! Field numbers (protobuf-specs `sigstore_rekor.proto`): 1 log_index (int64), 2 log_id
//! {1 key_id bytes}, 3 kind_version {1 kind, 2 version}, 4 integrated_time (int64),
//! 5 inclusion_promise {1 signed_entry_timestamp}, 6 inclusion_proof {1 log_index,
//! 2 root_hash, 3 tree_size, 4 repeated hashes, 5 checkpoint {1 envelope}},
//! 7 canonicalized_body. Unknown fields are skipped, as protobuf requires.

use crate::bundle::wire::{
    Base64Bytes, Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId,
    TransparencyLogEntry,
};

/// Why bytes are not a `TransparencyLogEntry`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtoError {
    /// The input ends inside a field.
    #[error("protobuf TransparencyLogEntry is truncated")]
    Truncated,
    /// A varint longer than 10 bytes.
    #[error("protobuf TransparencyLogEntry has an over-long varint")]
    Varint,
    /// A wire type this message cannot hold (groups, or the wrong type for a field).
    #[error("protobuf TransparencyLogEntry field {field} has wire type {wire_type}")]
    WireType {
        /// Field number.
        field: u64,
        /// Wire type found.
        wire_type: u8,
    },
    /// A string field is not UTF-8.
    #[error("protobuf TransparencyLogEntry field {0} is not UTF-8")]
    Utf8(&'static str),
}

/// Encodes `entry` as protobuf (proto3: zero and empty fields are left out).
pub fn encode(entry: &TransparencyLogEntry) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    put_int(&mut out, 1, entry.log_index);
    let mut log_id = Vec::new();
    put_bytes(&mut log_id, 1, &entry.log_id.key_id.0);
    put_message(&mut out, 2, &log_id);
    let mut kind = Vec::new();
    put_bytes(&mut kind, 1, entry.kind_version.kind.as_bytes());
    put_bytes(&mut kind, 2, entry.kind_version.version.as_bytes());
    put_message(&mut out, 3, &kind);
    put_int(&mut out, 4, entry.integrated_time);
    if let Some(promise) = &entry.inclusion_promise {
        let mut p = Vec::new();
        put_bytes(&mut p, 1, &promise.signed_entry_timestamp.0);
        put_message(&mut out, 5, &p);
    }
    if let Some(proof) = &entry.inclusion_proof {
        let mut p = Vec::new();
        put_int(&mut p, 1, proof.log_index);
        put_bytes(&mut p, 2, &proof.root_hash.0);
        put_int(&mut p, 3, proof.tree_size);
        for hash in &proof.hashes {
            put_len_delimited(&mut p, 4, &hash.0);
        }
        if let Some(checkpoint) = &proof.checkpoint {
            let mut c = Vec::new();
            put_bytes(&mut c, 1, checkpoint.envelope.as_bytes());
            put_message(&mut p, 5, &c);
        }
        put_message(&mut out, 6, &p);
    }
    put_bytes(&mut out, 7, &entry.canonicalized_body.0);
    out
}

/// Decodes protobuf bytes into a `TransparencyLogEntry`. Never panics.
pub fn decode(bytes: &[u8]) -> Result<TransparencyLogEntry, ProtoError> {
    let mut entry = TransparencyLogEntry::default();
    for field in Fields(bytes) {
        match field? {
            (1, Value::Varint(v)) => entry.log_index = v as i64,
            (2, Value::Bytes(b)) => {
                for f in Fields(b) {
                    if let (1, Value::Bytes(k)) = check(f?, 1)? {
                        entry.log_id = LogId { key_id: Base64Bytes(k.to_vec()) };
                    }
                }
            }
            (3, Value::Bytes(b)) => {
                let mut kv = KindVersion::default();
                for f in Fields(b) {
                    match check(f?, 2)? {
                        (1, Value::Bytes(s)) => kv.kind = utf8(s, "kind")?,
                        (2, Value::Bytes(s)) => kv.version = utf8(s, "version")?,
                        _ => {}
                    }
                }
                entry.kind_version = kv;
            }
            (4, Value::Varint(v)) => entry.integrated_time = v as i64,
            (5, Value::Bytes(b)) => {
                let mut promise = InclusionPromise::default();
                for f in Fields(b) {
                    if let (1, Value::Bytes(s)) = check(f?, 1)? {
                        promise.signed_entry_timestamp = Base64Bytes(s.to_vec());
                    }
                }
                entry.inclusion_promise = Some(promise);
            }
            (6, Value::Bytes(b)) => entry.inclusion_proof = Some(decode_proof(b)?),
            (7, Value::Bytes(b)) => entry.canonicalized_body = Base64Bytes(b.to_vec()),
            (field @ 1..=7, value) => {
                return Err(ProtoError::WireType { field, wire_type: value.wire_type() })
            }
            _ => {}
        }
    }
    Ok(entry)
}

fn decode_proof(bytes: &[u8]) -> Result<InclusionProof, ProtoError> {
    let mut proof = InclusionProof::default();
    for f in Fields(bytes) {
        match f? {
            (1, Value::Varint(v)) => proof.log_index = v as i64,
            (2, Value::Bytes(b)) => proof.root_hash = Base64Bytes(b.to_vec()),
            (3, Value::Varint(v)) => proof.tree_size = v as i64,
            (4, Value::Bytes(b)) => proof.hashes.push(Base64Bytes(b.to_vec())),
            (5, Value::Bytes(b)) => {
                let mut checkpoint = Checkpoint::default();
                for c in Fields(b) {
                    if let (1, Value::Bytes(s)) = check(c?, 1)? {
                        checkpoint.envelope = utf8(s, "checkpoint")?;
                    }
                }
                proof.checkpoint = Some(checkpoint);
            }
            (field @ 1..=5, value) => {
                return Err(ProtoError::WireType { field, wire_type: value.wire_type() })
            }
            _ => {}
        }
    }
    Ok(proof)
}

/// Every known field of a small message is length-delimited up to `max`.
fn check(field: (u64, Value<'_>), max: u64) -> Result<(u64, Value<'_>), ProtoError> {
    match field {
        (n, value @ Value::Varint(_)) if (1..=max).contains(&n) => {
            Err(ProtoError::WireType { field: n, wire_type: value.wire_type() })
        }
        other => Ok(other),
    }
}

fn utf8(bytes: &[u8], what: &'static str) -> Result<String, ProtoError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| ProtoError::Utf8(what))
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

impl Value<'_> {
    fn wire_type(&self) -> u8 {
        match self {
            Value::Varint(_) => 0,
            Value::Bytes(_) => 2,
            Value::Fixed => 1,
        }
    }
}

/// Iterates over `(field number, value)` pairs; stops after the first error.
struct Fields<'a>(&'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>), ProtoError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let result = self.read();
        if result.is_err() {
            self.0 = &[];
        }
        Some(result)
    }
}

impl<'a> Fields<'a> {
    fn read(&mut self) -> Result<(u64, Value<'a>), ProtoError> {
        let key = self.varint()?;
        let field = key >> 3;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed
            }
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| ProtoError::Truncated)?;
                Value::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Value::Fixed
            }
            other => return Err(ProtoError::WireType { field, wire_type: other as u8 }),
        };
        Ok((field, value))
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut value = 0u64;
        for i in 0..10 {
            let (&byte, rest) = self.0.split_first().ok_or(ProtoError::Truncated)?;
            self.0 = rest;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtoError::Varint)
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], ProtoError> {
        if len > self.0.len() {
            return Err(ProtoError::Truncated);
        }
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(head)
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_int(out: &mut Vec<u8>, field: u64, value: i64) {
    if value != 0 {
        put_varint(out, field << 3);
        put_varint(out, value as u64);
    }
}

fn put_len_delimited(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_varint(out, (field << 3) | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    if !bytes.is_empty() {
        put_len_delimited(out, field, bytes);
    }
}

/// Sub-messages are written even when empty only if they were present (proto3 presence).
fn put_message(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_len_delimited(out, field, bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TransparencyLogEntry {
        TransparencyLogEntry {
            log_index: 22_784_639,
            log_id: LogId { key_id: Base64Bytes(vec![0xc0; 32]) },
            kind_version: KindVersion { kind: "hashedrekord".into(), version: "0.0.1".into() },
            integrated_time: 1_685_981_480,
            inclusion_promise: Some(InclusionPromise {
                signed_entry_timestamp: Base64Bytes(vec![1, 2, 3]),
            }),
            inclusion_proof: Some(InclusionProof {
                log_index: 18_621_209,
                root_hash: Base64Bytes(vec![9; 32]),
                tree_size: 18_621_210,
                hashes: vec![Base64Bytes(vec![4; 32]), Base64Bytes(vec![5; 32])],
                checkpoint: Some(Checkpoint { envelope: "origin\n1\nabc=\n".into() }),
            }),
            canonicalized_body: Base64Bytes::default(),
        }
    }

    #[test]
    fn round_trips() {
        let entry = sample();
        assert_eq!(decode(&encode(&entry)).unwrap(), entry);
    }

    #[test]
    fn truncations_and_bad_wire_types_are_errors() {
        let bytes = encode(&sample());
        for cut in 1..bytes.len() {
            // Every cut either fails or decodes to something other than the whole.
            if let Ok(e) = decode(&bytes[..cut]) {
                assert_ne!(e, sample());
            }
        }
        // Field 1 as a length-delimited value.
        assert_eq!(
            decode(&[0x0a, 0x01, 0x00]),
            Err(ProtoError::WireType { field: 1, wire_type: 2 })
        );
        assert_eq!(decode(&[0x08; 11]), Err(ProtoError::Truncated));
        assert_eq!(
            decode(&[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
            Err(ProtoError::Varint)
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn mutated_entries_never_panic(at in 0usize..4096, byte in proptest::num::u8::ANY) {
            let mut bytes = encode(&sample());
            let i = at % bytes.len();
            bytes[i] = byte;
            let _ = decode(&bytes);
        }
    }
}
