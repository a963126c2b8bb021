//! Cross-checks a parsed policy file and compiles it into [`Compiled`]: signer names
//! resolved to indices, thresholds checked against the signer lists, identity matchers
//! built, selectors ready. Every problem is reported with its position, all at once.

use serde_json::Value;

use super::locate::locate;
use super::model::{PolicyFile, Requirement, RootSpec, RuleSpec, SignerSpec};
use super::{Diagnostic, Error};
use crate::policy::{Extension, Matcher, Policy};

/// A checked policy, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// Trusted roots by name, in name order (empty: the caller's default instance).
    pub roots: Vec<Root>,
    /// Signers; rules refer to them by index.
    pub signers: Vec<Signer>,
    /// Revocations.
    pub deny: Deny,
    /// Rules in file order (first match wins).
    pub rules: Vec<Rule>,
    /// The rule for targets no rule matches.
    pub default: Option<Rule>,
    /// Non-fatal findings (`humbly policy check` prints them).
    pub warnings: Vec<Diagnostic>,
}

/// A named trusted root source.
#[derive(Debug, Clone)]
pub struct Root {
    /// Its name in the file.
    pub name: String,
    /// Where it comes from.
    pub spec: RootSpec,
}

/// A named signer.
#[derive(Debug, Clone)]
pub struct Signer {
    /// Its name in the file.
    pub name: String,
    /// What it accepts.
    pub kind: SignerKind,
}

/// A certificate identity or a public key.
#[derive(Debug, Clone)]
pub enum SignerKind {
    /// A Fulcio certificate whose identity, issuer and extensions match.
    Identity(Policy),
    /// A key file (path relative to the policy file; read by the caller).
    Key {
        /// The path as written.
        path: String,
    },
}

/// Revocations, normalized to lowercase hex without leading zeros for serials.
#[derive(Debug, Clone, Default)]
pub struct Deny {
    /// Denied SANs.
    pub identities: Vec<String>,
    /// Denied certificate serials (hex, no leading zeros).
    pub serials: Vec<String>,
    /// Denied key IDs (hex SHA-256 of SPKI).
    pub key_ids: Vec<String>,
    /// Denied log entries: 64-hex UUIDs (an 80-hex entry ID is reduced to its UUID).
    pub log_entries: Vec<String>,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Rule name (`default` for the default rule).
    pub name: String,
    /// Path glob selector.
    pub glob: Option<regex::Regex>,
    /// Glob as written (for explain).
    pub glob_source: Option<String>,
    /// Image repository selector.
    pub image: Option<String>,
    /// Digest selector (lowercase hex).
    pub digest: Option<String>,
    /// Accepted signers (indices into [`Compiled::signers`]).
    pub signers: Vec<usize>,
    /// Distinct signers needed.
    pub threshold: usize,
    /// Each accepted signature needs a verified tlog entry.
    pub require_tlog: bool,
    /// Each accepted signature needs a verified RFC 3161 timestamp.
    pub require_timestamp: bool,
    /// Maximum signature age in seconds.
    pub max_age: Option<i64>,
    /// Earliest accepted signing time (Unix seconds).
    pub not_before: Option<i64>,
    /// Required attestations.
    pub attestations: Vec<Attestation>,
    /// Reject every target this rule selects.
    pub reject: bool,
}

/// A required attestation.
#[derive(Debug, Clone)]
pub struct Attestation {
    /// in-toto predicate type.
    pub predicate_type: String,
    /// Who may sign it (indices).
    pub signers: Vec<usize>,
    /// Field constraints.
    pub constraints: Vec<Constraint>,
}

/// A constraint on a predicate field.
#[derive(Debug, Clone)]
pub struct Constraint {
    /// RFC 6901 pointer.
    pub pointer: String,
    /// The check.
    pub check: ConstraintCheck,
}

/// How a predicate field is checked.
#[derive(Debug, Clone)]
pub enum ConstraintCheck {
    /// JSON equality.
    Equals(Value),
    /// A string matching a whole-string regex.
    Regex(Matcher),
    /// Equal to one of these.
    OneOf(Vec<Value>),
}

