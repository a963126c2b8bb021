//! End-to-end verification through the real binary: `sigbox cosign verify-blob`,
//! `cosign verify-blob-attestation`, `sigbox verify` and `sigbox trust show`, on every real
//! vector and every negative fixture (`fixtures/bundle/negative/`).

use crate::harness::{fixtures, Sandbox};

const GITHUB_ID: &str =
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
const EMAIL_ISSUER: &str = "https://github.com/login/oauth";

fn fixture(path: &str) -> String {
    fixtures().join(path).display().to_string()
}

#[test]
fn cosign_verify_blob_accepts_the_github_wheel_with_the_embedded_root() {
    Sandbox::new()
        .cosign()
        .args(["verify-blob", "--bundle", &fixture("bundle/valid/bundle_v3_github.whl.sigstore")])
        .args(["--certificate-identity", GITHUB_ID, "--certificate-oidc-issuer", GITHUB_ISSUER])
        .args(["--certificate-github-workflow-repository", "trailofbits/rfc8785.py"])
        .arg(fixture("bundle/valid/bundle_v3_github.whl"))
        .succeeds()
        .stderr_has("Verified OK");
}

#[test]
fn cosign_verify_blob_accepts_a_sha256_digest_input() {
    let digest = "sha256:c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201";
    Sandbox::new()
        .cosign()
        .args(["verify-blob", "--bundle", &fixture("bundle/valid/bundle_v3_github.whl.sigstore")])
        .args(["--certificate-identity-regexp", ".*/trailofbits/.*"])
        .args(["--certificate-oidc-issuer-regexp", "https://token\\.actions\\..*"])
        .arg(digest)
        .succeeds();
}

#[test]
fn cosign_verify_blob_rejects_other_artifact_bytes_with_exit_1() {
    let sandbox = Sandbox::new();
    let other = sandbox.write("other.bin", b"not the wheel");
    sandbox
        .cosign()
        .args(["verify-blob", "--bundle", &fixture("bundle/valid/bundle_v3_github.whl.sigstore")])
        .args(["--certificate-identity", GITHUB_ID, "--certificate-oidc-issuer", GITHUB_ISSUER])
        .arg(&other)
        .fails_with(1)
        .stderr_has("does not match the bundle messageDigest");
}

#[test]
fn bundle_without_signed_time_is_rejected_for_lack_of_trusted_time() {
    Sandbox::new()
        .cosign()
        .args([
            "verify-blob",
            "--bundle",
            &fixture("bundle/valid/bundle_v3_no_signed_time.txt.sigstore.json"),
        ])
        .args(["--certificate-identity", "william@yossarian.net"])
        .args(["--certificate-oidc-issuer", EMAIL_ISSUER])
        .arg(fixture("bundle/valid/bundle_v3_no_signed_time.txt"))
        .fails_with(1)
        .stderr_has("no verified signing time");
}

#[test]
fn dsse_bundles_verify_with_verify_blob_attestation() {
    for (bundle, identity, issuer) in [
        ("bundle/valid/bundleV03-dsse.sigstore", "brian@dehamer.com", EMAIL_ISSUER),
        ("bundle/valid/bundleV03-intoto.sigstore", "brian@dehamer.com", EMAIL_ISSUER),
        ("bundle/valid/bundleV01-full-cert-chain.sigstore", "brian@dehamer.com", EMAIL_ISSUER),
        (
            "bundle/valid/sigstore.js@2.0.0-provenance.sigstore.json",
            "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
            GITHUB_ISSUER,
        ),
    ] {
        Sandbox::new()
            .cosign()
            .args(["verify-blob-attestation", "--bundle", &fixture(bundle)])
            .args(["--certificate-identity", identity, "--certificate-oidc-issuer", issuer])
            .succeeds();
    }
}

#[test]
fn attestation_type_flag_checks_the_predicate() {
    let bundle = fixture("bundle/valid/sigstore.js@2.0.0-provenance.sigstore.json");
    let id =
        "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";
    Sandbox::new()
        .cosign()
        .args(["verify-blob-attestation", "--bundle", &bundle, "--type", "slsaprovenance1"])
        .args(["--certificate-identity", id, "--certificate-oidc-issuer", GITHUB_ISSUER])
        .succeeds();
    Sandbox::new()
        .cosign()
        .args(["verify-blob-attestation", "--bundle", &bundle, "--type", "spdxjson"])
        .args(["--certificate-identity", id, "--certificate-oidc-issuer", GITHUB_ISSUER])
        .fails_with(1)
        .stderr_has("predicate type");
}

