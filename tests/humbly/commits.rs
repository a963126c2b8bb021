//! `git:RANGE` targets: commits signed by the gitsign persona (online and offline Rekor
//! modes) against a real `sigbox up`, in a real git repository, each a target checked by
//! the gitsign verifier with the policy's signer rules; an unsigned commit in the range
//! fails naming it, and a policy listing another identity rejects the signed ones.

use super::{checks, humbly, verdict, verdicts};
use crate::gitsign::{Repo, IDENTITY};
use crate::up::instance::Up;

#[test]
fn a_range_of_gitsign_commits_passes_and_an_unsigned_one_fails_by_name() {
    let mut repo = Repo::new(None);
    let up = Up::start(&repo.sb.join("up"));
    repo.trust = Some(up.trust_config());
    let base = repo.commit("a.txt", "base\n", "base (online mode)");
    let online = repo.commit("b.txt", "online\n", "online mode");
    repo.git(&["config", "gitsign.rekorMode", "offline"]).succeeds();
    let offline = repo.commit("c.txt", "offline\n", "offline mode");
    std::fs::write(repo.dir.join("d.txt"), "unsigned\n").expect("write");
    repo.git(&["add", "d.txt"]).succeeds();
    repo.git(&["commit", "-q", "--no-gpg-sign", "-m", "unsigned"]).succeeds();
    let unsigned = repo.rev("HEAD");
    let last = repo.commit("e.txt", "last\n", "signed again");

    let sb = &repo.sb;
    let write_policy = |name: &str, identity: &str| {
        sb.write(
            name,
            format!(
                r#"version: 1
trusted_roots:
  local: {{trust_config: "{tc}"}}
signers:
  dev: {{identity: "{identity}", issuer: "{issuer}"}}
rules:
  - name: commits
    match: {{glob: "git:*"}}
    signers: [dev]
"#,
                tc = up.trust_config().display(),
                issuer = up.oidc_url,
            ),
        )
    };
    write_policy("policy.yaml", IDENTITY);
    let repo_dir = repo.dir.to_str().expect("utf-8 path");
    let range = format!("git:{base}..{offline}");
    let run = humbly(sb)
        .args(["verify", "--json", "--policy", "policy.yaml", "--repo", repo_dir, &range])
        .succeeds();
    let all = verdicts(&run);
    assert_eq!(all.len(), 2, "base..offline is two commits: {all:?}");
    for (sha, mode) in [(&online, "online"), (&offline, "offline")] {
        let v = verdict(&all, &format!("git:{sha}"));
        assert_eq!(v["status"], "pass", "{v}");
        assert_eq!(v["kind"], "commit", "{v}");
        assert_eq!(v["rule"], "commits", "{v}");
        assert_eq!(v["signatures"][0]["identity"], IDENTITY, "{v}");
        assert_eq!(v["signatures"][0]["root"], "local", "{v}");
        assert!(v["signatures"][0]["source"].as_str().unwrap().contains(mode), "{v}");
    }

    // The whole history: the unsigned commit fails by name, the others pass.
    let run = humbly(sb)
        .args(["verify", "--json", "--policy", "policy.yaml", "--repo", repo_dir])
        .arg(format!("git:{base}~0"))
        .arg(format!("git:{base}..{last}"))
        .fails_with(1);
    let all = verdicts(&run);
    assert_eq!(all.len(), 5, "{all:?}");
    let bad = verdict(&all, &format!("git:{unsigned}"));
    assert_eq!(bad["status"], "fail", "{bad}");
    assert_eq!(checks(bad), ["signature"], "{bad}");
    assert!(bad.to_string().contains(&format!("commit {unsigned} is not signed")), "{bad}");
    for sha in [&base, &online, &offline, &last] {
        assert_eq!(verdict(&all, &format!("git:{sha}"))["status"], "pass", "{all:?}");
    }

    // Another identity in the policy: every signed commit is rejected by the signer rule.
    write_policy("other.yaml", "someone-else@example.com");
    let run = humbly(sb)
        .args(["verify", "--json", "--policy", "other.yaml", "--repo", repo_dir])
        .arg(format!("git:{offline}"))
        .fails_with(1);
    let other = &verdicts(&run)[0];
    assert!(checks(other).contains(&"signer".to_string()), "{other}");
    assert!(other.to_string().contains(IDENTITY), "{other}");

    // Online mode needs the log: with lookups off it is an explicit failure, not a pass.
    let run = humbly(sb)
        .args(["verify", "--no-lookup", "--json", "--policy", "policy.yaml", "--repo", repo_dir])
        .arg(format!("git:{online}"))
        .fails_with(1);
    let off = &verdicts(&run)[0];
    assert!(checks(off).contains(&"lookup".to_string()), "{off}");
}
