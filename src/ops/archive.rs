//! The backup file format: a magic line, then named parts, each streamed in chunks and
//! closed by its SHA-256, the last one a JSON manifest listing every part with its length
//! and SHA-256 (`docs/backup-format.md`).
//!
//! Why chunks rather than a length up front: the entries part of a million-entry log is
//! about a gigabyte and is written while it is read from the store, so its length is not
//! known when it starts. Why a hash per part rather than one for the file: a damaged byte is
//! reported with the part it is in.
//!
//! ```text
//! file  = "sigbox-backup 1\n" part* manifest-part
//! part  = name-len:u16 name:utf8 (chunk-len:u32 bytes)* 0:u32 sha256(bytes):32
//! ```

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use super::{Error, Result};
use crate::crypto::Sha256Stream;
use crate::encoding::hex_encode;

/// The first bytes of every backup file (and admin-socket answer).
pub const MAGIC: &[u8; 16] = b"sigbox-backup 1\n";

/// The name of the last part.
pub const MANIFEST: &str = "manifest";

/// A part as written or read: name, length, SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartInfo {
    /// Part name.
    pub name: String,
    /// Length of its content in bytes.
    pub bytes: u64,
    /// SHA-256 of its content, lowercase hex.
    pub sha256: String,
}

/// Chunks are cut at this size.
const CHUNK: usize = 1 << 20;

/// Writes parts to `out`.
pub struct ArchiveWriter<W: Write> {
    out: W,
    parts: Vec<PartInfo>,
}

impl<W: Write> ArchiveWriter<W> {
    /// Starts an archive: writes the magic line.
    pub fn new(mut out: W) -> std::io::Result<Self> {
        out.write_all(MAGIC)?;
        Ok(ArchiveWriter { out, parts: Vec::new() })
    }

    /// Starts part `name`; write its content into the returned writer and call
    /// [`PartWriter::finish`].
    pub fn part(&mut self, name: &str) -> std::io::Result<PartWriter<'_, W>> {
        let len = u16::try_from(name.len())
            .map_err(|_| std::io::Error::other("part name longer than 65535 bytes"))?;
        self.out.write_all(&len.to_be_bytes())?;
        self.out.write_all(name.as_bytes())?;
        Ok(PartWriter {
            archive: self,
            name: name.to_string(),
            buf: Vec::with_capacity(CHUNK),
            hash: Sha256Stream::default(),
            bytes: 0,
        })
    }

    /// Writes a whole part at once.
    pub fn add(&mut self, name: &str, content: &[u8]) -> std::io::Result<()> {
        let mut part = self.part(name)?;
        part.write_all(content)?;
        part.finish()
    }

    /// The parts written so far.
    pub fn parts(&self) -> &[PartInfo] {
        &self.parts
    }

    /// Writes the manifest (`fields` plus the list of parts) and returns the output.
    pub fn finish(mut self, mut fields: serde_json::Value) -> Result<W> {
        fields["format"] = "sigbox-backup/1".into();
        fields["parts"] = serde_json::to_value(&self.parts)
            .map_err(|e| Error::Format(format!("manifest: {e}")))?;
        let text = serde_json::to_vec_pretty(&fields)
            .map_err(|e| Error::Format(format!("manifest: {e}")))?;
        let io = |source| Error::Io { path: "backup output".into(), source };
        self.add(MANIFEST, &text).map_err(io)?;
        self.out.flush().map_err(io)?;
        Ok(self.out)
    }

    /// Flushes and returns the output without a manifest (the admin socket's answer).
    pub fn into_inner(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The content of one part being written.
pub struct PartWriter<'a, W: Write> {
    archive: &'a mut ArchiveWriter<W>,
    name: String,
    buf: Vec<u8>,
    hash: Sha256Stream,
    bytes: u64,
}

impl<W: Write> PartWriter<'_, W> {
    fn emit(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let len = self.buf.len() as u32; // at most CHUNK
        self.archive.out.write_all(&len.to_be_bytes())?;
        self.archive.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Ends the part: the last chunk, the end mark and the SHA-256.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.emit()?;
        let hash = std::mem::take(&mut self.hash).finish();
        self.archive.out.write_all(&0u32.to_be_bytes())?;
        self.archive.out.write_all(&hash)?;
        let info = PartInfo {
            name: std::mem::take(&mut self.name),
            bytes: self.bytes,
            sha256: hex_encode(hash),
        };
        self.archive.parts.push(info);
        Ok(())
    }
}

impl<W: Write> Write for PartWriter<'_, W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let take = data.len().min(room);
        let data = &data[..take];
        self.buf.extend_from_slice(data);
        self.hash.update(data);
        self.bytes += take as u64;
        if self.buf.len() == CHUNK {
            self.emit()?;
        }
        Ok(take)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads parts from `input`, checking each part's SHA-256 at its end.
pub struct ArchiveReader<R: Read> {
    input: R,
}

impl<R: Read> ArchiveReader<R> {
    /// Starts reading: checks the magic line.
    ///
    /// Errors: [`Error::Format`] if `input` does not start like a backup.
    pub fn new(mut input: R) -> Result<Self> {
        let mut magic = [0u8; 16];
        input
            .read_exact(&mut magic)
            .map_err(|e| Error::Format(format!("cannot read the header: {e}")))?;
        if &magic != MAGIC {
            return Err(Error::Format("not a sigbox backup (bad header)".into()));
        }
        Ok(ArchiveReader { input })
    }

