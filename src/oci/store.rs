//! Where manifests and blobs live: a registry repository ([`RegistryStore`]) or an OCI
//! image layout on disk ([`super::local::LayoutStore`]). Copying an image with its
//! signatures (`cosign copy`, `save`, `load`) and reading signatures for verification are
//! written once against [`Store`].

use super::client::{Client, Pulled, MAX_MANIFEST};
use super::layout::{self, Kind};
use super::manifest::{self, Descriptor, Index, Manifest};
use super::reference::Reference;
use super::Error;

/// Blobs copied between stores are read whole; this caps one layer.
pub const MAX_COPY_BLOB: u64 = 4 * 1024 * 1024 * 1024;

/// A place holding manifests (some tagged) and blobs of one repository.
pub trait Store: Sync {
    /// For messages.
    fn describe(&self) -> String;
    /// The manifest tagged `tag`, if any.
    fn resolve_tag(&self, tag: &str) -> Result<Option<Descriptor>, Error>;
    /// A manifest by digest (checked).
    fn manifest(&self, digest: &str) -> Result<Pulled, Error>;
    /// The manifest tagged `tag`, if any (checked against the digest the tag names).
    fn tagged_manifest(&self, tag: &str) -> Result<Option<Pulled>, Error> {
        match self.resolve_tag(tag)? {
            Some(found) => self.manifest(&found.digest).map(Some),
            None => Ok(None),
        }
    }
    /// A blob by digest (checked), of at most `limit` bytes.
    fn blob(&self, digest: &str, limit: u64) -> Result<Vec<u8>, Error>;
    /// Whether the blob is there.
    fn has_blob(&self, digest: &str) -> Result<bool, Error>;
    /// Stores a blob.
    fn put_blob(&self, bytes: &[u8]) -> Result<(), Error>;
    /// Stores a manifest, under `tag` if given.
    fn put_manifest(&self, pulled: &Pulled, tag: Option<&str>) -> Result<(), Error>;
    /// The registry repository behind this store, if it is one (for cross-repo mounts).
    fn registry_repository(&self) -> Option<&Reference> {
        None
    }
    /// Mounts blob `digest` from `from` without copying its bytes, if this store can.
    fn mount(&self, _from: &Reference, _digest: &str) -> Result<bool, Error> {
        Ok(false)
    }
    /// The referrers API answer; `None` when there is none (use the fallback tag).
    fn referrers(&self, _digest: &str) -> Result<Option<Index>, Error> {
        Ok(None)
    }
}

/// One repository of a registry.
pub struct RegistryStore<'a> {
    /// The client.
    pub client: &'a Client,
    /// The repository (tag and digest ignored).
    pub repo: Reference,
}

