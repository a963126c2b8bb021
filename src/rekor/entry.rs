//! A logged entry: the stored record, the SET (PROTOCOLS §4.5), entry IDs (§4.4) and the
//! `LogEntry` response map (§4.3).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Error, Result};
use crate::bundle::wire;
use crate::crypto::Signer;
use crate::encoding::{b64_decode, b64_encode, hex_encode};
use crate::tlog::Hash;

/// What the store keeps per entry.
///
/// Stored in binary (see [`Record::to_bytes`]): the body and SET as raw bytes, not base64
/// in JSON as the API shows them, which keeps a stored entry at about its body's size.
/// Records written as JSON by earlier versions still read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// base64 of the canonical body.
    pub body: String,
    /// Unix seconds at integration.
    #[serde(rename = "integratedTime")]
    pub integrated_time: i64,
    /// Leaf index (the log has a single shard, so global = local).
    #[serde(rename = "logIndex")]
    pub log_index: u64,
    /// base64 DER ECDSA signature: the signed entry timestamp.
    pub set: String,
}

impl Record {
    /// Builds the record and signs its SET with the log key.
    pub fn new(
        body: &[u8],
        integrated_time: i64,
        log_index: u64,
        log_id: &Hash,
        signer: &dyn Signer,
    ) -> Result<Record> {
        let body = b64_encode(body);
        let payload = set_payload(&body, integrated_time, log_id, log_index)?;
        let set = signer.sign(&payload).map_err(Error::Signing)?;
        Ok(Record { body, integrated_time, log_index, set: b64_encode(set) })
    }

    /// A Rekor v2 record: no SET and no integrated time.
    pub fn without_set(body: &[u8], log_index: u64) -> Record {
        Record { body: b64_encode(body), integrated_time: 0, log_index, set: String::new() }
    }

    /// Reads stored bytes (binary, or the JSON of earlier versions).
    ///
    /// Errors: [`Error::Storage`] (corrupt record).
    pub fn from_bytes(bytes: &[u8]) -> Result<Record> {
        let corrupt = || Error::from(crate::store::Error::Corrupt("entry record"));
        match bytes.split_first() {
            Some((&(RECORD_V2 | RECORD_V3), rest)) => {
                let (time, rest) = rest.split_first_chunk::<8>().ok_or_else(corrupt)?;
                let (index, rest) = rest.split_first_chunk::<8>().ok_or_else(corrupt)?;
                let (set_len, rest) = rest.split_first_chunk::<2>().ok_or_else(corrupt)?;
                let set_len = usize::from(u16::from_be_bytes(*set_len));
                let (set, body) = rest.split_at_checked(set_len).ok_or_else(corrupt)?;
                let expanded;
                let body = if bytes[0] == RECORD_V3 {
                    expanded = super::compact::decode(body).ok_or_else(corrupt)?;
                    &expanded[..]
                } else {
                    body
                };
                Ok(Record {
                    body: b64_encode(body),
                    integrated_time: i64::from_be_bytes(*time),
                    log_index: u64::from_be_bytes(*index),
                    set: b64_encode(set),
                })
            }
            Some((b'{', _)) => serde_json::from_slice(bytes).map_err(|_| corrupt()),
            _ => Err(corrupt()),
        }
    }

    /// The bytes to store: a version byte, integrated time and log index (8 bytes each,
    /// big-endian), the SET's length (2 bytes) and bytes, then the body: in its compact form
    /// (version 3, see `compact`) when it has one, else as it is (version 2).
    ///
    /// Errors: [`Error::Storage`] if the body or SET is not base64 (never the case for a
    /// record made by [`Record::new`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let corrupt = || Error::from(crate::store::Error::Corrupt("entry record"));
        let body = b64_decode(&self.body).ok_or_else(corrupt)?;
        let set = b64_decode(&self.set).ok_or_else(corrupt)?;
        let set_len = u16::try_from(set.len()).map_err(|_| corrupt())?;
        let (version, body) = match super::compact::encode(&body) {
            Some(compact) => (RECORD_V3, compact),
            None => (RECORD_V2, body),
        };
        let mut out = Vec::with_capacity(19 + set.len() + body.len());
        out.push(version);
        out.extend_from_slice(&self.integrated_time.to_be_bytes());
        out.extend_from_slice(&self.log_index.to_be_bytes());
        out.extend_from_slice(&set_len.to_be_bytes());
        out.extend_from_slice(&set);
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// The canonical body bytes (the leaf).
    pub fn body_bytes(&self) -> Result<Vec<u8>> {
        b64_decode(&self.body).ok_or(crate::store::Error::Corrupt("entry body").into())
    }
}

