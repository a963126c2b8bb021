//! `sigbox trust show`: prints the trust root in use (the embedded public-good root by
//! default) with its validity periods. `sigbox trust init` / `update`: the TUF client
//! (`crate::tuf`) that fetches an instance's trust files from its TUF mirror into the
//! user's cache, where every persona then finds them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::exit::Code;
use crate::cli::output;
use crate::trust::{TrustedRoot, ValidFor};

/// Flags of `sigbox trust`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Show the trusted root in use (as every persona resolves it with no flags): logs,
    /// CAs, CT logs, TSAs and when each is valid.
    Show {
        /// A trusted root (or ClientTrustConfig) file instead.
        #[arg(long = "trusted-root")]
        trusted_root: Option<PathBuf>,
        /// Print the embedded trusted_root.json verbatim.
        #[arg(long)]
        raw: bool,
    },
    /// Trust a TUF mirror from its root.json (got out of band) and fetch its trusted root
    /// and signing config; it becomes the default instance of every persona.
    Init(InitArgs),
    /// Refresh cached TUF targets: `--mirror URL`, else every mirror `trust init` set up
    /// and public good (from the embedded TUF root; offline, the embedded trusted root
    /// stays in use).
    Update {
        /// The TUF mirror to refresh.
        #[arg(long, env = crate::cli::instance::TUF_MIRROR_ENV)]
        mirror: Option<String>,
        /// Check expiry at this RFC 3339 time instead of now (replaying an old repository).
        #[arg(long = "reference-time", hide = true)]
        reference_time: Option<String>,
    },
}

/// Flags of `sigbox trust init` (and `cosign initialize`).
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The TUF repository's base URL (holding `N.root.json`, `timestamp.json`, `targets/`).
    #[arg(long)]
    pub mirror: String,
    /// The repository's root.json, trusted as given. Without it, public good's mirror
    /// starts from the embedded public-good TUF root.
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Start from the embedded public-good TUF root (for a mirror or copy of public good).
    #[arg(long = "public-good-root", conflicts_with = "root")]
    pub public_good_root: bool,
    /// Do not make this mirror the default instance.
    #[arg(long = "no-default")]
    pub no_default: bool,
    /// Check expiry at this RFC 3339 time instead of now (replaying an old repository).
    #[arg(long = "reference-time", hide = true)]
    pub reference_time: Option<String>,
}

fn reference_time(text: Option<&str>) -> anyhow::Result<i64> {
    match text {
        None => Ok(crate::cli::lifecycle::unix_now()),
        Some(t) => crate::encoding::parse_rfc3339(t).ok_or_else(|| {
            anyhow::Error::new(crate::cli::exit::Usage(format!(
                "--reference-time {t:?} is not an RFC 3339 time"
            )))
        }),
    }
}

/// Runs `sigbox trust ...`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Show { trusted_root, raw } => {
            if raw && trusted_root.is_none() {
                print!("{}", crate::trust::PUBLIC_GOOD_TRUSTED_ROOT);
                return Ok(Code::Success.into());
            }
            let source_of = crate::cli::instance::verify_source(trusted_root.as_deref());
            let source = match &source_of {
                crate::instance::Source::PublicGood => "embedded public-good root".to_string(),
                crate::instance::Source::Tuf { mirror, root, .. } => {
                    format!("{} (TUF mirror {mirror})", root.display())
                }
                crate::instance::Source::Root(p) | crate::instance::Source::TrustConfig(p) => {
                    p.display().to_string()
                }
                crate::instance::Source::RootAndSigning { root, .. } => root.display().to_string(),
            };
            let root = crate::cli::instance::load(&source_of)?.root;
            show(&root, &source)?;
            Ok(Code::Success.into())
        }
        Command::Init(args) => init(&args),
        Command::Update { mirror, reference_time: at } => {
            update(mirror.as_deref(), reference_time(at.as_deref())?)
        }
    }
}

fn cache_base() -> anyhow::Result<PathBuf> {
    crate::tuf::client::default_base()
        .ok_or_else(|| anyhow::anyhow!("neither XDG_CACHE_HOME nor HOME is set: no TUF cache"))
}

/// `trust init` / `cosign initialize`: trust `--root` for `--mirror`, refresh, and make it
/// the default.
pub fn init(args: &InitArgs) -> anyhow::Result<ExitCode> {
    let base = cache_base()?;
    let cache = crate::tuf::Cache::new(&base, &args.mirror)?;
    let root = match &args.root {
        Some(path) => std::fs::read(path)
            .with_context(|| format!("reading the TUF root {}", path.display()))?,
        None if args.public_good_root || cache.mirror == crate::trust::tuf::PUBLIC_GOOD_MIRROR => {
            crate::trust::tuf::PUBLIC_GOOD_TUF_ROOT.as_bytes().to_vec()
        }
        None => anyhow::bail!(crate::cli::exit::Usage(
            "--root ROOT.json is needed for a mirror other than public good".into()
        )),
    };
    let now = reference_time(args.reference_time.as_deref())?;
    cache.init(&root, now).map_err(rejected)?;
    refresh(&cache, now)?;
    if !args.no_default {
        cache.make_default(&base)?;
        output::status(format!("{} is now the default instance", cache.mirror));
    }
    Ok(Code::Success.into())
}

