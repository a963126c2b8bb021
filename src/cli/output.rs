//! Everything the front ends print goes through here: human text or `--json`.

use std::io::{IsTerminal, Read, Write};

use serde::Serialize;

/// How results are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text for people.
    Human,
    /// One JSON document on stdout, for scripts.
    Json,
}

/// Prints a line of human text on stdout.
pub fn line(text: impl AsRef<str>) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", text.as_ref())
}

/// Prints a value as pretty JSON on stdout.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Prints a status message for people on stderr (never mixed into results).
pub fn status(text: impl AsRef<str>) {
    eprintln!("{}", text.as_ref());
}

/// Files at least this large show a progress bar while they are hashed.
const PROGRESS_THRESHOLD: u64 = 64 * 1024 * 1024;

/// Opens `path` for reading; a large file read on a terminal reports progress on stderr
/// (indicatif), since hashing it takes a noticeable time. Scripts (no terminal) see nothing.
pub fn open_artifact(path: &std::path::Path) -> std::io::Result<Box<dyn Read>> {
    let file = std::fs::File::open(path)?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len < PROGRESS_THRESHOLD || !std::io::stderr().is_terminal() {
        return Ok(Box::new(std::io::BufReader::new(file)));
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(format!("hashing {}", path.display()));
    Ok(Box::new(bar.wrap_read(std::io::BufReader::new(file))))
}
