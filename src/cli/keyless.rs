//! The keyless half of `sigbox sign` / `cosign sign-blob`: resolve the instance, get a
//! token, call the keyless pipeline, write the outputs.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;

use super::exit;
use super::sign::{write_outputs, InstanceArgs, Request};
use crate::login::{self, Ambient, LoginConfig};
use crate::sign::keyless::{attest_keyless, sign_blob_keyless, KeylessConfig};
use crate::trust::{SigningConfig, TrustedRoot};

/// The public-good signing config, for signing with no instance flags.
const PUBLIC_GOOD_SIGNING_CONFIG: &str =
    include_str!("../../fixtures/trust/signing_config.v0.2.json");

/// What keyless signing needs, resolved from a request: the instance and a token.
struct Prepared {
    http: crate::http::BlockingClient,
    root: TrustedRoot,
    ca: String,
    rekor: String,
    token: login::IdToken,
}

impl Prepared {
    fn config(&self) -> KeylessConfig<'_> {
        KeylessConfig {
            token: self.token.as_str(),
            ca_url: &self.ca,
            rekor_url: &self.rekor,
            root: &self.root,
            clock: super::lifecycle::unix_now,
        }
    }
}

/// Signs keylessly as `request` says.
pub fn execute(request: &Request) -> anyhow::Result<ExitCode> {
    let prepared = prepare(request)?;
    let signed = if request.file.as_os_str() == "-" {
        sign_blob_keyless(&prepared.http, &prepared.config(), std::io::stdin().lock())
    } else {
        let file = super::output::open_artifact(&request.file)
            .with_context(|| format!("opening {}", request.file.display()))?;
        sign_blob_keyless(&prepared.http, &prepared.config(), file)
    }
    .with_context(|| format!("signing {}", request.file.display()))?;
    write_outputs(request, &signed.blob, Some(&signed.certificate))
}

/// Attests keylessly: `statement` is the in-toto statement JSON; writes the bundle (and
/// the certificate) as `request` says.
pub fn attest(request: &Request, statement: &[u8]) -> anyhow::Result<ExitCode> {
    let prepared = prepare(request)?;
    let (bundle, certificate) = attest_keyless(&prepared.http, &prepared.config(), statement)
        .with_context(|| format!("attesting {}", request.file.display()))?;
    let json = bundle.to_json().context("serializing the bundle")?;
    match &request.bundle {
        Some(path) => {
            crate::sign::keyfile::write_file(path, json.as_bytes(), 0o644, request.overwrite)?;
            super::output::status(format!("Wrote bundle to file {}", path.display()));
        }
        None => super::output::line(json)?,
    }
    if let Some(path) = &request.output_certificate {
        crate::sign::keyfile::write_file(
            path,
            certificate.to_pem().as_bytes(),
            0o644,
            request.overwrite,
        )?;
    }
    Ok(super::exit::Code::Success.into())
}

/// Uploads a key-based signature to the instance's log (`sign-blob --key` without
/// `--tlog-upload=false`) and puts the entry into the bundle.
pub fn log_key_signature(
    request: &Request,
    public_key: &crate::crypto::PublicKey,
    signed: &mut crate::sign::SignedBlob,
) -> anyhow::Result<()> {
    let (root, signing) = load_instance(&request.instance)?;
    let now = super::lifecycle::unix_now();
    let rekor = rekor_url(request, &signing, now)?;
    let http = crate::http::blocking_client(std::time::Duration::from_secs(30))
        .context("building the HTTP client")?;
    crate::sign::keyless::log_key_signature(&http, &rekor, &root, now, public_key, signed)
        .with_context(|| format!("recording the signature in the transparency log {rekor}"))?;
    Ok(())
}

fn rekor_url(request: &Request, signing: &SigningConfig, now: i64) -> anyhow::Result<String> {
    Ok(match &request.overrides.rekor_url {
        Some(url) => url.clone(),
        None => signing
            .select_tlogs(now, &[1])
            .context("the signing config names no usable Rekor v1 log")?
            .first()
            .map(|s| s.url.clone())
            .context("the signing config names no usable Rekor v1 log")?,
    })
}

fn prepare(request: &Request) -> anyhow::Result<Prepared> {
    if !request.tlog_upload {
        return Err(exit::Usage(
            "keyless signing always records the signature in the transparency log; \
             --tlog-upload=false needs --key"
                .into(),
        )
        .into());
    }
    let (root, signing) = load_instance(&request.instance)?;
    let now = super::lifecycle::unix_now();
    let o = &request.overrides;
    let ca = match &o.ca_url {
        Some(url) => url.clone(),
        None => signing
            .select_ca(now, &[1])
            .context("the signing config names no usable CA (caUrls, majorApiVersion 1)")?
            .url
            .clone(),
    };
    let rekor = rekor_url(request, &signing, now)?;
    let oidc =
        o.oidc_issuer.clone().or_else(|| signing.select_oidc(now, &[1]).map(|s| s.url.clone()));
    let http = crate::http::blocking_client(std::time::Duration::from_secs(30))
        .context("building the HTTP client")?;
    let ambient = Ambient {
        sigstore_id_token: std::env::var("SIGSTORE_ID_TOKEN").ok(),
        actions_url: std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL").ok(),
        actions_token: std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN").ok(),
    };
    let login = LoginConfig {
        issuer: oidc,
        client_id: o.oidc_client_id.clone().unwrap_or_else(|| "sigstore".into()),
        interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        login_hint: None,
    };
    let token = login::get_token(&http, request.identity_token.as_deref(), &ambient, &login)
        .context("getting an identity token")?;
    Ok(Prepared { http, root, ca, rekor, token })
}

fn load_instance(args: &InstanceArgs) -> anyhow::Result<(TrustedRoot, SigningConfig)> {
    let read =
        |p: &std::path::Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    if let Some(path) = &args.trust_config {
        return crate::trust::client_trust_config_from_json(&read(path)?)
            .with_context(|| format!("trust config {}", path.display()));
    }
    if let (Some(root), Some(signing)) = (&args.trusted_root, &args.signing_config) {
        let trusted = crate::trust::trusted_root_from_any(&read(root)?)
            .with_context(|| format!("trusted root {}", root.display()))?;
        let config = SigningConfig::from_json(&read(signing)?)
            .with_context(|| format!("signing config {}", signing.display()))?;
        return Ok((trusted, config));
    }
    Ok((
        TrustedRoot::public_good().context("the embedded public-good trusted root")?,
        SigningConfig::from_json(PUBLIC_GOOD_SIGNING_CONFIG.as_bytes())
            .context("the embedded public-good signing config")?,
    ))
}
