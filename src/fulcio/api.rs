//! Fulcio REST v2 handlers (`/api/v2/signingCert`, `trustBundle`, `configuration`) and
//! `/healthz`; `/ct/v1/*` goes to the CT log's read API (`ct_api`).
//!
//! Errors use grpc-gateway's JSON shape, `{"code", "message"}`; a token problem is 401, any
//! other bad input 400, a CA failure 500. Nothing is issued or logged for a refused request.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock, RwLockWriteGuard};

use serde::Deserialize;
use serde_json::json;

use super::ca::CertificateAuthority;
use super::ct::CtLog;
use super::ct_api;
use super::error_chain;
use super::issuers::IssuerKeys;
use super::responses::{bad_request, unauthenticated};
use crate::crypto::{KeyKind, PublicKey};
use crate::http::{Handler, Method, Request, Response, StatusCode};
use crate::oidc::{self, ClaimChecks, OidcConfig};

/// Clock skew allowed on token times, seconds.
const TOKEN_LEEWAY_SECS: i64 = 60;

/// The CA service.
pub struct FulcioApi {
    /// The CA, behind the issuance lock: an issuance holds the read lock from its clock
    /// reading to its SCT and certificate, a live rotation (CA or CT key) the write lock.
    ca: RwLock<Arc<CertificateAuthority>>,
    ct: Arc<CtLog>,
    config: OidcConfig,
    keys: IssuerKeys,
    clock: fn() -> i64,
}

impl FulcioApi {
    /// Puts the service together. `clock` returns Unix seconds (tests pin it).
    pub fn new(
        ca: CertificateAuthority,
        ct: Arc<CtLog>,
        config: OidcConfig,
        keys: IssuerKeys,
        clock: fn() -> i64,
    ) -> Self {
        FulcioApi { ca: RwLock::new(Arc::new(ca)), ct, config, keys, clock }
    }

    /// The current CA (its chain: issuing certificate first, root last).
    pub fn ca(&self) -> Arc<CertificateAuthority> {
        self.ca.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The CT log.
    pub fn ct(&self) -> &CtLog {
        &self.ct
    }

    /// Starts a live rotation of the CA or of the CT log key: no certificate is issued
    /// until the returned guard is dropped (issuances under way finish first, with the old
    /// keys and times before the rotation).
    pub fn rotation(&self) -> Rotation<'_> {
        Rotation { ct: &self.ct, ca: self.ca.write().unwrap_or_else(|p| p.into_inner()) }
    }

    async fn route(&self, request: Request) -> Response {
        let path = request.path.trim_end_matches('/');
        if let Some(ct_path) = path.strip_prefix("/ct/v1/") {
            let now_ms = u64::try_from((self.clock)()).unwrap_or_default().saturating_mul(1000);
            let ca = self.ca();
            return ct_api::route(&self.ct, ca.chain().last(), now_ms, &request, ct_path);
        }
        match (&request.method, path) {
            (&Method::POST, "/api/v2/signingCert") => self.signing_cert(&request).await,
            (&Method::GET, "/api/v2/trustBundle") => self.trust_bundle(),
            (&Method::GET, "/api/v2/configuration") => self.configuration(),
            (&Method::GET, "/healthz") => Response::json(StatusCode::OK, &json!({"status": "ok"})),
            (_, "/api/v2/signingCert") => {
                Response::error(StatusCode::METHOD_NOT_ALLOWED, "use POST for signingCert")
            }
            _ => Response::error(StatusCode::NOT_FOUND, format!("no route for {}", request.path)),
        }
    }