#[test]
fn key_bundle_verifies_with_key_flag() {
    Sandbox::new()
        .cosign()
        .args(["verify-blob-attestation", "--bundle", &fixture("bundle/valid/bundle-publish.json")])
        .args(["--key", &fixture("bundle/valid/publish_key.pub")])
        .succeeds();
}

#[test]
fn staging_bundles_verify_with_the_staging_root_only() {
    let root = fixture("trust/staging_trusted_root.json");
    let bundle = fixture("bundle/staging/staging-rekor-v2.txt.sigstore.json");
    let input = fixture("bundle/staging/staging-rekor-v2.txt");
    Sandbox::new()
        .cosign()
        .args(["verify-blob", "--bundle", &bundle, "--trusted-root", &root])
        .args(["--certificate-identity", "jku@goto.fi", "--certificate-oidc-issuer", EMAIL_ISSUER])
        .arg(&input)
        .succeeds();
    Sandbox::new()
        .cosign()
        .args(["verify-blob", "--bundle", &bundle])
        .args(["--certificate-identity", "jku@goto.fi", "--certificate-oidc-issuer", EMAIL_ISSUER])
        .arg(&input)
        .fails_with(1)
        .stderr_has("not in the trusted root");
    Sandbox::new()
        .cosign()
        .args([
            "verify-blob-attestation",
            "--bundle",
            &fixture("bundle/staging/a.dsse.staging-rekor-v2.txt.sigstore.json"),
            "--trusted-root",
            &root,
        ])
        .args(["--certificate-identity-regexp", "https://github.com/sigstore-conformance/.*"])
        .args(["--certificate-oidc-issuer", GITHUB_ISSUER])
        .succeeds();
}

#[test]
fn sigbox_verify_prints_a_json_verdict() {
    let run = Sandbox::new()
        .sigbox()
        .args(["verify", "--bundle", &fixture("bundle/valid/bundle_v3_github.whl.sigstore")])
        .args(["--identity", GITHUB_ID, "--issuer", GITHUB_ISSUER, "--json"])
        .arg(fixture("bundle/valid/bundle_v3_github.whl"))
        .succeeds();
    let verdict = run.stdout_json();
    assert_eq!(verdict["verified"], true);
    assert_eq!(verdict["signer"]["identity"], GITHUB_ID);
    assert_eq!(verdict["tlog"]["log_index"], 79605083);
    assert_eq!(verdict["verified_times"][0]["time"], 1710888076);
}

