//! One target against its rule: gather bundles, verify each with `verify::verify`, keep
//! the signatures the rule accepts (listed signer, not denied, required evidence, age),
//! then decide the threshold and the required attestations.
//!
//! A bundle that fails is reported only when the rule is not met: one good signature is
//! enough when the threshold is 1, even if other bundles beside the file are stale.

use super::lookup::Logs;
use super::target::Target;
use super::verdict::{AcceptedSignature, Failure, Status, TargetVerdict};
use super::Engine;
use crate::bundle::{Checked, Content, Statement};
use crate::crypto::{digest, Digest, HashAlgorithm, PublicKey};
use crate::encoding::hex_encode;
use crate::policy::file::{match_threshold, Candidate, Rule, SignerKind};
use crate::policy::Policy;
use crate::verify::{self, Artifact, Options, SignerInfo};

/// Evaluates one target at time `now`.
pub(super) fn evaluate(
    engine: &Engine,
    target: &Target,
    options: &super::Options,
    logs: &Logs<'_>,
) -> TargetVerdict {
    let now = options.now;
    match target {
        Target::Image { display, reference } => {
            super::image::evaluate(engine, display, reference, options)
        }
        Target::Commit { display, repo, sha } => {
            super::commit::evaluate(engine, display, repo, sha, now, logs)
        }
        Target::Invalid { display, check, reason } => {
            let kind = if *check == "unsupported" { "unsupported" } else { "file" };
            let mut v = TargetVerdict::new(display, kind);
            v.status = Status::Error;
            v.fail(check, reason.clone());
            v
        }
        Target::File { display, path, bundles } => {
            let mut v = TargetVerdict::new(display, "file");
            let content = match read_artifact(path) {
                Ok(content) => content,
                Err(e) => {
                    v.status = Status::Error;
                    v.fail("io", format!("reading {display}: {e}"));
                    return v;
                }
            };
            let (sha256, artifact) = match &content {
                ArtifactData::Bytes(bytes) => {
                    (digest(HashAlgorithm::Sha256, bytes), Artifact::Bytes(bytes))
                }
                ArtifactData::Digest(d) => (d.clone(), Artifact::Digest(d.clone())),
            };
            let input = Input { path: Some(display), digest: &sha256, artifact };
            decide(engine, v, &input, bundles, now, logs)
        }
        Target::Digest { display, digest } => {
            let v = TargetVerdict::new(display, "digest");
            let input = Input { path: None, digest, artifact: Artifact::Digest(digest.clone()) };
            decide(engine, v, &input, &[], now, logs)
        }
    }
}

/// An artifact as read: whole, or (when large) only its SHA-256, streamed.
enum ArtifactData {
    Bytes(Vec<u8>),
    Digest(Digest),
}

/// Files up to this size are read whole (one-pass signature check); larger ones are
/// hashed as a stream so a batch of large artifacts does not fill memory.
const READ_WHOLE_LIMIT: u64 = 64 * 1024 * 1024;

fn read_artifact(path: &std::path::Path) -> std::io::Result<ArtifactData> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.len() <= READ_WHOLE_LIMIT {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::BufReader::new(file), &mut bytes)?;
        return Ok(ArtifactData::Bytes(bytes));
    }
    crate::crypto::digest_reader(HashAlgorithm::Sha256, std::io::BufReader::new(file))
        .map(ArtifactData::Digest)
        .map_err(std::io::Error::other)
}

struct Input<'a> {
    path: Option<&'a str>,
    digest: &'a Digest,
    artifact: Artifact<'a>,
}

/// A bundle to check and where it came from.
pub(super) struct Evidence {
    pub source: String,
    /// Only this root may verify it (log entries belong to their root's log).
    pub root: Option<usize>,
    pub bundle: Checked,
    /// What this bundle signs, when it is not the target's own artifact (an image
    /// signature's payload, an attestation's image digest).
    pub subject: Option<Subject>,
    /// A predicate type the verifier must insist on (cosign's DSSE image signatures).
    pub predicate_type: Option<String>,
}

/// What a piece of evidence signs, owned.
pub(super) enum Subject {
    /// The signed bytes.
    Bytes(Vec<u8>),
    /// A digest (DSSE subjects).
    Digest(Digest),
}

impl Evidence {
    /// Evidence about the target's own artifact.
    pub(super) fn plain(source: String, root: Option<usize>, bundle: Checked) -> Evidence {
        Evidence { source, root, bundle, subject: None, predicate_type: None }
    }
}

