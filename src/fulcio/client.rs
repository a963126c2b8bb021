//! Asking a Fulcio (v2 REST) for a certificate, as keyless signing does: the public key and
//! a proof of possession (a signature over the token's `email`, else its `sub`), the token
//! both in the body and as `Authorization: Bearer` (PROTOCOLS §3.1–§3.2).
//!
//! The caller hands in a configured blocking HTTP client and checks what comes back (chain,
//! SCT) against its trust root; this module only transports and parses.

use serde_json::json;

use crate::crypto::{self, Signer};
use crate::oidc;
use crate::x509::{self, Certificate};

/// Why no certificate came back.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The token does not parse, so no challenge can be chosen.
    #[error("identity token")]
    Token(#[source] oidc::Error),
    /// The token has neither `email` nor `sub`.
    #[error("identity token has neither an email nor a sub claim")]
    NoChallenge,
    /// The token's email is marked unverified: Fulcio would refuse it.
    #[error("identity token email is not verified (email_verified is false)")]
    EmailNotVerified,
    /// Signing the proof of possession failed.
    #[error("signing the proof of possession")]
    Sign(#[source] crypto::Error),
    /// The request failed on the way.
    #[error("requesting a certificate from {url}")]
    Request {
        /// The endpoint.
        url: String,
        /// Cause.
        #[source]
        source: reqwest::Error,
    },
    /// The answer could not be read (connection lost, or larger than the cap).
    #[error("reading the CA's answer")]
    Read(#[source] crate::http::ReadError),
    /// Fulcio answered with an error.
    #[error("{url} refused the certificate request ({status}): {message}")]
    Refused {
        /// The endpoint.
        url: String,
        /// HTTP status.
        status: u16,
        /// Fulcio's `message`, or the body start when there is none.
        message: String,
    },
    /// The answer is not the embedded-SCT chain shape.
    #[error("answer of {0} has no signedCertificateEmbeddedSct chain of at least 2 certificates")]
    Malformed(String),
    /// A certificate of the chain does not parse.
    #[error("certificate {index} of the chain")]
    Certificate {
        /// Position in the chain (0 = leaf).
        index: usize,
        /// Cause.
        #[source]
        source: x509::Error,
    },
}

/// The value the proof of possession signs, chosen as clients do: the `email` claim when
/// present (refused when `email_verified` is false), else `sub`. The token is only read,
/// not verified: Fulcio verifies it.
pub fn challenge_for_token(token: &str) -> Result<String, ClientError> {
    let jwt = oidc::parse_unverified(token).map_err(ClientError::Token)?;
    if let Some(email) = jwt.claim("email").and_then(|v| v.as_str()) {
        if jwt.claim("email_verified").and_then(|v| v.as_bool()) == Some(false) {
            return Err(ClientError::EmailNotVerified);
        }
        return Ok(email.to_string());
    }
    jwt.claim("sub").and_then(|v| v.as_str()).map(str::to_string).ok_or(ClientError::NoChallenge)
}

/// Requests a certificate for `signer`'s public key from the Fulcio at `base_url` (its
/// origin, e.g. `http://127.0.0.1:5555`). Returns the chain, leaf first, as Fulcio sent it.
pub fn request_certificate(
    http: &reqwest::blocking::Client,
    base_url: &str,
    token: &str,
    signer: &dyn Signer,
) -> Result<Vec<Certificate>, ClientError> {
    let challenge = challenge_for_token(token)?;
    let proof = signer.sign(challenge.as_bytes()).map_err(ClientError::Sign)?;
    let body = json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {
            "publicKey": {
                "algorithm": algorithm_name(signer),
                "content": signer.public_key().to_pem(),
            },
            "proofOfPossession": crate::encoding::b64_encode(proof),
        }
    });
    let url = format!("{}/api/v2/signingCert", base_url.trim_end_matches('/'));
    let request_error = |source| ClientError::Request { url: url.clone(), source };
    let response = http.post(&url).bearer_auth(token).json(&body).send().map_err(request_error)?;
    let read = crate::http::Answer::read(response, &url, crate::http::MAX_RESPONSE_BYTES)
        .map_err(ClientError::Read)?;
    if read.status != 200 {
        let message = read.error_message();
        return Err(ClientError::Refused { url, status: read.status, message });
    }
    let answer = read.json().unwrap_or_default();
    let pems = answer
        .pointer("/signedCertificateEmbeddedSct/chain/certificates")
        .and_then(|c| c.as_array())
        .filter(|c| c.len() >= 2)
        .ok_or_else(|| ClientError::Malformed(url.clone()))?;
    pems.iter()
        .enumerate()
        .map(|(index, pem)| {
            let pem = pem.as_str().ok_or_else(|| ClientError::Malformed(url.clone()))?;
            Certificate::from_pem(pem).map_err(|source| ClientError::Certificate { index, source })
        })
        .collect()
}