#[test]
fn sigbox_verify_exit_codes_follow_the_table() {
    let bundle = fixture("bundle/valid/bundle_v3_github.whl.sigstore");
    let input = fixture("bundle/valid/bundle_v3_github.whl");
    // A wrong identity is a definite "no": 1.
    Sandbox::new()
        .sigbox()
        .args(["verify", "--bundle", &bundle, "--identity", "x@y.z", "--issuer", GITHUB_ISSUER])
        .arg(&input)
        .fails_with(1)
        .stderr_has("certificate identity rejected");
    // A missing bundle file cannot be decided: 2.
    Sandbox::new()
        .sigbox()
        .args(["verify", "--bundle", "/nonexistent/b.json", "--any-identity"])
        .arg(&input)
        .fails_with(2);
    // A keyless bundle without identity flags is a usage error: 2.
    Sandbox::new().sigbox().args(["verify", "--bundle", &bundle]).arg(&input).fails_with(2);
    // A malformed bundle is rejected: 1.
    let sandbox = Sandbox::new();
    let bad = sandbox.write("bad.json", br#"{"mediaType":"application/x-unknown"}"#);
    sandbox.sigbox().args(["verify", "--bundle"]).arg(&bad).arg(&input).fails_with(1);
}

#[test]
fn trust_show_lists_the_embedded_public_good_root() {
    Sandbox::new()
        .sigbox()
        .args(["trust", "show"])
        .succeeds()
        .stdout_has("https://rekor.sigstore.dev")
        .stdout_has("https://log2025-1.rekor.sigstore.dev")
        .stdout_has("valid 2021-01-12T11:53:27Z");
}

/// Every negative fixture, through the binary: exit 1 and the named check in the message.
#[test]
fn every_negative_fixture_is_rejected_by_the_binary() {
    let dir = fixtures().join("bundle/negative");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("reading negative fixtures") {
        let path = entry.expect("dir entry").path();
        if path.extension().map_or(true, |e| e != "json") {
            continue;
        }
        let case: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("reading fixture")).expect("json");
        let sandbox = Sandbox::new();
        let bundle = sandbox.write("bundle.json", case["bundle"].to_string());
        let mut cmd = sandbox.cosign();
        let has_input;
        let artifact = &case["artifact"];
        if let Some(file) = artifact["file"].as_str() {
            let mut bytes = std::fs::read(fixtures().join(file)).expect("artifact");
            if let Some(at) = artifact["flip_byte"].as_u64() {
                bytes[at as usize] ^= 1;
            }
            sandbox.write("artifact", bytes);
            has_input = Some("artifact".to_string());
        } else if let Some(b64) = artifact["base64"].as_str() {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD.decode(b64).expect("b64");
            sandbox.write("artifact", bytes);
            has_input = Some("artifact".to_string());
        } else {
            has_input = artifact["digest"].as_str().map(str::to_string);
        }
        let is_dsse = case["bundle"].get("dsseEnvelope").is_some();
        cmd = cmd.arg(if is_dsse { "verify-blob-attestation" } else { "verify-blob" });
        cmd = cmd.arg("--bundle").arg(&bundle);
        if let Some(root) = case.get("trusted_root").filter(|r| !r.is_null()) {
            let root_path = sandbox.write("root.json", root.to_string());
            cmd = cmd.arg("--trusted-root").arg(root_path);
        }
        cmd = cmd
            .args(["--certificate-identity", case["policy"]["identity"].as_str().expect("id")])
            .args(["--certificate-oidc-issuer", case["policy"]["issuer"].as_str().expect("iss")]);
        if let Some(input) = has_input {
            cmd = cmd.arg(input);
        }
        if case["expect"] == "OK" {
            cmd.succeeds();
        } else {
            cmd.fails_with(1).stderr_has(case["message"].as_str().expect("message"));
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} negative fixtures");
}

#[test]
fn sigbox_verify_json_rejection_names_the_check() {
    let run = Sandbox::new()
        .sigbox()
        .args(["verify", "--bundle", &fixture("bundle/valid/bundle_v3_github.whl.sigstore")])
        .args(["--identity", GITHUB_ID, "--issuer", "https://accounts.google.com", "--json"])
        .arg(fixture("bundle/valid/bundle_v3_github.whl"))
        .fails_with(1);
    let verdict = run.stdout_json();
    assert_eq!(verdict["verified"], false);
    assert_eq!(verdict["check"], "issuer");
}

#[test]
fn untlogged_key_signature_verifies_only_with_insecure_ignore_tlog() {
    let sandbox = Sandbox::new();
    sandbox.cosign().env("COSIGN_PASSWORD", "pw").arg("generate-key-pair").succeeds();
    sandbox.write("a.txt", b"hello\n");
    sandbox
        .cosign()
        .env("COSIGN_PASSWORD", "pw")
        .args(["sign-blob", "--key", "cosign.key", "--tlog-upload=false"])
        .args(["--bundle", "a.sigstore.json", "a.txt"])
        .succeeds();
    sandbox
        .cosign()
        .args(["verify-blob", "--key", "cosign.pub", "--insecure-ignore-tlog"])
        .args(["--bundle", "a.sigstore.json", "a.txt"])
        .succeeds();
    sandbox
        .cosign()
        .args(["verify-blob", "--key", "cosign.pub", "--bundle", "a.sigstore.json", "a.txt"])
        .fails_with(1)
        .stderr_has("0 transparency log entries");
    sandbox.write("b.txt", b"hellO\n");
    sandbox
        .cosign()
        .args(["verify-blob", "--key", "cosign.pub", "--insecure-ignore-tlog"])
        .args(["--bundle", "a.sigstore.json", "b.txt"])
        .fails_with(1);
}
