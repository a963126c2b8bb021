//! End-to-end tests of the certificate authority: real `sigbox oidc-server` and
//! `fulcio-server` processes on 127.0.0.1:0, tokens from the test issuer (and tokens minted
//! here with its key, for the kinds it never issues), both request shapes, Debian's
//! `openssl` as the independent judge of the certificates, and the CT log's read API.

use std::ffi::OsString;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use sigbox::crypto::{self, EcdsaP256Signer, KeyKind, PublicKey, Signer};
use sigbox::encoding::{b64_decode, b64_encode, b64url_encode};
use sigbox::x509::{self, Certificate};

use crate::harness::sigbox_bin;

const EMAIL: &str = "alice@example.com";

/// A server process, killed on drop.
struct Instance {
    child: Child,
    url: String,
    stderr: PathBuf,
}

impl Instance {
    /// Starts `sigbox ARGS` and waits for its `listening on http://ADDR` line.
    fn start(args: &[OsString], env: &[(&str, &str)], stderr: PathBuf) -> Instance {
        let mut command = Command::new(sigbox_bin());
        command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).env_remove("SIGBOX_LOG");
        command.stderr(std::fs::File::create(&stderr).expect("stderr file"));
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawning sigbox");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{args:?} did not start: {line:?}\n{}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        };
        Instance { child, url: url.to_string(), stderr }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An issuer, a CA configured to trust it, an HTTP client, and a scratch directory.
struct Setup {
    dir: tempfile::TempDir,
    issuer: Instance,
    fulcio: Instance,
    http: reqwest::blocking::Client,
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

fn start_issuer(dir: &Path) -> Instance {
    let data = dir.join("oidc");
    let mut args = os(&["oidc-server", "--listen", "127.0.0.1:0", "--data-dir"]);
    args.push(data.into());
    Instance::start(&args, &[], dir.join("oidc.stderr"))
}

fn start_fulcio(
    dir: &Path,
    name: &str,
    config: &Value,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Instance {
    let config_path = dir.join(format!("{name}.json"));
    std::fs::write(&config_path, config.to_string()).expect("writing config");
    let mut args = os(&["fulcio-server", "--listen", "127.0.0.1:0", "--data-dir"]);
    args.push(dir.join(name).into());
    args.push("--config".into());
    args.push(config_path.into());
    args.extend(os(extra));
    Instance::start(&args, env, dir.join(format!("{name}.stderr")))
}

fn email_config(issuer_url: &str, extra: Value) -> Value {
    let mut entry = json!({"IssuerURL": issuer_url, "ClientID": "sigstore", "Type": "email"});
    if let (Some(e), Some(x)) = (entry.as_object_mut(), extra.as_object()) {
        e.extend(x.clone());
    }
    json!({"OIDCIssuers": {issuer_url: entry}})
}

impl Setup {
    fn new(curve: &str) -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let issuer = start_issuer(dir.path());
        let config = email_config(&issuer.url, json!({}));
        let fulcio = start_fulcio(dir.path(), "ca", &config, &["--ca-curve", curve], &[]);
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        Setup { dir, issuer, fulcio, http }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A token from the test issuer, through `sigbox token`.
    fn token(&self, email: &str) -> String {
        let out = Command::new(sigbox_bin())
            .args(["token", "--issuer", &self.issuer.url, "--email", email])
            .output()
            .expect("running sigbox token");
        assert!(out.status.success(), "sigbox token: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8").trim().to_string()
    }

    /// A token with arbitrary claims and header, signed here with the test issuer's key (or
    /// `signer`), for the kinds of token the issuer never hands out.
    fn forged(&self, header: Value, claims: Value, signer: Option<&dyn Signer>) -> String {
        let pem = std::fs::read_to_string(self.path("oidc/oidc-issuer.key")).expect("issuer key");
        let key = crypto::signer_from_pem(&pem, None).expect("issuer key parses");
        let signer = signer.unwrap_or(key.as_ref());
        let input =
            format!("{}.{}", b64url_encode(header.to_string()), b64url_encode(claims.to_string()));
        let der = signer.sign(input.as_bytes()).expect("signs");
        let fixed = crypto::ecdsa_der_to_fixed(KeyKind::EcdsaP256, &der).expect("fixed");
        format!("{input}.{}", b64url_encode(fixed))
    }

    fn kid(&self) -> String {
        let jwks = self.get(&self.issuer.url, "/jwks");
        jwks["keys"][0]["kid"].as_str().expect("kid").to_string()
    }

    fn claims(&self, now: i64) -> Value {
        json!({"iss": self.issuer.url, "sub": EMAIL, "aud": "sigstore", "iat": now, "nbf": now,
               "exp": now + 600, "email": EMAIL, "email_verified": true})
    }

    fn get(&self, base: &str, path: &str) -> Value {
        let response = self.http.get(format!("{base}{path}")).send().expect("GET");
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        response.json().expect("JSON")
    }

    /// POSTs a signingCert request; returns the status and the JSON body.
    fn sign_cert(&self, fulcio: &Instance, body: &Value, bearer: Option<&str>) -> (u16, Value) {
        self.post_raw(fulcio, body.to_string().into_bytes(), bearer)
    }

    fn post_raw(&self, fulcio: &Instance, body: Vec<u8>, bearer: Option<&str>) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}/api/v2/signingCert", fulcio.url))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().expect("POST signingCert");
        let status = response.status().as_u16();
        let text = response.text().expect("body");
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {text:?}"));
        (status, value)
    }

