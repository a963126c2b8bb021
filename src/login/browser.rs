//! The authorization code flow with PKCE (RFC 7636) and a loopback redirect (RFC 8252 §7.3):
//! the person's browser is sent to the issuer, which redirects back to a one-shot listener
//! on 127.0.0.1; the code is exchanged with the verifier only this process knows.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

use super::{get_json, id_token_of, Discovery, Error, IdToken, LoginConfig};
use crate::crypto::{digest, fill_random, HashAlgorithm};
use crate::encoding::b64url_encode;
use crate::http::BlockingClient;

/// Runs the flow: hands the authorization URL to `open` (which shows it to the person:
/// [`open_in_browser`] prints it and starts their browser), waits for the redirect,
/// exchanges the code.
pub fn authorization_code_flow(
    http: &BlockingClient,
    discovery: &Discovery,
    login: &LoginConfig,
    timeout: Duration,
    open: &dyn Fn(&str),
) -> Result<IdToken, Error> {
    let authorize = discovery.authorization_endpoint.clone().ok_or(Error::Malformed {
        url: "discovery document".into(),
        field: "authorization_endpoint",
    })?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(Error::Listener)?;
    let port = listener.local_addr().map_err(Error::Listener)?.port();
    let redirect = format!("http://127.0.0.1:{port}/auth/callback");
    let verifier = random_string()?;
    let state = random_string()?;
    let challenge = b64url_encode(digest(HashAlgorithm::Sha256, verifier.as_bytes()).as_bytes());
    let mut url = format!(
        "{authorize}?response_type=code&client_id={}&redirect_uri={}&scope=openid%20email\
         &code_challenge={challenge}&code_challenge_method=S256&state={state}",
        crate::encoding::percent_encode(&login.client_id),
        crate::encoding::percent_encode(&redirect)
    );
    if let Some(hint) = &login.login_hint {
        url.push_str(&format!("&login_hint={}", crate::encoding::percent_encode(hint)));
    }
    open(&url);
    let code = wait_for_code(&listener, &state, timeout)?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("client_id", login.client_id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let token_url = &discovery.token_endpoint;
    let answer = get_json(http.post(token_url).form(&form), token_url)?;
    id_token_of(&answer, token_url)
}

/// Prints the URL on stderr and asks the desktop to open it (`xdg-open`); if no browser
/// starts, the person can still copy the URL.
pub fn open_in_browser(url: &str) {
    eprintln!("Your browser will now be opened to:\n{url}");
    let _ = std::process::Command::new("xdg-open")
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// Accepts redirects on the loopback listener until one carries our `state` and a code.
fn wait_for_code(listener: &TcpListener, state: &str, timeout: Duration) -> Result<String, Error> {
    listener.set_nonblocking(false).map_err(Error::Listener)?;
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if std::time::Instant::now() > deadline {
            return Err(Error::TimedOut(timeout));
        }
        let (stream, _) = listener.accept().map_err(Error::Listener)?;
        stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(Error::Listener)?;
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line).map_err(Error::Listener)?;
        let target = line.split_whitespace().nth(1).unwrap_or_default().to_string();
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let code = crate::http::query_param(query, "code");
        let got_state = crate::http::query_param(query, "state");
        let mut writer = &stream;
        let body = if code.is_some() && got_state.as_deref() == Some(state) {
            "Signed in. You can close this window and return to the terminal.\n"
        } else {
            "This is not the sign-in redirect sigbox is waiting for.\n"
        };
        let _ = write!(
            writer,
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        match (code, got_state) {
            (Some(code), Some(s)) if s == state => return Ok(code),
            (Some(_), Some(_)) => return Err(Error::StateMismatch),
            _ => continue,
        }
    }
}

fn random_string() -> Result<String, Error> {
    let mut raw = [0u8; 32];
    fill_random(&mut raw).map_err(|_| Error::Listener(std::io::Error::other("no randomness")))?;
    Ok(b64url_encode(raw))
}
