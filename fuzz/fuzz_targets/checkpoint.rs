//! cargo-fuzz target: `sigbox::fuzzing::checkpoint` (see there for what it covers).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sigbox::fuzzing::checkpoint(data));
