//! Verdicts for people (one line per target) and for scripts (`--json`, schema
//! `sigbox.humbly.verdict.v1`, documented in `docs/humbly-policy.md`).

use crate::cli::output;
use crate::humbly::{Status, Summary, TargetVerdict};

/// The `--json` schema name; bump it when a field changes meaning.
pub const JSON_SCHEMA: &str = "sigbox.humbly.verdict.v1";

/// One line per target: `✓ target  rule R: signer (identity), ...` or `✗ target  rule R:
/// check: message; ...`, then a summary line.
pub fn human(verdicts: &[TargetVerdict]) -> anyhow::Result<()> {
    for v in verdicts {
        output::line(line(v))?;
    }
    let s = Summary::of(verdicts);
    output::line(format!("{} passed, {} failed, {} errors", s.passed, s.failed, s.errors))?;
    Ok(())
}

/// The human line for one verdict.
pub fn line(v: &TargetVerdict) -> String {
    let rule = v.rule.as_deref().map(|r| format!("rule {r}: ")).unwrap_or_default();
    match v.status {
        Status::Pass => {
            let who: Vec<String> =
                v.signatures.iter().map(|s| format!("{} ({})", s.signer, s.identity)).collect();
            let mut text = format!("✓ {}  {rule}{}", v.target, who.join(", "));
            if !v.attestations.is_empty() {
                text.push_str(&format!("; attestations: {}", v.attestations.join(", ")));
            }
            text
        }
        Status::Fail | Status::Error => {
            let label = if v.status == Status::Error { "error: " } else { "" };
            format!("✗ {}  {label}{rule}{}", v.target, failures(v))
        }
    }
}

/// Every failure as `check: message`, joined by `; `.
pub fn failures(v: &TargetVerdict) -> String {
    v.failures.iter().map(|f| format!("{}: {}", f.check, f.message)).collect::<Vec<_>>().join("; ")
}

/// The `--json` document.
pub fn json(policy: &str, verdicts: &[TargetVerdict]) -> anyhow::Result<()> {
    output::json(&serde_json::json!({
        "schema": JSON_SCHEMA,
        "policy": policy,
        "summary": Summary::of(verdicts),
        "verdicts": verdicts,
    }))
}
