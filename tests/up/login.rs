//! The two OAuth flows of `sigbox::login` against a real test issuer process: the
//! authorization code flow with PKCE and a loopback redirect (a thread plays the browser),
//! and the device flow.

use std::process::Command;
use std::time::Duration;

use crate::harness::process::Process;
use sigbox::login::{authorization_code_flow, device_flow, discover, Discovery, LoginConfig};

/// A running test issuer (the process is held so it stops on drop) and its URL.
struct Issuer(#[allow(dead_code)] Process, String);

fn issuer(dir: &std::path::Path) -> Issuer {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sigbox"));
    command.args(["oidc-server", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir);
    let mut process = Process::spawn(command, None);
    let lines = process.wait_for(|line| line.starts_with("listening on "));
    let url = lines.last().and_then(|l| l.strip_prefix("listening on ")).unwrap_or_default();
    let url = url.trim().to_string();
    Issuer(process, url)
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
