//! L1 OpenID Connect token checks, with no network: JWT parsing, JWS signature
//! verification against a JWKS, claim checks, Fulcio's issuer configuration, and how claims
//! become a certificate identity (PROTOCOLS §3.2, §3.6).
//!
//! Fetching discovery documents and JWKS is the caller's job (the CA, in `fulcio`); this
//! module only judges bytes it is handed.

mod config;
mod error;
mod identity;
mod jwks;
mod jwt;

pub use config::{IssuerConfig, IssuerType, OidcConfig};
pub use error::{Error, Result};
pub use identity::{identity_from_token, CertificateIdentity, SubjectName};
pub use jwks::{Jwk, JwkSet};
pub use jwt::{parse_unverified, verify_token, ClaimChecks, UnverifiedJwt, VerifiedToken};

/// Fuzz entry point for a token alone: parse, then verify against a key set holding one
/// Ed25519 key, so the signature and claim paths run on everything that parses.
#[doc(hidden)]
pub fn fuzz_token(token: &str) -> Option<()> {
    let jwt = parse_unverified(token).ok()?;
    let _ = (jwt.issuer(), jwt.kid(), jwt.alg(), jwt.claim("email"));
    let key = crate::crypto::PublicKey::from_ed25519_raw(&[0x3b; 32]).ok()?;
    let keys = JwkSet::from_keys(vec![Jwk { kid: jwt.kid().map(str::to_string), alg: None, key }]);
    let checks = ClaimChecks { issuer: "https://fuzz", audience: "sigstore", now: 0, leeway: 60 };
    let _ = verify_token(&jwt, &keys, &checks);
    Some(())
}

/// Fuzz entry point: JWTs, JWKS documents and Fulcio issuer configurations, each parser
/// on the same bytes. Must never panic.
#[doc(hidden)]
pub fn fuzz_parse(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = fuzz_token(text);
    }
    if let Ok(keys) = JwkSet::from_json(data) {
        let _ = keys.candidates(Some("kid"), "ES256");
    }
    if let Ok(config) = OidcConfig::from_json(data) {
        let _ = config.issuer("https://token.actions.githubusercontent.com");
        let _ = config.issuer("https://oauth2.sigstore.dev/auth");
    }
}
