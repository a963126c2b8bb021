//! Test-only generator of `fixtures/bundle/negative/*.json`: one file per tampering, each
//! naming the check that must reject it (see that folder's README).
//!
//! Most cases change one field of a real vector. Cases that need a valid signature over a
//! time or certificate no real vector has (signing time outside the certificate, missing
//! SCT) come from a private instance built here: its own CA, CT log and Rekor-style log
//! keys, a single-leaf tree, a real SET and a real checkpoint. Regenerate with
//! `cargo test --test tests fixture_gen -- --ignored`. It lives with the tests, not in
//! `src/`: it makes fixtures and is no part of the product.

use serde_json::{json, Value};

use sigbox::crypto::{digest, EcdsaP256Signer, HashAlgorithm, Signer};
use sigbox::encoding::{b64_decode, b64_encode};
use sigbox::tlog::{self, Checkpoint};
use sigbox::x509::{self, Certificate, LeafName, LeafProfile, LeafTbs};

const GITHUB_ID: &str =
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
const EMAIL_ISSUER: &str = "https://github.com/login/oauth";

fn read(path: &str) -> Vec<u8> {
    let full = format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("reading {full}: {e}"))
}

fn read_json(path: &str) -> Value {
    serde_json::from_slice(&read(path)).unwrap()
}

/// Flips the lowest bit of byte `at` of a base64 field.
fn flip_b64(value: &mut Value, at: usize) {
    let mut bytes = b64_decode(value.as_str().unwrap()).unwrap();
    let i = at.min(bytes.len() - 1);
    bytes[i] ^= 1;
    *value = Value::String(b64_encode(bytes));
}

fn entry(bundle: &mut Value) -> &mut Value {
    &mut bundle["verificationMaterial"]["tlogEntries"][0]
}

fn github_case(desc: &str, expect: &str, message: &str, mutate: impl FnOnce(&mut Value)) -> Value {
    let mut bundle = read_json("bundle/valid/bundle_v3_github.whl.sigstore");
    mutate(&mut bundle);
    json!({
        "desc": desc,
        "bundle": bundle,
        "artifact": {"file": "bundle/valid/bundle_v3_github.whl"},
        "policy": {"identity": GITHUB_ID, "issuer": GITHUB_ISSUER},
        "expect": expect,
        "message": message,
    })
}

fn with_root(mut case: Value, mutate: impl FnOnce(&mut Value)) -> Value {
    let mut root = read_json("trust/trusted_root.json");
    mutate(&mut root);
    case["trusted_root"] = root;
    case
}

/// Rewrites the checkpoint signature line of the github bundle's proof.
fn edit_checkpoint_signature(bundle: &mut Value, edit: impl FnOnce(&mut Vec<u8>)) {
    let envelope = &mut entry(bundle)["inclusionProof"]["checkpoint"]["envelope"];
    let text = envelope.as_str().unwrap().to_string();
    let (body, sig_line) = text.rsplit_once("\n\n").unwrap();
    let mut parts: Vec<&str> = sig_line.trim_end().splitn(3, ' ').collect();
    let mut blob = b64_decode(parts[2]).unwrap();
    edit(&mut blob);
    let encoded = b64_encode(blob);
    parts[2] = &encoded;
    *envelope = Value::String(format!("{body}\n\n{}\n", parts.join(" ")));
}