    fn tree_size(&self, fulcio: &Instance) -> u64 {
        let sth = self.get(&fulcio.url, "/ct/v1/get-sth");
        sth["tree_size"].as_u64().expect("tree_size")
    }

    fn ct_key(&self, fulcio: &Instance) -> PublicKey {
        let pem = self
            .http
            .get(format!("{}/ct/v1/public-key", fulcio.url))
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.text())
            .expect("CT key");
        PublicKey::from_pem(&pem).expect("CT key parses")
    }
}

/// The sigstore-js request shape: token in the body, public key + signature over the email.
fn public_key_request(token: &str, key: &dyn Signer, challenge: &str) -> Value {
    let proof = key.sign(challenge.as_bytes()).expect("signs");
    json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem()},
            "proofOfPossession": b64_encode(proof),
        }
    })
}

/// The sigstore-python request shape: base64 of a PEM CSR.
fn csr_request(csr_pem: &[u8]) -> Value {
    json!({"certificateSigningRequest": b64_encode(csr_pem)})
}

fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A PEM CSR with an empty subject made by the openssl CLI for a new key of `keyspec`
/// (`ec:prime256v1`, `rsa:1024`, ...).
fn openssl_csr(dir: &Path, name: &str, keygen: &[&str]) -> Vec<u8> {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let mut args = keygen.to_vec();
    args.extend(["-out", &key]);
    openssl(dir, &args);
    openssl(dir, &["req", "-new", "-key", &key, "-subj", "/", "-out", &csr]);
    std::fs::read(dir.join(csr)).expect("CSR")
}

