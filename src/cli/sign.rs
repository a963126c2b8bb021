//! `sigbox sign`: the native signing front end, and [`execute`], which every blob-signing
//! persona calls with its [`Request`]: key-based here, keyless in [`super::keyless`].

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::instance::InstanceArgs;
pub use super::sign_request::Request;
use super::sign_request::{bundle_json, write_outputs, Outputs};
use super::{keyless, output, password};
use crate::instance::Overrides;
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
        overrides: Overrides::default(),
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
    let outputs = Outputs {
        bundle_json: bundle_json(&signed.bundle)?,
        signature: Some(&signed.signature),
        certificate: None,
    };
    write_outputs(&request, &outputs)
}
