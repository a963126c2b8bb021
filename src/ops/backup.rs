//! Backup and restore of one log: the log parts (`log`, `index`, `entries`, `tree`) cut at
//! one signed checkpoint, the data directory's files (`file/NAME`; private keys only when
//! asked, encrypted with cosign's key-file scheme when a passphrase is given) and the
//! manifest. Layout of each part: `docs/backup-format.md`.
//!
//! Why a backup taken while the server writes is consistent: the store is append-only below
//! its size, and the checkpoint, size and index record of a commit are written in one
//! atomic batch. The backup reads the checkpoint first and then copies exactly the entries
//! and index records below its size, so later commits never leak in.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::archive::{ArchiveReader, ArchiveWriter, PartInfo, MANIFEST};
use super::{Damage, Error, LogKind, Progress, Result};
use crate::crypto::cosign_key::{self, Password};
use crate::crypto::PublicKey;
use crate::encoding::{b64_decode, b64_encode, hex_encode};
use crate::store::{index_record_leaves, LogStore};
use crate::tlog::{self, CompactRange, Hash, NodeId};

/// The `log` part: what the backup is of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogInfo {
    /// [`LogKind::name`].
    pub kind: String,
    /// Entries in the backup (the checkpoint's size).
    pub size: u64,
    /// The checkpoint's root, hex.
    pub root: String,
    /// The signed checkpoint the backup is cut at, as stored.
    pub checkpoint: String,
    /// The log's public key (PEM), which signed the checkpoint.
    pub public_key: String,
    /// The store's caller metadata (e.g. Rekor's tree ID), values in base64.
    pub meta: BTreeMap<String, String>,
}

/// Writes the log parts of `store` cut at its current signed checkpoint.
///
/// Errors: [`Error::Damaged`] if the checkpoint does not verify or a record below its size
/// is missing; store and I/O errors.
pub fn write_log_parts<W: Write>(
    store: &LogStore,
    kind: LogKind,
    key: &PublicKey,
    out: &mut ArchiveWriter<W>,
    progress: Progress<'_>,
) -> Result<LogInfo> {
    let io = |source| Error::Io { path: "backup output".into(), source };
    // The checkpoint first: everything below its size is immutable from here on.
    let checkpoint = store.checkpoint()?.unwrap_or_default();
    let (size, root) = if checkpoint.is_empty() {
        (0, tlog::empty_root())
    } else {
        kind.verify_checkpoint(&checkpoint, key).map_err(Damage::Checkpoint)?
    };
    let meta = store.caller_meta()?.into_iter().map(|(k, v)| (k, b64_encode(v))).collect();
    let info = LogInfo {
        kind: kind.name().into(),
        size,
        root: hex_encode(root),
        checkpoint,
        public_key: key.to_pem(),
        meta,
    };
    let text = serde_json::to_vec_pretty(&info).map_err(|e| Error::Format(e.to_string()))?;
    out.add("log", &text).map_err(io)?;
    // Index records below the size: they end exactly at it (a commit boundary).
    let mut part = out.part("index").map_err(io)?;
    let mut covered = 0u64;
    for record in store.index_records() {
        let (first, bytes) = record?;
        if first >= size {
            break;
        }
        if first != covered {
            return Err(Damage::IndexRecord { first: covered, problem: "missing" }.into());
        }
        let n = index_record_leaves(&bytes)
            .ok_or(Damage::IndexRecord { first, problem: "malformed" })?
            .len() as u64;
        let len = u32::try_from(bytes.len())
            .map_err(|_| Damage::IndexRecord { first, problem: "too large" })?;
        part.write_all(&first.to_be_bytes()).map_err(io)?;
        part.write_all(&len.to_be_bytes()).map_err(io)?;
        part.write_all(&bytes).map_err(io)?;
        covered = first + n;
    }
    if covered != size {
        return Err(
            Damage::IndexRecord { first: covered, problem: "does not end at the size" }.into()
        );
    }
    part.finish().map_err(io)?;
    let mut part = out.part("entries").map_err(io)?;
    let mut next = 0u64;
    for item in store.scan_entries(0, size) {
        let (at, record) = item?;
        if at != next {
            return Err(Damage::MissingEntry(next).into());
        }
        let len = u32::try_from(record.len()).map_err(|_| Damage::UnreadableEntry(at))?;
        part.write_all(&len.to_be_bytes()).map_err(io)?;
        part.write_all(&record).map_err(io)?;
        next += 1;
        if next % 4096 == 0 {
            progress(next, size);
        }
    }
    if next != size {
        return Err(Damage::MissingEntry(next).into());
    }
    part.finish().map_err(io)?;
    progress(size, size);
    // The tree's frontier at the size (perfect nodes never change once made).
    let mut part = out.part("tree").map_err(io)?;
    for id in CompactRange::frontier_ids(size) {
        part.write_all(&store.node(id)?).map_err(io)?;
    }
    part.finish().map_err(io)?;
    Ok(info)
}

