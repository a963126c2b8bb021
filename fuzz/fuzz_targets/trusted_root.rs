//! cargo-fuzz target: see `sigbox::fuzzing::trusted_root`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sigbox::fuzzing::trusted_root(data));
