//! Signing with `git commit -S` / `git tag -s` / a signed merge, judged by git, by
//! `gitsign verify` and by openssl; both Rekor modes.

use super::{armor_to_der, require_tool, split_commit, Repo, IDENTITY};
use crate::up::instance::Up;

#[test]
fn online_commit_tag_and_merge_verify_with_git_and_gitsign_while_the_log_runs() {
    let state = tempfile::tempdir().expect("temp dir");
    let up = Up::start(state.path());
    let repo = Repo::for_up(&up);
    let first = repo.commit("a.txt", "one\n", "first");
    repo.git(&["tag", "-s", "v1", "-m", "release one"]).succeeds();
    repo.git(&["checkout", "-q", "-b", "side"]).succeeds();
    repo.commit("b.txt", "side\n", "side work");
    repo.git(&["checkout", "-q", "main"]).succeeds();
    repo.commit("c.txt", "main\n", "main work");
    repo.git(&["merge", "-S", "--no-ff", "-q", "-m", "merge side", "side"]).succeeds();
    let merge = repo.rev("HEAD");
    assert_eq!(repo.cat("commit", &merge).matches("\nparent ").count(), 2, "a real merge");

    for rev in [first.as_str(), "HEAD~1", merge.as_str()] {
        repo.git(&["verify-commit", rev]).succeeds().stderr_has("Good signature");
        repo.verify(&up.oidc_url, rev).code(0).stderr_has("online mode");
    }
    repo.git(&["verify-tag", "v1"]).succeeds().stderr_has("Good signature");
    repo.gitsign(&["verify-tag", "--certificate-identity", IDENTITY])
        .args(["--certificate-oidc-issuer", &up.oidc_url, "v1"])
        .succeeds();
    let letters = repo.git(&["log", "--format=%G?", "--show-signature"]).succeeds().stdout();
    let letters: Vec<&str> = letters.lines().filter(|l| l.len() == 1).collect();
    assert_eq!(letters, ["G"; 4], "every commit shows a good signature: {letters:?}");
    assert!(repo
        .git(&["log", "--show-signature", "-1"])
        .succeeds()
        .stdout()
        .contains("Good signature"));
    // `git -c` reaches gitsign through the environment (README's offline line).
    repo.git(&[
        "-c",
        "gitsign.rekorMode=offline",
        "commit",
        "-S",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    ])
    .succeeds();
    repo.verify(&up.oidc_url, "HEAD").code(0).stderr_has("offline mode");
}

#[test]
fn offline_mode_commits_and_tags_verify_after_the_instance_is_stopped() {
    let state = tempfile::tempdir().expect("temp dir");
    let up = Up::start(state.path());
    let issuer = up.oidc_url.clone();
    let repo = Repo::for_up(&up);
    repo.git(&["config", "gitsign.rekorMode", "offline"]).succeeds();
    let log = repo.sb.join("gitsign.log");
    repo.git(&["config", "gitsign.logPath", log.to_str().expect("utf-8")]).succeeds();
    let commit = repo.commit("a.txt", "offline\n", "offline commit");
    repo.git(&["tag", "-s", "v2", "-m", "offline tag"]).succeeds();
    up.stop();

    repo.git(&["verify-commit", &commit]).succeeds().stderr_has("offline mode");
    repo.git(&["verify-tag", "v2"]).succeeds();
    repo.verify(&issuer, &commit).code(0).stderr_has("Validated Certificate claims: true");
    assert_eq!(repo.g(&commit), "G");
    let log = std::fs::read_to_string(&log).expect("gitsign.logPath written");
    assert!(log.contains(&format!("for object {commit}")), "{log}");
    assert!(log.contains(&format!("verified object {commit} (offline mode)")), "{log}");
    // The same history in online mode would need the log: the mode is in the signature.
    let (_, sig) = split_commit(&repo.cat("commit", &commit));
    assert!(!sig.is_empty());
}

