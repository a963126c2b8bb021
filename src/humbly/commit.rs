//! Commit targets (`git:RANGE`): each commit's gitsign signature is checked by the gitsign
//! verifier (`git::verify`, which builds a bundle and goes through THE verifier) against
//! each trusted root the policy names, then the rule's signer lists, deny lists, evidence
//! and age apply to the commit's certificate as they do to a bundle's.
//!
//! Offline-mode signatures carry their log entry; online-mode ones are found in the root's
//! Rekor v1 logs (after the monitor's consistency check), so they need log lookups on.

use std::path::Path;

use super::evaluate::{self, failure, Signed};
use super::lookup::{consistent_with_head, Found, Logs};
use super::verdict::{Failure, Status, TargetVerdict};
use super::Engine;
use crate::encoding::hex_encode;
use crate::git::object::{self, Kind};
use crate::git::verify::{find_entry, verify_offline, verify_online, Check, Signature};
use crate::git::RekorMode;
use crate::policy::Policy;

/// Evaluates one commit.
pub(super) fn evaluate(
    engine: &Engine,
    display: &str,
    repo: &Path,
    sha: &str,
    now: i64,
    logs: &Logs<'_>,
) -> TargetVerdict {
    let mut v = TargetVerdict::new(display, "commit");
    let raw = match crate::git::repo::cat_file(repo, Kind::Commit, sha) {
        Ok(raw) => raw,
        Err(e) => {
            v.status = Status::Error;
            v.fail("io", crate::error_text::chain(&e));
            return v;
        }
    };
    let Some(rule) = evaluate::select_rule(engine, &mut v, Some(display), None, None) else {
        return v;
    };
    let (payload, armored) = match object::split(Kind::Commit, &raw) {
        Ok(parts) => parts,
        Err(e) => {
            v.fail("signature", format!("commit {sha}: {}", crate::error_text::chain(&e)));
            return v;
        }
    };
    let Some(armored) = armored else {
        v.fail("signature", format!("commit {sha} is not signed"));
        return v;
    };
    let sig = match Signature::from_armored(&armored) {
        Ok(sig) => sig,
        Err(e) => {
            v.fail("signature", format!("commit {sha}: {}", crate::error_text::chain(&e)));
            return v;
        }
    };
    let mut found = Found::default();
    let mut verified = Vec::new();
    match check(engine, &payload, &sig, sha, now, logs, &mut found) {
        Ok(signed) => match evaluate::accept(engine, rule, signed, now) {
            Ok(ok) => verified.push(ok),
            Err(f) => found.notes.push(f),
        },
        Err(f) => found.notes.push(f),
    }
    evaluate::judge(engine, v, rule, verified, found.notes, found.unreachable)
}

/// Verifies the signature against each root until one accepts it.
fn check(
    engine: &Engine,
    payload: &[u8],
    sig: &Signature,
    sha: &str,
    now: i64,
    logs: &Logs<'_>,
    found: &mut Found,
) -> Result<Signed, Failure> {
    let source = |mode: RekorMode| format!("commit {sha} ({} mode)", mode.name());
    let mode = sig.mode().map_err(|e| failure("signature", crate::error_text::chain(&e)))?;
    if mode == RekorMode::Online && !logs.enabled() {
        return Err(failure(
            "lookup",
            format!("{}: its log entry is only in the log, and log lookup is off", source(mode)),
        ));
    }
    let leaf = sig.leaf().map_err(|e| failure("signature", crate::error_text::chain(&e)))?;
    let key_id = hex_encode(leaf.public_key().key_id());
    let any = Policy::any();
    let mut last = None;
    for (index, root) in engine.roots().iter().enumerate() {
        let check = Check { payload, root: &root.root, policy: &any, now };
        let results = match mode {
            RekorMode::Offline => vec![verify_offline(&check, sig)],
            RekorMode::Online => {
                let mut results = Vec::new();
                for (url, client, head) in logs.clients(index, found) {
                    // The entry's own checkpoint must be a state of the monitored log.
                    let entry = find_entry(client, payload, sig).and_then(|e| {
                        match consistent_with_head(&e.entry, head, |a, b| {
                            client.consistency_proof(a, b).map_err(|e| crate::error_text::chain(&e))
                        }) {
                            Ok(()) => Ok(e),
                            Err(problem) => {
                                found.notes.push(failure(
                                    "log_consistency",
                                    format!("{url} entry {}: {problem}", e.entry.log_index),
                                ));
                                Err(crate::git::Error::NoLogEntry)
                            }
                        }
                    });
                    results.push(verify_online(&check, sig, || entry));
                }
                results
            }
        };
        for result in results {
            match result {
                Ok(verdict) => {
                    let log_uuid = match mode {
                        RekorMode::Offline => sig
                            .embedded_entry()
                            .ok()
                            .flatten()
                            .filter(|e| !e.canonicalized_body.is_empty())
                            .map(|e| hex_encode(crate::tlog::hash_leaf(&e.canonicalized_body))),
                        RekorMode::Online => None,
                    };
                    return Ok(Signed {
                        source: source(mode),
                        verdict,
                        root_name: root.name.clone(),
                        key: None,
                        key_id,
                        log_uuid,
                        predicate: None,
                    });
                }
                Err(e) => last = Some(e),
            }
        }
    }
    Err(match last {
        Some(e) => failure("verify", format!("{}: {}", source(mode), crate::error_text::chain(&e))),
        None => failure("verify", format!("{}: no trusted root or log to check it", source(mode))),
    })
}