    /// The next part, or `None` at the end of the input.
    ///
    /// Errors: [`Error::Format`] for a truncated or malformed part header.
    pub fn next_part(&mut self) -> Result<Option<PartReader<'_, R>>> {
        let mut len = [0u8; 2];
        match self.input.read(&mut len[..1]) {
            Ok(0) => return Ok(None),
            Ok(_) => {}
            Err(e) => return Err(Error::Format(format!("reading a part header: {e}"))),
        }
        let bad = |e: std::io::Error| Error::Format(format!("truncated part header: {e}"));
        self.input.read_exact(&mut len[1..]).map_err(bad)?;
        let mut name = vec![0u8; usize::from(u16::from_be_bytes(len))];
        self.input.read_exact(&mut name).map_err(bad)?;
        let name = String::from_utf8(name)
            .map_err(|_| Error::Format("a part name is not UTF-8 (damaged header)".into()))?;
        Ok(Some(PartReader {
            archive: self,
            name,
            left: 0,
            done: false,
            hash: Sha256Stream::default(),
            bytes: 0,
        }))
    }
}

/// The content of one part being read. Read it to the end, then call
/// [`PartReader::finish`] to check its hash.
pub struct PartReader<'a, R: Read> {
    archive: &'a mut ArchiveReader<R>,
    name: String,
    left: u32,
    done: bool,
    hash: Sha256Stream,
    bytes: u64,
}

impl<R: Read> PartReader<'_, R> {
    /// The part's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads what is left of the part and checks its SHA-256.
    ///
    /// Errors: [`Error::Part`] naming the part when the hash does not match or the part is
    /// truncated.
    pub fn finish(mut self) -> Result<PartInfo> {
        std::io::copy(&mut self, &mut std::io::sink()).map_err(|e| self.problem(e))?;
        let mut stored = [0u8; 32];
        self.archive.input.read_exact(&mut stored).map_err(|e| self.problem(e))?;
        let hash = std::mem::take(&mut self.hash).finish();
        if hash != stored {
            return Err(Error::Part {
                part: self.name.clone(),
                problem: "SHA-256 does not match (the part is damaged)".into(),
            });
        }
        Ok(PartInfo { name: self.name.clone(), bytes: self.bytes, sha256: hex_encode(hash) })
    }

    /// Reads the whole part into memory and checks it (small parts only).
    pub fn read_all(mut self) -> Result<(String, Vec<u8>)> {
        let mut out = Vec::new();
        self.read_to_end(&mut out).map_err(|e| self.problem(e))?;
        let info = self.finish()?;
        Ok((info.name, out))
    }

    /// An [`Error::Part`] for this part.
    pub fn problem(&self, e: impl std::fmt::Display) -> Error {
        Error::Part { part: self.name.clone(), problem: e.to_string() }
    }
}

impl<R: Read> Read for PartReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut len = [0u8; 4];
            self.archive.input.read_exact(&mut len)?;
            self.left = u32::from_be_bytes(len);
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
            if self.left as usize > CHUNK {
                return Err(std::io::Error::other("chunk longer than 1 MiB (damaged length)"));
            }
        }
        let want = buf.len().min(self.left as usize);
        let n = self.archive.input.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.hash.update(&buf[..n]);
        self.left -= n as u32;
        self.bytes += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(parts: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut w = ArchiveWriter::new(Vec::new()).unwrap();
        for (name, content) in parts {
            let mut p = w.part(name).unwrap();
            // Odd write sizes cross chunk boundaries.
            for piece in content.chunks(333_333) {
                p.write_all(piece).unwrap();
            }
            p.finish().unwrap();
        }
        w.finish(serde_json::json!({})).unwrap()
    }

    #[test]
    fn parts_round_trip_across_chunks_with_hashes_in_the_manifest() {
        let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let bytes = archive(&[("a", b"hello".to_vec()), ("big", big.clone()), ("empty", vec![])]);
        let mut r = ArchiveReader::new(&bytes[..]).unwrap();
        let mut seen = Vec::new();
        while let Some(p) = r.next_part().unwrap() {
            let (name, content) = p.read_all().unwrap();
            seen.push((name, content));
        }
        assert_eq!(seen.len(), 4);
        assert_eq!(seen[1].1, big);
        assert_eq!(seen[2].1, b"");
        let manifest: serde_json::Value = serde_json::from_slice(&seen[3].1).unwrap();
        assert_eq!(manifest["parts"][1]["bytes"], 3_000_000);
        let want = crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, &big).to_hex();
        assert_eq!(manifest["parts"][1]["sha256"], want.as_str());
    }

    #[test]
    fn a_flipped_byte_is_reported_with_its_part() {
        let bytes = archive(&[("first", vec![1; 1000]), ("second", vec![2; 1000])]);
        // Second part's content starts after: magic, first part (2+5+4+1000+4+32), 2+6+4.
        let at = 16 + (2 + 5 + 4 + 1000 + 4 + 32) + (2 + 6 + 4) + 10;
        let mut damaged = bytes.clone();
        damaged[at] ^= 1;
        let mut r = ArchiveReader::new(&damaged[..]).unwrap();
        r.next_part().unwrap().unwrap().finish().unwrap();
        let err = r.next_part().unwrap().unwrap().finish().unwrap_err();
        assert!(matches!(&err, Error::Part { part, .. } if part == "second"), "{err}");
        assert!(ArchiveReader::new(&b"not a backup at all"[..]).is_err());
    }
}
