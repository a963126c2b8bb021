//! The CA: its keys and chain (encrypted with a passphrase) and its CT log, backed up from a
//! `sigbox up` instance's CA data, restored, checked, and served again by `fulcio-server`
//! with the same tree; an online backup through the running CA's admin socket.

use std::process::Command;

use serde_json::Value;

use super::{log_cmd, Server};
use crate::harness::{Cmd, Sandbox};
use crate::up::instance::Up;

const PASSPHRASE: &str = "correct horse battery staple";

fn public_key_of(path: &std::path::Path) -> sigbox::crypto::PublicKey {
    let pem = std::fs::read_to_string(path).unwrap();
    sigbox::crypto::signer_from_pem(&pem, None).unwrap().public_key().clone()
}

#[test]
fn ca_keys_chain_and_ct_log_back_up_encrypted_and_restore_to_the_same_tree() {
    let sb = Sandbox::new();
    let state = sb.join("state");
    let up = Up::start(&state);
    let cosign = sb.link("cosign");
    for i in 0..3 {
        let name = format!("a{i}.txt");
        sb.write(&name, format!("ca backup {i}\n"));
        Cmd::new(&cosign)
            .cwd(sb.path())
            .env("SIGBOX_TRUST_CONFIG", up.trust_config())
            .args(["sign-blob", "--bundle", &format!("a{i}.sigstore.json"), &name])
            .succeeds();
    }
    // The running instance's log backs up online through its admin socket.
    let rekor_backup = sb.join("rekor.backup");
    log_cmd()
        .args(["backup", "--data-dir"])
        .arg(state.join("rekor"))
        .arg("--to")
        .arg(&rekor_backup)
        .succeeds()
        .stdout_has("(online (admin socket))");
    up.stop();
    let ca = state.join("fulcio");

    let backup = sb.join("ca.backup");
    let run = log_cmd()
        .args(["backup", "--include-keys", "--encrypt-keys", "--data-dir"])
        .arg(&ca)
        .arg("--to")
        .arg(&backup)
        .env("SIGBOX_BACKUP_PASSPHRASE", PASSPHRASE)
        .succeeds()
        .stderr_has("(encrypted)")
        .stdout_has("(offline)");
    let words: Vec<String> = run.stdout().split_whitespace().map(str::to_string).collect();
    let (size, root) = (words[2].parse::<u64>().unwrap(), words[7].clone());
    assert!(size >= 3, "one precertificate per signature: {}", run.stdout());
    // No private key is in the file in clear.
    let bytes = std::fs::read(&backup).unwrap();
    for key in ["ca-intermediate.key", "ca-root.key", "ct.key"] {
        let pem = std::fs::read_to_string(ca.join(key)).unwrap();
        let body = pem.lines().nth(1).unwrap();
        assert!(!bytes.windows(body.len()).any(|w| w == body.as_bytes()), "{key} in clear");
    }

    // Without the passphrase the keys cannot be restored, and nothing is left behind.
    let refused = sb.join("refused");
    log_cmd()
        .arg("restore")
        .arg(&backup)
        .arg("--data-dir")
        .arg(&refused)
        .fails_with(2)
        .stderr_has("passphrase");
    assert!(!refused.exists());
    log_cmd()
        .arg("restore")
        .arg(&backup)
        .arg("--data-dir")
        .arg(&refused)
        .env("SIGBOX_BACKUP_PASSPHRASE", "wrong")
        .fails_with(2)
        .stderr_has("ca-root.key");

    let restored = sb.join("restored");
    log_cmd()
        .arg("restore")
        .arg(&backup)
        .arg("--data-dir")
        .arg(&restored)
        .env("SIGBOX_BACKUP_PASSPHRASE", PASSPHRASE)
        .succeeds()
        .stdout_has(&format!("restored {size} ct entries"));
    assert_eq!(
        std::fs::read(restored.join("ca-chain.pem")).unwrap(),
        std::fs::read(ca.join("ca-chain.pem")).unwrap()
    );
    for key in ["ca-intermediate.key", "ca-root.key", "ct.key"] {
        assert_eq!(public_key_of(&restored.join(key)), public_key_of(&ca.join(key)), "{key}");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(restored.join(key)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
    log_cmd()
        .args(["fsck", "--data-dir"])
        .arg(&restored)
        .succeeds()
        .stdout_has(&format!("ok: {size} entries"));

    // fulcio-server on the restored CA: same CT tree, same CA chain.
    let config = sb.write("oidc.json", r#"{"OIDCIssuers": {}}"#);
    let config = config.to_str().unwrap();
    let server = Server::start(
        "fulcio-server",
        &restored,
        "127.0.0.1:0",
        &["--config", config, "--verify-on-start"],
    );
    let http = crate::rekor::server::client();
    let sth: Value = http.get(server.at("/ct/v1/get-sth")).send().unwrap().json().unwrap();
    assert_eq!(sth["tree_size"].as_u64(), Some(size));
    let sth_root = sigbox::encoding::b64_decode(sth["sha256_root_hash"].as_str().unwrap()).unwrap();
    assert_eq!(sigbox::encoding::hex_encode(sth_root), root);
    // An online backup through the running CA's admin socket cuts at the same tree.
    let online = sb.join("online.backup");
    log_cmd()
        .args(["backup", "--data-dir"])
        .arg(&restored)
        .arg("--to")
        .arg(&online)
        .succeeds()
        .stdout_has(&format!("backed up {size} ct entries at root {root} (online"));
    server.stop();
    let again = sb.join("again");
    let out = Command::new(crate::harness::sigbox_bin())
        .args(["log", "restore"])
        .arg(&online)
        .arg("--data-dir")
        .arg(&again)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Without --include-keys only the public files travel.
    assert!(again.join("ca-chain.pem").exists() && again.join("ct.pub").exists());
    assert!(!again.join("ca-intermediate.key").exists());
}
