//! The `tsa-server` HTTP service: `POST /api/v1/timestamp` (DER `TimeStampReq` or
//! sigstore-js's JSON request) answers a DER `TimeStampResp`; `GET
//! /api/v1/timestamp/certchain` answers the PEM chain (PROTOCOLS §8.1).
//!
//! Every request the service can read gets a `TimeStampResp`: granted with a token signed
//! at the clock's current time, or rejection with a failInfo naming the problem (HTTP
//! 400, so simple clients stop too). Only a wrong content type (415) and an oversized
//! body (413, from the HTTP layer) are answered without one.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, RwLock, RwLockWriteGuard};

use base64::Engine;
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use serde::Deserialize;

use super::authority::{Authority, Curve, SerialCounter};
use super::Error;
use crate::crypto::HashAlgorithm;
use crate::http::{Handler, Method, Request, Response, StatusCode};
use crate::x509::tsp::{self, FailInfo, MessageImprint, TimeStampReq, TokenFields, TokenSigner};
use crate::x509::Certificate;

/// Where timestamps are requested (the full URL a signing config lists ends with it).
pub const TIMESTAMP_PATH: &str = "/api/v1/timestamp";
const CERTCHAIN_PATH: &str = "/api/v1/timestamp/certchain";
const REPLY_TYPE: &str = "application/timestamp-reply";
/// The accuracy written into every token, seconds (as public good's TSA).
const ACCURACY_SECONDS: u32 = 1;

/// Everything the service needs to start.
pub struct Config {
    /// Data directory: the generated chain and keys, the serial counter.
    pub data_dir: PathBuf,
    /// An operator's chain (signing certificate first) and key, instead of generating.
    pub chain_files: Option<(PathBuf, PathBuf)>,
    /// Curve of a generated key.
    pub curve: Curve,
    /// The policy OID written into tokens (dotted).
    pub policy_oid: String,
    /// Organization of generated certificates.
    pub organization: String,
}

/// The timestamp authority service.
pub struct TsaService {
    /// The signing key and chain. A token holds the read lock from its clock reading to
    /// its signature; a live rotation holds the write lock.
    keys: RwLock<Arc<Keys>>,
    serials: SerialCounter,
    policy: ObjectIdentifier,
    clock: fn() -> i64,
}

