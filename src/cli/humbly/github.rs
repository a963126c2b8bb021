//! GitHub Actions (`GITHUB_ACTIONS=true`): an `::error` workflow command per failed
//! target (shown as an annotation on the run) and a Markdown table appended to the file
//! `$GITHUB_STEP_SUMMARY` names (shown on the run's summary page).

use std::io::Write as _;
use std::path::Path;

use super::report;
use crate::humbly::{Status, Summary, TargetVerdict};

/// Prints `::error title=humbly TARGET::TARGET: failures` for every target that did not
/// pass: on stdout, where GitHub documents workflow commands, or on stderr when stdout
/// carries the `--json` document (the runner reads commands from both streams).
pub fn annotate(verdicts: &[TargetVerdict], json_on_stdout: bool) -> std::io::Result<()> {
    let mut out: Box<dyn std::io::Write> = if json_on_stdout {
        Box::new(std::io::stderr().lock())
    } else {
        Box::new(std::io::stdout().lock())
    };
    for v in verdicts.iter().filter(|v| v.status != Status::Pass) {
        let message = format!("{}: {}", v.target, report::failures(v));
        writeln!(out, "::error title=humbly {}::{}", property(&v.target), data(&message))?;
    }
    Ok(())
}

/// Appends the Markdown summary table to `path`.
pub fn append_summary(
    path: &Path,
    policy: &str,
    verdicts: &[TargetVerdict],
) -> std::io::Result<()> {
    let s = Summary::of(verdicts);
    let mut text = format!("### humbly: `{}`\n\n", cell(policy));
    text.push_str("| | target | rule | result |\n|---|---|---|---|\n");
    for v in verdicts {
        let mark = match v.status {
            Status::Pass => "✅",
            Status::Fail => "❌",
            Status::Error => "⚠️",
        };
        let result = if v.status == Status::Pass {
            v.signatures
                .iter()
                .map(|s| format!("{} ({})", s.signer, s.identity))
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            report::failures(v)
        };
        text.push_str(&format!(
            "| {mark} | `{}` | {} | {} |\n",
            cell(&v.target),
            cell(v.rule.as_deref().unwrap_or("-")),
            cell(&result)
        ));
    }
    text.push_str(&format!(
        "\n**{} passed, {} failed, {} errors** of {} targets\n\n",
        s.passed, s.failed, s.errors, s.total
    ));
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(text.as_bytes())
}

/// Escapes a workflow command's message.
fn data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow command property value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A Markdown table cell: no pipes or newlines.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}
