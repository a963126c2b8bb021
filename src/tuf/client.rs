//! The TUF client workflow (TUF 1.0 §5.3–5.7) over the shared HTTP client, with a cache
//! per mirror: `<cache>/tuf/<sha256(mirror)[..16]>/` holds `mirror.txt`, the trusted
//! `root.json`, the last `timestamp.json`, `snapshot.json`, `targets.json` and
//! `targets/<name>`. Every file is written only after it passed its checks, and read back
//! through the same checks (a cached timestamp still guards against rollback).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Error, Result, SIGNING_CONFIG_TARGET, TRUSTED_ROOT_TARGET};
use crate::trust::tuf::{
    self, TrustedSet, MAX_ROOT_BYTES, MAX_ROOT_ROTATIONS, MAX_SNAPSHOT_BYTES, MAX_TARGETS_BYTES,
    MAX_TIMESTAMP_BYTES,
};

/// A mirror's cache directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    /// The mirror's base URL (no trailing slash).
    pub mirror: String,
    /// `<base>/tuf/<hash>`.
    pub dir: PathBuf,
}

/// What a refresh produced.
#[derive(Debug, Clone)]
pub struct Refreshed {
    /// The root version now trusted.
    pub root_version: u64,
    /// The timestamp version now trusted.
    pub timestamp_version: u64,
    /// The verified `trusted_root.json`.
    pub trusted_root: PathBuf,
    /// The verified signing config, when the repository has one.
    pub signing_config: Option<PathBuf>,
}

/// The user's cache base: `$XDG_CACHE_HOME/sigbox`, else `$HOME/.cache/sigbox`.
pub fn default_base() -> Option<PathBuf> {
    let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    nonempty("XDG_CACHE_HOME")
        .map(|d| d.join("sigbox"))
        .or_else(|| nonempty("HOME").map(|h| h.join(".cache").join("sigbox")))
}

/// The mirror URL in its one spelling: no trailing slash.
///
/// Errors: [`Error::MirrorUrl`] for anything but http(s).
pub fn normalise_mirror(url: &str) -> Result<String> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
        return Err(Error::MirrorUrl(url.to_string()));
    }
    Ok(url.to_string())
}

