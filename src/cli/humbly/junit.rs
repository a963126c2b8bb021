//! `--junit FILE`: a JUnit XML report, one `<testcase>` per target, a `<failure>` for a
//! violated policy and an `<error>` for a target that could not be decided. Every CI
//! system that shows test results shows this.

use std::path::Path;

use crate::humbly::{Status, Summary, TargetVerdict};

/// Writes the report to `path`.
pub fn write(path: &Path, policy: &str, verdicts: &[TargetVerdict]) -> std::io::Result<()> {
    std::fs::write(path, render(policy, verdicts))
}

/// The XML text.
pub fn render(policy: &str, verdicts: &[TargetVerdict]) -> String {
    let s = Summary::of(verdicts);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"humbly\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
        s.total, s.failed, s.errors
    ));
    out.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
        escape(&format!("humbly {policy}")),
        s.total,
        s.failed,
        s.errors
    ));
    for v in verdicts {
        out.push_str(&format!(
            "    <testcase classname=\"humbly.{}\" name=\"{}\"",
            escape(v.rule.as_deref().unwrap_or("no-rule")),
            escape(&v.target)
        ));
        if v.status == Status::Pass {
            out.push_str("/>\n");
            continue;
        }
        let element = if v.status == Status::Error { "error" } else { "failure" };
        let first = v.failures.first();
        let body: Vec<String> =
            v.failures.iter().map(|f| format!("{}: {}", f.check, f.message)).collect();
        out.push_str(&format!(
            ">\n      <{element} type=\"{}\" message=\"{}\">{}</{element}>\n    </testcase>\n",
            escape(first.map_or("policy", |f| f.check)),
            escape(first.map_or("", |f| f.message.as_str())),
            escape(&body.join("\n"))
        ));
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// XML-escapes text for attributes and content, dropping characters XML 1.0 forbids.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(escape("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;");
    }
}
