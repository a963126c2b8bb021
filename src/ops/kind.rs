//! The two kinds of log sigbox runs on a [`LogStore`](crate::store::LogStore): what a stored
//! record's Merkle leaf is, how the checkpoint is signed, and where things are in the data
//! directory.

use std::path::{Path, PathBuf};

use super::{Damage, Error, Result};
use crate::crypto::PublicKey;
use crate::tlog::{self, Hash};

/// Which log a data directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    /// A `rekor-server` data directory: `db/` and `signer.key`. Records are Rekor records
    /// whose leaf is the canonical body; checkpoints are signed notes.
    Rekor,
    /// A `fulcio-server` data directory: the CT log in `ct/` (leaf = RFC 6962
    /// `MerkleTreeLeaf`, checkpoint = a JSON signed tree head), `ct.key`/`ct.pub`, and the
    /// CA's keys and chain.
    Ct,
}

/// One file of a data directory that a backup carries.
#[derive(Debug, Clone, Copy)]
pub struct DataFile {
    /// File name in the data directory.
    pub name: &'static str,
    /// A private key: only with `--include-keys`, written back with mode 0600.
    pub secret: bool,
}

const REKOR_FILES: &[DataFile] = &[DataFile { name: "signer.key", secret: true }];
const CT_FILES: &[DataFile] = &[
    DataFile { name: "ca-chain.pem", secret: false },
    DataFile { name: "ct.pub", secret: false },
    DataFile { name: "ca-root.key", secret: true },
    DataFile { name: "ca-intermediate.key", secret: true },
    DataFile { name: "ct.key", secret: true },
];

