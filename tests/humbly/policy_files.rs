//! `humbly policy check | explain | schema`, and bad policy files: each problem is named
//! with file, line and column, and the exit code is 2 (for `verify` too).

use super::{humbly, policy};
use crate::harness::Sandbox;

#[test]
fn bad_policy_files_name_line_and_column_and_exit_2() {
    // (case, file name, text, "file:line:col", message fragment)
    let cases = [
        ("syntax error", "a.yaml", "version: 1\nsigners:\n  s:\n    identity: x\n   issuer: y\n", ":5:", "did not find expected key"),
        ("unknown key", "b.yaml", "version: 1\nsigners:\n  s:\n    identity: x\n    issuer: y\n    colour: red\n", ":6:", "unknown field `colour`"),
        ("bad regex", "c.yaml", "version: 1\nsigners:\n  s:\n    identity_regex: \"a(b\"\n    issuer: y\n", ":4:", "invalid regular expression"),
        ("threshold above signers", "d.yaml", "version: 1\nsigners:\n  s: {identity: x, issuer: y}\ndefault:\n  signers: [s]\n  threshold: 2\n", ":6:", "threshold 2 is more than its 1 signer"),
        ("json unknown key", "e.json", "{\n  \"version\": 1,\n  \"signers\": {},\n  \"rulez\": []\n}\n", ":4:", "unknown field `rulez`"),
    ];
    let sb = Sandbox::new();
    sb.write("a.txt", "x");
    for (case, name, text, position, fragment) in cases {
        let file = policy(&sb, name, text);
        let want = format!("{}{position}", file.display());
        humbly(&sb)
            .args(["policy", "check"])
            .arg(&file)
            .fails_with(2)
            .stderr_has(&want)
            .stderr_has(fragment);
        humbly(&sb)
            .args(["verify", "--no-lookup", "--policy"])
            .arg(&file)
            .arg("a.txt")
            .fails_with(2)
            .stderr_has(&want);
        let _ = case;
    }
}

#[test]
fn good_policy_checks_with_warnings_and_is_explained() {
    let sb = Sandbox::new();
    let file = policy(
        &sb,
        "p.yaml",
        "version: 1\nsigners:\n  ci: {identity: a@b.c, issuer: https://i}\n  spare: {identity: d@e.f, issuer: https://i}\n\
         rules:\n  - name: wheels\n    match: {glob: \"dist/*.whl\"}\n    signers: [ci]\n    require: [tlog]\n",
    );
    let run = humbly(&sb).args(["policy", "check"]).arg(&file).succeeds();
    assert!(run.stdout().contains("ok (2 signers, 1 rules)"), "{}", run.stdout());
    assert!(
        run.stderr().contains(":4:3: warning: signer \"spare\" is not used"),
        "{}",
        run.stderr()
    );
    let run = humbly(&sb).args(["policy", "explain"]).arg(&file).succeeds();
    for fragment in [
        "rule \"wheels\": paths matching dist/*.whl",
        "needs 1 of [ci]",
        "transparency log entry",
        "otherwise: the target is rejected",
    ] {
        assert!(run.stdout().contains(fragment), "{fragment}: {}", run.stdout());
    }
}

#[test]
fn schema_is_json_schema_and_the_sample_policy_passes_check() {
    let sb = Sandbox::new();
    let run = humbly(&sb).args(["policy", "schema"]).succeeds();
    let schema = run.stdout_json();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert!(schema["properties"]["rules"].is_object());
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/humbly-policy.sample.yaml");
    humbly(&sb).args(["policy", "check"]).arg(&sample).succeeds();
}
