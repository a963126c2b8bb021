//! `tsa-server` end to end: real server processes on 127.0.0.1:0, Debian's `openssl ts`
//! (an independent RFC 3161 implementation) as the client and the judge.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::harness::process::Process;
use crate::harness::sigbox_bin;

const POLICY: &str = "1.3.6.1.4.1.57264.2";

/// A running `tsa-server`, killed on drop.
struct Tsa {
    process: Process,
    url: String,
}

impl Tsa {
    fn start(data_dir: &Path) -> Tsa {
        let mut command = Command::new(sigbox_bin());
        command.args(["tsa-server", "--listen", "127.0.0.1:0", "--data-dir"]).arg(data_dir);
        let mut process = Process::spawn(command, None);
        let lines = process.wait_for(|line| line.starts_with("listening on "));
        let url = lines.last().and_then(|l| l.strip_prefix("listening on ")).unwrap_or_default();
        Tsa { url: url.trim().to_string(), process }
    }

    fn timestamp_url(&self) -> String {
        format!("{}/api/v1/timestamp", self.url)
    }

    fn post(&self, content_type: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        let response = http()
            .post(self.timestamp_url())
            .header("content-type", content_type)
            .body(body)
            .send()
            .unwrap_or_else(|e| panic!("POST to the TSA: {e}\n{}", self.process.log()));
        let status = response.status().as_u16();
        (status, response.bytes().expect("reply body").to_vec())
    }

    /// Writes the PEM chain to `dir/chain.pem` (leaf first) and `dir/root.pem` (last).
    fn save_chain(&self, dir: &Path) -> String {
        let pem = http()
            .get(format!("{}/certchain", self.timestamp_url()))
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.text())
            .expect("certchain");
        let blocks: Vec<&str> = pem.split_inclusive("-----END CERTIFICATE-----\n").collect();
        assert_eq!(blocks.len(), 2, "leaf and root expected:\n{pem}");
        std::fs::write(dir.join("chain.pem"), blocks[0]).expect("write");
        std::fs::write(dir.join("root.pem"), blocks[1]).expect("write");
        pem
    }
}

fn http() -> reqwest::blocking::Client {
    sigbox::http::blocking_builder().timeout(Duration::from_secs(60)).build().expect("client")
}

/// Runs `openssl ARGS` in `dir`; returns (success, stdout + stderr).
fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    let out =
        Command::new("openssl").args(args).current_dir(dir).output().unwrap_or_else(|e| {
            panic!("running openssl (install the Debian package `openssl`): {e}")
        });
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn openssl_ok(dir: &Path, args: &[&str]) -> String {
    let (ok, text) = openssl(dir, args);
    assert!(ok, "openssl {args:?} failed:\n{text}");
    text
}

/// `openssl ts -query` over `data.txt` with `extra` flags; returns the DER request.
fn query(dir: &Path, name: &str, extra: &[&str]) -> Vec<u8> {
    std::fs::write(dir.join("data.txt"), b"the signature bytes").expect("write");
    let mut args = vec!["ts", "-query", "-data", "data.txt", "-out", name];
    args.extend_from_slice(extra);
    openssl_ok(dir, &args);
    std::fs::read(dir.join(name)).expect("query file")
}

fn verify(dir: &Path, reply: &str, request: &str) -> (bool, String) {
    openssl(
        dir,
        &[
            "ts",
            "-verify",
            "-in",
            reply,
            "-queryfile",
            request,
            "-CAfile",
            "root.pem",
            "-untrusted",
            "chain.pem",
        ],
    )
}

fn field<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {name:?} in:\n{text}"))
}

#[test]
fn openssl_query_is_answered_and_openssl_verifies_the_reply() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let tsa = Tsa::start(&d.join("tsa"));
    tsa.save_chain(d);
    for (hash, cert) in [("-sha256", true), ("-sha384", false), ("-sha512", true)] {
        let mut flags = vec![hash];
        if cert {
            flags.push("-cert");
        }
        let request = query(d, "req.tsq", &flags);
        let (status, reply) = tsa.post("application/timestamp-query", request);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
        std::fs::write(d.join("resp.tsr"), &reply).expect("write");
        let (ok, text) = verify(d, "resp.tsr", "req.tsq");
        assert!(ok && text.contains("Verification: OK"), "{hash}: {text}\n{}", tsa.process.log());

        let shown = openssl_ok(d, &["ts", "-reply", "-in", "resp.tsr", "-text"]);
        let asked = openssl_ok(d, &["ts", "-query", "-in", "req.tsq", "-text"]);
        assert_eq!(field(&shown, "Status:"), "Granted.");
        assert_eq!(field(&shown, "Policy OID:"), POLICY);
        assert!(field(&shown, "Accuracy:").starts_with("0x01 seconds"), "{shown}");
        assert_eq!(field(&shown, "Nonce:"), field(&asked, "Nonce:"));
        assert!(field(&shown, "TSA:").contains("sigbox.local-tsa"), "{shown}");
        // certReq honoured: the token carries the leaf only when asked.
        let (_, token_certs) =
            openssl(d, &["ts", "-reply", "-in", "resp.tsr", "-token_out", "-out", "token.der"]);
        let (_, certs) =
            openssl(d, &["pkcs7", "-inform", "DER", "-in", "token.der", "-print_certs", "-noout"]);
        assert_eq!(certs.contains("subject="), cert, "{hash} certReq={cert}: {certs}{token_certs}");

        // A tampered reply fails: flip a byte of the hashed message inside the TSTInfo.
        let imprint = hex(&shown_imprint(&shown));
        let pos = reply.windows(imprint.len()).position(|w| w == imprint).expect("imprint");
        let mut tampered = reply.clone();
        tampered[pos] ^= 1;
        std::fs::write(d.join("bad.tsr"), &tampered).expect("write");
        let (ok, text) = verify(d, "bad.tsr", "req.tsq");
        assert!(!ok && !text.contains("Verification: OK"), "tampered reply verified: {text}");
    }

    // Without a nonce the reply carries none, and still verifies.
    let request = query(d, "plain.tsq", &["-sha256", "-no_nonce"]);
    let (status, reply) = tsa.post("application/timestamp-query", request);
    assert_eq!(status, 200);
    std::fs::write(d.join("plain.tsr"), reply).expect("write");
    let (ok, text) = verify(d, "plain.tsr", "plain.tsq");
    assert!(ok, "{text}");
}

