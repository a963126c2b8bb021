//! The exit-code table (ripgrep's 0/1/2), and how an error chain picks its code.
//!
//! **0** success or verified; **1** a definite "no" (signature, identity or policy
//! rejected); **2** could not decide (usage, configuration, I/O, network). The `cosign`
//! persona folds every failure into 1, as cosign does.

use std::process::ExitCode;

/// A definite rejection: the input was read and judged, and the answer is no.
///
/// Front ends wrap a core rejection in this so the edge exits with 1 instead of 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(pub String);

/// A usage error found after clap parsing (conflicting or missing flags).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The exit codes, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Success or verified.
    Success = 0,
    /// A definite rejection.
    Rejected = 1,
    /// Usage, configuration, I/O or network error.
    Error = 2,
}

impl From<Code> for ExitCode {
    fn from(code: Code) -> Self {
        ExitCode::from(code as u8)
    }
}

/// Picks the exit code for an error by walking its chain: a [`Rejected`] anywhere in the
/// chain means 1, everything else 2.
pub fn code_for(error: &anyhow::Error) -> Code {
    if error.chain().any(|cause| cause.downcast_ref::<Rejected>().is_some()) {
        Code::Rejected
    } else {
        Code::Error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_deep_in_the_chain_exits_1() {
        let err = anyhow::Error::new(Rejected("signature does not verify".into()))
            .context("verifying out.sigstore.json");
        assert_eq!(code_for(&err), Code::Rejected);
    }

    #[test]
    fn io_error_exits_2() {
        let err = anyhow::Error::new(std::io::Error::other("disk")).context("reading file");
        assert_eq!(code_for(&err), Code::Error);
        assert_eq!(code_for(&anyhow::Error::new(Usage("bad".into()))), Code::Error);
    }
}
