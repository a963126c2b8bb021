//! cargo-fuzz target: PEM, public keys and canonical JSON (see `sigbox::fuzzing`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sigbox::fuzzing::pem(data);
    sigbox::fuzzing::public_key(data);
    sigbox::fuzzing::canonical_json(data);
});