impl Store for RegistryStore<'_> {
    fn describe(&self) -> String {
        self.repo.repository_name()
    }

    fn resolve_tag(&self, tag: &str) -> Result<Option<Descriptor>, Error> {
        self.client.head_manifest(&self.repo.with_tag(tag))
    }

    fn manifest(&self, digest: &str) -> Result<Pulled, Error> {
        self.client.get_manifest(&self.repo.with_digest(digest))
    }

    /// One `GET` (a 404 means no such tag) instead of `HEAD` + `GET`: verification reads
    /// several tags per image.
    fn tagged_manifest(&self, tag: &str) -> Result<Option<Pulled>, Error> {
        if !self.client.may_have_tag(&self.repo, tag) {
            return Ok(None);
        }
        match self.client.get_manifest(&self.repo.with_tag(tag)) {
            Ok(pulled) => Ok(Some(pulled)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn blob(&self, digest: &str, limit: u64) -> Result<Vec<u8>, Error> {
        self.client.get_blob(&self.repo, digest, limit)
    }

    fn has_blob(&self, digest: &str) -> Result<bool, Error> {
        self.client.blob_exists(&self.repo, digest)
    }

    fn put_blob(&self, bytes: &[u8]) -> Result<(), Error> {
        self.client.push_blob(&self.repo, bytes, None).map(|_| ())
    }

    fn put_manifest(&self, pulled: &Pulled, tag: Option<&str>) -> Result<(), Error> {
        let at = match tag {
            Some(tag) => self.repo.with_tag(tag),
            None => self.repo.with_digest(&pulled.digest),
        };
        self.client.put_manifest(&at, &pulled.media_type, &pulled.bytes).map(|_| ())
    }

    fn referrers(&self, digest: &str) -> Result<Option<Index>, Error> {
        self.client.referrers(&self.repo, digest)
    }

    fn registry_repository(&self) -> Option<&Reference> {
        Some(&self.repo)
    }

    fn mount(&self, from: &Reference, digest: &str) -> Result<bool, Error> {
        self.client.mount_blob(&self.repo, from, digest)
    }
}

/// What [`copy`] takes along with the image.
#[derive(Debug, Clone, Copy)]
pub struct CopyWhat {
    /// The image itself (manifests, configs, layers).
    pub image: bool,
    /// Legacy `.sig` and referrer signatures.
    pub signatures: bool,
    /// Legacy `.att` and referrer attestations.
    pub attestations: bool,
}

/// Copies the image `digest` (tagged `tag` in `dst` if given) and its signatures from `src`
/// to `dst`. Blobs `dst` has are skipped. Returns how many manifests were written.
pub fn copy(
    src: &dyn Store,
    dst: &dyn Store,
    digest: &str,
    tag: Option<&str>,
    what: CopyWhat,
) -> Result<usize, Error> {
    let mut written = 0;
    if what.image {
        written += copy_tree(src, dst, digest, tag)?;
    }
    let kinds = [(Kind::Signature, what.signatures), (Kind::Attestation, what.attestations)];
    for (kind, wanted) in kinds {
        if !wanted {
            continue;
        }
        let tag = layout::legacy_tag(digest, kind);
        if let Some(found) = src.resolve_tag(&tag)? {
            written += copy_tree(src, dst, &found.digest, Some(&tag))?;
        }
    }
    if what.signatures || what.attestations {
        let tag = layout::fallback_tag(digest);
        if let Some(found) = src.resolve_tag(&tag)? {
            let pulled = src.manifest(&found.digest)?;
            let index: Index = serde_json::from_slice(&pulled.bytes).map_err(|e| {
                Error::Manifest { what: format!("{} {tag}", src.describe()), detail: e.to_string() }
            })?;
            for entry in &index.manifests {
                written += copy_tree(src, dst, &entry.digest, None)?;
            }
            dst.put_manifest(&pulled, Some(&tag))?;
            written += 1;
        }
    }
    Ok(written)
}

/// Copies one manifest (an index with its children) and every blob it names.
pub fn copy_tree(
    src: &dyn Store,
    dst: &dyn Store,
    digest: &str,
    tag: Option<&str>,
) -> Result<usize, Error> {
    let pulled = src.manifest(digest)?;
    let what = format!("{}@{digest}", src.describe());
    let mut written = 0;
    if manifest::is_index(&pulled.media_type) {
        let index: Index = serde_json::from_slice(&pulled.bytes)
            .map_err(|e| Error::Manifest { what: what.clone(), detail: e.to_string() })?;
        for child in &index.manifests {
            written += copy_tree(src, dst, &child.digest, None)?;
        }
    } else {
        let parsed: Manifest = layout::parse_manifest(&pulled.bytes, &what)?;
        for blob in std::iter::once(&parsed.config).chain(parsed.layers.iter()) {
            if !dst.has_blob(&blob.digest)? {
                if let Some(from) = src.registry_repository() {
                    if dst.mount(from, &blob.digest)? {
                        continue;
                    }
                }
                let bytes = src.blob(&blob.digest, MAX_COPY_BLOB)?;
                dst.put_blob(&bytes)?;
            }
        }
    }
    dst.put_manifest(&pulled, tag)?;
    Ok(written + 1)
}

/// Every stored signature (or attestation) of the image `digest` in `store`: the legacy
/// tag's layers, then OCI 1.1 referrers (API, else the tag-schema fallback index).
pub fn candidates(
    store: &dyn Store,
    digest: &str,
    kind: Kind,
) -> Result<Vec<super::verify::Candidate>, Error> {
    use super::verify::Candidate;
    let mut out = Vec::new();
    if let Some(pulled) = store.tagged_manifest(&layout::legacy_tag(digest, kind))? {
        let manifest = layout::parse_manifest(&pulled.bytes, &store.describe())?;
        for layer in manifest.layers {
            let blob = store.blob(&layer.digest, super::client::MAX_SMALL_BLOB)?;
            out.push(Candidate::Legacy { layer, blob });
        }
    }
    let index = match store.referrers(digest)? {
        Some(index) => Some(index),
        None => match store.tagged_manifest(&layout::fallback_tag(digest))? {
            Some(pulled) => {
                Some(serde_json::from_slice::<Index>(&pulled.bytes).map_err(|e| {
                    Error::Manifest { what: store.describe(), detail: e.to_string() }
                })?)
            }
            None => None,
        },
    };
    for entry in super::verify::referrer_entries(index.as_ref(), kind) {
        let pulled = store.manifest(&entry.digest)?;
        let manifest = layout::parse_manifest(&pulled.bytes, &store.describe())?;
        if !manifest.subject.as_ref().is_some_and(|s| s.digest == digest) {
            continue;
        }
        let Some(layer) = manifest.layers.first() else { continue };
        let bundle = store.blob(&layer.digest, MAX_MANIFEST)?;
        out.push(Candidate::Referrer { manifest: entry.digest.clone(), bundle });
    }
    Ok(out)
}

/// What is stored beside an image: the legacy signature and attestation images (tag and
/// layers) and the bundle referrers.
#[derive(Debug, Clone, Default)]
pub struct Attachments {
    /// `(tag, layers)` of `sha256-<hex>.sig`.
    pub signatures: Option<(String, Vec<Descriptor>)>,
    /// `(tag, layers)` of `sha256-<hex>.att`.
    pub attestations: Option<(String, Vec<Descriptor>)>,
    /// Referrer manifests (API or fallback index) and where they were listed.
    pub referrers: Option<(String, Vec<Descriptor>)>,
}

/// Lists the attachments of the image `digest` (`cosign tree`).
pub fn attachments(store: &dyn Store, digest: &str) -> Result<Attachments, Error> {
    let legacy = |kind| -> Result<Option<(String, Vec<Descriptor>)>, Error> {
        let tag = layout::legacy_tag(digest, kind);
        let Some(found) = store.resolve_tag(&tag)? else { return Ok(None) };
        let pulled = store.manifest(&found.digest)?;
        let manifest = layout::parse_manifest(&pulled.bytes, &tag)?;
        Ok(Some((tag, manifest.layers)))
    };
    let referrers = match store.referrers(digest)? {
        Some(index) => Some((format!("referrers API of {digest}"), index.manifests)),
        None => {
            let tag = layout::fallback_tag(digest);
            match store.resolve_tag(&tag)? {
                Some(found) => {
                    let pulled = store.manifest(&found.digest)?;
                    let index: Index = serde_json::from_slice(&pulled.bytes).map_err(|e| {
                        Error::Manifest { what: tag.clone(), detail: e.to_string() }
                    })?;
                    Some((tag, index.manifests))
                }
                None => None,
            }
        }
    };
    Ok(Attachments {
        signatures: legacy(Kind::Signature)?,
        attestations: legacy(Kind::Attestation)?,
        referrers,
    })
}

/// Deletes the signatures and/or attestations of the image `digest` from `repo`
/// (`cosign clean`): the legacy tags' manifests, and the referrers with their fallback
/// index. Returns what was deleted.
pub fn clean(
    client: &Client,
    repo: &Reference,
    digest: &str,
    signatures: bool,
    attestations: bool,
) -> Result<Vec<String>, Error> {
    let store = RegistryStore { client, repo: repo.clone() };
    let mut deleted = Vec::new();
    for (kind, wanted) in [(Kind::Signature, signatures), (Kind::Attestation, attestations)] {
        if !wanted {
            continue;
        }
        let tag = layout::legacy_tag(digest, kind);
        if let Some(found) = store.resolve_tag(&tag)? {
            client.delete_manifest(&repo.with_digest(&found.digest))?;
            deleted.push(repo.with_tag(&tag).to_string());
        }
    }
    if signatures && attestations {
        let tag = layout::fallback_tag(digest);
        if let Some(found) = store.resolve_tag(&tag)? {
            let pulled = store.manifest(&found.digest)?;
            if let Ok(index) = serde_json::from_slice::<Index>(&pulled.bytes) {
                for entry in index.manifests.iter().filter(|d| layout::is_bundle_referrer(d)) {
                    match client.delete_manifest(&repo.with_digest(&entry.digest)) {
                        Ok(()) | Err(Error::NotFound { .. }) => {}
                        Err(e) => return Err(e),
                    }
                    deleted.push(repo.with_digest(&entry.digest).to_string());
                }
            }
            client.delete_manifest(&repo.with_digest(&found.digest))?;
            deleted.push(repo.with_tag(&tag).to_string());
        }
    }
    Ok(deleted)
}
