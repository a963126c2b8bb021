//! `sigbox rekor upload | get | search | loginfo | verify`: the rekor-cli role.
//!
//! Each subcommand resolves its files into one `rekor` call: `rekor::client` to talk to the
//! log, `rekor::verify_entry` to check an entry (SET, inclusion proof, checkpoint), and
//! `rekor::monitor::check_log` to prove the log append-only since the last visit. A check
//! that fails exits 1; usage, I/O and network errors exit 2.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use serde_json::{json, Value};

use super::{exit, output};
use crate::bundle::wire::Bundle;
use crate::crypto::{digest_reader, HashAlgorithm, PublicKey};
use crate::encoding::{b64_decode, b64_encode, hex_encode};
use crate::rekor::client::{self, Client};
use crate::rekor::{self, monitor};

/// Flags of `sigbox rekor`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Rekor server.
    #[arg(
        long,
        global = true,
        env = "SIGBOX_REKOR_URL",
        default_value = "https://rekor.sigstore.dev"
    )]
    rekor_url: String,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Also trust these PEM CA certificates for HTTPS (a private log).
    #[arg(long, global = true)]
    ca_cert: Option<PathBuf>,
    /// The log's public key (PEM); default: fetched from the log (trust on first use).
    #[arg(long, global = true)]
    rekor_key: Option<PathBuf>,
    /// Seconds allowed for each request.
    #[arg(long, global = true, default_value_t = 30)]
    timeout: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Log a signature: artifact + signature + public key or certificate, or a bundle.
    Upload {
        /// The signed file (hashed with SHA-256).
        #[arg(long, requires = "signature", conflicts_with = "bundle")]
        artifact: Option<PathBuf>,
        /// The signature: DER, or base64 of DER (cosign's `.sig`).
        #[arg(long, requires = "artifact")]
        signature: Option<PathBuf>,
        /// The signer's PEM public key or certificate.
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// A Sigstore bundle to log (hashedrekord or dsse).
        #[arg(long, required_unless_present = "artifact")]
        bundle: Option<PathBuf>,
    },
    /// Show one entry.
    Get(Select),
    /// Find entry IDs by artifact hash, public key or email.
    Search {
        /// `sha256:HEX` (or bare hex) of the artifact.
        #[arg(long)]
        sha: Option<String>,
        /// Hash this file and search for it.
        #[arg(long)]
        artifact: Option<PathBuf>,
        /// A PEM public key or certificate.
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// A certificate email subject.
        #[arg(long)]
        email: Option<String>,
        /// Combine the criteria with `and` or `or`.
        #[arg(long, default_value = "or", value_parser = ["and", "or"])]
        operator: String,
    },
    /// Show the log's size and root, and prove it consistent with the last checkpoint seen.
    Loginfo,
    /// Verify an entry's SET, inclusion proof and checkpoint against the log key.
    Verify(Select),
}

/// Which entry: by index, by UUID, or by what it logs.
#[derive(Debug, clap::Args)]
struct Select {
    /// The (global) log index.
    #[arg(long, conflicts_with_all = ["uuid", "artifact"])]
    log_index: Option<u64>,
    /// The 64-hex UUID or 80-hex entry ID.
    #[arg(long, conflicts_with = "artifact")]
    uuid: Option<String>,
    /// The signed file (with --signature and --public-key): find its hashedrekord entry.
    #[arg(long, requires_all = ["signature", "public_key"])]
    artifact: Option<PathBuf>,
    /// The signature over --artifact (DER or base64).
    #[arg(long)]
    signature: Option<PathBuf>,
    /// The signer's PEM public key or certificate.
    #[arg(long)]
    public_key: Option<PathBuf>,
}

