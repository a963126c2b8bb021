//! Attestations, the OCI 1.1 referrer layout with the tag-schema fallback, indexes with
//! `--recursive`, and tampering: each rejected with the failed check named.

use super::instance::Up;
use super::registry::{self, Registry};
use super::{cosign, identity_flags, key_pair, IDENTITY};
use crate::harness::Sandbox;

#[test]
fn attest_then_verify_attestation_in_both_layouts() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("up"));
    let reg = Registry::start(&sb.join("registry"));
    let image = registry::push_image(sb.path(), &reg, "att", "a");
    let digest = image.split('@').nth(1).expect("digest").to_string();
    sb.write("provenance.json", r#"{"builder":{"id":"https://ci.example/builder"}}"#);
    key_pair(&sb, "k");

    // Legacy `.att`, keyless.
    cosign(&sb, Some(&up))
        .args(["attest", "--predicate", "provenance.json", "--type", "slsaprovenance", "-y"])
        .arg(&image)
        .succeeds();
    let run = cosign(&sb, Some(&up))
        .args(["verify-attestation", "--type", "slsaprovenance"])
        .args(identity_flags(&up, IDENTITY))
        .arg(&image)
        .succeeds();
    let envelope: serde_json::Value =
        serde_json::from_str(run.stdout().lines().next().expect("one envelope")).expect("json");
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    cosign(&sb, Some(&up))
        .args(["verify-attestation", "--type", "spdx"])
        .args(identity_flags(&up, IDENTITY))
        .arg(&image)
        .fails_with(1)
        .stderr_has("predicate-type check failed");
    let att =
        registry::inspect_raw(&format!("{}/att:{}.att", reg.host, digest.replace(':', "-")), &[]);
    assert_eq!(att["layers"][0]["mediaType"], "application/vnd.dsse.envelope.v1+json");
    assert_eq!(
        att["layers"][0]["annotations"]["predicateType"],
        "https://slsa.dev/provenance/v0.2"
    );

    // OCI 1.1 referrer with a v0.3 bundle, key-signed, through the tag-schema fallback.
    cosign(&sb, Some(&up))
        .args(["attest", "--key", "k.key", "--predicate", "provenance.json", "--type", "custom"])
        .args(["--registry-referrers-mode", "oci-1-1", "-y"])
        .arg(&image)
        .succeeds();
    cosign(&sb, Some(&up))
        .args(["verify-attestation", "--key", "k.pub", "--type", "custom"])
        .arg(&image)
        .succeeds();
}

#[test]
fn referrer_signatures_use_the_fallback_index_and_verify_beside_legacy_ones() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("up"));
    let reg = Registry::start(&sb.join("registry"));
    let image = registry::push_image(sb.path(), &reg, "ref", "r");
    let digest = image.split('@').nth(1).expect("digest").to_string();
    key_pair(&sb, "new");
    key_pair(&sb, "old");
    cosign(&sb, Some(&up))
        .args(["sign", "--key", "new.key", "--new-bundle-format", "-y", "-a", "env=prod"])
        .arg(&image)
        .succeeds();
    cosign(&sb, Some(&up)).args(["sign", "--key", "old.key", "-y"]).arg(&image).succeeds();

    // The registry has no referrers API, so the fallback index lists the bundle manifest.
    let index =
        registry::inspect_raw(&format!("{}/ref:{}", reg.host, digest.replace(':', "-")), &[]);
    assert_eq!(index["mediaType"], "application/vnd.oci.image.index.v1+json");
    let entry = &index["manifests"][0];
    assert_eq!(entry["artifactType"], "application/vnd.dev.sigstore.bundle.v0.3+json");
    let referrer = registry::inspect_raw(
        &format!("{}/ref@{}", reg.host, entry["digest"].as_str().expect("digest")),
        &[],
    );
    assert_eq!(referrer["subject"]["digest"], digest.as_str());
    assert_eq!(referrer["config"]["mediaType"], "application/vnd.oci.empty.v1+json");
    assert_eq!(referrer["layers"][0]["mediaType"], "application/vnd.dev.sigstore.bundle.v0.3+json");

    // Both layouts are read: each key finds its own signature.
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "new.pub", "-a", "env=prod"])
        .arg(&image)
        .succeeds();
    cosign(&sb, Some(&up)).args(["verify", "--key", "old.pub"]).arg(&image).succeeds();
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "new.pub", "-a", "env=dev"])
        .arg(&image)
        .fails_with(1)
        .stderr_has("annotations check failed");
}

