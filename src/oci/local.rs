//! An OCI image layout on disk (image-spec `image-layout.md`): `oci-layout`,
//! `index.json`, `blobs/sha256/<hex>`. `cosign save` writes the image and its signatures
//! here, tagged by `org.opencontainers.image.ref.name` (the legacy `sha256-<hex>.sig` /
//! `.att` and referrer fallback tags keep their names), so `load` and `verify
//! --local-image` read them back with no registry.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::client::{Pulled, MAX_MANIFEST};
use super::manifest::{self, Descriptor, Index};
use super::store::Store;
use super::Error;

/// The index annotation naming a manifest.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// An OCI layout directory.
pub struct LayoutStore {
    dir: PathBuf,
    index: Mutex<Index>,
}

impl LayoutStore {
    /// Opens `dir`, creating an empty layout if `create` and it has none.
    pub fn open(dir: &Path, create: bool) -> Result<LayoutStore, Error> {
        let io = |what: String| move |source| Error::Io { what, source };
        let index_path = dir.join("index.json");
        let index = match std::fs::read(&index_path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Manifest {
                what: index_path.display().to_string(),
                detail: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                std::fs::create_dir_all(dir.join("blobs/sha256"))
                    .map_err(io(format!("creating {}", dir.display())))?;
                std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)
                    .map_err(io(format!("writing {}/oci-layout", dir.display())))?;
                Index::empty()
            }
            Err(source) => {
                return Err(Error::Io {
                    what: format!("reading {} (not an OCI layout?)", index_path.display()),
                    source,
                })
            }
        };
        Ok(LayoutStore { dir: dir.to_path_buf(), index: Mutex::new(index) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Index> {
        match self.index.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn blob_path(&self, digest: &str) -> Result<PathBuf, Error> {
        super::reference::check_digest(digest).map_err(|why| Error::Manifest {
            what: format!("layout {}", self.dir.display()),
            detail: why,
        })?;
        Ok(self.dir.join("blobs/sha256").join(&digest[7..]))
    }

    /// Writes `index.json`.
    pub fn save_index(&self) -> Result<(), Error> {
        let path = self.dir.join("index.json");
        let bytes = super::layout::to_json(&*self.lock());
        std::fs::write(&path, bytes)
            .map_err(|source| Error::Io { what: format!("writing {}", path.display()), source })
    }

    /// The names (`ref.name`) of the index entries with their descriptors.
    pub fn entries(&self) -> Vec<Descriptor> {
        self.lock().manifests.clone()
    }

    /// The image of the layout: the one entry whose name is not a signature tag.
    pub fn image(&self) -> Result<Descriptor, Error> {
        let entries = self.entries();
        let mut images = entries.iter().filter(|d| {
            !d.annotations.get(REF_NAME).is_some_and(|name| name.starts_with("sha256-"))
        });
        match (images.next(), images.next()) {
            (Some(one), None) => Ok(one.clone()),
            _ => Err(Error::Manifest {
                what: format!("layout {}", self.dir.display()),
                detail: "holds no single image (save one with `cosign save`)".into(),
            }),
        }
    }
}

impl Store for LayoutStore {
    fn describe(&self) -> String {
        format!("layout {}", self.dir.display())
    }

    fn resolve_tag(&self, tag: &str) -> Result<Option<Descriptor>, Error> {
        Ok(self
            .lock()
            .manifests
            .iter()
            .find(|d| d.annotations.get(REF_NAME).map(String::as_str) == Some(tag))
            .cloned())
    }

    fn manifest(&self, digest: &str) -> Result<Pulled, Error> {
        let bytes = self.blob(digest, MAX_MANIFEST)?;
        let media_type = manifest::detect_media_type(None, &bytes).ok_or_else(|| {
            Error::Manifest { what: self.describe(), detail: format!("{digest}: not a manifest") }
        })?;
        Ok(Pulled { bytes, media_type, digest: digest.to_string() })
    }

    fn blob(&self, digest: &str, limit: u64) -> Result<Vec<u8>, Error> {
        let path = self.blob_path(digest)?;
        let what = format!("{} blob {digest}", self.describe());
        let size = std::fs::metadata(&path)
            .map_err(|source| Error::Io { what: what.clone(), source })?
            .len();
        if size > limit {
            return Err(Error::TooLarge { what, limit });
        }
        let bytes =
            std::fs::read(&path).map_err(|source| Error::Io { what: what.clone(), source })?;
        let got = manifest::sha256_digest(&bytes);
        if got != digest {
            return Err(Error::DigestMismatch { what, expected: digest.to_string(), got });
        }
        Ok(bytes)
    }

    fn has_blob(&self, digest: &str) -> Result<bool, Error> {
        Ok(self.blob_path(digest)?.exists())
    }

    fn put_blob(&self, bytes: &[u8]) -> Result<(), Error> {
        let path = self.blob_path(&manifest::sha256_digest(bytes))?;
        std::fs::write(&path, bytes)
            .map_err(|source| Error::Io { what: format!("writing {}", path.display()), source })
    }

    fn put_manifest(&self, pulled: &Pulled, tag: Option<&str>) -> Result<(), Error> {
        self.put_blob(&pulled.bytes)?;
        if let Some(tag) = tag {
            let mut entry = pulled.descriptor();
            entry.annotations.insert(REF_NAME.to_string(), tag.to_string());
            let mut index = self.lock();
            index
                .manifests
                .retain(|d| d.annotations.get(REF_NAME).map(String::as_str) != Some(tag));
            index.manifests.push(entry);
        }
        Ok(())
    }
}
