//! The `humbly` persona: `humbly verify --policy POLICY TARGET...` and `humbly policy
//! check | explain | schema`.
//!
//! Thin front end (STYLE §2): clap flags → read the policy file and targets → one
//! `humbly::Engine::run` → show the verdicts through `humbly/report.rs` (human lines or
//! `--json`), `humbly/junit.rs` (`--junit FILE`) and `humbly/github.rs` (annotations and a
//! step summary when `GITHUB_ACTIONS=true`). Exit 0 when every target passes, 1 when any
//! fails, 2 for usage, policy, I/O or network errors.

mod github;
mod junit;
mod report;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use super::exit::{Code, Usage};
use super::output;
use crate::humbly::{expand_targets, Engine, Lookup, Options, Status, TargetVerdict};
use crate::policy::file::{self, Compiled, Syntax};

/// `humbly`: verify a batch of artifacts against a policy file.
#[derive(Debug, Parser)]
#[command(name = "humbly", version, about = "Policy verifier for CI pipelines")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify targets (files, directories, sha256:<hex>, images, git:RANGE) against a
    /// policy; one verdict each.
    Verify(Box<VerifyArgs>),
    /// Lint, explain or describe policy files.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Check a policy file: errors (exit 2) and warnings, with line and column.
    Check {
        /// The policy file (YAML, or JSON when named *.json).
        policy: PathBuf,
    },
    /// Say in words what a policy accepts.
    Explain {
        /// The policy file.
        policy: PathBuf,
    },
    /// Print the policy file's JSON Schema.
    Schema,
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// The policy file (YAML, or JSON when named *.json).
    #[arg(long)]
    policy: PathBuf,
    /// Files, directories (searched recursively), sha256:<hex> digests, images
    /// (oci://REF, or REGISTRY/REPO[:TAG|@DIGEST]), or git:RANGE (each commit of the range).
    #[arg(required = true)]
    targets: Vec<String>,
    /// The git repository for git:RANGE targets.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    #[command(flatten)]
    registry: super::cosign::image_flags::RegistryArgs,
    /// The bundle for a single file target (repeat for several signatures).
    #[arg(long)]
    bundle: Vec<PathBuf>,
    /// Only files in directories matching this glob (the file name when it has no '/').
    #[arg(long)]
    glob: Option<String>,
    /// Trusted root or ClientTrustConfig, when the policy names no trusted_roots
    /// (default: SIGBOX_TRUST_CONFIG, else the public-good root).
    #[arg(long = "trusted-root")]
    trusted_root: Option<PathBuf>,
    /// Never search the transparency log for targets without a bundle.
    #[arg(long = "no-lookup")]
    no_lookup: bool,
    /// Also trust these PEM CA certificates for HTTPS to the logs.
    #[arg(long = "ca-cert")]
    ca_cert: Option<PathBuf>,
    /// Seconds allowed for each log request.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Verification threads (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Print the verdicts as one JSON document (schema sigbox.humbly.verdict.v1).
    #[arg(long)]
    json: bool,
    /// Also write a JUnit XML report (one test case per target) here.
    #[arg(long)]
    junit: Option<PathBuf>,
}

/// Runs the persona on argv.
pub fn run(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let cli = Cli::try_parse_from(args)?;
    match cli.command {
        Command::Verify(args) => verify(*args),
        Command::Policy(PolicyCommand::Schema) => {
            output::line(file::SCHEMA.trim_end())?;
            Ok(Code::Success.into())
        }
        Command::Policy(PolicyCommand::Check { policy }) => {
            let compiled = load_policy(&policy)?;
            for w in &compiled.warnings {
                output::status(format!(
                    "{}:{}:{}: warning: {}",
                    policy.display(),
                    w.line,
                    w.column,
                    w.message
                ));
            }
            output::line(format!(
                "{}: ok ({} signers, {} rules{})",
                policy.display(),
                compiled.signers.len(),
                compiled.rules.len(),
                if compiled.default.is_some() { " and a default" } else { "" }
            ))?;
            Ok(Code::Success.into())
        }
        Command::Policy(PolicyCommand::Explain { policy }) => {
            let compiled = load_policy(&policy)?;
            std::io::Write::write_all(
                &mut std::io::stdout().lock(),
                file::explain(&compiled).as_bytes(),
            )?;
            Ok(Code::Success.into())
        }
    }
}

fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let policy = load_policy(&args.policy)?;
    let policy_dir =
        args.policy.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let default =
        super::instance::load(&super::instance::verify_source(args.trusted_root.as_deref()))?;
    let engine = Engine::prepare(policy, policy_dir, default)
        .with_context(|| format!("preparing the policy {}", args.policy.display()))?;
    let glob = args
        .glob
        .as_deref()
        .map(|g| file::compile_glob(g).map_err(|e| Usage(format!("--glob {g:?}: {e}"))))
        .transpose()?;
    let has_slash = args.glob.as_deref().is_some_and(|g| g.contains('/'));
    let targets =
        expand_targets(&args.targets, glob.as_ref(), has_slash, &args.bundle, &args.repo)?;
    let registry = if targets.iter().any(|t| matches!(t, crate::humbly::Target::Image { .. })) {
        Some(std::sync::Arc::new(args.registry.client()?))
    } else {
        None
    };
    let lookup = if args.no_lookup {
        None
    } else {
        let ca =
            args.ca_cert.as_deref().map(std::fs::read).transpose().context("reading --ca-cert")?;
        let http =
            crate::http::blocking_client_with_ca(Duration::from_secs(args.timeout), ca.as_deref())
                .context("setting up the HTTP client")?;
        Some(Lookup { http, state_dir: super::rekor::state_dir()? })
    };
    let jobs =
        args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = Options { now: super::lifecycle::unix_now(), jobs, lookup, registry };

    let bar = (targets.len() > 1 && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(targets.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{pos}/{len} [{bar:40}] {per_sec} {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    });
    let progress = |_: &TargetVerdict| {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    };
    let verdicts = engine.run(&targets, &options, &progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }

    let policy_name = args.policy.display().to_string();
    if args.json {
        report::json(&policy_name, &verdicts)?;
    } else {
        report::human(&verdicts)?;
    }
    if let Some(path) = &args.junit {
        junit::write(path, &policy_name, &verdicts)
            .with_context(|| format!("writing the JUnit report {}", path.display()))?;
    }
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        github::annotate(&verdicts, args.json)?;
        if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|v| !v.is_empty()) {
            github::append_summary(Path::new(&summary), &policy_name, &verdicts)
                .context("appending to GITHUB_STEP_SUMMARY")?;
        }
    }
    Ok(exit_code(&verdicts).into())
}

/// 2 if any target could not be decided, else 1 if any failed, else 0.
fn exit_code(verdicts: &[TargetVerdict]) -> Code {
    if verdicts.iter().any(|v| v.status == Status::Error) {
        Code::Error
    } else if verdicts.iter().any(|v| v.status == Status::Fail) {
        Code::Rejected
    } else {
        Code::Success
    }
}

/// Reads and checks a policy file; problems become a usage error (exit 2) that names the
/// file, line and column of each.
fn load_policy(path: &Path) -> anyhow::Result<Compiled> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading policy {}", path.display()))?;
    let syntax = Syntax::for_file_name(&path.to_string_lossy());
    file::parse(&text, syntax).map_err(|e| {
        let lines: Vec<String> = e
            .diagnostics()
            .iter()
            .map(|d| format!("{}:{}:{}: {}", path.display(), d.line, d.column, d.message))
            .collect();
        anyhow::Error::new(Usage(format!("invalid policy file\n{}", lines.join("\n"))))
    })
}
