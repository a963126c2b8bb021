//! L3 TUF: the client that refreshes an instance's `trusted_root.json` and signing config
//! from a TUF mirror into a local cache ([`client`]), and the repository every `sigbox up`
//! instance keeps and serves ([`repository`]). The metadata formats and the checks
//! themselves are L1, in [`crate::trust::tuf`].

pub mod client;
mod error;
pub mod repository;

pub use client::{Cache, Refreshed};
pub use error::{Error, Result};

/// The Sigstore targets a client needs: the trusted root and the signing config v0.2.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";
/// See [`TRUSTED_ROOT_TARGET`].
pub const SIGNING_CONFIG_TARGET: &str = "signing_config.v0.2.json";
