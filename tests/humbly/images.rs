//! Image targets against a real `docker-registry` and a real `sigbox up`: an image signed
//! and attested with `cosign sign` / `cosign attest` passes its rule (selected by image
//! repository), an unsigned image and an image signed by another identity fail naming the
//! check, and a required attestation is found with its predicate constraint.

use super::{checks, humbly, verdict, verdicts};
use crate::harness::Sandbox;
use crate::images::registry::{self, Registry};
use crate::images::{cosign, IDENTITY};
use crate::up::instance::Up;

#[test]
fn images_signed_by_cosign_pass_and_unsigned_or_foreign_ones_fail() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("up"));
    let reg = Registry::start(&sb.join("registry"));
    let app = registry::push_image(sb.path(), &reg, "app", "one");
    let unsigned = registry::push_image(sb.path(), &reg, "unsigned", "two");
    let foreign = registry::push_image(sb.path(), &reg, "foreign", "three");
    let plain = registry::push_image(sb.path(), &reg, "plain", "four");

    cosign(&sb, Some(&up)).args(["sign", "-y"]).arg(&app).succeeds();
    sb.write("provenance.json", r#"{"builder":{"id":"https://ci.example/builder"}}"#);
    cosign(&sb, Some(&up))
        .args(["attest", "--predicate", "provenance.json", "--type", "slsaprovenance", "-y"])
        .arg(&app)
        .succeeds();
    // `plain` is signed but carries no attestation.
    cosign(&sb, Some(&up)).args(["sign", "-y"]).arg(&plain).succeeds();
    let token = up.token("mallory@evil.test");
    cosign(&sb, Some(&up))
        .args(["sign", "-y", "--identity-token", &token])
        .arg(reg.image("foreign", "v1"))
        .succeeds();

    let policy = format!(
        r#"version: 1
trusted_roots:
  local: {{trust_config: "{tc}"}}
signers:
  ci: {{identity: "{IDENTITY}", issuer: "{issuer}"}}
rules:
  - name: app-with-provenance
    match: {{image: "{host}/app"}}
    signers: [ci]
    attestations:
      - predicate_type: https://slsa.dev/provenance/v0.2
        constraints:
          - pointer: /builder/id
            equals: https://ci.example/builder
  - name: plain-with-provenance
    match: {{image: "{host}/plain"}}
    signers: [ci]
    attestations:
      - predicate_type: https://slsa.dev/provenance/v0.2
default:
  signers: [ci]
"#,
        tc = up.trust_config().display(),
        issuer = up.oidc_url,
        host = reg.host,
    );
    sb.write("policy.yaml", policy);
    let by_tag = reg.image("foreign", "v1");
    let oci_app = format!("oci://{app}");
    let run = humbly(&sb)
        .env("DOCKER_CONFIG", sb.join("docker-config"))
        .args(["verify", "--no-lookup", "--json", "--policy", "policy.yaml"])
        .args([oci_app.as_str(), unsigned.as_str(), by_tag.as_str(), plain.as_str()])
        .fails_with(1);
    let all = verdicts(&run);

    let ok = verdict(&all, &oci_app);
    assert_eq!(ok["status"], "pass", "{ok}");
    assert_eq!(ok["kind"], "image", "{ok}");
    assert_eq!(ok["rule"], "app-with-provenance", "{ok}");
    assert_eq!(ok["digest"], app.split('@').nth(1).unwrap(), "{ok}");
    assert_eq!(ok["signatures"][0]["identity"], IDENTITY, "{ok}");
    assert_eq!(ok["attestations"][0], "https://slsa.dev/provenance/v0.2", "{ok}");

    let none = verdict(&all, &unsigned);
    assert_eq!(none["status"], "fail", "{none}");
    assert_eq!(none["rule"], "default", "{none}");
    assert!(checks(none).contains(&"bundle".to_string()), "{none}");
    assert!(none.to_string().contains("no signatures stored"), "{none}");

    // A tag is resolved to its digest; the signature is mallory's, not the listed signer.
    let other = verdict(&all, &by_tag);
    assert_eq!(other["status"], "fail", "{other}");
    assert_eq!(other["digest"], foreign.split('@').nth(1).unwrap(), "{other}");
    assert!(checks(other).contains(&"signer".to_string()), "{other}");
    assert!(other.to_string().contains("mallory@evil.test"), "{other}");

    let missing = verdict(&all, &plain);
    assert_eq!(missing["status"], "fail", "{missing}");
    assert_eq!(checks(missing)[0], "attestation", "{missing}");

    // The signature of one image copied onto another is refused by the claims check.
    let sig_tag = |image: &str| {
        let (repo, digest) = image.split_once('@').expect("digest reference");
        format!("docker://{repo}:{}.sig", digest.replace(':', "-"))
    };
    registry::require("skopeo", "skopeo");
    let status = std::process::Command::new("skopeo")
        .args(["copy", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false"])
        .arg(sig_tag(&plain))
        .arg(sig_tag(&unsigned))
        .status()
        .expect("running skopeo");
    assert!(status.success(), "skopeo copy");
    let run = humbly(&sb)
        .env("DOCKER_CONFIG", sb.join("docker-config"))
        .args(["verify", "--no-lookup", "--json", "--policy", "policy.yaml", &unsigned])
        .fails_with(1);
    let moved = &verdicts(&run)[0];
    assert!(checks(moved).contains(&"claims".to_string()), "{moved}");
}
