//! Commits changed after signing, signatures moved between commits, wrong identities, an
//! untrusted CA and a missing online log entry: each fails, naming the reason.

use super::{split_commit, Repo, IDENTITY};
use crate::up::instance::Up;

/// A commit object with `from` replaced by `to` (which must occur).
fn altered(object: &str, from: &str, to: &str) -> String {
    assert!(object.contains(from), "{from:?} not in\n{object}");
    object.replacen(from, to, 1)
}

#[test]
fn altered_message_tree_author_and_copied_signature_fail_in_both_modes() {
    let state = tempfile::tempdir().expect("temp dir");
    let up = Up::start(state.path());
    let repo = Repo::for_up(&up);
    for mode in ["online", "offline"] {
        repo.git(&["config", "gitsign.rekorMode", mode]).succeeds();
        let signed = repo.commit("a.txt", &format!("{mode}\n"), &format!("signed {mode}"));
        let other = repo.commit("b.txt", &format!("{mode} b\n"), &format!("other {mode}"));
        let object = repo.cat("commit", &signed);
        let tree = repo.rev(&format!("{other}^{{tree}}"));
        let cases = [
            ("message", altered(&object, &format!("signed {mode}"), "evil message")),
            ("tree", altered(&object, &object[5..45], &tree)),
            ("author", altered(&object, "author Test User", "author Mallory")),
            ("copied signature", {
                let (_, sig) = split_commit(&object);
                let (other_payload, _) = split_commit(&repo.cat("commit", &other));
                let (headers, body) = other_payload.split_once("\n\n").expect("headers");
                let sig = sig.trim_end().replace('\n', "\n ");
                format!("{headers}\ngpgsig {sig}\n\n{body}")
            }),
        ];
        repo.verify(&up.oidc_url, &signed).code(0);
        for (what, text) in cases {
            let id = repo.write_commit(&text);
            assert_ne!(id, signed);
            repo.git(&["verify-commit", &id])
                .fails_with(1)
                .stderr_has("does not match this object");
            repo.verify(&up.oidc_url, &id).code(1).stderr_has("signed content does not match");
            assert_eq!(repo.g(&id), "B", "{mode}/{what}: git shows a bad signature");
        }
    }
}

#[test]
fn wrong_identity_and_issuer_are_named() {
    let state = tempfile::tempdir().expect("temp dir");
    let up = Up::start(state.path());
    let repo = Repo::for_up(&up);
    let id = repo.commit("a.txt", "a\n", "who");
    repo.gitsign(&["verify", "--certificate-identity", "someone@else.test"])
        .args(["--certificate-oidc-issuer", &up.oidc_url, &id])
        .fails_with(1)
        .stderr_has("identity");
    repo.gitsign(&["verify", "--certificate-identity", IDENTITY])
        .args(["--certificate-oidc-issuer", "https://accounts.google.com", &id])
        .fails_with(1)
        .stderr_has("issuer");
    repo.gitsign(&["verify", "--certificate-identity-regexp", ".*@sigbox[.]local"])
        .args(["--certificate-oidc-issuer-regexp", "http://127[.]0[.]0[.]1:.*", &id])
        .succeeds();
    repo.gitsign(&["verify", &id]).fails_with(2).stderr_has("--certificate-identity");
    // gitsign.matchCommitter: the committer must be the certificate identity.
    repo.git(&["config", "user.email", "other@sigbox.local"]).succeeds();
    let other = repo.commit("b.txt", "b\n", "committed as someone else");
    repo.git(&["verify-commit", &other]).succeeds();
    repo.git(&["config", "gitsign.matchCommitter", "true"]).succeeds();
    repo.git(&["verify-commit", &id]).succeeds();
    repo.git(&["verify-commit", &other]).fails_with(1).stderr_has("identity");
    assert_eq!(repo.g(&other), "B");
}

#[test]
fn untrusted_ca_fails_naming_the_chain() {
    let state = tempfile::tempdir().expect("temp dir");
    let up = Up::start(state.path());
    let other_state = tempfile::tempdir().expect("temp dir");
    let other = Up::start(other_state.path());
    let repo = Repo::for_up(&up);
    repo.git(&["config", "gitsign.rekorMode", "offline"]).succeeds();
    let id = repo.commit("a.txt", "a\n", "by the first CA");
    // The first instance's log, but only the second instance's CA.
    let read = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).expect("trust config")).expect("json")
    };
    let mut mixed = read(&up.trust_config());
    mixed["trustedRoot"]["certificateAuthorities"] =
        read(&other.trust_config())["trustedRoot"]["certificateAuthorities"].clone();
    let mixed_path = repo.sb.write("mixed.json", serde_json::to_vec(&mixed).expect("json"));
    let mut untrusting = Repo::new(Some(&mixed_path));
    untrusting.dir = repo.dir.clone();
    untrusting.verify(&up.oidc_url, &id).code(1).stderr_has("chain to a trusted CA");
    untrusting.git(&["verify-commit", &id]).fails_with(1);
    repo.verify(&up.oidc_url, &id).code(0);
    // The same through --trusted-root, as cosign's verifiers take it.
    repo.gitsign(&["verify", "--trusted-root", mixed_path.to_str().expect("utf-8")])
        .args(["--certificate-identity", IDENTITY, "--certificate-oidc-issuer", &up.oidc_url, &id])
        .fails_with(1)
        .stderr_has("chain to a trusted CA");
}

#[test]
fn online_commit_whose_log_entry_is_missing_fails() {
    let sb = tempfile::tempdir().expect("temp dir");
    let state = sb.path().join("state");
    let snapshot = sb.path().join("snapshot");
    let up = Up::start(&state);
    let issuer = up.oidc_url.clone();
    let repo = Repo::for_up(&up);
    repo.commit("a.txt", "before\n", "logged before the snapshot");
    let ports = up.ports();
    up.stop();
    copy_dir(&state, &snapshot);

    let up = Up::start_on(&state, ports);
    let id = repo.commit("a.txt", "after\n", "logged after the snapshot");
    repo.verify(&issuer, &id).code(0);
    up.stop();
    // The same instance (keys, trust config, ports) without the entry.
    std::fs::remove_dir_all(&state).expect("removing state");
    copy_dir(&snapshot, &state);
    let _up = Up::start_on(&state, ports);
    repo.verify(&issuer, "HEAD~1").code(0);
    repo.verify(&issuer, &id).code(1).stderr_has("no transparency log entry");
    repo.git(&["verify-commit", &id]).fails_with(1);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
