//! Shared helpers for cosign's flag spellings.

/// cosign's boolean flags (Go pflag) take `--flag` or `--flag=true|false`, never a separate
/// value; this parser accepts the words pflag accepts.
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        other => Err(format!("invalid boolean value {other:?}")),
    }
}
