//! argv[0] basename or first argument → persona; `--list`; unknown names.
//!
//! The personas are one table, so `--list`, `install-links` and the "every persona" test
//! all walk the same rows (coreutils' multicall layout).

use std::ffi::OsString;
use std::path::Path;

/// One face of the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Persona {
    /// The program name that selects it.
    pub name: &'static str,
    /// One line for `--list`.
    pub about: &'static str,
}

/// Every persona, in `--list` order. `sigbox` itself is first.
pub const PERSONAS: &[Persona] = &[
    Persona { name: "sigbox", about: "the native command set (sign, verify, servers, up, ...)" },
    Persona { name: "cosign", about: "drop-in for cosign's commands and flags" },
    Persona { name: "gitsign", about: "git's x509 signing program (gpg.format=x509)" },
    Persona {
        name: "gitsign-credential-cache",
        about: "per-user key cache for gitsign (one login per burst of commits)",
    },
    Persona { name: "humbly", about: "policy verifier for CI pipelines" },
    Persona { name: "fulcio-server", about: "the certificate authority (Fulcio v2 API)" },
    Persona { name: "rekor-server", about: "the transparency log (Rekor v1 API, tlog-tiles)" },
    Persona { name: "tsa-server", about: "the RFC 3161 timestamp authority" },
];

/// Finds the persona a program name selects: the exact basename (without `.exe`), or
/// `sigbox-<persona>`.
pub fn persona_for_program(argv0: &OsString) -> Option<&'static Persona> {
    let base = Path::new(argv0).file_name()?.to_str()?;
    let base = base.strip_suffix(".exe").unwrap_or(base);
    let name = base.strip_prefix("sigbox-").unwrap_or(base);
    PERSONAS.iter().find(|p| p.name == name)
}

/// Finds a persona by its exact name (used for `sigbox <persona> ...`).
pub fn persona_named(name: &str) -> Option<&'static Persona> {
    PERSONAS.iter().find(|p| p.name == name)
}

/// The text `sigbox --list` prints: one persona a line.
pub fn list_text() -> String {
    PERSONAS.iter().map(|p| format!("{:<24} {}\n", p.name, p.about)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_names_select_personas() {
        let pick = |s: &str| persona_for_program(&OsString::from(s)).map(|p| p.name);
        assert_eq!(pick("/usr/bin/cosign"), Some("cosign"));
        assert_eq!(pick("sigbox-gitsign"), Some("gitsign"));
        assert_eq!(pick("C:/bin/humbly.exe"), Some("humbly"));
        assert_eq!(pick("rekor-server"), Some("rekor-server"));
        assert_eq!(pick("cosign2"), None);
        assert_eq!(pick("sigbox-nothing"), None);
    }

    #[test]
    fn list_names_every_persona() {
        let text = list_text();
        for p in PERSONAS {
            assert!(text.contains(p.name));
        }
    }
}
