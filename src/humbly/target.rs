//! What a command-line target names: a file (with its bundles beside it), a `sha256:`
//! digest, every file under a directory, an OCI image (`oci://REF`, or a reference with an
//! explicit registry host such as `registry.example/app:1.0` or `host:5000/app@sha256:…`),
//! or the commits of a git revision range (`git:RANGE`, in the repository `--repo` names).

use std::path::{Path, PathBuf};

use super::{Error, Result};
use crate::crypto::{Digest, HashAlgorithm};

/// One thing to verify.
#[derive(Debug, Clone)]
pub enum Target {
    /// A file; `bundles` are the given or discovered bundle files.
    File {
        /// The path as shown and matched against rule globs (`/` separators).
        display: String,
        /// The path to read.
        path: PathBuf,
        /// Bundles to check (empty: look the digest up in the log).
        bundles: Vec<PathBuf>,
    },
    /// An artifact digest: only the log can say who signed it.
    Digest {
        /// As given.
        display: String,
        /// The digest.
        digest: Digest,
    },
    /// An OCI image: its signatures (and attestations) are read from the registry.
    Image {
        /// As given.
        display: String,
        /// The reference (without `oci://`).
        reference: crate::oci::Reference,
    },
    /// One commit of a `git:` range: its gitsign signature is checked.
    Commit {
        /// `git:<commit id>`.
        display: String,
        /// The repository.
        repo: PathBuf,
        /// The full commit ID.
        sha: String,
    },
    /// A target that cannot be checked: a form this build does not support yet
    /// (`check` = `unsupported`), or an input that does not exist (`io`). It gets an error
    /// verdict, and the rest of the batch goes on.
    Invalid {
        /// As given.
        display: String,
        /// `unsupported` or `io`.
        check: &'static str,
        /// Why, in words.
        reason: String,
    },
}

impl Target {
    /// The target as shown in verdicts.
    pub fn display(&self) -> &str {
        match self {
            Target::File { display, .. }
            | Target::Digest { display, .. }
            | Target::Image { display, .. }
            | Target::Commit { display, .. }
            | Target::Invalid { display, .. } => display,
        }
    }
}

/// Suffixes of the bundle files that sit beside an artifact, in the order they are tried.
pub const BUNDLE_SUFFIXES: [&str; 3] = [".sigstore.json", ".sigstore", ".bundle"];

/// Turns command-line inputs into targets. Directories are walked recursively (sorted),
/// skipping bundle files; `glob` filters their files (matched against the path below the
/// directory, or the file name when the glob has no `/`). `bundles` given explicitly apply
/// to the single file target.
///
/// `git:RANGE` becomes one target per commit of the range (oldest first) in `git_repo`;
/// `git:REV` (no `..`) is that one commit.
///
/// Missing inputs, bad references and bad ranges become [`Target::Invalid`] (an error
/// verdict).
///
/// Errors: [`Error::Target`] for an unreadable directory; [`Error::Unsupported`] when
/// `bundles` are given with several targets.
pub fn expand_targets(
    inputs: &[String],
    glob: Option<&regex::Regex>,
    glob_has_slash: bool,
    bundles: &[PathBuf],
    git_repo: &Path,
) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    for input in inputs {
        if let Some(range) = input.strip_prefix("git:") {
            match crate::git::repo::commits(git_repo, range) {
                Ok(shas) => out.extend(shas.into_iter().map(|sha| Target::Commit {
                    display: format!("git:{sha}"),
                    repo: git_repo.to_path_buf(),
                    sha,
                })),
                Err(e) => out.push(Target::Invalid {
                    display: input.clone(),
                    check: "io",
                    reason: format!("{input}: {}", crate::error_text::chain(&e)),
                }),
            }
            continue;
        }
        if let Some(image) = image_reference(input) {
            out.push(match crate::oci::Reference::parse(image) {
                Ok(reference) => Target::Image { display: input.clone(), reference },
                Err(e) => Target::Invalid {
                    display: input.clone(),
                    check: "io",
                    reason: format!("{input}: {e}"),
                },
            });
            continue;
        }
        let path = Path::new(input);
        if path.is_dir() {
            let mut files = std::collections::BTreeSet::new();
            walk(path, &mut files)
                .map_err(|source| Error::Target { target: input.clone(), source })?;
            for file in &files {
                if is_bundle(file) {
                    continue;
                }
                let relative = slashes(file.strip_prefix(path).unwrap_or(file));
                if let Some(glob) = glob {
                    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
                    let subject = if glob_has_slash { Some(relative.clone()) } else { name };
                    if !subject.is_some_and(|s| glob.is_match(&s)) {
                        continue;
                    }
                }
                out.push(Target::File {
                    display: display_path(file),
                    path: file.clone(),
                    bundles: beside_in(file, &files),
                });
            }
            continue;
        }
        if path.is_file() {
            let found = if bundles.is_empty() { beside(path) } else { bundles.to_vec() };
            out.push(Target::File {
                display: display_path(path),
                path: path.to_path_buf(),
                bundles: found,
            });
            continue;
        }
        if let Some(hex) = input.strip_prefix("sha256:") {
            let digest = crate::encoding::hex_decode(hex)
                .and_then(|b| Digest::from_bytes(HashAlgorithm::Sha256, b));
            out.push(match digest {
                Some(digest) => Target::Digest { display: input.clone(), digest },
                None => Target::Invalid {
                    display: input.clone(),
                    check: "io",
                    reason: format!("{input} is not sha256:<64 hex digits>"),
                },
            });
            continue;
        }
        out.push(Target::Invalid {
            display: input.clone(),
            check: "io",
            reason: format!(
                "{input}: no such file or directory (and not sha256:<hex>, an image \
                 reference or git:RANGE)"
            ),
        });
    }
    if !bundles.is_empty() && out.len() != 1 {
        return Err(Error::Unsupported("--bundle needs exactly one file target".into()));
    }
    Ok(out)
}

