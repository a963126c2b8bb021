//! CI output: JUnit XML read back by an independent parser (python3's xml.etree), GitHub
//! Actions annotations and the step summary file, human lines.

use std::process::Command;

use super::humbly;
use crate::harness::Sandbox;

const POLICY: &str = "version: 1\nsigners:\n  s:\n    identity: https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2\n    issuer: https://token.actions.githubusercontent.com\ndefault:\n  signers: [s]\n";

fn batch(sb: &Sandbox) {
    sb.copy_fixture("humbly/bundle_v3_github.whl", "good.whl");
    sb.copy_fixture("humbly/bundle_v3_github.whl.sigstore", "good.whl.sigstore");
    sb.write("bad.whl", "tampered <&> \"contents\"");
    sb.copy_fixture("humbly/bundle_v3_github.whl.sigstore", "bad.whl.sigstore");
    sb.write("p.yaml", POLICY);
}

#[test]
fn junit_report_parses_with_python_xml_etree() {
    let sb = Sandbox::new();
    batch(&sb);
    let run = humbly(&sb)
        .args(["verify", "--no-lookup", "--policy", "p.yaml", "--junit", "report.xml"])
        .args(["good.whl", "bad.whl"])
        .fails_with(1);
    assert!(run.stdout().contains("✓ good.whl  rule default: s ("), "{}", run.stdout());
    assert!(run.stdout().contains("✗ bad.whl  rule default: threshold:"), "{}", run.stdout());
    let script = r#"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root.find("testsuite")
cases = suite.findall("testcase")
print(root.tag, suite.get("tests"), suite.get("failures"), len(cases))
for c in cases:
    f = c.find("failure")
    print(c.get("name"), "FAIL" if f is not None else "PASS", (f.get("type") if f is not None else ""))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(sb.join("report.xml"))
        .output()
        .expect("python3 is needed for this test (Debian package python3)");
    assert!(
        out.status.success(),
        "xml.etree rejected the report: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines, ["testsuites 2 1 2", "good.whl PASS ", "bad.whl FAIL threshold"], "{text}");
}

#[test]
fn github_actions_gets_annotations_and_a_step_summary() {
    let sb = Sandbox::new();
    batch(&sb);
    sb.write("summary.md", "# earlier step\n");
    let run = humbly(&sb)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", sb.join("summary.md"))
        .args(["verify", "--no-lookup", "--json", "--policy", "p.yaml", "good.whl", "bad.whl"])
        .fails_with(1);
    assert!(
        run.stderr().contains("::error title=humbly bad.whl::bad.whl: threshold:"),
        "{}",
        run.stderr()
    );
    assert!(!run.stderr().contains("title=humbly good.whl"), "{}", run.stderr());
    run.stdout_json();
    let summary = std::fs::read_to_string(sb.join("summary.md")).unwrap();
    assert!(summary.starts_with("# earlier step\n"), "the summary was overwritten:\n{summary}");
    assert!(summary.contains("| ✅ | `good.whl` | default | s ("), "{summary}");
    assert!(summary.contains("| ❌ | `bad.whl` | default | threshold:"), "{summary}");
    assert!(summary.contains("**1 passed, 1 failed, 0 errors** of 2 targets"), "{summary}");
}

#[test]
fn github_annotations_go_to_stdout_without_json() {
    let sb = Sandbox::new();
    batch(&sb);
    let run = humbly(&sb)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", "")
        .args(["verify", "--no-lookup", "--policy", "p.yaml", "good.whl", "bad.whl"])
        .fails_with(1);
    let annotation = run.stdout().lines().find(|l| l.starts_with("::error ")).map(str::to_string);
    let annotation = annotation.unwrap_or_else(|| panic!("no annotation:\n{}", run.stdout()));
    assert!(
        annotation.starts_with("::error title=humbly bad.whl::bad.whl: threshold:"),
        "{annotation}"
    );
    assert!(!annotation.contains('\n'));
}

#[test]
fn unreachable_images_and_bad_git_ranges_are_errors_named_clearly() {
    let sb = Sandbox::new();
    batch(&sb);
    let run = humbly(&sb)
        .args([
            "verify",
            "--no-lookup",
            "--policy",
            "p.yaml",
            "good.whl",
            "oci://127.0.0.1:1/app:1",
            "git:HEAD~3..HEAD",
        ])
        .args(["--repo", "no-such-repo"])
        .fails_with(2);
    let out = run.stdout();
    assert!(out.contains("✓ good.whl"), "{out}");
    assert!(out.contains("oci://127.0.0.1:1/app:1  error: registry: resolving"), "{out}");
    assert!(out.contains("git:HEAD~3..HEAD  error: io: git:HEAD~3..HEAD: git rev-list"), "{out}");
    // A missing input is an error verdict; the rest of the batch is still judged.
    let run = humbly(&sb)
        .args(["verify", "--no-lookup", "--policy", "p.yaml", "missing.bin", "good.whl"])
        .fails_with(2);
    let out = run.stdout();
    assert!(out.contains("✗ missing.bin  error: io: missing.bin: no such file"), "{out}");
    assert!(out.contains("✓ good.whl"), "{out}");
}
