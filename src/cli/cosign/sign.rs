//! `cosign sign IMAGE…`: signs container images (keyless or `--key`) and stores the
//! signatures in the registry (legacy `.sig` tags by default, or OCI 1.1 referrers).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::flags::parse_bool;
use super::image_flags::{self, RegistryArgs};
use crate::cli::{exit, keyless, output};
use crate::instance::Overrides;
use crate::oci::sign::{self as oci_sign, KeyLog, PayloadSigner, Storage};

/// Flags of `cosign sign` (also flattened into `cosign attest`, hence no group).
#[derive(Debug, clap::Args)]
#[group(skip)]
pub struct Args {
    /// The images (`registry/repo:tag` or `@sha256:…`).
    #[arg(required = true)]
    images: Vec<String>,
    /// A cosign private key file, or `env://VAR` (else keyless).
    #[arg(long)]
    key: Option<String>,
    /// Extra key=value pairs to sign into the payload.
    #[arg(short = 'a', long = "annotations")]
    annotations: Vec<String>,
    /// Also sign every manifest of an index.
    #[arg(short = 'r', long, default_value = "false", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, value_parser = parse_bool)]
    recursive: bool,
    /// Record the signature in the transparency log.
    #[arg(long = "tlog-upload", default_value = "true", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, value_parser = parse_bool)]
    tlog_upload: bool,
    /// Store the signature in the registry.
    #[arg(long, default_value = "true", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, value_parser = parse_bool)]
    upload: bool,
    /// Write the base64 signature here.
    #[arg(long = "output-signature")]
    output_signature: Option<PathBuf>,
    /// Write the signing certificate here (keyless).
    #[arg(long = "output-certificate")]
    output_certificate: Option<PathBuf>,
    /// Write the signed payload here.
    #[arg(long = "output-payload")]
    output_payload: Option<PathBuf>,
    /// `legacy` (`.sig` tags) or `oci-1-1` (referrers with a v0.3 bundle).
    #[arg(long = "registry-referrers-mode", default_value = "legacy")]
    registry_referrers_mode: String,
    /// Store a v0.3 bundle as an OCI 1.1 referrer (same as `--registry-referrers-mode oci-1-1`).
    #[arg(long = "new-bundle-format", default_value = "false", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, value_parser = parse_bool)]
    new_bundle_format: bool,
    /// Skip confirmation prompts.
    #[arg(short = 'y', long = "yes")]
    yes: bool,
    /// Identity token (keyless).
    #[arg(long = "identity-token")]
    identity_token: Option<String>,
    /// Fulcio URL.
    #[arg(long = "fulcio-url")]
    fulcio_url: Option<String>,
    /// Rekor URL.
    #[arg(long = "rekor-url")]
    rekor_url: Option<String>,
    /// OIDC issuer.
    #[arg(long = "oidc-issuer")]
    oidc_issuer: Option<String>,
    /// OIDC client ID.
    #[arg(long = "oidc-client-id")]
    oidc_client_id: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    instance: crate::cli::instance::InstanceArgs,
}

/// Runs `cosign sign` (also `cosign attest`, which passes its predicate).
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    run_with(args, None)
}

/// What `cosign attest` adds: predicate type and predicate JSON.
pub(super) struct Attestation {
    pub predicate_type: String,
    pub predicate: serde_json::Value,
}

