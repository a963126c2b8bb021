//! Key-based cosign flows through the real binary: generate-key-pair → sign-blob →
//! verify-blob, and each way it must fail.

use std::os::unix::fs::PermissionsExt;

use crate::harness::Sandbox;

const PASSWORD: &str = "correct horse";

/// A sandbox with a fresh key pair, an artifact, and a bundle + raw signature over it.
fn signed_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    sb.cosign().arg("generate-key-pair").env("COSIGN_PASSWORD", PASSWORD).succeeds();
    sb.write("artifact.txt", "release 1.0 contents\n");
    sb.cosign()
        .args(["sign-blob", "--key", "cosign.key", "--bundle", "out.sigstore.json"])
        .args(["--output-signature", "artifact.sig", "--tlog-upload=false", "-y", "artifact.txt"])
        .env("COSIGN_PASSWORD", PASSWORD)
        .succeeds();
    sb
}

fn verify(sb: &Sandbox, key: &str, bundle: &str, artifact: &str) -> crate::harness::Cmd {
    sb.cosign().args([
        "verify-blob",
        "--key",
        key,
        "--bundle",
        bundle,
        "--insecure-ignore-tlog",
        artifact,
    ])
}

#[test]
fn generate_sign_verify_round_trip_passes() {
    let sb = signed_sandbox();
    let mode = std::fs::metadata(sb.join("cosign.key")).expect("key file").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "cosign.key must be 0600");
    let key_text = std::fs::read_to_string(sb.join("cosign.key")).expect("key");
    assert!(key_text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
    verify(&sb, "cosign.pub", "out.sigstore.json", "artifact.txt").succeeds();
    // The raw signature file verifies too (cosign's --signature form).
    sb.cosign()
        .args(["verify-blob", "--key", "cosign.pub", "--signature", "artifact.sig"])
        .args(["--insecure-ignore-tlog", "artifact.txt"])
        .succeeds();
    // The native spelling runs the same core.
    sb.sigbox()
        .args(["verify", "--key", "cosign.pub", "--bundle", "out.sigstore.json"])
        .args(["--insecure-ignore-tlog", "artifact.txt"])
        .succeeds();
}

#[test]
fn bundle_has_the_cosign_key_shape() {
    let sb = signed_sandbox();
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.join("out.sigstore.json")).expect("bundle"))
            .expect("bundle is JSON");
    assert_eq!(bundle["mediaType"], "application/vnd.dev.sigstore.bundle.v0.3+json");
    assert!(bundle["verificationMaterial"]["publicKey"]["hint"].is_string());
    assert_eq!(bundle["messageSignature"]["messageDigest"]["algorithm"], "SHA2_256");
    let sig = std::fs::read_to_string(sb.join("artifact.sig")).expect("sig");
    assert_eq!(bundle["messageSignature"]["signature"], sig.trim());
}

#[test]
fn flipped_artifact_byte_is_rejected() {
    let sb = signed_sandbox();
    sb.write("artifact.txt", "release 1.1 contents\n");
    verify(&sb, "cosign.pub", "out.sigstore.json", "artifact.txt").fails_with(1);
    sb.sigbox()
        .args(["verify", "--key", "cosign.pub", "--bundle", "out.sigstore.json"])
        .args(["--insecure-ignore-tlog", "artifact.txt"])
        .fails_with(1);
}

#[test]
fn flipped_signature_byte_is_rejected() {
    let sb = signed_sandbox();
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.join("out.sigstore.json")).expect("bundle"))
            .expect("json");
    let sig = bundle["messageSignature"]["signature"].as_str().expect("sig").to_string();
    let mut raw = sigbox::encoding::b64_decode(&sig).expect("b64");
    let last = raw.len() - 3;
    raw[last] ^= 0x01;
    bundle["messageSignature"]["signature"] = sigbox::encoding::b64_encode(&raw).into();
    sb.write("tampered.json", serde_json::to_vec(&bundle).expect("json"));
    verify(&sb, "cosign.pub", "tampered.json", "artifact.txt")
        .fails_with(1)
        .stderr_has("signature");
}