#[test]
fn openssl_cms_accepts_both_modes_and_shows_three_signed_attributes() {
    require_tool("openssl", "openssl");
    let state = tempfile::tempdir().expect("temp dir");
    let up = Up::start(state.path());
    let repo = Repo::for_up(&up);
    let online = repo.commit("a.txt", "1\n", "online");
    repo.git(&["config", "gitsign.rekorMode", "offline"]).succeeds();
    let offline = repo.commit("a.txt", "2\n", "offline");
    repo.git(&[
        "-c",
        "gitsign.includeChain=true",
        "commit",
        "-S",
        "-q",
        "--allow-empty",
        "-m",
        "c",
    ])
    .succeeds();
    let chain = repo.rev("HEAD");
    repo.verify(&up.oidc_url, &chain).code(0);
    for (name, rev) in [("online", &online), ("offline", &offline), ("chain", &chain)] {
        let (payload, sig) = split_commit(&repo.cat("commit", rev));
        let der = repo.sb.write(&format!("{name}.der"), armor_to_der(&sig));
        let content = repo.sb.write(&format!("{name}.payload"), &payload);
        let out = std::process::Command::new("openssl")
            .args(["cms", "-verify", "-binary", "-inform", "DER", "-noverify", "-in"])
            .arg(&der)
            .arg("-content")
            .arg(&content)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl rejects the {name} signature: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, payload.as_bytes(), "openssl checked the payload itself");
        let tampered = repo.sb.write("tampered.payload", format!("{payload}x"));
        let bad = std::process::Command::new("openssl")
            .args(["cms", "-verify", "-binary", "-inform", "DER", "-noverify", "-in"])
            .arg(&der)
            .arg("-content")
            .arg(&tampered)
            .output()
            .expect("openssl");
        assert!(!bad.status.success(), "openssl accepted a tampered payload");
        let print = std::process::Command::new("openssl")
            .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
            .arg(&der)
            .output()
            .expect("openssl");
        let text = String::from_utf8_lossy(&print.stdout);
        for attribute in ["contentType", "signingTime", "messageDigest"] {
            assert!(
                text.contains(&format!("object: {attribute}")),
                "{name}: no {attribute} in\n{text}"
            );
        }
        let embedded = text.contains("1.3.6.1.4.1.57264.3.1");
        assert_eq!(embedded, name != "online", "{name}: log entry attribute present = {embedded}");
        let certificates = text.matches("d.certificate:").count();
        // With the chain: leaf, intermediate and root, as the CA returned them.
        assert_eq!(certificates, if name == "chain" { 3 } else { 1 }, "{name}: certificates");
    }
}

#[test]
fn git_status_protocol_sign_then_verify_and_badsig() {
    let state = tempfile::tempdir().expect("temp dir");
    let up = Up::start(state.path());
    let repo = Repo::for_up(&up);
    let payload = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
                   author A <a@b.c> 1700000000 +0000\ncommitter A <a@b.c> 1700000000 +0000\n\nm\n";
    let signed = repo.gitsign(&["--status-fd=2", "-bsau", "A <a@b.c>"]).stdin(payload).succeeds();
    let armored = signed.stdout();
    assert!(armored.starts_with("-----BEGIN SIGNED MESSAGE-----\n"), "{armored}");
    let status = signed.stderr();
    let begin = status.find("[GNUPG:] BEGIN_SIGNING").expect("BEGIN_SIGNING");
    let created = status.find("\n[GNUPG:] SIG_CREATED D ").expect("SIG_CREATED at a line start");
    assert!(begin < created);
    let sig = repo.sb.write("sig.asc", &armored);
    let sig = sig.to_str().expect("utf-8");
    repo.gitsign(&["--status-fd=1", "--verify", sig, "-"])
        .stdin(payload)
        .succeeds()
        .stdout_has("[GNUPG:] GOODSIG ")
        .stdout_has("[GNUPG:] TRUST_FULLY 0 shell");
    repo.gitsign(&["--status-fd=1", "--verify", sig, "-"])
        .stdin(payload.replace("\nm\n", "\nother\n"))
        .fails_with(1)
        .stdout_has("[GNUPG:] BADSIG ")
        .stderr_has("does not match this object");
    repo.gitsign(&["version"]).succeeds().stdout_has("gitsign (sigbox)");
}

#[test]
fn gitsign_show_prints_the_commit_and_its_signer() {
    let state = tempfile::tempdir().expect("temp dir");
    let up = Up::start(state.path());
    let repo = Repo::for_up(&up);
    repo.commit("a.txt", "x\n", "shown");
    let shown = repo.gitsign(&["show"]).succeeds().stdout_json();
    assert_eq!(shown["source"]["tree"], repo.rev("HEAD^{tree}"));
    assert_eq!(shown["source"]["committer"]["email"], IDENTITY);
    assert_eq!(shown["source"]["message"], "shown\n");
    let cert = shown["signer_info"][0]["certificate"].as_str().expect("certificate");
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
}

#[test]
fn sha256_repository_commits_verify_in_both_modes() {
    let state = tempfile::tempdir().expect("temp dir");
    let up = Up::start(state.path());
    let repo = Repo::for_up(&up);
    std::fs::remove_dir_all(&repo.dir).expect("fresh repo");
    repo.git(&[
        "init",
        "-q",
        "--object-format=sha256",
        "-b",
        "main",
        repo.dir.to_str().expect("utf-8"),
    ])
    .cwd(repo.sb.path())
    .succeeds();
    for (k, v) in [
        ("user.name", "Test User"),
        ("user.email", IDENTITY),
        ("gpg.format", "x509"),
        ("gpg.x509.program", repo.gitsign.to_str().expect("utf-8")),
    ] {
        repo.git(&["config", k, v]).succeeds();
    }
    let online = repo.commit("a.txt", "sha256\n", "online in a sha256 repo");
    assert_eq!(online.len(), 64);
    assert!(repo.cat("commit", &online).contains("\ngpgsig-sha256 "));
    repo.git(&["verify-commit", &online]).succeeds();
    repo.verify(&up.oidc_url, &online).code(0).stderr_has("online mode");
    repo.git(&["config", "gitsign.rekorMode", "offline"]).succeeds();
    let offline = repo.commit("a.txt", "sha256 2\n", "offline in a sha256 repo");
    repo.verify(&up.oidc_url, &offline).code(0).stderr_has("offline mode");
}
