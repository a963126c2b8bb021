//! `sigbox up --tiles`: both logs of the local instance publish tiles; entries written by a
//! real client (the cosign persona's keyless `sign-blob`, to Rekor v1 and v2) are in the
//! exported entry bundles, and the independent reader accepts both directories.

use std::path::Path;
use std::process::Command;

use sigbox::encoding::b64_decode;
use sigbox::rekor::{service, LogVersion};

use super::{published_size, read_tiles, wait_for_size};
use crate::harness::process::Process;
use crate::harness::{Cmd, Sandbox};

/// The entry at `index` in the entry bundles of `dir` (a tree of `size`).
fn bundled_entry(dir: &Path, index: u64, size: u64) -> Vec<u8> {
    let tile = index / 256;
    let width = (size - tile * 256).min(256) as u16;
    let bytes = std::fs::read(dir.join(sigbox::tlog::entries_path(tile, width))).unwrap();
    let mut at = 0;
    for _ in 0..index % 256 {
        at += 2 + usize::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]));
    }
    let len = usize::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]));
    bytes[at + 2..at + 2 + len].to_vec()
}

#[test]
fn up_with_tiles_publishes_both_logs_with_the_entries_cosign_wrote() {
    let sb = Sandbox::new();
    let state = sb.join("state");
    let mut command = Command::new(env!("CARGO_BIN_EXE_sigbox"));
    command.arg("up").arg("--data-dir").arg(&state).arg("--tiles");
    for port in ["--fulcio-port", "--rekor-port", "--oidc-port", "--rekor-v2-port", "--tsa-port"] {
        command.args([port, "0"]);
    }
    command.args(["--tuf-port", "0"]);
    let mut up = Process::spawn(command, None);
    up.wait_for(|line| line.trim() == "ready");

    let link = sb.link("cosign");
    let cosign = || {
        Cmd::new(&link).cwd(sb.path()).env("SIGBOX_TRUST_CONFIG", state.join("trust_config.json"))
    };
    sb.write("a.txt", "published as a static tile\n");
    cosign().args(["sign-blob", "--bundle", "v1.sigstore.json", "a.txt"]).succeeds();
    cosign()
        .args(["sign-blob", "--rekor-version", "2", "--bundle", "v2.sigstore.json", "a.txt"])
        .succeeds();

    for (bundle, log, version) in [
        ("v1.sigstore.json", "rekor", LogVersion::V1),
        ("v2.sigstore.json", "rekor-v2", LogVersion::V2),
    ] {
        let bundle: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sb.join(bundle)).unwrap()).unwrap();
        let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
        let index: u64 = entry["logIndex"].as_str().unwrap().parse().unwrap();
        let body = b64_decode(entry["canonicalizedBody"].as_str().unwrap()).unwrap();
        let tiles = state.join("tiles").join(log);
        wait_for_size(&tiles, index + 1);
        let size = published_size(&tiles);
        assert_eq!(bundled_entry(&tiles, index, size), body, "{log}: entry {index}");
        let key = service::load_key(&state.join(log).join("signer.key"), version).unwrap();
        let read = read_tiles(&tiles, &key.public_key().to_pem())
            .unwrap_or_else(|e| panic!("reader on {log}: {e}"));
        assert_eq!(read["size"].as_u64(), Some(size), "{log}");
    }
    assert!(up.terminate(), "sigbox up did not stop cleanly:\n{}", up.log());
}