fn cases() -> Vec<(&'static str, Value)> {
    let mut out = vec![
        ("artifact-byte", {
            let mut case = github_case(
                "one byte of the artifact changed",
                "ArtifactMismatch",
                "does not match the bundle messageDigest",
                |_| {},
            );
            case["artifact"]["flip_byte"] = json!(100);
            case
        }),
        (
            "signature-byte",
            github_case(
                "one byte of messageSignature.signature changed",
                "SignatureInvalid",
                "signature does not verify",
                |b| flip_b64(&mut b["messageSignature"]["signature"], 40),
            ),
        ),
        (
            "other-certificate",
            github_case(
                "the leaf replaced by another valid Fulcio certificate",
                "SignatureInvalid",
                "signature does not verify",
                |b| {
                    let other = read_json("bundle/valid/bundleV03-dsse.sigstore");
                    b["verificationMaterial"]["x509CertificateChain"]["certificates"][0] =
                        other["verificationMaterial"]["certificate"].clone();
                },
            ),
        ),
        (
            "inclusion-proof-hash",
            github_case(
                "one byte of the first audit-path hash changed",
                "InclusionProof",
                "inclusion proof does not verify",
                |b| flip_b64(&mut entry(b)["inclusionProof"]["hashes"][0], 5),
            ),
        ),
        (
            "tree-size",
            github_case(
                "inclusionProof.treeSize increased by one",
                "InclusionProof",
                "inclusion proof does not verify",
                |b| {
                    let size: u64 =
                        entry(b)["inclusionProof"]["treeSize"].as_str().unwrap().parse().unwrap();
                    entry(b)["inclusionProof"]["treeSize"] = json!((size + 1).to_string());
                },
            ),
        ),
        (
            "checkpoint-signature",
            github_case(
                "one byte of the checkpoint's ECDSA signature changed",
                "CheckpointSignature",
                "checkpoint signature does not verify",
                |b| {
                    edit_checkpoint_signature(b, |blob| {
                        let last = blob.len() - 3;
                        blob[last] ^= 1;
                    })
                },
            ),
        ),
        (
            "checkpoint-key-hint",
            github_case(
                "the checkpoint signature line's 4-byte key hint changed",
                "CheckpointKeyHint",
                "checkpoint key hint",
                |b| edit_checkpoint_signature(b, |blob| blob[0] ^= 0xff),
            ),
        ),
        (
            "set",
            github_case(
                "one byte of the SET changed",
                "Set",
                "signed entry timestamp (SET) does not verify",
                |b| flip_b64(&mut entry(b)["inclusionPromise"]["signedEntryTimestamp"], 30),
            ),
        ),
        (
            "log-index",
            github_case(
                "the global logIndex changed (the SET covers it)",
                "Set",
                "signed entry timestamp (SET) does not verify",
                |b| entry(b)["logIndex"] = json!("79605084"),
            ),
        ),
        ("identity", {
            let mut case = github_case(
                "policy expects another SAN",
                "Identity",
                "certificate identity rejected",
                |_| {},
            );
            case["policy"]["identity"] = json!(
                "https://github.com/evil/repo/.github/workflows/release.yml@refs/tags/v0.1.2"
            );
            case
        }),
        ("issuer", {
            let mut case = github_case(
                "policy expects another issuer",
                "Issuer",
                "certificate OIDC issuer rejected",
                |_| {},
            );
            case["policy"]["issuer"] = json!("https://accounts.google.com");
            case
        }),
        (
            "ca-outside-valid-for",
            with_root(
                github_case(
                    "the trusted root's current Fulcio CA ends before the signing time",
                    "CaNotValid",
                    "no certificate authority in the trusted root is valid",
                    |_| {},
                ),
                |r| {
                    r["certificateAuthorities"][1]["validFor"]["end"] =
                        json!("2023-01-01T00:00:00Z")
                },
            ),
        ),
        (
            "log-outside-valid-for",
            with_root(
                github_case(
                    "the trusted root's Rekor key starts after the integrated time",
                    "LogNotValid",
                    "was not valid at",
                    |_| {},
                ),
                |r| r["tlogs"][0]["publicKey"]["validFor"]["start"] = json!("2024-06-01T00:00:00Z"),
            ),
        ),
        (
            "untrusted-log",
            with_root(
                github_case(
                    "the trusted root lacks the Rekor log",
                    "UnknownLog",
                    "is not in the trusted root",
                    |_| {},
                ),
                |r| r["tlogs"] = json!([r["tlogs"][1].clone()]),
            ),
        ),
        (
            "untrusted-ct-log",
            with_root(
                github_case(
                    "the trusted root lacks the CT log that issued the SCT",
                    "Sct",
                    "no SCT that verifies",
                    |_| {},
                ),
                |r| r["ctlogs"] = json!([r["ctlogs"][0].clone()]),
            ),
        ),
    ];
    // Body of another entry: the no_signed_time bundle (its own signature and cert) carrying
    // the github bundle's fully valid tlog entry (SET, proof, checkpoint all verify).
    let mut other = read_json("bundle/valid/bundle_v3_no_signed_time.txt.sigstore.json");
    let github = read_json("bundle/valid/bundle_v3_github.whl.sigstore");
    other["verificationMaterial"]["tlogEntries"] =
        github["verificationMaterial"]["tlogEntries"].clone();
    out.push((
        "body-of-another-entry",
        json!({
            "desc": "a valid tlog entry of another signature pasted into the bundle",
            "bundle": other,
            "artifact": {"file": "bundle/valid/bundle_v3_no_signed_time.txt"},
            "policy": {"identity": "william@yossarian.net", "issuer": EMAIL_ISSUER},
            "expect": "BodyMismatch",
            "message": "tlog entry body does not match the bundle",
        }),
    ));
    let mut dsse = read_json("bundle/valid/bundleV03-dsse.sigstore");
    let sig = dsse["dsseEnvelope"]["signatures"][0].clone();
    dsse["dsseEnvelope"]["signatures"] = json!([sig.clone(), sig]);
    out.push((
        "second-dsse-signature",
        json!({
            "desc": "the DSSE envelope carries a second signature",
            "bundle": dsse,
            "artifact": null,
            "policy": {"identity": "brian@dehamer.com", "issuer": EMAIL_ISSUER},
            "expect": "bundle:DsseSignatureCount",
            "message": "signatures, want exactly 1",
        }),
    ));
    out.push(("dsse-subject-digest", json!({
        "desc": "a sha256 digest input that no in-toto subject carries",
        "bundle": read_json("bundle/valid/sigstore.js@2.0.0-provenance.sigstore.json"),
        "artifact": {"digest": format!("sha256:{}", "ab".repeat(32))},
        "policy": {
            "identity": "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
            "issuer": GITHUB_ISSUER,
        },
        "expect": "DsseSubject",
        "message": "no in-toto subject has digest",
    })));
    let instance = PrivateInstance::new();
    out.push((
        "signing-time-outside-certificate",
        instance.case(
            "private instance: SET-verified integratedTime 1 hour after the leaf expired",
            NOT_BEFORE + 600 + 3600,
            true,
            "SigningTimeOutsideCertificate",
            "outside the certificate validity",
        ),
    ));
    out.push((
        "missing-sct",
        instance.case(
            "private instance: leaf with an empty embedded SCT list",
            NOT_BEFORE + 60,
            false,
            "Sct",
            "no SCT that verifies",
        ),
    ));
    out.push((
        "private-instance-valid",
        instance.case(
            "private instance: everything valid (control for the two cases above)",
            NOT_BEFORE + 60,
            true,
            "OK",
            "",
        ),
    ));
    out
}

