//! The disk fills up during appends: writers get 507 with a JSON error that says so, nothing that was
//! acknowledged is lost, and the log takes writes again once space returns. The disk is a
//! small tmpfs the test mounts, which needs root (CI runs as root); elsewhere the test says
//! it was skipped and why.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::rekor::server::{check_entry, client, hashedrekord, signer, RekorServer};

/// A tmpfs mounted for the test, unmounted (lazily, so a still-running child cannot keep
/// it) when dropped.
struct Tmpfs {
    dir: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let parent = tempfile::tempdir().map_err(|e| e.to_string())?;
        let dir = parent.path().join("disk");
        std::fs::create_dir(&dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("running mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Tmpfs { dir, _parent: parent })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Fills the file system holding `dir` until a write fails; returns the filler file.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0xabu8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.flush();
    path
}

#[test]
fn a_full_disk_gives_writers_5xx_loses_nothing_and_the_log_resumes_when_space_returns() {
    let disk = match Tmpfs::mount("128m") {
        Ok(disk) => disk,
        Err(why) => {
            eprintln!("SKIPPED disk-full test: mounting a tmpfs needs root ({why})");
            return;
        }
    };
    let http = client();
    let data = disk.dir.join("rekor");
    let server = RekorServer::start(&data, &[]);
    let key = server.public_key(&http);
    let s = signer();
    let mut acked: Vec<(String, u64)> = Vec::new();
    let post = |i: usize| -> (u16, Value) {
        let body = hashedrekord(&s, format!("entry {i}").as_bytes());
        let resp = http.post(server.at("/api/v1/log/entries")).json(&body).send().unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().unwrap_or(Value::Null))
    };
    for i in 0..50 {
        let (status, map) = post(i);
        assert_eq!(status, 201, "{map}");
        let (id, e) = map.as_object().unwrap().iter().next().unwrap();
        acked.push((id.clone(), e["logIndex"].as_u64().unwrap()));
    }
    let filler = fill(&disk.dir);
    // Write until the store cannot take more: each answer is a 201 (recorded) or a 5xx
    // with a JSON error; never a hang, never a crash.
    let mut failures = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut i = 50;
    while failures < 5 {
        assert!(Instant::now() < deadline, "the log never ran out of space");
        let (status, map) = post(i);
        i += 1;
        match status {
            201 => {
                let (id, e) = map.as_object().unwrap().iter().next().unwrap();
                acked.push((id.clone(), e["logIndex"].as_u64().unwrap()));
            }
            500..=599 => {
                assert_eq!(status, 507, "a full disk is 507 Insufficient Storage: {map}");
                let message = map["message"].as_str().unwrap_or_default();
                assert!(message.contains("disk is full"), "the error does not say why: {map}");
                failures += 1;
            }
            other => panic!("a full disk answered {other}: {map}"),
        }
    }
    eprintln!("disk full after {} acknowledged entries; writers got 5xx", acked.len());
    // Space returns: the log takes writes again (a write may fail while it recovers).
    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, map) = post(i);
        i += 1;
        if status == 201 {
            let (id, e) = map.as_object().unwrap().iter().next().unwrap();
            acked.push((id.clone(), e["logIndex"].as_u64().unwrap()));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the log did not resume after space returned: {status} {map}"
        );
    }
    // Everything acknowledged is there, now and after a restart.
    let check_all = |server: &RekorServer| {
        for (id, index) in &acked {
            let map: Value = http
                .get(server.at(&format!("/api/v1/log/entries?logIndex={index}")))
                .send()
                .unwrap()
                .json()
                .unwrap();
            assert_eq!(&check_entry(&map, &key, &server.name), &(id.clone(), *index));
        }
    };
    check_all(&server);
    let listen = server.name.clone();
    assert!(server.stop(), "the server did not stop cleanly after the disk-full episode");
    let server = RekorServer::start_on(&data, &listen, &[]);
    check_all(&server);
    assert!(server.stop());
}