/// Copies the log parts a server sent on its admin socket into `out`, checking each part's
/// hash on the way.
///
/// Errors: [`Error::Admin`] if the server answered with an error; [`Error::Part`] for a
/// part damaged in transit; [`Error::Format`] for a truncated answer.
pub fn copy_log_parts<R: Read, W: Write>(
    from: &mut ArchiveReader<R>,
    out: &mut ArchiveWriter<W>,
    progress: Progress<'_>,
) -> Result<LogInfo> {
    let io = |source| Error::Io { path: "backup output".into(), source };
    let mut info: Option<LogInfo> = None;
    for want in ["log", "index", "entries", "tree"] {
        let mut part = from
            .next_part()?
            .ok_or_else(|| Error::Admin(format!("the answer ended before part {want:?}")))?;
        if part.name() == "error" {
            let (_, text) = part.read_all()?;
            return Err(Error::Admin(String::from_utf8_lossy(&text).into_owned()));
        }
        if part.name() != want {
            return Err(Error::Admin(format!("expected part {want:?}, got {:?}", part.name())));
        }
        let mut w = out.part(want).map_err(io)?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut log_text = Vec::new();
        let mut records = RecordCounter::default();
        let total = info.as_ref().map_or(0, |i| i.size);
        loop {
            let n = part.read(&mut buf).map_err(|e| part.problem(e))?;
            if n == 0 {
                break;
            }
            let data = &buf[..n];
            w.write_all(data).map_err(io)?;
            match want {
                "log" => log_text.extend_from_slice(data),
                "entries" => {
                    let before = records.done;
                    records.feed(data);
                    if records.done / 4096 != before / 4096 {
                        progress(records.done, total);
                    }
                }
                _ => {}
            }
        }
        if want == "log" {
            info = Some(
                serde_json::from_slice(&log_text)
                    .map_err(|e| Error::Part { part: "log".into(), problem: e.to_string() })?,
            );
        }
        if want == "entries" {
            progress(records.done, total);
        }
        part.finish()?;
        w.finish().map_err(io)?;
    }
    info.ok_or_else(|| Error::Admin("the log part does not parse".into()))
}

/// Counts `len:u32 record` frames in a stream fed in arbitrary pieces (progress of an
/// entries part arriving from a server).
#[derive(Default)]
struct RecordCounter {
    header: Vec<u8>,
    left: u64,
    done: u64,
}

impl RecordCounter {
    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.left > 0 {
                let take = data.len().min(self.left as usize);
                self.left -= take as u64;
                data = &data[take..];
                if self.left == 0 {
                    self.done += 1;
                }
                continue;
            }
            let take = (4 - self.header.len()).min(data.len());
            self.header.extend_from_slice(&data[..take]);
            data = &data[take..];
            if let Ok(len) = <[u8; 4]>::try_from(self.header.as_slice()) {
                self.header.clear();
                self.left = u64::from(u32::from_be_bytes(len));
                if self.left == 0 {
                    self.done += 1;
                }
            }
        }
    }
}