/// 2025-01-01T00:00:00Z.
const NOT_BEFORE: i64 = 1_735_689_600;
const PRIVATE_LOG_URL: &str = "https://log.sigbox.test";
const PRIVATE_EMAIL: &str = "alice@sigbox.test";
const PRIVATE_ISSUER: &str = "https://issuer.sigbox.test";

/// A CA, a CT log key and a Rekor-style log key, all P-256.
struct PrivateInstance {
    ca: EcdsaP256Signer,
    root: Certificate,
    ct: EcdsaP256Signer,
    log: EcdsaP256Signer,
}

impl PrivateInstance {
    fn new() -> Self {
        let ca = EcdsaP256Signer::generate();
        let root = x509::build_ca_certificate(
            "O=sigbox-test,CN=sigbox-test-root",
            ca.public_key(),
            None,
            &ca,
            &[1],
            NOT_BEFORE - 86_400,
            NOT_BEFORE + 10 * 365 * 86_400,
            Some(1),
        )
        .unwrap();
        PrivateInstance {
            ca,
            root,
            ct: EcdsaP256Signer::generate(),
            log: EcdsaP256Signer::generate(),
        }
    }

    fn trusted_root(&self) -> Value {
        let log_key = |s: &EcdsaP256Signer, url: &str| {
            let key = s.public_key();
            json!({
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": b64_encode(key.spki_der()),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "2024-01-01T00:00:00Z"},
                },
                "logId": {"keyId": b64_encode(key.key_id())},
            })
        };
        json!({
            "mediaType": sigbox::trust::TRUSTED_ROOT_V01,
            "tlogs": [log_key(&self.log, PRIVATE_LOG_URL)],
            "certificateAuthorities": [{
                "subject": {"organization": "sigbox-test", "commonName": "sigbox-test-root"},
                "uri": "https://ca.sigbox.test",
                "certChain": {"certificates": [{"rawBytes": b64_encode(self.root.der())}]},
                "validFor": {"start": "2024-01-01T00:00:00Z"},
            }],
            "ctlogs": [log_key(&self.ct, "https://ct.sigbox.test")],
            "timestampAuthorities": [],
        })
    }

    fn leaf(&self, signer: &EcdsaP256Signer, with_sct: bool) -> Certificate {
        let profile = LeafProfile {
            serial: vec![0x42, 0x01],
            not_before: NOT_BEFORE,
            not_after: NOT_BEFORE + 600,
            public_key: signer.public_key().clone(),
            name: LeafName::Email(PRIVATE_EMAIL.into()),
            fulcio_extensions: vec![(1, PRIVATE_ISSUER.into()), (8, PRIVATE_ISSUER.into())],
        };
        let tbs = LeafTbs::new(&profile, &self.root, &self.ca).unwrap();
        let list = if with_sct {
            let ts_ms = u64::try_from(NOT_BEFORE).unwrap() * 1000 + 5;
            let data = x509::sct_signed_data(
                &tbs.signed_entry_tbs().unwrap(),
                self.root.public_key().spki_der(),
                ts_ms,
                &[],
            )
            .unwrap();
            let sig = self.ct.sign(&data).unwrap();
            x509::encode_sct_list(&self.ct.public_key().key_id(), ts_ms, &sig).unwrap()
        } else {
            vec![0, 0]
        };
        tbs.finish(&list, &self.ca).unwrap()
    }

    /// A v0.3 hashedrekord bundle over a fixed artifact, logged at `integrated_time`.
    fn case(
        &self,
        desc: &str,
        integrated_time: i64,
        with_sct: bool,
        expect: &str,
        message: &str,
    ) -> Value {
        let artifact = b"sigbox private-instance artifact\n";
        let signer = EcdsaP256Signer::generate();
        let cert = self.leaf(&signer, with_sct);
        let d = digest(HashAlgorithm::Sha256, artifact);
        let signature = signer.sign(artifact).unwrap();
        let body = serde_json::to_vec(&json!({
            "apiVersion": "0.0.1", "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": d.to_hex()}},
                "signature": {"content": b64_encode(&signature),
                              "publicKey": {"content": b64_encode(cert.to_pem())}},
            },
        }))
        .unwrap();
        let log_key = self.log.public_key();
        let log_index = 7u64;
        let set_payload = sigbox::rekor_model::set::payload(
            &b64_encode(&body),
            integrated_time,
            &log_key.key_id(),
            log_index,
        )
        .unwrap();
        let set = self.log.sign(&set_payload).unwrap();
        let root_hash = tlog::hash_leaf(&body);
        let checkpoint = tlog::sign_checkpoint(
            &Checkpoint {
                origin: "log.sigbox.test - 1".into(),
                size: 1,
                root_hash,
                extensions: vec![],
            },
            "log.sigbox.test",
            &self.log,
        )
        .unwrap();
        let bundle = json!({
            "mediaType": sigbox::bundle::wire::MEDIA_TYPE_V03,
            "verificationMaterial": {
                "certificate": {"rawBytes": b64_encode(cert.der())},
                "tlogEntries": [{
                    "logIndex": log_index.to_string(),
                    "logId": {"keyId": b64_encode(log_key.key_id())},
                    "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
                    "integratedTime": integrated_time.to_string(),
                    "inclusionPromise": {"signedEntryTimestamp": b64_encode(&set)},
                    "inclusionProof": {
                        "logIndex": "0", "rootHash": b64_encode(root_hash), "treeSize": "1",
                        "hashes": [], "checkpoint": {"envelope": checkpoint},
                    },
                    "canonicalizedBody": b64_encode(&body),
                }],
            },
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": b64_encode(d.as_bytes())},
                "signature": b64_encode(&signature),
            },
        });
        json!({
            "desc": desc,
            "bundle": bundle,
            "trusted_root": self.trusted_root(),
            "artifact": {"base64": b64_encode(artifact)},
            "policy": {"identity": PRIVATE_EMAIL, "issuer": PRIVATE_ISSUER},
            "expect": expect,
            "message": message,
        })
    }
}

#[test]
#[ignore = "writes fixtures/bundle/negative/; run by hand to regenerate"]
fn regenerate_negative_fixtures() {
    let dir = format!("{}/fixtures/bundle/negative", env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, case) in cases() {
        let text = serde_json::to_string_pretty(&case).unwrap() + "\n";
        std::fs::write(format!("{dir}/{name}.json"), text).unwrap();
    }
}
