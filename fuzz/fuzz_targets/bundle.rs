//! cargo-fuzz target: see `sigbox::fuzzing::bundle`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sigbox::fuzzing::bundle(data));
