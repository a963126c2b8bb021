//! Operating logs with real processes: `sigbox log fsck`, online `backup` from a running
//! `rekor-server` under concurrent writers, `restore`, a server started on the restored
//! store (checked for consistency with every checkpoint served before the backup, and by
//! the independent Python checker), and the CA's keys, chain and CT log.

mod backup;
mod ca;
mod fsck;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::harness::process::Process;
use crate::harness::{sigbox_bin, Cmd};

/// A `sigbox rekor-server` (or `fulcio-server`) process.
pub struct Server {
    process: Process,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub name: String,
}

impl Server {
    /// Starts `sigbox PERSONA --listen LISTEN --data-dir DIR EXTRA...`, ready when it prints
    /// its address.
    pub fn start(persona: &str, data_dir: &Path, listen: &str, extra: &[&str]) -> Server {
        let mut command = Command::new(sigbox_bin());
        command.arg(persona).args(["--listen", listen, "--data-dir"]).arg(data_dir).args(extra);
        let mut process = Process::spawn(command, None);
        let lines = process.wait_for(|line| line.starts_with("listening on "));
        let url = lines.last().and_then(|l| l.strip_prefix("listening on ")).unwrap_or_default();
        let url = url.trim().to_string();
        let name = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest).to_string();
        Server { process, url, name }
    }

    /// `url + path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// SIGTERM, and the clean exit it must lead to.
    pub fn stop(mut self) {
        let log = self.process.log();
        assert!(self.process.terminate(), "server did not stop cleanly:\n{log}");
    }

    /// The current head (`GET /api/v1/log`): (size, root hex, checkpoint).
    pub fn head(&self, http: &reqwest::blocking::Client) -> (u64, String, String) {
        let v: Value = http.get(self.at("/api/v1/log")).send().unwrap().json().unwrap();
        (
            v["treeSize"].as_u64().unwrap(),
            v["rootHash"].as_str().unwrap().to_string(),
            v["signedTreeHead"].as_str().unwrap().to_string(),
        )
    }
}

/// `sigbox log ARGS...`.
pub fn log_cmd() -> Cmd {
    Cmd::new(sigbox_bin()).arg("log")
}

/// Copies a directory tree (a stopped server's data directory).
pub fn copy_dir(from: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    to.to_path_buf()
}
