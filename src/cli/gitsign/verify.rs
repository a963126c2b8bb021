//! Verification front ends: git's `--verify SIGFILE -`, `gitsign verify [REV]`,
//! `gitsign verify-tag TAG`, and `gitsign show [REV]`.

use std::ffi::OsString;
use std::io::Read;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

use super::{settings, Status};
use crate::cli::exit::{Code, Rejected, Usage};
use crate::cli::lifecycle::unix_now;
use crate::cli::verify::IdentityFlag;
use crate::git::object::{self, Kind};
use crate::git::verify::{Check, Signature};
use crate::git::RekorMode;
use crate::instance::Instance;
use crate::policy::{Matcher, Policy};
use crate::verify::{SignerInfo, Verdict};

/// The instance to trust, as `cosign verify-blob` picks it: `--trusted-root FILE` (a
/// trusted root or a ClientTrustConfig), else `SIGBOX_TRUST_CONFIG`, else public good;
/// then gitsign's `fulcioRoot` and `SIGSTORE_REKOR_PUBLIC_KEY` replace its CAs and log
/// keys when set.
pub(super) fn instance_from(trusted_root: Option<&std::path::Path>) -> anyhow::Result<Instance> {
    let instance = crate::cli::instance::load(&crate::cli::instance::verify_source(trusted_root))?;
    super::apply_trust_knobs(instance, &settings()?)
}

/// The instance git's calls use (no flags): `SIGBOX_TRUST_CONFIG`, else public good.
pub(super) fn instance() -> anyhow::Result<Instance> {
    instance_from(None)
}

/// What a verification established, for the output.
struct Outcome {
    verdict: Verdict,
    mode: RekorMode,
}

/// Verifies `armored` over `payload`: the mode from the signature, the online entry from
/// the log, `gitsign.matchCommitter` from the settings.
fn verify(
    payload: &[u8],
    sig: &Signature,
    policy: Policy,
    instance: &Instance,
) -> anyhow::Result<Outcome> {
    let settings = settings()?;
    let policy = if settings.match_committer {
        let email = object::signer_email(payload).ok_or_else(|| {
            Rejected("gitsign.matchCommitter: the object has no committer".into())
        })?;
        policy.with_identity(Matcher::exact(email))
    } else {
        policy
    };
    let result = verify_with(payload, sig, &policy, instance, settings.rekor.clone());
    let id = crate::git::verify::object_id(payload, sig);
    match &result {
        Ok(outcome) => super::log_line(
            &settings,
            &format!("verified object {id} ({} mode)", outcome.mode.name()),
        ),
        Err(e) => super::log_line(&settings, &format!("object {id} failed: {e:#}")),
    }
    result
}

fn verify_with(
    payload: &[u8],
    sig: &Signature,
    policy: &Policy,
    instance: &Instance,
    rekor: Option<String>,
) -> anyhow::Result<Outcome> {
    let now = unix_now();
    let check = Check { payload, root: &instance.root, policy, now };
    let mode = sig.mode().map_err(reject)?;
    let verdict = match mode {
        RekorMode::Offline => crate::git::verify::verify_offline(&check, sig).map_err(reject)?,
        RekorMode::Online => {
            let rekor = match rekor {
                Some(url) => url,
                None => instance.rekor_v1(now).context("choosing the transparency log")?,
            };
            let http = crate::http::blocking_client(std::time::Duration::from_secs(30))
                .context("building the HTTP client")?;
            let client = crate::rekor::client::Client::new(http, &rekor);
            let find = || crate::git::verify::find_entry(&client, payload, sig);
            match crate::git::verify::verify_online(&check, sig, find) {
                Ok(verdict) => verdict,
                Err(e @ crate::git::Error::Log(_)) => {
                    return Err(anyhow::Error::new(e).context(format!("searching {rekor}")))
                }
                Err(e) => return Err(reject(e)),
            }
        }
    };
    Ok(Outcome { verdict, mode })
}

fn reject(e: crate::git::Error) -> anyhow::Error {
    anyhow::Error::new(Rejected(format!("{:#}", anyhow::Error::new(e))))
}

