//! Signed time in `sigbox up`: the TSA and the Rekor v2 log in the trust files,
//! sigstore-python signing a v2 entry with a TSA timestamp that sigbox verifies, sigstore-js
//! timestamping through its JSON request, and bundles whose time does not verify.

use std::process::Command;

use serde_json::Value;

use super::instance::{sigstore_python, Up};
use crate::harness::{Cmd, Sandbox};

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("reading JSON")).expect("JSON")
}

fn sigbox_verify(
    sb: &Sandbox,
    trust: &std::path::Path,
    bundle: &str,
    identity: &str,
    issuer: &str,
) -> crate::harness::Run {
    let link = sb.join("cosign");
    if !link.exists() {
        sb.link("cosign");
    }
    Cmd::new(link)
        .cwd(sb.path())
        .args(["verify-blob", "--trusted-root"])
        .arg(trust)
        .args(["--bundle", bundle, "--certificate-identity", identity])
        .args(["--certificate-oidc-issuer", issuer, "artifact.txt"])
        .run()
}

#[test]
fn trust_files_list_the_tsa_and_both_logs() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("state"));
    let tc = read_json(&up.trust_config());
    let root = &tc["trustedRoot"];
    let tsas = root["timestampAuthorities"].as_array().expect("timestampAuthorities");
    assert_eq!(tsas.len(), 1);
    assert_eq!(tsas[0]["uri"], up.tsa_url.as_str());
    assert!(tsas[0]["validFor"]["start"].is_string());
    assert_eq!(tsas[0]["certChain"]["certificates"].as_array().map(Vec::len), Some(2));
    let logs: Vec<&str> = root["tlogs"]
        .as_array()
        .expect("tlogs")
        .iter()
        .filter_map(|l| l["baseUrl"].as_str())
        .collect();
    assert_eq!(logs, [up.rekor_url.as_str(), up.rekor_v2_url.as_str()]);
    let signing = &tc["signingConfig"];
    let tlogs: Vec<(String, u64)> = signing["rekorTlogUrls"]
        .as_array()
        .expect("rekorTlogUrls")
        .iter()
        .map(|s| {
            (
                s["url"].as_str().unwrap_or("").to_string(),
                s["majorApiVersion"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(tlogs, [(up.rekor_v2_url.clone(), 2), (up.rekor_url.clone(), 1)]);
    assert_eq!(signing["tsaUrls"][0]["url"], up.tsa_url.as_str());
    assert!(up.tsa_url.ends_with("/api/v1/timestamp"));
    // The TSA answers at the advertised URL.
    let pem = sigbox::http::blocking_client(std::time::Duration::from_secs(30))
        .expect("client")
        .get(format!("{}/certchain", up.tsa_url))
        .send()
        .and_then(|r| r.text())
        .expect("certchain");
    assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 2);
}

#[test]
fn sigstore_python_signs_a_v2_entry_with_a_timestamp_and_sigbox_checks_its_time() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("state"));
    sb.write("artifact.txt", "signed into the v2 log\n");
    let identity = "python@example.com";
    let token = up.token(identity);
    let out = Command::new(sigstore_python())
        .arg("--trust-config")
        .arg(up.trust_config())
        .args(["sign", "--rekor-version", "2", "--identity-token", &token])
        .args(["--bundle", "v2.sigstore.json", "artifact.txt"])
        .current_dir(sb.path())
        .output()
        .expect("running sigstore-python sign");
    assert!(out.status.success(), "sigstore-python sign: {}", String::from_utf8_lossy(&out.stderr));
    let bundle = read_json(&sb.join("v2.sigstore.json"));
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["version"], "0.0.2", "{entry}");
    assert!(entry.get("inclusionPromise").is_none(), "a v2 entry has no SET: {entry}");
    let stamps = &bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"];
    assert_eq!(stamps.as_array().map(Vec::len), Some(1), "{bundle}");
    let tc = up.trust_config();
    sigbox_verify(&sb, &tc, "v2.sigstore.json", identity, &up.oidc_url).code(0);
    sigbox_verify(&sb, &tc, "v2.sigstore.json", "other@example.com", &up.oidc_url).code(1);

    // Without its timestamp the bundle has no trusted time.
    let mut stripped = bundle.clone();
    stripped["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"] =
        Value::Array(vec![]);
    sb.write("stripped.sigstore.json", stripped.to_string());
    sigbox_verify(&sb, &tc, "stripped.sigstore.json", identity, &up.oidc_url)
        .code(1)
        .stderr_has("time");

    // A trusted root whose TSA starts after the timestamp: the timestamp is refused.
    let mut late = read_json(&tc);
    late["trustedRoot"]["timestampAuthorities"][0]["validFor"] =
        serde_json::json!({"start": "2099-01-01T00:00:00Z"});
    let late_path = sb.write("late_tsa.json", late.to_string());
    sigbox_verify(&sb, &late_path, "v2.sigstore.json", identity, &up.oidc_url).code(1);
    // And one whose TSA ended before it.
    let mut ended = read_json(&tc);
    ended["trustedRoot"]["timestampAuthorities"][0]["validFor"] =
        serde_json::json!({"start": "2020-01-01T00:00:00Z", "end": "2020-12-31T00:00:00Z"});
    let ended_path = sb.write("ended_tsa.json", ended.to_string());
    sigbox_verify(&sb, &ended_path, "v2.sigstore.json", identity, &up.oidc_url).code(1);
}

