//! Air-gapped copies and housekeeping: `save` → `verify --local-image` with no registry
//! running → `load` into a second registry → `verify`; `copy`, `tree`, `triangulate`,
//! `download`, `clean`.

use super::instance::Up;
use super::registry::{self, Registry};
use super::{cosign, key_pair};
use crate::harness::Sandbox;

#[test]
fn save_verify_local_load_into_another_registry_and_verify() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("up"));
    let first = Registry::start(&sb.join("registry1"));
    let layout = registry::build_layout(sb.path(), "air", &[]);
    registry::push(&layout, &first.image("air", "v1"), &[]);
    let digest = registry::layout_digest(&layout);
    let image = first.image("air", "v1");
    key_pair(&sb, "k");
    sb.write("predicate.json", r#"{"scan":"clean"}"#);
    cosign(&sb, Some(&up)).args(["sign", "--key", "k.key", "-y"]).arg(&image).succeeds();
    cosign(&sb, Some(&up))
        .args(["attest", "--key", "k.key", "--predicate", "predicate.json", "--type", "vuln", "-y"])
        .arg(&image)
        .succeeds();
    cosign(&sb, Some(&up)).args(["save", "--dir", "saved"]).arg(&image).succeeds();
    drop(first);

    // No registry is running now.
    let run = cosign(&sb, Some(&up))
        .args(["verify", "--key", "k.pub", "--local-image", "saved"])
        .succeeds();
    assert_eq!(
        run.stdout_json()[0]["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );
    cosign(&sb, Some(&up))
        .args(["verify-attestation", "--key", "k.pub", "--type", "vuln", "--local-image", "saved"])
        .succeeds();

    let second = Registry::start(&sb.join("registry2"));
    let target = second.image("mirror/air", "v1");
    cosign(&sb, Some(&up)).args(["load", "--dir", "saved"]).arg(&target).succeeds();
    cosign(&sb, Some(&up)).args(["verify", "--key", "k.pub"]).arg(&target).succeeds();
    cosign(&sb, Some(&up))
        .args(["verify-attestation", "--key", "k.pub", "--type", "vuln"])
        .arg(&target)
        .succeeds();

    // copy, tree, triangulate, download, clean.
    let copied = second.image("copy/air", "v2");
    cosign(&sb, Some(&up)).args(["copy"]).arg(&target).arg(&copied).succeeds();
    cosign(&sb, Some(&up)).args(["verify", "--key", "k.pub"]).arg(&copied).succeeds();
    let sig_tag = format!("{}.sig", digest.replace(':', "-"));
    cosign(&sb, None).arg("tree").arg(&copied).succeeds().stdout_has(&sig_tag).stdout_has(".att");
    cosign(&sb, None)
        .arg("triangulate")
        .arg(&copied)
        .succeeds()
        .stdout_has(&format!("{}/copy/air:{sig_tag}", second.host));
    let run = cosign(&sb, None).args(["download", "signature"]).arg(&copied).succeeds();
    let line: serde_json::Value =
        serde_json::from_str(run.stdout().lines().next().expect("a line")).expect("json");
    assert!(line["Base64Signature"].is_string() && line["Bundle"]["Payload"].is_object());
    cosign(&sb, None).args(["clean", "-f"]).arg(&copied).succeeds();
    cosign(&sb, Some(&up))
        .args(["verify", "--key", "k.pub"])
        .arg(&copied)
        .fails_with(1)
        .stderr_has("no signatures found");
}
