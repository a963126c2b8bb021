//! `cosign initialize --mirror URL --root FILE`: cosign's spelling of `sigbox trust init`
//! (same TUF client, same cache, so every persona then uses that instance).

use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `cosign initialize`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The TUF repository's base URL.
    #[arg(long, default_value = crate::trust::tuf::PUBLIC_GOOD_MIRROR)]
    mirror: String,
    /// The repository's root.json (not needed for the public-good mirror).
    #[arg(long)]
    root: Option<PathBuf>,
}

/// Runs `cosign initialize`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    crate::cli::trust::init(&crate::cli::trust::InitArgs {
        mirror: args.mirror,
        root: args.root,
        no_default: false,
        public_good_root: false,
        reference_time: None,
    })
}
