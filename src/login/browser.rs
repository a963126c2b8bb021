//! The authorization code flow with PKCE (RFC 7636) and a loopback redirect (RFC 8252 §7.3):
//! the person's browser is sent to the issuer, which redirects back to a one-shot listener
//! on 127.0.0.1; the code is exchanged with the verifier only this process knows.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

use super::{get_json, id_token_of, Discovery, Error, Flow, IdToken, LoginConfig};
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
    authorization_code_flow_with(http, discovery, login, &Flow::default(), timeout, open)
}

/// [`authorization_code_flow`] with `flow`: a fixed redirect URL, a client secret, Dex's
/// connector, and a sign-in page that closes itself.
pub fn authorization_code_flow_with(
    http: &BlockingClient,
    discovery: &Discovery,
    login: &LoginConfig,
    flow: &Flow,
    timeout: Duration,
    open: &dyn Fn(&str),
) -> Result<IdToken, Error> {
    let authorize = discovery.authorization_endpoint.clone().ok_or(Error::Malformed {
        url: "discovery document".into(),
        field: "authorization_endpoint",
    })?;
    let (listener, redirect) = listen(flow.redirect_url.as_deref())?;
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
    if let Some(connector) = &flow.connector_id {
        url.push_str(&format!("&connector_id={}", crate::encoding::percent_encode(connector)));
    }
    open(&url);
    let code = wait_for_code(&listener, &state, timeout, flow.autoclose)?;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("client_id", login.client_id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    if let Some(secret) = &flow.client_secret {
        form.push(("client_secret", secret.as_str()));
    }
    let token_url = &discovery.token_endpoint;
    let answer = get_json(http.post(token_url).form(&form), token_url)?;
    id_token_of(&answer, token_url)
}

/// The loopback listener and the redirect URL to announce: `127.0.0.1:<any port>` and
/// `/auth/callback` by default; with a redirect URL, its host (`localhost` = 127.0.0.1)
/// and port (0 = any, then written into the URL) and its path.
fn listen(redirect_url: Option<&str>) -> Result<(TcpListener, String), Error> {
    let Some(given) = redirect_url else {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(Error::Listener)?;
        let port = listener.local_addr().map_err(Error::Listener)?.port();
        return Ok((listener, format!("http://127.0.0.1:{port}/auth/callback")));
    };
    let bad = |why: &str| Error::Setting(format!("redirect URL {given:?}: {why}"));
    let rest = given.strip_prefix("http://").ok_or_else(|| bad("must start with http://"))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    let (host, port) = authority.rsplit_once(':').ok_or_else(|| bad("needs a :PORT"))?;
    let port: u16 = port.parse().map_err(|_| bad("the port is not a number"))?;
    let bind_host = if host == "localhost" { "127.0.0.1" } else { host };
    let listener = TcpListener::bind((bind_host, port))
        .map_err(|e| bad(&format!("cannot listen on {bind_host}:{port}: {e}")))?;
    let actual = listener.local_addr().map_err(Error::Listener)?.port();
    Ok((listener, format!("http://{host}:{actual}{path}")))
}

/// The program and arguments `template` (gitsign's `urlOpener`) runs for `url`: words
/// split as a shell would (quotes and backslashes; no expansion), `{{.URL}}` in each word
/// replaced by the URL, and the URL appended when no word names it.
///
/// Errors: [`Error::Setting`] for an empty template or an unclosed quote.
pub fn opener_command(template: &str, url: &str) -> Result<Vec<String>, Error> {
    let mut words = split_words(template)
        .ok_or_else(|| Error::Setting(format!("URL opener {template:?}: unclosed quote")))?;
    if words.is_empty() {
        return Err(Error::Setting("the URL opener is empty".into()));
    }
    const PLACEHOLDER: &str = "{{.URL}}";
    if words.iter().any(|w| w.contains(PLACEHOLDER)) {
        for word in &mut words {
            *word = word.replace(PLACEHOLDER, url);
        }
    } else {
        words.push(url.to_string());
    }
    Ok(words)
}

/// Runs the URL opener for `url` (not through a shell), after printing the URL; a
/// failure to start it is reported, and the person can still open the URL by hand.
pub(super) fn run_opener(template: &str, url: &str) {
    eprintln!("Opening the sign-in page:\n{url}");
    let words = match opener_command(template, url) {
        Ok(words) => words,
        Err(e) => return eprintln!("warning: {e}"),
    };
    let Some((program, args)) = words.split_first() else { return };
    if let Err(e) = std::process::Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("warning: URL opener {program:?} did not start: {e}");
    }
}