pub(super) fn run_with(args: Args, attestation: Option<Attestation>) -> anyhow::Result<ExitCode> {
    let referrers = match args.registry_referrers_mode.as_str() {
        "legacy" => args.new_bundle_format,
        "oci-1-1" => true,
        other => {
            return Err(exit::Usage(format!(
                "--registry-referrers-mode {other:?}: want legacy or oci-1-1"
            ))
            .into())
        }
    };
    if !args.tlog_upload && args.key.is_none() {
        return Err(exit::Usage(
            "keyless signing always records the signature in the transparency log; \
             --tlog-upload=false needs --key"
                .into(),
        )
        .into());
    }
    let annotations = image_flags::annotations(&args.annotations)?;
    let client = args.registry.client()?;
    let repository = image_flags::signature_repository()?;
    let mut targets = Vec::new();
    for text in &args.images {
        let reference = image_flags::reference(text)?;
        let (found, was_tag) = oci_sign::resolve_targets(&client, &reference, args.recursive)
            .with_context(|| format!("resolving {reference}"))?;
        if was_tag {
            if let Some(first) = found.first() {
                image_flags::warn_tag(&reference, &first.descriptor.digest);
            }
        }
        targets.extend(found);
    }
    let now = crate::cli::lifecycle::unix_now();
    let created = time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    let storage = Storage {
        referrers,
        upload: args.upload,
        repository: repository.as_ref(),
        created: &created,
    };
    let overrides = Overrides {
        ca_url: args.fulcio_url.clone(),
        rekor_url: args.rekor_url.clone(),
        oidc_issuer: args.oidc_issuer.clone(),
        oidc_client_id: args.oidc_client_id.clone(),
        ..Overrides::default()
    };
    let sign = |signer: &PayloadSigner<'_>| match &attestation {
        None => oci_sign::sign_images(&client, signer, &targets, &annotations, &storage),
        Some(a) => oci_sign::attest_images(
            &client,
            signer,
            &targets,
            &a.predicate_type,
            &a.predicate,
            &storage,
        ),
    };
    let signed = match &args.key {
        Some(key) => {
            let key_signer = image_flags::signer(key)?;
            if args.tlog_upload {
                let instance = args.instance.load()?;
                let rekor_url = match &args.rekor_url {
                    Some(url) => url.clone(),
                    None => instance.rekor_v1(now).context("choosing the transparency log")?,
                };
                let http = crate::http::blocking_client(std::time::Duration::from_secs(30))?;
                let log = KeyLog { http: &http, rekor_url: &rekor_url, root: &instance.root, now };
                sign(&PayloadSigner::Key { signer: key_signer.as_ref(), log: Some(log) })
            } else {
                sign(&PayloadSigner::Key { signer: key_signer.as_ref(), log: None })
            }
        }
        None => {
            let session =
                keyless::Session::open(&args.instance, &overrides, args.identity_token.as_deref())?;
            let config = session.config();
            let certified = crate::sign::keyless::certify(&session.http, &config)
                .context("getting a signing certificate")?;
            sign(&PayloadSigner::Keyless {
                http: &session.http,
                config: &config,
                certified: &certified,
            })
        }
    }
    .context("signing the images (nothing was written to the registry)")?;
    for item in &signed {
        if let Some(stored) = &item.stored {
            output::status(format!("Pushing signature to: {stored}"));
        }
    }
    if let Some(last) = signed.last() {
        write_outputs(&args, last)?;
    }
    let _ = args.yes;
    Ok(exit::Code::Success.into())
}

fn write_outputs(args: &Args, signed: &oci_sign::SignedImage) -> anyhow::Result<()> {
    let write = |path: &PathBuf, data: &[u8]| {
        std::fs::write(path, data).with_context(|| format!("writing {}", path.display()))
    };
    if let Some(path) = &args.output_signature {
        let signature = match &signed.signature.bundle.dsse_envelope {
            Some(env) => env.signatures.first().map(|s| s.sig.0.clone()).unwrap_or_default(),
            None => signed.signature.signature.clone(),
        };
        write(path, crate::encoding::b64_encode(signature).as_bytes())?;
    }
    if let Some(path) = &args.output_payload {
        write(path, &signed.payload)?;
    }
    if let Some(path) = &args.output_certificate {
        let cert = signed
            .signature
            .certificate
            .as_ref()
            .ok_or_else(|| exit::Usage("--output-certificate needs keyless signing".into()))?;
        write(path, cert.to_pem().as_bytes())?;
    }
    Ok(())
}
