//! `cosign verify IMAGE…`: checks the image signatures stored in the registry (or in a
//! `cosign save` layout with `--local-image`) with the one verifier, offline, and prints
//! cosign's JSON array of verified payloads.

use std::collections::BTreeMap;
use std::process::ExitCode;

use super::flags::parse_bool;
use super::image_flags::{self, IdentityArgs, RegistryArgs};
use crate::cli::exit::{self, Rejected, Usage};
use crate::cli::output;
use crate::oci::layout::Kind;
use crate::oci::local::LayoutStore;
use crate::oci::store::{RegistryStore, Store};
use crate::oci::verify::{verify_image, Expectations, Verified};
use crate::verify::Options;

/// Flags shared by `cosign verify` and `cosign verify-attestation`.
#[derive(Debug, clap::Args)]
pub struct CommonArgs {
    /// The images (or, with --local-image, layout directories).
    #[arg(required = true)]
    pub images: Vec<String>,
    /// Public key (PEM file, `env://VAR`, or a cosign private key) for key signatures.
    #[arg(long)]
    pub key: Option<String>,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// Trusted root (or ClientTrustConfig) JSON; default: SIGBOX_TRUST_CONFIG or public good.
    #[arg(long = "trusted-root")]
    pub trusted_root: Option<PathBuf>,
    /// Danger: accept key signatures that are not in a transparency log.
    #[arg(long = "insecure-ignore-tlog", default_value = "false", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, value_parser = parse_bool)]
    pub insecure_ignore_tlog: bool,
    /// Accepted for compatibility; sigbox verifies offline from the stored Rekor bundle.
    #[arg(long, default_value = "false", default_missing_value = "true", num_args = 0..=1,
          require_equals = true, value_parser = parse_bool)]
    pub offline: bool,
    /// Accepted for compatibility (the log is never queried).
    #[arg(long = "rekor-url")]
    pub rekor_url: Option<String>,
    /// The IMAGE arguments are `cosign save` directories.
    #[arg(long = "local-image", default_value = "false", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, value_parser = parse_bool)]
    pub local_image: bool,
    /// `json` (default) or `text`.
    #[arg(short = 'o', long = "output", default_value = "json")]
    pub output: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

use std::path::PathBuf;

/// Flags of `cosign verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: CommonArgs,
    /// Required annotations (key=value) in the signed payload.
    #[arg(short = 'a', long = "annotations")]
    annotations: Vec<String>,
    /// Check that the payload names the image digest.
    #[arg(long = "check-claims", default_value = "true", default_missing_value = "true",
          num_args = 0..=1, require_equals = true, value_parser = parse_bool)]
    check_claims: bool,
}

/// Runs `cosign verify`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let annotations = image_flags::annotations(&args.annotations)?;
    execute(&args.common, Kind::Signature, None, &annotations, args.check_claims)
}

/// Verifies every image of `common` for `kind`, in parallel, and prints the results.
pub(super) fn execute(
    common: &CommonArgs,
    kind: Kind,
    predicate_type: Option<String>,
    annotations: &BTreeMap<String, String>,
    check_claims: bool,
) -> anyhow::Result<ExitCode> {
    if common.output != "json" && common.output != "text" {
        return Err(Usage(format!("--output {:?}: want json or text", common.output)).into());
    }
    let key = common.key.as_deref().map(image_flags::public_key).transpose()?;
    let policy = common.identity.policy(key.is_none())?;
    let root = crate::cli::verify::load_root(common.trusted_root.as_deref())?;
    let options = Options {
        key,
        predicate_type,
        insecure_ignore_tlog: common.insecure_ignore_tlog,
        ..Options::new(crate::cli::lifecycle::unix_now())
    };
    let expect =
        Expectations { root: &root, policy: &policy, options: &options, annotations, check_claims };
    if !check_claims {
        output::status("WARNING: --check-claims=false: the signed image digest is not checked");
    }
    let client = if common.local_image { None } else { Some(common.registry.client()?) };
    let repository = image_flags::signature_repository()?;
    let one = |text: &String| -> anyhow::Result<Vec<Verified>> {
        if common.local_image {
            let layout = LayoutStore::open(std::path::Path::new(text), false)?;
            let image = layout.image()?;
            return verify_in(&layout, text, &image.digest, kind, None, &expect);
        }
        let client = client.as_ref().ok_or_else(|| anyhow::anyhow!("no registry client"))?;
        let reference = image_flags::reference(text)?;
        let digest = image_flags::digest_of(client, &reference)?;
        let repo = repository.clone().unwrap_or_else(|| reference.clone());
        let store = RegistryStore { client, repo };
        verify_in(&store, text, &digest, kind, Some(&reference.repository_name()), &expect)
    };
    let results = parallel_map(&common.images, one);
    let mut payloads = Vec::new();
    let mut errors = Vec::new();
    for (text, result) in common.images.iter().zip(results) {
        match result {
            Ok(verified) => {
                print_header(text, kind, &verified, common.key.is_some());
                payloads.extend(verified);
            }
            Err(e) => errors.push(e),
        }
    }
    print_payloads(&payloads, kind, &common.output)?;
    match errors.len() {
        0 => Ok(exit::Code::Success.into()),
        1 => Err(errors.remove(0)),
        n => {
            // Each failure names its image; the edge prints the summary once.
            for e in &errors {
                output::status(format!("error: {e:#}"));
            }
            Err(Rejected(format!("{n} of {} images failed verification", common.images.len()))
                .into())
        }
    }
}