impl Constraint {
    /// Checks the predicate. Errors: a message naming the pointer, the value and the
    /// expectation.
    pub fn check(&self, predicate: &Value) -> Result<(), String> {
        let got = predicate.pointer(&self.pointer);
        let ok = match (&self.check, got) {
            (_, None) => false,
            (ConstraintCheck::Equals(want), Some(got)) => want == got,
            (ConstraintCheck::Regex(m), Some(got)) => got.as_str().is_some_and(|s| m.matches(s)),
            (ConstraintCheck::OneOf(all), Some(got)) => all.contains(got),
        };
        if ok {
            return Ok(());
        }
        let got = got.map_or_else(|| "nothing".to_string(), Value::to_string);
        Err(match &self.check {
            ConstraintCheck::Equals(want) => format!("{} is {got}, not {want}", self.pointer),
            ConstraintCheck::Regex(m) => {
                format!("{} is {got}, which does not match {m}", self.pointer)
            }
            ConstraintCheck::OneOf(all) => {
                let all: Vec<String> = all.iter().map(Value::to_string).collect();
                format!("{} is {got}, not one of [{}]", self.pointer, all.join(", "))
            }
        })
    }
}

impl Compiled {
    /// The rule for a target: the first rule whose selectors all match, else the default.
    /// `path` uses `/` separators; `digest_hex` is the SHA-256; `image` the repository.
    pub fn rule_for(
        &self,
        path: Option<&str>,
        digest_hex: Option<&str>,
        image: Option<&str>,
    ) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|rule| {
                rule.glob.as_ref().map_or(true, |g| path.is_some_and(|p| g.is_match(p)))
                    && rule.digest.as_ref().map_or(true, |d| digest_hex == Some(d.as_str()))
                    && rule.image.as_ref().map_or(true, |i| image == Some(i.as_str()))
            })
            .or(self.default.as_ref())
    }

    /// A denial reason for a verified signature, if any list names it.
    pub fn denied(
        &self,
        sans: &[String],
        serial_hex: Option<&str>,
        key_id_hex: &str,
        log_uuid: Option<&str>,
    ) -> Option<String> {
        if let Some(san) = sans.iter().find(|s| self.deny.identities.contains(s)) {
            return Some(format!("identity {san} is denied"));
        }
        if let Some(serial) = serial_hex.map(normalize_serial) {
            if self.deny.serials.contains(&serial) {
                return Some(format!("certificate serial {serial} is denied"));
            }
        }
        if self.deny.key_ids.iter().any(|k| k == key_id_hex) {
            return Some(format!("key {key_id_hex} is denied"));
        }
        if let Some(uuid) = log_uuid.filter(|u| self.deny.log_entries.iter().any(|d| d == u)) {
            return Some(format!("log entry {uuid} is denied"));
        }
        None
    }
}

