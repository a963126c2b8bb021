//! `sigbox log export-tiles --data-dir D --out DIR`: a stopped Rekor log's C2SP tlog-tiles
//! files (`ops::tiles`). A running server exports with `rekor-server --tiles-dir` instead;
//! this command refuses a data directory whose server answers on its admin socket.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args as ClapArgs;

use super::{judged, Bar};
use crate::cli::{exit, output};
use crate::ops;

/// Flags of `sigbox log export-tiles`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The stopped rekor-server's data directory (v1 or v2 log).
    #[arg(long)]
    data_dir: PathBuf,
    /// The directory to publish (created if missing; must be new or hold this log's tiles).
    #[arg(long)]
    out: PathBuf,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs the export; damage in the store is exit 1, other failures exit 2.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut bar = Bar::new("exporting tiles");
    let result = ops::tiles::export_data_dir(&args.data_dir, &args.out, &mut |d, t| bar.set(d, t));
    bar.done();
    let done = result.map_err(judged)?;
    if args.json {
        output::json(&done)?;
    } else {
        output::line(format!(
            "exported {} entries (root {}) to {}: {} files written, {} already present, {} \
             superseded partial tiles removed, checkpoint {}",
            done.size,
            done.root,
            args.out.display(),
            done.written,
            done.skipped,
            done.removed,
            if done.checkpoint_written { "replaced" } else { "unchanged" }
        ))?;
    }
    Ok(exit::Code::Success.into())
}