/// A verified signature that passed the signature-level checks.
pub(super) struct Verified {
    signature: AcceptedSignature,
    /// `issuer|SAN` or `key:<id>`: what makes two signers different people.
    identity_key: String,
    /// Signers (indices) it satisfies.
    signers: Vec<usize>,
    /// The in-toto predicate, for DSSE bundles.
    predicate: Option<(String, serde_json::Value)>,
}

fn decide(
    engine: &Engine,
    mut v: TargetVerdict,
    input: &Input<'_>,
    bundles: &[std::path::PathBuf],
    now: i64,
    logs: &Logs<'_>,
) -> TargetVerdict {
    let hex = input.digest.to_hex();
    v.digest = Some(format!("sha256:{hex}"));
    let Some(rule) = select_rule(engine, &mut v, input.path, Some(&hex), None) else {
        return v;
    };

    // Gather the evidence.
    let mut problems: Vec<Failure> = Vec::new();
    let mut evidence = Vec::new();
    let mut unreachable = false;
    for path in bundles {
        let source = path.display().to_string();
        match std::fs::read(path) {
            Ok(bytes) => match Checked::from_json(&bytes) {
                Ok(bundle) => evidence.push(Evidence::plain(source, None, bundle)),
                Err(e) => problems
                    .push(failure("bundle", format!("{source}: {}", crate::error_text::chain(&e)))),
            },
            Err(e) => problems.push(failure("io", format!("reading {source}: {e}"))),
        }
    }
    if bundles.is_empty() {
        if logs.enabled() {
            let found = logs.find(input.digest);
            unreachable = found.unreachable;
            if found.entries.is_empty() && found.searched > 0 {
                problems.push(failure(
                    "lookup",
                    format!("no signature for sha256:{hex} in the transparency log"),
                ));
            }
            problems.extend(found.notes);
            evidence.extend(
                found
                    .entries
                    .into_iter()
                    .map(|e| Evidence::plain(e.source, Some(e.root), e.bundle)),
            );
        } else {
            problems.push(failure(
                "bundle",
                "no bundle beside the artifact (FILE.sigstore.json, FILE.sigstore, FILE.bundle) \
                 and log lookup is off",
            ));
        }
    }

    // Verify each piece of evidence and apply the signature-level rules.
    let mut verified = Vec::new();
    for e in &evidence {
        match check_evidence(engine, rule, e, &input.artifact, now) {
            Ok(ok) => verified.push(ok),
            Err(f) => problems.push(f),
        }
    }
    judge(engine, v, rule, verified, problems, unreachable)
}

/// Picks the rule for a target and records it; `None` (with the failure recorded) when no
/// rule applies or the rule rejects everything it matches.
pub(super) fn select_rule<'e>(
    engine: &'e Engine,
    v: &mut TargetVerdict,
    path: Option<&str>,
    digest_hex: Option<&str>,
    image: Option<&str>,
) -> Option<&'e Rule> {
    let Some(rule) = engine.policy().rule_for(path, digest_hex, image) else {
        v.fail("rule", "no rule matches this target and the policy has no default");
        return None;
    };
    v.rule = Some(rule.name.clone());
    if rule.reject {
        v.fail("rule", format!("rule {:?} rejects every target it matches", rule.name));
        return None;
    }
    Some(rule)
}

/// The rule-level decision over the verified signatures: threshold over distinct signers
/// and identities, then the required attestations. `problems` are reported only when the
/// rule is not met; `unreachable` turns a failure with nothing verified into an error.
pub(super) fn judge(
    engine: &Engine,
    mut v: TargetVerdict,
    rule: &Rule,
    verified: Vec<Verified>,
    problems: Vec<Failure>,
    unreachable: bool,
) -> TargetVerdict {
    // Threshold over distinct signers and distinct identities.
    let candidates: Vec<Candidate> = verified
        .iter()
        .map(|s| Candidate {
            identity: s.identity_key.clone(),
            signers: s.signers.iter().copied().filter(|i| rule.signers.contains(i)).collect(),
        })
        .collect();
    let matched = match_threshold(&candidates);
    for (signer, identity) in &matched {
        if let Some(s) = verified.iter().find(|s| &s.identity_key == identity) {
            let mut accepted = s.signature.clone();
            accepted.signer = name(engine, *signer);
            v.signatures.push(accepted);
        }
    }
    let mut unmet = Vec::new();
    if matched.len() < rule.threshold {
        let names: Vec<String> = rule.signers.iter().map(|i| name(engine, *i)).collect();
        unmet.push(failure(
            "threshold",
            format!(
                "{} of the required {} distinct signers [{}] verified",
                matched.len(),
                rule.threshold,
                names.join(", ")
            ),
        ));
    }

    // Required attestations.
    for required in &rule.attestations {
        let mut reasons = Vec::new();
        let mut ok = false;
        for s in &verified {
            let Some((predicate_type, predicate)) = &s.predicate else { continue };
            if predicate_type != &required.predicate_type
                || !s.signers.iter().any(|i| required.signers.contains(i))
            {
                continue;
            }
            match required.constraints.iter().try_for_each(|c| c.check(predicate)) {
                Ok(()) => {
                    ok = true;
                    break;
                }
                Err(why) => reasons.push(format!("{}: {why}", s.signature.source)),
            }
        }
        if ok {
            v.attestations.push(required.predicate_type.clone());
        } else {
            let why = if reasons.is_empty() {
                String::new()
            } else {
                format!(": {}", reasons.join("; "))
            };
            unmet.push(failure(
                "attestation",
                format!("no accepted {} attestation{why}", required.predicate_type),
            ));
        }
    }

    if unmet.is_empty() {
        v.status = Status::Pass;
        return v;
    }
    v.failures.extend(unmet);
    v.failures.extend(problems);
    if unreachable && verified.is_empty() {
        v.status = Status::Error;
    }
    v
}

