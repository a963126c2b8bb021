//! One way to run a real server process in a test: spawn it with its stderr captured to a
//! file, wait (with a deadline) for the stdout lines that say it is ready, print its log
//! when a test fails, and kill it on drop. Used by the rekor, fulcio and up tests.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long a server may take to say it is ready (a cold debug binary on a busy 2-core
/// machine, with a log store to open).
pub const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// A running process with its stdout lines on a channel and its stderr in a file.
pub struct Process {
    child: Option<Child>,
    lines: Receiver<String>,
    log: PathBuf,
    _log_dir: Option<tempfile::TempDir>,
    what: String,
}

impl Process {
    /// Spawns `command` (stdin closed, stdout piped, stderr to `log` or a temp file) with
    /// `SIGBOX_LOG` cleared unless the command sets it.
    pub fn spawn(mut command: Command, log: Option<PathBuf>) -> Process {
        let what = format!("{command:?}");
        let (log_dir, log) = match log {
            Some(path) => (None, path),
            None => {
                let dir = tempfile::tempdir().expect("a temp dir for the log");
                let path = dir.path().join("stderr.log");
                (Some(dir), path)
            }
        };
        if !command.get_envs().any(|(k, _)| k == OsStr::new("SIGBOX_LOG")) {
            command.env_remove("SIGBOX_LOG");
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("creating the stderr log"));
        let mut child = command.spawn().unwrap_or_else(|e| panic!("starting {what}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Process { child: Some(child), lines, log, _log_dir: log_dir, what }
    }

    /// Reads stdout lines until `done` returns true for one, within [`READY_TIMEOUT`];
    /// returns every line read. Panics with the process's log if it exits or times out.
    pub fn wait_for(&mut self, mut done: impl FnMut(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let finished = done(&line);
                    seen.push(line);
                    if finished {
                        return seen;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.fail(&format!("not ready after {READY_TIMEOUT:?}; stdout {seen:?}"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.fail(&format!("exited before it was ready; stdout {seen:?}"))
                }
            }
        }
    }

    /// The next stdout line, within `timeout`.
    pub fn next_line(&mut self, timeout: Duration) -> Option<String> {
        self.lines.recv_timeout(timeout).ok()
    }

    /// What the process wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The stderr log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The process ID.
    pub fn id(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Sends SIGTERM and waits: the clean shutdown path. Returns whether it exited 0.
    pub fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else { return false };
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        child.wait().is_ok_and(|s| s.success())
    }

    /// SIGKILL (no shutdown path runs) and wait.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn fail(&mut self, why: &str) -> ! {
        self.kill();
        panic!("{}: {why}\n--- its stderr ---\n{}", self.what, self.log())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("--- stderr of {} ---\n{}", self.what, self.log());
        }
    }
}
