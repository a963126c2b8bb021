//! Rules on bundles made by a real `sigbox up`: a threshold of two met by two signers and
//! not by one signer twice, a SLSA predicate field matched and mismatched, a key signer, a
//! denied certificate serial and a signer outside the list, all in one batch.

use std::path::Path;
use std::process::Command;

use super::{checks, humbly, verdict, verdicts};
use crate::harness::{Cmd, Sandbox};
use crate::up::instance::Up;

/// `sigbox cosign ...` pointed at the instance.
pub(super) fn cosign(sb: &Sandbox, up: &Up) -> Cmd {
    sb.cosign().env("SIGBOX_TRUST_CONFIG", up.trust_config())
}

/// Keyless `cosign sign-blob` of `file` as `email`, bundle written to `bundle`.
pub(super) fn sign(sb: &Sandbox, up: &Up, email: &str, file: &str, bundle: &str) {
    sb.write(file, format!("contents of {file}\n"));
    let token = up.token(email);
    cosign(sb, up)
        .args(["sign-blob", "--identity-token", &token, "--bundle", bundle, file])
        .succeeds();
}

pub(super) fn attest(sb: &Sandbox, up: &Up, email: &str, file: &str, builder: &str, bundle: &str) {
    let predicate = serde_json::json!({
        "buildDefinition": {"buildType": "https://sigbox.test/build/v1", "externalParameters": {}},
        "runDetails": {"builder": {"id": builder}}
    });
    let name = format!("{file}.predicate.json");
    sb.write(&name, predicate.to_string());
    let token = up.token(email);
    cosign(sb, up)
        .args(["attest-blob", "--identity-token", &token, "--predicate", &name])
        .args(["--type", "slsaprovenance1", "--bundle", bundle, file])
        .succeeds();
}

/// The certificate serial of a bundle, read with openssl (an independent parser).
fn serial(bundle: &Path) -> String {
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle).expect("bundle")).expect("json");
    let raw = json["verificationMaterial"]["certificate"]["rawBytes"].as_str().expect("cert");
    let der = sigbox::encoding::b64_decode(raw).expect("base64");
    let der_path = bundle.with_extension("der");
    std::fs::write(&der_path, der).expect("writing der");
    let out = Command::new("openssl")
        .args(["x509", "-inform", "DER", "-noout", "-serial", "-in"])
        .arg(&der_path)
        .output()
        .expect("openssl is needed for this test (Debian package openssl)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().trim_start_matches("serial=").to_string()
}

