//! What `sigbox rekor` prints: an entry (and what verified about it) and a monitor
//! report, as text for people or `--json`.

use std::process::ExitCode;

use serde_json::{json, Value};

use super::Args;
use crate::cli::{exit, output};
use crate::encoding::hex_encode;
use crate::rekor::{self, client, monitor};

pub(super) fn show_entry(
    args: &Args,
    logged: &client::LoggedEntry,
    verified: Option<&rekor::VerifiedEntry>,
) -> anyhow::Result<ExitCode> {
    let e = &logged.entry;
    let body: Value = serde_json::from_slice(&e.canonicalized_body).unwrap_or(Value::Null);
    if args.json {
        let mut out = json!({
            "entryID": logged.entry_id,
            "logIndex": e.log_index,
            "integratedTime": e.integrated_time,
            "logID": hex_encode(e.log_id.key_id.as_slice()),
            "kind": e.kind_version.kind,
            "apiVersion": e.kind_version.version,
            "body": body,
        });
        if let Some(v) = verified {
            out["verified"] = json!({
                "treeSize": v.checkpoint().checkpoint().size,
                "rootHash": hex_encode(v.checkpoint().checkpoint().root_hash),
                "origin": v.checkpoint().checkpoint().origin,
                "proofHashes": v.proof_len(),
            });
        }
        output::json(&out)?;
        return Ok(exit::Code::Success.into());
    }
    output::line(format!("Entry ID: {}", logged.entry_id))?;
    output::line(format!("Log index: {}", e.log_index))?;
    output::line(format!("Integrated time: {}", time_text(e.integrated_time)))?;
    output::line(format!("Kind: {} {}", e.kind_version.kind, e.kind_version.version))?;
    match verified {
        Some(v) => {
            let cp = v.checkpoint().checkpoint();
            output::line(format!(
                "Verified: SET, inclusion proof ({} hashes) to checkpoint {} size {} root {}",
                v.proof_len(),
                cp.origin,
                cp.size,
                hex_encode(cp.root_hash)
            ))?;
        }
        None => output::line(format!("Body: {body}"))?,
    }
    Ok(exit::Code::Success.into())
}

pub(super) fn show_loginfo(
    args: &Args,
    url: &str,
    report: &monitor::MonitorReport,
) -> anyhow::Result<ExitCode> {
    let cp = report.checkpoint.checkpoint();
    if args.json {
        output::json(&json!({
            "url": url,
            "logID": hex_encode(report.log_id),
            "origin": cp.origin,
            "treeSize": cp.size,
            "rootHash": hex_encode(cp.root_hash),
            "previousTreeSize": report.previous.map(|p| p.0),
            "previousRootHash": report.previous.map(|p| hex_encode(p.1)),
            "consistencyProofHashes": report.proof_len,
            "stateFile": report.state_file,
        }))?;
        return Ok(exit::Code::Success.into());
    }
    output::line(format!("Log: {url}"))?;
    output::line(format!("Log ID: {}", hex_encode(report.log_id)))?;
    output::line(format!("Origin: {}", cp.origin))?;
    output::line(format!("Tree size: {}", cp.size))?;
    output::line(format!("Root hash: {}", hex_encode(cp.root_hash)))?;
    match report.previous {
        Some((size, _)) => output::line(format!(
            "Consistent with the checkpoint seen before at size {size} ({} proof hashes)",
            report.proof_len
        ))?,
        None => output::line("First visit: checkpoint verified and remembered")?,
    }
    output::line(format!("State: {}", report.state_file.display()))?;
    Ok(exit::Code::Success.into())
}

fn time_text(unix: i64) -> String {
    crate::encoding::rfc3339(unix).map_or_else(|| unix.to_string(), |t| format!("{t} ({unix})"))
}