/// Shell-style word splitting: whitespace separates, '…' is literal, "…" allows \" and
/// \\, a backslash outside quotes escapes the next character. `None` on an unclosed quote.
fn split_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => word.push(c),
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.push(chars.next()?);
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
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
/// With `autoclose`, the success page closes its tab after that many seconds.
fn wait_for_code(
    listener: &TcpListener,
    state: &str,
    timeout: Duration,
    autoclose: Option<u64>,
) -> Result<String, Error> {
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
        let ok = code.is_some() && got_state.as_deref() == Some(state);
        let (kind, body) = match (ok, autoclose) {
            (true, Some(seconds)) => ("text/html", success_page(seconds)),
            (true, None) => (
                "text/plain",
                "Signed in. You can close this window and return to the terminal.\n".into(),
            ),
            (false, _) => {
                ("text/plain", "This is not the sign-in redirect sigbox is waiting for.\n".into())
            }
        };
        let _ = write!(
            writer,
            "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        match (code, got_state) {
            (Some(code), Some(s)) if s == state => return Ok(code),
            (Some(_), Some(_)) => return Err(Error::StateMismatch),
            _ => continue,
        }
    }
}

/// The page shown after sign-in that closes its own tab after `seconds` (gitsign's
/// `autoclose`; browsers only let a script close a tab a script opened, so the text still
/// says what to do).
fn success_page(seconds: u64) -> String {
    format!(
        "<!doctype html><html><head><title>Signed in</title></head><body>\
         <p>Signed in. This window closes in {seconds} seconds; you can return to the \
         terminal.</p><script>setTimeout(function () {{ window.close(); }}, {ms});</script>\
         </body></html>\n",
        ms = seconds.saturating_mul(1000)
    )
}

fn random_string() -> Result<String, Error> {
    let mut raw = [0u8; 32];
    fill_random(&mut raw).map_err(|_| Error::Listener(std::io::Error::other("no randomness")))?;
    Ok(b64url_encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opener_words_are_split_like_a_shell_and_take_the_url() {
        let words = opener_command("firefox --new-tab {{.URL}}", "http://x/?a=1&b=2").unwrap();
        assert_eq!(words, ["firefox", "--new-tab", "http://x/?a=1&b=2"]);
        let words = opener_command(r#"sh -c 'echo "$0" > url.txt' "at={{.URL}}""#, "u").unwrap();
        assert_eq!(words, ["sh", "-c", r#"echo "$0" > url.txt"#, "at=u"]);
        // No placeholder: BROWSER-style, the URL is the last argument.
        assert_eq!(opener_command("xdg-open", "u").unwrap(), ["xdg-open", "u"]);
        assert!(opener_command("open 'unclosed", "u").is_err());
        assert!(opener_command("   ", "u").is_err());
    }

    #[test]
    fn a_redirect_url_fixes_the_listener_and_bad_ones_are_named() {
        let (listener, url) = listen(Some("http://localhost:0/callback")).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(url, format!("http://localhost:{port}/callback"));
        let (_, default) = listen(None).unwrap();
        assert!(default.starts_with("http://127.0.0.1:") && default.ends_with("/auth/callback"));
        for bad in ["https://localhost:1/x", "http://localhost/x", "http://localhost:port/"] {
            let err = listen(Some(bad)).unwrap_err();
            assert!(err.to_string().contains("redirect URL"), "{bad}: {err}");
        }
    }

    #[test]
    fn autoclose_page_closes_after_the_timeout() {
        let page = success_page(6);
        assert!(page.contains("setTimeout(function () { window.close(); }, 6000)"), "{page}");
    }
}
