//! The two OAuth flows of `sigbox::login` against a real test issuer process: the
//! authorization code flow with PKCE and a loopback redirect (a thread plays the browser),
//! and the device flow.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use sigbox::login::{authorization_code_flow, device_flow, discover, Discovery, LoginConfig};

struct Issuer(std::process::Child, String);

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn issuer(dir: &std::path::Path) -> Issuer {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sigbox"))
        .args(["oidc-server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("oidc-server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("line");
    let url = line.trim().strip_prefix("listening on ").expect("listening line").to_string();
    Issuer(child, url)
}

fn claims(token: &str) -> serde_json::Value {
    let body = token.split('.').nth(1).expect("JWT body");
    serde_json::from_slice(&sigbox::encoding::b64_decode(body).expect("b64")).expect("json")
}

/// A running test issuer, a client, its discovery document and a login as `who`.
fn login_against(
    dir: &std::path::Path,
    interactive: bool,
    who: &str,
) -> (Issuer, sigbox::http::BlockingClient, Discovery, LoginConfig) {
    let issuer = issuer(dir);
    let http = sigbox::http::blocking_client(Duration::from_secs(10)).expect("client");
    let discovery = discover(&http, &issuer.1).expect("discovery");
    let login = LoginConfig {
        issuer: Some(issuer.1.clone()),
        client_id: "sigstore".into(),
        interactive,
        login_hint: Some(who.into()),
    };
    (issuer, http, discovery, login)
}

#[test]
fn authorization_code_flow_with_pkce_and_loopback_redirect_gets_a_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (issuer, http, discovery, login) = login_against(dir.path(), true, "browser@example.com");
    // The "browser": follows the authorization URL to the issuer, then its redirect to the
    // loopback listener, as a person's browser would.
    let browser = |url: &str| {
        let url = url.to_string();
        std::thread::spawn(move || {
            let no_redirects = sigbox::http::blocking_builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client");
            let answer = no_redirects.get(&url).send().expect("authorize");
            assert_eq!(answer.status().as_u16(), 302);
            let location = answer.headers()["location"].to_str().expect("location").to_string();
            assert!(location.starts_with("http://127.0.0.1:"), "{location}");
            no_redirects.get(&location).send().expect("redirect to the loopback listener");
        });
    };
    let token =
        authorization_code_flow(&http, &discovery, &login, Duration::from_secs(20), &browser)
            .expect("token");
    let c = claims(token.as_str());
    assert_eq!(c["iss"], issuer.1.as_str());
    assert_eq!(c["email"], "browser@example.com");
    assert_eq!(c["aud"], "sigstore");
}

#[test]
fn device_flow_gets_a_token_without_a_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_issuer, http, discovery, login) = login_against(dir.path(), false, "device@example.com");
    let token = device_flow(&http, &discovery, &login, Duration::from_secs(20)).expect("token");
    assert_eq!(claims(token.as_str())["email"], "device@example.com");
}
