//! Table-driven negative tests: every file in `fixtures/bundle/negative/` is a tampered
//! bundle plus what to verify it with, and the check that must reject it (`expect`, the
//! `verify::Error` variant name, `bundle:<variant>` for a shape error, or `OK`).
//! Adding a case is adding a file.

use serde_json::Value;

use super::*;
use crate::policy::Matcher;

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bundle/negative")
}

/// Runs one case; returns the outcome as `OK`, a variant name or `bundle:<variant>`.
fn outcome(case: &Value) -> String {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let bundle_json = serde_json::to_vec(&case["bundle"]).unwrap();
    let bundle = match Checked::from_json(&bundle_json) {
        Ok(bundle) => bundle,
        Err(e) => return format!("bundle:{}", variant(&format!("{e:?}"))),
    };
    let root = match case.get("trusted_root").filter(|v| !v.is_null()) {
        Some(root) => TrustedRoot::from_json(root.to_string().as_bytes()).unwrap(),
        None => TrustedRoot::public_good().unwrap(),
    };
    let mut policy = Policy::any();
    if let Some(identity) = case["policy"]["identity"].as_str() {
        policy = policy.with_identity(Matcher::exact(identity));
    }
    if let Some(issuer) = case["policy"]["issuer"].as_str() {
        policy = policy.with_issuer(Matcher::exact(issuer));
    }
    let spec = &case["artifact"];
    let mut bytes = Vec::new();
    let artifact = if let Some(file) = spec["file"].as_str() {
        bytes = std::fs::read(fixtures.join(file)).unwrap();
        if let Some(at) = spec["flip_byte"].as_u64() {
            bytes[usize::try_from(at).unwrap()] ^= 1;
        }
        Artifact::Bytes(&bytes)
    } else if let Some(b64) = spec["base64"].as_str() {
        bytes = crate::encoding::b64_decode(b64).unwrap();
        Artifact::Bytes(&bytes)
    } else if let Some(text) = spec["digest"].as_str() {
        let hex = text.strip_prefix("sha256:").unwrap();
        let d =
            Digest::from_bytes(HashAlgorithm::Sha256, crate::encoding::hex_decode(hex).unwrap());
        Artifact::Digest(d.unwrap())
    } else {
        Artifact::Omitted
    };
    match verify(&bundle, &artifact, &root, &policy, &Options::new(1_767_225_600)) {
        Ok(_) => "OK".to_string(),
        Err(e) => {
            let _ = &bytes;
            variant(&format!("{e:?}"))
        }
    }
}

fn variant(debug: &str) -> String {
    debug.split(|c: char| !c.is_alphanumeric()).next().unwrap_or_default().to_string()
}

#[test]
fn every_negative_fixture_is_rejected_by_its_named_check() {
    let mut files: Vec<_> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "only {} negative fixtures", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let case: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let want = case["expect"].as_str().unwrap().to_string();
        let got = outcome(&case);
        if got != want {
            failures.push(format!("{}: want {want}, got {got}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
