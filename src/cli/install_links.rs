//! `sigbox install-links DIR`: busybox-style symlinks, one per persona.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::dispatch::PERSONAS;

/// Creates `DIR/<persona>` → the running executable for every persona, `sigbox` itself
/// included (so a `bin/` on PATH gives `sigbox token` too). An existing link is replaced;
/// an existing regular file is left alone and reported — unless it *is* the running
/// executable (`sigbox install-links` run from that directory), which is kept as it is.
pub fn install_links(dir: &Path, force: bool) -> anyhow::Result<Vec<PathBuf>> {
    let exe = std::env::current_exe().context("finding the sigbox executable")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut made = Vec::new();
    let exe_real = std::fs::canonicalize(&exe).unwrap_or_else(|_| exe.clone());
    for persona in PERSONAS {
        let link = dir.join(persona.name);
        if std::fs::canonicalize(&link).is_ok_and(|target| target == exe_real)
            && !std::fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink())
        {
            // The binary itself lives here under this name.
            continue;
        }
        if let Ok(meta) = std::fs::symlink_metadata(&link) {
            if meta.file_type().is_symlink() || force {
                std::fs::remove_file(&link)
                    .with_context(|| format!("replacing {}", link.display()))?;
            } else {
                anyhow::bail!("{} exists and is not a link (use --force)", link.display());
            }
        }
        std::os::unix::fs::symlink(&exe, &link)
            .with_context(|| format!("creating link {}", link.display()))?;
        made.push(link);
    }
    Ok(made)
}
