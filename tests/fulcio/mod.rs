//! End-to-end tests of the certificate authority: real `sigbox oidc-server` and
//! `fulcio-server` processes on 127.0.0.1:0, tokens from the test issuer (and tokens minted
//! here with its key, for the kinds it never issues), both request shapes, Debian's
//! `openssl` as the independent judge of the certificates, and the CT log's read API.

mod setup;

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use sigbox::crypto::{EcdsaP256Signer, Signer};
use sigbox::encoding::{b64_decode, b64_encode, b64url_encode};
use sigbox::x509::Certificate;

use crate::harness::sigbox_bin;
use setup::*;

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
    ] {
        let want_compact: String = want.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(compact.contains(&want_compact), "x509 -text lacks {want:?}:\n{text}");
    }
    let subject = openssl(setup.dir.path(), &["x509", "-in", "leaf.pem", "-noout", "-subject"]);
    assert_eq!(subject.trim(), "subject=", "the subject is empty");
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
    public_key_request_gets_a_certificate_with_an_sct_in_the_log(&[]);
}

/// The body of [`public_key_request_with_proof_of_possession_gets_a_certificate`], with the
/// CT log's storage flags (`tests/postgres/ct.rs` runs it on PostgreSQL).
pub(crate) fn public_key_request_gets_a_certificate_with_an_sct_in_the_log(storage: &[&str]) {
    let setup = Setup::new_with("p256", storage);
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
    assert_eq!(status, 200, "{answer}\n{}", offline.log());
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

    assert!(setup.fulcio.process.terminate(), "SIGTERM is a clean stop");

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
    // pyca stops at the first trust anchor, and sigstore-python's store holds the
    // intermediate too: leaf + intermediate.
    assert_eq!(summary["chain_length"], 2);
    assert_eq!(summary["code_signing"], true);
    assert_eq!(summary["public_key_matches"], true);
    assert_eq!(setup.tree_size(&setup.fulcio), 1);
}

/// RS256 and PS256 tokens, signed here by the `openssl` CLI with an RSA-2048 issuer key
/// published as a static JWKS, get certificates (public-good issuers such as Google and
/// GitHub sign with RSA).
#[test]
fn rsa_issuer_rs256_and_ps256_tokens_get_certificates() {
    let setup = Setup::new("p256");
    let dir = setup.dir.path();
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "issuer-rsa.key",
        ],
    );
    let public = openssl(dir, &["pkey", "-in", "issuer-rsa.key", "-pubout"]);
    let key = sigbox::crypto::PublicKey::from_pem(&public).expect("RSA key parses");
    let mut jwk = sigbox::crypto::public_key_to_jwk(&key).expect("jwk");
    jwk["kid"] = "rsa-1".into();
    let jwks = setup.path("rsa-jwks.json");
    std::fs::write(&jwks, json!({"keys": [jwk]}).to_string()).expect("jwks");
    let issuer = "https://rsa.issuer.test";
    let config = email_config(issuer, json!({"JWKSFile": jwks}));
    let fulcio = start_fulcio(dir, "rsa-ca", &config, &["--ca-curve", "p256"], &[]);

    let now = unix_now();
    let claims = json!({"iss": issuer, "sub": "1234", "aud": "sigstore", "iat": now,
        "exp": now + 300, "email": EMAIL, "email_verified": true});
    for (alg, options) in [
        ("RS256", &[][..]),
        ("PS256", &["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"][..]),
    ] {
        let header = json!({"alg": alg, "kid": "rsa-1", "typ": "JWT"});
        let input =
            format!("{}.{}", b64url_encode(header.to_string()), b64url_encode(claims.to_string()));
        std::fs::write(dir.join("jws-input"), &input).expect("input");
        let mut args = vec!["dgst", "-sha256", "-sign", "issuer-rsa.key", "-out", "jws-sig"];
        args.extend_from_slice(options);
        args.push("jws-input");
        openssl(dir, &args);
        let signature = std::fs::read(dir.join("jws-sig")).expect("signature");
        let token = format!("{input}.{}", b64url_encode(&signature));
        let key = EcdsaP256Signer::generate();
        let (status, answer) =
            setup.sign_cert(&fulcio, &public_key_request(&token, &key, EMAIL), None);
        assert_eq!(status, 200, "{alg}: {answer}");
        let leaf = Certificate::from_pem(&chain_of(&answer)[0]).expect("leaf");
        assert_eq!(leaf.fulcio_extensions().issuer.as_deref(), Some(issuer), "{alg}");

        // One flipped signature bit and the token is refused.
        let mut bad = signature.clone();
        bad[10] ^= 0x01;
        let forged = format!("{input}.{}", b64url_encode(&bad));
        let (status, answer) =
            setup.sign_cert(&fulcio, &public_key_request(&forged, &key, EMAIL), None);
        assert_eq!(status, 401, "{alg}: {answer}");
    }
}

#[test]
fn fulcio_server_serves_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // A CA and a server certificate for 127.0.0.1, made by the openssl CLI.
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test CA"]);
    ca.extend([
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    openssl(d, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend(["-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=127.0.0.1"]);
    openssl(d, &csr);
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n",
    )
    .expect("ext");
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "tls.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "tls.pem",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
        ],
    );
    let issuer = start_issuer(d);
    let config = email_config(&issuer.url, json!({}));
    let tls_cert = d.join("tls.pem");
    let tls_key = d.join("tls.key");
    let fulcio = start_fulcio(
        d,
        "ca",
        &config,
        &[
            "--tls-cert",
            tls_cert.to_str().expect("utf-8"),
            "--tls-key",
            tls_key.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert!(fulcio.url.starts_with("https://"), "{}", fulcio.url);
    let pem = std::fs::read(d.join("ca.pem")).expect("CA cert");
    let trusting =
        sigbox::http::blocking_client_with_ca(std::time::Duration::from_secs(20), Some(&pem))
            .expect("client");
    let bundle: Value = trusting
        .get(format!("{}/api/v2/trustBundle", fulcio.url))
        .send()
        .expect("https request")
        .json()
        .expect("json");
    assert_eq!(
        chain_of(&json!({"signedCertificateEmbeddedSct": {"chain": bundle["chains"][0]}})).len(),
        2
    );
    // A client that does not trust the certificate is refused by TLS itself.
    let plain = sigbox::http::blocking_client(std::time::Duration::from_secs(20)).expect("client");
    assert!(plain.get(format!("{}/healthz", fulcio.url)).send().is_err());
}

#[test]
fn a_ca_with_an_unusable_issuer_entry_refuses_to_start_naming_it() {
    let sb = crate::harness::Sandbox::new();
    let config = json!({"OIDCIssuers": {"https://spire.example.com": {
        "ClientID": "sigstore", "Type": "spiffe"}}});
    sb.write("config.json", config.to_string());
    sb.sigbox()
        .args(["fulcio-server", "--listen", "127.0.0.1:0", "--config", "config.json"])
        .args(["--data-dir", "ca"])
        .fails_with(2)
        .stderr_has("https://spire.example.com")
        .stderr_has("SPIFFETrustDomain");
    assert!(!sb.join("ca").join("ca.key").exists(), "no CA key made for a refused config");
}
