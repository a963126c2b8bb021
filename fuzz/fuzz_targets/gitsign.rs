//! cargo-fuzz target: see `sigbox::fuzzing::gitsign`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sigbox::fuzzing::gitsign(data));
