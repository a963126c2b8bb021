//! Keyless signing against a real `sigbox up`, checked by sigbox and by sigstore-python.

use std::process::Command;

use super::instance::{sigstore_python, Up};
use crate::harness::{Cmd, Sandbox};

const DEFAULT_IDENTITY: &str = "test-user@sigbox.local";

fn cosign(sb: &Sandbox, up: &Up) -> Cmd {
    let link = sb.join("cosign");
    if !link.exists() {
        sb.link("cosign");
    }
    Cmd::new(link).cwd(sb.path()).env("SIGBOX_TRUST_CONFIG", up.trust_config())
}

fn verify_with_sigbox(
    sb: &Sandbox,
    up: &Up,
    bundle: &str,
    file: &str,
    identity: &str,
) -> crate::harness::Run {
    let tc = up.trust_config();
    cosign(sb, up)
        .args(["verify-blob", "--trusted-root"])
        .arg(&tc)
        .args(["--bundle", bundle, "--certificate-identity", identity])
        .args(["--certificate-oidc-issuer", &up.oidc_url, file])
        .run()
}

fn python_verify(
    up: &Up,
    dir: &std::path::Path,
    bundle: &str,
    file: &str,
    identity: &str,
) -> std::process::Output {
    Command::new(sigstore_python())
        .arg("--trust-config")
        .arg(up.trust_config())
        .args(["verify", "identity", "--bundle", bundle, "--cert-identity", identity])
        .args(["--cert-oidc-issuer", &up.oidc_url, file])
        .current_dir(dir)
        .output()
        .expect("running sigstore-python")
}

#[test]
fn cosign_sign_blob_through_symlink_verifies_with_sigbox_and_sigstore_python() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("state"));
    sb.write("artifact.txt", "keyless release contents\n");
    cosign(&sb, &up)
        .args(["sign-blob", "--bundle", "artifact.sigstore.json"])
        .args(["--output-signature", "artifact.sig", "--output-certificate", "artifact.pem"])
        .arg("artifact.txt")
        .succeeds();
    let cert = std::fs::read_to_string(sb.join("artifact.pem")).expect("certificate written");
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
    verify_with_sigbox(&sb, &up, "artifact.sigstore.json", "artifact.txt", DEFAULT_IDENTITY)
        .code(0);
    verify_with_sigbox(&sb, &up, "artifact.sigstore.json", "artifact.txt", "someone@else.test")
        .code(1)
        .stderr_has("identity");

    let ok =
        python_verify(&up, sb.path(), "artifact.sigstore.json", "artifact.txt", DEFAULT_IDENTITY);
    assert!(
        ok.status.success(),
        "sigstore-python rejected sigbox's bundle: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let wrong = python_verify(
        &up,
        sb.path(),
        "artifact.sigstore.json",
        "artifact.txt",
        "someone@else.test",
    );
    assert!(!wrong.status.success(), "sigstore-python accepted a wrong identity");

    // The bundle's log entry is not at index 0 (the genesis entry holds it).
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.join("artifact.sigstore.json")).expect("bundle"))
            .expect("json");
    let index: u64 = bundle["verificationMaterial"]["tlogEntries"][0]["logIndex"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("logIndex string");
    assert!(index >= 1);
}

#[test]
fn sigstore_python_signs_against_sigbox_up_and_sigbox_verifies() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("state"));
    sb.write("py.txt", "signed by sigstore-python\n");
    let token = up.token("python@example.com");
    let out = Command::new(sigstore_python())
        .arg("--trust-config")
        .arg(up.trust_config())
        .args(["sign", "--identity-token", &token, "--bundle", "py.sigstore.json", "py.txt"])
        .current_dir(sb.path())
        .output()
        .expect("running sigstore-python sign");
    assert!(
        out.status.success(),
        "sigstore-python sign failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    verify_with_sigbox(&sb, &up, "py.sigstore.json", "py.txt", "python@example.com").code(0);
    verify_with_sigbox(&sb, &up, "py.sigstore.json", "py.txt", "other@example.com").code(1);
    sb.write("py.txt", "tampered\n");
    verify_with_sigbox(&sb, &up, "py.sigstore.json", "py.txt", "python@example.com").code(1);
}

