//! Everything the front ends print goes through here: human text or `--json`.

use std::io::Write;

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
