//! L1 X.509: parsing certificates, Fulcio extensions, path validation, embedded SCTs and
//! RFC 3161 timestamps.
//!
//! Pure functions over bytes handed in; no I/O, no clock (time is a parameter). Trust
//! decisions (which CA chains, CT logs and TSAs are trusted, and their `validFor`
//! windows) belong to the caller, which reads them from a trusted root. This is the home
//! of `der`, `x509-cert`, `cms` and `const-oid`.
//!
//! Specs: RFC 5280 (certificates, paths), RFC 6962 (SCTs), RFC 3161 and RFC 5652
//! (timestamps, CMS), Fulcio's certificate profile (PROTOCOLS §3.3–3.5).

mod build;
mod certificate;
mod chain;
pub mod cms;
mod csr;
mod error;
mod extensions;
mod oids;
mod sct;
mod timestamp;
mod tlv;
pub mod tsp;

pub use build::{
    build_ca_certificate, build_tsa_certificate, encode_sct_list, random_serial, BuildError,
    LeafName, LeafProfile, LeafTbs,
};
pub use certificate::Certificate;
pub use chain::{verify_chain, VerifiedChain};
pub use csr::{parse_csr, verify_csr, CsrError, UnverifiedCsr};
pub use error::{Error, Result};
pub use extensions::{FulcioExtensions, SubjectAltName};
pub use sct::{
    embedded_scts, encode_sct_list_extension, parse_sct_list, precert_tbs, sct_signed_data,
    verify_embedded_scts, CtLog, Sct,
};
pub use timestamp::{verify_timestamp, TimestampAuthority, VerifiedTimestamp};

/// Fuzz entry point: certificate parsing and every accessor must never panic.
#[doc(hidden)]
pub fn fuzz_certificate(data: &[u8]) {
    if let Ok(cert) = Certificate::from_der(data) {
        let _ = cert.subject_alt_names();
        let _ = cert.fulcio_extensions();
        let _ = cert.serial_hex();
        let _ = cert.subject_string();
        let _ = embedded_scts(&cert);
        let _ = precert_tbs(&cert);
        let _ = verify_chain(&cert, std::slice::from_ref(&cert), cert.not_before());
    }
}

/// Fuzz entry point: RFC 3161 response parsing must never panic.
#[doc(hidden)]
pub fn fuzz_timestamp(data: &[u8]) {
    let authority = TimestampAuthority {
        chain: Vec::new(),
        valid_from: 0,
        valid_until: None,
        uri: String::new(),
    };
    let _ = verify_timestamp(data, b"", std::slice::from_ref(&authority));
}

/// Fuzz entry point: SCT list parsing must never panic.
#[doc(hidden)]
pub fn fuzz_sct_list(data: &[u8]) {
    let _ = parse_sct_list(data);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const LEAF: &[u8] = include_bytes!("../../fixtures/x509/github-leaf.der");
    const RESPONSE: &[u8] = include_bytes!("../../fixtures/x509/staging-rekor-v2.tsr");

    fn mutate(base: &[u8], edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
        let mut data = base.to_vec();
        for (pos, byte) in edits {
            let len = data.len();
            data[pos % len] = *byte;
        }
        data.truncate(data.len() - cut % data.len());
        data
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            fuzz_certificate(&data);
            fuzz_timestamp(&data);
            fuzz_sct_list(&data);
        }

        #[test]
        fn mutated_certificate_never_panics(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
            cut in any::<usize>(),
        ) {
            fuzz_certificate(&mutate(LEAF, &edits, cut));
        }

        #[test]
        fn mutated_timestamp_never_panics(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
            cut in any::<usize>(),
        ) {
            let data = mutate(RESPONSE, &edits, cut);
            fuzz_timestamp(&data);
            let tsa = TimestampAuthority {
                chain: vec![
                    Certificate::from_der(include_bytes!("../../fixtures/x509/tsa-staging-0.der"))
                        .unwrap(),
                    Certificate::from_der(include_bytes!("../../fixtures/x509/tsa-staging-1.der"))
                        .unwrap(),
                ],
                valid_from: 0,
                valid_until: None,
                uri: String::new(),
            };
            let sig = include_bytes!("../../fixtures/x509/staging-rekor-v2.sig");
            if data != RESPONSE {
                // A changed response may still verify only if the change is outside the
                // signed data (e.g. the embedded certificate copy); it must never panic.
                let _ = verify_timestamp(&data, sig, std::slice::from_ref(&tsa));
            }
        }
    }
}
