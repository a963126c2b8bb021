//! L3 the **test** OpenID Connect issuer embedded in the local instance.
//!
//! It mints ES256 ID tokens (audience `sigstore`) for whatever email or subject is asked,
//! and approves the authorization-code + PKCE flow and the device flow at once. It has its
//! own key and is never trusted by default: only a CA configured with its URL accepts its
//! tokens. Everything it serves says so (`"sigbox_test_issuer": true`).

pub mod client;

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::crypto::{self, ecdsa_der_to_fixed, EcdsaP256Signer, Signer};
use crate::encoding::{b64url_encode, pem_encode};
use crate::http::{query_param, Handler, Method, Request, Response, StatusCode};

/// Lifetime of minted tokens, seconds.
pub const TOKEN_LIFETIME_SECS: i64 = 600;

/// Why the issuer could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The key file could not be read or written.
    #[error("issuer key file {path}")]
    KeyFile {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The key file does not parse.
    #[error("issuer key")]
    Key(#[source] crypto::Error),
}

struct PendingCode {
    subject: String,
    email: Option<String>,
    code_challenge: Option<String>,
}

/// The issuer service.
pub struct TestIssuer {
    url: String,
    signer: Arc<dyn Signer>,
    kid: String,
    codes: Mutex<HashMap<String, PendingCode>>,
    clock: fn() -> i64,
}

impl TestIssuer {
    /// Loads the issuer key from `dir` (creating it, 0600, on first start). `url` is the
    /// issuer URL written into `iss`, e.g. `http://127.0.0.1:3002`.
    pub fn load_or_create(dir: &Path, url: &str, clock: fn() -> i64) -> Result<Self, Error> {
        let path = dir.join("oidc-issuer.key");
        let file_error = |source| Error::KeyFile { path: path.display().to_string(), source };
        let signer: Arc<dyn Signer> = if path.exists() {
            let pem = zeroize::Zeroizing::new(std::fs::read_to_string(&path).map_err(file_error)?);
            Arc::from(crypto::signer_from_pem(&pem, None).map_err(Error::Key)?)
        } else {
            std::fs::create_dir_all(dir).map_err(file_error)?;
            let signer = EcdsaP256Signer::generate();
            let der = signer.to_pkcs8_der().map_err(Error::Key)?;
            let pem = zeroize::Zeroizing::new(pem_encode("PRIVATE KEY", &der));
            crypto::write_secret_file(&path, pem.as_bytes()).map_err(file_error)?;
            Arc::new(signer)
        };
        let kid = crate::encoding::hex_encode(&signer.public_key().key_id()[..8]);
        Ok(TestIssuer {
            url: url.trim_end_matches('/').to_string(),
            signer,
            kid,
            codes: Mutex::new(HashMap::new()),
            clock,
        })
    }

    /// The issuer URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The JWKS document (also what a static-JWKS CA configuration can point at).
    pub fn jwks(&self) -> serde_json::Value {
        let mut jwk = crypto::public_key_to_jwk(self.signer.public_key()).unwrap_or_default();
        jwk["kid"] = self.kid.clone().into();
        jwk["alg"] = "ES256".into();
        jwk["use"] = "sig".into();
        json!({"keys": [jwk]})
    }

    /// Mints an ID token for `subject` (and `email`, marked verified).
    pub fn mint(&self, subject: &str, email: Option<&str>) -> Result<String, crypto::Error> {
        let now = (self.clock)();
        let mut claims = json!({
            "iss": self.url, "sub": subject, "aud": "sigstore",
            "iat": now, "nbf": now, "exp": now + TOKEN_LIFETIME_SECS,
        });
        if let Some(email) = email {
            claims["email"] = email.into();
            claims["email_verified"] = true.into();
        }
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let input =
            format!("{}.{}", b64url_encode(header.to_string()), b64url_encode(claims.to_string()));
        let der = self.signer.sign(input.as_bytes())?;
        let fixed = ecdsa_der_to_fixed(self.signer.public_key().kind(), &der)?;
        Ok(format!("{input}.{}", b64url_encode(fixed)))
    }

    async fn route(&self, request: Request) -> Response {
        let path = request.path.trim_end_matches('/');
        match (&request.method, path) {
            (&Method::GET, "/.well-known/openid-configuration") => self.discovery(),
            (&Method::GET, "/jwks") => Response::json(StatusCode::OK, &self.jwks()),
            (&Method::GET, "/authorize") => self.authorize(&request),
            (&Method::POST, "/device/code") => self.device_code(&request),
            (&Method::POST, "/token") => self.token(&request),
            (&Method::GET, "/healthz") => Response::json(StatusCode::OK, &json!({"status": "ok"})),
            _ => Response::error(StatusCode::NOT_FOUND, format!("no route for {}", request.path)),
        }
    }

    fn discovery(&self) -> Response {
        let u = &self.url;
        Response::json(
            StatusCode::OK,
            &json!({
                "issuer": u,
                "jwks_uri": format!("{u}/jwks"),
                "authorization_endpoint": format!("{u}/authorize"),
                "token_endpoint": format!("{u}/token"),
                "device_authorization_endpoint": format!("{u}/device/code"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["ES256"],
                "grant_types_supported": [
                    "authorization_code",
                    "urn:ietf:params:oauth:grant-type:device_code",
                    "client_credentials",
                ],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid", "email"],
                "sigbox_test_issuer": true,
            }),
        )
    }

    /// Approves at once and redirects back with a code (RFC 6749 §4.1.2).
    fn authorize(&self, request: &Request) -> Response {
        let param = |n: &str| request.query_param(n);
        let Some(redirect) = param("redirect_uri") else {
            return Response::error(StatusCode::BAD_REQUEST, "redirect_uri is required");
        };
        if param("code_challenge").is_some()
            && param("code_challenge_method").as_deref() != Some("S256")
        {
            return Response::error(
                StatusCode::BAD_REQUEST,
                "only code_challenge_method=S256 is supported",
            );
        }
        let email = param("login_hint").unwrap_or_else(|| "test-user@sigbox.local".into());
        let code = match self.new_code(&email, param("code_challenge")) {
            Ok(c) => c,
            Err(r) => return r,
        };
        let mut location =
            format!("{redirect}{}code={code}", if redirect.contains('?') { '&' } else { '?' });
        if let Some(state) = param("state") {
            location.push_str(&format!("&state={}", crate::encoding::percent_encode(&state)));
        }
        Response::bytes(
            StatusCode::FOUND,
            "text/plain",
            b"approved by the sigbox test issuer\n".to_vec(),
        )
        .with_header("location", location)
    }

    /// RFC 8628 device authorization, approved before the user could even look.
    fn device_code(&self, request: &Request) -> Response {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let email =
            query_param(&body, "login_hint").unwrap_or_else(|| "test-user@sigbox.local".into());
        let code = match self.new_code(&email, None) {
            Ok(c) => c,
            Err(r) => return r,
        };
        Response::json(
            StatusCode::OK,
            &json!({
                "device_code": code, "user_code": "SIGBOX-TEST",
                "verification_uri": format!("{}/device", self.url),
                "verification_uri_complete": format!("{}/device?user_code=SIGBOX-TEST", self.url),
                "expires_in": 300, "interval": 1,
            }),
        )
    }

    fn token(&self, request: &Request) -> Response {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let param = |n: &str| query_param(&body, n);
        let grant = param("grant_type").unwrap_or_default();
        let (subject, email) = match grant.as_str() {
            "client_credentials" => {
                let email = param("email");
                let Some(subject) = param("subject").or_else(|| email.clone()) else {
                    return token_error("invalid_request", "give email or subject");
                };
                (subject, email)
            }
            "authorization_code" | "urn:ietf:params:oauth:grant-type:device_code" => {
                let field = if grant == "authorization_code" { "code" } else { "device_code" };
                let Some(code) = param(field) else {
                    return token_error("invalid_request", "code is required");
                };
                let pending = match self.codes.lock() {
                    Ok(mut codes) => codes.remove(&code),
                    Err(_) => None,
                };
                let Some(pending) = pending else {
                    return token_error("invalid_grant", "unknown or used code");
                };
                if let Some(challenge) = &pending.code_challenge {
                    let verifier = param("code_verifier").unwrap_or_default();
                    let computed = b64url_encode(
                        crypto::digest(crypto::HashAlgorithm::Sha256, verifier.as_bytes())
                            .as_bytes(),
                    );
                    if &computed != challenge {
                        return token_error("invalid_grant", "PKCE code_verifier does not match");
                    }
                }
                (pending.subject, pending.email)
            }
            other => {
                return token_error("unsupported_grant_type", &format!("grant_type {other:?}"))
            }
        };
        match self.mint(&subject, email.as_deref()) {
            Ok(token) => {
                tracing::info!(subject = %subject, "test issuer minted a token");
                Response::json(
                    StatusCode::OK,
                    &json!({
                        "access_token": token,
                        "id_token": token,
                        "token_type": "Bearer",
                        "expires_in": TOKEN_LIFETIME_SECS,
                    }),
                )
            }
            Err(_) => {
                Response::error(StatusCode::INTERNAL_SERVER_ERROR, "signing the token failed")
            }
        }
    }

    fn new_code(&self, email: &str, code_challenge: Option<String>) -> Result<String, Response> {
        let mut raw = [0u8; 16];
        crypto::fill_random(&mut raw)
            .map_err(|_| Response::error(StatusCode::INTERNAL_SERVER_ERROR, "no randomness"))?;
        let code = crate::encoding::hex_encode(raw);
        let mut codes = self.codes.lock().map_err(|_| {
            Response::error(StatusCode::INTERNAL_SERVER_ERROR, "code table poisoned")
        })?;
        // A test issuer, but still bounded: forget the oldest codes past a thousand.
        if codes.len() > 1000 {
            codes.clear();
        }
        codes.insert(
            code.clone(),
            PendingCode { subject: email.into(), email: Some(email.into()), code_challenge },
        );
        Ok(code)
    }
}

impl Handler for TestIssuer {
    fn handle(&self, request: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(self.route(request))
    }
}

fn token_error(code: &str, description: &str) -> Response {
    Response::json(
        StatusCode::BAD_REQUEST,
        &json!({"error": code, "error_description": description}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::{self, ClaimChecks, JwkSet};

    const NOW: i64 = 1_750_000_000;

    fn clock() -> i64 {
        NOW
    }

    fn issuer(dir: &Path) -> TestIssuer {
        TestIssuer::load_or_create(dir, "http://127.0.0.1:1/", clock).expect("issuer")
    }

    fn request(method: Method, target: &str, body: &str) -> Request {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (target.to_string(), None),
        };
        Request { method, path, query, headers: Default::default(), body: body.as_bytes().to_vec() }
    }

    async fn call(issuer: &TestIssuer, method: Method, target: &str, body: &str) -> Response {
        issuer.handle(request(method, target, body)).await
    }

    fn json_of(response: &Response) -> serde_json::Value {
        serde_json::from_slice(&response.body).expect("JSON")
    }

    /// Checks a token against the issuer's own JWKS, as the CA would.
    fn verify(issuer: &TestIssuer, token: &str) -> oidc::VerifiedToken {
        let keys = JwkSet::from_json(issuer.jwks().to_string().as_bytes()).expect("jwks");
        let checks =
            ClaimChecks { issuer: "http://127.0.0.1:1", audience: "sigstore", now: NOW, leeway: 0 };
        oidc::verify_token(&oidc::parse_unverified(token).expect("parses"), &keys, &checks)
            .expect("verifies")
    }

    #[tokio::test]
    async fn client_credentials_token_verifies_against_the_jwks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let issuer = issuer(dir.path());
        let response = call(
            &issuer,
            Method::POST,
            "/token",
            "grant_type=client_credentials&email=a%40example.com",
        )
        .await;
        assert_eq!(response.status, StatusCode::OK);
        let token = json_of(&response)["id_token"].as_str().expect("token").to_string();
        let verified = verify(&issuer, &token);
        assert_eq!(verified.string_claim("email"), Some("a@example.com"));
        assert_eq!(verified.claim("email_verified"), Some(&serde_json::Value::Bool(true)));

        let response =
            call(&issuer, Method::POST, "/token", "grant_type=client_credentials&subject=svc")
                .await;
        let token = json_of(&response)["id_token"].as_str().expect("token").to_string();
        let verified = verify(&issuer, &token);
        assert_eq!((verified.subject(), verified.string_claim("email")), ("svc", None));

        let response = call(&issuer, Method::POST, "/token", "grant_type=password").await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        assert_eq!(json_of(&response)["error"], "unsupported_grant_type");
    }

    #[tokio::test]
    async fn authorization_code_flow_checks_pkce_and_codes_are_single_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let issuer = issuer(dir.path());
        let verifier = "a-long-enough-code-verifier-for-the-test-1234567890";
        let challenge = b64url_encode(
            crypto::digest(crypto::HashAlgorithm::Sha256, verifier.as_bytes()).as_bytes(),
        );
        let authorize = format!(
            "/authorize?redirect_uri=http%3A%2F%2Flocalhost%3A9%2Fcb&state=x%20y\
             &code_challenge={challenge}&code_challenge_method=S256&login_hint=b%40example.com"
        );
        let response = call(&issuer, Method::GET, &authorize, "").await;
        assert_eq!(response.status, StatusCode::FOUND);
        let location = response.header("location").expect("location").to_string();
        assert!(location.starts_with("http://localhost:9/cb?code="), "{location}");
        assert!(location.ends_with("&state=x%20y"), "{location}");
        let code = query_param(location.split_once('?').expect("query").1, "code").expect("code");

        let wrong = format!("grant_type=authorization_code&code={code}&code_verifier=nope");
        let response = call(&issuer, Method::POST, "/token", &wrong).await;
        assert_eq!(json_of(&response)["error"], "invalid_grant");
        // A failed attempt used the code up, as a leaked code must not be retried.
        let right = format!("grant_type=authorization_code&code={code}&code_verifier={verifier}");
        let response = call(&issuer, Method::POST, "/token", &right).await;
        assert_eq!(json_of(&response)["error"], "invalid_grant");

        let response = call(&issuer, Method::GET, &authorize, "").await;
        let location = response.header("location").expect("location").to_string();
        let code = query_param(location.split_once('?').expect("query").1, "code").expect("code");
        let right = format!("grant_type=authorization_code&code={code}&code_verifier={verifier}");
        let response = call(&issuer, Method::POST, "/token", &right).await;
        assert_eq!(response.status, StatusCode::OK, "{:?}", json_of(&response));
        let token = json_of(&response)["id_token"].as_str().expect("token").to_string();
        assert_eq!(verify(&issuer, &token).string_claim("email"), Some("b@example.com"));

        let plain =
            "/authorize?redirect_uri=http://x/&code_challenge=abc&code_challenge_method=plain";
        assert_eq!(call(&issuer, Method::GET, plain, "").await.status, StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn device_flow_is_approved_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let issuer = issuer(dir.path());
        let response =
            call(&issuer, Method::POST, "/device/code", "client_id=sigstore&scope=openid").await;
        let device_code = json_of(&response)["device_code"].as_str().expect("code").to_string();
        let grant = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code";
        let body = format!("grant_type={grant}&device_code={device_code}");
        let response = call(&issuer, Method::POST, "/token", &body).await;
        assert_eq!(response.status, StatusCode::OK);
        let token = json_of(&response)["id_token"].as_str().expect("token").to_string();
        assert_eq!(verify(&issuer, &token).subject(), "test-user@sigbox.local");
    }

    #[tokio::test]
    async fn discovery_names_the_endpoints_and_the_key_survives_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = issuer(dir.path());
        let response = call(&first, Method::GET, "/.well-known/openid-configuration", "").await;
        let doc = json_of(&response);
        assert_eq!(doc["issuer"], "http://127.0.0.1:1");
        assert_eq!(doc["jwks_uri"], "http://127.0.0.1:1/jwks");
        assert_eq!(doc["sigbox_test_issuer"], true);
        let again = issuer(dir.path());
        assert_eq!(first.jwks(), again.jwks());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("oidc-issuer.key"))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
