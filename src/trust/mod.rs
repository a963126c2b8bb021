//! L1 trust configuration: `trusted_root.json`, signing config v0.2 and
//! `ClientTrustConfig` (PROTOCOLS §2), plus the embedded public-good root.
//!
//! Wire models live in [`wire`]; [`TrustedRoot`] and [`SigningConfig`] are the checked
//! forms. [`tuf`] holds TUF metadata and the client's checks; fetching is left to the
//! caller (`crate::tuf`): nothing here does I/O beyond reading the bytes it is handed.

mod root;
mod signing_config;
pub mod tuf;
pub mod wire;

pub use root::{
    Authority, TransparencyLog, TrustedRoot, ValidFor, PUBLIC_GOOD_TRUSTED_ROOT, TRUSTED_ROOT_V01,
    TRUSTED_ROOT_V02,
};
pub use signing_config::{Selector, SigningConfig, SIGNING_CONFIG_V02};

/// Media type of `ClientTrustConfig` v0.1.
pub const CLIENT_TRUST_CONFIG_V01: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

/// Result alias for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why trust configuration was rejected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not JSON of the right shape.
    #[error("trust config is not valid JSON of the expected shape")]
    Json(#[source] serde_json::Error),
    /// Unknown media type.
    #[error("unsupported trust config media type {0:?}")]
    MediaType(String),
    /// A `ClientTrustConfig` lacks a required member.
    #[error("client trust config has no {0}")]
    MissingMember(&'static str),
    /// An entry has no `validFor.start` (such an entry is invalid, not "always valid").
    #[error("{list}[{index}] has no validFor.start")]
    MissingStart {
        /// The list (`tlogs`, `ctlogs`, ...).
        list: &'static str,
        /// Position in the list.
        index: usize,
    },
    /// A time is not RFC 3339.
    #[error("{list}[{index}] has an invalid time {text:?}")]
    Time {
        /// The list.
        list: &'static str,
        /// Position in the list.
        index: usize,
        /// The text, quoted back.
        text: String,
    },
    /// A log key does not parse.
    #[error("{list}[{index}] public key is unusable")]
    Key {
        /// The list.
        list: &'static str,
        /// Position in the list.
        index: usize,
        /// Why.
        #[source]
        source: crate::crypto::Error,
    },
    /// A log key cannot verify checkpoints.
    #[error("log {url} key cannot verify checkpoints")]
    NoteKey {
        /// The log's base URL.
        url: String,
        /// Why.
        #[source]
        source: crate::tlog::Error,
    },
    /// A CA certificate does not parse.
    #[error("{list}[{index}] certificate chain is malformed")]
    Certificate {
        /// The list.
        list: &'static str,
        /// Position in the list.
        index: usize,
        /// Why.
        #[source]
        source: crate::x509::Error,
    },
    /// A CA has no certificates.
    #[error("{list}[{index}] certificate chain is empty")]
    EmptyChain {
        /// The list.
        list: &'static str,
        /// Position in the list.
        index: usize,
    },
    /// Fewer services qualify than the selector needs.
    #[error("signing config {list}: {got} usable services, need {want}")]
    TooFewServices {
        /// The list.
        list: &'static str,
        /// How many qualified.
        got: usize,
        /// How many are needed.
        want: usize,
    },
}

/// Reads a file that is either a `trusted_root.json` or a `ClientTrustConfig` (whose
/// trusted root is taken), as `--trusted-root` accepts both.
///
/// Errors: as [`TrustedRoot::from_json`], [`Error::MissingMember`].
pub fn trusted_root_from_any(bytes: &[u8]) -> Result<TrustedRoot> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(Error::Json)?;
    if value.get("mediaType").and_then(|m| m.as_str()) == Some(CLIENT_TRUST_CONFIG_V01) {
        return Ok(client_trust_config_from_json(bytes)?.0);
    }
    TrustedRoot::from_json(bytes)
}

/// Parses a `ClientTrustConfig` v0.1 into its two checked members.
///
/// Errors: [`Error::MediaType`], [`Error::MissingMember`], and the members' own errors.
pub fn client_trust_config_from_json(bytes: &[u8]) -> Result<(TrustedRoot, SigningConfig)> {
    let config: wire::ClientTrustConfig = serde_json::from_slice(bytes).map_err(Error::Json)?;
    if config.media_type != CLIENT_TRUST_CONFIG_V01 {
        return Err(Error::MediaType(config.media_type));
    }
    let root = config.trusted_root.ok_or(Error::MissingMember("trustedRoot"))?;
    let signing = config.signing_config.ok_or(Error::MissingMember("signingConfig"))?;
    Ok((TrustedRoot::try_from(root)?, SigningConfig::try_from(signing)?))
}

/// Parses an RFC 3339 time (`Z` or offset, 0–9 fractional digits) into Unix seconds,
/// dropping the fraction.
pub fn parse_time(text: &str) -> Option<i64> {
    crate::encoding::parse_rfc3339(text)
}

/// Fuzz entry point: arbitrary bytes as a trusted root or client trust config. Must never
/// panic.
#[doc(hidden)]
pub fn fuzz_parse(data: &[u8]) {
    let _ = trusted_root_from_any(data);
    let _ = SigningConfig::from_json(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_with_fractions_parse_to_seconds() {
        assert_eq!(parse_time("2021-01-12T11:53:27Z"), Some(1610452407));
        assert_eq!(parse_time("2022-12-31T23:59:59.999Z"), Some(1672531199));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn client_trust_config_yields_its_root() {
        let root: serde_json::Value = serde_json::from_str(PUBLIC_GOOD_TRUSTED_ROOT).unwrap();
        let config = serde_json::json!({
            "mediaType": CLIENT_TRUST_CONFIG_V01,
            "trustedRoot": root,
            "signing_config": {"mediaType": SIGNING_CONFIG_V02},
        });
        let parsed = trusted_root_from_any(config.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.tlogs().len(), 2);
        let missing =
            serde_json::json!({"mediaType": CLIENT_TRUST_CONFIG_V01, "trustedRoot": root});
        assert!(matches!(
            client_trust_config_from_json(missing.to_string().as_bytes()),
            Err(Error::MissingMember("signingConfig"))
        ));
    }
}

#[cfg(test)]
mod fuzz_tests {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic_the_trust_parsers(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            super::fuzz_parse(&data);
        }

        #[test]
        fn mutated_root_never_panics_the_trust_parsers(at in 0usize..6700, byte in any::<u8>()) {
            let mut data = super::PUBLIC_GOOD_TRUSTED_ROOT.as_bytes().to_vec();
            let i = at % data.len();
            data[i] = byte;
            super::fuzz_parse(&data);
        }
    }
}
