//! `--log-format json`: a server's log lines are JSON objects a log collector can read.

use std::process::Command;

use crate::harness::process::Process;

#[test]
fn rekor_server_writes_json_log_lines_with_log_format_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_sigbox"));
    command
        .args(["rekor-server", "--listen", "127.0.0.1:0", "--log-format", "json", "--data-dir"])
        .arg(dir.path())
        .env("SIGBOX_LOG", "info");
    let mut server = Process::spawn(command, None);
    server.wait_for(|line| line.starts_with("listening on "));
    assert!(server.terminate(), "a clean stop:\n{}", server.log());
    let log = server.log();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "no log lines at info level");
    for line in &lines {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(value.get("level").is_some() && value.get("fields").is_some(), "{line}");
    }
    assert!(log.contains("rekor listening"), "{log}");
}
