//! Table-driven rule tests on a real public-good bundle (fixtures/humbly): every rule type
//! once where it accepts and once where it rejects, with the failed check named.

use super::{checks, humbly, verdicts};
use crate::harness::Sandbox;

const SAN: &str =
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
/// From fixtures/humbly/README.md (computed with openssl and python, not sigbox).
const SERIAL: &str = "336F5BBD892B0CA9C15599957A5A1350C959A8D6";
const KEY_ID: &str = "a68bb9531942c2de74e63657568b264c463daa91b61fe944d5b355a30e9fbb6d";
const UUID: &str = "268fea7b149eff7a08fea532ca55b49fabdd1c3b9e64eb090e5585493c9b9abb";

/// A policy with one signer (`signer` is the YAML body of its fields), an optional `deny`
/// block, and a default rule with `extra` lines.
fn policy(signer: &str, rule: &str, deny: &str) -> String {
    let signer: String = signer.lines().map(|l| format!("    {l}\n")).collect();
    let rule: String = rule.lines().map(|l| format!("  {l}\n")).collect();
    let deny: String = deny.lines().map(|l| format!("  {l}\n")).collect();
    let deny = if deny.is_empty() { String::new() } else { format!("deny:\n{deny}") };
    format!(
        "version: 1\ntrusted_roots:\n  public: {{embedded: public-good}}\nsigners:\n  s:\n\
         {signer}{deny}default:\n  signers: [s]\n{rule}"
    )
}

#[test]
fn each_rule_type_accepts_and_rejects_a_real_public_good_bundle() {
    let base = format!("identity: {SAN}\nissuer: {ISSUER}");
    let with = |more: &str| format!("{base}\n{more}");
    // (case, signer fields, rule lines, deny lines, expected failed check or None to pass)
    let cases: Vec<(&str, String, &str, String, Option<&str>)> = vec![
        ("identity exact", base.clone(), "", String::new(), None),
        ("identity exact, other", format!("identity: {SAN}x\nissuer: {ISSUER}"), "", String::new(), Some("signer")),
        ("identity regex", format!("identity_regex: https://github\\.com/trailofbits/.*\nissuer: {ISSUER}"), "", String::new(), None),
        ("identity regex, other", format!("identity_regex: https://github\\.com/sigstore/.*\nissuer: {ISSUER}"), "", String::new(), Some("signer")),
        ("issuer regex", format!("identity: {SAN}\nissuer_regex: https://token\\.actions\\..*"), "", String::new(), None),
        ("issuer exact, other", format!("identity: {SAN}\nissuer: https://accounts.google.com"), "", String::new(), Some("signer")),
        ("github claims", with("github: {repository: trailofbits/rfc8785.py, ref: refs/tags/v0.1.2, workflow: release, trigger: release, sha: d8b4a6445f38c48b9137a8099706d9b8073146e4, runner_environment: github-hosted}"), "", String::new(), None),
        ("github repository, other", with("github: {repository: trailofbits/other}"), "", String::new(), Some("signer")),
        ("github ref, other", with("github: {ref: refs/heads/main}"), "", String::new(), Some("signer")),
        ("github trigger, other", with("github: {trigger: push}"), "", String::new(), Some("signer")),
        ("github runner, other", with("github: {runner_environment: self-hosted}"), "", String::new(), Some("signer")),
        ("extension by OID", with("extensions: {\"1.3.6.1.4.1.57264.1.12\": \"https://github.com/trailofbits/rfc8785.py\", \"1.3.6.1.4.1.57264.1.22\": public}"), "", String::new(), None),
        ("extension by OID, other", with("extensions: {\"1.3.6.1.4.1.57264.1.22\": private}"), "", String::new(), Some("signer")),
        ("require tlog", base.clone(), "require: [tlog]", String::new(), None),
        ("require timestamp", base.clone(), "require: [timestamp]", String::new(), Some("require")),
        ("max_age long", base.clone(), "max_age: 5200w", String::new(), None),
        ("max_age short", base.clone(), "max_age: 30d", String::new(), Some("max_age")),
        ("not_before earlier", base.clone(), "not_before: 2024-03-19T00:00:00Z", String::new(), None),
        ("not_before later", base.clone(), "not_before: 2024-03-20T00:00:00Z", String::new(), Some("not_before")),
        ("deny other serial", base.clone(), "", "serials: [\"01\"]".into(), None),
        ("deny serial", base.clone(), "", format!("serials: [\"{SERIAL}\"]"), Some("deny")),
        ("deny identity", base.clone(), "", format!("identities: [\"{SAN}\"]"), Some("deny")),
        ("deny key id", base.clone(), "", format!("key_ids: [\"{KEY_ID}\"]"), Some("deny")),
        ("deny log entry", base.clone(), "", format!("log_entries: [\"{UUID}\"]"), Some("deny")),
        ("attestation missing", base.clone(), "attestations:\n  - predicate_type: https://slsa.dev/provenance/v1", String::new(), Some("attestation")),
    ];
    let sb = Sandbox::new();
    sb.copy_fixture("humbly/bundle_v3_github.whl", "a.whl");
    sb.copy_fixture("humbly/bundle_v3_github.whl.sigstore", "a.whl.sigstore");
    for (i, (case, signer, rule, deny, expect)) in cases.iter().enumerate() {
        let file = sb.write(&format!("p{i}.yaml"), policy(signer, rule, deny));
        let run = humbly(&sb)
            .args(["verify", "--no-lookup", "--json", "--policy"])
            .arg(&file)
            .arg("a.whl")
            .run();
        let all = verdicts(&run);
        let v = &all[0];
        match expect {
            None => {
                assert_eq!(run.output.status.code(), Some(0), "{case}: {v}");
                assert_eq!(v["status"], "pass", "{case}: {v}");
                assert_eq!(v["signatures"][0]["identity"], SAN, "{case}");
            }
            Some(check) => {
                assert_eq!(run.output.status.code(), Some(1), "{case}: {v}");
                assert_eq!(v["status"], "fail", "{case}: {v}");
                assert!(checks(v).iter().any(|c| c == check), "{case}: wanted {check}: {v}");
            }
        }
    }
}