fn chain_of(answer: &Value) -> Vec<String> {
    answer["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .unwrap_or_else(|| panic!("no chain in {answer}"))
        .iter()
        .map(|c| c.as_str().expect("PEM string").to_string())
        .collect()
}

/// Writes leaf/intermediate/root PEMs and has openssl verify the chain both ways.
fn openssl_verifies(dir: &Path, chain: &[String]) {
    assert_eq!(chain.len(), 3, "leaf, intermediate, root");
    for (name, pem) in ["leaf.pem", "inter.pem", "root.pem"].iter().zip(chain) {
        assert!(pem.ends_with("-----END CERTIFICATE-----\n"), "PEM ends in a newline");
        std::fs::write(dir.join(name), pem).expect("writing PEM");
    }
    let full =
        openssl(dir, &["verify", "-CAfile", "root.pem", "-untrusted", "inter.pem", "leaf.pem"]);
    assert_eq!(full.trim(), "leaf.pem: OK");
    let partial = openssl(dir, &["verify", "-partial_chain", "-CAfile", "inter.pem", "leaf.pem"]);
    assert_eq!(partial.trim(), "leaf.pem: OK");
}

fn unix_now() -> i64 {
    #[allow(clippy::disallowed_methods)] // reason: a test needs the wall clock to mint tokens
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() as i64
}

/// Checks the SCT against the CT log key and the log's read API: the leaf the SCT stands
/// for is in the log at the STH's size, by an inclusion proof checked here.
fn sct_verifies_and_is_in_the_log(setup: &Setup, chain: &[String]) {
    let certs: Vec<Certificate> =
        chain.iter().map(|p| Certificate::from_pem(p).expect("parses")).collect();
    let (leaf, cas) = certs.split_first().expect("leaf");
    let verified = x509::verify_chain(leaf, cas, unix_now()).expect("chains");
    let key = setup.ct_key(&setup.fulcio);
    let logs = [x509::CtLog {
        log_id: key.key_id(),
        key: key.clone(),
        valid_from: unix_now() - 3600,
        valid_until: None,
    }];
    assert_eq!(x509::verify_embedded_scts(leaf, verified.issuer(), &logs).expect("SCT"), 1);

    // The MerkleTreeLeaf (RFC 6962 §3.4) has the same bytes as the SCT's signed data.
    let sct = x509::embedded_scts(leaf).expect("scts").remove(0);
    let tbs = x509::precert_tbs(leaf).expect("tbs");
    let leaf_input = x509::sct_signed_data(
        &tbs,
        verified.issuer().public_key().spki_der(),
        sct.timestamp_ms,
        &[],
    )
    .expect("leaf");
    let leaf_hash = sigbox::tlog::hash_leaf(&leaf_input);

    let sth = setup.get(&setup.fulcio.url, "/ct/v1/get-sth");
    let size = sth["tree_size"].as_u64().expect("size");
    let root: [u8; 32] = b64_decode(sth["sha256_root_hash"].as_str().expect("root"))
        .and_then(|r| r.try_into().ok())
        .expect("32-byte root");
    // The STH signature verifies with the same key (RFC 6962 §3.5 TreeHeadSignature).
    let mut signed = vec![0u8, 1];
    signed.extend_from_slice(&sth["timestamp"].as_u64().expect("ts").to_be_bytes());
    signed.extend_from_slice(&size.to_be_bytes());
    signed.extend_from_slice(&root);
    let digitally_signed =
        b64_decode(sth["tree_head_signature"].as_str().expect("sig")).expect("base64");
    assert_eq!(&digitally_signed[..2], &[4, 3], "SHA-256 + ECDSA");
    key.verify(crypto::SignatureScheme::EcdsaSha256, &signed, &digitally_signed[4..])
        .expect("STH signature verifies");

    let query = format!(
        "/ct/v1/get-proof-by-hash?tree_size={size}&hash={}",
        url_escape(&b64_encode(leaf_hash))
    );
    let proof = setup.get(&setup.fulcio.url, &query);
    let index = proof["leaf_index"].as_u64().expect("index");
    let path: Vec<[u8; 32]> = proof["audit_path"]
        .as_array()
        .expect("path")
        .iter()
        .map(|h| {
            b64_decode(h.as_str().expect("str")).and_then(|h| h.try_into().ok()).expect("hash")
        })
        .collect();
    sigbox::tlog::verify_inclusion(index, size, &leaf_hash, &path, &root)
        .expect("inclusion proof verifies against the STH");
    let entries =
        setup.get(&setup.fulcio.url, &format!("/ct/v1/get-entries?start={index}&end={index}"));
    let stored = entries["entries"][0]["leaf_input"].as_str().expect("leaf_input");
    assert_eq!(b64_decode(stored).expect("b64"), leaf_input);
}

fn url_escape(text: &str) -> String {
    text.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
}

#[test]
fn csr_request_gets_a_chain_that_openssl_verifies_and_an_sct_in_the_log() {
    let setup = Setup::new("p384");
    let token = setup.token(EMAIL);
    let csr = openssl_csr(
        setup.dir.path(),
        "p256",
        &["ecparam", "-name", "prime256v1", "-genkey", "-noout"],
    );
    let (status, answer) = setup.sign_cert(&setup.fulcio, &csr_request(&csr), Some(&token));
    assert_eq!(status, 200, "{answer}");
    let chain = chain_of(&answer);
    openssl_verifies(setup.dir.path(), &chain);

    let text = openssl(setup.dir.path(), &["x509", "-in", "leaf.pem", "-noout", "-text"]);
    let compact: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "X509v3 Key Usage: critical Digital Signature",
        "X509v3 Extended Key Usage: Code Signing",
        &format!("X509v3 Subject Alternative Name: critical email:{EMAIL}"),
        &format!("1.3.6.1.4.1.57264.1.1: {}", setup.issuer.url),
        "1.3.6.1.4.1.57264.1.8:",
        "CT Precertificate SCTs:",
        "Signature Algorithm: ecdsa-with-SHA384",
        "Subject: \n",
    ] {
        let want_compact: String = want.split_whitespace().collect::<Vec<_>>().join(" ");
        if want.starts_with("Subject") {
            assert!(
                text.contains("Subject: \n") || text.contains("Subject:\n"),
                "empty subject:\n{text}"
            );
        } else {
            assert!(compact.contains(&want_compact), "x509 -text lacks {want:?}:\n{text}");
        }
    }
    // The .1.8 value is a DER UTF8String of the issuer.
    let leaf = Certificate::from_pem(&chain[0]).expect("leaf");
    let v2 = leaf.extension("1.3.6.1.4.1.57264.1.8").expect(".1.8");
    assert_eq!(v2[0], 0x0c);
    assert_eq!(&v2[2..], setup.issuer.url.as_bytes());
    assert_eq!(leaf.not_after() - leaf.not_before(), 600);

    sct_verifies_and_is_in_the_log(&setup, &chain);
    assert_eq!(setup.tree_size(&setup.fulcio), 1);

    // The trust bundle is the CA part of the chain.
    let bundle = setup.get(&setup.fulcio.url, "/api/v2/trustBundle");
    assert_eq!(bundle["chains"][0]["certificates"], json!(chain[1..]));
    let config = setup.get(&setup.fulcio.url, "/api/v2/configuration");
    assert_eq!(config["issuers"][0]["issuerUrl"], json!(setup.issuer.url));
}

