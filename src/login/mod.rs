//! L3 getting an identity token, in cosign's order: an explicit token (`--identity-token`,
//! `SIGSTORE_ID_TOKEN`), GitHub Actions' ambient credentials, then an OAuth 2.0 flow
//! against the OIDC issuer: authorization code + PKCE with a loopback redirect when a person
//! is at a terminal, else the device flow (RFC 8628) for headless shells.
//!
//! Tokens are only fetched here, never trusted: the CA verifies them.

mod browser;
mod device;

use std::fmt;
use std::time::Duration;

pub use browser::{
    authorization_code_flow, authorization_code_flow_with, open_in_browser, opener_command,
};
pub use device::{device_flow, device_flow_with};

use crate::http::BlockingClient;

/// An identity token; zeroized on drop and never printed.
#[derive(Clone)]
pub struct IdToken(zeroize::Zeroizing<String>);

impl IdToken {
    /// Wraps a token string (whitespace trimmed).
    pub fn new(token: &str) -> Self {
        IdToken(zeroize::Zeroizing::new(token.trim().to_string()))
    }

    /// The compact JWT.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdToken([redacted])")
    }
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request to the issuer or the CI token service failed.
    #[error("requesting {url}")]
    Request {
        /// The URL.
        url: String,
        /// Cause.
        #[source]
        source: reqwest::Error,
    },
    /// An answer could not be read (connection lost, or larger than the cap).
    #[error("reading an answer")]
    Read(#[source] crate::http::ReadError),
    /// The issuer answered with an error.
    #[error("{url} refused: {message}")]
    Refused {
        /// The URL.
        url: String,
        /// What it said.
        message: String,
    },
    /// An answer lacked a field.
    #[error("{url} answered without {field}")]
    Malformed {
        /// The URL.
        url: String,
        /// The missing field.
        field: &'static str,
    },
    /// The person did not finish logging in in time.
    #[error("login timed out after {0:?}")]
    TimedOut(Duration),
    /// The loopback redirect listener failed.
    #[error("loopback redirect listener")]
    Listener(#[source] std::io::Error),
    /// The redirect carried a different `state` (a forged or stale redirect).
    #[error("the login redirect carried the wrong state")]
    StateMismatch,
    /// A flow setting is unusable (redirect URL, URL opener).
    #[error("{0}")]
    Setting(String),
    /// No source of a token applies.
    #[error("no identity token: pass --identity-token, set SIGSTORE_ID_TOKEN, or configure an OIDC issuer")]
    NoSource,
}

/// Where to log in, when a flow is needed.
#[derive(Debug, Clone)]
pub struct LoginConfig {
    /// The OIDC issuer URL (discovery at `/.well-known/openid-configuration`).
    pub issuer: Option<String>,
    /// The OAuth client ID (`sigstore`).
    pub client_id: String,
    /// Whether a person is at a terminal (interactive flow) or not (device flow).
    pub interactive: bool,
    /// A login hint (email) passed to the issuer.
    pub login_hint: Option<String>,
}

/// The environment variables cosign reads, resolved by the caller (no `std::env` here).
#[derive(Debug, Clone, Default)]
pub struct Ambient {
    /// `SIGSTORE_ID_TOKEN`.
    pub sigstore_id_token: Option<String>,
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
    pub actions_url: Option<String>,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub actions_token: Option<String>,
}

/// How the OAuth flows run beyond the client ID: gitsign's `clientSecretFile`,
/// `redirectURL`, `connectorID`, `autoclose[Timeout]` and `urlOpener` knobs. The default
/// is cosign's behaviour (public client, any loopback port, the desktop's browser).
#[derive(Debug, Clone, Default)]
pub struct Flow {
    /// The OAuth client secret, sent with the code (or device code) exchange.
    pub client_secret: Option<String>,
    /// The redirect URL (`http://HOST:PORT/PATH`): the loopback listener binds HOST:PORT
    /// (port 0: any) and the issuer is told exactly this URL.
    pub redirect_url: Option<String>,
    /// Dex's `connector_id` parameter: which upstream identity provider to use.
    pub connector_id: Option<String>,
    /// Seconds after which the sign-in page closes its tab; `None`: it stays open.
    pub autoclose: Option<u64>,
    /// The command that opens the sign-in URL (shell-style words; `{{.URL}}` is replaced
    /// by the URL, which is appended when no word holds it); `None`: the desktop browser.
    pub url_opener: Option<String>,
}

/// Gets a token from the first source that applies.
pub fn get_token(
    http: &BlockingClient,
    explicit: Option<&str>,
    ambient: &Ambient,
    login: &LoginConfig,
) -> Result<IdToken, Error> {
    get_token_with(http, explicit, ambient, login, &Flow::default())
}

/// [`get_token`] with the flow settings `flow`.
pub fn get_token_with(
    http: &BlockingClient,
    explicit: Option<&str>,
    ambient: &Ambient,
    login: &LoginConfig,
    flow: &Flow,
) -> Result<IdToken, Error> {
    if let Some(token) = explicit.or(ambient.sigstore_id_token.as_deref()) {
        return Ok(IdToken::new(token));
    }
    if let (Some(url), Some(bearer)) = (&ambient.actions_url, &ambient.actions_token) {
        return github_actions_token(http, url, bearer, &login.client_id);
    }
    let Some(issuer) = &login.issuer else { return Err(Error::NoSource) };
    let discovery = discover(http, issuer)?;
    let timeout = Duration::from_secs(300);
    if login.interactive {
        match &flow.url_opener {
            Some(template) => {
                // Checked before the listener starts, so a bad opener is named at once.
                opener_command(template, "")?;
                let open = |url: &str| browser::run_opener(template, url);
                authorization_code_flow_with(http, &discovery, login, flow, timeout, &open)
            }
            None => authorization_code_flow_with(
                http,
                &discovery,
                login,
                flow,
                timeout,
                &open_in_browser,
            ),
        }
    } else {
        device_flow_with(http, &discovery, login, flow, timeout)
    }
}

/// GitHub Actions: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore` with the request
/// token as bearer, answer `{"value": JWT}`.
pub fn github_actions_token(
    http: &BlockingClient,
    url: &str,
    bearer: &str,
    audience: &str,
) -> Result<IdToken, Error> {
    let sep = if url.contains('?') { '&' } else { '?' };
    let full = format!("{url}{sep}audience={audience}");
    let answer = get_json(http.get(&full).bearer_auth(bearer), &full)?;
    let value = answer
        .get("value")
        .and_then(|v| v.as_str())
        .ok_or(Error::Malformed { url: full.clone(), field: "value" })?;
    Ok(IdToken::new(value))
}

/// The endpoints of an issuer's discovery document.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// `authorization_endpoint`.
    pub authorization_endpoint: Option<String>,
    /// `token_endpoint`.
    pub token_endpoint: String,
    /// `device_authorization_endpoint`.
    pub device_authorization_endpoint: Option<String>,
}

