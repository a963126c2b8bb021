//! L3 the local instance (`sigbox up`): the CA with its CT log, the transparency logs (Rekor
//! v1, and a Rekor v2 tile log beside it), the RFC 3161 timestamp authority and the test
//! OIDC issuer, in one process on loopback, plus the trust files clients need.
//!
//! This is the one module that puts servers together. State lives under one data
//! directory (`fulcio/`, `rekor/`, `rekor-v2/`, `tsa/`, `oidc/`), so a restart keeps keys
//! and logs; the trust files are rewritten from those keys on every start, so an older
//! data directory gains the new services' entries and keeps every key it had.

mod live;
mod rotate;
mod trust_files;
mod tuf_repo;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use live::{request as request_live_rotation, Live};
pub use rotate::{apply_history, rotate, KeyKind as RotateKind, RotateError, Rotated};
pub use trust_files::{signing_config, trust_config, trusted_root, InstanceDescription};
pub use tuf_repo::publish_trust_files;

use crate::fulcio::ca::CaCurve;
use crate::fulcio::service::{self as fulcio_service, CaSource, ServiceConfig as FulcioConfig};
use crate::http::{Handler, Limits};
use crate::oidc::OidcConfig;
use crate::rekor::{self, LogVersion};
use crate::test_issuer::TestIssuer;

/// The curve of the instance's CA keys (and of a rotated CA whose old key curve is unknown).
const CA_CURVE: CaCurve = CaCurve::P256;
/// The curve of the instance's TSA key. P-256 like the CA: three times the signing speed
/// of P-384.
const TSA_CURVE: crate::tsa::Curve = crate::tsa::Curve::P256;

