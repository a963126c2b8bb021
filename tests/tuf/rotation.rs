//! `sigbox up rotate ca|log|ct|tsa`: bundles signed before the rotation still verify, new ones
//! use the new key, the trusted root lists both keys (closed and open `validFor`), a
//! signature by the retired key made after the rotation is rejected, and sigstore-python
//! following the instance through TUF keeps working after `rotate ca`.

use std::path::Path;

use super::copy_dir;
use crate::harness::{Cmd, Sandbox};
use crate::up::instance::{sigstore_python, Up};

const IDENTITY: &str = "test-user@sigbox.local";

fn cosign(sb: &Sandbox, trust_config: &Path) -> Cmd {
    sb.sigbox().arg("cosign").env("SIGBOX_TRUST_CONFIG", trust_config)
}

fn sign(sb: &Sandbox, trust_config: &Path, name: &str) {
    sign_with(sb, trust_config, name, &[]);
}

fn sign_with(sb: &Sandbox, trust_config: &Path, name: &str, extra: &[&str]) {
    sb.write(name, format!("{name} contents\n"));
    cosign(sb, trust_config)
        .arg("sign-blob")
        .args(extra)
        .args(["--bundle", &format!("{name}.sigstore.json"), name])
        .succeeds();
}

fn verify(sb: &Sandbox, root: &Path, name: &str, issuer: &str) -> crate::harness::Run {
    sb.sigbox()
        .arg("verify")
        .arg("--trusted-root")
        .arg(root)
        .args(["--bundle", &format!("{name}.sigstore.json"), "--identity", IDENTITY])
        .args(["--issuer", issuer, name])
        .run()
}

pub(super) fn sigstore(sb: &Sandbox) -> Cmd {
    Cmd::new(sigstore_python())
        .cwd(sb.path())
        .env("HOME", sb.join("home"))
        .env("XDG_DATA_HOME", sb.join("home/data"))
        .env("XDG_CACHE_HOME", sb.join("home/cache"))
}

/// The whole rotation story for one key kind. `rejected` is what verifying a signature by
/// the retired key, made after the rotation, must say.
fn rotation(kind: &str, heading: &str, rejected: &str) {
    let sb = Sandbox::new();
    let state = sb.join("state");
    let up = Up::start(&state);
    let tuf_port: u16 = up.tuf_url.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap();
    let with_python = kind == "ca";
    let root = state.join("tuf/repo/root.json");
    if with_python {
        sigstore(&sb)
            .arg("--instance")
            .arg(&up.tuf_url)
            .arg("trust-instance")
            .arg(&root)
            .succeeds();
        sb.write("py-old.txt", "before rotation\n");
        let token = up.token(IDENTITY);
        sigstore(&sb)
            .args(["--instance", &up.tuf_url, "sign", "--identity-token", &token, "py-old.txt"])
            .succeeds();
    }
    sign(&sb, &up.trust_config(), "old.txt");
    let (ports, issuer) = (up.ports(), up.oidc_url.clone());
    // Stopped, the instance is rotated offline (live rotation: `live.rs`).
    up.stop();

    let rotated = sb.sigbox().args(["up", "rotate", kind, "--data-dir"]).arg(&state).succeeds();
    let out = rotated.stdout();
    assert!(out.contains("start the instance again"), "{out}");
    let at = out
        .strip_prefix("rotated at ")
        .and_then(|rest| rest.split(';').next())
        .and_then(parse_rfc3339)
        .unwrap_or_else(|| panic!("no rotation time in {out:?}"));
    let trusted_root = state.join("trusted_root.json");
    let shown = sb.sigbox().args(["trust", "show", "--trusted-root"]).arg(&trusted_root).succeeds();
    let text = shown.stdout();
    let section: Vec<&str> = text
        .split(heading)
        .nth(1)
        .unwrap_or_default()
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    // The retired key closed at the rotation, the new one (and, for tlogs, Rekor v2) open.
    let closed = section.iter().filter(|l| !l.ends_with("(open)")).count();
    assert_eq!(closed, 1, "one closed {kind} key expected:\n{text}");
    assert!(section.len() >= 2 && section[1].ends_with("(open)"), "{text}");

    let up = Up::start_on_with_tuf(&state, ports, tuf_port);
    sign(&sb, &up.trust_config(), "new.txt");
    for name in ["old.txt", "new.txt"] {
        verify(&sb, &up.trust_config(), name, &issuer).code(0);
    }
    if with_python {
        // sigstore-python refreshes through TUF: no reconfiguration.
        sb.write("py-new.txt", "after rotation\n");
        let token = up.token(IDENTITY);
        sigstore(&sb)
            .args(["--instance", &up.tuf_url, "sign", "--identity-token", &token, "py-new.txt"])
            .succeeds();
        for name in ["py-old.txt", "py-new.txt", "old.txt", "new.txt"] {
            sigstore(&sb)
                .args(["--instance", &up.tuf_url, "verify", "identity", "--cert-identity"])
                .args([IDENTITY, "--cert-oidc-issuer", &issuer, name])
                .succeeds();
        }
        // The new certificate chains to the new CA, not to the retired one.
        let chain = std::fs::read_to_string(state.join("fulcio/ca-chain.pem")).unwrap();
        let bundle: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sb.join("py-new.txt.sigstore.json")).unwrap())
                .unwrap();
        let leaf = bundle["verificationMaterial"]["certificate"]["rawBytes"].as_str().unwrap();
        openssl_verify(&sb, &chain, leaf).code(0);
        let retired = retired_dir(&state, kind);
        let old_chain = std::fs::read_to_string(retired.join("ca-chain.pem")).unwrap();
        openssl_verify(&sb, &old_chain, leaf).code(2);
    }
    up.stop();
    if rejected.is_empty() {
        return;
    }

    // A copy of the instance with the retired key put back signs after the rotation time.
    let forged = sb.join("forged");
    copy_dir(&state, &forged);
    let retired = retired_dir(&forged, kind);
    for entry in std::fs::read_dir(&retired).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let dest = match name.as_str() {
            "signer.key" => "rekor",
            n if n.starts_with("tsa-") => "tsa",
            _ => "fulcio",
        };
        std::fs::copy(entry.path(), forged.join(dest).join(entry.file_name())).unwrap();
    }
    std::fs::remove_file(forged.join("history.json")).unwrap();
    // Same ports: the log's checkpoint name (host:port) is that of the real instance.
    let up = Up::start_on(&forged, ports);
    // validFor ends are inclusive (whole seconds): sign once the clock is past the rotation.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while unix_now() <= at {
        assert!(std::time::Instant::now() < deadline, "the clock does not pass {at}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // A TSA's timestamp is the only time of a Rekor v2 entry (a v1 entry's SET would vouch
    // for the time on its own), so the retired TSA is tried on a v2 entry.
    let extra: &[&str] = if kind == "tsa" { &["--rekor-version", "2"] } else { &[] };
    sign_with(&sb, &up.trust_config(), "forged.txt", extra);
    verify(&sb, &up.trust_config(), "forged.txt", &up.oidc_url).code(0);
    let root_text = std::fs::read_to_string(&trusted_root).unwrap();
    let run = verify(&sb, &trusted_root, "forged.txt", &up.oidc_url);
    assert_eq!(run.output.status.code(), Some(1), "{root_text}\n{}", run.stdout());
    run.stderr_has(rejected);
}

