//! The OAuth 2.0 device authorization grant (RFC 8628): for shells with no browser. The
//! person is shown a URL and a code; the client polls the token endpoint until they approve.

use std::time::{Duration, Instant};

use super::{get_json, id_token_of, Discovery, Error, Flow, IdToken, LoginConfig};
use crate::http::BlockingClient;

/// Runs the device flow, printing the verification URL on stderr.
pub fn device_flow(
    http: &BlockingClient,
    discovery: &Discovery,
    login: &LoginConfig,
    timeout: Duration,
) -> Result<IdToken, Error> {
    device_flow_with(http, discovery, login, &Flow::default(), timeout)
}

/// [`device_flow`] with `flow`'s client secret (the other flow settings are the browser's).
pub fn device_flow_with(
    http: &BlockingClient,
    discovery: &Discovery,
    login: &LoginConfig,
    flow: &Flow,
    timeout: Duration,
) -> Result<IdToken, Error> {
    let url = discovery.device_authorization_endpoint.clone().ok_or(Error::Malformed {
        url: "discovery document".into(),
        field: "device_authorization_endpoint",
    })?;
    let mut form = vec![("client_id", login.client_id.clone()), ("scope", "openid email".into())];
    if let Some(hint) = &login.login_hint {
        form.push(("login_hint", hint.clone()));
    }
    if let Some(secret) = &flow.client_secret {
        form.push(("client_secret", secret.clone()));
    }
    let answer = get_json(http.post(&url).form(&form), &url)?;
    let field = |name: &'static str| {
        answer
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or(Error::Malformed { url: url.clone(), field: name })
    };
    let device_code = field("device_code")?;
    let shown = field("verification_uri_complete").or_else(|_| field("verification_uri"))?;
    let user_code = field("user_code").unwrap_or_default();
    eprintln!("To sign in, open {shown} and enter the code {user_code}");
    let mut interval =
        Duration::from_secs(answer.get("interval").and_then(|v| v.as_u64()).unwrap_or(5));
    let start = Instant::now();
    let token_url = &discovery.token_endpoint;
    loop {
        let mut form = vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code.as_str()),
            ("client_id", login.client_id.as_str()),
        ];
        if let Some(secret) = &flow.client_secret {
            form.push(("client_secret", secret.as_str()));
        }
        match get_json(http.post(token_url).form(&form), token_url) {
            Ok(answer) => return id_token_of(&answer, token_url),
            Err(Error::Refused { message, .. }) if message.contains("authorization_pending") => {}
            Err(Error::Refused { message, .. }) if message.contains("slow_down") => {
                interval += Duration::from_secs(5);
            }
            Err(e) => return Err(e),
        }
        if start.elapsed() > timeout {
            return Err(Error::TimedOut(timeout));
        }
        std::thread::sleep(interval);
    }
}
