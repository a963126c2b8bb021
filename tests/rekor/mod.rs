//! End-to-end tests of `sigbox rekor-server`: a real server process on 127.0.0.1, real HTTP,
//! every answer checked with the library's own verifiers (SET, inclusion proof, checkpoint).

pub(crate) mod api;
mod cli;
mod crash;
mod independent;
mod interop;
mod logging;
pub(crate) mod server;
mod v2;
