//! The client's trusted metadata set: each update checks a new file against what is
//! already trusted, in the order of TUF §5.3 (root), §5.4 (timestamp), §5.5 (snapshot),
//! §5.6 (targets) and §5.7 (target files). Time is a parameter.

use super::{Error, MetaFile, MetaList, Result, Root, Signed, TargetFile, Targets};

/// Root, timestamp, snapshot and targets trusted so far, checked at one instant.
#[derive(Debug, Clone)]
pub struct TrustedSet {
    root: Signed<Root>,
    timestamp: Option<Signed<MetaList>>,
    snapshot: Option<Signed<MetaList>>,
    targets: Option<Signed<Targets>>,
    now: i64,
}

impl TrustedSet {
    /// Starts from a root the caller already trusts (embedded, or given by the operator at
    /// `trust init`): it must be signed by a threshold of its own root keys (§5.2). It may
    /// be expired: a newer root is looked for before expiry is checked.
    ///
    /// Errors: parse errors, [`Error::Threshold`].
    pub fn new(root_bytes: &[u8], now: i64) -> Result<Self> {
        let root = Signed::<Root>::parse("root", root_bytes)?;
        root.verify_by("root", &root.signed)?;
        Ok(TrustedSet { root, timestamp: None, snapshot: None, targets: None, now })
    }

    /// Moves the clock the expiry checks use.
    pub fn set_time(&mut self, now: i64) {
        self.now = now;
    }

    /// The trusted root.
    pub fn root(&self) -> &Signed<Root> {
        &self.root
    }

    /// The trusted timestamp, if any.
    pub fn timestamp(&self) -> Option<&Signed<MetaList>> {
        self.timestamp.as_ref()
    }

    /// The trusted snapshot, if any.
    pub fn snapshot(&self) -> Option<&Signed<MetaList>> {
        self.snapshot.as_ref()
    }

    /// The trusted targets, if any.
    pub fn targets(&self) -> Option<&Signed<Targets>> {
        self.targets.as_ref()
    }

    /// §5.3.4–5.3.5: `bytes` must be root v(N+1) signed by a threshold of the current
    /// root's keys and of its own.
    ///
    /// Errors: [`Error::Threshold`], [`Error::RootVersion`], parse errors.
    pub fn update_root(&mut self, bytes: &[u8]) -> Result<()> {
        if self.timestamp.is_some() {
            return Err(Error::Order { role: "root", needs: "no timestamp" });
        }
        let new = Signed::<Root>::parse("root", bytes)?;
        new.verify_by("root", &self.root.signed)?;
        let want = self.root.signed.version + 1;
        if new.signed.version != want {
            return Err(Error::RootVersion { want, got: new.signed.version });
        }
        new.verify_by("root", &new.signed)?;
        self.root = new;
        Ok(())
    }

    /// §5.3.10: after the root walk, the newest root must not be expired.
    ///
    /// Errors: [`Error::Expired`].
    pub fn check_root_fresh(&self) -> Result<()> {
        self.root.check_expiry("root", self.now)
    }

    /// §5.4: a new timestamp. Returns `false` when it is the same version as the trusted
    /// one (nothing new to fetch).
    ///
    /// Errors: [`Error::Threshold`], [`Error::Rollback`], [`Error::Expired`].
    pub fn update_timestamp(&mut self, bytes: &[u8]) -> Result<bool> {
        self.timestamp_inner(bytes, false)
    }

    /// §5.4 for a timestamp from the client's own cache: checked as a new one, but kept
    /// even when expired, so that a fetched one older than it is still a rollback.
    ///
    /// Errors: as [`TrustedSet::update_timestamp`] without [`Error::Expired`].
    pub fn update_timestamp_local(&mut self, bytes: &[u8]) -> Result<bool> {
        self.timestamp_inner(bytes, true)
    }

    fn timestamp_inner(&mut self, bytes: &[u8], local: bool) -> Result<bool> {
        self.check_root_fresh()?;
        let new = Signed::<MetaList>::parse("timestamp", bytes)?;
        new.verify_by("timestamp", &self.root.signed)?;
        let new_snap = snapshot_meta(&new)?;
        if let Some(old) = &self.timestamp {
            if new.signed.version < old.signed.version {
                return Err(Error::Rollback {
                    section: "5.4.3.1",
                    role: "timestamp",
                    got: new.signed.version,
                    trusted: old.signed.version,
                });
            }
            if new.signed.version == old.signed.version {
                return Ok(false);
            }
            let old_snap = snapshot_meta(old)?;
            if new_snap.version < old_snap.version {
                return Err(Error::Rollback {
                    section: "5.4.3.2",
                    role: "snapshot",
                    got: new_snap.version,
                    trusted: old_snap.version,
                });
            }
        }
        if !local {
            new.check_expiry("timestamp", self.now)?;
        }
        self.timestamp = Some(new);
        Ok(true)
    }