/// Adds the data directory's files as `file/NAME` parts: public files always, private keys
/// only with `include_keys` (encrypted with `passphrase` if given). Returns the names of the
/// key files included (the caller warns about them).
///
/// Errors: [`Error::Io`] for an unreadable file, [`Error::Key`] if a key cannot be
/// encrypted.
pub fn add_files<W: Write>(
    data_dir: &Path,
    kind: LogKind,
    include_keys: bool,
    passphrase: Option<&Password>,
    out: &mut ArchiveWriter<W>,
) -> Result<Vec<String>> {
    let io = |source| Error::Io { path: "backup output".into(), source };
    let mut keys = Vec::new();
    for file in kind.files() {
        if file.secret && !include_keys {
            continue;
        }
        let path = data_dir.join(file.name);
        if !path.exists() {
            continue;
        }
        let content = zeroize::Zeroizing::new(std::fs::read(&path).map_err(Error::io(&path))?);
        match (file.secret, passphrase) {
            (true, Some(pass)) => {
                let pem = String::from_utf8_lossy(&content);
                let signer = crate::crypto::signer_from_pem(&pem, None)
                    .map_err(|source| Error::KeyParse { name: file.name.into(), source })?;
                let sealed = cosign_key::encrypt_private_key(signer.as_ref(), pass)
                    .map_err(|source| Error::Key { name: file.name.into(), source })?;
                out.add(&format!("key-encrypted/{}", file.name), sealed.as_bytes()).map_err(io)?;
            }
            (true, None) => out.add(&format!("key/{}", file.name), &content).map_err(io)?,
            (false, _) => out.add(&format!("file/{}", file.name), &content).map_err(io)?,
        }
        if file.secret {
            keys.push(file.name.to_string());
        }
    }
    Ok(keys)
}