#[test]
fn up_bundles_threshold_slsa_key_and_deny_rules() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("up"));
    sign(&sb, &up, "alice@example.com", "pair-ok.bin", "pair-ok.bin.sigstore.json");
    sign(&sb, &up, "bob@example.com", "pair-ok.bin", "pair-ok.bin.bob.sigstore.json");
    sign(&sb, &up, "alice@example.com", "pair-twice.bin", "pair-twice.bin.sigstore.json");
    sign(&sb, &up, "alice@example.com", "pair-twice.bin", "pair-twice.bin.again.sigstore.json");
    for (file, builder) in [
        ("slsa-ok.bin", "https://ci.sigbox.test/runner"),
        ("slsa-bad.bin", "https://evil.test/runner"),
    ] {
        sign(&sb, &up, "alice@example.com", file, &format!("{file}.sigstore.json"));
        attest(&sb, &up, "alice@example.com", file, builder, &format!("{file}.slsa.sigstore.json"));
    }
    sign(&sb, &up, "alice@example.com", "denied.bin", "denied.bin.sigstore.json");
    sign(&sb, &up, "mallory@example.com", "mallory.bin", "mallory.bin.sigstore.json");
    cosign(&sb, &up).args(["generate-key-pair"]).env("COSIGN_PASSWORD", "pw").succeeds();
    sb.write("key-ok.bin", "key signed\n");
    cosign(&sb, &up)
        .args([
            "sign-blob",
            "--key",
            "cosign.key",
            "--bundle",
            "key-ok.bin.sigstore.json",
            "key-ok.bin",
        ])
        .env("COSIGN_PASSWORD", "pw")
        .succeeds();
    let denied = serial(&sb.join("denied.bin.sigstore.json"));

    let issuer = &up.oidc_url;
    let policy = format!(
        r#"version: 1
trusted_roots:
  local: {{trust_config: "{tc}"}}
  public: {{embedded: public-good}}
signers:
  rfc8785:
    identity: https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2
    issuer: https://token.actions.githubusercontent.com
  alice: {{identity: alice@example.com, issuer: "{issuer}"}}
  bob: {{identity: bob@example.com, issuer: "{issuer}"}}
  release-key: {{public_key: cosign.pub}}
deny:
  serials: ["{denied}"]
rules:
  - name: wheels
    match: {{glob: "*.whl"}}
    signers: [rfc8785]
  - name: pair
    match: {{glob: "pair-*.bin"}}
    signers: [alice, bob]
    threshold: 2
  - name: slsa
    match: {{glob: "slsa-*.bin"}}
    signers: [alice]
    attestations:
      - predicate_type: https://slsa.dev/provenance/v1
        constraints:
          - pointer: /buildDefinition/buildType
            equals: https://sigbox.test/build/v1
          - pointer: /runDetails/builder/id
            regex: https://ci\.sigbox\.test/.*
  - name: keyed
    match: {{glob: "key-*.bin"}}
    signers: [release-key]
    require: [tlog]
default:
  signers: [alice]
"#,
        tc = up.trust_config().display()
    );
    sb.write("policy.yaml", policy);
    humbly(&sb).args(["policy", "check", "policy.yaml"]).succeeds();
    // One policy accepts the private instance and the public one.
    sb.copy_fixture("humbly/bundle_v3_github.whl", "public.whl");
    sb.copy_fixture("humbly/bundle_v3_github.whl.sigstore", "public.whl.sigstore");
    let targets = [
        "public.whl",
        "pair-ok.bin",
        "pair-twice.bin",
        "slsa-ok.bin",
        "slsa-bad.bin",
        "key-ok.bin",
        "denied.bin",
        "mallory.bin",
    ];
    let run = humbly(&sb)
        .args(["verify", "--no-lookup", "--json", "--policy", "policy.yaml"])
        .args(targets)
        .fails_with(1);
    let all = verdicts(&run);
    let status = |t: &str| verdict(&all, t)["status"].as_str().unwrap_or_default().to_string();

    let public = verdict(&all, "public.whl");
    assert_eq!(status("public.whl"), "pass", "{public}");
    assert_eq!(public["signatures"][0]["root"], "public", "{public}");

    let pair = verdict(&all, "pair-ok.bin");
    assert_eq!(pair["signatures"][0]["root"], "local", "{pair}");
    assert_eq!(status("pair-ok.bin"), "pass", "{pair}");
    let signers: Vec<&str> = pair["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["signer"].as_str())
        .collect();
    assert_eq!(signers, ["alice", "bob"], "{pair}");

    let twice = verdict(&all, "pair-twice.bin");
    assert_eq!(status("pair-twice.bin"), "fail", "{twice}");
    assert_eq!(checks(twice), ["threshold"], "{twice}");
    assert!(
        twice["failures"][0]["message"].as_str().unwrap().starts_with("1 of the required 2"),
        "{twice}"
    );

    let slsa = verdict(&all, "slsa-ok.bin");
    assert_eq!(status("slsa-ok.bin"), "pass", "{slsa}");
    assert_eq!(slsa["attestations"][0], "https://slsa.dev/provenance/v1");
    let bad = verdict(&all, "slsa-bad.bin");
    assert_eq!(checks(bad), ["attestation"], "{bad}");
    assert!(
        bad.to_string().contains("/runDetails/builder/id is \\\"https://evil.test/runner\\\""),
        "{bad}"
    );

    let key = verdict(&all, "key-ok.bin");
    assert_eq!(status("key-ok.bin"), "pass", "{key}");
    assert!(key["signatures"][0]["identity"].as_str().unwrap().starts_with("key:"), "{key}");

    let deny = verdict(&all, "denied.bin");
    assert!(checks(deny).contains(&"deny".to_string()), "{deny}");
    assert!(
        deny.to_string()
            .to_lowercase()
            .contains(&denied.to_lowercase().trim_start_matches('0').to_string()),
        "{deny}"
    );

    let mallory = verdict(&all, "mallory.bin");
    assert!(checks(mallory).contains(&"signer".to_string()), "{mallory}");
    assert!(mallory.to_string().contains("mallory@example.com"), "{mallory}");

    // The same pair signed by one signer listed twice under two names is still one identity.
    let twice_named = std::fs::read_to_string(sb.join("policy.yaml"))
        .unwrap()
        .replace("bob: {identity: bob@example.com", "bob: {identity: alice@example.com");
    sb.write("alias.yaml", twice_named);
    let run = humbly(&sb)
        .args(["verify", "--no-lookup", "--json", "--policy", "alias.yaml", "pair-twice.bin"])
        .fails_with(1);
    assert_eq!(checks(&verdicts(&run)[0]), ["threshold"]);
}
