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
}
