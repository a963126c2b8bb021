//! `sigbox verify`, and the shared front end that `cosign verify-blob` and
//! `cosign verify-blob-attestation` translate their flags into.
//!
//! Steps (STYLE §2): flags → [`Request`] (plain values), [`resolve`] reads the files, loads
//! the trust root and builds the policy, then one call to `verify::verify`, then output.
//! Exit codes: 0 verified; 1 rejected (including a malformed bundle); 2 usage or I/O.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::bundle::Checked;
use crate::cli::exit::{Code, Rejected, Usage};
use crate::cli::output;
use crate::crypto::PublicKey;
use crate::policy::{Extension, Matcher, Policy};
use crate::trust::TrustedRoot;

mod input;
use crate::verify::{self, Artifact, Options, Verdict};
use input::{check_detached_signature, detached_signature_bundle, load_input, Input};

/// Flags of `sigbox verify` (native spellings).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The artifact: a path, or `sha256:<64 hex>` when no such file exists. Omit for DSSE
    /// bundles to check the envelope alone.
    input: Option<String>,
    /// The Sigstore bundle (default: INPUT.sigstore.json).
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// Trusted root (or ClientTrustConfig) JSON; default: the embedded public-good root.
    #[arg(long = "trusted-root")]
    trusted_root: Option<PathBuf>,
    /// Expected certificate identity (SAN), exact.
    #[arg(long, conflicts_with = "identity_regex")]
    identity: Option<String>,
    /// Expected certificate identity (SAN), whole-string regex.
    #[arg(long = "identity-regex")]
    identity_regex: Option<String>,
    /// Expected OIDC issuer, exact.
    #[arg(long, conflicts_with = "issuer_regex")]
    issuer: Option<String>,
    /// Expected OIDC issuer, whole-string regex.
    #[arg(long = "issuer-regex")]
    issuer_regex: Option<String>,
    /// Public key (PEM or DER) for key-signed bundles.
    #[arg(long)]
    key: Option<PathBuf>,
    /// Required in-toto predicate type (DSSE bundles).
    #[arg(long = "predicate-type")]
    predicate_type: Option<String>,
    /// Accept any identity that chains to the trusted root (no --identity/--issuer).
    #[arg(long = "any-identity")]
    any_identity: bool,
    /// Danger: accept a key-signed bundle with no transparency log entry.
    #[arg(long = "insecure-ignore-tlog")]
    insecure_ignore_tlog: bool,
    /// Print the verdict as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `sigbox verify`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let bundle = match (&args.bundle, &args.input) {
        (Some(bundle), _) => bundle.clone(),
        (None, Some(input)) => PathBuf::from(format!("{input}.sigstore.json")),
        (None, None) => return Err(Usage("give --bundle or an INPUT".into()).into()),
    };
    let bundle = Some(bundle);
    let identity = match (args.identity, args.identity_regex) {
        (Some(exact), _) => Some(IdentityFlag::Exact(exact)),
        (None, Some(regex)) => Some(IdentityFlag::Regex(regex)),
        (None, None) => None,
    };
    let issuer = match (args.issuer, args.issuer_regex) {
        (Some(exact), _) => Some(IdentityFlag::Exact(exact)),
        (None, Some(regex)) => Some(IdentityFlag::Regex(regex)),
        (None, None) => None,
    };
    execute(Request {
        bundle,
        input: args.input,
        trusted_root: args.trusted_root,
        identity,
        issuer,
        extensions: Vec::new(),
        key: args.key,
        insecure_ignore_tlog: args.insecure_ignore_tlog,
        signature: None,
        predicate_type: args.predicate_type,
        require_identity: !args.any_identity,
        format: if args.json { output::Format::Json } else { output::Format::Human },
        persona: Persona::Sigbox,
    })
}

/// An identity or issuer flag: exact or regex.
#[derive(Debug, Clone)]
pub(crate) enum IdentityFlag {
    /// `--certificate-identity`.
    Exact(String),
    /// `--certificate-identity-regexp`.
    Regex(String),
}

/// Which front end asked (changes only the human output).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Persona {
    /// `sigbox verify`.
    Sigbox,
    /// `cosign verify-blob[-attestation]`.
    Cosign,
}

/// Everything a verify front end resolved from its flags (no I/O yet).
#[derive(Debug)]
pub(crate) struct Request {
    /// The bundle file; `None` means a bare `--signature` checked with `--key`.
    pub bundle: Option<PathBuf>,
    pub input: Option<String>,
    pub trusted_root: Option<PathBuf>,
    pub identity: Option<IdentityFlag>,
    pub issuer: Option<IdentityFlag>,
    pub extensions: Vec<(Extension, String)>,
    pub key: Option<PathBuf>,
    pub insecure_ignore_tlog: bool,
    /// `--signature`: base64 signature that must equal the bundle's.
    pub signature: Option<PathBuf>,
    pub predicate_type: Option<String>,
    /// Keyless bundles need an identity and an issuer unless this is false.
    pub require_identity: bool,
    pub format: output::Format,
    pub persona: Persona,
}