/// The bundles beside `file`: `FILE.sigstore.json`, `FILE.sigstore`, `FILE.bundle`, and
/// extra signatures or attestations named `FILE.<anything>.sigstore.json`.
pub fn beside(file: &Path) -> Vec<PathBuf> {
    let Some(name) = file.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = BUNDLE_SUFFIXES
        .iter()
        .map(|suffix| file.with_file_name(format!("{name}{suffix}")))
        .filter(|p| p.is_file())
        .collect();
    let dir = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let prefix = format!("{name}.");
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut extra: Vec<PathBuf> = entries
            .flatten()
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                let middle = n.strip_prefix(&prefix)?.strip_suffix(".sigstore.json")?;
                (!middle.is_empty()).then(|| file.with_file_name(&n))
            })
            .collect();
        extra.sort();
        found.extend(extra);
    }
    found
}

/// The image reference an input names, if it names one: `oci://REF`, or (when no such
/// file exists) a reference whose first component is a registry host (has a `.` or a `:`
/// port, or is `localhost`) — `app:1.0` alone stays a file name.
fn image_reference(input: &str) -> Option<&str> {
    if let Some(reference) = input.strip_prefix("oci://") {
        return Some(reference);
    }
    if Path::new(input).exists() || input.starts_with("sha256:") {
        return None;
    }
    let (host, rest) = input.split_once('/')?;
    let hostlike = host.contains('.') || host.contains(':') || host == "localhost";
    (hostlike && !rest.is_empty() && !host.starts_with('.')).then_some(input)
}

/// Every regular file under `dir`, bundles included (sorted by the set).
fn walk(dir: &Path, out: &mut std::collections::BTreeSet<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), out)?;
        } else if kind.is_file() {
            out.insert(entry.path());
        }
    }
    Ok(())
}

fn is_bundle(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    BUNDLE_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// [`beside`] answered from a directory listing already in hand (no directory read per
/// file: a batch of thousands would otherwise list its directory thousands of times).
fn beside_in(file: &Path, files: &std::collections::BTreeSet<PathBuf>) -> Vec<PathBuf> {
    let Some(name) = file.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = BUNDLE_SUFFIXES
        .iter()
        .map(|suffix| file.with_file_name(format!("{name}{suffix}")))
        .filter(|p| files.contains(p))
        .collect();
    let prefix = file.with_file_name(format!("{name}."));
    let Some(prefix_text) = prefix.to_str() else { return beside(file) };
    for candidate in files.range(prefix.clone()..) {
        let Some(rest) = candidate.to_str().and_then(|c| c.strip_prefix(prefix_text)) else {
            break;
        };
        if let Some(middle) = rest.strip_suffix(".sigstore.json") {
            if !middle.is_empty() && !middle.contains(std::path::MAIN_SEPARATOR) {
                found.push(candidate.clone());
            }
        }
    }
    found
}

fn slashes(path: &Path) -> String {
    path.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/")
}

/// The path with `/` separators and no leading `./`.
fn display_path(path: &Path) -> String {
    let text = slashes(path);
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_need_a_registry_host_or_oci_scheme() {
        assert_eq!(image_reference("oci://app:1"), Some("app:1"));
        assert_eq!(image_reference("ghcr.io/acme/app:1.2"), Some("ghcr.io/acme/app:1.2"));
        assert_eq!(
            image_reference("127.0.0.1:5000/app@sha256:00"),
            Some("127.0.0.1:5000/app@sha256:00")
        );
        assert_eq!(image_reference("localhost/app"), Some("localhost/app"));
        for not_image in ["app:1.0", "dist/app.tar.gz", "./x.d/y", "../a.b/c", "sha256:ab/c"] {
            assert_eq!(image_reference(not_image), None, "{not_image}");
        }
    }

    #[test]
    fn directory_walk_pairs_files_with_their_bundles() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(root.join("a.bin.x")).unwrap();
        for name in [
            "a.bin",
            "a.bin.sigstore.json",
            "a.bin.bundle",
            "a.bin.bob.sigstore.json",
            "a.bin.x/c.sigstore.json",
            "a.binary",
            "sub/b.txt",
            "sub/b.txt.sigstore",
        ] {
            std::fs::write(root.join(name), b"x").unwrap();
        }
        let input = root.to_string_lossy().into_owned();
        let targets = expand_targets(&[input], None, false, &[], Path::new(".")).unwrap();
        let found: Vec<(String, Vec<String>)> = targets
            .iter()
            .map(|t| match t {
                Target::File { path, bundles, .. } => (
                    path.strip_prefix(root).unwrap().to_string_lossy().into_owned(),
                    bundles
                        .iter()
                        .map(|b| b.file_name().unwrap().to_string_lossy().into_owned())
                        .collect(),
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    "a.bin".to_string(),
                    vec![
                        "a.bin.sigstore.json".to_string(),
                        "a.bin.bundle".to_string(),
                        "a.bin.bob.sigstore.json".to_string()
                    ]
                ),
                ("a.binary".to_string(), vec![]),
                ("sub/b.txt".to_string(), vec!["b.txt.sigstore".to_string()]),
            ]
        );
        // The one-file form finds the same bundles.
        let names: Vec<String> = beside(&root.join("a.bin"))
            .iter()
            .map(|b| b.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.bin.sigstore.json", "a.bin.bundle", "a.bin.bob.sigstore.json"]);
    }
}