fn who(verdict: &Verdict) -> (String, String) {
    match &verdict.signer {
        SignerInfo::Certificate { identity, issuer, .. } => {
            (identity.clone().unwrap_or_default(), issuer.clone().unwrap_or_default())
        }
        SignerInfo::Key { key_id } => (key_id.clone(), String::new()),
    }
}

/// git's `gitsign --status-fd=1 --verify SIGFILE -`.
pub(super) fn run_gpg(
    status_fd: Option<i32>,
    sig_path: &str,
    payload_path: &str,
) -> anyhow::Result<ExitCode> {
    let mut status = Status::open(status_fd)?;
    let armored =
        std::fs::read(sig_path).with_context(|| format!("reading signature {sig_path}"))?;
    let mut payload = Vec::new();
    if payload_path == "-" {
        std::io::stdin().lock().read_to_end(&mut payload).context("reading the payload")?;
    } else {
        payload = std::fs::read(payload_path).with_context(|| format!("reading {payload_path}"))?;
    }
    status.line("[GNUPG:] NEWSIG")?;
    let sig = match Signature::from_armored(&armored) {
        Ok(sig) => sig,
        Err(e) => {
            status.line("[GNUPG:] ERRSIG 0000000000000000 0 0 00 0 9")?;
            return Err(reject(e));
        }
    };
    let fpr = sig.leaf().map(crate::git::sign::fingerprint).unwrap_or_default();
    let result = instance().and_then(|instance| verify(&payload, &sig, Policy::any(), &instance));
    match result {
        Ok(outcome) => {
            let (identity, issuer) = who(&outcome.verdict);
            print_good(&outcome, &fpr);
            status.line(&format!("[GNUPG:] GOODSIG {fpr} {identity}"))?;
            status.line("[GNUPG:] TRUST_FULLY 0 shell")?;
            crate::cli::output::status(format!(
                "WARNING: git verify-commit does not check the signer's identity ({identity}, \
                 issuer {issuer}). Use `gitsign verify --certificate-identity=... \
                 --certificate-oidc-issuer=...` for that."
            ));
            Ok(Code::Success.into())
        }
        Err(e) => {
            if super::super::exit::code_for(&e) == Code::Rejected {
                status.line(&format!("[GNUPG:] BADSIG {fpr} gitsign"))?;
            } else {
                status.line("[GNUPG:] ERRSIG 0000000000000000 0 0 00 0 9")?;
            }
            Err(e)
        }
    }
}

fn print_good(outcome: &Outcome, fpr: &str) {
    let (identity, issuer) = who(&outcome.verdict);
    if let Some(tlog) = &outcome.verdict.tlog {
        crate::cli::output::status(format!(
            "tlog index: {} ({} mode)",
            tlog.log_index,
            outcome.mode.name()
        ));
    }
    crate::cli::output::status(format!("gitsign: Signature made using certificate ID 0x{fpr}"));
    crate::cli::output::status(format!("gitsign: Good signature from [{identity}]({issuer})"));
    crate::cli::output::status("Validated Git signature: true");
    crate::cli::output::status("Validated Rekor entry: true");
}

/// `gitsign verify [REV]` / `gitsign verify-tag TAG`.
#[derive(Debug, Parser)]
#[command(name = "gitsign verify")]
struct VerifyArgs {
    /// Expected certificate identity (SAN), exact.
    #[arg(long = "certificate-identity", conflicts_with = "identity_regexp")]
    identity: Option<String>,
    /// Expected certificate identity (SAN), whole-string regex.
    #[arg(long = "certificate-identity-regexp")]
    identity_regexp: Option<String>,
    /// Expected OIDC issuer, exact.
    #[arg(long = "certificate-oidc-issuer", conflicts_with = "issuer_regexp")]
    issuer: Option<String>,
    /// Expected OIDC issuer, whole-string regex.
    #[arg(long = "certificate-oidc-issuer-regexp")]
    issuer_regexp: Option<String>,
    /// Trusted root or ClientTrustConfig JSON (default: SIGBOX_TRUST_CONFIG, else the
    /// embedded public-good root).
    #[arg(long = "trusted-root")]
    trusted_root: Option<std::path::PathBuf>,
    /// The commit (default HEAD) or tag.
    rev: Option<String>,
}