/// Runs a parsed `sigbox rekor` command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let ca = args.ca_cert.as_deref().map(read).transpose()?;
    let http =
        crate::http::blocking_client_with_ca(Duration::from_secs(args.timeout), ca.as_deref())
            .context("setting up the HTTP client")?;
    let url = args.rekor_url.trim_end_matches('/').to_string();
    let client = Client::new(http, &url);
    match &args.command {
        Command::Upload { artifact, signature, public_key, bundle } => {
            let key_pem = public_key.as_deref().map(read_verifier_pem).transpose()?;
            let proposal = match (bundle, artifact, signature) {
                (Some(b), _, _) => {
                    let bundle = Bundle::from_json(&read(b)?)
                        .with_context(|| format!("parsing the bundle {}", b.display()))?;
                    client::proposal_from_bundle(&bundle, key_pem.as_deref())?
                }
                (None, Some(a), Some(s)) => {
                    let key_pem = key_pem.ok_or_else(|| usage("--artifact needs --public-key"))?;
                    client::hashedrekord_proposal(&hash_file(a)?, &read_signature(s)?, &key_pem)
                }
                _ => return Err(usage("give --bundle, or --artifact with --signature").into()),
            };
            let logged = client.create_entry(&proposal).map_err(rejected_if_refused)?;
            show_entry(&args, &logged, None)
        }
        Command::Get(select) => {
            let map = fetch_map(&client, select)?;
            if args.json {
                output::json(&map)?;
                return Ok(exit::Code::Success.into());
            }
            show_entry(&args, &client::log_entry_from_map(&map)?, None)
        }
        Command::Search { sha, artifact, public_key, email, operator } => {
            let mut query = serde_json::Map::new();
            if let Some(sha) = sha {
                query.insert("hash".into(), normalize_sha(sha)?.into());
            } else if let Some(a) = artifact {
                query.insert("hash".into(), format!("sha256:{}", hash_file(a)?.to_hex()).into());
            }
            if let Some(k) = public_key {
                let pem = read_verifier_pem(k)?;
                query.insert(
                    "publicKey".into(),
                    json!({"format": "x509", "content": b64_encode(pem)}),
                );
            }
            if let Some(e) = email {
                query.insert("email".into(), e.clone().into());
            }
            if query.is_empty() {
                return Err(usage("give --sha, --artifact, --public-key or --email").into());
            }
            query.insert("operator".into(), operator.clone().into());
            let ids = client.search(&Value::Object(query))?;
            if args.json {
                output::json(&ids)?;
            } else if ids.is_empty() {
                output::status("no entries found");
            } else {
                for id in &ids {
                    output::line(id)?;
                }
            }
            Ok(exit::Code::Success.into())
        }
        Command::Loginfo => {
            let key = log_key(&args, &client)?;
            let report = monitor::check_log(&client, &url, &key, &state_dir()?)
                .map_err(rejected_if_check)?;
            show_loginfo(&args, &url, &report)
        }
        Command::Verify(select) => {
            let key = log_key(&args, &client)?;
            let logged = client::log_entry_from_map(&fetch_map(&client, select)?)?;
            let verified = rekor::verify_entry(&logged, &key).map_err(rejected_if_check)?;
            show_entry(&args, &logged, Some(&verified))
        }
    }
}

fn fetch_map(client: &Client, select: &Select) -> anyhow::Result<Value> {
    Ok(match (select.log_index, &select.uuid, &select.artifact) {
        (Some(i), _, _) => client.entry_map_by_index(i)?,
        (None, Some(u), _) => client.entry_map_by_uuid(u)?,
        (None, None, Some(a)) => {
            let (Some(sig), Some(key)) = (&select.signature, &select.public_key) else {
                return Err(usage("--artifact needs --signature and --public-key").into());
            };
            let proposal = client::hashedrekord_proposal(
                &hash_file(a)?,
                &read_signature(sig)?,
                &read_verifier_pem(key)?,
            );
            // The server stores the canonical form; computing it here gives the UUID.
            let entry = rekor::canonicalize_proposed(&proposal).map_err(rejected_if_refused)?;
            client.entry_map_by_uuid(&hex_encode(crate::tlog::hash_leaf(&entry.body)))?
        }
        (None, None, None) => return Err(usage("give --log-index, --uuid or --artifact").into()),
    })
}

fn log_key(args: &Args, client: &Client) -> anyhow::Result<PublicKey> {
    let pem = match &args.rekor_key {
        Some(path) => String::from_utf8(read(path)?).context("the log key is not PEM text")?,
        None => client.public_key_pem().context("fetching the log's public key")?,
    };
    PublicKey::from_pem(&pem).context("reading the log's public key")
}

fn show_entry(
    args: &Args,
    logged: &client::LoggedEntry,
    verified: Option<&rekor::VerifiedEntry>,
) -> anyhow::Result<ExitCode> {
    let e = &logged.entry;
    let body: Value = serde_json::from_slice(&e.canonicalized_body).unwrap_or(Value::Null);
    if args.json {
        let mut out = json!({
            "entryID": logged.entry_id,
            "logIndex": e.log_index,
            "integratedTime": e.integrated_time,
            "logID": hex_encode(e.log_id.key_id.as_slice()),
            "kind": e.kind_version.kind,
            "apiVersion": e.kind_version.version,
            "body": body,
        });
        if let Some(v) = verified {
            out["verified"] = json!({
                "treeSize": v.checkpoint().checkpoint().size,
                "rootHash": hex_encode(v.checkpoint().checkpoint().root_hash),
                "origin": v.checkpoint().checkpoint().origin,
                "proofHashes": v.proof_len(),
            });
        }
        output::json(&out)?;
        return Ok(exit::Code::Success.into());
    }
    output::line(format!("Entry ID: {}", logged.entry_id))?;
    output::line(format!("Log index: {}", e.log_index))?;
    output::line(format!("Integrated time: {}", time_text(e.integrated_time)))?;
    output::line(format!("Kind: {} {}", e.kind_version.kind, e.kind_version.version))?;
    match verified {
        Some(v) => {
            let cp = v.checkpoint().checkpoint();
            output::line(format!(
                "Verified: SET, inclusion proof ({} hashes) to checkpoint {} size {} root {}",
                v.proof_len(),
                cp.origin,
                cp.size,
                hex_encode(cp.root_hash)
            ))?;
        }
        None => output::line(format!("Body: {body}"))?,
    }
    Ok(exit::Code::Success.into())
}

