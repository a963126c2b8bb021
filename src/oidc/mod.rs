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
