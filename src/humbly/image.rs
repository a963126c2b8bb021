//! Image targets: the reference is resolved to its manifest digest, the signatures (and,
//! when the rule requires attestations, the attestations) stored for that digest are read
//! the way `cosign verify` reads them (`oci::store::candidates`: legacy `.sig`/`.att` tags
//! and OCI 1.1 referrers), each is turned into a bundle by `oci::verify::prepare`, and the
//! bundles go through the same evidence checks as file targets (THE verifier, then the
//! rule's signer lists, deny lists, evidence, age, threshold, attestations).
//!
//! Rules select images by repository (`match: {image: registry/namespace/name}`).

use super::evaluate::{self, failure, Evidence, Subject};
use super::verdict::{Status, TargetVerdict};
use super::{Engine, Options};
use crate::oci::layout::Kind;
use crate::oci::store::{candidates, RegistryStore};
use crate::oci::Reference;
use crate::verify::Artifact;

/// Evaluates one image target.
pub(super) fn evaluate(
    engine: &Engine,
    display: &str,
    reference: &Reference,
    options: &Options,
) -> TargetVerdict {
    let mut v = TargetVerdict::new(display, "image");
    let error = |mut v: TargetVerdict, check: &'static str, message: String| {
        v.status = Status::Error;
        v.fail(check, message);
        v
    };
    let Some(client) = options.registry.as_deref() else {
        return error(v, "registry", format!("{display}: no registry client for image targets"));
    };
    let image_digest = match reference.digest() {
        Some(d) => d.to_string(),
        None => match client.head_manifest(reference) {
            Ok(Some(found)) => found.digest,
            Ok(None) => return error(v, "registry", format!("image {reference} not found")),
            Err(e) => {
                return error(
                    v,
                    "registry",
                    format!("resolving {reference}: {}", crate::error_text::chain(&e)),
                )
            }
        },
    };
    let digest = match crate::oci::verify::parse_digest(&image_digest) {
        Ok(d) => d,
        Err(e) => return error(v, "registry", format!("{reference}: {e}")),
    };
    v.digest = Some(image_digest.clone());
    let repository = reference.repository_name();
    let Some(rule) = evaluate::select_rule(
        engine,
        &mut v,
        None,
        Some(digest.to_hex().as_str()),
        Some(&repository),
    ) else {
        return v;
    };

    let store = RegistryStore { client, repo: reference.clone() };
    let mut kinds = vec![Kind::Signature];
    if !rule.attestations.is_empty() {
        kinds.push(Kind::Attestation);
    }
    let mut problems = Vec::new();
    let mut evidence = Vec::new();
    for kind in kinds {
        let found = match candidates(&store, &image_digest, kind, Some(&repository)) {
            Ok(found) => found,
            Err(e) => {
                return error(
                    v,
                    "registry",
                    format!(
                        "reading the {} of {reference}: {}",
                        what(kind),
                        crate::error_text::chain(&e)
                    ),
                )
            }
        };
        if found.is_empty() {
            problems.push(failure(
                "bundle",
                format!("no {} stored for {repository}@{image_digest}", what(kind)),
            ));
        }
        for candidate in &found {
            let source = format!("{} {}", what(kind), candidate.source());
            let prepared = match crate::oci::verify::prepare(candidate, kind) {
                Ok(p) => p,
                Err(why) => {
                    problems.push(failure("bundle", format!("{source}: {why}")));
                    continue;
                }
            };
            if let Err(why) = prepared.claims(&image_digest, true) {
                problems.push(failure("claims", format!("{source}: {why}")));
                continue;
            }
            let predicate_type = prepared.required_predicate(kind);
            let subject = match prepared.artifact(&digest) {
                Artifact::Bytes(_) => Subject::Bytes(prepared.payload.clone()),
                _ => Subject::Digest(digest.clone()),
            };
            evidence.push(Evidence {
                source,
                root: None,
                bundle: prepared.bundle,
                subject: Some(subject),
                predicate_type,
            });
        }
    }
    let mut verified = Vec::new();
    for e in &evidence {
        match evaluate::check_evidence(engine, rule, e, &Artifact::Omitted, options.now) {
            Ok(ok) => verified.push(ok),
            Err(f) => problems.push(f),
        }
    }
    evaluate::judge(engine, v, rule, verified, problems, false)
}

fn what(kind: Kind) -> &'static str {
    match kind {
        Kind::Signature => "signatures",
        Kind::Attestation => "attestations",
    }
}
