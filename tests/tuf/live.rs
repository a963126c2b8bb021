//! `sigbox up rotate ca|log|ct|tsa` on a RUNNING instance: the instance switches to the new
//! key without a restart. For each kind: bundle A signed before, rotate, bundle B signed
//! after with the trust refreshed through the instance's TUF repository; both verify, B is
//! by the new key (judged by openssl for chains, SCTs and timestamps), A against a root
//! without the retired key fails naming the check, and A and B sit in one log whose
//! checkpoints are consistent. sigstore-python follows a live CA rotation through TUF. The
//! rotation socket is the owner's only, and clients signing while a key rotates get only
//! bundles that verify.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::rotation::{openssl_verify, parse_rfc3339, sigstore};
use crate::harness::{sigbox_bin, Cmd, Sandbox};
use crate::up::instance::Up;

const IDENTITY: &str = "test-user@sigbox.local";

/// sigbox with its TUF cache in the sandbox and no trust config: it trusts what
/// `sigbox trust init/update` fetched from the instance.
fn sigbox(sb: &Sandbox) -> Cmd {
    sb.sigbox().env("XDG_CACHE_HOME", sb.join("cache"))
}

fn sign(sb: &Sandbox, up: &Up, name: &str) -> Value {
    sb.write(name, format!("{name}: signed through TUF-fetched trust\n"));
    let bundle = format!("{name}.sigstore.json");
    sigbox(sb)
        .args(["cosign", "sign-blob", "--identity-token", &up.token(IDENTITY)])
        .args(["--bundle", &bundle, name])
        .succeeds();
    json(&sb.join(&bundle))
}

fn verify(sb: &Sandbox, up: &Up, root: Option<&Path>, name: &str) -> crate::harness::Run {
    let mut cmd = sigbox(sb).arg("verify");
    if let Some(root) = root {
        cmd = cmd.arg("--trusted-root").arg(root);
    }
    cmd.args(["--bundle", &format!("{name}.sigstore.json"), "--identity", IDENTITY])
        .args(["--issuer", &up.oidc_url, name])
        .run()
}

fn json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

fn valid_for(entry: &Value) -> &Value {
    if entry["validFor"].is_object() {
        &entry["validFor"]
    } else {
        &entry["publicKey"]["validFor"]
    }
}

/// The entries of `list` in the trusted root that `url` serves: (closed, open).
fn entries<'r>(root: &'r Value, list: &str, url: &str) -> (Vec<&'r Value>, Vec<&'r Value>) {
    let all: Vec<&Value> = root[list]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["baseUrl"].as_str().or(e["uri"].as_str()).unwrap_or("").starts_with(url))
        .collect();
    all.into_iter().partition(|e| valid_for(e).get("end").is_some())
}

fn b64(text: &str) -> Vec<u8> {
    sigbox::encoding::b64_decode(text).unwrap()
}

fn leaf(bundle: &Value) -> String {
    bundle["verificationMaterial"]["certificate"]["rawBytes"].as_str().unwrap().to_string()
}

fn chain_pem(entry: &Value) -> String {
    entry["certChain"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| sigbox::encoding::pem_encode("CERTIFICATE", &b64(c["rawBytes"].as_str().unwrap())))
        .collect()
}

fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("openssl is missing ({e}): install the Debian package openssl"))
}

