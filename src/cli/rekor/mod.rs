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
use serde_json::Value;

use super::{exit, output};

mod show;
use crate::bundle::wire::Bundle;
use crate::crypto::{digest_reader, HashAlgorithm, PublicKey};
use crate::encoding::b64_decode;
use crate::rekor::client::{self, Client};
use crate::rekor::{self, monitor};
use show::{show_entry, show_loginfo};

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
            let hash = match (sha, artifact) {
                (Some(sha), _) => Some(normalize_sha(sha)?),
                (None, Some(a)) => Some(format!("sha256:{}", hash_file(a)?.to_hex())),
                (None, None) => None,
            };
            let query = client::SearchQuery {
                hash,
                public_key_pem: public_key.as_deref().map(read_verifier_pem).transpose()?,
                email: email.clone(),
                operator: operator.clone(),
            };
            if query.is_empty() {
                return Err(usage("give --sha, --artifact, --public-key or --email").into());
            }
            let ids = client.search(&query.to_value())?;
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
            client
                .entry_map_for_signature(
                    &hash_file(a)?,
                    &read_signature(sig)?,
                    &read_verifier_pem(key)?,
                )
                .map_err(|err| match err {
                    // A signature the log would refuse is a "no"; a missing entry is not.
                    rekor::Error::EntrySignature { .. } | rekor::Error::InvalidEntry(_) => {
                        anyhow::Error::new(exit::Rejected(err.to_string()))
                    }
                    other => other.into(),
                })?
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
