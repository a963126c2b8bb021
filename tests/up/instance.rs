//! A `sigbox up` process for tests: free ports, ready when it prints `ready`, stopped on
//! drop.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running local instance.
pub struct Up {
    child: Child,
    /// State directory.
    pub data_dir: PathBuf,
    /// CA URL.
    pub ca_url: String,
    /// Rekor URL.
    pub rekor_url: String,
    /// Test issuer URL.
    pub oidc_url: String,
}

impl Up {
    /// Starts `sigbox up` in `data_dir` on free ports.
    pub fn start(data_dir: &Path) -> Up {
        Self::start_on(data_dir, [0, 0, 0])
    }

    /// Starts on the given ports (fulcio, rekor, oidc); a restart reuses the old ones.
    pub fn start_on(data_dir: &Path, ports: [u16; 3]) -> Up {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sigbox"))
            .arg("up")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--fulcio-port", &ports[0].to_string()])
            .args(["--rekor-port", &ports[1].to_string()])
            .args(["--oidc-port", &ports[2].to_string()])
            .env_remove("SIGBOX_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting sigbox up");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut reader = BufReader::new(stdout);
        let (mut ca_url, mut rekor_url, mut oidc_url) =
            (String::new(), String::new(), String::new());
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line).expect("reading sigbox up output");
            assert!(n > 0, "sigbox up exited before it was ready");
            let last = line.split_whitespace().last().unwrap_or_default().to_string();
            if line.contains("CA (Fulcio)") {
                ca_url = last;
            } else if line.contains("log (Rekor)") {
                rekor_url = last;
            } else if line.trim_start().starts_with("OIDC issuer") {
                oidc_url = last;
            } else if line.trim() == "ready" {
                break;
            }
        }
        Up { child, data_dir: data_dir.to_path_buf(), ca_url, rekor_url, oidc_url }
    }

    /// The ports in use, for a restart.
    pub fn ports(&self) -> [u16; 3] {
        let port = |url: &str| url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
        [port(&self.ca_url), port(&self.rekor_url), port(&self.oidc_url)]
    }

    /// `trust_config.json`.
    pub fn trust_config(&self) -> PathBuf {
        self.data_dir.join("trust_config.json")
    }

    /// Stops with SIGTERM and waits: the clean shutdown path.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let status = self.child.wait().expect("waiting for sigbox up");
        assert!(status.success(), "sigbox up did not stop cleanly: {status:?}");
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

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The clone's sigstore-python (`make tools`); created here if a test runs without it.
pub fn sigstore_python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join(".venv/bin/sigstore");
    if !bin.exists() {
        let status =
            Command::new("make").arg("tools").current_dir(root).status().expect("make tools");
        assert!(status.success(), "make tools failed");
    }
    bin
}
