//! The instance's TUF repository (`<data-dir>/tuf/`): the trust files `sigbox up` writes
//! are published as the targets `trusted_root.json` and `signing_config.v0.2.json`, so a
//! client on another machine needs only the repository URL and its `root.json`.

use std::path::Path;

use crate::tuf::repository::Repository;
use crate::tuf::{SIGNING_CONFIG_TARGET, TRUSTED_ROOT_TARGET};

/// Opens (or creates) the repository under `data_dir` and publishes the current
/// `trusted_root.json` and `signing_config.json` as its targets (a new targets version
/// only when they changed).
///
/// Errors: [`crate::tuf::Error`].
pub fn publish_trust_files(data_dir: &Path, now: i64) -> crate::tuf::Result<Repository> {
    let repository = Repository::open_or_create(&data_dir.join("tuf"), now)?;
    publish_into(&repository, data_dir, now)?;
    Ok(repository)
}

/// Publishes `data_dir`'s current `trusted_root.json` and `signing_config.json` into an
/// open repository (the running instance's, after a live rotation).
///
/// Errors: [`crate::tuf::Error`].
pub fn publish_into(repository: &Repository, data_dir: &Path, now: i64) -> crate::tuf::Result<()> {
    let read = |name: &str| {
        let path = data_dir.join(name);
        std::fs::read(&path).map_err(|source| crate::tuf::Error::Io {
            what: "trust file",
            path,
            source,
        })
    };
    let root = read("trusted_root.json")?;
    let signing = read("signing_config.json")?;
    repository.publish(&[(TRUSTED_ROOT_TARGET, &root), (SIGNING_CONFIG_TARGET, &signing)], now)?;
    Ok(())
}
