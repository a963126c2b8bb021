//! Compact JWS JWTs (RFC 7519, RFC 7515): parse, check the signature against a key set,
//! check the time and audience claims.
//!
//! Allowed algorithms: RS256/384/512, PS256/384/512, ES256, ES384, EdDSA. `none` and every
//! HMAC algorithm are refused: with a public JWKS an HMAC "signature" can be forged by
//! anyone who reads the key set (the classic algorithm-confusion attack).

use serde::Deserialize;
use serde_json::Value;

use super::{Error, JwkSet, Result};
use crate::crypto::{ecdsa_fixed_to_der, KeyKind, SignatureScheme};

/// A token split into its parts, nothing checked yet but its shape.
#[derive(Debug, Clone)]
pub struct UnverifiedJwt {
    alg: String,
    kid: Option<String>,
    claims: Value,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// Splits and decodes a compact JWT. Claims are not trusted until [`verify_token`].
///
/// Errors: [`Error::Malformed`], and [`Error::ForbiddenAlgorithm`] at once for `none`,
/// HMAC and unknown algorithms.
pub fn parse_unverified(token: &str) -> Result<UnverifiedJwt> {
    let token = token.trim();
    let mut parts = token.split('.');
    let (Some(header_b64), Some(claims_b64), Some(sig_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Malformed("a JWT has exactly three dot-separated parts"));
    };
    let decode =
        |p: &str, what: &'static str| crate::encoding::b64_decode(p).ok_or(Error::Malformed(what));
    let header: Header = serde_json::from_slice(&decode(header_b64, "header is not base64url")?)
        .map_err(|_| Error::Malformed("header is not a JSON object with alg"))?;
    // Refuse `none` and HMAC before anything else looks at the token (no key fetch for it).
    scheme_for(&header.alg)?;
    let claims: Value = serde_json::from_slice(&decode(claims_b64, "claims are not base64url")?)
        .map_err(|_| Error::Malformed("claims are not JSON"))?;
    if !claims.is_object() {
        return Err(Error::Malformed("claims are not a JSON object"));
    }
    let signature = decode(sig_b64, "signature is not base64url")?;
    let signing_input_len = header_b64.len() + 1 + claims_b64.len();
    let signing_input = token
        .as_bytes()
        .get(..signing_input_len)
        .ok_or(Error::Malformed("truncated token"))?
        .to_vec();
    Ok(UnverifiedJwt { alg: header.alg, kid: header.kid, claims, signing_input, signature })
}

impl UnverifiedJwt {
    /// The `iss` claim, used to pick the issuer configuration before verifying.
    pub fn issuer(&self) -> Option<&str> {
        self.claims.get("iss").and_then(Value::as_str)
    }

    /// The header's `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The header's `alg`.
    pub fn alg(&self) -> &str {
        &self.alg
    }

    /// An unverified claim (for choosing configuration only; never for decisions).
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }
}

/// What a token must satisfy besides its signature.
#[derive(Debug, Clone)]
pub struct ClaimChecks<'a> {
    /// Exact expected `iss`.
    pub issuer: &'a str,
    /// The client id that must be in `aud`.
    pub audience: &'a str,
    /// The current time, Unix seconds.
    pub now: i64,
    /// Allowed clock skew in seconds for `exp`, `nbf` and `iat`.
    pub leeway: i64,
}

/// A token whose signature, issuer, audience and times were checked. Only
/// [`verify_token`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    issuer: String,
    subject: String,
    claims: Value,
}

impl VerifiedToken {
    /// `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `sub`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// A string claim.
    pub fn string_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// Any claim, as JSON.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }
}

/// Verifies the token's signature with the key set and checks its claims.
pub fn verify_token(
    jwt: &UnverifiedJwt,
    keys: &JwkSet,
    checks: &ClaimChecks<'_>,
) -> Result<VerifiedToken> {
    let scheme = scheme_for(&jwt.alg)?;
    let candidates = keys.candidates(jwt.kid.as_deref(), &jwt.alg);
    if candidates.is_empty() {
        return Err(Error::UnknownKid(jwt.kid.clone().unwrap_or_default()));
    }
    let verified = candidates.iter().any(|jwk| {
        let signature = match jwk.key.kind() {
            kind @ (KeyKind::EcdsaP256 | KeyKind::EcdsaP384) => {
                match ecdsa_fixed_to_der(kind, &jwt.signature) {
                    Ok(der) => der,
                    Err(_) => return false,
                }
            }
            _ => jwt.signature.clone(),
        };
        jwk.key.verify(scheme, &jwt.signing_input, &signature).is_ok()
    });
    if !verified {
        return Err(Error::BadSignature);
    }
    check_claims(&jwt.claims, checks)
}

