//! `sigbox trust show`: prints the trust root in use (the embedded public-good root by
//! default) with its validity periods.

use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Show the trusted root: logs, CAs, CT logs, TSAs and when each is valid.
    Show {
        /// A trusted root (or ClientTrustConfig) file instead of the embedded one.
        #[arg(long = "trusted-root")]
        trusted_root: Option<PathBuf>,
        /// Print the embedded trusted_root.json verbatim.
        #[arg(long)]
        raw: bool,
    },
}

/// Runs `sigbox trust ...`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Show { trusted_root, raw } => {
            if raw && trusted_root.is_none() {
                print!("{}", crate::trust::PUBLIC_GOOD_TRUSTED_ROOT);
                return Ok(Code::Success.into());
            }
            let source = trusted_root.as_ref().map_or_else(
                || "embedded public-good root".to_string(),
                |p| p.display().to_string(),
            );
            let source_of = trusted_root
                .clone()
                .map_or(crate::instance::Source::PublicGood, crate::instance::Source::Root);
            let root = crate::cli::instance::load(&source_of)?.root;
            show(&root, &source)?;
            Ok(Code::Success.into())
        }
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