impl TsaService {
    /// Loads or creates the authority in the data directory and opens the serial counter.
    pub fn open(config: &Config, clock: fn() -> i64) -> Result<Self, Error> {
        let policy = ObjectIdentifier::from_str(&config.policy_oid)
            .map_err(|_| Error::Policy(config.policy_oid.clone()))?;
        let authority = match &config.chain_files {
            Some((chain, key)) => Authority::from_files(chain, key)?,
            None => Authority::load_or_create(
                &config.data_dir,
                config.curve,
                &config.organization,
                clock(),
            )?,
        };
        std::fs::create_dir_all(&config.data_dir).map_err(|source| Error::File {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        let serials = SerialCounter::open(&config.data_dir.join("tsa-serial"))?;
        let keys = RwLock::new(Arc::new(Keys::new(&authority)?));
        Ok(TsaService { keys, serials, policy, clock })
    }

    fn keys(&self) -> Arc<Keys> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The current chain: signing certificate first, root last.
    pub fn chain(&self) -> Vec<Certificate> {
        self.keys().chain.clone()
    }

    /// Starts a live rotation: no token is signed until the returned guard is dropped
    /// (tokens being signed finish first, with the old key and a time before the switch).
    pub fn rotation(&self) -> Rotation<'_> {
        Rotation { keys: self.keys.write().unwrap_or_else(|p| p.into_inner()) }
    }

    /// Answers a DER `TimeStampReq`: the DER `TimeStampResp` and whether it was granted.
    pub fn respond(&self, der_request: &[u8]) -> (Vec<u8>, bool) {
        let outcome = TimeStampReq::from_der_bytes(der_request)
            .map_err(|_| (FailInfo::BadDataFormat, "the request is not a DER TimeStampReq"))
            .and_then(|request| self.grant(&request));
        match outcome {
            Ok(response) => (response, true),
            Err((fail, text)) => {
                tracing::info!(?fail, text, "timestamp request rejected");
                // An encoding failure of a fixed rejection cannot happen; answer empty.
                (tsp::rejection_response(fail, text).unwrap_or_default(), false)
            }
        }
    }

    fn grant(&self, request: &TimeStampReq) -> Result<Vec<u8>, (FailInfo, &'static str)> {
        if request.version != 1 {
            return Err((FailInfo::BadDataFormat, "TimeStampReq version must be 1"));
        }
        let Some(algorithm) = request.message_imprint.sha2_algorithm() else {
            return Err((FailInfo::BadAlg, "the imprint hash must be SHA-256, SHA-384 or SHA-512"));
        };
        if request.message_imprint.hashed_message.as_bytes().len() != algorithm.output_len() {
            return Err((FailInfo::BadDataFormat, "the imprint length does not match its hash"));
        }
        if request.req_policy.is_some_and(|p| p != self.policy) {
            return Err((FailInfo::UnacceptedPolicy, "the requested policy is not this TSA's"));
        }
        if request.extensions.as_ref().is_some_and(|e| !e.is_empty()) {
            return Err((FailInfo::UnacceptedExtension, "request extensions are not supported"));
        }
        let serial = self.serials.next();
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let fields = TokenFields {
            policy: self.policy,
            imprint: &request.message_imprint,
            serial: &serial,
            // The current time only: nothing in the request can choose it.
            gen_time: (self.clock)(),
            accuracy_seconds: ACCURACY_SECONDS,
            nonce: request.nonce.as_ref(),
            include_certificate: request.cert_req,
        };
        let token = keys.signer.sign(&fields).map_err(|e| {
            tracing::error!(error = %e, "signing a timestamp token");
            (FailInfo::SystemFailure, "the TSA could not sign")
        })?;
        tsp::granted_response(&token).map_err(|_| (FailInfo::SystemFailure, "encoding failed"))
    }

    fn route(&self, request: &Request) -> Response {
        match (&request.method, request.path.as_str()) {
            (&Method::POST, TIMESTAMP_PATH) => self.timestamp(request),
            (&Method::GET, CERTCHAIN_PATH) => Response::bytes(
                StatusCode::OK,
                "application/pem-certificate-chain",
                self.keys().chain_pem.clone().into_bytes(),
            ),
            (_, TIMESTAMP_PATH | CERTCHAIN_PATH) => {
                Response::error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
            }
            _ => Response::error(StatusCode::NOT_FOUND, "not found"),
        }
    }

    fn timestamp(&self, request: &Request) -> Response {
        let content_type = request
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let der_request = match content_type.as_str() {
            "application/timestamp-query" => request.body.clone(),
            "application/json" => match json_request(&request.body) {
                Ok(der) => der,
                Err(message) => return Response::error(StatusCode::BAD_REQUEST, message),
            },
            other => {
                return Response::error(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!(
                        "Content-Type {other:?} is not supported: send \
                         application/timestamp-query (DER TimeStampReq) or application/json"
                    ),
                )
            }
        };
        let (body, granted) = self.respond(&der_request);
        let status = if granted { StatusCode::OK } else { StatusCode::BAD_REQUEST };
        Response::bytes(status, REPLY_TYPE, body)
    }
}

/// The signing key with its chain.
struct Keys {
    chain: Vec<Certificate>,
    chain_pem: String,
    signer: TokenSigner,
}

impl Keys {
    fn new(authority: &Authority) -> Result<Keys, Error> {
        let leaf = authority.chain().first().ok_or(Error::KeyMismatch)?;
        let signer = TokenSigner::new(leaf, authority.signer())?;
        let chain = authority.chain().to_vec();
        let chain_pem = chain.iter().map(Certificate::to_pem).collect();
        Ok(Keys { chain, chain_pem, signer })
    }
}

/// A live rotation of the TSA's key in progress (from [`TsaService::rotation`]).
pub struct Rotation<'a> {
    keys: RwLockWriteGuard<'a, Arc<Keys>>,
}

impl Rotation<'_> {
    /// Signs tokens from now on with `authority`'s key and chain.
    ///
    /// Errors: [`Error::KeyMismatch`] for an empty chain; [`Error::Token`].
    pub fn install(&mut self, authority: &Authority) -> Result<(), Error> {
        *self.keys = Arc::new(Keys::new(authority)?);
        Ok(())
    }
}

impl Handler for TsaService {
    fn handle(&self, request: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(async move { self.route(&request) })
    }
}

/// sigstore-js's JSON request (timestamp-authority's `JSONRequest`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct JsonRequest {
    artifact_hash: String,
    hash_algorithm: String,
    #[serde(default)]
    certificates: bool,
    #[serde(default)]
    nonce: Option<u64>,
    #[serde(default, rename = "tsaPolicyOID")]
    tsa_policy_oid: Option<String>,
}

