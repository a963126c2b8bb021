//! `sigbox install-links DIR`: busybox-style symlinks, one per persona.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::dispatch::PERSONAS;

/// Creates `DIR/<persona>` → the running executable for every persona except `sigbox`.
/// An existing link is replaced; an existing regular file is left alone and reported.
pub fn install_links(dir: &Path, force: bool) -> anyhow::Result<Vec<PathBuf>> {
    let exe = std::env::current_exe().context("finding the sigbox executable")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut made = Vec::new();
    for persona in PERSONAS.iter().filter(|p| p.name != "sigbox") {
        let link = dir.join(persona.name);
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
