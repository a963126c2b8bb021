//! Exporting a running log's tiles in the background (`rekor-server --tiles-dir`).
//!
//! A thread of its own looks at the log's head every tick and exports when it has grown. It
//! reads only what the sequencer has already committed (the head moves after the commit), so
//! the commit path neither waits for it nor knows it exists; several batches integrated
//! within one tick are published as one checkpoint (C2SP asks for partial tiles only at the
//! sizes of published checkpoints). An export that fails (a full disk) is retried on the
//! next tick; the directory keeps publishing the last complete checkpoint meanwhile.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use super::{Exported, TileDir};
use crate::ops::{Error, Result};
use crate::rekor::Log;

/// How often the exporter looks at the head, unless told otherwise (milliseconds). Each
/// export syncs about a dozen files and directories to the disk the store also syncs to: at
/// a tenth of a second, under the HTTP write bench, that was two thirds as many syncs as
/// the sequencer's own commits; once a second keeps it to a small fraction, at the price of
/// tiles up to a second behind the log.
pub const DEFAULT_TICK_MS: u64 = 1000;

/// The background exporter. [`LiveExport::stop`] (or dropping it) ends the thread after a
/// last export, and releases its handle on the log.
pub struct LiveExport {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Option<Exported>>>,
}

impl LiveExport {
    /// Starts exporting `log` into `dir` every `tick`. The directory is locked and checked
    /// now (it must be new, or publish an earlier state of this log); the first export, which
    /// may catch up on a long log, runs in the background.
    ///
    /// Errors: as [`TileDir::open`] and [`TileDir::check_published`].
    pub fn start(log: Log, dir: &Path, tick: Duration) -> Result<LiveExport> {
        let tiles = TileDir::open(dir)?;
        let published = tiles.check_published(&log, log.head().size)?;
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tiles-export".into())
            .spawn(move || run(&log, &tiles, published, &stopped, tick))
            .map_err(|e| Error::Io { path: dir.display().to_string(), source: e })?;
        tracing::info!(dir = %dir.display(), from = published, "exporting tiles");
        Ok(LiveExport { stop: Some(stop), thread: Some(thread) })
    }

    /// Stops the exporter after one last export of the current head; returns what that
    /// export (or the latest successful one) published.
    ///
    /// Errors: [`Error::Refused`] if the thread panicked.
    pub fn stop(mut self) -> Result<Option<Exported>> {
        self.finish().ok_or_else(|| Error::Refused("the tile exporter thread panicked".into()))
    }

    fn finish(&mut self) -> Option<Option<Exported>> {
        drop(self.stop.take());
        self.thread.take().map(|t| t.join().ok().flatten())
    }
}

impl Drop for LiveExport {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The exporter thread: export whenever the head has grown, until `stopped` says so (or
/// its sender is gone), then once more.
fn run(
    log: &Log,
    tiles: &TileDir,
    mut exported: u64,
    stopped: &mpsc::Receiver<()>,
    tick: Duration,
) -> Option<Exported> {
    let mut last: Option<Exported> = None;
    let mut failing: Option<String> = None;
    // The first round always runs: a restarted server re-signs its checkpoint.
    let mut due = true;
    loop {
        let running = matches!(stopped.recv_timeout(tick), Err(mpsc::RecvTimeoutError::Timeout));
        due |= log.head().size != exported || !running;
        if due {
            let started = std::time::Instant::now();
            match tiles.export(log, exported, &mut |_, _| {}) {
                Ok(done) => {
                    tracing::debug!(
                        size = done.size,
                        written = done.written,
                        removed = done.removed,
                        us = started.elapsed().as_micros() as u64,
                        "tiles exported"
                    );
                    if failing.take().is_some() {
                        tracing::info!(size = done.size, "tile export works again");
                    }
                    exported = done.size;
                    last = Some(done);
                    due = false;
                }
                Err(e) => {
                    let text = crate::error_text::chain(&e);
                    // Once per distinct problem, not once per tick.
                    if failing.as_deref() != Some(text.as_str()) {
                        tracing::error!(error = %text, dir = %tiles.path().display(),
                            "tile export failed; retrying");
                        failing = Some(text);
                    }
                }
            }
        }
        if !running {
            return last;
        }
    }
}