/// Compiles a parsed file; `text` is used only to point at problems.
pub(super) fn compile(file: PolicyFile, text: &str) -> Result<Compiled, Error> {
    let mut errors = Vec::new();
    let mut err = |path: &[&str], message: String| {
        let (line, column) = locate(text, path);
        errors.push(Diagnostic { line, column, message });
    };
    if file.version != 1 {
        err(&["version"], format!("unsupported version {}: only version 1 exists", file.version));
    }
    let mut roots = Vec::new();
    for (name, spec) in &file.trusted_roots {
        let sources =
            [spec.embedded.is_some(), spec.trusted_root.is_some(), spec.trust_config.is_some()];
        if sources.iter().filter(|s| **s).count() != 1 {
            err(
                &["trusted_roots", name],
                format!(
                    "trusted root {name:?} needs exactly one of embedded, trusted_root, \
                     trust_config"
                ),
            );
        }
        roots.push(Root { name: name.clone(), spec: spec.clone() });
    }
    let mut signers = Vec::new();
    for (name, spec) in &file.signers {
        match compile_signer(spec) {
            Ok(kind) => signers.push(Signer { name: name.clone(), kind }),
            Err((key, message)) => {
                err(&["signers", name, key], format!("signer {name:?}: {message}"));
                signers
                    .push(Signer { name: name.clone(), kind: SignerKind::Identity(Policy::any()) });
            }
        }
    }
    let index = |name: &str| signers.iter().position(|s| s.name == name);
    let mut used = vec![false; signers.len()];
    let mut rules = Vec::new();
    let mut seen = Vec::new();
    for (i, spec) in file.rules.iter().enumerate() {
        let label = spec.name.clone().unwrap_or_else(|| format!("#{}", i + 1));
        let Some(name) = spec.name.clone() else {
            err(&["rules"], format!("rule {label} has no name"));
            continue;
        };
        if seen.contains(&name) {
            err(&["rules", &name], format!("rule name {name:?} is used twice"));
        }
        seen.push(name.clone());
        let selector = spec.selector.clone().unwrap_or_default();
        if selector.glob.is_none() && selector.image.is_none() && selector.digest.is_none() {
            err(&["rules", &name], format!("rule {name:?} needs match: glob, image or digest"));
        }
        let rule = compile_rule(spec, &name, &index, &mut used, &mut |path, message| {
            let mut full = vec!["rules", name.as_str()];
            full.extend_from_slice(path);
            err(&full, message)
        });
        rules.push(rule);
    }
    let default = file.default.as_ref().map(|spec| {
        if spec.selector.is_some() {
            err(&["default", "match"], "the default rule takes no match".into());
        }
        compile_rule(spec, "default", &index, &mut used, &mut |path, message| {
            let mut full = vec!["default"];
            full.extend_from_slice(path);
            err(&full, message)
        })
    });
    let deny = Deny {
        identities: file.deny.identities.clone(),
        serials: file.deny.serials.iter().map(|s| normalize_serial(&s.0)).collect(),
        key_ids: file.deny.key_ids.iter().map(|s| s.0.clone()).collect(),
        log_entries: file
            .deny
            .log_entries
            .iter()
            .map(|s| s.0.get(s.0.len().saturating_sub(64)..).unwrap_or(&s.0).to_string())
            .collect(),
    };
    if errors.is_empty() {
        let mut warnings = Vec::new();
        for (signer, used) in signers.iter().zip(&used) {
            if !used {
                let (line, column) = locate(text, &["signers", &signer.name]);
                warnings.push(Diagnostic {
                    line,
                    column,
                    message: format!("signer {:?} is not used by any rule", signer.name),
                });
            }
        }
        if rules.is_empty() && default.is_none() {
            warnings.push(Diagnostic {
                line: 1,
                column: 1,
                message: "no rules and no default: every target will fail".into(),
            });
        }
        return Ok(Compiled { roots, signers, deny, rules, default, warnings });
    }
    errors.sort_by_key(|d| (d.line, d.column));
    Err(Error::Invalid(errors))
}

fn compile_signer(spec: &SignerSpec) -> Result<SignerKind, (&'static str, String)> {
    let has_identity_fields = spec.identity.is_some()
        || spec.identity_regex.is_some()
        || spec.issuer.is_some()
        || spec.issuer_regex.is_some()
        || spec.github.is_some()
        || !spec.extensions.is_empty();
    if let Some(path) = &spec.public_key {
        if has_identity_fields {
            return Err(("public_key", "a public_key signer takes no identity fields".into()));
        }
        return Ok(SignerKind::Key { path: path.clone() });
    }
    let mut policy = Policy::any();
    policy = match (&spec.identity, &spec.identity_regex) {
        (Some(_), Some(_)) => {
            return Err(("identity_regex", "give identity or identity_regex, not both".into()))
        }
        (Some(exact), None) => policy.with_identity(Matcher::exact(exact.clone())),
        (None, Some(regex)) => policy.with_identity(regex.0.clone()),
        (None, None) => {
            return Err(("", "needs identity or identity_regex (or public_key)".into()))
        }
    };
    policy = match (&spec.issuer, &spec.issuer_regex) {
        (Some(_), Some(_)) => {
            return Err(("issuer_regex", "give issuer or issuer_regex, not both".into()))
        }
        (Some(exact), None) => policy.with_issuer(Matcher::exact(exact.clone())),
        (None, Some(regex)) => policy.with_issuer(regex.0.clone()),
        (None, None) => return Err(("", "needs issuer or issuer_regex".into())),
    };
    if let Some(github) = &spec.github {
        let claims = [
            (Extension::GithubWorkflowRepository, &github.repository),
            (Extension::GithubWorkflowRef, &github.git_ref),
            (Extension::GithubWorkflowName, &github.workflow),
            (Extension::GithubWorkflowTrigger, &github.trigger),
            (Extension::GithubWorkflowSha, &github.sha),
            (Extension::Fulcio(11), &github.runner_environment),
        ];
        for (extension, value) in claims {
            if let Some(value) = value {
                policy = policy.with_extension(extension, value.clone());
            }
        }
    }
    for (oid, value) in &spec.extensions {
        let extension = Extension::from_oid(oid).ok_or((
            "extensions",
            format!(
                "{oid:?} is not a Fulcio string extension (1.3.6.1.4.1.57264.1.N, N in 2-6 or \
                 9-24; the issuer is matched with issuer)"
            ),
        ))?;
        policy = policy.with_extension(extension, value.clone());
    }
    Ok(SignerKind::Identity(policy))
}