fn show_loginfo(
    args: &Args,
    url: &str,
    report: &monitor::MonitorReport,
) -> anyhow::Result<ExitCode> {
    let cp = report.checkpoint.checkpoint();
    if args.json {
        output::json(&json!({
            "url": url,
            "logID": hex_encode(report.log_id),
            "origin": cp.origin,
            "treeSize": cp.size,
            "rootHash": hex_encode(cp.root_hash),
            "previousTreeSize": report.previous.map(|p| p.0),
            "previousRootHash": report.previous.map(|p| hex_encode(p.1)),
            "consistencyProofHashes": report.proof_len,
            "stateFile": report.state_file,
        }))?;
        return Ok(exit::Code::Success.into());
    }
    output::line(format!("Log: {url}"))?;
    output::line(format!("Log ID: {}", hex_encode(report.log_id)))?;
    output::line(format!("Origin: {}", cp.origin))?;
    output::line(format!("Tree size: {}", cp.size))?;
    output::line(format!("Root hash: {}", hex_encode(cp.root_hash)))?;
    match report.previous {
        Some((size, _)) => output::line(format!(
            "Consistent with the checkpoint seen before at size {size} ({} proof hashes)",
            report.proof_len
        ))?,
        None => output::line("First visit: checkpoint verified and remembered")?,
    }
    output::line(format!("State: {}", report.state_file.display()))?;
    Ok(exit::Code::Success.into())
}

/// `$XDG_STATE_HOME/sigbox/rekor`, or `~/.local/state/sigbox/rekor` (also where `humbly`
/// remembers the checkpoints of the logs it searches).
pub(crate) fn state_dir() -> anyhow::Result<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .context("neither XDG_STATE_HOME nor HOME is set")?;
            PathBuf::from(home).join(".local/state")
        }
    };
    Ok(base.join("sigbox").join("rekor"))
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn hash_file(path: &Path) -> anyhow::Result<crate::crypto::Digest> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    digest_reader(HashAlgorithm::Sha256, file)
        .with_context(|| format!("hashing {}", path.display()))
}

/// A signature file: raw DER, or base64 text of it.
fn read_signature(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = read(path)?;
    let decoded = std::str::from_utf8(&bytes).ok().and_then(|t| b64_decode(t.trim()));
    Ok(match decoded {
        Some(der) if !der.is_empty() => der,
        _ => bytes,
    })
}

/// A PEM certificate or public key as text; a DER public key is turned into PEM.
fn read_verifier_pem(path: &Path) -> anyhow::Result<String> {
    let bytes = read(path)?;
    match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("-----BEGIN ") => Ok(text.to_string()),
        _ => Ok(PublicKey::from_pem_or_der(&bytes)
            .with_context(|| format!("{} is not a PEM certificate or key", path.display()))?
            .to_pem()),
    }
}

fn normalize_sha(sha: &str) -> anyhow::Result<String> {
    let hex = sha.strip_prefix("sha256:").unwrap_or(sha).to_ascii_lowercase();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(usage(format!("--sha {sha:?} is not sha256:<64 hex>")).into());
    }
    Ok(format!("sha256:{hex}"))
}

fn time_text(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .map_or_else(|| unix.to_string(), |t| format!("{t} ({unix})"))
}

fn usage(message: impl Into<String>) -> exit::Usage {
    exit::Usage(message.into())
}

/// A failed check of what the log served is a definite "no" (exit 1).
fn rejected_if_check(err: rekor::Error) -> anyhow::Error {
    match err {
        rekor::Error::EntryCheck(_) | rekor::Error::Inconsistent { .. } => {
            anyhow::Error::new(exit::Rejected(err.to_string()))
        }
        other => other.into(),
    }
}

/// The log refusing an entry (a 4xx) is a definite "no" too.
fn rejected_if_refused(err: rekor::Error) -> anyhow::Error {
    match err {
        rekor::Error::Rejected { status, .. } if (400..500).contains(&status) => {
            anyhow::Error::new(exit::Rejected(err.to_string()))
        }
        rekor::Error::EntrySignature { .. } | rekor::Error::InvalidEntry(_) => {
            anyhow::Error::new(exit::Rejected(err.to_string()))
        }
        other => other.into(),
    }
}
