//! C2SP signed notes (`signed-note`) carrying C2SP `tlog-checkpoint` bodies: parse, format,
//! sign and verify.
//!
//! A note is its text (ending in `\n`), a blank line, then signature lines
//! `— <name> <base64(key ID || signature)>\n`. Verifying splits at the LAST `\n\n`, ignores
//! lines from unknown keys (witness cosignatures), and needs one valid line from a trusted
//! key. Key IDs: ECDSA (Rekor v1) = SHA-256(SPKI)[..4]; Ed25519 (type 0x01, Rekor v2) =
//! SHA-256(name || 0x0A || 0x01 || raw key)[..4]. Which origin to expect is the caller's call.

use super::hash::Hash;
use super::{Error, Result};
use crate::crypto::{digest, HashAlgorithm, KeyKind, PublicKey, Signer};
use crate::encoding::{b64_decode, b64_encode};

/// A tlog checkpoint body (C2SP tlog-checkpoint): origin, tree size, root hash, extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line, e.g. `rekor.sigstore.dev - 2605736670972794746`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// The RFC 6962 root hash at `size`.
    pub root_hash: Hash,
    /// Extension lines after the root (e.g. `Timestamp: <nanos>`), without their newlines.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text: `origin\nsize\nbase64(root)\n` plus one line per extension.
    ///
    /// The fields must not contain newlines and must not be empty ([`sign_checkpoint`] checks).
    pub fn to_note_body(&self) -> String {
        let mut out = format!("{}\n{}\n{}\n", self.origin, self.size, b64_encode(self.root_hash));
        for ext in &self.extensions {
            out.push_str(ext);
            out.push('\n');
        }
        out
    }

    /// Parses a note text (everything before the blank line, with its final `\n`).
    ///
    /// Errors: [`Error::MalformedCheckpoint`] naming the field: an empty origin, a size that is
    /// not canonical decimal, a root that is not standard base64 of 32 bytes, an empty
    /// extension line, or text not ending in `\n`.
    pub fn parse_note_body(text: &str) -> Result<Checkpoint> {
        let Some(body) = text.strip_suffix('\n') else {
            return Err(Error::MalformedCheckpoint { field: "final newline" });
        };
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(Error::MalformedCheckpoint { field: "origin" });
        }
        let size_text = lines.next().ok_or(Error::MalformedCheckpoint { field: "tree size" })?;
        let size =
            parse_decimal(size_text).ok_or(Error::MalformedCheckpoint { field: "tree size" })?;
        let root_text = lines.next().ok_or(Error::MalformedCheckpoint { field: "root hash" })?;
        let root_hash =
            parse_root(root_text).ok_or(Error::MalformedCheckpoint { field: "root hash" })?;
        let mut extensions = Vec::new();
        for line in lines {
            if line.is_empty() {
                return Err(Error::MalformedCheckpoint { field: "extension line" });
            }
            extensions.push(line.to_string());
        }
        Ok(Checkpoint { origin: origin.to_string(), size, root_hash, extensions })
    }
}

/// A trusted signed-note key: a name plus an ECDSA or Ed25519 public key.
#[derive(Debug, Clone)]
pub struct NoteVerifier {
    name: String,
    key: PublicKey,
    key_hash: Hash,
}

impl NoteVerifier {
    /// An ECDSA (P-256 or P-384) note key, as Rekor v1 signs checkpoints: key ID
    /// SHA-256(SPKI)[..4], DER signature over the note text with the curve's hash.
    ///
    /// Errors: [`Error::InvalidKeyName`]; [`Error::UnsupportedNoteKey`] for non-ECDSA keys.
    pub fn ecdsa(name: &str, key: PublicKey) -> Result<Self> {
        check_name(name)?;
        if !matches!(key.kind(), KeyKind::EcdsaP256 | KeyKind::EcdsaP384) {
            return Err(Error::UnsupportedNoteKey(key.kind()));
        }
        Ok(NoteVerifier { name: name.to_string(), key_hash: key.key_id(), key })
    }

