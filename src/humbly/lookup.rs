//! Finding signatures in the transparency log when a target has no bundle: search each
//! Rekor v1 log by `sha256:<hex>` (`/api/v1/index/retrieve`), fetch each entry, and turn a
//! `hashedrekord` entry into a bundle for THE verifier (SET, inclusion proof, checkpoint,
//! chain at the integrated time, all checked there against the trusted root).
//!
//! Before the first search of a log in a run, its signed tree head is checked for
//! consistency with the last one this user saw (`rekor::monitor`, the state `sigbox rekor
//! loginfo` keeps), so a log that rewrote its history behind the same URL is reported
//! instead of searched. Rekor v2 logs have no search API; they are named in the verdict.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::json;

use super::verdict::Failure;
use super::PreparedRoot;
use crate::bundle::{wire, Checked};
use crate::crypto::Digest;
use crate::encoding::pem_decode;
use crate::http::BlockingClient;
use crate::instance::Instance;
use crate::rekor::client::{self, Client, LoggedEntry};
use crate::rekor::monitor;
use crate::rekor_model::Body;

/// How lookups reach the logs.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The HTTP client (timeouts, extra CAs) from `http::blocking_client`.
    pub http: BlockingClient,
    /// Where the monitor keeps the last verified checkpoint of each log.
    pub state_dir: PathBuf,
}

/// A log to search, and its API generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTarget {
    /// Base URL.
    pub url: String,
    /// 1 (searchable) or 2 (no search API).
    pub major_api_version: u32,
}

/// The logs an instance offers: `urls` when the policy lists them, else the signing
/// config's Rekor URLs, else the trusted root's logs that are still open.
pub fn log_targets(instance: &Instance, urls: Option<&[String]>) -> Vec<LogTarget> {
    let configured: Vec<LogTarget> = instance
        .signing
        .as_ref()
        .map(|s| {
            s.wire()
                .rekor_tlog_urls
                .iter()
                .map(|svc| LogTarget {
                    url: trim(&svc.url),
                    major_api_version: svc.major_api_version.max(1),
                })
                .collect()
        })
        .unwrap_or_default();
    let version_of =
        |url: &str| configured.iter().find(|t| t.url == url).map_or(1, |t| t.major_api_version);
    let mut out: Vec<LogTarget> = match urls {
        Some(urls) => urls
            .iter()
            .map(|u| LogTarget { url: trim(u), major_api_version: version_of(&trim(u)) })
            .collect(),
        None if !configured.is_empty() => configured.clone(),
        None => instance
            .root
            .tlogs()
            .iter()
            .filter(|t| t.valid_for.end.is_none())
            .map(|t| LogTarget { url: trim(&t.base_url), major_api_version: 1 })
            .collect(),
    };
    out.dedup_by(|a, b| a.url == b.url);
    out
}

/// A bundle rebuilt from a log entry, and where it came from.
pub(super) struct FoundEntry {
    /// `rekor:<url>#<log index>`.
    pub source: String,
    /// The root (index into the engine's roots) whose log it is.
    pub root: usize,
    /// The bundle.
    pub bundle: Checked,
}

/// What a lookup found, and what it could not do.
#[derive(Default)]
pub(super) struct Found {
    pub entries: Vec<FoundEntry>,
    /// Problems that make "not found" a definite no (`lookup`, `log_consistency`).
    pub notes: Vec<Failure>,
    /// A log could not be reached: the answer is not known.
    pub unreachable: bool,
    /// How many logs answered the search.
    pub searched: usize,
}

/// Why a log may not be searched: a definite problem (rewritten history, wrong key), or
/// one that leaves the answer unknown (network, state directory).
#[derive(Debug, Clone)]
struct Problem {
    message: String,
    unknown: bool,
}

/// The logs of every root, each checked by the monitor at most once per run.
pub(super) struct Logs<'a> {
    lookup: Option<&'a Lookup>,
    logs: Vec<LogState>,
    roots: &'a [PreparedRoot],
}

struct LogState {
    root: usize,
    target: LogTarget,
    client: Option<Client>,
    /// The monitor's outcome: Ok, or why this log may not be used.
    consistency: OnceLock<Result<(), Problem>>,
}