#[test]
fn changed_artifact_bundle_without_time_and_no_bundle_are_rejected() {
    let sb = Sandbox::new();
    sb.write("a.whl", "not the signed wheel");
    sb.copy_fixture("humbly/bundle_v3_github.whl.sigstore", "a.whl.sigstore");
    sb.copy_fixture("humbly/bundle_v3_no_signed_time.txt", "t.txt");
    sb.copy_fixture("humbly/bundle_v3_no_signed_time.txt.sigstore.json", "t.txt.sigstore.json");
    sb.write("lonely.bin", "no bundle");
    let text = "version: 1\nsigners:\n  any:\n    identity_regex: .*\n    issuer_regex: .*\ndefault:\n  signers: [any]\n";
    let file = sb.write("p.yaml", text);
    let run = humbly(&sb)
        .args(["verify", "--no-lookup", "--json", "--policy"])
        .arg(&file)
        .args(["a.whl", "t.txt", "lonely.bin"])
        .fails_with(1);
    let all = verdicts(&run);
    for v in &all {
        assert_eq!(v["status"], "fail", "{v}");
    }
    let text = |v: &serde_json::Value| v["failures"].to_string();
    assert!(checks(&all[0]).contains(&"verify".to_string()), "{}", all[0]);
    assert!(text(&all[0]).contains("a.whl.sigstore"), "{}", all[0]);
    assert!(checks(&all[1]).contains(&"verify".to_string()), "{}", all[1]);
    assert!(checks(&all[2]).contains(&"bundle".to_string()), "{}", all[2]);
}

#[test]
fn first_matching_rule_decides_and_unmatched_targets_fail_without_default() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.join("dist/sub")).unwrap();
    sb.copy_fixture("humbly/bundle_v3_github.whl", "dist/sub/a.whl");
    sb.copy_fixture("humbly/bundle_v3_github.whl.sigstore", "dist/sub/a.whl.sigstore");
    sb.copy_fixture("humbly/bundle_v3_github.whl", "dist/b.whl");
    sb.copy_fixture("humbly/bundle_v3_github.whl.sigstore", "dist/b.whl.sigstore");
    sb.copy_fixture("humbly/bundle_v3_github.whl", "dist/c.tar");
    let text = format!(
        "version: 1\nsigners:\n  s: {{identity: \"{SAN}\", issuer: \"{ISSUER}\"}}\nrules:\n\
         \x20 - name: nested\n    match: {{glob: \"dist/*/*.whl\"}}\n    signers: [s]\n\
         \x20 - name: blocked\n    match: {{glob: \"dist/*.whl\"}}\n    reject: true\n"
    );
    let file = sb.write("p.yaml", text);
    let run = humbly(&sb)
        .args(["verify", "--no-lookup", "--json", "--policy"])
        .arg(&file)
        .arg("dist")
        .fails_with(1);
    let all = verdicts(&run);
    let targets: Vec<&str> = all.iter().filter_map(|v| v["target"].as_str()).collect();
    assert_eq!(targets, ["dist/b.whl", "dist/c.tar", "dist/sub/a.whl"]);
    assert_eq!(
        (all[0]["rule"].as_str(), all[0]["status"].as_str()),
        (Some("blocked"), Some("fail"))
    );
    assert!(all[1]["rule"].is_null() && checks(&all[1]) == ["rule"], "{}", all[1]);
    assert_eq!(
        (all[2]["rule"].as_str(), all[2]["status"].as_str()),
        (Some("nested"), Some("pass"))
    );
    // --glob narrows a directory walk to matching file names.
    let run = humbly(&sb)
        .args(["verify", "--no-lookup", "--json", "--glob", "a.*", "--policy"])
        .arg(&file)
        .arg("dist")
        .succeeds();
    assert_eq!(verdicts(&run).len(), 1);
}
