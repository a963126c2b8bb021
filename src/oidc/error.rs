//! Errors of token checks. Each names what was wrong with the token, never its contents.

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not three base64url parts, or a part is not JSON.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// `alg: none`, HMAC or another algorithm that proves nothing about the issuer.
    #[error("token algorithm {0:?} is not allowed")]
    ForbiddenAlgorithm(String),
    /// The JWKS has no key with the token's `kid` (or no key for its algorithm).
    #[error("no key with kid {0:?} in the issuer's key set")]
    UnknownKid(String),
    /// The signature does not verify with the issuer's key.
    #[error("token signature does not verify")]
    BadSignature,
    /// `iss` is missing or is not the issuer being checked.
    #[error("token issuer {got:?} is not the expected {want:?}")]
    WrongIssuer {
        /// The token's `iss`.
        got: String,
        /// The issuer configured.
        want: String,
    },
    /// The issuer is not in the configuration.
    #[error("unknown token issuer {0:?}")]
    UnknownIssuer(String),
    /// `aud` does not contain the client id.
    #[error("token audience does not include {0:?}")]
    WrongAudience(String),
    /// `exp` is in the past.
    #[error("token expired at {exp} (now {now})")]
    Expired {
        /// Expiry.
        exp: i64,
        /// The time checked.
        now: i64,
    },
    /// `nbf` or `iat` is in the future.
    #[error("token is not valid yet (nbf/iat {at}, now {now})")]
    NotYetValid {
        /// The claim value.
        at: i64,
        /// The time checked.
        now: i64,
    },
    /// A required claim is missing or has the wrong type.
    #[error("token lacks claim {0:?}")]
    MissingClaim(String),
    /// `email_verified` is not true for an email issuer.
    #[error("token email is not verified (email_verified is not true)")]
    EmailNotVerified,
    /// The subject does not fit the issuer type's rules (SPIFFE trust domain, URI domain).
    #[error("token subject {subject:?} is not allowed: {reason}")]
    SubjectNotAllowed {
        /// The subject.
        subject: String,
        /// Which rule failed.
        reason: &'static str,
    },
    /// The JWKS document could not be read.
    #[error("malformed JWKS document")]
    MalformedJwks(#[source] serde_json::Error),
    /// The issuer configuration could not be read.
    #[error("malformed OIDC issuer configuration")]
    MalformedConfig(#[source] serde_json::Error),
    /// An issuer entry of the configuration is unusable; the CA refuses to start.
    #[error("OIDC issuer configuration, issuer {issuer:?}: {problem}")]
    InvalidConfig {
        /// The issuer's key in the configuration.
        issuer: String,
        /// What is wrong.
        problem: String,
    },
}

/// Result with the OIDC error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