    /// An Ed25519 note key (C2SP signed-note type 0x01; Rekor v2 logs): key ID
    /// SHA-256(name || 0x0A || 0x01 || raw key)[..4], 64-byte signature over the note text.
    ///
    /// Errors: [`Error::InvalidKeyName`]; [`Error::UnsupportedNoteKey`] for non-Ed25519 keys.
    pub fn ed25519(name: &str, key: PublicKey) -> Result<Self> {
        check_name(name)?;
        if key.kind() != KeyKind::Ed25519 {
            return Err(Error::UnsupportedNoteKey(key.kind()));
        }
        let key_hash = ed25519_key_hash(name, key.raw_key());
        Ok(NoteVerifier { name: name.to_string(), key, key_hash })
    }

    /// Picks [`NoteVerifier::ecdsa`] or [`NoteVerifier::ed25519`] by the key's kind.
    pub fn for_key(name: &str, key: PublicKey) -> Result<Self> {
        match key.kind() {
            KeyKind::Ed25519 => Self::ed25519(name, key),
            _ => Self::ecdsa(name, key),
        }
    }

    /// The key name signature lines must carry.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key ID (key hint) signature lines must carry.
    pub fn key_id(&self) -> [u8; 4] {
        let mut out = [0u8; 4];
        out.copy_from_slice(&self.key_hash[..4]);
        out
    }

    /// The full 32-byte hash whose prefix is the key ID: SHA-256(SPKI) for ECDSA (the Rekor v1
    /// log ID), the C2SP key hash for Ed25519 (the Rekor v2 `logId.keyId`).
    pub fn log_id(&self) -> Hash {
        self.key_hash
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    fn verify(&self, text: &[u8], signature: &[u8]) -> Result<(), crate::crypto::Error> {
        self.key.verify(self.key.default_scheme(), text, signature)
    }
}

/// A checkpoint whose signature was checked; only [`verify_checkpoint`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    checkpoint: Checkpoint,
    signer: String,
}

impl VerifiedCheckpoint {
    /// The verified body.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The name of the trusted key whose signature verified.
    pub fn signer_name(&self) -> &str {
        &self.signer
    }
}

/// Verifies a signed-note checkpoint against trusted keys.
///
/// Lines whose (name, key ID) match no verifier are ignored. A matching line that fails to
/// verify is an error ([`Error::BadSignature`]), even if another line verifies. With no
/// verified line: [`Error::KeyHintMismatch`] if a line had a trusted name with another key
/// ID, else [`Error::NoTrustedSignature`]. Malformed notes give [`Error::MalformedNote`],
/// [`Error::MalformedSignatureLine`] or [`Error::MalformedCheckpoint`].
pub fn verify_checkpoint(note: &str, verifiers: &[NoteVerifier]) -> Result<VerifiedCheckpoint> {
    let (text, signatures) = split_note(note)?;
    let checkpoint = Checkpoint::parse_note_body(text)?;
    let mut signer: Option<&NoteVerifier> = None;
    let mut hint_mismatch: Option<Error> = None;
    let mut names = Vec::new();
    for (number, line) in signatures.split_terminator('\n').enumerate() {
        let (name, key_id, sig) = parse_signature_line(line, number + 1)?;
        names.push(name.to_string());
        let mut known_name = None;
        for v in verifiers.iter().filter(|v| v.name == name) {
            if v.key_id() != key_id {
                known_name = Some(v);
                continue;
            }
            v.verify(text.as_bytes(), &sig)
                .map_err(|source| Error::BadSignature { name: name.to_string(), source })?;
            signer.get_or_insert(v);
            known_name = None;
            break;
        }
        if let (Some(v), None) = (known_name, &hint_mismatch) {
            hint_mismatch = Some(Error::KeyHintMismatch {
                name: name.to_string(),
                got: key_id,
                want: v.key_id(),
            });
        }
    }
    match (signer, hint_mismatch) {
        (Some(v), _) => Ok(VerifiedCheckpoint { checkpoint, signer: v.name.clone() }),
        (None, Some(err)) => Err(err),
        (None, None) => Err(Error::NoTrustedSignature { names }),
    }
}