/// The imprint bytes `openssl ts -reply -text` shows ("Message data:" hex dump lines).
fn shown_imprint(text: &str) -> String {
    let mut lines = text.lines().skip_while(|l| !l.starts_with("Message data:")).skip(1);
    let mut hexits = String::new();
    for line in lines.by_ref() {
        let Some((_, rest)) = line.split_once(" - ") else { break };
        let bytes = rest.split("   ").next().unwrap_or_default();
        hexits.extend(bytes.split(['-', ' ']).filter(|s| s.len() == 2).collect::<Vec<_>>());
    }
    hexits
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn json_request_as_sigstore_js_sends_it_is_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let tsa = Tsa::start(&d.join("tsa"));
    tsa.save_chain(d);
    let signature = b"a DER ECDSA signature, say";
    let digest = sigbox::crypto::digest(sigbox::crypto::HashAlgorithm::Sha256, signature);
    let body = serde_json::json!({
        "artifactHash": sigbox::encoding::b64_encode(digest.as_bytes()),
        "hashAlgorithm": "sha256",
    });
    let (status, reply) = tsa.post("application/json", body.to_string().into_bytes());
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
    std::fs::write(d.join("js.tsr"), &reply).expect("write");
    let text = openssl_ok(
        d,
        &[
            "ts",
            "-verify",
            "-in",
            "js.tsr",
            "-digest",
            &digest.to_hex(),
            "-CAfile",
            "root.pem",
            "-untrusted",
            "chain.pem",
        ],
    );
    assert!(text.contains("Verification: OK"), "{text}");
}

#[test]
fn bad_requests_are_clear_rejections_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let tsa = Tsa::start(&d.join("tsa"));
    let good = query(d, "good.tsq", &["-sha256", "-cert"]);
    let sha1 = query(d, "sha1.tsq", &["-sha1"]);
    for (name, body, failure) in [
        ("truncated", good[..good.len() - 5].to_vec(), "the data submitted has the wrong format"),
        ("empty", Vec::new(), "the data submitted has the wrong format"),
        ("sha1", sha1, "unrecognized or unsupported algorithm identifier"),
    ] {
        let (status, reply) = tsa.post("application/timestamp-query", body);
        assert_eq!(status, 400, "{name}");
        std::fs::write(d.join("rejected.tsr"), &reply).expect("write");
        let shown = openssl_ok(d, &["ts", "-reply", "-in", "rejected.tsr", "-text"]);
        assert_eq!(field(&shown, "Status:"), "Rejected.", "{name}: {shown}");
        assert!(shown.contains(failure), "{name}: {shown}");
    }
    let (status, reply) = tsa.post("application/timestamp-query", vec![0x30; 200_000]);
    assert_eq!(status, 413, "oversized: {}", String::from_utf8_lossy(&reply));
    let (status, reply) = tsa.post("text/plain", good.clone());
    assert_eq!(status, 415);
    assert!(String::from_utf8_lossy(&reply).contains("application/timestamp-query"));
    let (status, reply) = tsa.post("application/json", b"{\"artifactHash\":1}".to_vec());
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&reply).contains("malformed JSON timestamp request"));
    // Still serving.
    let (status, _) = tsa.post("application/timestamp-query", good);
    assert_eq!(status, 200, "{}", tsa.process.log());
}

#[test]
fn restarted_tsa_keeps_its_chain_and_never_repeats_a_serial() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let data = d.join("tsa");
    let serial = |tsa: &Tsa| {
        let request = query(d, "r.tsq", &["-sha256"]);
        let (status, reply) = tsa.post("application/timestamp-query", request);
        assert_eq!(status, 200);
        std::fs::write(d.join("r.tsr"), reply).expect("write");
        let shown = openssl_ok(d, &["ts", "-reply", "-in", "r.tsr", "-text"]);
        let hex = field(&shown, "Serial number:").trim_start_matches("0x").to_string();
        u128::from_str_radix(&hex, 16).expect("serial")
    };
    let mut first = Tsa::start(&data);
    let chain = first.save_chain(d);
    let (a, b) = (serial(&first), serial(&first));
    assert!(b > a);
    first.process.kill();
    let second = Tsa::start(&data);
    assert_eq!(second.save_chain(d), chain);
    let c = serial(&second);
    assert!(c > b, "serial {c:x} after restart is not above {b:x}");
    let (ok, text) = verify(d, "r.tsr", "r.tsq");
    assert!(ok, "{text}");
}