#[test]
fn recursive_signing_covers_every_manifest_of_an_index() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("up"));
    let reg = Registry::start(&sb.join("registry"));
    let layout = registry::build_layout(sb.path(), "multi", &["amd64", "arm64"]);
    registry::push(&layout, &reg.image("multi", "v1"), &[]);
    let index_digest = registry::layout_digest(&layout);
    let index = registry::get_manifest(&reg.host, "multi", &index_digest);
    let children: Vec<String> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| m["digest"].as_str().expect("digest").to_string())
        .collect();
    assert_eq!(children.len(), 2);
    key_pair(&sb, "k");
    cosign(&sb, Some(&up))
        .args(["sign", "--key", "k.key", "--recursive", "-y"])
        .arg(format!("{}/multi@{index_digest}", reg.host))
        .succeeds();
    for digest in std::iter::once(&index_digest).chain(children.iter()) {
        cosign(&sb, Some(&up))
            .args(["verify", "--key", "k.pub"])
            .arg(format!("{}/multi@{digest}", reg.host))
            .succeeds();
    }
}

#[test]
fn moved_tampered_and_unlogged_signatures_are_rejected_by_name() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("up"));
    let reg = Registry::start(&sb.join("registry"));
    let a = registry::push_image(sb.path(), &reg, "app", "a");
    let b_layout = registry::build_layout(sb.path(), "b", &[]);
    registry::push(&b_layout, &reg.image("app", "b"), &[]);
    let b_digest = registry::layout_digest(&b_layout);
    let b = format!("{}/app@{b_digest}", reg.host);
    let a_digest = a.split('@').nth(1).expect("digest").to_string();
    key_pair(&sb, "k");
    cosign(&sb, Some(&up)).args(["sign", "--key", "k.key", "-y"]).arg(&a).succeeds();
    let a_tag = format!("{}.sig", a_digest.replace(':', "-"));
    let b_tag = format!("{}.sig", b_digest.replace(':', "-"));

    // A signature moved to another image's tag: the payload names the other digest.
    let manifest = registry::get_manifest(&reg.host, "app", &a_tag);
    registry::put_manifest(&reg.host, "app", &b_tag, &manifest);
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "k.pub"])
        .arg(&b)
        .fails_with(1)
        .stderr_has("claims check failed");
    // ...unless claims checking is switched off, which shows the check was the one failing.
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "k.pub", "--check-claims=false"])
        .arg(&b)
        .succeeds();

    // A tampered payload layer (new blob, same annotations): the signature check fails.
    let mut tampered = manifest.clone();
    let layer = &manifest["layers"][0];
    let payload = registry::get_blob(&reg.host, "app", layer["digest"].as_str().expect("d"));
    let changed = String::from_utf8(payload).expect("utf-8").replace("/app", "/evil");
    let new_digest = registry::put_blob(&reg.host, "app", changed.as_bytes());
    tampered["layers"][0]["digest"] = new_digest.into();
    tampered["layers"][0]["size"] = changed.len().into();
    registry::put_manifest(&reg.host, "app", &a_tag, &tampered);
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "k.pub"])
        .arg(&a)
        .fails_with(1)
        .stderr_has("signature check failed");

    // A manifest changed behind the registry's back: its digest no longer matches.
    registry::put_manifest(&reg.host, "app", &a_tag, &manifest);
    let sig_digest = registry::digest(&serde_json::to_vec(&manifest).expect("json"));
    let file = registry::blob_file(&reg, &sig_digest);
    let bytes = std::fs::read(&file).expect("stored manifest");
    let text = String::from_utf8(bytes).expect("utf-8").replacen("\"size\":", "\"size\": ", 1);
    std::fs::write(&file, text).expect("tampering");
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "k.pub"])
        .arg(&a)
        .fails_with(1)
        .stderr_has("digest mismatch");

    // A key signature that was never logged needs --insecure-ignore-tlog.
    let c = registry::push_image(sb.path(), &reg, "app", "c");
    cosign(&sb, Some(&up))
        .args(["sign", "--key", "k.key", "--tlog-upload=false", "-y"])
        .arg(&c)
        .succeeds();
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "k.pub"])
        .arg(&c)
        .fails_with(1)
        .stderr_has("tlog-entry-count check failed");
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "k.pub", "--insecure-ignore-tlog"])
        .arg(&c)
        .succeeds();
}
