use serde_json::json;

use super::*;

const GOOD: &str = r#"version: 1
trusted_roots:
  public:
    embedded: public-good
signers:
  release:
    identity: https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1
    issuer: https://token.actions.githubusercontent.com
    github:
      repository: o/r
      ref: refs/tags/v1
  maintainer:
    identity_regex: .*@example\.com
    issuer: https://accounts.google.com
  gitlab:
    identity_regex: https://gitlab\.com/.*
    issuer: https://gitlab.com
    extensions:
      1.3.6.1.4.1.57264.1.12: https://gitlab.com/g/p
  ops:
    public_key: keys/ops.pub
deny:
  serials: ["00AB:CD"]
rules:
  - name: wheels
    match: {glob: "dist/**/*.whl"}
    signers: [release, maintainer]
    threshold: 2
    require: [tlog]
    max_age: 30d
    not_before: 2024-01-01T00:00:00Z
    attestations:
      - predicate_type: https://slsa.dev/provenance/v1
        constraints:
          - pointer: /buildDefinition/buildType
            equals: https://actions.github.io/buildtypes/workflow/v1
          - pointer: /runDetails/builder/id
            regex: https://github\.com/.*
  - name: pinned
    match: {digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000"}
    reject: true
default:
  signers: [release, gitlab, ops]
"#;

#[test]
fn full_yaml_policy_compiles() {
    let p = parse(GOOD, Syntax::Yaml).unwrap();
    assert_eq!(p.signers.len(), 4);
    let wheels = &p.rules[0];
    assert_eq!(wheels.threshold, 2);
    assert!(wheels.require_tlog && !wheels.require_timestamp);
    assert_eq!(wheels.max_age, Some(30 * 86_400));
    assert_eq!(wheels.not_before, Some(1_704_067_200));
    assert_eq!(wheels.attestations[0].constraints.len(), 2);
    assert_eq!(p.deny.serials, vec!["abcd".to_string()]);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert!(
        matches!(p.signers[3].kind, SignerKind::Key { .. })
            || p.signers.iter().any(|s| matches!(s.kind, SignerKind::Key { .. }))
    );
}

#[test]
fn first_matching_rule_wins_then_default() {
    let p = parse(GOOD, Syntax::Yaml).unwrap();
    assert_eq!(p.rule_for(Some("dist/x/a.whl"), None, None).unwrap().name, "wheels");
    let zero = "0".repeat(64);
    assert_eq!(p.rule_for(Some("dist/a.whl"), Some(&zero), None).unwrap().name, "wheels");
    assert_eq!(p.rule_for(Some("a.tar"), Some(&zero), None).unwrap().name, "pinned");
    assert_eq!(p.rule_for(Some("a.tar"), None, None).unwrap().name, "default");
}

#[test]
fn json_policy_compiles_too() {
    let text = json!({
        "version": 1,
        "signers": {"a": {"identity": "a@b.c", "issuer_regex": "https://.*"}},
        "rules": [{"name": "all", "match": {"glob": "**"}, "signers": ["a"]}]
    })
    .to_string();
    let p = parse(&text, Syntax::Json).unwrap();
    assert_eq!(p.rules[0].signers, vec![0]);
}

fn diagnostic(text: &str, syntax: Syntax) -> Diagnostic {
    match parse(text, syntax) {
        Ok(_) => panic!("policy accepted:\n{text}"),
        Err(e) => e.diagnostics().remove(0),
    }
}

#[test]
fn bad_policies_give_line_and_column() {
    // (description, text, line, message fragment)
    let cases = [
        ("syntax error", "version: 1\nsigners:\n  a:\n    identity: x\n   issuer: y\n", 5, "did not find expected key"),
        ("unknown key", "version: 1\nsigners:\n  a:\n    identity: x\n    isuer: y\n", 5, "unknown field `isuer`"),
        (
            "bad regex",
            "version: 1\nsigners:\n  a:\n    identity_regex: \"(\"\n    issuer: i\n",
            4,
            "invalid regular expression",
        ),
        (
            "threshold above signers",
            "version: 1\nsigners:\n  a: {identity: x, issuer: i}\nrules:\n  - name: r\n    match: {glob: \"*\"}\n    signers: [a]\n    threshold: 2\n",
            8,
            "threshold 2 is more than its 1 signer",
        ),
        (
            "unknown signer",
            "version: 1\nsigners:\n  a: {identity: x, issuer: i}\nrules:\n  - name: r\n    match: {glob: \"*\"}\n    signers: [a, b]\n",
            7,
            "unknown signer \"b\"",
        ),
        ("bad duration", "version: 1\nsigners: {}\ndefault:\n  max_age: 3 days\n", 4, "invalid duration"),
        ("bad requirement", "version: 1\nsigners: {}\ndefault:\n  require: [tlogs]\n", 4, "unknown variant"),
        ("no issuer", "version: 1\nsigners:\n  a:\n    identity: x\n", 3, "needs issuer"),
    ];
    for (what, text, line, fragment) in cases {
        let d = diagnostic(text, Syntax::Yaml);
        assert_eq!(d.line, line, "{what}: {d}");
        assert!(d.column >= 1, "{what}: {d}");
        assert!(d.message.contains(fragment), "{what}: {d}");
    }
}

#[test]
fn bad_json_policy_gives_line_and_column() {
    let d = diagnostic("{\n  \"version\": 1,\n  \"signers\": {},\n  \"extra\": 1\n}", Syntax::Json);
    assert_eq!((d.line, d.message.contains("unknown field `extra`")), (4, true), "{d}");
    let d = diagnostic("{\n  \"version\": 1,\n  \"signers\": {\n}", Syntax::Json);
    assert_eq!(d.line, 4, "{d}");
}

#[test]
fn constraints_check_equals_regex_one_of() {
    let p = parse(GOOD, Syntax::Yaml).unwrap();
    let a = &p.rules[0].attestations[0];
    let good = json!({"buildDefinition": {"buildType": "https://actions.github.io/buildtypes/workflow/v1"},
                      "runDetails": {"builder": {"id": "https://github.com/actions/runner"}}});
    for c in &a.constraints {
        c.check(&good).unwrap();
    }
    let bad = json!({"buildDefinition": {"buildType": "other"}});
    let e = a.constraints[0].check(&bad).unwrap_err();
    assert!(e.contains("/buildDefinition/buildType is \"other\""), "{e}");
    assert!(a.constraints[1].check(&bad).unwrap_err().contains("nothing"));
    let one_of = Constraint {
        pointer: "/x".into(),
        check: ConstraintCheck::OneOf(vec![json!(1), json!("a")]),
    };
    one_of.check(&json!({"x": "a"})).unwrap();
    assert!(one_of.check(&json!({"x": 2})).is_err());
}

#[test]
fn denied_serial_ignores_case_and_leading_zeros() {
    let p = parse(GOOD, Syntax::Yaml).unwrap();
    assert!(p.denied(&[], Some("ABCD"), "k", None).unwrap().contains("serial abcd"));
    assert!(p.denied(&[], Some("abce"), "k", None).is_none());
}

#[test]
fn explain_mentions_every_rule_and_the_threshold() {
    let text = explain(&parse(GOOD, Syntax::Yaml).unwrap());
    for fragment in
        ["rule \"wheels\"", "needs 2 of [release, maintainer]", "always rejected", "buildType"]
    {
        assert!(text.contains(fragment), "{fragment} missing from:\n{text}");
    }
}

#[test]
fn schema_is_json() {
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
    assert_eq!(schema["required"], json!(["version", "signers"]));
}

#[test]
fn unused_signer_is_a_warning() {
    let text = "version: 1\nsigners:\n  a: {identity: x, issuer: i}\n  b: {identity: y, issuer: i}\ndefault:\n  signers: [a]\n";
    let p = parse(text, Syntax::Yaml).unwrap();
    assert_eq!(p.warnings.len(), 1);
    assert_eq!(p.warnings[0].line, 4);
}