    async fn signing_cert(&self, request: &Request) -> Response {
        let body: SigningCertRequest = match serde_json::from_slice(&request.body) {
            Ok(b) => b,
            Err(e) => return bad_request(format!("malformed signingCert request: {e}")),
        };
        let header_token = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")));
        let token = body
            .credentials
            .as_ref()
            .and_then(|c| c.oidc_identity_token.as_deref())
            .or(header_token);
        let Some(token) = token else {
            return unauthenticated(
                "no identity token (Authorization: Bearer or credentials.oidcIdentityToken)",
            );
        };
        let now = (self.clock)();
        let identity = match self.verify_token(token, now).await {
            Ok(identity) => identity,
            Err(response) => return response,
        };
        let public_key = match (&body.public_key_request, &body.certificate_signing_request) {
            (Some(req), None) => match proof_of_possession(req, &identity.challenge) {
                Ok(key) => key,
                Err(message) => return bad_request(message),
            },
            (None, Some(csr_b64)) => match csr_key(csr_b64) {
                Ok(key) => key,
                Err(message) => return bad_request(message),
            },
            _ => {
                return bad_request(
                    "exactly one of publicKeyRequest and certificateSigningRequest is required",
                )
            }
        };
        let ct = self.ct.clone();
        let issued = tokio::task::block_in_place(|| {
            let ca = self.ca.read().unwrap_or_else(|p| p.into_inner());
            // The certificate's and the SCT's time are read under the issuance lock.
            let now = (self.clock)();
            ca.issue(&identity, &public_key, now, &ct).map(|chain| (chain, ca.clone()))
        });
        match issued {
            Ok((chain, ca)) => {
                // The CA part of the chain is the same every time: its PEM is made once.
                let mut pems: Vec<String> = chain.first().map(|c| c.to_pem()).into_iter().collect();
                pems.extend(ca.chain_pem().iter().cloned());
                Response::json(
                    StatusCode::OK,
                    &json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": pems}}}),
                )
            }
            Err(e) => {
                tracing::error!(error = %error_chain(&e), "issuance failed");
                Response::json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &json!({"code": 13, "message": "the CA could not issue the certificate"}),
                )
            }
        }
    }

    async fn verify_token(
        &self,
        token: &str,
        now: i64,
    ) -> Result<oidc::CertificateIdentity, Response> {
        let jwt = oidc::parse_unverified(token).map_err(|e| unauthenticated(e.to_string()))?;
        let iss = jwt.issuer().ok_or_else(|| unauthenticated("token has no iss claim"))?;
        let issuer = self.config.issuer(iss).map_err(|e| unauthenticated(e.to_string()))?;
        let keys = self.keys.keys(&issuer, jwt.kid()).await.map_err(|e| {
            let error = error_chain(&e);
            tracing::warn!(issuer = %issuer.issuer_url, %error, "issuer keys unavailable");
            unauthenticated(format!(
                "cannot get the keys of issuer {}: {}",
                issuer.issuer_url,
                error_chain(&e)
            ))
        })?;
        let checks = ClaimChecks {
            issuer: &issuer.issuer_url,
            audience: &issuer.client_id,
            now,
            leeway: TOKEN_LEEWAY_SECS,
        };
        let verified =
            oidc::verify_token(&jwt, &keys, &checks).map_err(|e| unauthenticated(e.to_string()))?;
        oidc::identity_from_token(&verified, &issuer).map_err(|e| unauthenticated(e.to_string()))
    }

    fn trust_bundle(&self) -> Response {
        let ca = self.ca();
        let pems = ca.chain_pem();
        Response::json(StatusCode::OK, &json!({"chains": [{"certificates": pems}]}))
    }

    fn configuration(&self) -> Response {
        let mut issuers = Vec::new();
        let describe = |config: &oidc::IssuerConfig| {
            let (issuer_type, challenge) = match config.r#type {
                oidc::IssuerType::Email => ("email", "email"),
                oidc::IssuerType::GithubWorkflow => ("github-workflow", "sub"),
                oidc::IssuerType::CiProvider => ("ci-provider", "sub"),
                oidc::IssuerType::GitlabPipeline => ("gitlab-pipeline", "sub"),
                oidc::IssuerType::Kubernetes => ("kubernetes", "sub"),
                oidc::IssuerType::Spiffe => ("spiffe", "sub"),
                oidc::IssuerType::Uri => ("uri", "sub"),
                oidc::IssuerType::Username => ("username", "sub"),
            };
            json!({
                "audience": config.client_id,
                "challengeClaim": challenge,
                "issuerType": issuer_type,
            })
        };
        for (url, config) in &self.config.oidc_issuers {
            let mut entry = describe(config);
            entry["issuerUrl"] = url.clone().into();
            issuers.push(entry);
        }
        for (url, config) in &self.config.meta_issuers {
            let mut entry = describe(config);
            entry["wildcardIssuerUrl"] = url.clone().into();
            issuers.push(entry);
        }
        Response::json(StatusCode::OK, &json!({"issuers": issuers}))
    }
}

