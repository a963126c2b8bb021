//! Test harness: a sandbox directory, a command builder around the real binary, and
//! assertions that print everything on failure.

#![allow(dead_code)]

pub mod process;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub fn sigbox_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sigbox"))
}

/// The repository's `fixtures/` directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A temporary working directory, deleted on drop.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    /// A fresh empty sandbox.
    pub fn new() -> Self {
        Sandbox { dir: tempfile::tempdir().expect("creating a temp dir") }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file inside it.
    pub fn write(&self, name: &str, data: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(name);
        std::fs::write(&path, data).expect("writing a sandbox file");
        path
    }

    /// Copies a fixture (path relative to `fixtures/`) into the sandbox under `name`.
    pub fn copy_fixture(&self, fixture: &str, name: &str) -> PathBuf {
        let path = self.join(name);
        std::fs::copy(fixtures().join(fixture), &path).expect("copying a fixture");
        path
    }

    /// Creates a symlink `name` → the sigbox binary, for persona tests.
    pub fn link(&self, name: &str) -> PathBuf {
        let path = self.join(name);
        std::os::unix::fs::symlink(sigbox_bin(), &path).expect("creating a symlink");
        path
    }

    /// A command running `sigbox ARGS` in this sandbox.
    pub fn sigbox(&self) -> Cmd {
        Cmd::new(sigbox_bin()).cwd(self.path())
    }

    /// A command running `sigbox cosign ARGS` in this sandbox.
    pub fn cosign(&self) -> Cmd {
        self.sigbox().arg("cosign")
    }
}

/// A command builder with output assertions.
pub struct Cmd {
    command: Command,
    stdin: Option<Vec<u8>>,
    display: String,
}

impl Cmd {
    /// Runs `program`.
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        let mut command = Command::new(program.as_ref());
        command.env_remove("COSIGN_PASSWORD").env_remove("SIGBOX_LOG");
        Cmd { command, stdin: None, display: program.as_ref().to_string_lossy().into_owned() }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.display.push(' ');
        self.display.push_str(&arg.as_ref().to_string_lossy());
        self.command.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Sets the working directory.
    pub fn cwd(mut self, dir: &Path) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Feeds `data` on standard input.
    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(data.into());
        self
    }

    /// Runs it and returns the output, whatever the exit code.
    pub fn run(mut self) -> Run {
        use std::io::Write;
        self.command.stdout(Stdio::piped()).stderr(Stdio::piped());
        self.command.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        let mut child = self.command.spawn().unwrap_or_else(|e| panic!("{}: {e}", self.display));
        if let Some(data) = self.stdin.take() {
            let mut pipe = child.stdin.take().expect("stdin is piped");
            pipe.write_all(&data).expect("writing stdin");
        }
        let output = child.wait_with_output().expect("waiting for the child");
        Run { output, display: self.display }
    }

    /// Runs it and asserts exit code 0.
    pub fn succeeds(self) -> Run {
        self.run().code(0)
    }

    /// Runs it and asserts the exit code.
    pub fn fails_with(self, code: i32) -> Run {
        self.run().code(code)
    }
}

/// A finished command.
pub struct Run {
    /// Raw output.
    pub output: Output,
    display: String,
}

impl Run {
    /// Asserts the exit code, printing everything on mismatch.
    pub fn code(self, want: i32) -> Self {
        assert_eq!(
            self.output.status.code(),
            Some(want),
            "`{}` exited {:?}, wanted {want}\n--- stdout\n{}\n--- stderr\n{}",
            self.display,
            self.output.status.code(),
            self.stdout(),
            self.stderr()
        );
        self
    }

    /// Standard output as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// Standard error as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Asserts that stderr contains `text` (case-insensitive).
    pub fn stderr_has(self, text: &str) -> Self {
        assert!(
            self.stderr().to_lowercase().contains(&text.to_lowercase()),
            "`{}`: stderr lacks {text:?}:\n{}",
            self.display,
            self.stderr()
        );
        self
    }

    /// Asserts that stdout contains `text`.
    pub fn stdout_has(self, text: &str) -> Self {
        assert!(
            self.stdout().contains(text),
            "`{}`: stdout lacks {text:?}:\n{}",
            self.display,
            self.stdout()
        );
        self
    }

    /// Parses stdout as JSON.
    pub fn stdout_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.output.stdout).unwrap_or_else(|e| {
            panic!("`{}`: stdout is not JSON ({e}):\n{}", self.display, self.stdout())
        })
    }
}
