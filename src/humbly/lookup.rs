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
use crate::tlog::Hash;

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
    /// The monitor's outcome: the verified head (size, root), or why this log may not be
    /// used.
    consistency: OnceLock<Result<(u64, Hash), Problem>>,
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
            let head = match log.consistency.get_or_init(|| self.check(log, client, lookup)) {
                Ok(head) => *head,
                Err(problem) => {
                    let check = if problem.unknown { "lookup" } else { "log_consistency" };
                    found.unreachable |= problem.unknown;
                    found.notes.push(note(check, problem.message.clone()));
                    continue;
                }
            };
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
                    found.notes.push(note(
                        "lookup",
                        format!("searching {url}: {}", crate::error_text::chain(&e)),
                    ));
                    continue;
                }
            };
            for id in ids {
                let entry = client.entry_map_by_uuid(&id).and_then(|m| {
                    client::log_entry_from_map(&m).map(|logged| (logged, attestation_of(&m)))
                });
                match entry {
                    Ok((logged, attestation)) => {
                        // The entry's own checkpoint must be a state of the monitored log:
                        // an entry served from a fork is refused before it is verified.
                        if let Err(problem) = consistent_with_head(&logged.entry, head, |a, b| {
                            client.consistency_proof(a, b).map_err(|e| crate::error_text::chain(&e))
                        }) {
                            found.notes.push(note(
                                "log_consistency",
                                format!("{url} entry {}: {problem}", logged.entry.log_index),
                            ));
                            continue;
                        }
                        match bundle_from_entry(&logged, attestation.as_deref()) {
                            Ok(bundle) => found.entries.push(FoundEntry {
                                source: format!("rekor:{url}#{}", logged.entry.log_index),
                                root: log.root,
                                bundle,
                            }),
                            Err(why) => {
                                found.notes.push(note("lookup", format!("{url} entry {id}: {why}")))
                            }
                        }
                    }
                    Err(e) => {
                        found.unreachable = true;
                        found.notes.push(note(
                            "lookup",
                            format!("fetching {url} entry {id}: {}", crate::error_text::chain(&e)),
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
    pub(super) fn clients(
        &self,
        root: usize,
        found: &mut Found,
    ) -> Vec<(&str, &Client, (u64, Hash))> {
        let mut out = Vec::new();
        let Some(lookup) = self.lookup else { return out };
        for log in self.logs.iter().filter(|l| l.root == root && l.target.major_api_version < 2) {
            let Some(client) = &log.client else { continue };
            match log.consistency.get_or_init(|| self.check(log, client, lookup)) {
                Ok(head) => out.push((log.target.url.as_str(), client, *head)),
                Err(problem) => {
                    let check = if problem.unknown { "lookup" } else { "log_consistency" };
                    found.unreachable |= problem.unknown;
                    found.notes.push(note(check, problem.message.clone()));
                }
            }
        }
        out
    }

    /// The monitor check of one log against the remembered checkpoint.
    fn check(
        &self,
        log: &LogState,
        client: &Client,
        lookup: &Lookup,
    ) -> Result<(u64, Hash), Problem> {
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
        monitor::check_log(client, url, &tlog.key, &lookup.state_dir)
            .map(|report| {
                let head = report.checkpoint.checkpoint();
                (head.size, head.root_hash)
            })
            .map_err(|e| {
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
                Problem {
                    message: format!("{url} {what}: {}", crate::error_text::chain(&e)),
                    unknown,
                }
            })
    }
}

/// The payload a log returns beside a `dsse` / `intoto` entry (`attestation.data`, when
/// it keeps attestations), from the `{entryID: LogEntry}` map.
fn attestation_of(map: &serde_json::Value) -> Option<Vec<u8>> {
    let entry = map.as_object()?.values().next()?;
    let data = entry.pointer("/attestation/data")?.as_str()?;
    crate::encoding::b64_decode(data)
}

/// Checks that an entry's inclusion-proof tree (size, root) is a state of the log whose
/// head the monitor verified: equal roots at equal sizes, else a consistency proof
/// (fetched with `proof(first, last)` → (root at last, hashes)) in whichever direction.
/// Entries with only a SET (no proof) have no tree state to compare and pass here.
///
/// Errors: a message naming both sizes and what failed.
pub(super) fn consistent_with_head(
    entry: &wire::TransparencyLogEntry,
    head: (u64, Hash),
    proof: impl Fn(u64, u64) -> Result<(Hash, Vec<Hash>), String>,
) -> Result<(), String> {
    let Some(p) = &entry.inclusion_proof else { return Ok(()) };
    let size = u64::try_from(p.tree_size).map_err(|_| "negative tree size".to_string())?;
    let root: Hash = p
        .root_hash
        .as_slice()
        .try_into()
        .map_err(|_| "its inclusion proof root is not 32 bytes".to_string())?;
    let (head_size, head_root) = head;
    let (small, small_root, large, large_root) = if size <= head_size {
        (size, root, head_size, head_root)
    } else {
        (head_size, head_root, size, root)
    };
    let fail = |why: String| {
        format!(
            "its checkpoint (tree size {size}, root {}) is not consistent with the monitored \
             head (tree size {head_size}, root {}): {why}",
            crate::encoding::hex_encode(root),
            crate::encoding::hex_encode(head_root)
        )
    };
    if small == large {
        return if small_root == large_root {
            Ok(())
        } else {
            Err(fail("different roots at the same size".into()))
        };
    }
    let (claimed, hashes) = proof(small, large).map_err(|e| fail(format!("no proof: {e}")))?;
    if claimed != large_root {
        return Err(fail(format!(
            "the log's proof is for root {} at size {large}",
            crate::encoding::hex_encode(claimed)
        )));
    }
    crate::tlog::verify_consistency(small, large, &hashes, &small_root, &large_root)
        .map_err(|e| fail(e.to_string()))
}

/// Rebuilds a v0.3 bundle from a log entry, the tlog entry being the log's answer:
/// * `hashedrekord` 0.0.1: the signature, digest and certificate (or key) of the body;
/// * `dsse` 0.0.1 and `intoto` 0.0.2: the envelope's one signature and its verifier from
///   the body, and the payload the log returned beside it (`attestation`), which the body
///   does not hold; the verifier then checks the payload hash against the body, the
///   signature over PAE(type, payload), and that the statement names the artifact.
///
/// Errors: a message naming what the entry lacks or why its kind cannot be checked.
pub(super) fn bundle_from_entry(
    logged: &LoggedEntry,
    attestation: Option<&[u8]>,
) -> Result<Checked, String> {
    let body = Body::parse(&logged.entry.canonicalized_body).map_err(|e| e.to_string())?;
    let mut material = wire::VerificationMaterial {
        tlog_entries: vec![logged.entry.clone()],
        ..Default::default()
    };
    let mut bundle = wire::Bundle { media_type: wire::MEDIA_TYPE_V03.into(), ..Default::default() };
    let (verifier_pem, kind) = match &body {
        Body::HashedRekordV001(record) => {
            let hash = &record.data.hash;
            let algorithm = crate::crypto::HashAlgorithm::from_name(&hash.algorithm)
                .ok_or_else(|| format!("unknown digest algorithm {:?}", hash.algorithm))?;
            let digest = crate::encoding::hex_decode(&hash.value)
                .and_then(|b| Digest::from_bytes(algorithm, b))
                .ok_or("bad digest in the body")?;
            bundle.message_signature = Some(wire::MessageSignature {
                message_digest: Some(wire::HashOutput {
                    algorithm: digest.algorithm().proto_name().into(),
                    digest: digest.as_bytes().to_vec().into(),
                }),
                signature: record.signature.content.clone(),
            });
            (record.signature.public_key.content.to_vec(), "hashedrekord")
        }
        Body::DsseV001(spec) => {
            let [only] = spec.signatures.as_slice() else {
                return Err(format!(
                    "a dsse entry with {} signatures (only one-signature envelopes are rebuilt)",
                    spec.signatures.len()
                ));
            };
            let sig = only.raw_signature().ok_or("the dsse signature is not base64")?;
            // The dsse body keeps no payload type; what is searchable by subject digest is
            // an in-toto statement.
            bundle.dsse_envelope =
                Some(envelope(attestation, "dsse", "application/vnd.in-toto+json", sig)?);
            (only.verifier.to_vec(), "dsse")
        }
        Body::IntotoV002(spec) => {
            let envelope_spec = &spec.content.envelope;
            let [only] = envelope_spec.signatures.as_slice() else {
                return Err(format!(
                    "an intoto entry with {} signatures (only one-signature envelopes are \
                     rebuilt)",
                    envelope_spec.signatures.len()
                ));
            };
            let sig = only.raw_signature().ok_or("the intoto signature is not base64")?;
            bundle.dsse_envelope =
                Some(envelope(attestation, "intoto", &envelope_spec.payload_type, sig)?);
            (only.public_key.to_vec(), "intoto")
        }
        other => {
            return Err(format!(
                "a {} {} entry cannot be checked by artifact digest",
                other.kind(),
                other.api_version()
            ))
        }
    };
    let pem = std::str::from_utf8(&verifier_pem)
        .map_err(|_| format!("the {kind} entry's key is not PEM text"))?;
    let (label, der) = pem_decode(pem).map_err(|e| format!("the logged key: {e}"))?;
    if label == "CERTIFICATE" {
        material.certificate = Some(wire::X509Certificate { raw_bytes: der.into() });
    } else {
        material.public_key = Some(wire::PublicKeyIdentifier { hint: String::new() });
    }
    bundle.verification_material = Some(material);
    Checked::try_from(bundle).map_err(|e| format!("the rebuilt bundle: {e}"))
}

/// A one-signature envelope around the payload the log returned.
fn envelope(
    attestation: Option<&[u8]>,
    kind: &str,
    payload_type: &str,
    sig: Vec<u8>,
) -> Result<wire::DsseEnvelope, String> {
    let payload = attestation.ok_or_else(|| {
        format!(
            "a {kind} entry: the log keeps no copy of its payload (no attestation storage), \
             so its signature cannot be checked without the bundle"
        )
    })?;
    Ok(wire::DsseEnvelope {
        payload: payload.to_vec().into(),
        payload_type: payload_type.to_string(),
        signatures: vec![wire::DsseSignature { sig: sig.into(), keyid: String::new() }],
    })
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
        let rebuilt = bundle_from_entry(&logged, None).unwrap();
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
            br#"{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{}}"#.to_vec().into();
        let why = bundle_from_entry(&logged, None).unwrap_err();
        assert!(why.contains("hashedrekord"), "{why}");
    }

    /// A real `cosign attest-blob` bundle whose entry is a dsse 0.0.1 body.
    fn dsse_entry() -> Option<(LoggedEntry, Bundle)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        for entry in walk(std::path::Path::new(dir)) {
            let Ok(bytes) = std::fs::read(&entry) else { continue };
            let Ok(bundle) = Bundle::from_json(&bytes) else { continue };
            let Some(tlog) =
                bundle.verification_material.as_ref().and_then(|m| m.tlog_entries.first())
            else {
                continue;
            };
            if bundle.dsse_envelope.is_some() && tlog.kind_version.kind == "dsse" {
                return Some((
                    LoggedEntry { entry_id: String::new(), entry: tlog.clone() },
                    bundle,
                ));
            }
        }
        None
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else if p.extension().is_some_and(|x| x == "json" || x == "sigstore") {
                out.push(p);
            }
        }
        out.sort();
        out
    }

    #[test]
    fn dsse_entries_need_the_payload_and_rebuild_the_envelope_with_it() {
        let Some((logged, original)) = dsse_entry() else {
            panic!("no dsse bundle among the fixtures")
        };
        let why = bundle_from_entry(&logged, None).unwrap_err();
        assert!(why.contains("no copy of its payload"), "{why}");
        let envelope = original.dsse_envelope.clone().unwrap();
        let rebuilt = bundle_from_entry(&logged, Some(&envelope.payload)).unwrap();
        let original = Checked::try_from(original).unwrap();
        assert_eq!(rebuilt.signature(), original.signature());
        assert_eq!(
            rebuilt.certificate().map(|c| c.der().to_vec()),
            original.certificate().map(|c| c.der().to_vec())
        );
    }

    #[test]
    fn an_entry_checkpoint_must_be_a_state_of_the_monitored_head() {
        use crate::tlog::{hash_leaf, MemoryNodeStore, NodeStore};
        let mut tree = MemoryNodeStore::new();
        let mut roots = Vec::new();
        for i in 0..8u8 {
            tree.append(hash_leaf(&[i])).unwrap();
            roots.push(tree.root());
        }
        let entry = |size: u64, root: Hash| wire::TransparencyLogEntry {
            inclusion_proof: Some(wire::InclusionProof {
                tree_size: size as i64,
                root_hash: root.to_vec().into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let proof = |a: u64, b: u64| {
            let hashes =
                crate::tlog::consistency_proof::<crate::tlog::Error>(a, b, |id| tree.node(id))
                    .map_err(|e| e.to_string())?;
            Ok((roots[b as usize - 1], hashes))
        };
        // Older and newer entry checkpoints of the same log are consistent.
        consistent_with_head(&entry(3, roots[2]), (8, roots[7]), proof).unwrap();
        consistent_with_head(&entry(8, roots[7]), (5, roots[4]), proof).unwrap();
        consistent_with_head(&entry(5, roots[4]), (5, roots[4]), proof).unwrap();
        // A forked root at the same size, or one no proof reaches, is refused.
        let forked = hash_leaf(b"fork");
        let why = consistent_with_head(&entry(5, forked), (5, roots[4]), proof).unwrap_err();
        assert!(why.contains("same size"), "{why}");
        let why = consistent_with_head(&entry(3, forked), (8, roots[7]), proof).unwrap_err();
        assert!(why.contains("not consistent with the monitored head"), "{why}");
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