#[derive(Serialize)]
struct LogEntryJson<'a> {
    body: &'a str,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logID")]
    log_id: &'a str,
    #[serde(rename = "logIndex")]
    log_index: u64,
    verification: VerificationJson<'a>,
}

#[derive(Serialize)]
struct VerificationJson<'a> {
    #[serde(rename = "inclusionProof")]
    inclusion_proof: InclusionProofJson<'a>,
    #[serde(rename = "signedEntryTimestamp")]
    signed_entry_timestamp: &'a str,
}

#[derive(Serialize)]
struct InclusionProofJson<'a> {
    checkpoint: &'a str,
    hashes: Vec<String>,
    #[serde(rename = "logIndex")]
    log_index: u64,
    #[serde(rename = "rootHash")]
    root_hash: String,
    #[serde(rename = "treeSize")]
    tree_size: u64,
}

/// First byte of a binary record with the body as it is (JSON records start with `{`).
const RECORD_V2: u8 = 2;
/// First byte of a binary record with the body in its compact form.
const RECORD_V3: u8 = 3;

/// The SET payload (PROTOCOLS §4.5), written by the shared model the verifier also uses.
///
/// Errors: [`Error::BadRequest`] if `body_b64` is not base64 (never the case for a body the
/// log encoded itself).
pub fn set_payload(
    body_b64: &str,
    integrated_time: i64,
    log_id: &Hash,
    log_index: u64,
) -> Result<Vec<u8>> {
    crate::rekor_model::set::payload(body_b64, integrated_time, log_id, log_index)
        .map_err(|_| Error::BadRequest("entry body is not base64".into()))
}

/// `hex(tree ID, 16 digits)` followed by the 64-hex UUID (leaf hash).
pub fn entry_id(tree_id: u64, leaf_hash: &Hash) -> String {
    format!("{tree_id:016x}{}", hex_encode(leaf_hash))
}

/// An inclusion proof tied to a signed checkpoint of the same size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// Leaf index.
    pub log_index: u64,
    /// Tree size the proof is for.
    pub tree_size: u64,
    /// Root at `tree_size`.
    pub root_hash: Hash,
    /// Audit path, leaf to root.
    pub hashes: Vec<Hash>,
    /// The signed checkpoint for `tree_size`.
    pub checkpoint: String,
}

/// Everything the API returns for one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryView {
    /// 80-hex entry ID (response map key, ETag).
    pub entry_id: String,
    /// The stored record.
    pub record: Record,
    /// Hex SHA-256 of the log's SPKI.
    pub log_id_hex: String,
    /// The proof against the log head.
    pub proof: InclusionProof,
}

