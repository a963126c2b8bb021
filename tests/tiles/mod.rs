//! Static tiles (issue 17): a real `rekor-server --tiles-dir` (v1 and v2) written to over
//! HTTP, and `sigbox log export-tiles` on stopped stores, each directory then read by an
//! independent Python reader (`tile_reader.py`, hashlib + pyca/cryptography, written from
//! the C2SP specs) that rebuilds the root from the files alone and checks the checkpoint's
//! signature with the log key. Tampered files are caught; exports are incremental; bad
//! stores and directories are refused with the problem named.

mod export;
mod server;
mod up;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::rekor::server::{client, hashedrekord, signer};

/// A Python that has pyca/cryptography: the clone's `.venv` (`make tools`), else the
/// system's `python3` (Debian: python3-cryptography).
fn python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let python = if venv.exists() { venv } else { PathBuf::from("python3") };
    let probe = std::process::Command::new(&python).args(["-c", "import cryptography"]).output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "{} cannot import cryptography: install the Debian package python3-cryptography, or \
         run `make tools`",
        python.display()
    );
    python
}

/// Runs the independent reader on `dir` with the log key `key_pem`: its JSON summary, or
/// its `FAIL: ...` line.
fn read_tiles(dir: impl AsRef<std::ffi::OsStr>, key_pem: &str) -> Result<Value, String> {
    let key = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key.path(), key_pem).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tiles/tile_reader.py");
    let out =
        std::process::Command::new(python()).arg(script).arg(dir).arg(key.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    match out.status.code() {
        Some(0) => Ok(serde_json::from_str(&stdout).unwrap()),
        Some(1) => Err(stdout),
        other => panic!(
            "tile_reader.py crashed ({other:?}): {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// The size in `dir/checkpoint` (0 while there is none).
fn published_size(dir: &Path) -> u64 {
    std::fs::read_to_string(dir.join("checkpoint"))
        .ok()
        .and_then(|t| t.lines().nth(1).and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

/// Polls until `dir` publishes a checkpoint of `size` (deadline 60 s).
fn wait_for_size(dir: &Path, size: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while published_size(dir) != size {
        assert!(
            Instant::now() < deadline,
            "{} still publishes size {}, not {size}",
            dir.display(),
            published_size(dir)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every file below `dir`: relative path → (bytes, modification time).
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (Vec<u8>, SystemTime)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
                out.insert(rel, (std::fs::read(&path).unwrap(), modified));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Posts `n` Rekor v1 entries to `url` from 4 threads; each must be 201.
fn write_v1_entries(url: &str, tag: &str, n: usize) {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (url, tag) = (url.to_string(), tag.to_string());
            std::thread::spawn(move || {
                let (http, s) = (client(), signer());
                for i in (t..n).step_by(4) {
                    let resp = http
                        .post(format!("{url}/api/v1/log/entries"))
                        .json(&hashedrekord(&s, format!("{tag} {i}").as_bytes()))
                        .send()
                        .unwrap();
                    assert_eq!(resp.status().as_u16(), 201);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Flips one byte of `dir/name` at `at`.
fn flip(dir: &Path, name: &str, at: usize) {
    let path = dir.join(name);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[at] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
}
