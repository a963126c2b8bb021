//! gitsign end to end: real git (Debian's) in temporary repositories, signing through the
//! `gitsign` persona against a real `sigbox up`, judged by git itself, by `gitsign verify`
//! and by openssl's independent CMS implementation.

mod cache;
mod knobs;
mod public_good;
mod sign_verify;
mod tamper;
mod timestamp;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{Cmd, Run, Sandbox};
use crate::up::instance::Up;

/// The identity the test issuer gives a login without a hint.
pub const IDENTITY: &str = "test-user@sigbox.local";

/// Fails with a clear message when a tool the tests need is missing.
pub fn require_tool(tool: &str, package: &str) {
    let found = Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
        || Command::new(tool).arg("version").output().is_ok_and(|o| o.status.success());
    assert!(found, "`{tool}` is needed by the gitsign tests: install the Debian package {package}");
}

/// A temporary repository whose x509 program is the gitsign persona, trusting `trust`.
pub struct Repo {
    /// The sandbox holding the repo, HOME and the gitsign symlink.
    pub sb: Sandbox,
    /// The work tree.
    pub dir: PathBuf,
    /// The gitsign symlink.
    pub gitsign: PathBuf,
    /// The trust config every command gets as SIGBOX_TRUST_CONFIG (None: public good).
    pub trust: Option<PathBuf>,
    /// Extra environment for every command.
    pub env: Vec<(String, String)>,
}

impl Repo {
    /// `git init` with identity, gpg.format=x509 and gpg.x509.program=gitsign.
    pub fn new(trust: Option<&Path>) -> Repo {
        require_tool("git", "git");
        let sb = Sandbox::new();
        let gitsign = sb.link("gitsign");
        let dir = sb.join("repo");
        std::fs::create_dir_all(sb.join("home")).expect("home");
        let repo = Repo { sb, dir, gitsign, trust: trust.map(Path::to_path_buf), env: Vec::new() };
        repo.git(&["init", "-q", "-b", "main", repo.dir.to_str().expect("utf-8 path")])
            .cwd(repo.sb.path())
            .succeeds();
        for (k, v) in [
            ("user.name", "Test User"),
            ("user.email", IDENTITY),
            ("gpg.format", "x509"),
            ("gpg.x509.program", repo.gitsign.to_str().expect("utf-8 path")),
        ] {
            repo.git(&["config", k, v]).succeeds();
        }
        repo
    }

    /// A repo for a running instance.
    pub fn for_up(up: &Up) -> Repo {
        Repo::new(Some(&up.trust_config()))
    }

    fn envs(&self, mut cmd: Cmd) -> Cmd {
        cmd = cmd
            .cwd(&self.dir)
            .env("HOME", self.sb.join("home"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            // The test issuer approves the device flow at once; a developer's terminal
            // would otherwise choose the browser flow.
            .env("GITSIGN_TOKEN_PROVIDER", "device");
        if let Some(trust) = &self.trust {
            cmd = cmd.env("SIGBOX_TRUST_CONFIG", trust);
        }
        for (k, v) in &self.env {
            cmd = cmd.env(k, v);
        }
        cmd
    }

    /// `git ARGS` in the repo.
    pub fn git(&self, args: &[&str]) -> Cmd {
        self.envs(Cmd::new("git").args(args))
    }

    /// `gitsign ARGS` in the repo.
    pub fn gitsign(&self, args: &[&str]) -> Cmd {
        self.envs(Cmd::new(&self.gitsign).args(args))
    }

    /// Writes a file in the work tree and commits it signed; returns the commit ID.
    pub fn commit(&self, file: &str, text: &str, message: &str) -> String {
        std::fs::write(self.dir.join(file), text).expect("writing a file");
        self.git(&["add", file]).succeeds();
        self.git(&["commit", "-S", "-q", "-m", message]).succeeds();
        self.rev("HEAD")
    }

    /// `git rev-parse REV`.
    pub fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev]).succeeds().stdout().trim().to_string()
    }

    /// The raw object.
    pub fn cat(&self, kind: &str, rev: &str) -> String {
        self.git(&["cat-file", kind, rev]).succeeds().stdout()
    }

    /// Writes a raw commit object (no checks beyond git's own) and returns its ID.
    pub fn write_commit(&self, text: &str) -> String {
        self.git(&["hash-object", "-t", "commit", "-w", "--stdin"])
            .stdin(text.as_bytes().to_vec())
            .succeeds()
            .stdout()
            .trim()
            .to_string()
    }

    /// `gitsign verify` with the instance's identity and issuer.
    pub fn verify(&self, up_issuer: &str, rev: &str) -> Run {
        self.gitsign(&[
            "verify",
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            up_issuer,
            rev,
        ])
        .run()
    }

    /// The `%G?` letter git reports for REV.
    pub fn g(&self, rev: &str) -> String {
        self.git(&["log", "-1", "--format=%G?", rev]).run().stdout().trim().to_string()
    }
}

/// The armored signature inside a commit object, and the object without it.
pub fn split_commit(object: &str) -> (String, String) {
    let mut payload = String::new();
    let mut sig = String::new();
    let mut in_sig = false;
    let mut in_headers = true;
    for line in object.split_inclusive('\n') {
        if in_headers && line == "\n" {
            in_headers = false;
        }
        if in_headers {
            if let Some(rest) = line.strip_prefix("gpgsig ") {
                in_sig = true;
                sig.push_str(rest);
                continue;
            }
            if in_sig {
                if let Some(rest) = line.strip_prefix(' ') {
                    sig.push_str(rest);
                    continue;
                }
                in_sig = false;
            }
        }
        payload.push_str(line);
    }
    (payload, sig)
}

/// The DER inside an armored `SIGNED MESSAGE`.
pub fn armor_to_der(armored: &str) -> Vec<u8> {
    use base64::Engine as _;
    let b64: String = armored.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).expect("armored base64")
}
