//! cargo-fuzz target: `sigbox::fuzzing::fulcio_request` (see there for what it covers).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sigbox::fuzzing::fulcio_request(data));