#[test]
fn public_key_request_with_proof_of_possession_gets_a_certificate() {
    let setup = Setup::new("p256");
    let token = setup.token(EMAIL);
    let key = EcdsaP256Signer::generate();
    // No Authorization header: the token travels in the body, as sigstore-js sends it.
    let (status, answer) =
        setup.sign_cert(&setup.fulcio, &public_key_request(&token, &key, EMAIL), None);
    assert_eq!(status, 200, "{answer}");
    let chain = chain_of(&answer);
    openssl_verifies(setup.dir.path(), &chain);
    let leaf = Certificate::from_pem(&chain[0]).expect("leaf");
    assert_eq!(leaf.public_key(), key.public_key());
    sct_verifies_and_is_in_the_log(&setup, &chain);

    // A second issuance: the log grows by one and the two tree heads are consistent.
    let sth1 = setup.get(&setup.fulcio.url, "/ct/v1/get-sth");
    let (status, answer) =
        setup.sign_cert(&setup.fulcio, &public_key_request(&token, &key, EMAIL), None);
    assert_eq!(status, 200, "{answer}");
    sct_verifies_and_is_in_the_log(&setup, &chain_of(&answer));
    let sth2 = setup.get(&setup.fulcio.url, "/ct/v1/get-sth");
    assert_eq!((sth1["tree_size"].as_u64(), sth2["tree_size"].as_u64()), (Some(1), Some(2)));
    let proof = setup.get(&setup.fulcio.url, "/ct/v1/get-sth-consistency?first=1&second=2");
    let hashes: Vec<[u8; 32]> = proof["consistency"]
        .as_array()
        .expect("list")
        .iter()
        .map(|h| {
            b64_decode(h.as_str().expect("str")).and_then(|h| h.try_into().ok()).expect("hash")
        })
        .collect();
    let root = |sth: &Value| -> [u8; 32] {
        b64_decode(sth["sha256_root_hash"].as_str().expect("root"))
            .and_then(|r| r.try_into().ok())
            .expect("root")
    };
    sigbox::tlog::verify_consistency(1, 2, &hashes, &root(&sth1), &root(&sth2))
        .expect("consistent");
}