    /// §5.5: the snapshot the trusted timestamp lists. `trusted_local` is true for a copy
    /// from the cache, whose hashes need not match a newer timestamp.
    ///
    /// Errors: [`Error::Length`], [`Error::Hash`], [`Error::Threshold`],
    /// [`Error::VersionMismatch`], [`Error::Rollback`], [`Error::Expired`].
    pub fn update_snapshot(&mut self, bytes: &[u8], trusted_local: bool) -> Result<()> {
        self.check_root_fresh()?;
        let timestamp =
            self.timestamp.as_ref().ok_or(Error::Order { role: "snapshot", needs: "timestamp" })?;
        timestamp.check_expiry("timestamp", self.now)?;
        let listed = snapshot_meta(timestamp)?.clone();
        if !trusted_local {
            check_length_and_hashes("snapshot.json", "5.5.2", &listed, bytes)?;
        }
        let new = Signed::<MetaList>::parse("snapshot", bytes)?;
        new.verify_by("snapshot", &self.root.signed)?;
        if let Some(old) = &self.snapshot {
            for (name, old_meta) in &old.signed.meta {
                let new_meta = new.signed.meta.get(name).ok_or_else(|| Error::NotListed {
                    name: name.clone(),
                    listed_in: "snapshot",
                })?;
                if new_meta.version < old_meta.version {
                    return Err(Error::Rollback {
                        section: "5.5.5",
                        role: "targets",
                        got: new_meta.version,
                        trusted: old_meta.version,
                    });
                }
            }
        }
        // §5.5.4 and §5.5.6 are checked when the snapshot is used (a cached copy may be
        // stale and is then replaced).
        self.snapshot = Some(new);
        self.check_snapshot_current()
    }

    /// §5.5.4 / §5.5.6: the trusted snapshot is the version the timestamp lists and is not
    /// expired.
    fn check_snapshot_current(&self) -> Result<()> {
        let (Some(timestamp), Some(snapshot)) = (&self.timestamp, &self.snapshot) else {
            return Err(Error::Order { role: "targets", needs: "snapshot" });
        };
        let want = snapshot_meta(timestamp)?.version;
        if snapshot.signed.version != want {
            return Err(Error::VersionMismatch {
                section: "5.5.4",
                role: "snapshot",
                got: snapshot.signed.version,
                want,
                listed_in: "timestamp",
            });
        }
        snapshot.check_expiry("snapshot", self.now)
    }

    /// §5.6: the targets the trusted snapshot lists.
    ///
    /// Errors: [`Error::Length`], [`Error::Hash`], [`Error::Threshold`],
    /// [`Error::VersionMismatch`], [`Error::Expired`].
    pub fn update_targets(&mut self, bytes: &[u8]) -> Result<()> {
        self.check_root_fresh()?;
        self.check_snapshot_current()?;
        let listed = self.targets_meta()?.clone();
        check_length_and_hashes("targets.json", "5.6.2", &listed, bytes)?;
        let new = Signed::<Targets>::parse("targets", bytes)?;
        new.verify_by("targets", &self.root.signed)?;
        if new.signed.version != listed.version {
            return Err(Error::VersionMismatch {
                section: "5.6.4",
                role: "targets",
                got: new.signed.version,
                want: listed.version,
                listed_in: "snapshot",
            });
        }
        new.check_expiry("targets", self.now)?;
        self.targets = Some(new);
        Ok(())
    }

    /// What the trusted snapshot says about `targets.json`.
    ///
    /// Errors: [`Error::Order`], [`Error::NotListed`].
    pub fn targets_meta(&self) -> Result<&MetaFile> {
        let snapshot =
            self.snapshot.as_ref().ok_or(Error::Order { role: "targets", needs: "snapshot" })?;
        snapshot
            .signed
            .meta
            .get("targets.json")
            .ok_or_else(|| Error::NotListed { name: "targets.json".into(), listed_in: "snapshot" })
    }

    /// The trusted description of target `name` (§5.7.1).
    ///
    /// Errors: [`Error::Order`], [`Error::NoTarget`].
    pub fn target(&self, name: &str) -> Result<&TargetFile> {
        let targets =
            self.targets.as_ref().ok_or(Error::Order { role: "target files", needs: "targets" })?;
        targets.signed.targets.get(name).ok_or_else(|| Error::NoTarget(name.to_string()))
    }

    /// §5.7.3: `bytes` are target `name` as the trusted targets describe it.
    ///
    /// Errors: [`Error::NoTarget`], [`Error::Length`], [`Error::Hash`], [`Error::NoHash`].
    pub fn check_target(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let target = self.target(name)?;
        let meta = MetaFile {
            version: 0,
            length: Some(target.length),
            hashes: Some(target.hashes.clone()),
        };
        if target.hashes.keys().all(|a| a != "sha256" && a != "sha512") {
            return Err(Error::NoHash { name: name.into() });
        }
        check_length_and_hashes(name, "5.7.3", &meta, bytes)
    }
}

fn snapshot_meta(timestamp: &Signed<MetaList>) -> Result<&MetaFile> {
    timestamp
        .signed
        .meta
        .get("snapshot.json")
        .ok_or_else(|| Error::NotListed { name: "snapshot.json".into(), listed_in: "timestamp" })
}

/// Checks `bytes` against a listed length and hashes (each given hash must match; unknown
/// algorithms are ignored, as python-tuf does).
///
/// Errors: [`Error::Length`], [`Error::Hash`].
pub fn check_length_and_hashes(
    name: &str,
    section: &'static str,
    meta: &MetaFile,
    bytes: &[u8],
) -> Result<()> {
    use crate::crypto::{digest, HashAlgorithm};
    if let Some(want) = meta.length {
        if bytes.len() as u64 != want {
            return Err(Error::Length { name: name.into(), got: bytes.len() as u64, want });
        }
    }
    for (algorithm, want) in meta.hashes.iter().flatten() {
        let alg = match algorithm.as_str() {
            "sha256" => HashAlgorithm::Sha256,
            "sha384" => HashAlgorithm::Sha384,
            "sha512" => HashAlgorithm::Sha512,
            _ => continue,
        };
        if !digest(alg, bytes).to_hex().eq_ignore_ascii_case(want) {
            return Err(Error::Hash { section, name: name.into(), algorithm: algorithm.clone() });
        }
    }
    Ok(())
}