#[test]
fn restart_keeps_keys_and_log_and_the_new_checkpoint_is_consistent() {
    let sb = Sandbox::new();
    let state = sb.join("state");
    let up = Up::start(&state);
    sb.write("a.txt", "before restart\n");
    cosign(&sb, &up).args(["sign-blob", "--bundle", "a.sigstore.json", "a.txt"]).succeeds();
    let http = sigbox::http::blocking_builder().build().unwrap();
    let before: serde_json::Value = http
        .get(format!("{}/api/v1/log", up.rekor_url))
        .send()
        .expect("loginfo")
        .json()
        .expect("json");
    let ports = up.ports();
    up.stop();

    let up = Up::start_on(&state, ports);
    verify_with_sigbox(&sb, &up, "a.sigstore.json", "a.txt", DEFAULT_IDENTITY).code(0);
    sb.write("b.txt", "after restart\n");
    cosign(&sb, &up).args(["sign-blob", "--bundle", "b.sigstore.json", "b.txt"]).succeeds();
    let after: serde_json::Value = http
        .get(format!("{}/api/v1/log", up.rekor_url))
        .send()
        .expect("loginfo")
        .json()
        .expect("json");
    let size = |v: &serde_json::Value| v["treeSize"].as_u64().expect("treeSize");
    let root = |v: &serde_json::Value| -> [u8; 32] {
        let hex = v["rootHash"].as_str().expect("rootHash");
        sigbox::encoding::hex_decode(hex).expect("hex").try_into().expect("32 bytes")
    };
    assert!(size(&after) > size(&before));
    let proof: serde_json::Value = http
        .get(format!(
            "{}/api/v1/log/proof?firstSize={}&lastSize={}",
            up.rekor_url,
            size(&before),
            size(&after)
        ))
        .send()
        .expect("proof")
        .json()
        .expect("json");
    let hashes: Vec<[u8; 32]> = proof["hashes"]
        .as_array()
        .expect("hashes")
        .iter()
        .map(|h| {
            sigbox::encoding::hex_decode(h.as_str().expect("hex"))
                .expect("hex")
                .try_into()
                .expect("32")
        })
        .collect();
    sigbox::tlog::verify_consistency(
        size(&before),
        size(&after),
        &hashes,
        &root(&before),
        &root(&after),
    )
    .expect("the log after the restart extends the log before it");
    up.stop();
}

#[test]
fn unreachable_ca_and_untrusted_log_fail_clearly_and_write_no_bundle() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("state"));
    sb.write("a.txt", "x\n");
    // A CA nobody listens on.
    cosign(&sb, &up)
        .args([
            "sign-blob",
            "--fulcio-url",
            "http://127.0.0.1:9",
            "--bundle",
            "a.sigstore.json",
            "a.txt",
        ])
        .fails_with(1)
        .stderr_has("certificate");
    assert!(!sb.join("a.sigstore.json").exists());
    // A log that answers, but is not the one the trusted root names: its SET and
    // checkpoint cannot verify, so no bundle may be written.
    let other = sb.join("other-log");
    let rogue = crate::rekor::server::RekorServer::start(&other, &[]);
    let rogue_url = rogue.url.clone();
    cosign(&sb, &up)
        .args(["sign-blob", "--rekor-url", &rogue_url, "--bundle", "a.sigstore.json", "a.txt"])
        .fails_with(1)
        .stderr_has("does not verify");
    assert!(!sb.join("a.sigstore.json").exists());
    drop(rogue);
}

