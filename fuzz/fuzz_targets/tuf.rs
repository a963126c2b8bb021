//! cargo-fuzz target: `sigbox::fuzzing::tuf` (see there for what it covers).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sigbox::fuzzing::tuf(data));