impl Handler for FulcioApi {
    fn handle(&self, request: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(self.route(request))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigningCertRequest {
    #[serde(default, alias = "credentials")]
    credentials: Option<Credentials>,
    #[serde(default, alias = "public_key_request")]
    public_key_request: Option<PublicKeyRequest>,
    #[serde(default, alias = "certificate_signing_request")]
    certificate_signing_request: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Credentials {
    #[serde(default, alias = "oidc_identity_token")]
    oidc_identity_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublicKeyRequest {
    #[serde(alias = "public_key")]
    public_key: PublicKeyContent,
    #[serde(alias = "proof_of_possession")]
    proof_of_possession: String,
}

#[derive(Deserialize)]
struct PublicKeyContent {
    content: String,
}

/// Checks the proof of possession: a signature over the challenge (`email` or `sub`) with the
/// submitted key, under the key's default scheme. The key policy is applied first, so a weak
/// key is reported as such rather than as a bad proof.
fn proof_of_possession(request: &PublicKeyRequest, challenge: &str) -> Result<PublicKey, String> {
    let content = request.public_key.content.as_bytes();
    let key = PublicKey::from_pem_or_der(content)
        .or_else(|first| {
            // compat(grpc-gateway): some clients send base64 DER instead of PEM.
            crate::encoding::b64_decode(&request.public_key.content)
                .ok_or(first)
                .and_then(|der| PublicKey::from_pem_or_der(&der))
        })
        .map_err(|e| format!("publicKey: {}", error_chain(&e)))?;
    check_key_policy(&key)?;
    let signature = crate::encoding::b64_decode(&request.proof_of_possession)
        .ok_or("proofOfPossession is not base64")?;
    key.verify(key.default_scheme(), challenge.as_bytes(), &signature).map_err(|_| {
        "proof of possession does not verify over the token's email or subject".to_string()
    })?;
    Ok(key)
}

/// Reads the CSR form (base64 of PEM or DER), applies the key policy, then checks the
/// self-signature (the CSR form's proof of possession).
fn csr_key(csr_b64: &str) -> Result<PublicKey, String> {
    let csr =
        crate::encoding::b64_decode(csr_b64).ok_or("certificateSigningRequest is not base64")?;
    let request = crate::x509::parse_csr(&csr).map_err(|e| error_chain(&e))?;
    check_key_policy(request.public_key())?;
    request.verify().map_err(|e| error_chain(&e))
}

/// Fulcio's "goodkey" policy: ECDSA P-256/P-384, RSA 2048–4096 bits, Ed25519. (P-521 keys
/// do not even parse: sigbox's crypto has no P-521.)
fn check_key_policy(key: &PublicKey) -> Result<(), String> {
    match key.kind() {
        KeyKind::EcdsaP256 | KeyKind::EcdsaP384 | KeyKind::Ed25519 => Ok(()),
        KeyKind::Rsa => {
            let bits = crate::crypto::rsa_modulus_bits(key).unwrap_or(0);
            if (2048..=4096).contains(&bits) && bits % 8 == 0 {
                Ok(())
            } else {
                Err(format!("unsupported key type: RSA-{bits} (need 2048 to 4096 bits)"))
            }
        }
    }
}

/// Fuzz entry point: a signing-certificate request body in either shape, through every
/// check that needs no issuer keys (the token is parsed but cannot be verified offline).
/// Must never panic.
#[doc(hidden)]
pub fn fuzz_signing_request(body: &[u8]) {
    let Ok(request) = serde_json::from_slice::<SigningCertRequest>(body) else {
        return;
    };
    if let Some(token) = request.credentials.as_ref().and_then(|c| c.oidc_identity_token.as_ref()) {
        let _ = crate::oidc::fuzz_token(token);
    }
    if let Some(pk) = &request.public_key_request {
        let _ = proof_of_possession(pk, "fuzz@example.com");
    }
    if let Some(csr) = &request.certificate_signing_request {
        let _ = csr_key(csr);
    }
}

/// A live rotation of the CA's keys in progress (from [`FulcioApi::rotation`]).
pub struct Rotation<'a> {
    ct: &'a CtLog,
    ca: RwLockWriteGuard<'a, Arc<CertificateAuthority>>,
}

impl Rotation<'_> {
    /// Issues from now on with `ca`.
    pub fn install_ca(&mut self, ca: CertificateAuthority) {
        *self.ca = Arc::new(ca);
    }

    /// Signs SCTs and tree heads from now on with `signer` (see [`CtLog::replace_key`]).
    ///
    /// Errors: [`super::ct::Error`]; the old key stays.
    pub fn install_ct_key(
        &mut self,
        signer: Arc<dyn crate::crypto::Signer>,
        now: i64,
    ) -> Result<(), super::ct::Error> {
        let now_ms = u64::try_from(now).unwrap_or_default().saturating_mul(1000);
        self.ct.replace_key(signer, now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{ecdsa_der_to_fixed, EcdsaP256Signer, Signer};
    use crate::encoding::{b64_encode, b64url_encode};
    use crate::fulcio::service;
    use crate::tlog;
    use serde_json::Value;

    const NOW: i64 = 1_750_000_000;
    const ISSUER: &str = "https://issuer.test";

    fn clock() -> i64 {
        NOW
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        api: FulcioApi,
        issuer_key: EcdsaP256Signer,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let issuer_key = EcdsaP256Signer::generate();
        let api = service::open_for_test(dir.path(), ISSUER, &issuer_key, clock);
        Fixture { _dir: dir, api, issuer_key }
    }

    impl Fixture {
        fn token(&self, email: &str) -> String {
            let header = json!({"alg": "ES256", "kid": "k1"});
            let claims = json!({"iss": ISSUER, "sub": "s", "aud": "sigstore", "iat": NOW,
                "exp": NOW + 60, "email": email, "email_verified": true});
            let input = format!(
                "{}.{}",
                b64url_encode(header.to_string()),
                b64url_encode(claims.to_string())
            );
            let der = self.issuer_key.sign(input.as_bytes()).expect("signs");
            let fixed = ecdsa_der_to_fixed(KeyKind::EcdsaP256, &der).expect("fixed");
            format!("{input}.{}", b64url_encode(fixed))
        }

        async fn call(&self, method: Method, target: &str, body: &[u8]) -> (u16, Value) {
            let (path, query) = match target.split_once('?') {
                Some((p, q)) => (p.to_string(), Some(q.to_string())),
                None => (target.to_string(), None),
            };
            let request =
                Request { method, path, query, headers: Default::default(), body: body.to_vec() };
            let response = self.api.handle(request).await;
            let value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
            (response.status.as_u16(), value)
        }
    }

    fn pop_body(token: &str, key: &EcdsaP256Signer, challenge: &str) -> Value {
        let proof = key.sign(challenge.as_bytes()).expect("signs");
        json!({"credentials": {"oidcIdentityToken": token},
               "publicKeyRequest": {"publicKey": {"content": key.public_key().to_pem()},
                                    "proofOfPossession": b64_encode(proof)}})
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn public_key_request_is_issued_and_logged() {
        let f = fixture();
        let key = EcdsaP256Signer::generate();
        let body = pop_body(&f.token("a@example.com"), &key, "a@example.com");
        let (status, answer) =
            f.call(Method::POST, "/api/v2/signingCert", body.to_string().as_bytes()).await;
        assert_eq!(status, 200, "{answer}");
        let chain = &answer["signedCertificateEmbeddedSct"]["chain"]["certificates"];
        assert_eq!(chain.as_array().map(Vec::len), Some(3));
        let (_, sth) = f.call(Method::GET, "/ct/v1/get-sth", b"").await;
        assert_eq!(sth["tree_size"], 1);
        let (status, entry) =
            f.call(Method::GET, "/ct/v1/get-entry-and-proof?leaf_index=0&tree_size=1", b"").await;
        assert_eq!(status, 200, "{entry}");
        let leaf =
            crate::encoding::b64_decode(entry["leaf_input"].as_str().expect("leaf")).expect("b64");
        let root = crate::encoding::b64_decode(sth["sha256_root_hash"].as_str().expect("root"))
            .expect("b64");
        assert_eq!(tlog::hash_leaf(&leaf).to_vec(), root, "a one-entry tree's root is its leaf");
        assert_eq!(entry["audit_path"], json!([]));
        let (status, _) =
            f.call(Method::GET, "/ct/v1/get-entry-and-proof?leaf_index=1&tree_size=1", b"").await;
        assert_eq!(status, 400);
        let (_, roots) = f.call(Method::GET, "/ct/v1/get-roots", b"").await;
        let root_pem = chain[2].as_str().expect("root PEM");
        let root_der = crate::encoding::pem_decode(root_pem).expect("pem").1;
        assert_eq!(roots["certificates"], json!([crate::encoding::b64_encode(root_der)]));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn malformed_or_ambiguous_requests_are_400_and_log_nothing() {
        let f = fixture();
        let token = f.token("a@example.com");
        let key = EcdsaP256Signer::generate();
        let mut both = pop_body(&token, &key, "a@example.com");
        both["certificateSigningRequest"] = "AAAA".into();
        let mut neither = pop_body(&token, &key, "a@example.com");
        neither.as_object_mut().expect("object").remove("publicKeyRequest");
        let mut bad_key = pop_body(&token, &key, "a@example.com");
        bad_key["publicKeyRequest"]["publicKey"]["content"] = "not a key".into();
        let mut bad_proof = pop_body(&token, &key, "a@example.com");
        bad_proof["publicKeyRequest"]["proofOfPossession"] = "!!".into();
        let mut bad_csr = neither.clone();
        bad_csr["certificateSigningRequest"] = b64_encode(b"garbage").into();
        let cases: [(&str, Vec<u8>, &str); 6] = [
            ("not JSON", b"{".to_vec(), "malformed signingCert request"),
            ("both shapes", both.to_string().into_bytes(), "exactly one of"),
            ("neither shape", neither.to_string().into_bytes(), "exactly one of"),
            ("bad key", bad_key.to_string().into_bytes(), "publicKey"),
            ("bad proof", bad_proof.to_string().into_bytes(), "not base64"),
            ("bad CSR", bad_csr.to_string().into_bytes(), "malformed certificate signing"),
        ];
        for (what, body, needle) in cases {
            let (status, answer) = f.call(Method::POST, "/api/v2/signingCert", &body).await;
            assert_eq!(status, 400, "{what}: {answer}");
            assert_eq!(answer["code"], 3, "{what}");
            let message = answer["message"].as_str().unwrap_or_default();
            assert!(message.contains(needle), "{what}: {message:?}");
        }
        let (_, sth) = f.call(Method::GET, "/ct/v1/get-sth", b"").await;
        assert_eq!(sth["tree_size"], 0);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn ct_read_api_checks_its_parameters() {
        let f = fixture();
        let cases = [
            ("/ct/v1/get-sth-consistency?first=2&second=1", 400),
            ("/ct/v1/get-sth-consistency?first=0&second=5", 400),
            ("/ct/v1/get-sth-consistency?first=x&second=1", 400),
            ("/ct/v1/get-proof-by-hash?tree_size=1&hash=AAAA", 400),
            (&format!("/ct/v1/get-proof-by-hash?tree_size=1&hash={}%3D", "A".repeat(43)), 404),
            ("/ct/v1/get-entries?start=3&end=1", 400),
            ("/ct/v1/nothing", 404),
        ];
        for (target, want) in cases {
            let (status, answer) = f.call(Method::GET, target, b"").await;
            assert_eq!(status, want, "{target}: {answer}");
            assert!(answer["message"].is_string(), "{target}: {answer}");
        }
        let (status, _) = f.call(Method::GET, "/api/v2/signingCert", b"").await;
        assert_eq!(status, 405);
        let (status, key) = f.call(Method::GET, "/ct/v1/public-key", b"").await;
        assert_eq!((status, key), (200, Value::Null), "PEM, not JSON");
    }
}