/// Resolves a request, verifies, and prints the outcome.
pub(crate) fn execute(request: Request) -> anyhow::Result<ExitCode> {
    let (bundle, label) = match (&request.bundle, &request.signature) {
        (Some(path), _) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("reading bundle {}", path.display()))?;
            let bundle = Checked::from_json(&bytes).map_err(|e| {
                rejected(anyhow::Error::new(e), &format!("bundle {}", path.display()))
            })?;
            (bundle, path.display().to_string())
        }
        (None, Some(signature)) if request.key.is_some() => {
            (detached_signature_bundle(signature)?, signature.display().to_string())
        }
        _ => {
            return Err(Usage("give --bundle, or --key with --signature".into()).into());
        }
    };
    let root = load_root(request.trusted_root.as_deref())?;
    let policy = build_policy(&request, &bundle)?;
    let key = match &request.key {
        None => None,
        Some(path) => Some(load_key(path)?),
    };
    if let (Some(path), Some(_)) = (&request.signature, &request.bundle) {
        check_detached_signature(path, &bundle)?;
    }
    let now = crate::cli::lifecycle::unix_now();
    let options = Options {
        key,
        predicate_type: request.predicate_type.clone(),
        insecure_ignore_tlog: request.insecure_ignore_tlog,
        ..Options::new(now)
    };
    let input = load_input(request.input.as_deref(), &bundle)?;
    let artifact = match &input {
        Input::None => Artifact::Omitted,
        Input::Bytes(bytes) => Artifact::Bytes(bytes),
        Input::Digest(d) => Artifact::Digest(d.clone()),
    };
    let verdict = match verify::verify(&bundle, &artifact, &root, &policy, &options) {
        Ok(verdict) => verdict,
        Err(e) => {
            if request.format == output::Format::Json {
                output::json(&serde_json::json!({
                    "verified": false,
                    "check": e.check(),
                    "error": format!("{:#}", anyhow::Error::new(e)),
                }))?;
                return Ok(Code::Rejected.into());
            }
            return Err(rejected(anyhow::Error::new(e), &label));
        }
    };
    show(&verdict, request.format, request.persona)?;
    Ok(Code::Success.into())
}

/// Loads `--trusted-root` (a trusted root or a ClientTrustConfig), else the instance
/// `SIGBOX_TRUST_CONFIG` names, else the embedded public-good root.
pub(crate) fn load_root(path: Option<&Path>) -> anyhow::Result<TrustedRoot> {
    Ok(crate::cli::instance::load(&crate::cli::instance::verify_source(path))?.root)
}

/// The identity policy of an identity flag and an issuer flag (also `gitsign verify`'s).
pub(crate) fn identity_policy(
    identity: Option<&IdentityFlag>,
    issuer: Option<&IdentityFlag>,
) -> anyhow::Result<Policy> {
    let mut policy = Policy::any();
    let matcher = |flag: &IdentityFlag, what: &'static str| -> anyhow::Result<Matcher> {
        Ok(match flag {
            IdentityFlag::Exact(value) => Matcher::exact(value.clone()),
            IdentityFlag::Regex(pattern) => {
                Matcher::regex(what, pattern).map_err(|e| Usage(format!("{e}")))?
            }
        })
    };
    if let Some(flag) = identity {
        policy = policy.with_identity(matcher(flag, "identity")?);
    }
    if let Some(flag) = issuer {
        policy = policy.with_issuer(matcher(flag, "issuer")?);
    }
    Ok(policy)
}

fn build_policy(request: &Request, bundle: &Checked) -> anyhow::Result<Policy> {
    let mut policy = identity_policy(request.identity.as_ref(), request.issuer.as_ref())?;
    for (extension, value) in &request.extensions {
        policy = policy.with_extension(*extension, value.clone());
    }
    let keyless = bundle.certificate().is_some();
    if keyless
        && request.require_identity
        && (request.identity.is_none() || request.issuer.is_none())
    {
        return Err(Usage(
            "a certificate bundle needs an expected identity and OIDC issuer \
             (--certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp])"
                .into(),
        )
        .into());
    }
    Ok(policy)
}

fn load_key(path: &Path) -> anyhow::Result<PublicKey> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading public key {}", path.display()))?;
    crate::crypto::PublicKey::from_pem_or_der(&bytes)
        .with_context(|| format!("reading public key {}", path.display()))
}

/// Wraps a core rejection so the edge exits with 1, keeping the whole cause chain.
fn rejected(error: anyhow::Error, what: &str) -> anyhow::Error {
    anyhow::Error::new(Rejected(format!("{what}: {error:#}")))
}

fn show(verdict: &Verdict, format: output::Format, persona: Persona) -> anyhow::Result<()> {
    if format == output::Format::Json {
        let mut value = serde_json::to_value(verdict)?;
        if let Some(object) = value.as_object_mut() {
            object.insert("verified".into(), serde_json::Value::Bool(true));
        }
        return output::json(&value);
    }
    if persona == Persona::Cosign {
        // compat(cosign): cosign prints "Verified OK" on stderr.
        output::status("Verified OK");
        return Ok(());
    }
    let who = match &verdict.signer {
        verify::SignerInfo::Certificate { identity, issuer, .. } => format!(
            "{} (issuer {})",
            identity.as_deref().unwrap_or("?"),
            issuer.as_deref().unwrap_or("?")
        ),
        verify::SignerInfo::Key { key_id } => format!("key {key_id}"),
    };
    let when = verdict
        .verified_times
        .first()
        .map_or_else(|| "no signed time".to_string(), |t| format!("signed at {}", t.time));
    output::line(format!("verified: {who}, {when}"))?;
    Ok(())
}