fn scheme_for(alg: &str) -> Result<SignatureScheme> {
    Ok(match alg {
        "RS256" => SignatureScheme::RsaPkcs1Sha256,
        "RS384" => SignatureScheme::RsaPkcs1Sha384,
        "RS512" => SignatureScheme::RsaPkcs1Sha512,
        "PS256" => SignatureScheme::RsaPssSha256,
        "PS384" => SignatureScheme::RsaPssSha384,
        "PS512" => SignatureScheme::RsaPssSha512,
        "ES256" => SignatureScheme::EcdsaSha256,
        "ES384" => SignatureScheme::EcdsaSha384,
        "EdDSA" => SignatureScheme::Ed25519,
        other => return Err(Error::ForbiddenAlgorithm(other.to_string())),
    })
}

fn check_claims(claims: &Value, checks: &ClaimChecks<'_>) -> Result<VerifiedToken> {
    let string = |name: &str| {
        claims.get(name).and_then(Value::as_str).ok_or_else(|| Error::MissingClaim(name.into()))
    };
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    let issuer = string("iss")?;
    if issuer != checks.issuer {
        return Err(Error::WrongIssuer { got: issuer.into(), want: checks.issuer.into() });
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == checks.audience,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(checks.audience)),
        _ => false,
    };
    if !audience_ok {
        return Err(Error::WrongAudience(checks.audience.into()));
    }
    let exp = number("exp").ok_or_else(|| Error::MissingClaim("exp".into()))?;
    if exp.saturating_add(checks.leeway) < checks.now {
        return Err(Error::Expired { exp, now: checks.now });
    }
    for name in ["nbf", "iat"] {
        if let Some(at) = number(name) {
            if at.saturating_sub(checks.leeway) > checks.now {
                return Err(Error::NotYetValid { at, now: checks.now });
            }
        }
    }
    let subject = string("sub")?;
    Ok(VerifiedToken { issuer: issuer.into(), subject: subject.into(), claims: claims.clone() })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::crypto::{ecdsa_der_to_fixed, EcdsaP256Signer, Signer};
    use crate::encoding::b64url_encode;
    use crate::oidc::Jwk;

    /// Mints a token for tests: ES256 over `claims` with `signer`, header `alg`/`kid`.
    pub(crate) fn mint(signer: &dyn Signer, alg: &str, kid: &str, claims: &Value) -> String {
        let header = serde_json::json!({"alg": alg, "kid": kid, "typ": "JWT"});
        let input =
            format!("{}.{}", b64url_encode(header.to_string()), b64url_encode(claims.to_string()));
        let der = signer.sign(input.as_bytes()).expect("signs");
        let fixed = ecdsa_der_to_fixed(KeyKind::EcdsaP256, &der).expect("fixed");
        format!("{input}.{}", b64url_encode(fixed))
    }

    pub(crate) fn claims(now: i64) -> Value {
        serde_json::json!({"iss": "https://issuer.test", "sub": "alice", "aud": "sigstore",
            "iat": now, "exp": now + 300, "email": "alice@example.com", "email_verified": true})
    }

    fn setup() -> (EcdsaP256Signer, JwkSet) {
        let signer = EcdsaP256Signer::generate();
        let set = JwkSet::from_keys(vec![Jwk {
            kid: Some("k1".into()),
            alg: None,
            key: signer.public_key().clone(),
        }]);
        (signer, set)
    }

    const NOW: i64 = 1_750_000_000;

    fn checks() -> ClaimChecks<'static> {
        ClaimChecks { issuer: "https://issuer.test", audience: "sigstore", now: NOW, leeway: 30 }
    }

    fn verify(token: &str, set: &JwkSet) -> Result<VerifiedToken> {
        verify_token(&parse_unverified(token)?, set, &checks())
    }

    #[test]
    fn good_token_verifies() {
        let (signer, set) = setup();
        let token = mint(&signer, "ES256", "k1", &claims(NOW));
        let verified = verify(&token, &set).expect("verifies");
        assert_eq!(verified.subject(), "alice");
        assert_eq!(verified.string_claim("email"), Some("alice@example.com"));
    }

    #[test]
    fn each_bad_token_is_rejected_with_its_reason() {
        let (signer, set) = setup();
        let mut expired = claims(NOW - 1000);
        expired["exp"] = (NOW - 100).into();
        assert!(matches!(
            verify(&mint(&signer, "ES256", "k1", &expired), &set),
            Err(Error::Expired { .. })
        ));
        let mut aud = claims(NOW);
        aud["aud"] = "other".into();
        assert!(matches!(
            verify(&mint(&signer, "ES256", "k1", &aud), &set),
            Err(Error::WrongAudience(_))
        ));
        let mut iss = claims(NOW);
        iss["iss"] = "https://evil.test".into();
        assert!(matches!(
            verify(&mint(&signer, "ES256", "k1", &iss), &set),
            Err(Error::WrongIssuer { .. })
        ));
        let mut future = claims(NOW + 3600);
        future["exp"] = (NOW + 7200).into();
        assert!(matches!(
            verify(&mint(&signer, "ES256", "k1", &future), &set),
            Err(Error::NotYetValid { .. })
        ));
        assert!(matches!(
            verify(&mint(&signer, "ES256", "k9", &claims(NOW)), &set),
            Err(Error::UnknownKid(_))
        ));
        let other = EcdsaP256Signer::generate();
        assert!(matches!(
            verify(&mint(&other, "ES256", "k1", &claims(NOW)), &set),
            Err(Error::BadSignature)
        ));
        assert!(matches!(
            verify(&mint(&signer, "HS256", "k1", &claims(NOW)), &set),
            Err(Error::ForbiddenAlgorithm(_))
        ));
    }

    /// Signs `claims` as a JWS with any sigbox signer, converting ECDSA to the JWS form.
    fn mint_with(signer: &dyn Signer, alg: &str, claims: &Value) -> String {
        let header = serde_json::json!({"alg": alg, "kid": "k"});
        let input =
            format!("{}.{}", b64url_encode(header.to_string()), b64url_encode(claims.to_string()));
        let signature = signer.sign(input.as_bytes()).expect("signs");
        let signature = match signer.public_key().kind() {
            kind @ (KeyKind::EcdsaP256 | KeyKind::EcdsaP384) => {
                ecdsa_der_to_fixed(kind, &signature).expect("fixed")
            }
            _ => signature,
        };
        format!("{input}.{}", b64url_encode(signature))
    }

    #[test]
    fn es384_and_eddsa_tokens_verify_and_a_mismatched_alg_does_not() {
        use crate::crypto::{EcdsaP384Signer, Ed25519Signer};
        let p384 = EcdsaP384Signer::generate();
        let ed = Ed25519Signer::generate();
        for (signer, alg) in [(&p384 as &dyn Signer, "ES384"), (&ed as &dyn Signer, "EdDSA")] {
            let set = JwkSet::from_keys(vec![Jwk {
                kid: Some("k".into()),
                alg: None,
                key: signer.public_key().clone(),
            }]);
            let token = mint_with(signer, alg, &claims(NOW));
            assert_eq!(verify(&token, &set).expect(alg).subject(), "alice");
            // The same signature under another algorithm name proves nothing.
            let other = if alg == "EdDSA" { "ES256" } else { "EdDSA" };
            let (_, rest) = token.split_once('.').expect("dot");
            let relabeled =
                format!("{}.{rest}", b64url_encode(format!(r#"{{"alg":"{other}","kid":"k"}}"#)));
            assert!(matches!(verify(&relabeled, &set), Err(Error::BadSignature)), "{alg}");
        }
    }

    #[test]
    fn alg_none_is_rejected() {
        let (_, set) = setup();
        let header = b64url_encode(r#"{"alg":"none"}"#);
        let body = b64url_encode(claims(NOW).to_string());
        let token = format!("{header}.{body}.");
        assert!(matches!(verify(&token, &set), Err(Error::ForbiddenAlgorithm(a)) if a == "none"));
    }

    #[test]
    fn malformed_tokens_are_errors_not_panics() {
        let (_, set) = setup();
        for token in ["", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.e30"] {
            assert!(verify(token, &set).is_err(), "{token}");
        }
    }
}