/// Why the instance could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A port could not be bound.
    #[error("binding {addr}")]
    Bind {
        /// The address.
        addr: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The transparency log could not start.
    #[error("transparency log")]
    Rekor(#[source] rekor::Error),
    /// The log's public key did not parse back.
    #[error("transparency log key")]
    LogKey(#[source] crate::crypto::Error),
    /// The CA's issuer configuration could not be built.
    #[error("CA issuer configuration")]
    OidcConfig(#[source] crate::oidc::Error),
    /// The CA could not start.
    #[error("certificate authority")]
    Fulcio(#[source] fulcio_service::Error),
    /// The timestamp authority could not start.
    #[error("timestamp authority")]
    Tsa(#[source] crate::tsa::Error),
    /// The test issuer could not start.
    #[error("test OIDC issuer")]
    Issuer(#[source] crate::test_issuer::Error),
    /// A trust file could not be written.
    #[error("writing {path}")]
    Write {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("serving")]
    Serve(#[source] crate::http::Error),
    /// The TUF repository could not be written.
    #[error("TUF repository")]
    Tuf(#[source] crate::tuf::Error),
    /// The key history (`history.json`) could not be applied to the trust files.
    #[error("key history")]
    History(#[source] RotateError),
    /// A tile export directory could not be taken.
    #[error("tile export")]
    Tiles(#[source] crate::ops::Error),
}

/// How to run the instance.
#[derive(Debug, Clone)]
pub struct UpConfig {
    /// State directory.
    pub data_dir: PathBuf,
    /// Host to bind (loopback).
    pub host: String,
    /// Fulcio port (0 = any free port).
    pub fulcio_port: u16,
    /// Rekor port.
    pub rekor_port: u16,
    /// OIDC issuer port.
    pub oidc_port: u16,
    /// TUF repository port.
    pub tuf_port: u16,
    /// What every server of the instance allows one client.
    pub limits: Limits,
    /// Rekor v2 (tile log) port.
    pub rekor_v2_port: u16,
    /// Timestamp authority port.
    pub tsa_port: u16,
    /// Export both Rekor logs as tlog-tiles into `DATA/tiles/rekor` and `DATA/tiles/rekor-v2`.
    pub tiles: bool,
}

/// The running instance's addresses and the paths of its trust files.
#[derive(Debug, Clone)]
pub struct Started {
    /// What clients are told.
    pub description: InstanceDescription,
    /// `trusted_root.json`.
    pub trusted_root: PathBuf,
    /// `signing_config.json`.
    pub signing_config: PathBuf,
    /// `trust_config.json`.
    pub trust_config: PathBuf,
    /// The TUF repository's base URL.
    pub tuf_url: String,
    /// The TUF repository's current `root.json` (what clients start from).
    pub tuf_root: PathBuf,
}

/// Starts everything, calls `ready` once the trust files are written and every port
/// listens, and serves until `shutdown` completes.
pub async fn run(
    config: UpConfig,
    clock: fn() -> i64,
    ready: impl FnOnce(&Started),
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), Error> {
    let bind = |port: u16| {
        let addr = format!("{}:{port}", config.host);
        async move {
            tokio::net::TcpListener::bind(&addr)
                .await
                .map_err(|source| Error::Bind { addr, source })
        }
    };
    let fulcio_listener = bind(config.fulcio_port).await?;
    let rekor_listener = bind(config.rekor_port).await?;
    let oidc_listener = bind(config.oidc_port).await?;
    let rekor_v2_listener = bind(config.rekor_v2_port).await?;
    let tsa_listener = bind(config.tsa_port).await?;
    let tuf_listener = bind(config.tuf_port).await?;
    let url = |l: &tokio::net::TcpListener| -> Result<(String, SocketAddr), Error> {
        let addr = l.local_addr().map_err(|source| Error::Bind { addr: "?".into(), source })?;
        Ok((format!("http://{addr}"), addr))
    };
    let (ca_url, _) = url(&fulcio_listener)?;
    let (rekor_url, rekor_addr) = url(&rekor_listener)?;
    let (oidc_url, _) = url(&oidc_listener)?;
    let (rekor_v2_url, rekor_v2_addr) = url(&rekor_v2_listener)?;
    let (tsa_base, _) = url(&tsa_listener)?;
    let (tuf_url, _) = url(&tuf_listener)?;

    let issuer = TestIssuer::load_or_create(&config.data_dir.join("oidc"), &oidc_url, clock)
        .map_err(Error::Issuer)?;
    let rekor_clock: rekor::Clock = Arc::new(clock);
    let log = rekor::service::open(
        rekor::service::ServiceConfig {
            data_dir: config.data_dir.join("rekor"),
            signer_key: None,
            // sigstore-js matches the checkpoint name inside the tlog baseUrl: host:port.
            name: rekor_addr.to_string(),
            genesis: true,
            version: LogVersion::V1,
        },
        rekor_clock,
    )
    .await
    .map_err(Error::Rekor)?;
    let log_v2 = rekor::service::open(
        rekor::service::ServiceConfig {
            data_dir: config.data_dir.join("rekor-v2"),
            signer_key: None,
            // compat(sigstore-go): v2 note verifiers are named by the URL's host, no port
            // (as `rekor-server --v2`); the origin differs from the v1 log's.
            name: rekor_v2_addr.ip().to_string(),
            genesis: true,
            version: LogVersion::V2,
        },
        Arc::new(clock),
    )
    .await
    .map_err(Error::Rekor)?;
    let tsa = crate::tsa::TsaService::open(
        &crate::tsa::service::Config {
            data_dir: config.data_dir.join("tsa"),
            chain_files: None,
            curve: TSA_CURVE,
            policy_oid: crate::tsa::DEFAULT_POLICY_OID.into(),
            organization: fulcio_service::DEFAULT_ORGANIZATION.into(),
        },
        clock,
    )
    .map_err(Error::Tsa)?;
    // The CA trusts exactly one issuer: the test issuer of this instance.
    let oidc = OidcConfig::from_json(
        serde_json::json!({"OIDCIssuers": {&oidc_url: {
            "IssuerURL": &oidc_url, "ClientID": "sigstore", "Type": "email",
        }}})
        .to_string()
        .as_bytes(),
    )
    .map_err(Error::OidcConfig)?;
    let fulcio = fulcio_service::open(
        FulcioConfig {
            data_dir: config.data_dir.join("fulcio"),
            oidc,
            ca: CaSource::Generated { curve: CA_CURVE },
        },
        clock,
    )
    .map_err(Error::Fulcio)?;

    let root = fulcio.ca().chain().last().cloned();
    let valid_from = root.as_ref().map_or(0, |r| r.not_before());
    let description = InstanceDescription {
        ca_url,
        rekor_url,
        oidc_url,
        ca_chain: fulcio.ca().chain().to_vec(),
        rekor_key: crate::crypto::PublicKey::from_pem(&log.public_key_pem())
            .map_err(Error::LogKey)?,
        ct_key: fulcio.ct().public_key(),
        valid_from: rfc3339(valid_from),
        rekor_v2_url,
        rekor_v2_key: crate::crypto::PublicKey::from_pem(&log_v2.public_key_pem())
            .map_err(Error::LogKey)?,
        rekor_v2_log_id: log_v2.log_id().to_vec(),
        tsa_url: format!("{tsa_base}{}", crate::tsa::TIMESTAMP_PATH),
        tsa_chain: tsa.chain().to_vec(),
        tsa_valid_from: rfc3339(tsa.chain().first().map_or(valid_from, |c| c.not_before())),
    };
    let mut started = write_trust_files(&config.data_dir, description)?;
    apply_history(&config.data_dir).map_err(Error::History)?;
    let repository = Arc::new(publish_trust_files(&config.data_dir, clock()).map_err(Error::Tuf)?);
    started.tuf_root = repository.root_path();
    started.tuf_url = tuf_url;
    let refresher = crate::tuf::repository::spawn_refresher(repository.clone(), clock);

    let limits = config.limits;
    let (tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let stop = |tx: &tokio::sync::broadcast::Sender<()>| {
        let mut rx = tx.subscribe();
        async move {
            let _ = rx.recv().await;
        }
    };
    let fulcio = Arc::new(fulcio);
    let tsa = Arc::new(tsa);
    // Online backups of each part (`sigbox log backup --data-dir DATA/rekor` or
    // `DATA/fulcio`) come through an admin socket in its directory, as for the servers;
    // their keys are read at each backup (a live rotation changes them).
    let rekor_key = {
        let (log, fallback) = (log.clone(), started.description.rekor_key.clone());
        move || {
            crate::crypto::PublicKey::from_pem(&log.public_key_pem()).unwrap_or(fallback.clone())
        }
    };
    let ct_key = {
        let fulcio = fulcio.clone();
        move || fulcio.ct().public_key()
    };
    // Live key rotation (`sigbox up rotate KIND`) through DATA/admin.sock.
    let live = Arc::new(Live {
        data_dir: config.data_dir.clone(),
        fulcio: fulcio.clone(),
        log: log.clone(),
        tsa: tsa.clone(),
        repository: repository.clone(),
        clock,
        busy: std::sync::Mutex::new(()),
    });
    let admin = [
        crate::ops::admin::spawn(
            &config.data_dir.join("rekor"),
            crate::ops::admin::Source {
                store: log.store().clone(),
                kind: crate::ops::LogKind::Rekor,
                key: started.description.rekor_key.clone(),
                current_key: Some(Arc::new(rekor_key)),
            },
        ),
        crate::ops::admin::spawn(
            &config.data_dir.join("fulcio"),
            crate::ops::admin::Source {
                store: fulcio.ct().store().clone(),
                kind: crate::ops::LogKind::Ct,
                key: fulcio.ct().public_key(),
                current_key: Some(Arc::new(ct_key)),
            },
        ),
        crate::ops::admin::spawn_with(
            &config.data_dir,
            Arc::new(move |request: &str, stream| live.answer(request, stream)),
        ),
    ];
    let servers = [
        (fulcio_listener, fulcio as Arc<dyn Handler>),
        (oidc_listener, Arc::new(issuer) as Arc<dyn Handler>),
        (tsa_listener, tsa as Arc<dyn Handler>),
        (tuf_listener, Arc::new(crate::tuf::repository::Server::new(&repository))),
    ];
    // Static tiles of both logs (`--tiles`), exported in the background as by rekor-server.
    let mut exporters = Vec::new();
    if config.tiles {
        for (log, name) in [(&log, "rekor"), (&log_v2, "rekor-v2")] {
            let dir = config.data_dir.join("tiles").join(name);
            let every = std::time::Duration::from_millis(crate::ops::tiles::live::DEFAULT_TICK_MS);
            exporters.push(
                crate::ops::tiles::live::LiveExport::start(log.clone(), &dir, every)
                    .map_err(Error::Tiles)?,
            );
        }
    }
    // Ready once the admin sockets are bound too: a `sigbox up rotate` or `log backup` run
    // right after the ready line must find them.
    ready(&started);
    let mut tasks = Vec::new();
    for (listener, handler) in servers {
        tasks.push(tokio::spawn(crate::http::serve(listener, handler, limits, stop(&tx))));
    }
    tasks.push(tokio::spawn(rekor::serve(rekor_listener, log, limits, stop(&tx))));
    tasks.push(tokio::spawn(rekor::serve(rekor_v2_listener, log_v2, limits, stop(&tx))));
    shutdown.await;
    refresher.abort();
    for task in admin.into_iter().flatten() {
        task.abort();
        let _ = task.await;
    }
    let _ = tx.send(());
    for task in tasks {
        if let Ok(Err(e)) = task.await {
            return Err(Error::Serve(e));
        }
    }
    for exporter in exporters {
        exporter.stop().map_err(Error::Tiles)?;
    }
    Ok(())
}

fn write_trust_files(dir: &Path, description: InstanceDescription) -> Result<Started, Error> {
    let write = |name: &str, value: serde_json::Value| -> Result<PathBuf, Error> {
        let path = dir.join(name);
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        std::fs::write(&path, text + "\n")
            .map_err(|source| Error::Write { path: path.display().to_string(), source })?;
        Ok(path)
    };
    Ok(Started {
        trusted_root: write("trusted_root.json", trusted_root(&description))?,
        signing_config: write("signing_config.json", signing_config(&description))?,
        trust_config: write("trust_config.json", trust_config(&description))?,
        tuf_url: String::new(),
        tuf_root: PathBuf::new(),
        description,
    })
}

/// RFC 3339 UTC with `Z`, seconds precision.
fn rfc3339(unix: i64) -> String {
    crate::encoding::rfc3339(unix).unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}