/// Writes a backup to `to` through a temporary file in the same directory that is synced
/// and renamed into place only when complete; `fill` writes the parts, `fields` go into the
/// manifest. An existing `to` is refused.
///
/// Errors: [`Error::Refused`] if `to` exists; what `fill` returns; I/O errors.
pub fn write_backup_file<T>(
    to: &Path,
    fill: impl FnOnce(&mut ArchiveWriter<BufWriter<std::fs::File>>) -> Result<T>,
    fields: impl FnOnce(&T) -> serde_json::Value,
) -> Result<T> {
    if to.exists() {
        return Err(Error::Refused(format!("{} exists; not overwriting it", to.display())));
    }
    let dir = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = to.file_name().ok_or_else(|| Error::Refused("--to names no file".into()))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".partial-{}", std::process::id()));
    let temp = dir.join(temp_name);
    let result = (|| {
        // Keys may be inside: owner-only from the start, like a key file.
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(Error::io(&temp))?;
        let mut archive = ArchiveWriter::new(BufWriter::with_capacity(1 << 20, file))
            .map_err(Error::io(&temp))?;
        let value = fill(&mut archive)?;
        let out = archive.finish(fields(&value))?;
        let file = out.into_inner().map_err(|e| Error::io(&temp)(e.into_error()))?;
        file.sync_all().map_err(Error::io(&temp))?;
        std::fs::rename(&temp, to).map_err(Error::io(to))?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(value)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Reads a whole backup file and checks every part's SHA-256 and the manifest; returns the
/// manifest's part list.
///
/// Errors: [`Error::Part`] naming a damaged part; [`Error::Format`] for a file that is not
/// a complete backup.
pub fn verify_backup(path: &Path) -> Result<Vec<PartInfo>> {
    let file = std::fs::File::open(path).map_err(Error::io(path))?;
    let mut reader = ArchiveReader::new(BufReader::with_capacity(1 << 20, file))?;
    let mut seen = Vec::new();
    let mut manifest = None;
    while let Some(part) = reader.next_part()? {
        if manifest.is_some() {
            return Err(Error::Format("data after the manifest".into()));
        }
        if part.name() == MANIFEST {
            manifest = Some(part.read_all()?.1);
        } else {
            seen.push(part.finish()?);
        }
    }
    let manifest = manifest.ok_or_else(|| Error::Format("no manifest (truncated?)".into()))?;
    let manifest: serde_json::Value = serde_json::from_slice(&manifest)
        .map_err(|e| Error::Part { part: MANIFEST.into(), problem: e.to_string() })?;
    let listed: Vec<PartInfo> = serde_json::from_value(manifest["parts"].clone())
        .map_err(|e| Error::Part { part: MANIFEST.into(), problem: e.to_string() })?;
    if listed != seen {
        return Err(Error::Part {
            part: MANIFEST.into(),
            problem: "its list of parts does not match the parts in the file".into(),
        });
    }
    Ok(listed)
}

/// What a restore made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// Which log.
    pub kind: LogKind,
    /// Entries restored.
    pub size: u64,
    /// The root proven equal to the backup's checkpoint.
    pub root: Hash,
    /// Files written into the data directory.
    pub files: Vec<String>,
}

/// Restores the backup at `from` into a new data directory `data_dir` (which must not exist
/// or be empty): checks every hash first, then rebuilds the store (entries, tree, indexes)
/// checking every entry against the index's leaf hash, writes the files, and reopens the
/// store to prove its tree has the checkpoint's size and root. On any failure the new
/// directory is removed again.
///
/// Errors: [`Error::Refused`] for an existing store or an encrypted key without
/// `passphrase`; [`Error::Part`]/[`Error::Format`] for a damaged backup; [`Error::Damaged`]
/// when the content does not add up to the signed checkpoint.
pub fn restore(
    from: &Path,
    data_dir: &Path,
    passphrase: Option<&Password>,
    progress: Progress<'_>,
) -> Result<Restored> {
    let non_empty = std::fs::read_dir(data_dir).map(|mut d| d.next().is_some()).unwrap_or(false);
    if non_empty {
        return Err(Error::Refused(format!(
            "{} exists and is not empty; restore writes only into a new directory",
            data_dir.display()
        )));
    }
    verify_backup(from)?;
    std::fs::create_dir_all(data_dir).map_err(Error::io(data_dir))?;
    let result = restore_into(from, data_dir, passphrase, progress);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(data_dir);
    }
    result
}

