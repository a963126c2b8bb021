//! `gitsign --status-fd=2 -bsau KEY`: sign the payload on stdin for git.

use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::Context as _;

use super::{settings, Status};
use crate::cli::exit::Code;
use crate::cli::lifecycle::unix_now;
use crate::git::cache;
use crate::git::config::Settings;
use crate::http::BlockingClient;
use crate::instance::{Instance, Overrides, Services};
use crate::login::{self, LoginConfig};
use crate::sign::keyless::{certify, Certified, KeylessConfig};

/// How long one HTTP call may take.
const HTTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Where gitsign's filesystem token provider reads its token.
const FILESYSTEM_TOKEN: &str = "/var/run/sigstore/cosign/oidc-token";

/// Signs stdin; armored signature to stdout, status lines to `status_fd`.
pub(super) fn run(status_fd: Option<i32>, _user: Option<&str>) -> anyhow::Result<ExitCode> {
    let mut status = Status::open(status_fd)?;
    let mut payload = Vec::new();
    std::io::stdin().lock().read_to_end(&mut payload).context("reading the payload on stdin")?;
    // Older git looks for "\n[GNUPG:] SIG_CREATED", so something must come first.
    status.line("[GNUPG:] BEGIN_SIGNING")?;
    let settings = settings()?;
    let instance = super::verify::instance()?;
    let now = unix_now();
    let overrides = Overrides {
        ca_url: settings.fulcio.clone(),
        rekor_url: settings.rekor.clone(),
        oidc_issuer: settings.issuer.clone(),
        oidc_client_id: settings.client_id.clone(),
        tsa_url: settings.timestamp_server.clone(),
        rekor_version: Some(settings.rekor_version),
        ..Overrides::default()
    };
    let services =
        instance.services(now, &overrides).context("choosing the CA and the transparency log")?;
    let http = crate::http::blocking_client(HTTP_TIMEOUT).context("building the HTTP client")?;
    let certified = obtain(&http, &instance, &services, &settings)?;
    let config = KeylessConfig {
        token: "",
        ca_url: &services.ca,
        rekor_url: &services.rekor,
        root: &instance.root,
        clock: unix_now,
        tsa_url: services.tsa.as_deref(),
        rekor_version: services.rekor_version,
    };
    let signed = crate::git::sign::sign_payload(
        &http,
        &config,
        &certified,
        &payload,
        &crate::git::sign::SignOptions {
            mode: settings.rekor_mode,
            include_chain: settings.include_chain,
        },
        now,
    )
    .context("signing the git object")?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(signed.armored.as_bytes())?;
    stdout.flush()?;
    status.line(&crate::git::sign::sig_created_line(&signed.certificate, now))?;
    let note = format!(
        "tlog entry created with index: {} ({} mode, {}) for object {}",
        signed.log_index,
        settings.rekor_mode.name(),
        services.rekor,
        signed.object_id
    );
    crate::cli::output::status(&note);
    super::log_line(&settings, &note);
    Ok(Code::Success.into())
}

/// A certified key: from the credential cache when one is configured and holds a live
/// entry for this instance, else a login and a fresh certificate (stored in the cache).
fn obtain(
    http: &BlockingClient,
    instance: &Instance,
    services: &Services,
    settings: &Settings,
) -> anyhow::Result<Certified> {
    let cache = settings.credential_cache.as_ref().map(cache::Client::new);
    let id = format!(
        "{}|{}|{}",
        services.ca,
        services.oidc_issuer.as_deref().unwrap_or_default(),
        services.oidc_client_id
    );
    if let Some(client) = &cache {
        match client.get(&id) {
            Ok(Some(certified)) => {
                crate::cli::output::status("gitsign: using the cached certificate");
                return Ok(certified);
            }
            Ok(None) => {}
            Err(e) => crate::cli::output::status(format!(
                "gitsign: warning: credential cache: {:#}",
                anyhow::Error::new(e)
            )),
        }
    }
    let token = token(http, services, settings)?;
    let config = KeylessConfig {
        token: token.as_str(),
        ca_url: &services.ca,
        rekor_url: &services.rekor,
        root: &instance.root,
        clock: unix_now,
        tsa_url: services.tsa.as_deref(),
        rekor_version: services.rekor_version,
    };
    let certified = certify(http, &config).context("getting a signing certificate")?;
    if let Some(client) = &cache {
        if let Err(e) = client.store(&id, &certified) {
            crate::cli::output::status(format!(
                "gitsign: warning: credential cache: {:#}",
                anyhow::Error::new(e)
            ));
        }
    }
    Ok(certified)
}

/// An identity token from the provider `gitsign.tokenProvider` names, else in cosign's
/// order (explicit env token, GitHub Actions, browser on a terminal, device flow).
fn token(
    http: &BlockingClient,
    services: &Services,
    settings: &Settings,
) -> anyhow::Result<login::IdToken> {
    let mut ambient = crate::cli::keyless::ambient();
    // git pipes both stdin (the payload) and stderr (the status lines, shown only after we
    // exit), so a person is detected by the controlling terminal: then the browser flow
    // opens a browser, as gitsign does. Without one, the device flow (CI, tests).
    let mut interactive = std::fs::OpenOptions::new().read(true).open("/dev/tty").is_ok();
    let mut explicit = None;
    match settings.token_provider.as_deref() {
        None => {}
        Some("interactive") => interactive = true,
        Some("device") => interactive = false,
        Some("github-actions") => ambient.sigstore_id_token = None,
        Some("filesystem") => {
            explicit = Some(
                std::fs::read_to_string(FILESYSTEM_TOKEN)
                    .with_context(|| format!("reading the token file {FILESYSTEM_TOKEN}"))?
                    .trim()
                    .to_string(),
            );
        }
        Some(other) => {
            return Err(crate::cli::exit::Usage(format!(
                "gitsign.tokenProvider {other:?} is not supported here \
                 (interactive, device, github-actions, filesystem)"
            ))
            .into())
        }
    }
    let login = LoginConfig {
        issuer: services.oidc_issuer.clone(),
        client_id: services.oidc_client_id.clone(),
        interactive,
        login_hint: None,
    };
    let flow = flow(settings)?;
    login::get_token_with(http, explicit.as_deref(), &ambient, &login, &flow)
        .context("getting an identity token")
}

/// The OAuth flow settings: client secret (read from its file), redirect URL, Dex
/// connector, autoclose, URL opener.
fn flow(settings: &Settings) -> anyhow::Result<login::Flow> {
    let client_secret = match &settings.client_secret_file {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("reading gitsign.clientSecretFile {path}"))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                crate::cli::exit::Usage(format!(
                    "gitsign.clientSecretFile {path}: the client secret is not UTF-8 text"
                ))
            })?;
            Some(text.trim().to_string())
        }
        None => None,
    };
    if let Some(template) = &settings.url_opener {
        login::opener_command(template, "")
            .map_err(|e| crate::cli::exit::Usage(format!("gitsign.urlOpener: {e}")))?;
    }
    Ok(login::Flow {
        client_secret,
        redirect_url: settings.redirect_url.clone(),
        connector_id: settings.connector_id.clone(),
        autoclose: settings.autoclose.then_some(settings.autoclose_timeout),
        url_opener: settings.url_opener.clone(),
    })
}