/// Reads `ISSUER/.well-known/openid-configuration`.
pub fn discover(http: &BlockingClient, issuer: &str) -> Result<Discovery, Error> {
    let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
    let doc = get_json(http.get(&url), &url)?;
    let field = |name: &str| doc.get(name).and_then(|v| v.as_str()).map(str::to_string);
    Ok(Discovery {
        authorization_endpoint: field("authorization_endpoint"),
        token_endpoint: field("token_endpoint")
            .ok_or(Error::Malformed { url: url.clone(), field: "token_endpoint" })?,
        device_authorization_endpoint: field("device_authorization_endpoint"),
    })
}

/// Sends a request and reads a JSON answer; an OAuth error body becomes [`Error::Refused`].
fn get_json(
    request: reqwest::blocking::RequestBuilder,
    url: &str,
) -> Result<serde_json::Value, Error> {
    let response = request.send().map_err(|source| Error::Request { url: url.into(), source })?;
    let answer = crate::http::Answer::read(response, url, crate::http::MAX_RESPONSE_BYTES)
        .map_err(Error::Read)?;
    if !answer.is_success() {
        return Err(Error::Refused { url: url.into(), message: answer.error_message() });
    }
    Ok(answer.json().unwrap_or_default())
}

/// `id_token` (or, failing that, `access_token`) of a token endpoint answer.
fn id_token_of(answer: &serde_json::Value, url: &str) -> Result<IdToken, Error> {
    answer
        .get("id_token")
        .or_else(|| answer.get("access_token"))
        .and_then(|v| v.as_str())
        .map(IdToken::new)
        .ok_or(Error::Malformed { url: url.into(), field: "id_token" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// A one-request HTTP server on loopback answering `body`, returning its URL and the
    /// request line + headers it saw.
    fn one_shot(body: &'static str) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut head = String::new();
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("read");
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                head.push_str(&line);
            }
            let _ = write!(stream, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            let mut rest = Vec::new();
            let _ = reader.read_to_end(&mut rest);
            head
        });
        (url, handle)
    }

    fn http() -> BlockingClient {
        crate::http::blocking_client(Duration::from_secs(5)).expect("client")
    }

    #[test]
    fn explicit_token_wins_over_every_other_source() {
        let ambient = Ambient { sigstore_id_token: Some("env".into()), ..Default::default() };
        let login = LoginConfig {
            issuer: None,
            client_id: "sigstore".into(),
            interactive: false,
            login_hint: None,
        };
        let token = get_token(&http(), Some(" flag "), &ambient, &login).expect("token");
        assert_eq!(token.as_str(), "flag");
        let token = get_token(&http(), None, &ambient, &login).expect("token");
        assert_eq!(token.as_str(), "env");
        assert!(matches!(
            get_token(&http(), None, &Ambient::default(), &login),
            Err(Error::NoSource)
        ));
        assert_eq!(format!("{token:?}"), "IdToken([redacted])");
    }

    #[test]
    fn github_actions_ambient_token_is_requested_with_audience_and_bearer() {
        let (url, seen) = one_shot(r#"{"value":"gha-token"}"#);
        let ambient = Ambient {
            sigstore_id_token: None,
            actions_url: Some(format!("{url}/token?api-version=2.0")),
            actions_token: Some("runner-secret".into()),
        };
        let login = LoginConfig {
            issuer: None,
            client_id: "sigstore".into(),
            interactive: false,
            login_hint: None,
        };
        let token = get_token(&http(), None, &ambient, &login).expect("token");
        assert_eq!(token.as_str(), "gha-token");
        let head = seen.join().expect("server");
        assert!(head.starts_with("GET /token?api-version=2.0&audience=sigstore "), "{head}");
        assert!(head.to_lowercase().contains("authorization: bearer runner-secret"), "{head}");
    }
}
