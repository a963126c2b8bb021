//! `sigbox rekor upload | get | search | loginfo | verify` against a real `rekor-server`:
//! round trips, the loginfo monitor catching a swapped log, and HTTPS with a private CA.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use sigbox::crypto::{digest, HashAlgorithm, Signer as _};
use sigbox::encoding::b64_encode;

use super::server::{check_entry, client, RekorServer};
use crate::harness::{Cmd, Sandbox};

/// `sigbox rekor --rekor-url URL ARGS...` with its state under `sandbox/state`.
fn rekor(sb: &Sandbox, url: &str) -> Cmd {
    sb.sigbox().env("XDG_STATE_HOME", sb.join("state")).args(["rekor", "--rekor-url", url])
}

/// Writes a key pair's public PEM, an artifact and its DER signature into the sandbox.
fn signed_artifact(sb: &Sandbox, signer: &dyn sigbox::crypto::Signer, name: &str) -> String {
    let data = format!("artifact {name}");
    sb.write(name, &data);
    let d = digest(HashAlgorithm::Sha256, data.as_bytes());
    let sig = signer.sign_prehashed(d.as_bytes()).unwrap();
    // Alternate the two accepted signature encodings: DER and base64 text.
    if name.ends_with('1') {
        sb.write(&format!("{name}.sig"), b64_encode(&sig));
    } else {
        sb.write(&format!("{name}.sig"), &sig);
    }
    sb.write("key.pub", signer.public_key().to_pem());
    d.to_hex()
}

fn upload(sb: &Sandbox, url: &str, name: &str) -> Value {
    rekor(sb, url)
        .args(["upload", "--json", "--artifact", name, "--signature"])
        .arg(format!("{name}.sig"))
        .args(["--public-key", "key.pub"])
        .succeeds()
        .stdout_json()
}

#[test]
fn rekor_cli_upload_get_search_verify_round_trip() {
    let sb = Sandbox::new();
    let server = RekorServer::start(&sb.join("data"), &[]);
    let signer = sigbox::crypto::EcdsaP256Signer::generate();
    let hex = signed_artifact(&sb, &signer, "a1");
    let up = upload(&sb, &server.url, "a1");
    let id = up["entryID"].as_str().unwrap().to_string();
    assert_eq!(up["logIndex"], 1);
    assert_eq!(up["kind"], "hashedrekord");

    // get --json gives the server's LogEntry map, which checks out independently here.
    let map = rekor(&sb, &server.url).args(["get", "--json", "--log-index", "1"]).succeeds();
    let key = server.public_key(&client());
    assert_eq!(check_entry(&map.stdout_json(), &key, &server.name), (id.clone(), 1));
    rekor(&sb, &server.url).args(["get", "--uuid", &id[16..]]).succeeds().stdout_has(&id);

    // Search by digest, by file, by key.
    for args in [
        vec!["search".to_string(), "--sha".into(), format!("sha256:{hex}")],
        vec!["search".into(), "--artifact".into(), "a1".into()],
        vec!["search".into(), "--public-key".into(), "key.pub".into()],
    ] {
        let out = rekor(&sb, &server.url).args(&args).succeeds();
        assert_eq!(out.stdout().trim(), id, "{args:?}");
    }
    rekor(&sb, &server.url).args(["search", "--sha", "sha256:zz"]).fails_with(2);

    // verify by index, by UUID, by artifact+signature+key (the UUID computed locally).
    for sel in [
        vec!["--log-index", "1"],
        vec!["--uuid", &id],
        vec!["--artifact", "a1", "--signature", "a1.sig", "--public-key", "key.pub"],
    ] {
        let out = rekor(&sb, &server.url).arg("verify").arg("--json").args(&sel).succeeds();
        let v = out.stdout_json();
        assert_eq!(v["entryID"], id.as_str(), "{sel:?}");
        assert_eq!(v["verified"]["treeSize"], 2);
    }
}

#[test]
fn rekor_cli_verify_with_the_wrong_log_key_exits_1() {
    let sb = Sandbox::new();
    let server = RekorServer::start(&sb.join("data"), &[]);
    let signer = sigbox::crypto::EcdsaP256Signer::generate();
    signed_artifact(&sb, &signer, "a2");
    upload(&sb, &server.url, "a2");
    let other = sigbox::crypto::EcdsaP256Signer::generate();
    sb.write("other.pem", other.public_key().to_pem());
    rekor(&sb, &server.url)
        .args(["verify", "--log-index", "1", "--rekor-key", "other.pem"])
        .fails_with(1)
        .stderr_has("log ID");
    // With the right key pinned it verifies.
    sb.write("log.pem", server.public_key(&client()).to_pem());
    rekor(&sb, &server.url)
        .args(["verify", "--log-index", "1", "--rekor-key", "log.pem"])
        .succeeds()
        .stdout_has("Verified: SET, inclusion proof");
}

#[test]
fn rekor_cli_rejected_upload_exits_1_with_the_server_message() {
    let sb = Sandbox::new();
    let server = RekorServer::start(&sb.join("data"), &[]);
    let signer = sigbox::crypto::EcdsaP256Signer::generate();
    signed_artifact(&sb, &signer, "a2");
    sb.write("a2", "not what was signed");
    rekor(&sb, &server.url)
        .args(["upload", "--artifact", "a2", "--signature", "a2.sig", "--public-key", "key.pub"])
        .fails_with(1)
        .stderr_has("signature");
}

