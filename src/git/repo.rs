//! Reading a local repository with the `git` program: the commits of a revision range and
//! raw objects. Used by `humbly verify git:RANGE`; git itself resolves revisions, so every
//! syntax git accepts (`HEAD~10..HEAD`, `main..feature`, tags) works the same here.

use std::path::Path;
use std::process::Command;

use super::object::Kind;

/// Why the repository could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// `git` could not be started.
    #[error("running git in {repo} (is git installed? Debian package `git`)")]
    Spawn {
        /// The repository.
        repo: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// git refused: bad revision, not a repository, missing object.
    #[error("git {command} in {repo}: {stderr}")]
    Git {
        /// The git command.
        command: String,
        /// The repository.
        repo: String,
        /// git's message.
        stderr: String,
    },
    /// The revision text could be taken for an option.
    #[error("{0:?} is not a revision or range")]
    BadRevision(String),
}

fn git(repo: &Path, args: &[&str]) -> Result<Vec<u8>, RepoError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .map_err(|source| RepoError::Spawn { repo: repo.display().to_string(), source })?;
    if !out.status.success() {
        return Err(RepoError::Git {
            command: args.join(" "),
            repo: repo.display().to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}

/// The full IDs of the commits `range` names, oldest first: `A..B` (and any range git's
/// rev-list takes) lists the range; a single revision is that one commit.
///
/// Errors: [`RepoError`] naming git's complaint (an empty range is not an error).
pub fn commits(repo: &Path, range: &str) -> Result<Vec<String>, RepoError> {
    if range.is_empty() || range.starts_with('-') {
        return Err(RepoError::BadRevision(range.to_string()));
    }
    let out = if range.contains("..") {
        git(repo, &["rev-list", "--reverse", range, "--"])?
    } else {
        let rev = format!("{range}^{{commit}}");
        git(repo, &["rev-parse", "--verify", "--end-of-options", &rev])?
    };
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// The raw object `id` of `kind` (`git cat-file <kind> <id>`).
///
/// Errors: [`RepoError`].
pub fn cat_file(repo: &Path, kind: Kind, id: &str) -> Result<Vec<u8>, RepoError> {
    if id.starts_with('-') {
        return Err(RepoError::BadRevision(id.to_string()));
    }
    git(repo, &["cat-file", kind.name(), id])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_like_revisions_are_refused_before_git_runs() {
        let err = commits(Path::new("."), "--all").unwrap_err();
        assert!(matches!(err, RepoError::BadRevision(_)), "{err}");
        assert!(cat_file(Path::new("."), Kind::Commit, "-p").is_err());
    }
}