/// The wall clock: the test waits on it, as a user would, for the rotation second to pass.
#[allow(clippy::disallowed_methods)]
fn unix_now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    since.as_secs() as i64
}

pub(super) fn parse_rfc3339(text: &str) -> Option<i64> {
    sigbox::encoding::parse_rfc3339(text)
}

fn retired_dir(state: &Path, kind: &str) -> std::path::PathBuf {
    std::fs::read_dir(state.join("retired"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&format!("{kind}-")))
        .unwrap()
}

/// openssl (an independent X.509 implementation) checks that `leaf_b64` chains to `chain`.
pub(super) fn openssl_verify(sb: &Sandbox, chain: &str, leaf_b64: &str) -> crate::harness::Run {
    if std::process::Command::new("openssl").arg("version").output().is_err() {
        panic!("openssl is missing: install the Debian package openssl");
    }
    let der = sigbox::encoding::b64_decode(leaf_b64).unwrap();
    let pem = sigbox::encoding::pem_encode("CERTIFICATE", &der);
    let leaf = sb.write("leaf.pem", pem);
    let ca = sb.write("ca.pem", chain);
    // The leaf lives 10 minutes; check at its issuance, with the chain as the trust store.
    Cmd::new("openssl")
        .args(["verify", "-partial_chain", "-purpose", "any", "-CAfile"])
        .arg(ca)
        .arg(leaf)
        .run()
}

#[test]
fn rotate_ca_keeps_old_bundles_and_sigstore_python_follows_through_tuf() {
    rotation("ca", "certificate authorities:", "does not chain to a trusted CA");
}

#[test]
fn rotate_log_keeps_old_bundles_and_rejects_the_retired_key() {
    rotation("log", "transparency logs:", "was not valid at");
}

#[test]
fn rotate_ct_keeps_old_bundles_and_rejects_the_retired_key() {
    rotation("ct", "certificate transparency logs:", "outside the log key validity");
}

#[test]
fn rotate_tsa_keeps_old_bundles_and_rejects_the_retired_key() {
    rotation("tsa", "timestamp authorities:", "timestamp");
}