pub(super) fn run_verify(args: Vec<OsString>, kind: Kind) -> anyhow::Result<ExitCode> {
    let args = VerifyArgs::try_parse_from(args)?;
    let flag = |exact: Option<String>, regex: Option<String>| match (exact, regex) {
        (Some(e), _) => Some(IdentityFlag::Exact(e)),
        (None, Some(r)) => Some(IdentityFlag::Regex(r)),
        (None, None) => None,
    };
    let identity = flag(args.identity, args.identity_regexp);
    let issuer = flag(args.issuer, args.issuer_regexp);
    if identity.is_none() || issuer.is_none() {
        return Err(Usage(
            "give --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]".into(),
        )
        .into());
    }
    let policy = crate::cli::verify::identity_policy(identity.as_ref(), issuer.as_ref())?;
    let rev = match (kind, args.rev) {
        (_, Some(rev)) => rev,
        (Kind::Commit, None) => "HEAD".into(),
        (Kind::Tag, None) => return Err(Usage("gitsign verify-tag needs a TAG".into()).into()),
    };
    let raw = cat_file(kind, &rev)?;
    let (payload, armored) = object::split(kind, &raw)?;
    let armored =
        armored.ok_or_else(|| Rejected(format!("{} {rev} is not signed", kind.name())))?;
    let sig = Signature::from_armored(&armored).map_err(reject)?;
    let fpr = sig.leaf().map(crate::git::sign::fingerprint).unwrap_or_default();
    let outcome = verify(&payload, &sig, policy, &instance_from(args.trusted_root.as_deref())?)?;
    print_good(&outcome, &fpr);
    crate::cli::output::status("Validated Certificate claims: true");
    Ok(Code::Success.into())
}

/// `git cat-file <kind> REV` in the current directory.
fn cat_file(kind: Kind, rev: &str) -> anyhow::Result<Vec<u8>> {
    if rev.starts_with('-') {
        return Err(Usage(format!("{rev:?} is not a revision")).into());
    }
    let out = std::process::Command::new("git")
        .args(["cat-file", kind.name(), rev])
        .output()
        .context("running git cat-file (is git installed?)")?;
    if !out.status.success() {
        return Err(Usage(format!(
            "git cat-file {} {rev}: {}",
            kind.name(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
        .into());
    }
    Ok(out.stdout)
}

/// `gitsign show [REV]`: the commit and its signature as the predicate gitsign would
/// attest (source commit fields, armored signature, signer info).
pub(super) fn run_show(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    #[derive(Debug, Parser)]
    #[command(name = "gitsign show")]
    struct ShowArgs {
        /// The commit (default HEAD).
        rev: Option<String>,
    }
    let args = ShowArgs::try_parse_from(args)?;
    let rev = args.rev.unwrap_or_else(|| "HEAD".into());
    let raw = cat_file(Kind::Commit, &rev)?;
    let (payload, armored) = object::split(Kind::Commit, &raw)?;
    let text = String::from_utf8_lossy(&payload).into_owned();
    let (headers, message) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
    let mut source = serde_json::Map::new();
    let mut parents = Vec::new();
    for line in headers.lines() {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "tree" => {
                source.insert("tree".into(), value.into());
            }
            "parent" => parents.push(serde_json::Value::from(value)),
            "author" | "committer" => {
                source.insert(key.into(), person(value));
            }
            _ => {}
        }
    }
    source.insert("parents".into(), parents.into());
    source.insert("message".into(), message.into());
    let mut predicate = serde_json::json!({ "source": source });
    if let Some(armored) = armored {
        let sig = Signature::from_armored(&armored).map_err(reject)?;
        predicate["signature"] = String::from_utf8_lossy(&armored).into_owned().into();
        predicate["signer_info"] = serde_json::json!([{
            "attributes": crate::encoding::b64_encode(&sig.cms.signed_attrs),
            "certificate": sig.leaf().map(|c| c.to_pem()).unwrap_or_default(),
        }]);
    }
    crate::cli::output::json(&predicate)?;
    Ok(Code::Success.into())
}

/// `Name <email> 1685981477 -0400` as `{name, email, date}`.
fn person(value: &str) -> serde_json::Value {
    let (name, rest) = value.split_once(" <").unwrap_or((value, ""));
    let (email, date) = rest.split_once("> ").unwrap_or((rest, ""));
    serde_json::json!({"name": name, "email": email, "date": date})
}