#[test]
fn expired_token_is_refused_with_a_clear_message() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("state"));
    sb.write("a.txt", "x\n");
    // Mint an expired token with the instance's own issuer key (read from its data dir).
    let pem =
        std::fs::read_to_string(up.data_dir.join("oidc/oidc-issuer.key")).expect("issuer key");
    let signer = sigbox::crypto::signer_from_pem(&pem, None).expect("key");
    let kid = sigbox::encoding::hex_encode(&signer.public_key().key_id()[..8]);
    let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": kid});
    let claims = serde_json::json!({"iss": up.oidc_url, "sub": "late@example.com", "aud": "sigstore",
        "iat": 1_600_000_000, "exp": 1_600_000_600, "email": "late@example.com", "email_verified": true});
    use sigbox::encoding::b64url_encode as b64;
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let der = signer.sign(input.as_bytes()).expect("sign");
    let fixed =
        sigbox::crypto::ecdsa_der_to_fixed(signer.public_key().kind(), &der).expect("fixed");
    let token = format!("{input}.{}", b64(fixed));
    cosign(&sb, &up)
        .args(["sign-blob", "--identity-token", &token, "--bundle", "a.sigstore.json", "a.txt"])
        .fails_with(1)
        .stderr_has("expired");
    assert!(!sb.join("a.sigstore.json").exists());
}

#[test]
fn attest_blob_makes_a_dsse_bundle_that_sigbox_and_sigstore_python_verify() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("state"));
    sb.write("app.tar", "application bytes\n");
    sb.write("predicate.json", r#"{"builder": {"id": "https://ci.example/builder"}}"#);
    cosign(&sb, &up)
        .args(["attest-blob", "--predicate", "predicate.json", "--type", "slsaprovenance1"])
        .args(["--bundle", "app.att.sigstore.json", "app.tar"])
        .succeeds();
    let tc = up.trust_config();
    let verify = |file: &str, kind: &str| {
        cosign(&sb, &up)
            .args(["verify-blob-attestation", "--trusted-root"])
            .arg(&tc)
            .args(["--bundle", "app.att.sigstore.json", "--type", kind])
            .args(["--certificate-identity", DEFAULT_IDENTITY])
            .args(["--certificate-oidc-issuer", &up.oidc_url, file])
            .run()
    };
    verify("app.tar", "slsaprovenance1").code(0);
    verify("app.tar", "https://spdx.dev/Document").code(1);
    sb.write("other.tar", "other bytes\n");
    verify("other.tar", "slsaprovenance1").code(1);
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.join("app.att.sigstore.json")).expect("bundle"))
            .expect("json");
    assert_eq!(bundle["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"], "dsse");

    // --statement signs a complete statement as given.
    let digest =
        sigbox::crypto::digest(sigbox::crypto::HashAlgorithm::Sha256, b"application bytes\n");
    sb.write(
        "statement.json",
        serde_json::json!({"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "app.tar", "digest": {"sha256": digest.to_hex()}}],
            "predicateType": "https://example.test/custom/v1", "predicate": {"k": "v"}})
        .to_string(),
    );
    cosign(&sb, &up)
        .args([
            "attest-blob",
            "--statement",
            "statement.json",
            "--bundle",
            "stmt.sigstore.json",
            "app.tar",
        ])
        .succeeds();
    cosign(&sb, &up)
        .args(["verify-blob-attestation", "--trusted-root"])
        .arg(&tc)
        .args(["--bundle", "stmt.sigstore.json", "--type", "https://example.test/custom/v1"])
        .args([
            "--certificate-identity",
            DEFAULT_IDENTITY,
            "--certificate-oidc-issuer",
            &up.oidc_url,
            "app.tar",
        ])
        .succeeds();

    // sigstore-python checks the DSSE bundle too (its `verify identity` takes the
    // statement's subject file).
    let ok = python_verify(&up, sb.path(), "app.att.sigstore.json", "app.tar", DEFAULT_IDENTITY);
    assert!(
        ok.status.success(),
        "sigstore-python rejected the DSSE bundle: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn sigstore_python_attestation_verifies_with_sigbox() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("state"));
    sb.write("lib.whl", "wheel bytes\n");
    sb.write(
        "predicate.json",
        r#"{"buildDefinition": {"buildType": "https://example/build", "externalParameters": {}},
            "runDetails": {"builder": {"id": "https://example/builder"}}}"#,
    );
    let token = up.token("attester@example.com");
    let out = Command::new(sigstore_python())
        .arg("--trust-config")
        .arg(up.trust_config())
        .args([
            "attest",
            "--identity-token",
            &token,
            "--predicate-type",
            "https://slsa.dev/provenance/v1",
        ])
        .args(["--predicate", "predicate.json", "--bundle", "lib.att.sigstore.json", "lib.whl"])
        .current_dir(sb.path())
        .output()
        .expect("sigstore-python attest");
    assert!(
        out.status.success(),
        "sigstore-python attest failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tc = up.trust_config();
    let verify = |identity: &str| {
        cosign(&sb, &up)
            .args(["verify-blob-attestation", "--trusted-root"])
            .arg(&tc)
            .args(["--bundle", "lib.att.sigstore.json", "--type", "https://slsa.dev/provenance/v1"])
            .args([
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                &up.oidc_url,
                "lib.whl",
            ])
            .run()
    };
    verify("attester@example.com").code(0);
    verify("someone@example.com").code(1);
}