fn restore_into(
    from: &Path,
    data_dir: &Path,
    passphrase: Option<&Password>,
    progress: Progress<'_>,
) -> Result<Restored> {
    let file = std::fs::File::open(from).map_err(Error::io(from))?;
    let mut reader = ArchiveReader::new(BufReader::with_capacity(1 << 20, file))?;
    let part = reader.next_part()?.ok_or_else(|| Error::Format("no log part".into()))?;
    if part.name() != "log" {
        return Err(Error::Format(format!("first part is {:?}, not \"log\"", part.name())));
    }
    let (_, text) = part.read_all()?;
    let info: LogInfo = serde_json::from_slice(&text)
        .map_err(|e| Error::Part { part: "log".into(), problem: e.to_string() })?;
    let kind = LogKind::from_name(&info.kind)
        .ok_or_else(|| Error::Part { part: "log".into(), problem: "unknown kind".into() })?;
    let key = PublicKey::from_pem(&info.public_key)
        .map_err(|source| Error::KeyParse { name: "log part public key".into(), source })?;
    let (size, root) = if info.checkpoint.is_empty() {
        (0, tlog::empty_root())
    } else {
        kind.verify_checkpoint(&info.checkpoint, &key).map_err(Damage::Checkpoint)?
    };
    if size != info.size || hex_encode(root) != info.root {
        return Err(Error::Part {
            part: "log".into(),
            problem: "size or root differ from the signed checkpoint".into(),
        });
    }
    // index: held in memory (49 bytes an entry), as the store holds it.
    let mut part = expect(&mut reader, "index")?;
    let mut records: Vec<(u64, Vec<u8>, usize)> = Vec::new();
    let mut covered = 0u64;
    loop {
        let mut head = [0u8; 12];
        if !read_exact_or_end(&mut part, &mut head).map_err(|e| part.problem(e))? {
            break;
        }
        let first = u64::from_be_bytes(head[..8].try_into().unwrap_or_default());
        let len = u32::from_be_bytes(head[8..].try_into().unwrap_or_default()) as usize;
        let mut bytes = vec![0u8; len];
        part.read_exact(&mut bytes).map_err(|e| part.problem(e))?;
        let n = index_record_leaves(&bytes)
            .ok_or(Damage::IndexRecord { first, problem: "malformed" })?
            .len();
        if first != covered {
            return Err(Damage::IndexRecord { first: covered, problem: "missing" }.into());
        }
        covered += n as u64;
        records.push((first, bytes, n));
    }
    part.finish()?;
    if covered != size {
        return Err(
            Damage::IndexRecord { first: covered, problem: "does not end at the size" }.into()
        );
    }
    // entries: replayed in the original commits, checked against the index's leaves.
    let store_dir = kind.store_dir(data_dir);
    let store = LogStore::open(&store_dir)?;
    let mut part = expect(&mut reader, "entries")?;
    let mut range = CompactRange::new();
    for (first, index_record, n) in &records {
        let leaves = index_record_leaves(index_record).unwrap_or_default();
        let mut batch = Vec::with_capacity(*n);
        let mut nodes: Vec<(NodeId, Hash)> = Vec::new();
        for (k, index_leaf) in leaves.iter().enumerate() {
            let at = first + k as u64;
            let mut len = [0u8; 4];
            part.read_exact(&mut len).map_err(|e| part.problem(format!("entry {at}: {e}")))?;
            let mut record = vec![0u8; u32::from_be_bytes(len) as usize];
            part.read_exact(&mut record).map_err(|e| part.problem(format!("entry {at}: {e}")))?;
            let input = kind.leaf_input(&record).ok_or(Damage::UnreadableEntry(at))?;
            let leaf = tlog::hash_leaf(&input);
            if leaf != *index_leaf {
                return Err(Damage::Entry(at).into());
            }
            range.append(leaf, |id, h| nodes.push((id, *h)))?;
            batch.push(record);
        }
        store.import_batch(*first, &batch, index_record, &nodes, &info.checkpoint)?;
        let done = first + *n as u64;
        if done % 4096 < *n as u64 || done == size {
            progress(done, size);
        }
    }
    let mut rest = [0u8; 1];
    if read_exact_or_end(&mut part, &mut rest).map_err(|e| part.problem(e))? {
        return Err(Damage::Extra(size).into());
    }
    part.finish()?;
    if range.root() != root {
        return Err(Damage::Root(size).into());
    }
    // tree: the backup's frontier must be the rebuilt one.
    let (_, frontier) = expect(&mut reader, "tree")?.read_all()?;
    let rebuilt: Vec<u8> = range.hashes().iter().flat_map(|h| h.iter().copied()).collect();
    if frontier != rebuilt {
        return Err(Error::Part {
            part: "tree".into(),
            problem: "its frontier differs from the tree rebuilt from the entries".into(),
        });
    }
    for (name, value) in &info.meta {
        let value = b64_decode(value)
            .ok_or_else(|| Error::Part { part: "log".into(), problem: format!("meta {name}") })?;
        store.set_meta(name, &value)?;
    }
    store.flush()?;
    store.close()?;
    // files
    let mut files = Vec::new();
    while let Some(part) = reader.next_part()? {
        if part.name() == MANIFEST {
            part.finish()?;
            break;
        }
        let (name, content) = part.read_all()?;
        files.push(write_file(data_dir, kind, &name, &content, passphrase)?);
    }
    // The proof: the store as reopened has the checkpoint's size and root.
    let store = LogStore::open(&store_dir)?;
    let reopened = store.compact_range()?;
    let stored = store.checkpoint()?.unwrap_or_default();
    store.close()?;
    if reopened.size() != size || reopened.root() != root || stored != info.checkpoint {
        return Err(Damage::Root(size).into());
    }
    Ok(Restored { kind, size, root, files })
}

