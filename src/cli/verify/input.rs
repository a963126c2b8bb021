//! What `sigbox verify` reads from disk before verifying: the artifact (whole, or streamed
//! into a digest when large), and a detached `--signature` file.

use std::path::Path;

use anyhow::Context as _;

use super::rejected;
use crate::bundle::{Checked, Content};
use crate::cli::exit::{Rejected, Usage};
use crate::cli::output;
use crate::crypto::{digest_reader, Digest, HashAlgorithm};

/// The bundle of `--signature FILE` alone (cosign's pre-bundle form).
pub(super) fn detached_signature_bundle(path: &Path) -> anyhow::Result<Checked> {
    Checked::from_detached_signature(read_signature(path)?)
        .map_err(|e| rejected(anyhow::Error::new(e), &format!("signature {}", path.display())))
}

/// A base64 signature file (`--signature`).
pub(super) fn read_signature(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading signature {}", path.display()))?;
    crate::encoding::b64_decode(text.trim())
        .ok_or_else(|| Usage(format!("signature {} is not base64", path.display())).into())
}

/// `--signature FILE`: the (base64) signature must be the bundle's own.
pub(super) fn check_detached_signature(path: &Path, bundle: &Checked) -> anyhow::Result<()> {
    if read_signature(path)? != bundle.signature() {
        return Err(anyhow::Error::new(Rejected(format!(
            "signature {} differs from the bundle's signature",
            path.display()
        ))));
    }
    Ok(())
}

/// The artifact as read from INPUT.
pub(super) enum Input {
    /// No artifact given.
    None,
    /// The file, read whole.
    Bytes(Vec<u8>),
    /// The digest of a file too large to read whole, or a `sha256:` input.
    Digest(Digest),
}

/// Files up to this size are read whole (one-pass signature check); larger ones are
/// streamed into a digest.
const READ_WHOLE_LIMIT: u64 = 256 * 1024 * 1024;

pub(super) fn load_input(input: Option<&str>, bundle: &Checked) -> anyhow::Result<Input> {
    let Some(input) = input else { return Ok(Input::None) };
    let path = Path::new(input);
    if path.exists() {
        let meta = std::fs::metadata(path).with_context(|| format!("reading {input}"))?;
        if meta.len() <= READ_WHOLE_LIMIT {
            return Ok(Input::Bytes(
                std::fs::read(path).with_context(|| format!("reading {input}"))?,
            ));
        }
        let algorithm = match bundle.content() {
            Content::MessageSignature { digest: Some(d), .. } => d.algorithm(),
            _ => HashAlgorithm::Sha256,
        };
        let file = output::open_artifact(path).with_context(|| format!("reading {input}"))?;
        return Ok(Input::Digest(
            digest_reader(algorithm, file).with_context(|| format!("reading {input}"))?,
        ));
    }
    if let Some(hex) = input.strip_prefix("sha256:") {
        let bytes = crate::encoding::hex_decode(hex)
            .and_then(|b| Digest::from_bytes(HashAlgorithm::Sha256, b))
            .ok_or_else(|| Usage(format!("{input:?} is not sha256:<64 hex digits>")))?;
        return Ok(Input::Digest(bytes));
    }
    Err(anyhow::Error::new(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!("{input}: no such file (and not a sha256:<hex> digest)"),
    )))
}