/// Verifies one bundle (each allowed root, each candidate key) and applies the
/// signature-level rules: listed signer, deny lists, evidence, age.
pub(super) fn check_evidence(
    engine: &Engine,
    rule: &Rule,
    e: &Evidence,
    artifact: &Artifact<'_>,
    now: i64,
) -> Result<Verified, Failure> {
    let interested = interested(rule);
    let artifact = match &e.subject {
        Some(Subject::Bytes(bytes)) => Artifact::Bytes(bytes),
        Some(Subject::Digest(d)) => Artifact::Digest(d.clone()),
        None => artifact.clone(),
    };
    let keys: Vec<Option<(usize, &PublicKey)>> = if e.bundle.certificate().is_some() {
        vec![None]
    } else {
        interested
            .iter()
            .filter_map(|&i| engine.keys.get(i).and_then(Option::as_ref).map(|k| Some((i, k))))
            .collect()
    };
    if keys.is_empty() {
        return Err(failure(
            "signer",
            format!("{}: signed with a key, and the rule lists no key signer", e.source),
        ));
    }
    let mut last_error = None;
    let mut outcome = None;
    'search: for (index, root) in engine.roots().iter().enumerate() {
        if e.root.is_some_and(|only| only != index) {
            continue;
        }
        for key in &keys {
            let options = Options {
                key: key.map(|(_, k)| k.clone()),
                predicate_type: e.predicate_type.clone(),
                ..Options::new(now)
            };
            match verify::verify(&e.bundle, &artifact, &root.root, &Policy::any(), &options) {
                Ok(verdict) => {
                    outcome = Some((verdict, root.name.clone(), *key));
                    break 'search;
                }
                Err(err) => last_error = Some(err),
            }
        }
    }
    let Some((verdict, root_name, key)) = outcome else {
        let why = last_error.map_or_else(
            || "no trusted root to check it".to_string(),
            |e| crate::error_text::chain(&e),
        );
        return Err(failure("verify", format!("{}: {why}", e.source)));
    };
    let key_id = match (e.bundle.certificate(), key) {
        (Some(cert), _) => hex_encode(cert.public_key().key_id()),
        (None, Some((_, k))) => hex_encode(k.key_id()),
        (None, None) => String::new(),
    };
    let log_uuid = e
        .bundle
        .tlog_entries()
        .first()
        .map(|entry| hex_encode(crate::tlog::hash_leaf(&entry.canonicalized_body)));
    let predicate = match e.bundle.content() {
        Content::Dsse { payload, .. } => {
            Statement::from_json(payload).ok().map(|s| (s.predicate_type, s.predicate))
        }
        Content::MessageSignature { .. } => None,
    };
    let signed = Signed {
        source: e.source.clone(),
        verdict,
        root_name,
        key: key.map(|(i, _)| i),
        key_id,
        log_uuid,
        predicate,
    };
    accept(engine, rule, signed, now)
}

/// The signers a rule cares about: its own and its attestations'.
fn interested(rule: &Rule) -> Vec<usize> {
    let mut interested: Vec<usize> = rule.signers.clone();
    for a in &rule.attestations {
        interested.extend(a.signers.iter().copied().filter(|i| !rule.signers.contains(i)));
    }
    interested
}