/// The SCT log IDs openssl reads from a certificate (hex, lower case).
fn sct_log_ids(sb: &Sandbox, leaf_b64: &str) -> Vec<String> {
    let pem = sigbox::encoding::pem_encode("CERTIFICATE", &b64(leaf_b64));
    sb.write("sct-leaf.pem", pem);
    let out = openssl(sb.path(), &["x509", "-in", "sct-leaf.pem", "-noout", "-text"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut ids = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(first) = line.trim().strip_prefix("Log ID") else { continue };
        let mut hex = first.trim_start_matches([' ', ':']).to_string();
        for more in lines.by_ref() {
            if more.trim().starts_with("Timestamp") {
                break;
            }
            hex.push_str(more.trim());
        }
        ids.push(hex.replace(':', "").to_lowercase());
    }
    assert!(!ids.is_empty(), "openssl shows no SCT:\n{text}");
    ids
}

/// openssl's verdict on the bundle's RFC 3161 timestamp against a TSA chain (signing
/// certificate first, root last).
fn openssl_ts_verify(sb: &Sandbox, bundle: &Value, chain: &str) -> bool {
    let tsr = &bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
        ["signedTimestamp"];
    sb.write("ts.tsr", b64(tsr.as_str().expect("B carries an RFC 3161 timestamp")));
    sb.write("ts.sig", b64(bundle["messageSignature"]["signature"].as_str().unwrap()));
    let certs: Vec<&str> = chain.split_inclusive("-----END CERTIFICATE-----\n").collect();
    sb.write("ts-leaf.pem", certs[0]);
    sb.write("ts-root.pem", certs[certs.len() - 1]);
    let args = ["ts", "-verify", "-data", "ts.sig", "-in", "ts.tsr", "-CAfile", "ts-root.pem"];
    let out = openssl(sb.path(), &[&args[..], &["-untrusted", "ts-leaf.pem"]].concat());
    out.status.success()
}

/// A verifier's view of the tree at two bundles: the log's consistency proof between their
/// checkpoints' sizes verifies (one append-only log across the rotation).
fn assert_one_log(up: &Up, a: &Value, b: &Value) {
    let proof = |bundle: &Value| {
        let p = &bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"];
        let size: u64 = p["treeSize"].as_str().unwrap().parse().unwrap();
        let root: [u8; 32] = b64(p["rootHash"].as_str().unwrap()).try_into().unwrap();
        (size, root)
    };
    let ((size1, root1), (size2, root2)) = (proof(a), proof(b));
    assert!(size1 < size2, "B ({size2}) was logged after A ({size1}) in the same log");
    let url = format!("{}/api/v1/log/proof?firstSize={size1}&lastSize={size2}", up.rekor_url);
    let client = sigbox::http::blocking_client(Duration::from_secs(30)).unwrap();
    let answer: Value = client.get(&url).send().unwrap().json().unwrap();
    let hashes: Vec<[u8; 32]> = answer["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| sigbox::encoding::hex_decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
        .collect();
    sigbox::tlog::verify_consistency(size1, size2, &hashes, &root1, &root2)
        .expect("A's checkpoint (old key) and B's (new key) are of one append-only tree");
}

/// The whole live story for one kind. `list` is the trusted-root list of the key, `url`
/// what its entries' URL starts with, `rejected` what verifying A without the retired key
/// must name (one of).
fn live(kind: &str, list: &str, rejected: &[&str]) {
    let sb = Sandbox::new();
    let state = sb.join("state");
    let up = Up::start(&state);
    let url = match kind {
        "log" => up.rekor_url.clone(),
        "tsa" => up.tsa_url.clone(),
        _ => up.ca_url.clone(),
    };
    let tuf_root = state.join("tuf/repo/root.json");
    sigbox(&sb)
        .args(["trust", "init", "--mirror", &up.tuf_url, "--root"])
        .arg(&tuf_root)
        .succeeds();
    let python = kind == "ca";
    if python {
        sigstore(&sb)
            .arg("--instance")
            .arg(&up.tuf_url)
            .arg("trust-instance")
            .arg(&tuf_root)
            .succeeds();
        sb.write("py-a.txt", "python, before the rotation\n");
        let token = up.token(IDENTITY);
        sigstore(&sb)
            .args(["--instance", &up.tuf_url, "sign", "--identity-token", &token, "py-a.txt"])
            .succeeds();
    }
    let a = sign(&sb, &up, "a.txt");

    let rotated = sb.sigbox().args(["up", "rotate", kind, "--data-dir"]).arg(&state).succeeds();
    let out = rotated.stdout();
    assert!(out.contains("the running instance signs with the new key"), "{out}");
    let at = out
        .strip_prefix("rotated at ")
        .and_then(|rest| rest.split(';').next())
        .and_then(parse_rfc3339)
        .unwrap_or_else(|| panic!("no rotation time in {out:?}"));

    // The same process (no restart: same URLs, it stops cleanly at the end), the trust
    // refreshed through TUF, no reconfiguration.
    sigbox(&sb).args(["trust", "update"]).succeeds();
    let b = sign(&sb, &up, "b.txt");
    for name in ["a.txt", "b.txt"] {
        verify(&sb, &up, None, name).code(0);
    }

    // The trusted root: the retired key closed at T, the new one open from T.
    let root = json(&state.join("trusted_root.json"));
    let (closed, open) = entries(&root, list, &url);
    assert_eq!((closed.len(), open.len()), (1, 1), "{list}: {root:#}");
    let end = valid_for(closed[0])["end"].as_str().and_then(parse_rfc3339);
    let start = valid_for(open[0])["start"].as_str().and_then(parse_rfc3339);
    assert_eq!((end, start), (Some(at), Some(at)));

    // B is by the new key, A by the retired one.
    match kind {
        "ca" => {
            let (old, new) = (chain_pem(closed[0]), chain_pem(open[0]));
            openssl_verify(&sb, &new, &leaf(&b)).code(0);
            openssl_verify(&sb, &old, &leaf(&b)).code(2);
            openssl_verify(&sb, &old, &leaf(&a)).code(0);
        }
        "log" => {
            let key_id = |bundle: &Value| {
                bundle["verificationMaterial"]["tlogEntries"][0]["logId"]["keyId"].clone()
            };
            assert_eq!(key_id(&b), open[0]["logId"]["keyId"]);
            assert_eq!(key_id(&a), closed[0]["logId"]["keyId"]);
        }
        "ct" => {
            let hex = |entry: &Value| {
                sigbox::encoding::hex_encode(b64(entry["logId"]["keyId"].as_str().unwrap()))
            };
            assert_eq!(sct_log_ids(&sb, &leaf(&b)), vec![hex(open[0])]);
            assert_eq!(sct_log_ids(&sb, &leaf(&a)), vec![hex(closed[0])]);
        }
        _ => {
            let (old, new) = (chain_pem(closed[0]), chain_pem(open[0]));
            assert!(openssl_ts_verify(&sb, &b, &new), "B's timestamp is by the new TSA");
            assert!(!openssl_ts_verify(&sb, &b, &old), "B's timestamp is not by the old TSA");
            assert!(openssl_ts_verify(&sb, &a, &old), "A's timestamp is by the old TSA");
        }
    }

    // Without the retired key, A fails (naming the check) and B still verifies.
    let mut only_new = root.clone();
    let kept: Vec<Value> =
        root[list].as_array().unwrap().iter().filter(|e| !closed.contains(e)).cloned().collect();
    only_new[list] = Value::Array(kept);
    let only_new_path = sb.write("only-new.json", only_new.to_string());
    let run = verify(&sb, &up, Some(&only_new_path), "a.txt").code(1);
    let stderr = run.stderr();
    assert!(rejected.iter().any(|r| stderr.contains(r)), "A without the retired key: {stderr}");
    verify(&sb, &up, Some(&only_new_path), "b.txt").code(0);

    // One log before and after: A's and B's checkpoints are consistent.
    assert_one_log(&up, &a, &b);

    if python {
        sb.write("py-b.txt", "python, after the rotation\n");
        let token = up.token(IDENTITY);
        sigstore(&sb)
            .args(["--instance", &up.tuf_url, "sign", "--identity-token", &token, "py-b.txt"])
            .succeeds();
        for name in ["py-a.txt", "py-b.txt", "a.txt", "b.txt"] {
            sigstore(&sb)
                .args(["--instance", &up.tuf_url, "verify", "identity", "--cert-identity"])
                .args([IDENTITY, "--cert-oidc-issuer", &up.oidc_url, name])
                .succeeds();
        }
        let py_b = json(&sb.join("py-b.txt.sigstore.json"));
        openssl_verify(&sb, &chain_pem(open[0]), &leaf(&py_b)).code(0);
        openssl_verify(&sb, &chain_pem(closed[0]), &leaf(&py_b)).code(2);
    }
    up.stop();
}

#[test]
fn live_rotate_ca_switches_the_running_ca_and_sigstore_python_follows() {
    // A signed within the rotation's second is inside the new CA's validFor too: then the
    // chain is what fails.
    let rejected = ["no certificate authority in the trusted root is valid", "trusted CA"];
    live("ca", "certificateAuthorities", &rejected);
}

#[test]
fn live_rotate_log_switches_the_running_log_key_in_one_tree() {
    live("log", "tlogs", &["is not in the trusted root"]);
}

#[test]
fn live_rotate_ct_switches_the_running_ct_key() {
    live("ct", "ctlogs", &["no SCT is from a known CT log"]);
}

#[test]
fn live_rotate_tsa_switches_the_running_tsa() {
    live("tsa", "timestampAuthorities", &["not signed by any trusted timestamp authority"]);
}

/// The effective user ID (the owner of `/proc/self`).
fn euid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").unwrap().uid()
}

#[test]
fn live_rotation_socket_refuses_other_accounts() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    assert_eq!(
        euid(),
        0,
        "this test runs the command as the account nobody (setpriv, Debian package util-linux): \
         run it as root (CI does)"
    );
    let sb = Sandbox::new();
    let state = sb.join("state");
    let up = Up::start(&state);
    let socket = state.join("admin.sock");
    let meta = std::fs::metadata(&socket).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "admin.sock mode");
    assert_eq!(meta.uid(), euid());
    // Only the socket's own mode stands between nobody and the socket.
    for dir in [sb.path(), state.as_path()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let before = std::fs::read(state.join("trusted_root.json")).unwrap();
    Cmd::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(sigbox_bin())
        .args(["up", "rotate", "ca", "--data-dir"])
        .arg(&state)
        .run()
        .code(2)
        .stderr_has("permission denied: only the account that runs the instance");
    assert_eq!(std::fs::read(state.join("trusted_root.json")).unwrap(), before);
    // The owner may.
    sb.sigbox().args(["up", "rotate", "ca", "--data-dir"]).arg(&state).succeeds();
    assert_ne!(std::fs::read(state.join("trusted_root.json")).unwrap(), before);
    up.stop();
}