impl<'a> Logs<'a> {
    pub(super) fn new(roots: &'a [PreparedRoot], lookup: Option<&'a Lookup>) -> Logs<'a> {
        let mut logs = Vec::new();
        for (root, prepared) in roots.iter().enumerate() {
            for target in &prepared.logs {
                let client = lookup.map(|l| Client::new(l.http.clone(), &target.url));
                logs.push(LogState {
                    root,
                    target: target.clone(),
                    client,
                    consistency: OnceLock::new(),
                });
            }
        }
        Logs { lookup, logs, roots }
    }

    /// Whether lookups are enabled.
    pub(super) fn enabled(&self) -> bool {
        self.lookup.is_some()
    }

    /// Searches every log for `digest` and rebuilds a bundle from each entry found.
    pub(super) fn find(&self, digest: &Digest) -> Found {
        let mut found =
            Found { entries: Vec::new(), notes: Vec::new(), unreachable: false, searched: 0 };
        if self.logs.is_empty() {
            found.notes.push(note("lookup", "the trusted roots name no transparency log".into()));
        }
        let query = json!({"hash": format!("sha256:{}", digest.to_hex())});
        for log in &self.logs {
            let url = &log.target.url;
            if log.target.major_api_version >= 2 {
                found.notes.push(note(
                    "lookup",
                    format!(
                        "{url} is a Rekor v2 log, which has no search by digest: give the bundle"
                    ),
                ));
                continue;
            }
            let (Some(client), Some(lookup)) = (&log.client, self.lookup) else { continue };
            if let Err(problem) = log.consistency.get_or_init(|| self.check(log, client, lookup)) {
                let check = if problem.unknown { "lookup" } else { "log_consistency" };
                found.unreachable |= problem.unknown;
                found.notes.push(note(check, problem.message.clone()));
                continue;
            }
            let ids = match client.search(&query) {
                Ok(ids) => {
                    found.searched += 1;
                    ids
                }
                Err(crate::rekor::Error::Rejected { status: 404, .. }) => {
                    found.notes.push(note(
                        "lookup",
                        format!("{url} has no search API (a Rekor v2 log?): give the bundle"),
                    ));
                    continue;
                }
                Err(e) => {
                    found.unreachable = true;
                    found
                        .notes
                        .push(note("lookup", format!("searching {url}: {}", super::chain(&e))));
                    continue;
                }
            };
            for id in ids {
                let entry =
                    client.entry_map_by_uuid(&id).and_then(|m| client::log_entry_from_map(&m));
                match entry {
                    Ok(logged) => match bundle_from_entry(&logged) {
                        Ok(bundle) => found.entries.push(FoundEntry {
                            source: format!("rekor:{url}#{}", logged.entry.log_index),
                            root: log.root,
                            bundle,
                        }),
                        Err(why) => {
                            found.notes.push(note("lookup", format!("{url} entry {id}: {why}")))
                        }
                    },
                    Err(e) => {
                        found.unreachable = true;
                        found.notes.push(note(
                            "lookup",
                            format!("fetching {url} entry {id}: {}", super::chain(&e)),
                        ));
                    }
                }
            }
        }
        found
    }

    /// The searchable (v1) logs of root `root`, each after its monitor check, for online-
    /// mode gitsign commits (whose entry lives only in the log). Logs that failed the check
    /// are left out and named in `found.notes`.
    pub(super) fn clients(&self, root: usize, found: &mut Found) -> Vec<(&str, &Client)> {
        let mut out = Vec::new();
        let Some(lookup) = self.lookup else { return out };
        for log in self.logs.iter().filter(|l| l.root == root && l.target.major_api_version < 2) {
            let Some(client) = &log.client else { continue };
            if let Err(problem) = log.consistency.get_or_init(|| self.check(log, client, lookup)) {
                let check = if problem.unknown { "lookup" } else { "log_consistency" };
                found.unreachable |= problem.unknown;
                found.notes.push(note(check, problem.message.clone()));
                continue;
            }
            out.push((log.target.url.as_str(), client));
        }
        out
    }

    /// The monitor check of one log against the remembered checkpoint.
    fn check(&self, log: &LogState, client: &Client, lookup: &Lookup) -> Result<(), Problem> {
        let url = &log.target.url;
        let root = self.roots.get(log.root).map(|r| &r.root);
        let Some(tlog) = root.and_then(|r| r.tlogs().iter().find(|t| trim(&t.base_url) == *url))
        else {
            return Err(Problem {
                message: format!(
                    "{url} is not a log of the trusted root, so its entries cannot verify"
                ),
                unknown: false,
            });
        };
        monitor::check_log(client, url, &tlog.key, &lookup.state_dir).map(|_| ()).map_err(|e| {
            use crate::rekor::Error as E;
            let unknown = matches!(
                e,
                E::Transport { .. }
                    | E::DataDir { .. }
                    | E::Rejected { .. }
                    | E::MalformedResponse(_)
            );
            let what =
                if unknown { "could not be checked" } else { "failed the consistency check" };
            Problem { message: format!("{url} {what}: {}", super::chain(&e)), unknown }
        })
    }
}

