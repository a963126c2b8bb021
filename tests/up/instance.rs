//! A `sigbox up` process for tests: free ports, ready when it prints `ready`, stopped on
//! drop.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::process::Process;

/// A running local instance.
pub struct Up {
    process: Process,
    /// State directory.
    pub data_dir: PathBuf,
    /// CA URL.
    pub ca_url: String,
    /// Rekor URL.
    pub rekor_url: String,
    /// Test issuer URL.
    pub oidc_url: String,
    /// Rekor v2 (tile log) URL.
    pub rekor_v2_url: String,
    /// The timestamp authority's full endpoint URL.
    pub tsa_url: String,
    /// TUF repository URL.
    pub tuf_url: String,
}

impl Up {
    /// Starts `sigbox up` in `data_dir` on free ports.
    pub fn start(data_dir: &Path) -> Up {
        Self::start_on(data_dir, [0; 5])
    }

    /// Starts on the given ports (fulcio, rekor, oidc, rekor v2, tsa); a restart reuses
    /// the old ones.
    pub fn start_on(data_dir: &Path, ports: [u16; 5]) -> Up {
        Self::start_on_with_tuf(data_dir, ports, 0)
    }

    /// Starts on the given ports and TUF repository port.
    pub fn start_on_with_tuf(data_dir: &Path, ports: [u16; 5], tuf_port: u16) -> Up {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sigbox"));
        command
            .arg("up")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--fulcio-port", &ports[0].to_string()])
            .args(["--rekor-port", &ports[1].to_string()])
            .args(["--oidc-port", &ports[2].to_string()])
            .args(["--rekor-v2-port", &ports[3].to_string()])
            .args(["--tsa-port", &ports[4].to_string()])
            .args(["--tuf-port", &tuf_port.to_string()]);
        let mut process = Process::spawn(command, None);
        let lines = process.wait_for(|line| line.trim() == "ready");
        let url_of = |label: &str| {
            lines
                .iter()
                .find(|l| l.trim_start().starts_with(label))
                .and_then(|l| l.split_whitespace().last())
                .unwrap_or_default()
                .to_string()
        };
        Up {
            ca_url: url_of("CA (Fulcio)"),
            rekor_url: url_of("log (Rekor) "),
            oidc_url: url_of("OIDC issuer"),
            rekor_v2_url: url_of("log (Rekor v2)"),
            tsa_url: url_of("timestamps (TSA)"),
            tuf_url: lines
                .iter()
                .find(|l| l.trim_start().starts_with("TUF repository"))
                .and_then(|l| l.split_whitespace().nth(2))
                .unwrap_or_default()
                .to_string(),
            process,
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// The ports in use, for a restart.
    pub fn ports(&self) -> [u16; 5] {
        let port = |url: &str| {
            let authority = url.trim_start_matches("http://").split('/').next().unwrap_or("");
            authority.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port")
        };
        [
            port(&self.ca_url),
            port(&self.rekor_url),
            port(&self.oidc_url),
            port(&self.rekor_v2_url),
            port(&self.tsa_url),
        ]
    }

    /// `trust_config.json`.
    pub fn trust_config(&self) -> PathBuf {
        self.data_dir.join("trust_config.json")
    }

    /// What the instance logged on stderr so far.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Stops with SIGTERM and waits: the clean shutdown path.
    pub fn stop(mut self) {
        let clean = self.process.terminate();
        assert!(clean, "sigbox up did not stop cleanly:\n{}", self.process.log());
    }

    /// A token from the instance's test issuer.
    pub fn token(&self, email: &str) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_sigbox"))
            .args(["token", "--issuer", &self.oidc_url, "--email", email])
            .output()
            .expect("sigbox token");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8").trim().to_string()
    }
}

/// The clone's sigstore-python, installed by `make tools` (tests never install it
/// themselves: two tests doing so at once would race on `.venv`).
pub fn sigstore_python() -> PathBuf {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/sigstore");
    assert!(bin.exists(), "{} is missing: run `make tools` (make test does)", bin.display());
    bin
}
