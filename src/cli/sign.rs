//! `sigbox sign`: the native signing front end, and the shared request both it and
//! `cosign sign-blob` resolve into.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::{exit, keyless, output, password};
use crate::sign::{self, keyfile};

/// Flags of `sigbox sign`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The artifact to sign (`-` for standard input).
    file: PathBuf,
    /// A cosign-format encrypted private key (password from COSIGN_PASSWORD or a prompt).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Write the Sigstore bundle (v0.3) here.
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// Write the base64 signature here.
    #[arg(long)]
    output_signature: Option<PathBuf>,
    /// Do not record the signature in a transparency log (key signing only).
    #[arg(long)]
    no_tlog: bool,
    /// Write the signing certificate (PEM) here (keyless).
    #[arg(long)]
    output_certificate: Option<PathBuf>,
    /// Identity token for keyless signing (else SIGSTORE_ID_TOKEN, CI ambient, or a login).
    #[arg(long)]
    identity_token: Option<String>,
    #[command(flatten)]
    instance: InstanceArgs,
}

/// Which Sigstore instance to sign with: a ClientTrustConfig, or a trusted root plus a
/// signing config, or `SIGBOX_TRUST_CONFIG`, else the public-good instance.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InstanceArgs {
    /// ClientTrustConfig JSON (trusted root + signing config), as `sigbox up` writes.
    #[arg(long = "trust-config", env = "SIGBOX_TRUST_CONFIG")]
    pub trust_config: Option<PathBuf>,
    /// Trusted root JSON (with --signing-config).
    #[arg(long = "trusted-root", requires = "signing_config")]
    pub trusted_root: Option<PathBuf>,
    /// Signing config JSON (with --trusted-root).
    #[arg(long = "signing-config", requires = "trusted_root")]
    pub signing_config: Option<PathBuf>,
}

/// A resolved signing request, whichever persona parsed it.
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
    pub overrides: ServiceOverrides,
}

/// URLs that replace the signing config's choices.
#[derive(Debug, Clone, Default)]
pub struct ServiceOverrides {
    /// CA base URL.
    pub ca_url: Option<String>,
    /// Rekor base URL.
    pub rekor_url: Option<String>,
    /// OIDC issuer URL.
    pub oidc_issuer: Option<String>,
    /// OAuth client ID (default `sigstore`).
    pub oidc_client_id: Option<String>,
}

/// Runs `sigbox sign`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    execute(Request {
        file: args.file,
        key: args.key,
        bundle: args.bundle,
        output_signature: args.output_signature,
        tlog_upload: !args.no_tlog,
        b64: true,
        overwrite: true,
        output_certificate: args.output_certificate,
        identity_token: args.identity_token,
        instance: args.instance,
        overrides: ServiceOverrides::default(),
    })
}

/// Signs as `request` says and writes the outputs. Without `--bundle` or
/// `--output-signature` the signature goes to stdout, as cosign does.
pub fn execute(request: Request) -> anyhow::Result<ExitCode> {
    let Some(key_path) = request.key.as_ref() else {
        return keyless::execute(&request);
    };
    let password = password::existing(&key_path.display().to_string())?;
    let signer = keyfile::read_private_key(key_path, &password)?;
    let mut signed = if request.file.as_os_str() == "-" {
        sign::sign_blob_with_key(signer.as_ref(), std::io::stdin().lock())
    } else {
        let file = output::open_artifact(&request.file)
            .with_context(|| format!("opening {}", request.file.display()))?;
        sign::sign_blob_with_key(signer.as_ref(), file)
    }
    .with_context(|| format!("signing {}", request.file.display()))?;
    if request.tlog_upload {
        keyless::log_key_signature(&request, signer.public_key(), &mut signed)?;
    }
    write_outputs(&request, &signed, None)
}

/// Writes the bundle, signature and certificate outputs a request asks for; without any,
/// the signature goes to stdout, as cosign does.
pub(crate) fn write_outputs(
    request: &Request,
    signed: &sign::SignedBlob,
    certificate: Option<&crate::x509::Certificate>,
) -> anyhow::Result<ExitCode> {
    let signature_text = if request.b64 {
        crate::encoding::b64_encode(&signed.signature).into_bytes()
    } else {
        signed.signature.clone()
    };
    if let Some(path) = &request.bundle {
        let json = signed.bundle.to_json().context("serializing the bundle")?;
        keyfile::write_file(path, json.as_bytes(), 0o644, request.overwrite)?;
        output::status(format!("Wrote bundle to file {}", path.display()));
    }
    if let Some(path) = &request.output_signature {
        keyfile::write_file(path, &signature_text, 0o644, request.overwrite)?;
        output::status(format!("Signature wrote in the file {}", path.display()));
    }
    if let (Some(path), Some(cert)) = (&request.output_certificate, certificate) {
        keyfile::write_file(path, cert.to_pem().as_bytes(), 0o644, request.overwrite)?;
        output::status(format!("Wrote certificate to file {}", path.display()));
    }
    if request.bundle.is_none() && request.output_signature.is_none() {
        output::line(String::from_utf8_lossy(&signature_text))?;
    }
    Ok(exit::Code::Success.into())
}
