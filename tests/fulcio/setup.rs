//! Helpers of the CA end-to-end tests: server processes killed on drop, an issuer + CA
//! pair, request bodies in both shapes, the `openssl` CLI, and the SCT/CT-log checks.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use sigbox::crypto::{self, KeyKind, PublicKey, Signer};
use sigbox::encoding::{b64_decode, b64_encode, b64url_encode};
use sigbox::x509::{self, Certificate};

use crate::harness::process::Process;
use crate::harness::sigbox_bin;

pub(super) const EMAIL: &str = "alice@example.com";

/// A server process (the shared harness's [`Process`]), killed on drop.
pub(super) struct Instance {
    pub(super) process: Process,
    pub(super) url: String,
}

impl Instance {
    /// Starts `sigbox ARGS` and waits for its `listening on http://ADDR` line.
    pub(super) fn start(args: &[OsString], env: &[(&str, &str)], stderr: PathBuf) -> Instance {
        let mut command = Command::new(sigbox_bin());
        command.args(args);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut process = Process::spawn(command, Some(stderr));
        let lines = process.wait_for(|line| line.starts_with("listening on "));
        let url = lines.last().and_then(|l| l.strip_prefix("listening on ")).unwrap_or_default();
        Instance { url: url.trim().to_string(), process }
    }

    /// What the server logged on stderr so far.
    pub(super) fn log(&self) -> String {
        self.process.log()
    }

    pub(super) fn stop(&mut self) {
        self.process.kill();
    }
}

/// An issuer, a CA configured to trust it, an HTTP client, and a scratch directory.
pub(super) struct Setup {
    pub(super) dir: tempfile::TempDir,
    pub(super) issuer: Instance,
    pub(super) fulcio: Instance,
    pub(super) http: reqwest::blocking::Client,
}

pub(super) fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

pub(super) fn start_issuer(dir: &Path) -> Instance {
    let data = dir.join("oidc");
    let mut args = os(&["oidc-server", "--listen", "127.0.0.1:0", "--data-dir"]);
    args.push(data.into());
    Instance::start(&args, &[], dir.join("oidc.stderr"))
}