/// Rebuilds a v0.3 bundle from a `hashedrekord` 0.0.1 entry: the signature, the digest and
/// the certificate (or key) come from the logged body, the tlog entry is the log's answer.
///
/// Errors: a message naming what the entry lacks or why its kind cannot be checked.
pub(super) fn bundle_from_entry(logged: &LoggedEntry) -> Result<Checked, String> {
    let body = Body::parse(&logged.entry.canonicalized_body).map_err(|e| e.to_string())?;
    let Body::HashedRekordV001(record) = body else {
        return Err(format!(
            "a {} {} entry cannot be checked by artifact digest",
            body.kind(),
            body.api_version()
        ));
    };
    let hash = &record.data.hash;
    let algorithm = crate::crypto::HashAlgorithm::from_name(&hash.algorithm)
        .ok_or_else(|| format!("unknown digest algorithm {:?}", hash.algorithm))?;
    let digest = crate::encoding::hex_decode(&hash.value)
        .and_then(|b| Digest::from_bytes(algorithm, b))
        .ok_or("bad digest in the body")?;
    let pem = std::str::from_utf8(&record.signature.public_key.content)
        .map_err(|_| "the logged key is not PEM text")?;
    let (label, der) = pem_decode(pem).map_err(|e| format!("the logged key: {e}"))?;
    let mut material = wire::VerificationMaterial {
        tlog_entries: vec![logged.entry.clone()],
        ..Default::default()
    };
    if label == "CERTIFICATE" {
        material.certificate = Some(wire::X509Certificate { raw_bytes: der.into() });
    } else {
        material.public_key = Some(wire::PublicKeyIdentifier { hint: String::new() });
    }
    let bundle = wire::Bundle {
        media_type: wire::MEDIA_TYPE_V03.into(),
        verification_material: Some(material),
        message_signature: Some(wire::MessageSignature {
            message_digest: Some(wire::HashOutput {
                algorithm: digest.algorithm().proto_name().into(),
                digest: digest.as_bytes().to_vec().into(),
            }),
            signature: record.signature.content.clone(),
        }),
        dsse_envelope: None,
    };
    Checked::try_from(bundle).map_err(|e| format!("the rebuilt bundle: {e}"))
}

fn note(check: &'static str, message: String) -> Failure {
    Failure { check, message }
}

fn trim(url: &str) -> String {
    url.trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::wire::Bundle;

    /// The log entry of a real public-good bundle, as the log would return it.
    fn public_good_entry() -> (LoggedEntry, Bundle) {
        let path =
            concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/humbly/bundle_v3_github.whl.sigstore");
        let bundle = Bundle::from_json(&std::fs::read(path).unwrap()).unwrap();
        let entry = bundle.verification_material.as_ref().unwrap().tlog_entries[0].clone();
        (LoggedEntry { entry_id: String::new(), entry }, bundle)
    }

    #[test]
    fn hashedrekord_entry_rebuilds_the_bundle_the_signer_made() {
        let (logged, original) = public_good_entry();
        let rebuilt = bundle_from_entry(&logged).unwrap();
        let original = Checked::try_from(original).unwrap();
        assert_eq!(rebuilt.signature(), original.signature());
        assert_eq!(rebuilt.certificate().unwrap().der(), original.certificate().unwrap().der());
        // And it verifies like the original, against the public-good root.
        let root = crate::trust::TrustedRoot::public_good().unwrap();
        let artifact = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/humbly/bundle_v3_github.whl"
        ))
        .unwrap();
        let options = crate::verify::Options::new(1_710_888_076 + 60);
        crate::verify::verify(
            &rebuilt,
            &crate::verify::Artifact::Bytes(&artifact),
            &root,
            &crate::policy::Policy::any(),
            &options,
        )
        .unwrap();
    }

    #[test]
    fn other_kinds_are_named_not_guessed() {
        let (mut logged, _) = public_good_entry();
        logged.entry.canonicalized_body =
            br#"{"apiVersion":"0.0.1","kind":"dsse","spec":{}}"#.to_vec().into();
        let why = bundle_from_entry(&logged).unwrap_err();
        assert!(why.contains("dsse"), "{why}");
    }

    #[test]
    fn public_good_logs_come_from_its_signing_config() {
        let instance = Instance::public_good().unwrap();
        let logs = log_targets(&instance, None);
        assert!(
            logs.iter().any(|l| l.url == "https://rekor.sigstore.dev" && l.major_api_version == 1),
            "{logs:?}"
        );
        let given = log_targets(&instance, Some(&["http://127.0.0.1:1/".to_string()]));
        assert_eq!(
            given,
            vec![LogTarget { url: "http://127.0.0.1:1".into(), major_api_version: 1 }]
        );
    }
}
