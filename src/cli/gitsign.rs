//! The `gitsign` persona (also `sigbox git-sign`): git's x509 signing program.
//!
//! git calls it gpg-style (`--status-fd=2 -bsau KEY` to sign, `--status-fd=1 --verify
//! SIG -` to verify, PROTOCOLS §7.1); people call the subcommands `verify`, `verify-tag`,
//! `show`, `version` and `credential-cache`. Logic lives in [`crate::git`]; this front end
//! parses argv, reads git config and the environment, and writes status lines.

pub mod cache;
mod sign;
mod verify;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

use super::exit::{Code, Usage};
use crate::git::config::{self, Settings};

/// gpg-compatible flags, as git passes them.
#[derive(Debug, Parser)]
#[command(name = "gitsign", about = "Keyless git commit and tag signing (git's x509 program)")]
#[command(disable_version_flag = true)]
struct GpgArgs {
    /// File descriptor for `[GNUPG:]` status lines.
    #[arg(long = "status-fd")]
    status_fd: Option<i32>,
    /// Make a detached signature.
    #[arg(short = 'b', long = "detach-sign")]
    detach: bool,
    /// Sign the payload on standard input.
    #[arg(short = 's', long = "sign")]
    sign: bool,
    /// ASCII-armor the output.
    #[arg(short = 'a', long = "armor")]
    armor: bool,
    /// The signing key git names (user.signingkey or the committer); informational.
    #[arg(short = 'u', long = "local-user")]
    user: Option<String>,
    /// Verify: SIGFILE then `-` (payload on standard input).
    #[arg(long)]
    verify: bool,
    /// Accepted for gpg compatibility and ignored.
    #[arg(long = "keyid-format")]
    keyid_format: Option<String>,
    /// Print the version.
    #[arg(long)]
    version: bool,
    /// Files (`--verify SIGFILE -`).
    files: Vec<String>,
}

/// Runs the persona.
pub fn run(args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let first = args.get(1).and_then(|a| a.to_str()).unwrap_or_default();
    let rest = || args.iter().skip(1).cloned().collect::<Vec<_>>();
    match first {
        "verify" => verify::run_verify(rest(), crate::git::object::Kind::Commit),
        "verify-tag" => verify::run_verify(rest(), crate::git::object::Kind::Tag),
        "show" => verify::run_show(rest()),
        "version" => version(),
        "credential-cache" => cache::run(rest()),
        _ => {
            let gpg = GpgArgs::try_parse_from(&args)?;
            if gpg.version {
                return version();
            }
            if gpg.verify {
                let [sig, payload] = gpg.files.as_slice() else {
                    return Err(
                        Usage("--verify needs SIGFILE and - (payload on stdin)".into()).into()
                    );
                };
                return verify::run_gpg(gpg.status_fd, sig, payload);
            }
            if gpg.sign || gpg.detach {
                return sign::run(gpg.status_fd, gpg.user.as_deref());
            }
            Err(Usage(
                "give -bsau KEY (sign stdin), --verify SIGFILE -, or a subcommand: verify, \
                 verify-tag, show, version, credential-cache"
                    .into(),
            )
            .into())
        }
    }
}

fn version() -> anyhow::Result<ExitCode> {
    super::output::line(format!("gitsign (sigbox) {}", env!("CARGO_PKG_VERSION")))?;
    super::output::line("parameters: gpg.format=x509, rekor modes online (default) and offline")?;
    match settings() {
        Ok(settings) => {
            for (name, value) in settings.describe() {
                super::output::line(format!("  {name}: {value}"))?;
            }
        }
        Err(e) => super::output::status(format!("gitsign: configuration: {e:#}")),
    }
    Ok(Code::Success.into())
}

/// Settings from git config `gitsign.*` and the environment. The config files are read
/// directly when they are plain (the common case: no spawn per verified commit); anything
/// else goes through `git config --get-regexp`. Outside a repository (or without git) only
/// global config and the environment count.
fn settings() -> anyhow::Result<Settings> {
    let env = |name: &str| std::env::var(name).ok();
    let direct = std::env::current_dir()
        .ok()
        .and_then(|cwd| config::config_files(&env, &cwd))
        .and_then(|files| config::read_files(&files));
    let git = match direct {
        Some(map) => map,
        None => {
            let output = std::process::Command::new("git")
                .args(["config", "--get-regexp", r"^gitsign\."])
                .stderr(std::process::Stdio::null())
                .output();
            match output {
                Ok(out) if out.status.success() => {
                    config::parse_git_config(&String::from_utf8_lossy(&out.stdout))
                }
                _ => Default::default(),
            }
        }
    };
    config::resolve(&git, &env).map_err(|e| anyhow::Error::new(Usage(e)))
}

/// gitsign's `fulcioRoot` and `SIGSTORE_REKOR_PUBLIC_KEY`, read from their files and
/// applied to `instance` (see `git::trust`); a bad file is a usage error naming the knob.
fn apply_trust_knobs(
    instance: crate::instance::Instance,
    settings: &Settings,
) -> anyhow::Result<crate::instance::Instance> {
    let fulcio_root = match &settings.fulcio_root {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading gitsign.fulcioRoot {path}"))?,
        ),
        None => None,
    };
    let timestamp_chain = match &settings.timestamp_cert_chain {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading gitsign.timestampCertChain {path}"))?,
        ),
        None => None,
    };
    let rekor_key = match &settings.rekor_public_key {
        Some(path) => Some(
            std::fs::read(path)
                .with_context(|| format!("reading SIGSTORE_REKOR_PUBLIC_KEY {path}"))?,
        ),
        None => None,
    };
    crate::git::trust::apply(
        instance,
        fulcio_root.as_deref(),
        timestamp_chain.as_deref(),
        rekor_key.as_deref(),
        settings.rekor.as_deref(),
        super::lifecycle::unix_now(),
    )
    .map_err(|e| anyhow::Error::new(Usage(format!("{:#}", anyhow::Error::new(e)))))
}

/// Appends one timestamped line to `gitsign.logPath` / `GITSIGN_LOG`, if set. Logging is
/// best effort: a log file that cannot be written never fails a signature.
fn log_line(settings: &Settings, text: &str) {
    if let Some(path) = &settings.log_path {
        let line = format!("{} {text}\n", super::lifecycle::unix_now());
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
    }
}

/// Where `[GNUPG:]` status lines go.
struct Status(Option<Box<dyn Write>>);

impl Status {
    fn open(fd: Option<i32>) -> anyhow::Result<Status> {
        Ok(Status(match fd {
            None => None,
            Some(1) => Some(Box::new(std::io::stdout())),
            Some(2) => Some(Box::new(std::io::stderr())),
            Some(n) if n > 2 => Some(Box::new(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(format!("/proc/self/fd/{n}"))
                    .with_context(|| format!("opening status fd {n}"))?,
            )),
            Some(n) => return Err(Usage(format!("--status-fd={n} is not writable")).into()),
        }))
    }

    fn line(&mut self, text: &str) -> anyhow::Result<()> {
        if let Some(out) = self.0.as_mut() {
            writeln!(out, "{text}")?;
            out.flush()?;
        }
        Ok(())
    }
}
