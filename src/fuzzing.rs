//! Fuzz entry points: one function per parser, each of which must never panic on any input.
//!
//! `fuzz/fuzz_targets/*.rs` (cargo-fuzz) are one-line wrappers around these, and the
//! proptest below runs them on random bytes in every `cargo test`.

use crate::crypto::cosign_key::{self, Password};

/// PEM decoding (single block and chains).
pub fn pem(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((label, der)) = crate::encoding::pem_decode(text) {
            let again = crate::encoding::pem_encode(&label, &der);
            // Canonical form: encoding what we decoded decodes to the same bytes.
            assert_eq!(crate::encoding::pem_decode(&again).ok(), Some((label, der)));
        }
        let _ = crate::encoding::pem_decode_all(text);
    }
}

/// DER SubjectPublicKeyInfo and PEM public keys.
pub fn public_key(data: &[u8]) {
    if let Ok(key) = crate::crypto::PublicKey::from_spki_der(data) {
        let _ = key.verify(key.default_scheme(), b"m", b"s");
        let _ = key.verify_prehashed(key.default_scheme(), &[0u8; 32], b"s");
    }
    let _ = crate::crypto::PublicKey::from_pem_or_der(data);
}

/// cosign encrypted key files (the JSON inside the PEM), with a cheap wrong password.
pub fn cosign_key_file(data: &[u8]) {
    let pem = crate::encoding::pem_encode(cosign_key::SIGSTORE_KEY_LABEL, data);
    let _ = cosign_key::decrypt_private_key(&pem, &Password::new("x"));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = cosign_key::decrypt_private_key(text, &Password::new("x"));
        let _ = cosign_key::import_private_key_pem(text);
    }
}

/// RFC 8785 canonicalization of arbitrary JSON.
pub fn canonical_json(data: &[u8]) {
    if let Ok(canonical) = crate::encoding::canonicalize(data) {
        // Canonical form is a fixed point.
        assert_eq!(crate::encoding::canonicalize(&canonical).ok(), Some(canonical));
    }
}

/// X.509 certificates, SCT lists and RFC 3161 timestamps.
pub fn x509(data: &[u8]) {
    crate::x509::fuzz_certificate(data);
    crate::x509::fuzz_sct_list(data);
    crate::x509::fuzz_timestamp(data);
}

/// C2SP checkpoints and Rekor proposed entries (what a log server parses from clients).
pub fn transparency_log(data: &[u8]) {
    crate::tlog::fuzz_parse(data);
    crate::rekor::kinds::fuzz_proposed_entry(data);
}

/// Sigstore bundle JSON.
pub fn bundle(data: &[u8]) {
    crate::bundle::fuzz_parse(data);
}

/// `trusted_root.json`, signing configs and client trust configs.
pub fn trusted_root(data: &[u8]) {
    crate::trust::fuzz_parse(data);
}

/// gitsign signatures: the armored CMS, the embedded protobuf log entry, commit and tag
/// objects, and `[gitsign]` git config text.
pub fn gitsign(data: &[u8]) {
    use crate::git::object::{self, Kind};
    let _ = crate::x509::cms::parse_detached(data);
    let _ = crate::git::proto::decode(data);
    for kind in [Kind::Commit, Kind::Tag] {
        if let Ok((payload, Some(armored))) = object::split(kind, data) {
            if let Ok(sig) = crate::git::verify::Signature::from_armored(&armored) {
                let _ = sig.embedded_entry();
                let _ = crate::git::verify::object_id(&payload, &sig);
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::git::config::gitsign_section(text);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// Random bytes, plus random bytes wrapped in the shapes the parsers look for, so the
    /// fuzzing gets past the first check.
    fn inputs() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..600),
            proptest::collection::vec(any::<u8>(), 0..400).prop_map(|body| {
                crate::encoding::pem_encode("PUBLIC KEY", &body).into_bytes()
            }),
            "\\{\"kdf\":\\{\"name\":\"scrypt\",\"params\":\\{\"N\":[0-9]{1,6},\"r\":[0-9],\"p\":[0-9]\\},\"salt\":\"[A-Za-z0-9+/=]{0,12}\"\\},\"cipher\":\\{\"name\":\"nacl/secretbox\",\"nonce\":\"[A-Za-z0-9+/=]{0,40}\"\\},\"ciphertext\":\"[A-Za-z0-9+/=]{0,40}\"\\}"
                .prop_map(String::into_bytes),
            "\\{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3\\+json\",\"verificationMaterial\":\\{\"publicKey\":\\{\"hint\":\"[a-z]{0,5}\"\\},\"tlogEntries\":\\[[^\\]]{0,40}\\]\\},\"messageSignature\":\\{\"signature\":\"[A-Za-z0-9+/=]{0,20}\"\\}\\}"
                .prop_map(String::into_bytes),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn no_parser_panics_on_random_input(data in inputs()) {
            super::pem(&data);
            super::public_key(&data);
            super::canonical_json(&data);
            super::bundle(&data);
            super::x509(&data);
            super::trusted_root(&data);
            super::transparency_log(&data);
            super::gitsign(&data);
        }
    }

    proptest! {
        // scrypt at N=2^15 costs ~50 ms, so the key-file parser gets fewer cases.
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        #[test]
        fn cosign_key_parser_never_panics(data in inputs()) {
            super::cosign_key_file(&data);
        }
    }
}
