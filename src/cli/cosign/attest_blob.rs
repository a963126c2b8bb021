//! `cosign attest-blob`: an in-toto Statement v1 about a file, signed keylessly in a DSSE
//! envelope and logged as a `dsse` entry; verified by `cosign verify-blob-attestation`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::flags::parse_bool;
use crate::cli::{exit, keyless, sign};
use crate::crypto::{digest_reader, HashAlgorithm};

/// Flags of `cosign attest-blob`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file the attestation is about (the statement's subject).
    file: PathBuf,
    /// The predicate (JSON file) to wrap in a statement.
    #[arg(long, conflicts_with = "statement")]
    predicate: Option<PathBuf>,
    /// Predicate type: a URI or one of cosign's short names (slsaprovenance, custom, ...).
    #[arg(long = "type", default_value = "custom")]
    predicate_type: String,
    /// A complete in-toto statement (JSON file) to sign as is.
    #[arg(long)]
    statement: Option<PathBuf>,
    /// Write the Sigstore bundle here (else it goes to stdout).
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// Write the signing certificate here.
    #[arg(long = "output-certificate")]
    output_certificate: Option<PathBuf>,
    /// Self-managed keys are not supported for attestations yet.
    #[arg(long)]
    key: Option<PathBuf>,
    /// Identity token.
    #[arg(long = "identity-token")]
    identity_token: Option<String>,
    /// Upload to the transparency log (keyless attestations always do).
    #[arg(long = "tlog-upload", default_value = "true", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, value_parser = parse_bool)]
    tlog_upload: bool,
    /// Skip confirmation prompts.
    #[arg(short = 'y', long = "yes")]
    yes: bool,
    /// Which instance: --trust-config, or --trusted-root with --signing-config.
    #[command(flatten)]
    instance: crate::cli::instance::InstanceArgs,
    /// Fulcio URL.
    #[arg(long = "fulcio-url")]
    fulcio_url: Option<String>,
    /// Rekor URL.
    #[arg(long = "rekor-url")]
    rekor_url: Option<String>,
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
    /// OIDC issuer.
    #[arg(long = "oidc-issuer")]
    oidc_issuer: Option<String>,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Accepted for cosign v3 scripts: services always come from the signing config.
    let _ = args.use_signing_config;
    if args.key.is_some() {
        return Err(
            exit::Usage("attest-blob with --key is not supported by sigbox yet".into()).into()
        );
    }
    let statement = match (&args.statement, &args.predicate) {
        (Some(path), None) => {
            std::fs::read(path).with_context(|| format!("reading statement {}", path.display()))?
        }
        (None, Some(path)) => {
            let predicate: serde_json::Value = serde_json::from_slice(
                &std::fs::read(path)
                    .with_context(|| format!("reading predicate {}", path.display()))?,
            )
            .with_context(|| format!("predicate {} is not JSON", path.display()))?;
            let file = std::fs::File::open(&args.file)
                .with_context(|| format!("opening {}", args.file.display()))?;
            let digest = digest_reader(HashAlgorithm::Sha256, std::io::BufReader::new(file))
                .with_context(|| format!("reading {}", args.file.display()))?;
            let name =
                args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let statement = serde_json::json!({
                "_type": crate::bundle::STATEMENT_V1,
                "subject": [{"name": name, "digest": {"sha256": digest.to_hex()}}],
                "predicateType": crate::bundle::predicate_type_uri(&args.predicate_type),
                "predicate": predicate,
            });
            serde_json::to_vec(&statement).context("encoding the statement")?
        }
        _ => {
            return Err(exit::Usage("give exactly one of --predicate and --statement".into()).into())
        }
    };
    let request = sign::Request {
        file: args.file,
        key: None,
        bundle: args.bundle,
        output_signature: None,
        tlog_upload: args.tlog_upload,
        b64: true,
        overwrite: true,
        output_certificate: args.output_certificate,
        identity_token: args.identity_token,
        instance: args.instance,
        overrides: crate::instance::Overrides {
            ca_url: args.fulcio_url,
            rekor_url: args.rekor_url,
            oidc_issuer: args.oidc_issuer,
            oidc_client_id: None,
            tsa_url: args.timestamp_server_url.clone(),
            rekor_version: args.rekor_version,
        },
    };
    let _ = args.yes;
    keyless::attest(&request, &statement)
}
