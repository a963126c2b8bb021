//! cargo-fuzz target: `sigbox::fuzzing::cosign_key_file` (see there for what it covers).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sigbox::fuzzing::cosign_key_file(data));