/// Signs `cp` as key `name` and returns the whole note (text, blank line, one signature line).
///
/// The key ID follows the signer's key kind: ECDSA keys use SHA-256(SPKI)[..4] (Rekor v1),
/// Ed25519 keys the C2SP type 0x01 rule. Errors: [`Error::InvalidKeyName`],
/// [`Error::MalformedCheckpoint`] for an empty or multi-line origin or extension,
/// [`Error::UnsupportedNoteKey`] for RSA keys, [`Error::Signing`].
pub fn sign_checkpoint(cp: &Checkpoint, name: &str, signer: &dyn Signer) -> Result<String> {
    check_name(name)?;
    if cp.origin.is_empty() || cp.origin.contains('\n') {
        return Err(Error::MalformedCheckpoint { field: "origin" });
    }
    if cp.extensions.iter().any(|e| e.is_empty() || e.contains('\n')) {
        return Err(Error::MalformedCheckpoint { field: "extension line" });
    }
    let key = signer.public_key();
    let key_hash = match key.kind() {
        KeyKind::EcdsaP256 | KeyKind::EcdsaP384 => key.key_id(),
        KeyKind::Ed25519 => ed25519_key_hash(name, key.raw_key()),
        other => return Err(Error::UnsupportedNoteKey(other)),
    };
    let text = cp.to_note_body();
    let sig = signer.sign(text.as_bytes()).map_err(Error::Signing)?;
    let mut blob = Vec::with_capacity(4 + sig.len());
    blob.extend_from_slice(&key_hash[..4]);
    blob.extend_from_slice(&sig);
    Ok(format!("{text}\n{EM_DASH} {name} {}\n", b64_encode(blob)))
}

/// The C2SP Ed25519 key hash: SHA-256(name || 0x0A || 0x01 || raw public key).
fn ed25519_key_hash(name: &str, raw: &[u8]) -> Hash {
    let mut buf = Vec::with_capacity(name.len() + 2 + raw.len());
    buf.extend_from_slice(name.as_bytes());
    buf.push(b'\n');
    buf.push(ED25519_ALGORITHM);
    buf.extend_from_slice(raw);
    let d = digest(HashAlgorithm::Sha256, &buf);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_bytes());
    out
}

/// Splits a note at its last blank line into (text with final `\n`, signature block).
fn split_note(note: &str) -> Result<(&str, &str)> {
    if !note.ends_with('\n') {
        return Err(Error::MalformedNote("does not end with a newline"));
    }
    let Some(pos) = note.rfind("\n\n") else {
        return Err(Error::MalformedNote("no blank line before the signatures"));
    };
    let text = &note[..pos + 1];
    let signatures = &note[pos + 2..];
    if signatures.is_empty() {
        return Err(Error::MalformedNote("no signature lines"));
    }
    if signatures.matches('\n').count() > MAX_SIGNATURES {
        return Err(Error::MalformedNote("too many signature lines"));
    }
    Ok((text, signatures))
}

/// Reads `— <name> <base64(key ID || signature)>`.
fn parse_signature_line(line: &str, number: usize) -> Result<(&str, [u8; 4], Vec<u8>)> {
    let bad = || Error::MalformedSignatureLine { line: number };
    let rest = line.strip_prefix(EM_DASH).and_then(|r| r.strip_prefix(' ')).ok_or_else(bad)?;
    let (name, b64) = rest.split_once(' ').ok_or_else(bad)?;
    if name.is_empty() || name.contains('+') || b64.contains(' ') {
        return Err(bad());
    }
    let blob = decode_std_base64(b64).ok_or_else(bad)?;
    let (id, sig) = blob.split_first_chunk::<4>().ok_or_else(bad)?;
    if sig.is_empty() {
        return Err(bad());
    }
    Ok((name, *id, sig.to_vec()))
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains([' ', '+', '\n']) || name.chars().any(char::is_control) {
        return Err(Error::InvalidKeyName(name.to_string()));
    }
    Ok(())
}

/// Canonical decimal: digits only, no leading zeros (except "0" itself), fits in u64.
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if text.len() > 1 && text.starts_with('0') {
        return None;
    }
    text.parse().ok()
}

fn parse_root(text: &str) -> Option<Hash> {
    let bytes = decode_std_base64(text)?;
    bytes.try_into().ok()
}

/// Standard padded base64 only: the note formats allow no other spelling.
fn decode_std_base64(text: &str) -> Option<Vec<u8>> {
    let bytes = b64_decode(text)?;
    (b64_encode(&bytes) == text).then_some(bytes)
}

const EM_DASH: &str = "\u{2014}";
const ED25519_ALGORITHM: u8 = 0x01;
/// C2SP signed-note lets verifiers cap the number of signatures; 100 is what Go's note uses.
const MAX_SIGNATURES: usize = 100;

#[cfg(test)]
mod tests;