/// Asserts a 4xx JSON error mentioning `needle`, with no certificate, and that the log did
/// not grow.
fn assert_refused(setup: &Setup, what: &str, (status, answer): (u16, Value), needle: &str) {
    assert!((400..500).contains(&status), "{what}: status {status}: {answer}");
    let message =
        answer["message"].as_str().unwrap_or_else(|| panic!("{what}: no message: {answer}"));
    assert!(answer["code"].is_number(), "{what}: no code: {answer}");
    assert!(
        message.to_lowercase().contains(&needle.to_lowercase()),
        "{what}: message {message:?} lacks {needle:?}"
    );
    assert!(answer.get("signedCertificateEmbeddedSct").is_none(), "{what}: has a certificate");
    assert_eq!(setup.tree_size(&setup.fulcio), 0, "{what}: the CT log grew");
}

#[test]
fn each_bad_token_is_refused_with_its_reason_and_nothing_is_logged() {
    let setup = Setup::new("p256");
    let now = unix_now();
    let kid = setup.kid();
    let header = json!({"alg": "ES256", "typ": "JWT", "kid": kid});
    let key = EcdsaP256Signer::generate();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = setup.claims(now);
        change(&mut claims);
        claims
    };
    let other_key = EcdsaP256Signer::generate();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "expired token",
            setup.forged(
                header.clone(),
                with(&|c| {
                    c["iat"] = (now - 7200).into();
                    c["nbf"] = (now - 7200).into();
                    c["exp"] = (now - 3600).into();
                }),
                None,
            ),
            "expired",
        ),
        (
            "wrong audience",
            setup.forged(header.clone(), with(&|c| c["aud"] = "other".into()), None),
            "audience",
        ),
        (
            "unknown issuer",
            setup.forged(
                header.clone(),
                with(&|c| c["iss"] = "https://issuer.invalid".into()),
                None,
            ),
            "unknown token issuer",
        ),
        (
            "bad signature",
            setup.forged(header.clone(), setup.claims(now), Some(&other_key)),
            "signature does not verify",
        ),
        (
            "unknown kid",
            setup.forged(json!({"alg": "ES256", "kid": "no-such-kid"}), setup.claims(now), None),
            "no key with kid",
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64url_encode(r#"{"alg":"none"}"#),
                b64url_encode(setup.claims(now).to_string())
            ),
            "not allowed",
        ),
        (
            "unverified email",
            setup.forged(header.clone(), with(&|c| c["email_verified"] = false.into()), None),
            "not verified",
        ),
    ];
    for (what, token, needle) in cases {
        let answer = setup.sign_cert(&setup.fulcio, &public_key_request(&token, &key, EMAIL), None);
        assert_refused(&setup, what, answer, needle);
    }
    // The same key and a good token do get a certificate (the cases above failed for their
    // token alone).
    let good = setup.forged(header, setup.claims(now), None);
    let (status, answer) =
        setup.sign_cert(&setup.fulcio, &public_key_request(&good, &key, EMAIL), None);
    assert_eq!(status, 200, "{answer}");
}