#[test]
fn rekor_cli_uploads_a_dsse_bundle() {
    let sb = Sandbox::new();
    let server = RekorServer::start(&sb.join("data"), &[]);
    sb.copy_fixture("rekor/bundleV03-dsse.sigstore", "b.sigstore.json");
    let up = rekor(&sb, &server.url)
        .args(["upload", "--json", "--bundle", "b.sigstore.json"])
        .succeeds()
        .stdout_json();
    assert_eq!(up["kind"], "dsse");
    assert_eq!(up["logIndex"], 1);
    // Uploading again answers with the same entry (409 → Location).
    let again = rekor(&sb, &server.url)
        .args(["upload", "--json", "--bundle", "b.sigstore.json"])
        .succeeds()
        .stdout_json();
    assert_eq!(again["entryID"], up["entryID"]);
}

#[test]
fn rekor_cli_loginfo_remembers_the_checkpoint_and_proves_consistency() {
    let sb = Sandbox::new();
    let server = RekorServer::start(&sb.join("data"), &[]);
    let first = rekor(&sb, &server.url).args(["loginfo", "--json"]).succeeds().stdout_json();
    assert_eq!(first["treeSize"], 1);
    assert!(first["previousTreeSize"].is_null(), "first visit: {first}");
    let state = first["stateFile"].as_str().unwrap().to_string();
    assert!(state.starts_with(sb.join("state/sigbox/rekor").to_str().unwrap()), "{state}");
    assert!(std::fs::read_to_string(&state).unwrap().contains("\n1\n"));

    let signer = sigbox::crypto::EcdsaP256Signer::generate();
    for name in ["c1", "c2", "c3"] {
        signed_artifact(&sb, &signer, name);
        upload(&sb, &server.url, name);
    }
    let second = rekor(&sb, &server.url).args(["loginfo", "--json"]).succeeds().stdout_json();
    assert_eq!(second["treeSize"], 4);
    assert_eq!(second["previousTreeSize"], 1);
    assert!(second["consistencyProofHashes"].as_u64().unwrap() >= 1);
    let text = rekor(&sb, &server.url).arg("loginfo").succeeds();
    text.stdout_has("Consistent with the checkpoint seen before at size 4");
}

#[test]
fn rekor_cli_loginfo_detects_a_swapped_log_behind_the_same_url() {
    let sb = Sandbox::new();
    let server = RekorServer::start(&sb.join("data"), &[]);
    let listen = server.name.clone();
    let signer = sigbox::crypto::EcdsaP256Signer::generate();
    signed_artifact(&sb, &signer, "d1");
    upload(&sb, &server.url, "d1");
    rekor(&sb, &server.url).arg("loginfo").succeeds().stdout_has("First visit");
    let url = server.url.clone();
    server.kill_9();

    // Same key, other history, same URL: the consistency proof cannot verify.
    let key = sb.join("data/signer.key");
    let forged = RekorServer::start_on(
        &sb.join("forged"),
        &listen,
        &["--signer-key", key.to_str().unwrap()],
    );
    for name in ["e1", "e2", "e3"] {
        signed_artifact(&sb, &signer, name);
        upload(&sb, &url, name);
    }
    rekor(&sb, &url).arg("loginfo").fails_with(1).stderr_has("not consistent");
    forged.kill_9();

    // Another key on the same URL: the pinned log ID does not match.
    let other = RekorServer::start_on(&sb.join("other"), &listen, &[]);
    rekor(&sb, &url).arg("loginfo").fails_with(1).stderr_has("another key");
    drop(other);

    // The real log, back: still consistent, nothing bad was remembered.
    let back = RekorServer::start_on(&sb.join("data"), &listen, &[]);
    rekor(&sb, &back.url).arg("loginfo").succeeds().stdout_has("Consistent");
}

/// A CA and a 127.0.0.1 server certificate made with the `openssl` CLI.
fn make_tls_files(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test CA"]);
    ca.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
    ca.extend(["-addext", "keyUsage=critical,keyCertSign"]);
    run(&ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend(["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
    run(&csr);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n\
         extendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
}

#[test]
fn rekor_tls_server_is_reached_with_its_ca_certificate() {
    let sb = Sandbox::new();
    make_tls_files(sb.path());
    let server = RekorServer::start(
        &sb.join("data"),
        &[
            "--tls-cert",
            sb.join("server.crt").to_str().unwrap(),
            "--tls-key",
            sb.join("server.key").to_str().unwrap(),
        ],
    );
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);
    let info = rekor(&sb, &server.url)
        .args(["loginfo", "--json", "--ca-cert", "ca.crt"])
        .succeeds()
        .stdout_json();
    assert_eq!(info["treeSize"], 1);
    let signer = sigbox::crypto::EcdsaP256Signer::generate();
    signed_artifact(&sb, &signer, "t1");
    rekor(&sb, &server.url)
        .args(["upload", "--ca-cert", "ca.crt", "--artifact", "t1", "--signature", "t1.sig"])
        .args(["--public-key", "key.pub"])
        .succeeds();
    rekor(&sb, &server.url).args(["verify", "--ca-cert", "ca.crt", "--log-index", "1"]).succeeds();
    // Without the CA the certificate is not trusted: a transport error (exit 2).
    rekor(&sb, &server.url).arg("loginfo").fails_with(2).stderr_has("request to https://");
    // Plain HTTP to the TLS port gets no answer it can use.
    let plain = server.url.replace("https://", "http://");
    rekor(&sb, &plain).arg("loginfo").fails_with(2);
}