fn verify_in(
    store: &dyn Store,
    image: &str,
    digest: &str,
    kind: Kind,
    docker_reference: Option<&str>,
    expect: &Expectations<'_>,
) -> anyhow::Result<Vec<Verified>> {
    verify_image(store, image, digest, kind, docker_reference, expect).map_err(|e| match e {
        crate::oci::verify::Error::Registry(e) => anyhow::Error::new(e),
        rejected => anyhow::Error::new(Rejected(rejected.to_string())),
    })
}

/// Runs `f` over `items` on up to 8 threads, keeping the order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() == 1 {
        return items.iter().map(f).collect();
    }
    let workers = items.len().clamp(1, 8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    let results = std::sync::Mutex::new(&mut slots);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                if let Ok(mut guard) = results.lock() {
                    guard[i] = Some(r);
                }
            });
        }
    });
    slots.into_iter().flatten().collect()
}

fn print_header(image: &str, kind: Kind, verified: &[Verified], key: bool) {
    let claims = match kind {
        Kind::Signature => "  - The cosign claims were validated\n",
        Kind::Attestation => "",
    };
    let tlog = if verified.iter().all(|v| v.verdict.tlog.is_some()) {
        "  - Existence of the claims in the transparency log was verified offline\n"
    } else {
        ""
    };
    let who = if key {
        "  - The signatures were verified against the specified public key"
    } else {
        "  - The code-signing certificate was verified using trusted certificate authority certificates"
    };
    output::status(format!(
        "\nVerification for {image} --\nThe following checks were performed on each of these signatures:\n{claims}{tlog}{who}"
    ));
}

/// cosign's output: the payloads as a JSON array, `optional` enriched with the Rekor
/// bundle and the signer's identity; attestations print their DSSE envelopes.
fn print_payloads(verified: &[Verified], kind: Kind, format: &str) -> anyhow::Result<()> {
    if kind == Kind::Attestation {
        for v in verified {
            let envelope = v.envelope.as_deref().unwrap_or(&v.payload);
            output::line(String::from_utf8_lossy(envelope))?;
        }
        return Ok(());
    }
    let mut array = Vec::new();
    for v in verified {
        let mut value: serde_json::Value =
            serde_json::from_slice(&v.payload).unwrap_or(serde_json::Value::Null);
        let (identity, issuer) = match &v.verdict.signer {
            crate::verify::SignerInfo::Certificate { identity, issuer, .. } => {
                (identity.clone(), issuer.clone())
            }
            _ => (None, None),
        };
        if format == "text" {
            if let Some(identity) = &identity {
                output::line(format!("Certificate subject: {identity}"))?;
            }
            if let Some(issuer) = &issuer {
                output::line(format!("Certificate issuer URL: {issuer}"))?;
            }
            output::line(String::from_utf8_lossy(&v.payload))?;
            continue;
        }
        if let Some(object) = value.as_object_mut() {
            let optional = object
                .entry("optional")
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            if optional.is_null() {
                *optional = serde_json::Value::Object(Default::default());
            }
            if let Some(optional) = optional.as_object_mut() {
                if let Some(bundle) = &v.rekor_bundle {
                    optional.insert("Bundle".into(), serde_json::to_value(bundle)?);
                }
                if let Some(identity) = identity {
                    optional.insert("Subject".into(), identity.into());
                }
                if let Some(issuer) = issuer {
                    optional.insert("Issuer".into(), issuer.into());
                }
            }
        }
        array.push(value);
    }
    if format == "json" {
        output::line(serde_json::to_string(&array)?)?;
    }
    Ok(())
}