pub(super) fn start_fulcio(
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

pub(super) fn email_config(issuer_url: &str, extra: Value) -> Value {
    let mut entry = json!({"IssuerURL": issuer_url, "ClientID": "sigstore", "Type": "email"});
    if let (Some(e), Some(x)) = (entry.as_object_mut(), extra.as_object()) {
        e.extend(x.clone());
    }
    json!({"OIDCIssuers": {issuer_url: entry}})
}

impl Setup {
    pub(super) fn new(curve: &str) -> Setup {
        Self::new_with(curve, &[])
    }

    /// A setup whose CA gets `extra` flags (e.g. `--storage URL`).
    pub(super) fn new_with(curve: &str, extra: &[&str]) -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let issuer = start_issuer(dir.path());
        let config = email_config(&issuer.url, json!({}));
        let flags = [&["--ca-curve", curve][..], extra].concat();
        let fulcio = start_fulcio(dir.path(), "ca", &config, &flags, &[]);
        let http = sigbox::http::blocking_builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        Setup { dir, issuer, fulcio, http }
    }

    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A token from the test issuer, through `sigbox token`.
    pub(super) fn token(&self, email: &str) -> String {
        let out = Command::new(sigbox_bin())
            .args(["token", "--issuer", &self.issuer.url, "--email", email])
            .output()
            .expect("running sigbox token");
        assert!(out.status.success(), "sigbox token: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8").trim().to_string()
    }

    /// A token with arbitrary claims and header, signed here with the test issuer's key (or
    /// `signer`), for the kinds of token the issuer never hands out.
    pub(super) fn forged(
        &self,
        header: Value,
        claims: Value,
        signer: Option<&dyn Signer>,
    ) -> String {
        let pem = std::fs::read_to_string(self.path("oidc/oidc-issuer.key")).expect("issuer key");
        let key = crypto::signer_from_pem(&pem, None).expect("issuer key parses");
        let signer = signer.unwrap_or(key.as_ref());
        let input =
            format!("{}.{}", b64url_encode(header.to_string()), b64url_encode(claims.to_string()));
        let der = signer.sign(input.as_bytes()).expect("signs");
        let fixed = crypto::ecdsa_der_to_fixed(KeyKind::EcdsaP256, &der).expect("fixed");
        format!("{input}.{}", b64url_encode(fixed))
    }

    pub(super) fn kid(&self) -> String {
        let jwks = self.get(&self.issuer.url, "/jwks");
        jwks["keys"][0]["kid"].as_str().expect("kid").to_string()
    }

    pub(super) fn claims(&self, now: i64) -> Value {
        json!({"iss": self.issuer.url, "sub": EMAIL, "aud": "sigstore", "iat": now, "nbf": now,
               "exp": now + 600, "email": EMAIL, "email_verified": true})
    }

    pub(super) fn get(&self, base: &str, path: &str) -> Value {
        let response = self.http.get(format!("{base}{path}")).send().expect("GET");
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        response.json().expect("JSON")
    }

    /// POSTs a signingCert request; returns the status and the JSON body.
    pub(super) fn sign_cert(
        &self,
        fulcio: &Instance,
        body: &Value,
        bearer: Option<&str>,
    ) -> (u16, Value) {
        self.post_raw(fulcio, body.to_string().into_bytes(), bearer)
    }

    pub(super) fn post_raw(
        &self,
        fulcio: &Instance,
        body: Vec<u8>,
        bearer: Option<&str>,
    ) -> (u16, Value) {
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

    pub(super) fn tree_size(&self, fulcio: &Instance) -> u64 {
        let sth = self.get(&fulcio.url, "/ct/v1/get-sth");
        sth["tree_size"].as_u64().expect("tree_size")
    }

    pub(super) fn ct_key(&self, fulcio: &Instance) -> PublicKey {
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
pub(super) fn public_key_request(token: &str, key: &dyn Signer, challenge: &str) -> Value {
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
pub(super) fn csr_request(csr_pem: &[u8]) -> Value {
    json!({"certificateSigningRequest": b64_encode(csr_pem)})
}

pub(super) fn openssl(dir: &Path, args: &[&str]) -> String {
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
pub(super) fn openssl_csr(dir: &Path, name: &str, keygen: &[&str]) -> Vec<u8> {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let mut args = keygen.to_vec();
    args.extend(["-out", &key]);
    openssl(dir, &args);
    openssl(dir, &["req", "-new", "-key", &key, "-subj", "/", "-out", &csr]);
    std::fs::read(dir.join(csr)).expect("CSR")
}

pub(super) fn chain_of(answer: &Value) -> Vec<String> {
    answer["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .unwrap_or_else(|| panic!("no chain in {answer}"))
        .iter()
        .map(|c| c.as_str().expect("PEM string").to_string())
        .collect()
}

/// Writes leaf/intermediate/root PEMs and has openssl verify the chain both ways.
pub(super) fn openssl_verifies(dir: &Path, chain: &[String]) {
    assert_eq!(chain.len(), 3, "leaf, intermediate, root");
    for (name, pem) in ["leaf.pem", "inter.pem", "root.pem"].iter().zip(chain) {
        assert!(pem.ends_with("-----END CERTIFICATE-----\n"), "PEM ends in a newline");
        std::fs::write(dir.join(name), pem).expect("writing PEM");
        // Byte for byte what OpenSSL writes (sigstore-python compares re-encodings).
        assert_eq!(&openssl(dir, &["x509", "-in", name]), pem, "{name} layout");
    }
    let full =
        openssl(dir, &["verify", "-CAfile", "root.pem", "-untrusted", "inter.pem", "leaf.pem"]);
    assert_eq!(full.trim(), "leaf.pem: OK");
    let partial = openssl(dir, &["verify", "-partial_chain", "-CAfile", "inter.pem", "leaf.pem"]);
    assert_eq!(partial.trim(), "leaf.pem: OK");
}

pub(super) fn unix_now() -> i64 {
    #[allow(clippy::disallowed_methods)] // reason: a test needs the wall clock to mint tokens
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() as i64
}

/// Checks the SCT against the CT log key and the log's read API: the leaf the SCT stands
/// for is in the log at the STH's size, by an inclusion proof checked here.
pub(super) fn sct_verifies_and_is_in_the_log(setup: &Setup, chain: &[String]) {
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
    // extra_data is the RFC 6962 §4.6 PrecertChainEntry: the precertificate (same serial,
    // critical poison) and then the CA chain, each with a uint24 length.
    let extra =
        b64_decode(entries["entries"][0]["extra_data"].as_str().expect("extra_data")).expect("b64");
    let u24 = |b: &[u8]| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]);
    let precert_len = u24(&extra[..3]);
    let precert = Certificate::from_der(&extra[3..3 + precert_len]).expect("precert parses");
    assert_eq!(precert.serial_hex(), leaf.serial_hex());
    assert_eq!(precert.extension("1.3.6.1.4.1.11129.2.4.3"), Some(&[5u8, 0][..]));
    let mut rest = &extra[3 + precert_len..];
    assert_eq!(u24(rest), rest.len() - 3);
    rest = &rest[3..];
    let mut logged_cas = Vec::new();
    while !rest.is_empty() {
        let n = u24(rest);
        logged_cas.push(rest[3..3 + n].to_vec());
        rest = &rest[3 + n..];
    }
    assert_eq!(logged_cas, cas.iter().map(|c| c.der().to_vec()).collect::<Vec<_>>());
}

pub(super) fn url_escape(text: &str) -> String {
    text.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
}