#[test]
fn bad_proofs_keys_and_bodies_are_refused_and_nothing_is_logged() {
    let setup = Setup::new("p256");
    let dir = setup.dir.path();
    let token = setup.token(EMAIL);
    let key = EcdsaP256Signer::generate();

    let wrong_value = public_key_request(&token, &key, "mallory@example.com");
    let answer = setup.sign_cert(&setup.fulcio, &wrong_value, None);
    assert_refused(
        &setup,
        "proof over the wrong value",
        answer,
        "proof of possession does not verify",
    );

    let csr = openssl_csr(dir, "good", &["ecparam", "-name", "prime256v1", "-genkey", "-noout"]);
    let der = openssl(dir, &["req", "-in", "good.csr", "-outform", "DER", "-out", "good.der"]);
    assert!(der.is_empty());
    let mut der = std::fs::read(dir.join("good.der")).expect("DER CSR");
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let answer = setup.sign_cert(
        &setup.fulcio,
        &json!({"certificateSigningRequest": b64_encode(&der)}),
        Some(&token),
    );
    assert_refused(&setup, "CSR with a bad signature", answer, "signature does not verify");

    let rsa = openssl_csr(
        dir,
        "rsa1024",
        &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
    );
    let answer = setup.sign_cert(&setup.fulcio, &csr_request(&rsa), Some(&token));
    assert_refused(&setup, "RSA-1024 CSR", answer, "unsupported key type");

    let p521 = openssl_csr(dir, "p521", &["ecparam", "-name", "secp521r1", "-genkey", "-noout"]);
    let answer = setup.sign_cert(&setup.fulcio, &csr_request(&p521), Some(&token));
    assert_refused(&setup, "P-521 CSR", answer, "unsupported key type");

    let mut huge = csr_request(&csr);
    huge["padding"] = "x".repeat(200 * 1024).into();
    let answer = setup.post_raw(&setup.fulcio, huge.to_string().into_bytes(), Some(&token));
    assert_eq!(answer.0, 413, "{}", answer.1);
    assert_refused(&setup, "oversized body", answer, "larger than");

    let answer = setup.sign_cert(&setup.fulcio, &csr_request(&csr), None);
    assert_refused(&setup, "no token", answer, "no identity token");

    // The good CSR from above still works: only the broken inputs were refused.
    let (status, answer) = setup.sign_cert(&setup.fulcio, &csr_request(&csr), Some(&token));
    assert_eq!(status, 200, "{answer}");
}

#[test]
fn static_jwks_issuer_works_with_the_issuer_stopped() {
    let mut setup = Setup::new("p256");
    let token = setup.token(EMAIL);
    let jwks = setup.get(&setup.issuer.url, "/jwks");
    let jwks_path = setup.path("issuer-jwks.json");
    std::fs::write(&jwks_path, jwks.to_string()).expect("writing JWKS");
    setup.issuer.stop();
    assert!(setup.http.get(format!("{}/jwks", setup.issuer.url)).send().is_err(), "issuer is down");

    let config = email_config(&setup.issuer.url, json!({"JWKSFile": jwks_path}));
    let offline = start_fulcio(setup.dir.path(), "offline", &config, &["--ca-curve", "p256"], &[]);
    let key = EcdsaP256Signer::generate();
    let (status, answer) =
        setup.sign_cert(&offline, &public_key_request(&token, &key, EMAIL), None);
    assert_eq!(
        status,
        200,
        "{answer}\n{}",
        std::fs::read_to_string(&offline.stderr).unwrap_or_default()
    );
    openssl_verifies(setup.dir.path(), &chain_of(&answer));

    // The CA that uses discovery cannot reach the stopped issuer: refused, not issued.
    let (status, answer) =
        setup.sign_cert(&setup.fulcio, &public_key_request(&token, &key, EMAIL), None);
    assert_eq!(status, 401, "{answer}");
    assert!(
        answer["message"].as_str().unwrap_or_default().contains("cannot get the keys"),
        "{answer}"
    );
}

