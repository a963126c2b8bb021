//! `humbly policy explain`: what a compiled policy accepts, in plain words, one line per
//! fact, in the order the verifier applies them.

use super::check::{Compiled, ConstraintCheck, Rule, SignerKind};
use super::model::Embedded;

/// The policy in words.
pub fn explain(policy: &Compiled) -> String {
    let mut out = Vec::new();
    if policy.roots.is_empty() {
        out.push(
            "Trusted roots: the verifier's default instance (--trusted-root, \
                  SIGBOX_TRUST_CONFIG, else the public-good root)."
                .to_string(),
        );
    } else {
        out.push("Trusted roots (a signature may chain to any of them):".to_string());
        for root in &policy.roots {
            let source =
                match (&root.spec.embedded, &root.spec.trusted_root, &root.spec.trust_config) {
                    (Some(Embedded::PublicGood), _, _) => {
                        "the embedded public-good root".to_string()
                    }
                    (_, Some(path), _) => format!("trusted root file {path}"),
                    (_, _, Some(path)) => format!("trust config {path}"),
                    _ => "nothing".to_string(),
                };
            let logs = root
                .spec
                .rekor_urls
                .as_ref()
                .map(|u| format!("; searched by digest at {}", u.join(", ")))
                .unwrap_or_default();
            out.push(format!("  - {}: {source}{logs}", root.name));
        }
    }
    out.push("Signers:".to_string());
    for signer in &policy.signers {
        let what = match &signer.kind {
            SignerKind::Identity(p) => format!("a certificate with {}", p.describe()),
            SignerKind::Key { path } => format!("the key in {path}"),
        };
        out.push(format!("  - {}: {what}", signer.name));
    }
    let deny = &policy.deny;
    let lists = [
        ("identities", &deny.identities),
        ("certificate serials", &deny.serials),
        ("key IDs", &deny.key_ids),
        ("log entries", &deny.log_entries),
    ];
    for (what, list) in lists {
        if !list.is_empty() {
            out.push(format!("Denied {what} (always rejected): {}", list.join(", ")));
        }
    }
    out.push("Rules (the first whose selectors all match decides):".to_string());
    for rule in &policy.rules {
        out.push(describe_rule(policy, rule));
    }
    match &policy.default {
        Some(rule) => out.push(describe_rule(policy, rule)),
        None => out.push("  - otherwise: the target is rejected (no rule matches)".to_string()),
    }
    out.join("\n") + "\n"
}

fn describe_rule(policy: &Compiled, rule: &Rule) -> String {
    let mut selectors = Vec::new();
    if let Some(glob) = &rule.glob_source {
        selectors.push(format!("paths matching {glob}"));
    }
    if let Some(image) = &rule.image {
        selectors.push(format!("images in {image}"));
    }
    if let Some(digest) = &rule.digest {
        selectors.push(format!("the artifact sha256:{digest}"));
    }
    let head = if selectors.is_empty() {
        format!("  - otherwise (rule {:?})", rule.name)
    } else {
        format!("  - rule {:?}: {}", rule.name, selectors.join(" and "))
    };
    if rule.reject {
        return format!("{head}: always rejected");
    }
    let names = |list: &[usize]| {
        list.iter()
            .filter_map(|i| policy.signers.get(*i).map(|s| s.name.clone()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lines = vec![format!(
        "{head}: needs {} of [{}], each a different identity",
        rule.threshold,
        names(&rule.signers)
    )];
    let mut evidence = Vec::new();
    if rule.require_tlog {
        evidence.push("a verified transparency log entry");
    }
    if rule.require_timestamp {
        evidence.push("a verified RFC 3161 timestamp");
    }
    if !evidence.is_empty() {
        lines.push(format!("      each signature must carry {}", evidence.join(" and ")));
    }
    if let Some(age) = rule.max_age {
        lines.push(format!("      signed at most {} before verification", duration(age)));
    }
    if let Some(t) = rule.not_before {
        let when = time::OffsetDateTime::from_unix_timestamp(t)
            .ok()
            .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_else(|| t.to_string());
        lines.push(format!("      signed no earlier than {when}"));
    }
    for a in &rule.attestations {
        lines.push(format!(
            "      with a {} attestation signed by one of [{}]",
            a.predicate_type,
            names(&a.signers)
        ));
        for c in &a.constraints {
            let check = match &c.check {
                ConstraintCheck::Equals(v) => format!("equal to {v}"),
                ConstraintCheck::Regex(m) => format!("a string matching {m}"),
                ConstraintCheck::OneOf(all) => format!(
                    "one of [{}]",
                    all.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                ),
            };
            lines.push(format!("        where {} is {check}", c.pointer));
        }
    }
    lines.join("\n")
}

/// `90 days`, `12 hours`, `30 minutes`, else seconds.
fn duration(seconds: i64) -> String {
    for (unit, name) in [(604_800, "weeks"), (86_400, "days"), (3600, "hours"), (60, "minutes")] {
        if seconds >= unit && seconds % unit == 0 {
            return format!("{} {name}", seconds / unit);
        }
    }
    format!("{seconds} seconds")
}
