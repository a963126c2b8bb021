//! cargo-fuzz target: `sigbox::fuzzing::tsp` (see there for what it covers).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sigbox::fuzzing::tsp(data));