/// Turns the JSON request into the DER TimeStampReq it stands for, so both forms take
/// the same checks.
fn json_request(body: &[u8]) -> Result<Vec<u8>, String> {
    let json: JsonRequest = serde_json::from_slice(body)
        .map_err(|e| format!("malformed JSON timestamp request: {e}"))?;
    let algorithm = match json.hash_algorithm.to_ascii_lowercase().as_str() {
        "sha256" => HashAlgorithm::Sha256,
        "sha384" => HashAlgorithm::Sha384,
        "sha512" => HashAlgorithm::Sha512,
        other => return Err(format!("hashAlgorithm {other:?} is not supported (sha256/384/512)")),
    };
    let hash = base64::engine::general_purpose::STANDARD
        .decode(json.artifact_hash.as_bytes())
        .map_err(|_| "artifactHash is not base64".to_string())?;
    let policy = json
        .tsa_policy_oid
        .map(|p| ObjectIdentifier::from_str(&p).map_err(|_| format!("tsaPolicyOID {p:?}")))
        .transpose()?;
    let request = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: tsp::hash_algorithm_identifier(algorithm),
            hashed_message: OctetString::new(hash).map_err(|e| e.to_string())?,
        },
        req_policy: policy,
        nonce: json
            .nonce
            .map(|n| tsp::positive_int(&n.to_be_bytes()))
            .transpose()
            .map_err(|e| e.to_string())?,
        cert_req: json.certificates,
        extensions: None,
    };
    der::Encode::to_der(&request).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::digest;
    use crate::x509::{verify_timestamp, TimestampAuthority};

    const NOW: i64 = 1_750_000_000;

    fn clock() -> i64 {
        NOW
    }

    fn service(dir: &std::path::Path) -> TsaService {
        let config = Config {
            data_dir: dir.to_path_buf(),
            chain_files: None,
            curve: Curve::P256,
            policy_oid: super::super::DEFAULT_POLICY_OID.into(),
            organization: "sigbox.test".into(),
        };
        TsaService::open(&config, clock).expect("opens")
    }

    fn authority(service: &TsaService) -> TimestampAuthority {
        TimestampAuthority {
            chain: service.chain().to_vec(),
            valid_from: NOW - 10,
            valid_until: None,
            uri: "http://tsa.test".into(),
        }
    }

    #[test]
    fn granted_token_verifies_with_the_existing_verifier() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tsa = service(dir.path());
        let signature = b"signature bytes";
        let imprint = digest(HashAlgorithm::Sha256, signature);
        for cert_req in [true, false] {
            let request =
                tsp::build_request(HashAlgorithm::Sha256, imprint.as_bytes(), Some(&[9]), cert_req)
                    .expect("request");
            let (response, granted) = tsa.respond(&request);
            assert!(granted);
            let verified =
                verify_timestamp(&response, signature, &[authority(&tsa)]).expect("verifies");
            assert_eq!(verified.gen_time(), NOW);
            let err = verify_timestamp(&response, b"other", &[authority(&tsa)]).unwrap_err();
            assert!(matches!(err, crate::x509::Error::ImprintMismatch), "{err}");
        }
    }

    #[test]
    fn bad_requests_are_rejections_with_fail_info() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tsa = service(dir.path());
        let sha1 = {
            let mut req = TimeStampReq::from_der_bytes(
                &tsp::build_request(HashAlgorithm::Sha256, &[1; 32], None, false).unwrap(),
            )
            .unwrap();
            req.message_imprint.hash_algorithm.oid = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
            req.message_imprint.hashed_message = OctetString::new(vec![1u8; 20]).unwrap();
            der::Encode::to_der(&req).unwrap()
        };
        let short = tsp::build_request(HashAlgorithm::Sha256, &[1; 31], None, false).unwrap();
        let good = tsp::build_request(HashAlgorithm::Sha256, &[1; 32], None, false).unwrap();
        for (request, bit) in [
            (sha1, 0x80u8),
            (short, 0x04),
            (good[..good.len() - 3].to_vec(), 0x04),
            (Vec::new(), 0x04),
        ] {
            let (response, granted) = tsa.respond(&request);
            assert!(!granted);
            let (status, token) = tsp::parse_response(&response).expect("parses");
            assert_eq!(status.status, 2);
            assert!(token.is_none());
            assert_eq!(status.fail_info.expect("failInfo").raw_bytes().first(), Some(&bit));
        }
    }

    #[test]
    fn json_request_is_served() {
        let body = serde_json::json!({
            "artifactHash": base64::engine::general_purpose::STANDARD.encode([3u8; 32]),
            "hashAlgorithm": "sha256",
            "nonce": 4_294_967_296u64,
            "certificates": true,
        });
        let der = json_request(body.to_string().as_bytes()).expect("converts");
        let req = TimeStampReq::from_der_bytes(&der).expect("parses");
        assert!(req.cert_req);
        assert_eq!(req.nonce.expect("nonce").as_bytes(), [1, 0, 0, 0, 0]);
        assert!(json_request(b"{\"artifactHash\":\"AA==\",\"hashAlgorithm\":\"sha1\"}").is_err());
    }
}
