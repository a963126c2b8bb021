//! gitsign's login and trust knobs with real git against a real `sigbox up`:
//! `urlOpener` + `redirectURL` + `connectorID` + `autoclose[Timeout]` +
//! `clientSecretFile` drive the browser flow (the "browser" is curl, started by the
//! opener, following the issuer's redirect to the fixed loopback URL); `fulcioRoot` and
//! `SIGSTORE_REKOR_PUBLIC_KEY` replace the trusted CAs and log keys, so the instance's own
//! CA and key verify and others are rejected with the check named.

use std::net::TcpListener;

use super::{require_tool, Repo, IDENTITY};
use crate::up::instance::Up;

fn pem(label: &str, der_b64: &str) -> String {
    let lines: Vec<String> =
        der_b64.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

#[test]
fn browser_flow_knobs_are_honoured_end_to_end() {
    require_tool("curl", "curl");
    let mut repo = Repo::new(None);
    let up = Up::start(&repo.sb.join("up"));
    repo.trust = Some(up.trust_config());
    let port = TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let url_file = repo.sb.join("url.txt");
    let page_file = repo.sb.join("page.html");
    let secret = repo.sb.write("client-secret", "s3cret\n");
    let opener = format!(
        r#"sh -c 'printf %s "$0" > {url}; curl -s -L -o {page} "$0"' {{{{.URL}}}}"#,
        url = url_file.display(),
        page = page_file.display()
    );
    let redirect = format!("http://127.0.0.1:{port}/callback");
    for (k, v) in [
        ("gitsign.urlOpener", opener.as_str()),
        ("gitsign.redirectURL", redirect.as_str()),
        ("gitsign.connectorID", "https://github.com/login/oauth"),
        ("gitsign.autocloseTimeout", "3"),
        ("gitsign.clientSecretFile", secret.to_str().expect("utf-8 path")),
    ] {
        repo.git(&["config", k, v]).succeeds();
    }
    repo.env.push(("GITSIGN_TOKEN_PROVIDER".into(), "interactive".into()));
    let commit = repo.commit("a.txt", "browser flow\n", "signed after a browser login");
    repo.verify(&up.oidc_url, &commit).code(0);

    let url = std::fs::read_to_string(&url_file).expect("the opener ran with the URL");
    assert!(url.starts_with(&format!("{}/authorize?", up.oidc_url)), "{url}");
    assert!(url.contains("connector_id=https%3A%2F%2Fgithub.com%2Flogin%2Foauth"), "{url}");
    assert!(url.contains(&format!("redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Fcallback")));
    let page = std::fs::read_to_string(&page_file).expect("curl reached the loopback listener");
    assert!(page.contains("window.close(); }, 3000)"), "{page}");

    // The knobs are reported by `gitsign version`.
    let version = repo.gitsign(&["version"]).succeeds().stdout();
    assert!(version.contains("gitsign.connectorID: https://github.com/login/oauth"), "{version}");
    assert!(version.contains("gitsign.autoclose: true (after 3 s)"), "{version}");

    // A missing secret file and a bad opener are named, and nothing is signed.
    repo.git(&["config", "gitsign.clientSecretFile", "/nonexistent/secret"]).succeeds();
    repo.gitsign(&["--status-fd=2", "-bsau", IDENTITY])
        .stdin(b"tree x\n".to_vec())
        .run()
        .stderr_has("gitsign.clientSecretFile /nonexistent/secret");
    repo.git(&["config", "--unset", "gitsign.clientSecretFile"]).succeeds();
    repo.git(&["config", "gitsign.urlOpener", "open 'unclosed"]).succeeds();
    repo.gitsign(&["--status-fd=2", "-bsau", IDENTITY])
        .stdin(b"tree x\n".to_vec())
        .fails_with(2)
        .stderr_has("gitsign.urlOpener");
}

#[test]
fn fulcio_root_and_rekor_public_key_replace_what_is_trusted() {
    require_tool("openssl", "openssl");
    let mut repo = Repo::new(None);
    let up = Up::start(&repo.sb.join("up"));
    repo.trust = Some(up.trust_config());
    let trust: serde_json::Value =
        serde_json::from_slice(&std::fs::read(up.trust_config()).expect("trust config"))
            .expect("json");
    let root = &trust["trustedRoot"];
    let chain: String = root["certificateAuthorities"][0]["certChain"]["certificates"]
        .as_array()
        .expect("chain")
        .iter()
        .map(|c| pem("CERTIFICATE", c["rawBytes"].as_str().expect("raw")))
        .collect();
    let ca = repo.sb.write("instance-ca.pem", chain);
    let key = repo.sb.write(
        "rekor.pub",
        pem("PUBLIC KEY", root["tlogs"][0]["publicKey"]["rawBytes"].as_str().expect("key")),
    );
    // Another CA and another log key, made by openssl.
    let sb = repo.sb.path().to_path_buf();
    let status = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
        .args(["-nodes", "-subj", "/CN=other-ca", "-days", "1", "-keyout"])
        .arg(sb.join("other.key"))
        .arg("-out")
        .arg(sb.join("other-ca.pem"))
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success());
    let status = std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(sb.join("other.key"))
        .arg("-out")
        .arg(sb.join("other.pub"))
        .status()
        .expect("openssl");
    assert!(status.success());

    // Signing with fulcioRoot set: Fulcio's chain is checked against the file.
    repo.git(&["config", "gitsign.fulcioRoot", ca.to_str().expect("path")]).succeeds();
    repo.git(&["config", "gitsign.rekorMode", "offline"]).succeeds();
    let commit = repo.commit("a.txt", "a\n", "trusting the instance CA by file");
    repo.verify(&up.oidc_url, &commit).code(0);
    let mut with = |name: &str, value: &std::path::Path| {
        repo.env = vec![(name.to_string(), value.display().to_string())];
        repo.verify(&up.oidc_url, &commit)
    };
    // GITSIGN_FULCIO_ROOT beats git config: another CA rejects the commit's chain.
    let run = with("GITSIGN_FULCIO_ROOT", &sb.join("other-ca.pem"));
    assert_ne!(run.output.status.code(), Some(0), "{}", run.stderr());
    assert!(run.stderr().to_lowercase().contains("chain"), "{}", run.stderr());
    // The instance's log key by hand verifies; another key fails the log check.
    with("SIGSTORE_REKOR_PUBLIC_KEY", &key).code(0);
    let run = with("SIGSTORE_REKOR_PUBLIC_KEY", &sb.join("other.pub"));
    assert_ne!(run.output.status.code(), Some(0), "{}", run.stderr());
    assert!(run.stderr().to_lowercase().contains("log"), "{}", run.stderr());
}