/// A signature the verifier accepted, with what the rule checks need.
pub(super) struct Signed {
    /// Where it came from, for messages.
    pub source: String,
    /// The verifier's verdict.
    pub verdict: verify::Verdict,
    /// The policy's name of the root it chained to.
    pub root_name: String,
    /// The key signer (index) whose key verified it, for key signatures.
    pub key: Option<usize>,
    /// Hex key ID of the signing key (deny lists).
    pub key_id: String,
    /// Hex leaf hash of its log entry (deny lists).
    pub log_uuid: Option<String>,
    /// The in-toto predicate, for DSSE bundles.
    pub predicate: Option<(String, serde_json::Value)>,
}

/// The signature-level rules on a verified signature: a listed signer, the deny lists,
/// the required evidence and the signing-time window.
pub(super) fn accept(
    engine: &Engine,
    rule: &Rule,
    s: Signed,
    now: i64,
) -> Result<Verified, Failure> {
    let policy = engine.policy();
    let interested = interested(rule);
    let Signed { source, verdict, root_name, key, key_id, log_uuid, predicate } = s;

    // Who signed.
    let sans: Vec<String> = verdict
        .identity
        .as_ref()
        .map(|i| i.subject_alt_names().iter().map(|s| s.value().to_string()).collect())
        .unwrap_or_default();
    let (serial, issuer) = match &verdict.signer {
        SignerInfo::Certificate { serial, issuer, .. } => (Some(serial.clone()), issuer.clone()),
        SignerInfo::Key { .. } => (None, None),
    };
    if let Some(reason) = policy.denied(&sans, serial.as_deref(), &key_id, log_uuid.as_deref()) {
        return Err(failure("deny", format!("{}: {reason}", source)));
    }
    let signers: Vec<usize> = interested
        .iter()
        .copied()
        .filter(|&i| match policy.signers.get(i).map(|s| &s.kind) {
            Some(SignerKind::Identity(p)) => {
                verdict.identity.as_ref().is_some_and(|id| p.check(id).is_ok())
            }
            Some(SignerKind::Key { .. }) => key == Some(i),
            None => false,
        })
        .collect();
    let identity = match &verdict.signer {
        SignerInfo::Certificate { identity, .. } => identity.clone().unwrap_or_default(),
        SignerInfo::Key { key_id } => format!("key:{key_id}"),
    };
    if signers.is_empty() {
        let names: Vec<String> = interested.iter().map(|i| name(engine, *i)).collect();
        let issuer_text = issuer.as_deref().map(|i| format!(" (issuer {i})")).unwrap_or_default();
        return Err(failure(
            "signer",
            format!(
                "{}: signed by {identity}{issuer_text}, which is none of [{}]",
                source,
                names.join(", ")
            ),
        ));
    }

    // Evidence and age.
    let has = |source: &str| verdict.verified_times.iter().any(|t| t.source == source);
    if rule.require_tlog && verdict.tlog.is_none() {
        return Err(failure("require", format!("{}: no verified transparency log entry", source)));
    }
    if rule.require_timestamp && !has("timestamp") {
        return Err(failure("require", format!("{}: no verified RFC 3161 timestamp", source)));
    }
    let signed_at = verdict.verified_times.iter().map(|t| t.time).min();
    if let (Some(max_age), Some(t)) = (rule.max_age, signed_at) {
        if now.saturating_sub(t) > max_age {
            return Err(failure(
                "max_age",
                format!(
                    "{}: signed {} seconds ago, more than max_age {max_age} seconds",
                    source,
                    now.saturating_sub(t)
                ),
            ));
        }
    }
    if let (Some(not_before), Some(t)) = (rule.not_before, signed_at) {
        if t < not_before {
            return Err(failure(
                "not_before",
                format!("{}: signed at {t}, before not_before {not_before}", source),
            ));
        }
    }
    if (rule.max_age.is_some() || rule.not_before.is_some()) && signed_at.is_none() {
        return Err(failure("max_age", format!("{}: no verified signing time", source)));
    }

    let identity_key = match &issuer {
        Some(issuer) => format!("{issuer}|{identity}"),
        None => identity.clone(),
    };
    Ok(Verified {
        signature: AcceptedSignature {
            signer: String::new(),
            identity,
            issuer,
            source: source.to_string(),
            signed_at,
            root: root_name,
        },
        identity_key,
        signers,
        predicate,
    })
}

fn name(engine: &Engine, index: usize) -> String {
    engine.policy().signers.get(index).map_or_else(|| format!("#{index}"), |s| s.name.clone())
}

pub(super) fn failure(check: &'static str, message: impl Into<String>) -> Failure {
    Failure { check, message: message.into() }
}
