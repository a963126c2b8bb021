//! cargo-fuzz target: `sigbox::fuzzing::rekor_entry` (see there for what it covers).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sigbox::fuzzing::rekor_entry(data));
