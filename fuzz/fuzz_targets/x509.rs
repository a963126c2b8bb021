//! cargo-fuzz target: see `sigbox::fuzzing::x509`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sigbox::fuzzing::x509(data));