/// The next part, which must be `want`.
fn expect<'a, R: Read>(
    reader: &'a mut ArchiveReader<R>,
    want: &str,
) -> Result<super::archive::PartReader<'a, R>> {
    let part =
        reader.next_part()?.ok_or_else(|| Error::Format(format!("part {want:?} is missing")))?;
    if part.name() != want {
        return Err(Error::Format(format!("expected part {want:?}, found {:?}", part.name())));
    }
    Ok(part)
}

/// Fills `buf`, or returns `false` at a clean end of input.
fn read_exact_or_end(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..])? {
            0 if got == 0 => return Ok(false),
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    Ok(true)
}

/// Writes one `file/`, `key/` or `key-encrypted/` part into the data directory.
fn write_file(
    data_dir: &Path,
    kind: LogKind,
    part: &str,
    content: &[u8],
    passphrase: Option<&Password>,
) -> Result<String> {
    let bad = |problem: &str| Error::Part { part: part.into(), problem: problem.into() };
    let (class, name) = part.split_once('/').ok_or_else(|| bad("unknown part"))?;
    // Only the names this kind of log has: a backup cannot write elsewhere.
    let known = kind.files().iter().find(|f| f.name == name).ok_or_else(|| bad("unknown file"))?;
    let path = data_dir.join(known.name);
    match class {
        "file" if !known.secret => std::fs::write(&path, content).map_err(Error::io(&path))?,
        "key" if known.secret => {
            crate::crypto::write_secret_file(&path, content).map_err(Error::io(&path))?
        }
        "key-encrypted" if known.secret => {
            let pass = passphrase.ok_or_else(|| {
                Error::Refused(format!(
                    "the backup holds {name} encrypted; give the passphrase to restore it"
                ))
            })?;
            let pem = String::from_utf8_lossy(content);
            let signer = cosign_key::decrypt_private_key(&pem, pass)
                .map_err(|source| Error::Key { name: name.into(), source })?;
            let der = signer
                .to_pkcs8_der()
                .map_err(|source| Error::KeyParse { name: name.into(), source })?;
            let pem = zeroize::Zeroizing::new(crate::encoding::pem_encode("PRIVATE KEY", &der));
            crate::crypto::write_secret_file(&path, pem.as_bytes()).map_err(Error::io(&path))?;
        }
        _ => return Err(bad("unknown part class")),
    }
    Ok(known.name.to_string())
}

/// Reads one request line (admin socket).
pub(super) fn read_line(r: &mut impl BufRead) -> std::io::Result<String> {
    let mut line = String::new();
    r.take(256).read_line(&mut line)?;
    Ok(line.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_counter_counts_frames_fed_in_any_pieces() {
        let mut stream = Vec::new();
        for len in [0u32, 5, 300, 1, 0, 70_000] {
            stream.extend_from_slice(&len.to_be_bytes());
            stream.extend(std::iter::repeat_n(7u8, len as usize));
        }
        for piece in [1, 3, 4, 7, 1000, stream.len()] {
            let mut counter = RecordCounter::default();
            for chunk in stream.chunks(piece) {
                counter.feed(chunk);
            }
            assert_eq!(counter.done, 6, "pieces of {piece}");
        }
    }
}
