//! L1 Sigstore bundles: wire models ([`wire`]), the checked form ([`Checked`]), DSSE PAE and
//! in-toto statements (PROTOCOLS §1, §5.2, §5.3).
//!
//! A bundle is read once into [`wire::Bundle`] (serde, tolerant) and turned once into
//! [`Checked`] (shape rules per version, leaf certificate parsed). Verification (in
//! `crate::verify`) takes only [`Checked`]. Nothing here verifies a signature.

mod checked;
mod dsse;
mod intoto;
pub mod wire;

pub use checked::{BundleVersion, Checked, Content, Error, KeyMaterial, LogEntry, Proof, Result};
pub use dsse::{pae, IN_TOTO_PAYLOAD_TYPE};
pub use intoto::{predicate_type_uri, Statement, Subject, STATEMENT_V01, STATEMENT_V1};

/// Fuzz entry point: parses arbitrary bytes as a bundle and, if that works, checks it.
/// Must never panic.
#[doc(hidden)]
pub fn fuzz_parse(data: &[u8]) {
    if let Ok(bundle) = wire::Bundle::from_json(data) {
        let _ = bundle.to_json();
        let _ = Checked::try_from(bundle);
    }
}