fn node(dir: &std::path::Path, args: &[&str], tsa: bool) -> std::process::Output {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let module = root.join("tests/js/node_modules/@sigstore/verify");
    assert!(module.exists(), "{} is missing: run `make tools` (make test does)", module.display());
    Command::new("node")
        .arg(root.join("tests/js/sigstore-js.js"))
        .args(args)
        .env("SIGBOX_JS_TSA", if tsa { "1" } else { "0" })
        .current_dir(dir)
        .output()
        .expect("running node")
}

#[test]
fn sigbox_signs_a_v2_entry_with_a_timestamp_that_sigstore_python_and_js_verify() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("state"));
    sb.write("artifact.txt", "sigbox into the v2 log\n");
    let identity = "v2@example.com";
    let token = up.token(identity);
    sb.cosign()
        .env("SIGBOX_TRUST_CONFIG", up.trust_config())
        .args([
            "sign-blob",
            "--rekor-version",
            "2",
            "--use-signing-config",
            "--identity-token",
            &token,
        ])
        .args(["--bundle", "v2.sigstore.json", "artifact.txt"])
        .succeeds();
    let bundle = read_json(&sb.join("v2.sigstore.json"));
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["version"], "0.0.2", "{entry}");
    assert!(entry.get("inclusionPromise").is_none(), "{entry}");
    let stamps = &bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"];
    assert_eq!(stamps.as_array().map(Vec::len), Some(1), "{bundle}");
    let tc = up.trust_config();
    sigbox_verify(&sb, &tc, "v2.sigstore.json", identity, &up.oidc_url).code(0);

    let python = Command::new(sigstore_python())
        .arg("--trust-config")
        .arg(&tc)
        .args(["verify", "identity", "--bundle", "v2.sigstore.json", "--cert-identity", identity])
        .args(["--cert-oidc-issuer", &up.oidc_url, "artifact.txt"])
        .current_dir(sb.path())
        .output()
        .expect("running sigstore-python");
    assert!(
        python.status.success(),
        "sigstore-python: {}",
        String::from_utf8_lossy(&python.stderr)
    );

    let tc_str = tc.to_str().expect("utf-8");
    let js = node(
        sb.path(),
        &["verify", tc_str, "v2.sigstore.json", identity, &up.oidc_url, "artifact.txt"],
        false,
    );
    assert!(js.status.success(), "sigstore-js: {}", String::from_utf8_lossy(&js.stderr));

    // The default (v1) signature also carries the TSA's timestamp now, beside its SET.
    sb.cosign()
        .env("SIGBOX_TRUST_CONFIG", up.trust_config())
        .args(["sign-blob", "--identity-token", &token, "--bundle", "v1.sigstore.json"])
        .arg("artifact.txt")
        .succeeds();
    let v1 = read_json(&sb.join("v1.sigstore.json"));
    assert_eq!(v1["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["version"], "0.0.1");
    assert_eq!(
        v1["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // A TSA that is not there is a clear failure, and no bundle is written.
    sb.cosign()
        .env("SIGBOX_TRUST_CONFIG", up.trust_config())
        .args(["sign-blob", "--identity-token", &token, "--bundle", "none.sigstore.json"])
        .args(["--timestamp-server-url", "http://127.0.0.1:9/api/v1/timestamp", "artifact.txt"])
        .fails_with(1)
        .stderr_has("timestamp");
    assert!(!sb.join("none.sigstore.json").exists());
}

#[test]
fn sigstore_js_timestamps_with_its_json_request_and_sigbox_verifies() {
    let sb = Sandbox::new();
    let up = Up::start(&sb.join("state"));
    let identity = "js@example.com";
    let token = up.token(identity);
    sb.write("artifact.txt", "sigstore-js with a TSA\n");
    let tc = up.trust_config();
    let tc_str = tc.to_str().expect("utf-8");
    let out = node(sb.path(), &["sign", tc_str, &token, "artifact.txt", "js.sigstore.json"], true);
    assert!(out.status.success(), "sigstore-js sign: {}", String::from_utf8_lossy(&out.stderr));
    let bundle = read_json(&sb.join("js.sigstore.json"));
    let stamps = &bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"];
    assert_eq!(stamps.as_array().map(Vec::len), Some(1), "{bundle}");
    sigbox_verify(&sb, &tc, "js.sigstore.json", identity, &up.oidc_url).code(0);
    // The timestamp is what sigbox checked: with the TSA distrusted, it fails.
    let mut late = read_json(&tc);
    late["trustedRoot"]["timestampAuthorities"][0]["validFor"] =
        serde_json::json!({"start": "2099-01-01T00:00:00Z"});
    let late_path = sb.write("late_tsa.json", late.to_string());
    sigbox_verify(&sb, &late_path, "js.sigstore.json", identity, &up.oidc_url).code(1);
}
