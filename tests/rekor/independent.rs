//! A live server's answers checked by code that shares nothing with sigbox:
//! `independent_check.py` (pyca `cryptography` + hashlib, written from the RFCs) verifies the
//! SET, the RFC 6962 inclusion proof, the checkpoint signature and a consistency proof, and
//! rejects each of them once tampered with.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use super::server::{client, hashedrekord, signer, RekorServer};

/// The clone's `.venv/bin/python`, installed by `make tools` (never from a test: two tests
/// installing at once would race on `.venv`).
fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(python.exists(), "{} is missing: run `make tools` (make test does)", python.display());
    python
}

/// Runs the script on `input`; returns (exit code, stdout).
fn run_check(dir: &Path, input: &Value) -> (i32, String) {
    let path = dir.join("input.json");
    std::fs::write(&path, serde_json::to_vec(input).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rekor/independent_check.py");
    let out = Command::new(python()).arg(script).arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

/// A change to the script's input that must make it fail.
type Tamper<'a> = Box<dyn Fn(&mut Value) + 'a>;

fn first_entry(map: &Value) -> &Value {
    map.as_object().unwrap().values().next().unwrap()
}

#[test]
fn rekor_entry_set_proofs_and_checkpoint_pass_an_independent_python_check() {
    let dir = tempfile::tempdir().unwrap();
    let server = RekorServer::start(&dir.path().join("data"), &[]);
    let http = client();
    let s = signer();
    let mut created = Vec::new();
    for i in 0..6 {
        let resp = http
            .post(server.at("/api/v1/log/entries"))
            .json(&hashedrekord(&s, format!("independent {i}").as_bytes()))
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201);
        created.push(resp.json::<Value>().unwrap());
    }
    let pem = http.get(server.at("/api/v1/log/publicKey")).send().unwrap().text().unwrap();
    // An old checkpoint (from the 201 of the second entry) and the current head.
    let old = &first_entry(&created[1])["verification"]["inclusionProof"];
    let (size1, root1) = (old["treeSize"].as_u64().unwrap(), old["rootHash"].clone());
    let head: Value = http.get(server.at("/api/v1/log")).send().unwrap().json().unwrap();
    let size2 = head["treeSize"].as_u64().unwrap();
    assert_eq!((size1, size2), (3, 7));
    let proof: Value = http
        .get(server.at(&format!("/api/v1/log/proof?firstSize={size1}&lastSize={size2}")))
        .send()
        .unwrap()
        .json()
        .unwrap();
    // Entry 4, read back (proof against the head) and as first answered (its batch's head).
    let read: Value =
        http.get(server.at("/api/v1/log/entries?logIndex=4")).send().unwrap().json().unwrap();
    let consistency = json!({"size1": size1, "root1": root1, "size2": size2,
                             "root2": head["rootHash"], "hashes": proof["hashes"]});
    for entry in [&read, &created[3], &created[0]] {
        let input = json!({"entry": entry, "publicKey": pem, "consistency": consistency});
        let (code, out) = run_check(dir.path(), &input);
        assert_eq!(code, 0, "{out}");
        assert!(out.starts_with("OK entry "), "{out}");
        assert!(out.contains(&format!("consistent {size1} -> {size2}")), "{out}");
    }

    // Each tampering is caught by the script.
    let base = json!({"entry": read, "publicKey": pem, "consistency": consistency});
    let id = read.as_object().unwrap().keys().next().unwrap().clone();
    let tampers: Vec<(&str, Tamper)> = vec![
        ("SET", Box::new(|v| v["entry"][&id]["integratedTime"] = json!(1))),
        (
            "inclusion",
            Box::new(|v| {
                let h = &mut v["entry"][&id]["verification"]["inclusionProof"]["hashes"][0];
                let s = h.as_str().unwrap();
                *h = json!(format!("{}{}", if s.starts_with('0') { "1" } else { "0" }, &s[1..]));
            }),
        ),
        (
            "checkpoint",
            Box::new(|v| {
                let cp = &mut v["entry"][&id]["verification"]["inclusionProof"]["checkpoint"];
                *cp = json!(cp.as_str().unwrap().replacen("\n7\n", "\n8\n", 1));
            }),
        ),
        (
            "consistency",
            Box::new(|v| v["consistency"]["root1"] = v["consistency"]["root2"].clone()),
        ),
    ];
    for (what, tamper) in tampers {
        let mut input = base.clone();
        tamper(&mut input);
        let (code, out) = run_check(dir.path(), &input);
        assert_eq!(code, 1, "tampered {what} passed: {out}");
        assert!(
            out.contains("FAILED") && out.to_lowercase().contains(&what.to_lowercase()),
            "{what}: {out}"
        );
    }
}