fn algorithm_name(signer: &dyn Signer) -> &'static str {
    match signer.public_key().kind() {
        crypto::KeyKind::EcdsaP256 | crypto::KeyKind::EcdsaP384 => "ECDSA",
        crypto::KeyKind::Ed25519 => "ED25519",
        crypto::KeyKind::Rsa => "RSA_PSS",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::crypto::{ecdsa_der_to_fixed, EcdsaP256Signer, KeyKind};
    use crate::encoding::b64url_encode;
    use crate::fulcio::service;
    use crate::http::{Handler, Limits};

    const ISSUER: &str = "https://issuer.test";

    const NOW: i64 = 1_750_000_000;

    fn clock() -> i64 {
        NOW
    }

    fn token(key: &EcdsaP256Signer, claims: serde_json::Value) -> String {
        let header = json!({"alg": "ES256", "kid": "k1"});
        let input =
            format!("{}.{}", b64url_encode(header.to_string()), b64url_encode(claims.to_string()));
        let der = key.sign(input.as_bytes()).expect("signs");
        let fixed = ecdsa_der_to_fixed(KeyKind::EcdsaP256, &der).expect("fixed");
        format!("{input}.{}", b64url_encode(fixed))
    }

    #[test]
    fn challenge_is_the_email_else_the_subject() {
        let key = EcdsaP256Signer::generate();
        let with_email = json!({"sub": "s", "email": "a@b.c", "email_verified": true});
        assert_eq!(challenge_for_token(&token(&key, with_email)).expect("ok"), "a@b.c");
        assert_eq!(challenge_for_token(&token(&key, json!({"sub": "s"}))).expect("ok"), "s");
        let unverified = json!({"sub": "s", "email": "a@b.c", "email_verified": false});
        assert!(matches!(
            challenge_for_token(&token(&key, unverified)),
            Err(ClientError::EmailNotVerified)
        ));
        assert!(matches!(challenge_for_token("x.y"), Err(ClientError::Token(_))));
    }

    #[test]
    fn certificate_from_a_real_server_and_its_refusal_message() {
        let dir = tempfile::tempdir().expect("tempdir");
        let issuer_key = EcdsaP256Signer::generate();
        let api = service::open_for_test(dir.path(), ISSUER, &issuer_key, clock);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listener =
            runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("binds");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handler: Arc<dyn Handler> = Arc::new(api);
        let server =
            runtime.spawn(crate::http::serve(listener, handler, Limits::default(), async {
                let _ = stopped.await;
            }));

        let http = crate::http::blocking_builder().build().expect("a default HTTP client builds");
        let t = NOW;
        let claims = json!({"iss": ISSUER, "sub": "s", "aud": "sigstore", "iat": t,
            "exp": t + 60, "email": "a@example.com", "email_verified": true});
        let good = token(&issuer_key, claims.clone());
        let signer = EcdsaP256Signer::generate();
        let chain = request_certificate(&http, &url, &good, &signer).expect("issued");
        assert_eq!(chain.len(), 3);
        assert_eq!(chain[0].public_key(), signer.public_key());

        let mut wrong_audience = claims;
        wrong_audience["aud"] = "other".into();
        let refused =
            request_certificate(&http, &url, &token(&issuer_key, wrong_audience), &signer);
        match refused {
            Err(ClientError::Refused { status: 401, message, .. }) => {
                assert!(message.contains("audience"), "{message}")
            }
            other => panic!("expected a refusal, got {:?}", other.map(|c| c.len())),
        }
        let _ = stop.send(());
        let _ = runtime.block_on(server);
    }
}