fn compile_rule(
    spec: &RuleSpec,
    name: &str,
    index: &dyn Fn(&str) -> Option<usize>,
    used: &mut [bool],
    err: &mut dyn FnMut(&[&str], String),
) -> Rule {
    let mut resolve = |names: &[String], what: &str, err: &mut dyn FnMut(&[&str], String)| {
        let mut out = Vec::new();
        for signer in names {
            match index(signer) {
                Some(i) => {
                    if let Some(u) = used.get_mut(i) {
                        *u = true;
                    }
                    if !out.contains(&i) {
                        out.push(i);
                    }
                }
                None => err(&[what, signer], format!("rule {name:?}: unknown signer {signer:?}")),
            }
        }
        out
    };
    let signers = resolve(&spec.signers, "signers", err);
    if signers.is_empty() && !spec.reject {
        err(&["signers"], format!("rule {name:?} lists no signers (use reject: true to deny)"));
    }
    let threshold = spec.threshold.unwrap_or(1);
    if threshold == 0 {
        err(&["threshold"], format!("rule {name:?}: threshold must be at least 1"));
    } else if !spec.reject && threshold > spec.signers.len() {
        err(
            &["threshold"],
            format!(
                "rule {name:?}: threshold {threshold} is more than its {} signer(s)",
                spec.signers.len()
            ),
        );
    }
    let mut attestations = Vec::new();
    for a in &spec.attestations {
        let who = if a.signers.is_empty() {
            signers.clone()
        } else {
            resolve(&a.signers, "attestations", err)
        };
        let mut constraints = Vec::new();
        for c in &a.constraints {
            let checks = [c.equals.is_some(), c.regex.is_some(), c.one_of.is_some()];
            if checks.iter().filter(|x| **x).count() != 1 {
                err(
                    &["attestations", "constraints", &c.pointer.0],
                    format!(
                        "constraint on {:?} needs exactly one of equals, regex, one_of",
                        c.pointer.0
                    ),
                );
                continue;
            }
            let check = match (&c.equals, &c.regex, &c.one_of) {
                (Some(v), _, _) => ConstraintCheck::Equals(v.clone()),
                (_, Some(r), _) => ConstraintCheck::Regex(r.0.clone()),
                (_, _, Some(all)) => ConstraintCheck::OneOf(all.clone()),
                _ => continue,
            };
            constraints.push(Constraint { pointer: c.pointer.0.clone(), check });
        }
        attestations.push(Attestation {
            predicate_type: a.predicate_type.clone(),
            signers: who,
            constraints,
        });
    }
    let selector = spec.selector.clone().unwrap_or_default();
    Rule {
        name: name.to_string(),
        glob: selector.glob.as_ref().map(|g| g.regex.clone()),
        glob_source: selector.glob.map(|g| g.source),
        image: selector.image,
        digest: selector.digest.map(|d| d.0),
        signers,
        threshold,
        require_tlog: spec.require.contains(&Requirement::Tlog),
        require_timestamp: spec.require.contains(&Requirement::Timestamp),
        max_age: spec.max_age.map(|d| d.0),
        not_before: spec.not_before.map(|t| t.0),
        attestations,
        reject: spec.reject,
    }
}

/// Lowercase hex without leading zeros (serials are written with or without them).
fn normalize_serial(hex: &str) -> String {
    let lower: String = hex.chars().filter(|c| *c != ':').collect::<String>().to_lowercase();
    let trimmed = lower.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.to_string()
    }
}