impl EntryView {
    /// The inner `LogEntry` object (without the entry-ID key).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self.log_entry()).expect("strings and integers serialize")
    }

    /// The `LogEntry` fields, borrowed, in the order serde_json's sorted maps give them (so
    /// [`EntryView::to_map_json`] and [`EntryView::to_map`] write the same bytes).
    fn log_entry(&self) -> LogEntryJson<'_> {
        let p = &self.proof;
        LogEntryJson {
            body: &self.record.body,
            integrated_time: self.record.integrated_time,
            log_id: &self.log_id_hex,
            log_index: self.record.log_index,
            verification: VerificationJson {
                inclusion_proof: InclusionProofJson {
                    checkpoint: &p.checkpoint,
                    hashes: p.hashes.iter().map(hex_encode).collect(),
                    log_index: p.log_index,
                    root_hash: hex_encode(p.root_hash),
                    tree_size: p.tree_size,
                },
                signed_entry_timestamp: &self.record.set,
            },
        }
    }

    /// `{ entryID: LogEntry }` written straight to JSON bytes (the add-entry answer, without
    /// building a [`Value`] first).
    pub fn to_map_json(&self) -> Vec<u8> {
        let map = std::collections::BTreeMap::from([(&self.entry_id, self.log_entry())]);
        serde_json::to_vec(&map).expect("strings and integers serialize")
    }

    /// The bundle / Rekor v2 `TransparencyLogEntry` (PROTOCOLS §1.5) for this entry, with
    /// `logId.keyId = log_id`. The SET and integrated time are included when recorded.
    ///
    /// Errors: [`Error::Storage`] if the stored body is not JSON with `kind`/`apiVersion`.
    pub fn to_transparency_log_entry(&self, log_id: &Hash) -> Result<wire::TransparencyLogEntry> {
        let body = self.record.body_bytes()?;
        let parsed: Value = serde_json::from_slice(&body)
            .map_err(|_| crate::store::Error::Corrupt("entry body"))?;
        let text = |k: &str| parsed.get(k).and_then(Value::as_str).map(str::to_string);
        let kind_version = wire::KindVersion {
            kind: text("kind").ok_or(crate::store::Error::Corrupt("entry kind"))?,
            version: text("apiVersion").ok_or(crate::store::Error::Corrupt("entry apiVersion"))?,
        };
        let set = b64_decode(&self.record.set).unwrap_or_default();
        let p = &self.proof;
        let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Ok(wire::TransparencyLogEntry {
            log_index: to_i64(self.record.log_index),
            log_id: wire::LogId { key_id: log_id.to_vec().into() },
            kind_version,
            integrated_time: self.record.integrated_time,
            inclusion_promise: (!set.is_empty())
                .then(|| wire::InclusionPromise { signed_entry_timestamp: set.into() }),
            inclusion_proof: Some(wire::InclusionProof {
                log_index: to_i64(p.log_index),
                root_hash: p.root_hash.to_vec().into(),
                tree_size: to_i64(p.tree_size),
                hashes: p.hashes.iter().map(|h| h.to_vec().into()).collect(),
                checkpoint: Some(wire::Checkpoint { envelope: p.checkpoint.clone() }),
            }),
            canonicalized_body: body.into(),
        })
    }

    /// The response map `{ entryID: LogEntry }`.
    pub fn to_map(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert(self.entry_id.clone(), self.to_value());
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::EcdsaP256Signer;

    #[test]
    fn record_set_verifies_with_the_log_key() {
        let signer = EcdsaP256Signer::generate();
        let log_id = signer.public_key().key_id();
        let r = Record::new(b"{}", 5, 7, &log_id, &signer).unwrap();
        let payload = set_payload(&r.body, 5, &log_id, 7).unwrap();
        let sig = b64_decode(&r.set).unwrap();
        let key = signer.public_key();
        assert!(key.verify(key.default_scheme(), &payload, &sig).is_ok());
        assert_eq!(Record::from_bytes(&r.to_bytes().unwrap()).unwrap(), r);
        // Records stored as JSON by earlier versions still read.
        assert_eq!(Record::from_bytes(&serde_json::to_vec(&r).unwrap()).unwrap(), r);
        let v2 = Record::without_set(b"{}", 9);
        assert_eq!(Record::from_bytes(&v2.to_bytes().unwrap()).unwrap(), v2);
        for bad in [&b""[..], b"\x02short", b"x", b"{\"body\":1}"] {
            assert!(Record::from_bytes(bad).is_err(), "{bad:?}");
        }
        let mut long_set = r.to_bytes().unwrap();
        long_set[17..19].copy_from_slice(&9999u16.to_be_bytes());
        assert!(Record::from_bytes(&long_set).is_err());
    }

    #[test]
    fn log_entry_json_is_the_same_with_or_without_a_value() {
        let signer = EcdsaP256Signer::generate();
        let record = Record::new(b"{\"a\":1}", 5, 7, &[3; 32], &signer).unwrap();
        let view = EntryView {
            entry_id: entry_id(9, &[1; 32]),
            record,
            log_id_hex: hex_encode([3u8; 32]),
            proof: InclusionProof {
                log_index: 7,
                tree_size: 8,
                root_hash: [4; 32],
                hashes: vec![[5; 32], [6; 32]],
                checkpoint: "origin\n8\nBA==\n".into(),
            },
        };
        assert_eq!(view.to_map_json(), serde_json::to_vec(&view.to_map()).unwrap());
        let v = view.to_value();
        assert_eq!(v["verification"]["inclusionProof"]["treeSize"], 8);
        assert_eq!(v["logID"], hex_encode([3u8; 32]));
    }

    #[test]
    fn entry_id_is_tree_id_then_uuid() {
        let id = entry_id(0x2427_1c5e_3e6d_f71b, &[0x11; 32]);
        assert_eq!(id.len(), 80);
        assert!(id.starts_with("24271c5e3e6df71b1111"));
    }
}
