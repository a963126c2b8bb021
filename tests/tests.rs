//! End-to-end tests: one test crate, so there is one link step. Every test drives the real
//! `sigbox` binary (and, where needed, real servers and tools).

mod fault;
mod fixture_gen;
mod fulcio;
mod gitsign;
mod harness;
mod hostile;
mod humbly;
mod images;
mod ops;
mod personas;
mod postgres;
mod rekor;
mod secrets;
mod tiles;
mod tsa;
mod tuf;
mod up;
mod verify;
