//! `cosign sign-blob`: cosign's flags, translated into the native signing request.

use std::path::PathBuf;
use std::process::ExitCode;

use super::flags::parse_bool;
use crate::cli::sign;

/// Flags of `cosign sign-blob` (cosign v2 spellings).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The artifact to sign (`-` for standard input).
    file: PathBuf,
    /// Path to the private key file (cosign format).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Write the Sigstore bundle here.
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// Write the signature here.
    #[arg(long = "output-signature", visible_alias = "output")]
    output_signature: Option<PathBuf>,
    /// Write the signing certificate here (keyless only).
    #[arg(long = "output-certificate")]
    output_certificate: Option<PathBuf>,
    /// Upload the signature to the transparency log.
    #[arg(long = "tlog-upload", default_value = "true", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, value_parser = parse_bool)]
    tlog_upload: bool,
    /// Base64-encode the signature output.
    #[arg(long = "b64", default_value = "true", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, value_parser = parse_bool)]
    b64: bool,
    /// Skip confirmation prompts (and overwrite outputs).
    #[arg(short = 'y', long = "yes")]
    yes: bool,
    /// Write the new (protobuf) bundle format; sigbox always does.
    #[arg(long = "new-bundle-format", default_missing_value = "true", num_args = 0..=1,
          require_equals = true, value_parser = parse_bool)]
    new_bundle_format: Option<bool>,
    /// RFC 3161 timestamp authority URL (full endpoint); default: the signing config's.
    #[arg(long = "timestamp-server-url")]
    timestamp_server_url: Option<String>,
    /// Rekor API generation to write: 1 (default) or 2 (a v2 entry, timed by the TSA).
    #[arg(long = "rekor-version", value_parser = clap::value_parser!(u32).range(1..=2))]
    rekor_version: Option<u32>,
    /// cosign v3: take services from the signing config (sigbox always does).
    #[arg(long = "use-signing-config", default_missing_value = "true", num_args = 0..=1,
          require_equals = true, value_parser = parse_bool)]
    use_signing_config: Option<bool>,
    /// Rekor URL.
    #[arg(long = "rekor-url")]
    rekor_url: Option<String>,
    /// Fulcio URL.
    #[arg(long = "fulcio-url")]
    fulcio_url: Option<String>,
    /// Identity token (keyless).
    #[arg(long = "identity-token")]
    identity_token: Option<String>,
    /// OIDC issuer (keyless).
    #[arg(long = "oidc-issuer")]
    oidc_issuer: Option<String>,
    /// OIDC client ID (keyless).
    #[arg(long = "oidc-client-id")]
    oidc_client_id: Option<String>,
    /// Which instance: --trust-config, or --trusted-root with --signing-config.
    #[command(flatten)]
    instance: crate::cli::instance::InstanceArgs,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Accepted for cosign v3 scripts: services always come from the signing config.
    let _ = args.use_signing_config;
    if args.new_bundle_format == Some(false) {
        return Err(crate::cli::exit::Usage(
            "--new-bundle-format=false (the legacy cosign bundle) is not written by sigbox".into(),
        )
        .into());
    }
    if args.output_certificate.is_some() && args.key.is_some() {
        return Err(crate::cli::exit::Usage(
            "--output-certificate needs keyless signing; a --key signature has no certificate"
                .into(),
        )
        .into());
    }
    sign::execute(sign::Request {
        file: args.file,
        key: args.key,
        bundle: args.bundle,
        output_signature: args.output_signature,
        tlog_upload: args.tlog_upload,
        b64: args.b64,
        overwrite: true,
        output_certificate: args.output_certificate,
        identity_token: args.identity_token,
        instance: args.instance,
        overrides: crate::instance::Overrides {
            ca_url: args.fulcio_url,
            rekor_url: args.rekor_url,
            oidc_issuer: args.oidc_issuer,
            oidc_client_id: args.oidc_client_id,
            tsa_url: args.timestamp_server_url.clone(),
            rekor_version: args.rekor_version,
        },
    })
}
