//! sigbox: the whole Sigstore system — certificate authority, transparency log, signer,
//! verifier and git commit signing — in one binary.
//!
//! The library holds every core; `src/main.rs` only calls [`cli::main`]. Layers, lowest
//! first (each imports only from below, see `STYLE.md` in the project docs):
//! L0 [`crypto`], [`encoding`]; L1 pure formats; L2 storage and HTTP; L3 services and
//! pipelines; `cli` at the edge.

#![forbid(unsafe_code)]
#![deny(unused_must_use)]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod bundle;
pub mod cli;
pub mod crypto;
pub mod encoding;
pub mod error_text;
pub mod fulcio;
#[doc(hidden)]
pub mod fuzzing;
pub mod git;
pub mod http;
pub mod humbly;
pub mod instance;
pub mod login;
pub mod oci;
pub mod oidc;
pub mod ops;
pub mod policy;
pub mod rekor;
pub mod rekor_model;
pub mod sign;
pub mod store;
pub mod sys;
pub mod test_issuer;
pub mod tlog;
pub mod trust;
pub mod tsa;
pub mod tuf;
pub mod up;
pub mod verify;
pub mod x509;
