//! Signing and verifying images in both layouts, keyless and with keys, and every way a
//! signature must be rejected.

use super::instance::Up;
use super::registry::{self, Registry};
use super::{cosign, identity_flags, key_pair, IDENTITY};
use crate::harness::Sandbox;

#[test]
fn key_signature_by_tag_is_appended_verified_and_readable_by_skopeo() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("up"));
    let reg = Registry::start(&sb.join("registry"));
    let image = registry::push_image(sb.path(), &reg, "app", "one");
    let digest = image.split('@').nth(1).expect("digest").to_string();
    key_pair(&sb, "alice");
    key_pair(&sb, "bob");

    // Signing a tag resolves it to the digest, with cosign's warning.
    cosign(&sb, Some(&up))
        .args(["sign", "--key", "alice.key", "-a", "team=red", "-y"])
        .arg(reg.image("app", "v1"))
        .succeeds()
        .stderr_has("uses a tag, not a digest");
    let run = cosign(&sb, Some(&up)).args(["verify", "--key", "alice.pub"]).arg(&image).succeeds();
    let payloads = run.stdout_json();
    assert_eq!(payloads[0]["critical"]["image"]["docker-manifest-digest"], digest.as_str());
    assert_eq!(payloads[0]["optional"]["team"], "red");
    assert!(payloads[0]["optional"]["Bundle"]["SignedEntryTimestamp"].is_string());

    // Required annotations: present passes, absent or different is rejected by name.
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "alice.pub", "-a", "team=red"])
        .arg(&image)
        .succeeds();
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "alice.pub", "-a", "team=blue"])
        .arg(&image)
        .fails_with(1)
        .stderr_has("annotations check failed");

    // Wrong key: rejected, naming the signature check.
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "bob.pub"])
        .arg(&image)
        .fails_with(1)
        .stderr_has("signature");

    // A second signer is appended, and both verify on their own.
    cosign(&sb, Some(&up)).args(["sign", "--key", "bob.key", "-y"]).arg(&image).succeeds();
    cosign(&sb, Some(&up)).args(["verify", "--key", "alice.pub"]).arg(&image).succeeds();
    cosign(&sb, Some(&up)).args(["verify", "--key", "bob.pub"]).arg(&image).succeeds();

    // An independent client sees cosign's layout: media types and annotation keys.
    let tag = format!("{}/app:{}.sig", reg.host, digest.replace(':', "-"));
    let manifest = registry::inspect_raw(&tag, &[]);
    assert_eq!(manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(manifest["config"]["mediaType"], "application/vnd.oci.image.config.v1+json");
    let layers = manifest["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 2, "the second signature is appended: {manifest}");
    for layer in layers {
        assert_eq!(layer["mediaType"], "application/vnd.dev.cosign.simplesigning.v1+json");
        assert!(layer["annotations"]["dev.cosignproject.cosign/signature"].is_string());
        assert!(layer["annotations"]["dev.sigstore.cosign/bundle"].is_string());
    }
}

#[test]
fn keyless_signature_verifies_offline_and_checks_identity() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("up"));
    let reg = Registry::start(&sb.join("registry"));
    let image = registry::push_image(sb.path(), &reg, "keyless", "k");
    cosign(&sb, Some(&up))
        .args([
            "sign",
            "-y",
            "--output-certificate",
            "cert.pem",
            "--output-payload",
            "payload.json",
        ])
        .arg(&image)
        .succeeds();
    let cert = std::fs::read_to_string(sb.join("cert.pem")).expect("certificate written");
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
    let run = cosign(&sb, Some(&up))
        .arg("verify")
        .args(identity_flags(&up, IDENTITY))
        .arg(&image)
        .succeeds();
    let payloads = run.stdout_json();
    assert_eq!(payloads[0]["optional"]["Subject"], IDENTITY);
    assert_eq!(payloads[0]["optional"]["Issuer"], up.oidc_url.as_str());

    // Offline: the log is gone, the stored Rekor bundle is enough.
    let trust = std::fs::read(up.trust_config()).expect("trust config");
    up.stop();
    sb.write("trust_config.json", trust);
    sb.cosign()
        .env("DOCKER_CONFIG", sb.join("docker-config"))
        .env("SIGBOX_TRUST_CONFIG", sb.join("trust_config.json"))
        .arg("verify")
        .args(["--certificate-identity", IDENTITY, "--certificate-oidc-issuer-regexp", ".*"])
        .arg(&image)
        .succeeds();
    sb.cosign()
        .env("DOCKER_CONFIG", sb.join("docker-config"))
        .env("SIGBOX_TRUST_CONFIG", sb.join("trust_config.json"))
        .arg("verify")
        .args([
            "--certificate-identity",
            "mallory@evil.test",
            "--certificate-oidc-issuer-regexp",
            ".*",
        ])
        .arg(&image)
        .fails_with(1)
        .stderr_has("identity");
}

#[test]
fn upload_false_writes_the_outputs_and_nothing_to_the_registry() {
    let sb = Sandbox::new();
    let reg = Registry::start(&sb.join("registry"));
    let image = registry::push_image(sb.path(), &reg, "dry", "d");
    key_pair(&sb, "k");
    cosign(&sb, None)
        .args(["sign", "--key", "k.key", "--tlog-upload=false", "--upload=false", "-y"])
        .args(["--output-signature", "sig.b64", "--output-payload", "payload.json"])
        .arg(&image)
        .succeeds();
    let payload: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.join("payload.json")).expect("payload written"))
            .expect("payload JSON");
    let digest = image.split('@').nth(1).expect("digest");
    assert_eq!(payload["critical"]["image"]["docker-manifest-digest"], digest);
    assert_eq!(payload["critical"]["type"], "cosign container image signature");
    // The signature is over the payload bytes: openssl (independent) checks it.
    let sig = std::fs::read_to_string(sb.join("sig.b64")).expect("signature written");
    let der = base64_decode(sig.trim());
    std::fs::write(sb.join("sig.der"), der).expect("write");
    let out = std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-verify", "k.pub", "-signature", "sig.der", "payload.json"])
        .current_dir(sb.path())
        .output()
        .expect("openssl");
    assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
    cosign(&sb, None)
        .args(["verify", "--key", "k.pub", "--insecure-ignore-tlog"])
        .arg(&image)
        .fails_with(1)
        .stderr_has("no signatures found");
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).expect("base64")
}