#[test]
fn wrong_public_key_is_rejected() {
    let sb = signed_sandbox();
    sb.cosign()
        .args(["generate-key-pair", "--output-key-prefix", "other"])
        .env("COSIGN_PASSWORD", "x")
        .succeeds();
    verify(&sb, "other.pub", "out.sigstore.json", "artifact.txt").fails_with(1);
}

#[test]
fn wrong_password_is_named() {
    let sb = signed_sandbox();
    sb.cosign()
        .args(["sign-blob", "--key", "cosign.key", "--tlog-upload=false", "artifact.txt"])
        .env("COSIGN_PASSWORD", "wrong")
        .fails_with(1)
        .stderr_has("wrong password");
    // The native persona says the same with exit 2 (it could not sign: not a verdict).
    sb.sigbox()
        .args(["sign", "--key", "cosign.key", "--no-tlog", "artifact.txt"])
        .env("COSIGN_PASSWORD", "wrong")
        .fails_with(2)
        .stderr_has("wrong password");
}

#[test]
fn truncated_key_file_is_named() {
    let sb = signed_sandbox();
    let text = std::fs::read_to_string(sb.join("cosign.key")).expect("key");
    sb.write("cut.key", &text[..text.len() / 2]);
    sb.sigbox()
        .args(["sign", "--key", "cut.key", "--no-tlog", "artifact.txt"])
        .env("COSIGN_PASSWORD", PASSWORD)
        .fails_with(2)
        .stderr_has("cut.key");
}

#[test]
fn real_cosign_key_vectors_sign_and_verify() {
    let sb = Sandbox::new();
    for name in ["sigstore-labeled-ec", "cosign-labeled-ec"] {
        sb.copy_fixture(&format!("keys/{name}.key"), &format!("{name}.key"));
        sb.copy_fixture(&format!("keys/{name}.pub"), &format!("{name}.pub"));
        sb.write("a.txt", name);
        let bundle = format!("{name}.bundle");
        sb.cosign()
            .args(["sign-blob", "--key", &format!("{name}.key"), "--bundle", &bundle])
            .args(["--tlog-upload=false", "a.txt"])
            .env("COSIGN_PASSWORD", "hello")
            .succeeds();
        verify(&sb, &format!("{name}.pub"), &bundle, "a.txt").succeeds();
        sb.cosign()
            .args(["public-key", "--key", &format!("{name}.key")])
            .env("COSIGN_PASSWORD", "hello")
            .succeeds()
            .stdout_has(
                std::fs::read_to_string(sb.join(&format!("{name}.pub"))).expect("pub").trim(),
            );
    }
    sb.copy_fixture("keys/cosign-labeled-sec1-INVALID.key", "bad.key");
    sb.cosign()
        .args(["sign-blob", "--key", "bad.key", "--tlog-upload=false", "a.txt"])
        .env("COSIGN_PASSWORD", "hello")
        .fails_with(1)
        .stderr_has("PKCS#8");
}

#[test]
fn import_key_pair_reencrypts_a_pem_key() {
    let sb = signed_sandbox();
    let signer = sigbox::crypto::EcdsaP256Signer::generate();
    use sigbox::crypto::Signer;
    let der = signer.to_pkcs8_der().expect("der");
    sb.write("plain.pem", sigbox::encoding::pem_encode("PRIVATE KEY", &der));
    sb.cosign()
        .args(["import-key-pair", "--key", "plain.pem"])
        .env("COSIGN_PASSWORD", "pw")
        .succeeds();
    let public = std::fs::read_to_string(sb.join("import-cosign.pub")).expect("pub");
    assert_eq!(public, signer.public_key().to_pem());
}

#[test]
fn tlog_upload_to_an_unreachable_log_is_a_clear_error_and_writes_nothing() {
    let sb = signed_sandbox();
    sb.cosign()
        .args(["sign-blob", "--key", "cosign.key", "--rekor-url", "http://127.0.0.1:9"])
        .args(["--bundle", "logged.json", "artifact.txt"])
        .env("COSIGN_PASSWORD", PASSWORD)
        .fails_with(1)
        .stderr_has("transparency log http://127.0.0.1:9");
    assert!(!sb.join("logged.json").exists());
}