impl Cache {
    /// The cache of `mirror` under `base`.
    ///
    /// Errors: [`Error::MirrorUrl`].
    pub fn new(base: &Path, mirror: &str) -> Result<Cache> {
        let mirror = normalise_mirror(mirror)?;
        let hash = crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, mirror.as_bytes());
        let dir = base.join("tuf").join(&hash.to_hex()[..16]);
        Ok(Cache { mirror, dir })
    }

    /// The mirror `trust init` last made the default, if any.
    pub fn default_in(base: &Path) -> Option<Cache> {
        let text = std::fs::read_to_string(base.join("tuf").join("default")).ok()?;
        Cache::new(base, text.trim()).ok()
    }

    /// Makes this mirror the default (what personas use with no instance flags).
    ///
    /// Errors: [`Error::Io`].
    pub fn make_default(&self, base: &Path) -> Result<()> {
        write_atomic(&base.join("tuf").join("default"), self.mirror.as_bytes(), "default mirror")
    }

    /// Whether `trust init` (or a refresh) has stored a trusted root here.
    pub fn is_initialised(&self) -> bool {
        self.dir.join("root.json").is_file()
    }

    /// The verified trusted root target, once a refresh has stored it.
    pub fn trusted_root(&self) -> PathBuf {
        self.dir.join("targets").join(TRUSTED_ROOT_TARGET)
    }

    /// The verified signing config target, once a refresh has stored it.
    pub fn signing_config(&self) -> PathBuf {
        self.dir.join("targets").join(SIGNING_CONFIG_TARGET)
    }

    /// Starts trusting `root` (a root.json the operator got out of band) for this mirror,
    /// replacing what the cache held.
    ///
    /// Errors: [`Error::Check`] when `root` is not signed by a threshold of its own keys,
    /// [`Error::Io`].
    pub fn init(&self, root: &[u8], now: i64) -> Result<()> {
        TrustedSet::new(root, now).map_err(|e| self.check("root.json", e))?;
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir).map_err(|source| Error::Io {
                what: "old TUF cache",
                path: self.dir.clone(),
                source,
            })?;
        }
        write_atomic(&self.dir.join("mirror.txt"), self.mirror.as_bytes(), "TUF cache")?;
        write_atomic(&self.dir.join("root.json"), root, "TUF cache")
    }

    /// Like [`Cache::init`] but only when the cache is empty (public good starts from the
    /// embedded root on first use).
    ///
    /// Errors: as [`Cache::init`].
    pub fn init_if_empty(&self, root: &[u8], now: i64) -> Result<()> {
        if self.is_initialised() {
            return Ok(());
        }
        self.init(root, now)
    }

    /// Runs the TUF client workflow against the mirror at time `now` and stores the
    /// verified targets.
    ///
    /// Errors: [`Error::NotInitialised`], [`Error::Check`] naming the failed TUF check,
    /// transport and status errors.
    pub fn refresh(&self, http: &crate::http::BlockingClient, now: i64) -> Result<Refreshed> {
        let fetch = Fetcher { http, mirror: &self.mirror };
        let root_path = self.dir.join("root.json");
        let root = std::fs::read(&root_path).map_err(|_| Error::NotInitialised {
            mirror: self.mirror.clone(),
            cache: self.dir.clone(),
        })?;
        let mut set = TrustedSet::new(&root, now).map_err(|e| self.check("cached root.json", e))?;

        // §5.3: walk the root versions.
        let start = set.root().signed.version;
        for version in start + 1..=start + MAX_ROOT_ROTATIONS {
            let name = format!("{version}.root.json");
            let Some(bytes) = fetch.get_optional(&name, MAX_ROOT_BYTES)? else { break };
            set.update_root(&bytes).map_err(|e| self.check(&name, e))?;
            write_atomic(&root_path, &bytes, "TUF cache")?;
        }
        set.check_root_fresh().map_err(|e| self.check("root.json", e))?;
        let consistent = set.root().signed.consistent_snapshot;

        // §5.4: timestamp; a cached one (even expired) guards against rollback.
        if let Ok(local) = std::fs::read(self.dir.join("timestamp.json")) {
            let _ = set.update_timestamp_local(&local);
        }
        let bytes = fetch.get("timestamp.json", MAX_TIMESTAMP_BYTES)?;
        set.update_timestamp(&bytes).map_err(|e| self.check("timestamp.json", e))?;
        write_atomic(&self.dir.join("timestamp.json"), &bytes, "TUF cache")?;
        let timestamp_version = set.timestamp().map_or(0, |t| t.signed.version);

        // §5.5: snapshot, from the cache when it is still the one listed.
        let local = std::fs::read(self.dir.join("snapshot.json")).ok();
        let local_ok = local.is_some_and(|b| set.update_snapshot(&b, true).is_ok());
        if !local_ok {
            let listed = set
                .timestamp()
                .and_then(|t| t.signed.meta.get("snapshot.json").cloned())
                .ok_or_else(|| self.check("timestamp.json", no_listing("snapshot.json")))?;
            let name = versioned("snapshot.json", listed.version, consistent);
            let bytes = fetch.get(&name, listed.length.unwrap_or(MAX_SNAPSHOT_BYTES))?;
            set.update_snapshot(&bytes, false).map_err(|e| self.check(&name, e))?;
            write_atomic(&self.dir.join("snapshot.json"), &bytes, "TUF cache")?;
        }

        // §5.6: targets.
        let local = std::fs::read(self.dir.join("targets.json")).ok();
        let local_ok = local.is_some_and(|b| set.update_targets(&b).is_ok());
        if !local_ok {
            let listed = set.targets_meta().map_err(|e| self.check("snapshot.json", e))?.clone();
            let name = versioned("targets.json", listed.version, consistent);
            let bytes = fetch.get(&name, listed.length.unwrap_or(MAX_TARGETS_BYTES))?;
            set.update_targets(&bytes).map_err(|e| self.check(&name, e))?;
            write_atomic(&self.dir.join("targets.json"), &bytes, "TUF cache")?;
        }

        // §5.7: the two Sigstore targets.
        let trusted_root = self.target(&fetch, &set, TRUSTED_ROOT_TARGET, consistent)?;
        let signing_config = match set.target(SIGNING_CONFIG_TARGET) {
            Ok(_) => Some(self.target(&fetch, &set, SIGNING_CONFIG_TARGET, consistent)?),
            Err(_) => None,
        };
        Ok(Refreshed {
            root_version: set.root().signed.version,
            timestamp_version,
            trusted_root,
            signing_config,
        })
    }

    fn target(
        &self,
        fetch: &Fetcher<'_>,
        set: &TrustedSet,
        name: &str,
        consistent: bool,
    ) -> Result<PathBuf> {
        let path = self.dir.join("targets").join(name);
        if let Ok(local) = std::fs::read(&path) {
            if set.check_target(name, &local).is_ok() {
                return Ok(path);
            }
        }
        let target = set.target(name).map_err(|e| self.check("targets.json", e))?;
        let remote = match (consistent, target.hashes.get("sha256")) {
            (true, Some(hash)) => format!("targets/{hash}.{name}"),
            _ => format!("targets/{name}"),
        };
        let bytes = fetch.get(&remote, target.length)?;
        set.check_target(name, &bytes).map_err(|e| self.check(&remote, e))?;
        write_atomic(&path, &bytes, "TUF cache")?;
        Ok(path)
    }

    fn check(&self, file: &str, source: tuf::Error) -> Error {
        Error::Check { file: file.to_string(), mirror: self.mirror.clone(), source }
    }
}

