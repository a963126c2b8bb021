//! sigstore-js (npm `sigstore` + `@sigstore/verify`, installed into tests/js by
//! `make tools`) against a real `sigbox up`: it signs and attests, sigbox verifies; sigbox
//! signs and attests, it verifies; both reject a wrong identity.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::instance::Up;
use crate::harness::Sandbox;

fn script() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let module = root.join("tests/js/node_modules/@sigstore/verify");
    assert!(module.exists(), "{} is missing: run `make tools` (make test does)", module.display());
    root.join("tests/js/sigstore-js.js")
}

fn node(dir: &Path, args: &[&str]) -> Output {
    Command::new("node").arg(script()).args(args).current_dir(dir).output().expect("running node")
}

fn sigbox(sb: &Sandbox, up: &Up, args: &[&str]) -> crate::harness::Run {
    sb.cosign().env("SIGBOX_TRUST_CONFIG", up.trust_config()).args(args).run()
}

#[test]
fn sigstore_js_and_sigbox_verify_each_others_signatures_and_attestations() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("state"));
    let tc = up.trust_config();
    let tc = tc.to_str().expect("utf-8");
    let issuer = up.oidc_url.clone();
    sb.write("js.txt", "signed by sigstore-js\n");
    let digest =
        sigbox::crypto::digest(sigbox::crypto::HashAlgorithm::Sha256, b"signed by sigstore-js\n");
    sb.write(
        "statement.json",
        serde_json::json!({"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "js.txt", "digest": {"sha256": digest.to_hex()}}],
            "predicateType": "https://example.test/predicate/v1", "predicate": {}})
        .to_string(),
    );

    // sigstore-js signs and attests; sigbox verifies.
    let token = up.token("js@example.com");
    let out = node(sb.path(), &["sign", tc, &token, "js.txt", "js.sigstore.json"]);
    assert!(out.status.success(), "sigstore-js sign: {}", String::from_utf8_lossy(&out.stderr));
    let out = node(sb.path(), &["attest", tc, &token, "statement.json", "js.att.json"]);
    assert!(out.status.success(), "sigstore-js attest: {}", String::from_utf8_lossy(&out.stderr));
    let verify_blob = |bundle: &str, identity: &str| {
        sigbox(
            &sb,
            &up,
            &[
                "verify-blob",
                "--trusted-root",
                tc,
                "--bundle",
                bundle,
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                &issuer,
                "js.txt",
            ],
        )
    };
    verify_blob("js.sigstore.json", "js@example.com").code(0);
    verify_blob("js.sigstore.json", "nobody@example.com").code(1);
    sigbox(
        &sb,
        &up,
        &[
            "verify-blob-attestation",
            "--trusted-root",
            tc,
            "--bundle",
            "js.att.json",
            "--type",
            "https://example.test/predicate/v1",
            "--certificate-identity",
            "js@example.com",
            "--certificate-oidc-issuer",
            &issuer,
            "js.txt",
        ],
    )
    .code(0);

    // sigbox signs and attests; sigstore-js verifies, and rejects a wrong identity.
    sigbox(&sb, &up, &["sign-blob", "--bundle", "sb.sigstore.json", "js.txt"]).code(0);
    sb.write("predicate.json", "{}");
    sigbox(
        &sb,
        &up,
        &["attest-blob", "--predicate", "predicate.json", "--bundle", "sb.att.json", "js.txt"],
    )
    .code(0);
    let ok = node(
        sb.path(),
        &["verify", tc, "sb.sigstore.json", "test-user@sigbox.local", &issuer, "js.txt"],
    );
    assert!(
        ok.status.success(),
        "sigstore-js rejected sigbox's bundle: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let ok = node(sb.path(), &["verify", tc, "sb.att.json", "test-user@sigbox.local", &issuer]);
    assert!(
        ok.status.success(),
        "sigstore-js rejected sigbox's attestation: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let wrong = node(
        sb.path(),
        &["verify", tc, "sb.sigstore.json", "mallory@example.com", &issuer, "js.txt"],
    );
    assert_eq!(wrong.status.code(), Some(1), "sigstore-js accepted a wrong identity");
}
