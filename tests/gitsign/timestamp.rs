//! gitsign with a timestamp authority: `sigbox up` lists its TSA, so every commit's CMS
//! carries an RFC 3161 token (id-aa-timeStampToken) over the signature, in both Rekor
//! modes, and `gitsign verify` checks it against the trusted root.

use super::{armor_to_der, require_tool, split_commit, Repo};
use crate::up::instance::Up;

#[test]
fn commits_carry_a_timestamp_token_that_verification_checks() {
    require_tool("openssl", "openssl");
    let state = tempfile::tempdir().expect("temp dir");
    let up = Up::start(state.path());
    let repo = Repo::for_up(&up);
    let online = repo.commit("a.txt", "1\n", "online");
    repo.git(&["config", "gitsign.rekorMode", "offline"]).succeeds();
    let offline = repo.commit("a.txt", "2\n", "offline");
    // gitsign's own knob names the TSA explicitly too.
    repo.git(&["config", "gitsign.timestampServerURL", &up.tsa_url]).succeeds();
    let knob = repo.commit("a.txt", "3\n", "knob");
    for (name, rev) in [("online", &online), ("offline", &offline), ("knob", &knob)] {
        repo.verify(&up.oidc_url, rev).code(0);
        let (_, sig) = split_commit(&repo.cat("commit", rev));
        let der = repo.sb.write(&format!("{name}.der"), armor_to_der(&sig));
        let print = std::process::Command::new("openssl")
            .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
            .arg(&der)
            .output()
            .expect("openssl");
        let text = String::from_utf8_lossy(&print.stdout);
        assert!(
            text.contains("id-smime-aa-timeStampToken")
                || text.contains("1.2.840.113549.1.9.16.2.14"),
            "{name}: no timestamp token attribute in\n{text}"
        );
    }
    // With the TSA distrusted (its validFor starts later), the token fails verification.
    let mut late: serde_json::Value =
        serde_json::from_slice(&std::fs::read(up.trust_config()).expect("trust config"))
            .expect("json");
    late["trustedRoot"]["timestampAuthorities"][0]["validFor"] =
        serde_json::json!({"start": "2099-01-01T00:00:00Z"});
    let late_path = repo.sb.write("late.json", late.to_string());
    let mut distrusting = Repo::new(Some(&late_path));
    distrusting.dir = repo.dir.clone();
    distrusting.verify(&up.oidc_url, &offline).code(1);
    // gitsign.timestampCertChain replaces the root's TSAs by the chain given: the TSA's
    // own chain (its certchain endpoint) makes the token trusted again; a CA chain does not.
    let chain_url = up.tsa_url.replace("/api/v1/timestamp", "/api/v1/timestamp/certchain");
    let chain = sigbox::http::blocking_builder()
        .build()
        .expect("client")
        .get(&chain_url)
        .send()
        .expect("certchain")
        .text()
        .expect("PEM");
    let chain_path = repo.sb.write("tsa-chain.pem", chain);
    distrusting.env.push(("GITSIGN_TIMESTAMP_CERT_CHAIN".into(), chain_path.display().to_string()));
    distrusting.verify(&up.oidc_url, &offline).code(0);
    let ca_chain = repo.sb.write(
        "ca-chain.pem",
        std::fs::read(state.path().join("fulcio/ca-chain.pem")).expect("CA chain"),
    );
    distrusting.env.pop();
    distrusting.env.push(("GITSIGN_TIMESTAMP_CERT_CHAIN".into(), ca_chain.display().to_string()));
    distrusting.verify(&up.oidc_url, &offline).code(1);
}

/// `gitsign.rekorVersion 2` (offline mode): the embedded entry is a Rekor v2 hashedrekord
/// 0.0.2 with no SET, timed only by the TSA's token; git and `gitsign verify` accept the
/// commit with the instance stopped, and online mode with version 2 is refused by name.
#[test]
fn rekor_version_2_commits_embed_a_v2_entry_timed_by_the_tsa() {
    let state = tempfile::tempdir().expect("temp dir");
    let up = Up::start(state.path());
    let repo = Repo::for_up(&up);
    repo.git(&["config", "gitsign.rekorVersion", "2"]).succeeds();
    // Online mode cannot find a v2 entry again (no search): refused, naming the knob.
    std::fs::write(repo.dir.join("b.txt"), "x\n").expect("write");
    repo.git(&["add", "b.txt"]).succeeds();
    let refused = repo.git(&["commit", "-S", "-q", "-m", "online v2"]).run();
    assert!(!refused.output.status.success(), "an online-mode v2 commit was signed");
    repo.git(&["config", "gitsign.rekorMode", "offline"]).succeeds();
    let rev = repo.commit("b.txt", "y\n", "offline v2");
    let issuer = up.oidc_url.clone();
    up.stop();
    // Verified with the instance gone: the entry and its time travel in the signature.
    repo.verify(&issuer, &rev).code(0);
    repo.git(&["verify-commit", &rev]).succeeds();
    // The embedded entry is a v2 one: no SET, so the TSA's token is its only time.
    let (_, sig) = split_commit(&repo.cat("commit", &rev));
    let parsed =
        sigbox::git::verify::Signature::from_armored(sig.as_bytes()).expect("a gitsign signature");
    let entry = parsed.embedded_entry().expect("readable").expect("an embedded entry");
    assert_eq!(entry.kind_version.version, "0.0.2");
    assert!(entry.inclusion_promise.is_none(), "a v2 entry has no SET");
}
