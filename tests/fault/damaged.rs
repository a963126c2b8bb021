//! A store damaged on disk — sled's files truncated, or bytes flipped at the start, middle
//! or end — is refused at open with a clear error naming the problem, never served as a
//! different (shorter, older) tree. An undamaged copy of the same store serves exactly the
//! tree it held (the control).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::rekor::server::{client, hashedrekord, signer, RekorServer};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    for file in files(from) {
        let rel = file.strip_prefix(from).unwrap();
        std::fs::create_dir_all(to.join(rel).parent().unwrap()).unwrap();
        std::fs::copy(&file, to.join(rel)).unwrap();
    }
}

/// sled's data file (the largest file of the store).
fn data_file(dir: &Path) -> PathBuf {
    files(&dir.join("db")).into_iter().max_by_key(|f| std::fs::metadata(f).unwrap().len()).unwrap()
}

fn flip(file: &Path, at: f64) {
    let mut bytes = std::fs::read(file).unwrap();
    let start = ((bytes.len() as f64) * at) as usize;
    let end = (start + 16).min(bytes.len());
    for b in &mut bytes[start..end] {
        *b ^= 0x5a;
    }
    std::fs::write(file, bytes).unwrap();
}

fn truncate(file: &Path, keep: f64) {
    let len = std::fs::metadata(file).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(file).unwrap();
    f.set_len((len as f64 * keep) as u64).unwrap();
}

#[test]
fn a_store_damaged_on_disk_is_refused_at_open_never_served_as_another_tree() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    let server = RekorServer::start(&good, &[]);
    let http = client();
    let s = signer();
    for i in 0..300 {
        let body = hashedrekord(&s, format!("entry {i}").as_bytes());
        let resp = http.post(server.at("/api/v1/log/entries")).json(&body).send().unwrap();
        assert_eq!(resp.status().as_u16(), 201);
    }
    let before: Value = http.get(server.at("/api/v1/log")).send().unwrap().json().unwrap();
    let listen = server.name.clone();
    assert!(server.stop(), "the server did not stop cleanly");

    // The control: an undamaged copy serves the same tree.
    let copy = dir.path().join("copy");
    copy_dir(&good, &copy);
    let server = RekorServer::start_on(&copy, &listen, &[]);
    let after: Value = http.get(server.at("/api/v1/log")).send().unwrap().json().unwrap();
    assert_eq!(
        (&after["treeSize"], &after["rootHash"]),
        (&before["treeSize"], &before["rootHash"])
    );
    assert!(server.stop());

    type Damage = fn(&Path);
    let damages: [(&str, Damage); 5] = [
        ("truncated to half", |d| truncate(&data_file(d), 0.5)),
        ("truncated by 4 KiB", |d| {
            let f = data_file(d);
            let len = std::fs::metadata(&f).unwrap().len();
            truncate(&f, (len.saturating_sub(4096)) as f64 / len as f64)
        }),
        ("bytes flipped at 25%", |d| flip(&data_file(d), 0.25)),
        ("bytes flipped at 50%", |d| flip(&data_file(d), 0.5)),
        ("bytes flipped at 95%", |d| flip(&data_file(d), 0.95)),
    ];
    for (what, damage) in damages {
        let copy = dir.path().join(what.replace(' ', "-"));
        copy_dir(&good, &copy);
        damage(&copy);
        // The server must refuse to start: it exits with an error instead of listening.
        let out = Command::new(env!("CARGO_BIN_EXE_sigbox"))
            .args(["rekor-server", "--listen", &listen, "--data-dir"])
            .arg(&copy)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && !stdout.contains("listening on"),
            "{what}: a damaged store was served ({stdout}{stderr})"
        );
        assert!(
            stderr.contains("damaged") || stderr.contains("corrupt"),
            "{what}: the error does not name the damage: {stderr}"
        );
        eprintln!("{what}: refused: {}", stderr.lines().last().unwrap_or_default());
    }
}