#[test]
fn key_signature_logged_in_the_instance_verifies_with_its_log_entry() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("state"));
    sb.write("a.txt", "key-signed and logged\n");
    cosign(&sb, &up).args(["generate-key-pair"]).env("COSIGN_PASSWORD", "pw").succeeds();
    cosign(&sb, &up)
        .args(["sign-blob", "--key", "cosign.key", "--bundle", "a.sigstore.json", "a.txt"])
        .env("COSIGN_PASSWORD", "pw")
        .succeeds();
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.join("a.sigstore.json")).expect("bundle"))
            .expect("json");
    assert_eq!(bundle["verificationMaterial"]["tlogEntries"].as_array().map(Vec::len), Some(1));
    // No --insecure-ignore-tlog: the SET, inclusion proof and checkpoint are checked.
    let tc = up.trust_config();
    let verify = |key: &str| {
        cosign(&sb, &up)
            .args(["verify-blob", "--key", key, "--trusted-root"])
            .arg(&tc)
            .args(["--bundle", "a.sigstore.json", "a.txt"])
            .run()
    };
    verify("cosign.pub").code(0);
    cosign(&sb, &up)
        .args(["generate-key-pair", "--output-key-prefix", "other"])
        .env("COSIGN_PASSWORD", "pw")
        .succeeds();
    verify("other.pub").code(1);
}

/// Issue #18: signing processes draw keys and nonces from the OS (aws-lc without its
/// jitter collector). Three runs must give three different ephemeral keys and three
/// different signatures over the same artifact, each verified by sigstore-python.
#[test]
fn each_signing_process_has_its_own_ephemeral_key_and_sigstore_python_verifies_it() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("state"));
    sb.write("same.txt", "the same artifact every time\n");
    let mut keys = std::collections::BTreeSet::new();
    let mut signatures = std::collections::BTreeSet::new();
    for run in 0..3 {
        let bundle = format!("same-{run}.sigstore.json");
        let token = up.token("entropy@example.com");
        cosign(&sb, &up)
            .args(["sign-blob", "--identity-token", &token, "--bundle", &bundle, "same.txt"])
            .succeeds();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sb.join(&bundle)).expect("bundle"))
                .expect("bundle JSON");
        let der = sigbox::encoding::b64_decode(
            json["verificationMaterial"]["certificate"]["rawBytes"].as_str().expect("leaf"),
        )
        .expect("base64");
        let leaf = sigbox::x509::Certificate::from_der(&der).expect("leaf certificate");
        keys.insert(leaf.public_key().spki_der().to_vec());
        signatures.insert(json["messageSignature"]["signature"].as_str().expect("sig").to_owned());
        let verified = python_verify(&up, sb.path(), &bundle, "same.txt", "entropy@example.com");
        assert!(
            verified.status.success(),
            "sigstore-python rejected run {run}: {}",
            String::from_utf8_lossy(&verified.stderr)
        );
    }
    assert_eq!(keys.len(), 3, "an ephemeral key was reused across processes");
    assert_eq!(signatures.len(), 3, "a signature repeated across processes");
}
