//! Keyless signing from the command line: resolve the instance, get a token, call the
//! keyless pipeline. [`Session`] is what every keyless persona (`sigbox sign`, `cosign
//! sign-blob` / `attest-blob` / `sign`, `gitsign`) opens before it signs.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;

use super::instance::InstanceArgs;
use super::sign_request::{bundle_json, write_outputs, Outputs, Request};
use crate::instance::{Instance, Overrides, Services};
use crate::login::{self, Ambient, LoginConfig};
use crate::sign::keyless::{attest_keyless, sign_blob_keyless, KeylessConfig};

/// How long one HTTP call of a signing client may take.
const HTTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// An instance, the services chosen from it, an HTTP client and an identity token: all a
/// keyless signer needs.
pub struct Session {
    /// The HTTP client every call shares.
    pub http: crate::http::BlockingClient,
    /// The instance (its trusted root checks every answer).
    pub instance: Instance,
    /// The CA, log and issuer chosen.
    pub services: Services,
    /// The identity token.
    pub token: login::IdToken,
}

impl Session {
    /// Resolves `instance` and `overrides`, then gets a token in cosign's order: explicit
    /// `identity_token`, `SIGSTORE_ID_TOKEN`, GitHub Actions ambient, an interactive login
    /// on a terminal, else the device flow.
    pub fn open(
        instance: &InstanceArgs,
        overrides: &Overrides,
        identity_token: Option<&str>,
    ) -> anyhow::Result<Session> {
        let instance = instance.load()?;
        let services = instance
            .services(super::lifecycle::unix_now(), overrides)
            .context("choosing the CA and the transparency log")?;
        let http =
            crate::http::blocking_client(HTTP_TIMEOUT).context("building the HTTP client")?;
        let login = LoginConfig {
            issuer: services.oidc_issuer.clone(),
            client_id: services.oidc_client_id.clone(),
            interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            login_hint: None,
        };
        let token = login::get_token(&http, identity_token, &ambient(), &login)
            .context("getting an identity token")?;
        Ok(Session { http, instance, services, token })
    }

    /// The keyless pipeline's view of this session.
    pub fn config(&self) -> KeylessConfig<'_> {
        KeylessConfig {
            token: self.token.as_str(),
            ca_url: &self.services.ca,
            rekor_url: &self.services.rekor,
            root: &self.instance.root,
            clock: super::lifecycle::unix_now,
            tsa_url: self.services.tsa.as_deref(),
            rekor_version: self.services.rekor_version,
        }
    }
}

/// The CI tokens found in the environment.
pub fn ambient() -> Ambient {
    Ambient {
        sigstore_id_token: std::env::var("SIGSTORE_ID_TOKEN").ok(),
        actions_url: std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL").ok(),
        actions_token: std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN").ok(),
    }
}

fn open(request: &Request) -> anyhow::Result<Session> {
    if !request.tlog_upload {
        return Err(super::exit::Usage(
            "keyless signing always records the signature in the transparency log; \
             --tlog-upload=false needs --key"
                .into(),
        )
        .into());
    }
    Session::open(&request.instance, &request.overrides, request.identity_token.as_deref())
}

/// Signs keylessly as `request` says.
pub fn execute(request: &Request) -> anyhow::Result<ExitCode> {
    let session = open(request)?;
    let signed = if request.file.as_os_str() == "-" {
        sign_blob_keyless(&session.http, &session.config(), std::io::stdin().lock())
    } else {
        let file = super::output::open_artifact(&request.file)
            .with_context(|| format!("opening {}", request.file.display()))?;
        sign_blob_keyless(&session.http, &session.config(), file)
    }
    .with_context(|| format!("signing {}", request.file.display()))?;
    let outputs = Outputs {
        bundle_json: bundle_json(&signed.blob.bundle)?,
        signature: Some(&signed.blob.signature),
        certificate: Some(&signed.certificate),
    };
    write_outputs(request, &outputs)
}

/// Attests keylessly: `statement` is the in-toto statement JSON; writes the bundle (and
/// the certificate) as `request` says.
pub fn attest(request: &Request, statement: &[u8]) -> anyhow::Result<ExitCode> {
    let session = open(request)?;
    let (bundle, certificate) = attest_keyless(&session.http, &session.config(), statement)
        .with_context(|| format!("attesting {}", request.file.display()))?;
    let outputs = Outputs {
        bundle_json: bundle_json(&bundle)?,
        signature: None,
        certificate: Some(&certificate),
    };
    write_outputs(request, &outputs)
}

/// Uploads a key-based signature to the instance's log (`sign-blob --key` without
/// `--tlog-upload=false`) and puts the entry into the bundle.
pub fn log_key_signature(
    request: &Request,
    public_key: &crate::crypto::PublicKey,
    signed: &mut crate::sign::SignedBlob,
) -> anyhow::Result<()> {
    let instance = request.instance.load()?;
    let now = super::lifecycle::unix_now();
    let rekor = match &request.overrides.rekor_url {
        Some(url) => url.clone(),
        None => instance.rekor_v1(now).context("choosing the transparency log")?,
    };
    let http = crate::http::blocking_client(HTTP_TIMEOUT).context("building the HTTP client")?;
    crate::sign::keyless::log_key_signature(&http, &rekor, &instance.root, now, public_key, signed)
        .with_context(|| format!("recording the signature in the transparency log {rekor}"))?;
    Ok(())
}
