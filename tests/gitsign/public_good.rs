//! The real public-good gitsign commit (fixtures/gitsign/offline.commit) verifies with
//! `gitsign verify` and `git verify-commit` with no network; altered copies fail.

use super::Repo;

const COMMIT: &str = include_str!("../../fixtures/gitsign/offline.commit");

fn repo() -> Repo {
    let mut repo = Repo::new(None);
    // Any network use would fail: the embedded root and the embedded entry must suffice.
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"] {
        repo.env.push((var.into(), "http://127.0.0.1:9".into()));
    }
    repo
}

fn verify(repo: &Repo, id: &str) -> crate::harness::Run {
    repo.gitsign(&["verify", "--certificate-identity", "billy@chainguard.dev"])
        .args(["--certificate-oidc-issuer", "https://accounts.google.com", id])
        .run()
}

#[test]
fn public_good_offline_commit_verifies_with_gitsign_and_git_without_network() {
    let repo = repo();
    let id = repo.write_commit(COMMIT);
    verify(&repo, &id).code(0).stderr_has("tlog index: 22784639");
    repo.git(&["verify-commit", &id]).succeeds().stderr_has("billy@chainguard.dev");
    repo.gitsign(&["verify", "--certificate-identity", "someone@else.test"])
        .args(["--certificate-oidc-issuer", "https://accounts.google.com", &id])
        .fails_with(1)
        .stderr_has("identity");
}

#[test]
fn altered_copies_of_the_public_good_commit_fail() {
    let repo = repo();
    let cases = [
        COMMIT.replace("Mon Jun  5 12:11:17 EDT 2023", "Tue Jun  6 12:11:17 EDT 2023"),
        COMMIT.replace("author Billy Lynch", "author Someone Else"),
        COMMIT.replace("tree 045f", "tree 145f"),
    ];
    for text in cases {
        let id = repo.write_commit(&text);
        verify(&repo, &id).code(1).stderr_has("signed content does not match");
        repo.git(&["verify-commit", &id]).fails_with(1);
    }
    // A damaged signature (one base64 character of the CMS signature value changed).
    let damaged = COMMIT.replacen(
        "MvJRYH8YjGI6aKjuj2BIvKtXauKmmfnTw6ftFHKHd7IC",
        "MvJRYH8YjGI6aKjuj2BIvKtXauKmmfnTw6ftFHKHd7JC",
        1,
    );
    assert_ne!(damaged, COMMIT);
    let id = repo.write_commit(&damaged);
    verify(&repo, &id).code(1);
}
