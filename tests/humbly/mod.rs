//! `humbly`: policy files, batch verification, log lookup and CI output, driven through the
//! real binary against real bundles (public-good vectors) and a real `sigbox up`.

mod commits;
mod images;
mod lookup;
mod output;
mod policy_files;
mod up;
mod vectors;

use crate::harness::{Cmd, Run, Sandbox};

/// `sigbox humbly ...` in the sandbox, with the log monitor's state kept inside it and no
/// CI environment leaking in.
fn humbly(sb: &Sandbox) -> Cmd {
    sb.sigbox()
        .arg("humbly")
        .env("XDG_STATE_HOME", sb.join("xdg-state"))
        .env("GITHUB_ACTIONS", "false")
        .env("SIGBOX_TRUST_CONFIG", "")
}

/// The verdicts of a `--json` run, in target order.
fn verdicts(run: &Run) -> Vec<serde_json::Value> {
    let doc = run.stdout_json();
    assert_eq!(doc["schema"], "sigbox.humbly.verdict.v1", "{doc}");
    doc["verdicts"].as_array().cloned().unwrap_or_default()
}

/// The verdict for `target`.
fn verdict<'a>(all: &'a [serde_json::Value], target: &str) -> &'a serde_json::Value {
    all.iter()
        .find(|v| v["target"] == target)
        .unwrap_or_else(|| panic!("no verdict for {target} in {all:?}"))
}

/// The `check` names of a verdict's failures.
fn checks(v: &serde_json::Value) -> Vec<String> {
    v["failures"]
        .as_array()
        .map(|f| f.iter().filter_map(|x| x["check"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Writes `text` as the policy file `name`.
fn policy(sb: &Sandbox, name: &str, text: &str) -> std::path::PathBuf {
    sb.write(name, text)
}