#[test]
fn ca_from_an_encrypted_key_file_issues_under_that_chain() {
    let setup = Setup::new("p384");
    let dir = setup.dir.path();
    // Reuse the chain the first CA generated, with its key encrypted the way Fulcio's file
    // CA takes it (PKCS#8 PBES2).
    openssl(
        dir,
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            "ca/ca-intermediate.key",
            "-out",
            "encrypted.key",
            "-passout",
            "pass:s3cret",
        ],
    );
    let chain = dir.join("ca/ca-chain.pem");
    let key = dir.join("encrypted.key");
    let config = email_config(&setup.issuer.url, json!({}));
    let extra =
        ["--ca-chain", chain.to_str().expect("utf-8"), "--ca-key", key.to_str().expect("utf-8")];
    let files = start_fulcio(dir, "files", &config, &extra, &[("SIGBOX_CA_PASSWORD", "s3cret")]);
    let token = setup.token(EMAIL);
    let signer = EcdsaP256Signer::generate();
    let (status, answer) =
        setup.sign_cert(&files, &public_key_request(&token, &signer, EMAIL), None);
    assert_eq!(status, 200, "{answer}");
    let issued = chain_of(&answer);
    let expected = Certificate::from_pem_chain(&std::fs::read_to_string(&chain).expect("chain"))
        .expect("parses");
    assert_eq!(issued[1..], expected.iter().map(Certificate::to_pem).collect::<Vec<_>>()[..]);
    openssl_verifies(dir, &issued);

    // A wrong password stops the server at start, naming the key file.
    let out = Command::new(sigbox_bin())
        .args(["fulcio-server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("wrong"))
        .arg("--config")
        .arg(dir.join("files.json"))
        .args(["--ca-chain"])
        .arg(&chain)
        .arg("--ca-key")
        .arg(&key)
        .env("SIGBOX_CA_PASSWORD", "nope")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("encrypted.key") && stderr.contains("password"), "{stderr}");
}

#[test]
fn sigterm_stops_the_ca_cleanly_and_a_restart_keeps_its_chain_and_log() {
    let mut setup = Setup::new("p256");
    let token = setup.token(EMAIL);
    let key = EcdsaP256Signer::generate();
    let (status, answer) =
        setup.sign_cert(&setup.fulcio, &public_key_request(&token, &key, EMAIL), None);
    assert_eq!(status, 200, "{answer}");
    let bundle = setup.get(&setup.fulcio.url, "/api/v2/trustBundle");
    let sth = setup.get(&setup.fulcio.url, "/ct/v1/get-sth");

    let pid = setup.fulcio.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
    assert!(killed.success());
    let status = setup.fulcio.child.wait().expect("waits");
    assert_eq!(status.code(), Some(0), "SIGTERM is a clean stop");

    let config = email_config(&setup.issuer.url, json!({}));
    setup.fulcio = start_fulcio(setup.dir.path(), "ca", &config, &["--ca-curve", "p384"], &[]);
    assert_eq!(setup.get(&setup.fulcio.url, "/api/v2/trustBundle"), bundle);
    assert_eq!(setup.get(&setup.fulcio.url, "/ct/v1/get-sth"), sth);
    let (status, answer) =
        setup.sign_cert(&setup.fulcio, &public_key_request(&token, &key, EMAIL), None);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(setup.tree_size(&setup.fulcio), 2);
    sct_verifies_and_is_in_the_log(&setup, &chain_of(&answer));
}

/// sigstore-python (from `make tools`, in `.venv`), the strictest client: its own Fulcio
/// client, SCT check and pyca WebPKI chain verification accept our certificate.
#[test]
fn sigstore_python_gets_and_accepts_a_certificate() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make tools` to install sigstore-python",
        python.display()
    );
    let setup = Setup::new("p384");
    let token = setup.token(EMAIL);
    let ct_key = setup.path("ct.pem");
    std::fs::write(&ct_key, setup.ct_key(&setup.fulcio).to_pem()).expect("CT key");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fulcio/sigstore_python_client.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(&setup.fulcio.url)
        .arg(&token)
        .arg(&ct_key)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "sigstore-python refused:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(summary["identity"], EMAIL);
    assert_eq!(summary["issuer"], json!(setup.issuer.url));
    assert_eq!(summary["issuer_extension"], json!(setup.issuer.url));
    assert_eq!(summary["chain_length"], 3);
    assert_eq!(summary["code_signing"], true);
    assert_eq!(summary["public_key_matches"], true);
    assert_eq!(setup.tree_size(&setup.fulcio), 1);
}