impl LogKind {
    /// The name used in backups and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            LogKind::Rekor => "rekor",
            LogKind::Ct => "ct",
        }
    }

    /// The kind named `name` ([`LogKind::name`]).
    pub fn from_name(name: &str) -> Option<LogKind> {
        match name {
            "rekor" => Some(LogKind::Rekor),
            "ct" => Some(LogKind::Ct),
            _ => None,
        }
    }

    /// Which kind `data_dir` holds: `db/` is a Rekor log, `ct/` the CA's CT log.
    ///
    /// Errors: [`Error::Refused`] when it holds neither.
    pub fn detect(data_dir: &Path) -> Result<LogKind> {
        match (data_dir.join("db").is_dir(), data_dir.join("ct").is_dir()) {
            (true, false) => Ok(LogKind::Rekor),
            (false, true) => Ok(LogKind::Ct),
            _ => Err(Error::Refused(format!(
                "{} holds no log store (a rekor-server data directory has db/, a fulcio-server one ct/)",
                data_dir.display()
            ))),
        }
    }

    /// The store's directory inside `data_dir`.
    pub fn store_dir(self, data_dir: &Path) -> PathBuf {
        data_dir.join(match self {
            LogKind::Rekor => "db",
            LogKind::Ct => "ct",
        })
    }

    /// The data files a backup carries (private keys only when asked).
    pub fn files(self) -> &'static [DataFile] {
        match self {
            LogKind::Rekor => REKOR_FILES,
            LogKind::Ct => CT_FILES,
        }
    }

    /// The log's public key, from the data directory: the public half of `signer.key`
    /// (Rekor) or `ct.pub` (CT).
    ///
    /// Errors: [`Error::Io`], [`Error::KeyParse`].
    pub fn public_key(self, data_dir: &Path) -> Result<PublicKey> {
        let (name, path) = match self {
            LogKind::Rekor => ("signer.key", data_dir.join("signer.key")),
            LogKind::Ct => ("ct.pub", data_dir.join("ct.pub")),
        };
        let pem =
            zeroize::Zeroizing::new(std::fs::read_to_string(&path).map_err(Error::io(&path))?);
        let parse = |source| Error::KeyParse { name: name.into(), source };
        match self {
            LogKind::Rekor => {
                Ok(crate::crypto::signer_from_pem(&pem, None).map_err(parse)?.public_key().clone())
            }
            LogKind::Ct => PublicKey::from_pem(&pem).map_err(parse),
        }
    }

    /// The Merkle leaf of a stored record (`None` if the record does not parse).
    pub fn leaf_input(self, record: &[u8]) -> Option<Vec<u8>> {
        match self {
            LogKind::Rekor => crate::rekor::Record::from_bytes(record).ok()?.body_bytes().ok(),
            LogKind::Ct => {
                let v: serde_json::Value = serde_json::from_slice(record).ok()?;
                crate::encoding::b64_decode(v.get("leaf_input")?.as_str()?)
            }
        }
    }

    /// The Merkle leaf of entry `index`'s stored record, after checking what else the record
    /// holds: a Rekor record must carry its own index, and with `sets` its signed entry
    /// timestamp must verify with the log key (the SET covers the integrated time, which the
    /// leaf does not; about 40 µs an entry, so off by default).
    ///
    /// Errors: the [`Damage`] naming the entry.
    pub fn check_record(
        self,
        record: &[u8],
        index: u64,
        key: &PublicKey,
        sets: bool,
    ) -> std::result::Result<Vec<u8>, Damage> {
        match self {
            LogKind::Rekor => {
                let r = crate::rekor::Record::from_bytes(record)
                    .map_err(|_| Damage::UnreadableEntry(index))?;
                if r.log_index != index {
                    return Err(Damage::Record { index, problem: "it holds another log index" });
                }
                if sets && !r.set.is_empty() {
                    let payload = crate::rekor::set_payload(
                        &r.body,
                        r.integrated_time,
                        &key.key_id(),
                        r.log_index,
                    )
                    .map_err(|_| Damage::UnreadableEntry(index))?;
                    let set = crate::encoding::b64_decode(&r.set)
                        .ok_or(Damage::UnreadableEntry(index))?;
                    key.verify(key.default_scheme(), &payload, &set).map_err(|_| {
                        Damage::Record {
                            index,
                            problem: "its signed entry timestamp does not verify",
                        }
                    })?;
                }
                r.body_bytes().map_err(|_| Damage::UnreadableEntry(index))
            }
            LogKind::Ct => self.leaf_input(record).ok_or(Damage::UnreadableEntry(index)),
        }
    }

    /// Verifies a stored checkpoint with the log key; returns its (size, root).
    ///
    /// Errors: the reason, as text (for [`super::Damage::Checkpoint`]).
    pub fn verify_checkpoint(
        self,
        text: &str,
        key: &PublicKey,
    ) -> std::result::Result<(u64, Hash), String> {
        match self {
            LogKind::Rekor => {
                // The key name is the checkpoint's own signature line's (the name the log
                // was started under); what matters is that the log key signed it.
                let name = text
                    .split_once("\n\n")
                    .and_then(|(_, sigs)| sigs.lines().next())
                    .and_then(|line| line.split(' ').nth(1))
                    .ok_or("no signature line")?;
                let verifier =
                    tlog::NoteVerifier::for_key(name, key.clone()).map_err(|e| e.to_string())?;
                let cp = tlog::verify_checkpoint(text, &[verifier]).map_err(|e| e.to_string())?;
                Ok((cp.checkpoint().size, cp.checkpoint().root_hash))
            }
            LogKind::Ct => {
                let sth: crate::fulcio::ct::SignedTreeHead =
                    serde_json::from_str(text).map_err(|e| format!("not a tree head: {e}"))?;
                let root: Hash = crate::encoding::b64_decode(&sth.sha256_root_hash)
                    .and_then(|r| r.try_into().ok())
                    .ok_or("root hash is not 32 bytes of base64")?;
                let signed = crate::encoding::b64_decode(&sth.tree_head_signature)
                    .ok_or("signature is not base64")?;
                let signature = signed.get(4..).ok_or("signature too short")?;
                let mut data = vec![0u8, 1];
                data.extend_from_slice(&sth.timestamp.to_be_bytes());
                data.extend_from_slice(&sth.tree_size.to_be_bytes());
                data.extend_from_slice(&root);
                key.verify(key.default_scheme(), &data, signature)
                    .map_err(|_| "the tree head signature does not verify".to_string())?;
                Ok((sth.tree_size, root))
            }
        }
    }
}
