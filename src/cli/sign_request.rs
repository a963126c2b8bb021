//! A resolved signing request, whichever persona parsed it (`sigbox sign`, `cosign
//! sign-blob`, `cosign attest-blob`), and the one place signing outputs are written.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::{exit, instance::InstanceArgs, output};
use crate::instance::Overrides;
use crate::sign::keyfile;

/// A resolved signing request.
#[derive(Debug)]
pub struct Request {
    /// Artifact path, `-` for stdin.
    pub file: PathBuf,
    /// Key file for key-based signing; `None` means keyless.
    pub key: Option<PathBuf>,
    /// Bundle output path.
    pub bundle: Option<PathBuf>,
    /// Raw signature output path.
    pub output_signature: Option<PathBuf>,
    /// Whether to upload to the transparency log.
    pub tlog_upload: bool,
    /// Base64-encode the signature output (cosign `--b64`).
    pub b64: bool,
    /// Overwrite existing output files.
    pub overwrite: bool,
    /// Certificate output path (keyless).
    pub output_certificate: Option<PathBuf>,
    /// Explicit identity token.
    pub identity_token: Option<String>,
    /// Which instance (keyless).
    pub instance: InstanceArgs,
    /// Service URLs given explicitly (cosign's --fulcio-url, --rekor-url, --oidc-issuer).
    pub overrides: Overrides,
}

/// What a signing run produced, to be written where the request says.
pub struct Outputs<'a> {
    /// The bundle JSON.
    pub bundle_json: String,
    /// The raw signature, when there is one to print or write (blob signatures).
    pub signature: Option<&'a [u8]>,
    /// The signing certificate (keyless).
    pub certificate: Option<&'a crate::x509::Certificate>,
}

/// Writes the bundle, signature and certificate outputs a request asks for. Without
/// `--bundle` or `--output-signature`, a blob signature goes to stdout (as cosign does);
/// a result with no raw signature (an attestation) prints its bundle instead.
pub fn write_outputs(request: &Request, outputs: &Outputs<'_>) -> anyhow::Result<ExitCode> {
    let signature_text = outputs.signature.map(|signature| {
        if request.b64 {
            crate::encoding::b64_encode(signature).into_bytes()
        } else {
            signature.to_vec()
        }
    });
    if let Some(path) = &request.bundle {
        keyfile::write_file(path, outputs.bundle_json.as_bytes(), 0o644, request.overwrite)?;
        output::status(format!("Wrote bundle to file {}", path.display()));
    }
    if let (Some(path), Some(text)) = (&request.output_signature, &signature_text) {
        keyfile::write_file(path, text, 0o644, request.overwrite)?;
        output::status(format!("Signature wrote in the file {}", path.display()));
    }
    if let (Some(path), Some(cert)) = (&request.output_certificate, outputs.certificate) {
        keyfile::write_file(path, cert.to_pem().as_bytes(), 0o644, request.overwrite)?;
        output::status(format!("Wrote certificate to file {}", path.display()));
    }
    if request.bundle.is_none() && request.output_signature.is_none() {
        match &signature_text {
            Some(text) => output::line(String::from_utf8_lossy(text))?,
            None => output::line(&outputs.bundle_json)?,
        }
    }
    Ok(exit::Code::Success.into())
}

/// The bundle of a signing result as JSON.
pub fn bundle_json(bundle: &crate::bundle::wire::Bundle) -> anyhow::Result<String> {
    bundle.to_json().context("serializing the bundle")
}