fn no_listing(name: &str) -> tuf::Error {
    tuf::Error::NotListed { name: name.into(), listed_in: "timestamp" }
}

fn versioned(name: &str, version: u64, consistent: bool) -> String {
    if consistent {
        format!("{version}.{name}")
    } else {
        name.to_string()
    }
}

/// A blocking client for TUF mirrors.
///
/// Errors: [`Error::Http`].
pub fn http_client() -> Result<crate::http::BlockingClient> {
    Ok(crate::http::blocking_client(Duration::from_secs(30))?)
}

struct Fetcher<'a> {
    http: &'a crate::http::BlockingClient,
    mirror: &'a str,
}

impl Fetcher<'_> {
    /// GETs `name` under the mirror, reading at most `limit` bytes (endless data).
    fn get(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        let url = format!("{}/{name}", self.mirror);
        self.get_optional(name, limit)?.ok_or(Error::Status { url, status: 404 })
    }

    /// As [`Fetcher::get`], `None` for 404 / 403 (a root version that does not exist yet:
    /// object stores answer 403 for a missing key).
    fn get_optional(&self, name: &str, limit: u64) -> Result<Option<Vec<u8>>> {
        let url = format!("{}/{name}", self.mirror);
        let response = self
            .http
            .get(&url)
            .send()
            .map_err(|source| Error::Transport { url: url.clone(), source })?;
        let answer = crate::http::Answer::read(response, &url, limit)?;
        match answer.status {
            404 | 403 => Ok(None),
            s if (200..300).contains(&s) => Ok(Some(answer.body)),
            status => Err(Error::Status { url, status }),
        }
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, creating directories.
///
/// Errors: [`Error::Io`].
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], what: &'static str) -> Result<()> {
    let io = |source| Error::Io { what, path: path.to_path_buf(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".tmp-{}", std::process::id()));
    let temp = PathBuf::from(temp);
    std::fs::write(&temp, bytes).map_err(io)?;
    std::fs::rename(&temp, path).map_err(io)
}
