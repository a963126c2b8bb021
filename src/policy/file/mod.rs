//! The `humbly` policy file: which signers are accepted for which artifacts, read from YAML
//! or JSON (documented in `docs/humbly-policy.md`; JSON Schema in [`schema`]).
//!
//! Pure: [`parse`] takes the file's text and returns a [`Compiled`] policy (regexes and
//! globs compiled, signer names resolved) or diagnostics that carry a line and a column.
//! Reading files named inside the policy (public keys, trusted roots) is left to the caller
//! (`humbly`), as is verifying bundles: this module only decides, from verified facts,
//! whether a rule is met.

mod check;
mod explain;
mod glob;
mod locate;
mod model;
mod rules;
mod schema;

pub use check::{
    Attestation, Compiled, Constraint, ConstraintCheck, Deny, Root, Rule, Signer, SignerKind,
};
pub use explain::explain;
pub use glob::compile as compile_glob;
pub use model::{Embedded, Requirement, RootSpec};
pub use rules::{match_threshold, Candidate};
pub use schema::SCHEMA;

/// One problem found in a policy file, at a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong, naming the key or value.
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

/// Why a policy file was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not valid YAML/JSON, or a key or value is wrong on its own.
    #[error("{0}")]
    Syntax(Diagnostic),
    /// The file parses but is inconsistent (unknown signer, threshold too high, ...).
    #[error("{}", join(.0))]
    Invalid(Vec<Diagnostic>),
}

impl Error {
    /// Every diagnostic, in file order.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            Error::Syntax(d) => vec![d.clone()],
            Error::Invalid(all) => all.clone(),
        }
    }
}

/// The syntax a policy file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// YAML 1.2 (the default).
    Yaml,
    /// JSON.
    Json,
}

impl Syntax {
    /// JSON for a `.json` file name, else YAML.
    pub fn for_file_name(name: &str) -> Syntax {
        if name.to_ascii_lowercase().ends_with(".json") {
            Syntax::Json
        } else {
            Syntax::Yaml
        }
    }
}

/// Parses and checks a policy file.
///
/// Errors: [`Error::Syntax`] for malformed text, unknown keys and bad single values (regex,
/// glob, duration, time, digest, hex); [`Error::Invalid`] for cross-reference problems.
pub fn parse(text: &str, syntax: Syntax) -> Result<Compiled, Error> {
    let file: model::PolicyFile = match syntax {
        Syntax::Json => serde_json::from_str(text).map_err(|e| {
            Error::Syntax(Diagnostic {
                line: e.line().max(1),
                column: e.column().max(1),
                message: strip_position(&e.to_string()),
            })
        })?,
        Syntax::Yaml => serde_yaml_ng::from_str(text).map_err(|e| {
            let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            Error::Syntax(Diagnostic {
                line: line.max(1),
                column: column.max(1),
                message: strip_position(&e.to_string()),
            })
        })?,
    };
    check::compile(file, text)
}

/// Drops the parser's own " at line N column M" suffix (the position is kept apart).
fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message.get(..at).unwrap_or(message).to_string(),
        None => message.to_string(),
    }
}

fn join(all: &[Diagnostic]) -> String {
    all.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests;
