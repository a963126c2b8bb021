//! Log lookup against a real `sigbox up`: a signed artifact whose bundle was deleted is
//! found by digest and verified; a never-signed one fails; another identity's entry is not
//! accepted; and a log that rewrote its history behind the same URL is detected.

use super::up::sign;
use super::{checks, humbly, verdict, verdicts};
use crate::harness::Sandbox;
use crate::up::instance::Up;

fn policy(up: &Up, trust_config: &std::path::Path) -> String {
    format!(
        "version: 1\ntrusted_roots:\n  local: {{trust_config: \"{}\"}}\nsigners:\n  alice: {{identity: alice@example.com, issuer: \"{}\"}}\ndefault:\n  signers: [alice]\n  require: [tlog]\n",
        trust_config.display(),
        up.oidc_url
    )
}

#[test]
fn artifacts_without_bundles_are_found_in_the_log_by_digest() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("up"));
    sign(&sb, &up, "alice@example.com", "found.txt", "found.txt.sigstore.json");
    sign(&sb, &up, "mallory@example.com", "other.txt", "other.txt.sigstore.json");
    std::fs::remove_file(sb.join("found.txt.sigstore.json")).unwrap();
    std::fs::remove_file(sb.join("other.txt.sigstore.json")).unwrap();
    sb.write("never.txt", "never signed\n");
    // The policy keeps its own copy of the instance's trust: a later instance at the same
    // URLs must not be trusted just because it answers there.
    std::fs::copy(up.trust_config(), sb.join("trust.json")).unwrap();
    sb.write("policy.yaml", policy(&up, &sb.join("trust.json")));
    let digest = sigbox::crypto::digest(
        sigbox::crypto::HashAlgorithm::Sha256,
        &std::fs::read(sb.join("found.txt")).unwrap(),
    );
    let by_digest = format!("sha256:{}", digest.to_hex());
    let run = humbly(&sb)
        .args([
            "verify",
            "--json",
            "--policy",
            "policy.yaml",
            "found.txt",
            "never.txt",
            "other.txt",
        ])
        .arg(&by_digest)
        .fails_with(1);
    let all = verdicts(&run);
    let found = verdict(&all, "found.txt");
    assert_eq!(found["status"], "pass", "{found}");
    let source = found["signatures"][0]["source"].as_str().unwrap();
    assert!(source.starts_with(&format!("rekor:{}#", up.rekor_url)), "{found}");
    assert_eq!(verdict(&all, &by_digest)["status"], "pass", "{all:?}");
    let never = verdict(&all, "never.txt");
    assert!(checks(never).contains(&"lookup".to_string()), "{never}");
    assert!(never.to_string().contains("no signature for sha256:"), "{never}");
    let other = verdict(&all, "other.txt");
    assert!(checks(other).contains(&"signer".to_string()), "{other}");
    assert!(other.to_string().contains("mallory@example.com"), "{other}");

    // Rewrite history: same keys and URLs, the log's database replaced by a new one (and
    // its witness with it, or the log itself would refuse the shorter store).
    let ports = up.ports();
    up.stop();
    std::fs::remove_dir_all(sb.join("up/rekor/db")).unwrap();
    std::fs::remove_file(sb.join("up/rekor/db.head")).unwrap();
    let up = Up::start_on(&sb.join("up"), ports);
    sign(&sb, &up, "alice@example.com", "found.txt", "again.sigstore.json");
    std::fs::remove_file(sb.join("again.sigstore.json")).unwrap();
    let run = humbly(&sb)
        .args(["verify", "--json", "--policy", "policy.yaml", "found.txt"])
        .fails_with(1);
    let v = &verdicts(&run)[0];
    assert_eq!(v["status"], "fail", "{v}");
    assert!(checks(v).contains(&"log_consistency".to_string()), "{v}");
    // --no-lookup turns the search off: the verdict says why nothing was found.
    let run = humbly(&sb)
        .args(["verify", "--json", "--no-lookup", "--policy", "policy.yaml", "found.txt"])
        .fails_with(1);
    assert!(checks(&verdicts(&run)[0]).contains(&"bundle".to_string()));
}

#[test]
fn a_dsse_attestation_is_found_by_its_subject_digest_and_its_missing_payload_named() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("up"));
    sign(&sb, &up, "alice@example.com", "built.bin", "built.bin.sigstore.json");
    super::up::attest(
        &sb,
        &up,
        "alice@example.com",
        "built.bin",
        "https://ci.sigbox.test/runner",
        "built.bin.slsa.sigstore.json",
    );
    std::fs::remove_file(sb.join("built.bin.sigstore.json")).unwrap();
    std::fs::remove_file(sb.join("built.bin.slsa.sigstore.json")).unwrap();
    std::fs::copy(up.trust_config(), sb.join("trust.json")).unwrap();
    let policy = policy(&up, &sb.join("trust.json")).replace(
        "  require: [tlog]\n",
        "  require: [tlog]\n  attestations:\n    - predicate_type: https://slsa.dev/provenance/v1\n",
    );
    sb.write("policy.yaml", policy);
    let run = humbly(&sb)
        .args(["verify", "--json", "--policy", "policy.yaml", "built.bin"])
        .fails_with(1);
    let v = &verdicts(&run)[0];
    // The signature (hashedrekord) is found and verified; the attestation's dsse entry is
    // found by the statement's subject digest, and the verdict names why it cannot count:
    // this log keeps no copy of the payload, which the entry body does not hold.
    assert_eq!(v["signatures"][0]["identity"], "alice@example.com", "{v}");
    assert_eq!(checks(v)[0], "attestation", "{v}");
    let text = v.to_string();
    assert!(text.contains("a dsse entry: the log keeps no copy of its payload"), "{v}");
}