fn update(mirror: Option<&str>, now: i64) -> anyhow::Result<ExitCode> {
    let base = cache_base()?;
    if let Some(mirror) = mirror {
        let cache = crate::tuf::Cache::new(&base, mirror)?;
        refresh(&cache, now)?;
        return Ok(Code::Success.into());
    }
    let public = crate::tuf::Cache::new(&base, crate::trust::tuf::PUBLIC_GOOD_MIRROR)?;
    public.init_if_empty(crate::trust::tuf::PUBLIC_GOOD_TUF_ROOT.as_bytes(), now)?;
    let mut failed = None;
    for cache in initialised_caches(&base) {
        if let Err(e) = refresh(&cache, now) {
            if cache == public {
                output::status(format!(
                    "public good not refreshed ({e:#}); the embedded trusted root stays in use"
                ));
            } else {
                output::status(format!("{}: {e:#}", cache.mirror));
                failed = Some(e);
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(Code::Success.into()),
    }
}

/// Every mirror with a cache under `base`.
fn initialised_caches(base: &std::path::Path) -> Vec<crate::tuf::Cache> {
    let Ok(entries) = std::fs::read_dir(base.join("tuf")) else { return Vec::new() };
    let mut caches: Vec<_> = entries
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("mirror.txt")).ok())
        .filter_map(|m| crate::tuf::Cache::new(base, m.trim()).ok())
        .filter(|c| c.is_initialised())
        .collect();
    caches.sort_by(|a, b| a.mirror.cmp(&b.mirror));
    caches
}

fn refresh(cache: &crate::tuf::Cache, now: i64) -> anyhow::Result<()> {
    let http = crate::tuf::client::http_client()?;
    let done = cache.refresh(&http, now).map_err(rejected)?;
    output::line(format!(
        "{}: root v{}, timestamp v{}, {}{}",
        cache.mirror,
        done.root_version,
        done.timestamp_version,
        done.trusted_root.display(),
        done.signing_config.map(|p| format!(", {}", p.display())).unwrap_or_default()
    ))?;
    Ok(())
}

/// A failed TUF check is a definite "no" (exit 1); transport and I/O are "could not
/// decide" (exit 2).
fn rejected(e: crate::tuf::Error) -> anyhow::Error {
    match e {
        crate::tuf::Error::Check { .. } => {
            let text = format!("{:#}", anyhow::Error::new(e));
            anyhow::Error::new(crate::cli::exit::Rejected(text))
        }
        other => anyhow::Error::new(other),
    }
}

fn show_logs(heading: &str, logs: &[crate::trust::TransparencyLog]) -> anyhow::Result<()> {
    output::line(heading)?;
    for log in logs {
        output::line(format!(
            "  {}  id {}  {}",
            log.base_url,
            crate::encoding::hex_encode(&log.log_id),
            period(&log.valid_for)
        ))?;
    }
    Ok(())
}

fn show(root: &TrustedRoot, source: &str) -> anyhow::Result<()> {
    output::line(format!("trusted root: {source} ({})", root.media_type()))?;
    show_logs("transparency logs:", root.tlogs())?;
    output::line("certificate authorities:")?;
    for ca in root.certificate_authorities() {
        let anchor = ca.chain.last().map(|c| c.subject_string()).unwrap_or_default();
        output::line(format!("  {}  anchor {anchor:?}  {}", ca.uri, period(&ca.valid_for)))?;
    }
    show_logs("certificate transparency logs:", root.ctlogs())?;
    output::line("timestamp authorities:")?;
    for tsa in root.timestamp_authorities() {
        let leaf = tsa.chain.first().map(|c| c.subject_string()).unwrap_or_default();
        output::line(format!("  {}  signer {leaf:?}  {}", tsa.uri, period(&tsa.valid_for)))?;
    }
    Ok(())
}

fn period(valid: &ValidFor) -> String {
    let end = valid.end.map_or_else(|| "(open)".to_string(), rfc3339);
    format!("valid {} .. {end}", rfc3339(valid.start))
}

fn rfc3339(t: i64) -> String {
    crate::encoding::rfc3339(t).unwrap_or_else(|| t.to_string())
}