/// Clients sign continuously (each a `sigbox cosign sign-blob` process reading the
/// instance's trust config afresh) while `kind` rotates. Every bundle written verifies.
/// A client that read the trust config before the new key was published refuses the new
/// key's answer on its own (its check names the trusted root) and writes nothing: such
/// refusals are counted, and nothing else may fail.
fn concurrent(kind: &str) {
    const CLIENTS: usize = 3;
    let sb = Sandbox::new();
    let state = sb.join("state");
    let up = Up::start(&state);
    let token = up.token(IDENTITY);
    let stop = Arc::new(AtomicBool::new(false));
    // (name, started, finished, Ok(()) or Err(stderr)).
    type Outcome = (String, Instant, Instant, Result<(), String>);
    let results: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let dir = sb.path().to_path_buf();
    let trust_config = up.trust_config();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (stop, results, dir) = (stop.clone(), results.clone(), dir.clone());
            let (token, trust_config) = (token.clone(), trust_config.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let name = format!("c{c}-{i}.txt");
                    std::fs::write(dir.join(&name), format!("{name}\n")).unwrap();
                    let started = Instant::now();
                    let run = Cmd::new(sigbox_bin())
                        .cwd(&dir)
                        .env("SIGBOX_TRUST_CONFIG", &trust_config)
                        .args(["cosign", "sign-blob", "--identity-token", &token])
                        .args(["--bundle", &format!("{name}.sigstore.json"), &name])
                        .run();
                    let outcome =
                        if run.output.status.success() { Ok(()) } else { Err(run.stderr()) };
                    results.lock().unwrap().push((name, started, Instant::now(), outcome));
                    i += 1;
                }
            })
        })
        .collect();
    let successes_since = |since: Instant| {
        results.lock().unwrap().iter().filter(|r| r.1 > since && r.3.is_ok()).count()
    };
    let wait_for = |since: Instant, count: usize, what: &str| {
        let deadline = Instant::now() + Duration::from_secs(120);
        while successes_since(since) < count {
            assert!(Instant::now() < deadline, "no {count} signatures {what}: {:?}", results);
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let t0 = Instant::now();
    wait_for(t0, CLIENTS, "before the rotation");
    let rotating = Instant::now();
    sb.sigbox().args(["up", "rotate", kind, "--data-dir"]).arg(&state).succeeds();
    let rotated = Instant::now();
    wait_for(rotated, 2 * CLIENTS, "after the rotation");
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }

    let results = results.lock().unwrap();
    let root = state.join("trusted_root.json");
    let mut by_key = std::collections::BTreeSet::new();
    let mut refused = 0;
    for (name, started, finished, outcome) in results.iter() {
        match outcome {
            Ok(()) => {
                verify(&sb, &up, Some(&root), name).code(0);
                let bundle = json(&sb.join(&format!("{name}.sigstore.json")));
                let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
                by_key.insert(entry["logId"]["keyId"].to_string());
            }
            Err(stderr) => {
                // Only a client that overlapped the rotation may refuse, and only because its
                // trusted root did not list the key that answered.
                assert!(*started < rotated && *finished > rotating, "{name} failed: {stderr}");
                assert!(stderr.contains("trusted"), "{name} failed otherwise: {stderr}");
                refused += 1;
            }
        }
    }
    let signed = results.len() - refused;
    let took = (rotated - rotating).as_millis();
    eprintln!(
        "{kind}: {signed} bundles verified, {refused} refused by stale clients; \
         `sigbox up rotate` took {took} ms"
    );
    assert!(refused <= 2 * CLIENTS, "{refused} refusals for {CLIENTS} clients");
    if kind == "log" {
        assert_eq!(by_key.len(), 2, "bundles by both log keys: {by_key:?}");
    }
    up.stop();
}

#[test]
fn clients_signing_during_a_live_log_rotation_get_only_verifying_bundles() {
    concurrent("log");
}

#[test]
fn clients_signing_during_a_live_ca_rotation_get_only_verifying_bundles() {
    concurrent("ca");
}
