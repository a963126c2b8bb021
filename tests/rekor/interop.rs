//! Our log's answers, turned into a Sigstore bundle by `rekor::client`, pass sigbox's own
//! offline verifier (SET, inclusion proof, checkpoint, signature) against a trusted root that
//! lists the log; and fail when the root lists another key.

use std::time::Duration;

use serde_json::json;
use sigbox::bundle::{wire, Checked};
use sigbox::crypto::{digest, HashAlgorithm, PublicKey, Signer as _};
use sigbox::encoding::b64_encode;
use sigbox::rekor::client::{hashedrekord_proposal, Client};
use sigbox::trust::TrustedRoot;
use sigbox::verify::{verify, Artifact, Options};

use super::server::{signer, RekorServer};

fn trusted_root(url: &str, log_key: &PublicKey) -> TrustedRoot {
    let root = json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{
            "baseUrl": url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": b64_encode(log_key.spki_der()),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": "2020-01-01T00:00:00Z"}
            },
            "logId": {"keyId": b64_encode(log_key.key_id())}
        }],
        "certificateAuthorities": [],
        "ctlogs": [],
        "timestampAuthorities": []
    });
    TrustedRoot::from_json(root.to_string().as_bytes()).unwrap()
}

#[test]
fn rekor_entry_in_a_bundle_passes_sigbox_verify() {
    let dir = tempfile::tempdir().unwrap();
    let server = RekorServer::start(dir.path(), &[]);
    let http = sigbox::http::blocking_client(Duration::from_secs(30)).unwrap();
    let client = Client::new(http, &server.url);
    let log_key = PublicKey::from_pem(&client.public_key_pem().unwrap()).unwrap();

    let s = signer();
    let artifact = b"interop artifact";
    let d = digest(HashAlgorithm::Sha256, artifact);
    let sig = s.sign_prehashed(d.as_bytes()).unwrap();
    let logged =
        client.create_entry(&hashedrekord_proposal(&d, &sig, &s.public_key().to_pem())).unwrap();

    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "publicKey": {"hint": ""},
            "tlogEntries": [serde_json::to_value(&logged.entry).unwrap()]
        },
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": b64_encode(d.as_bytes())},
            "signature": b64_encode(&sig)
        }
    });
    let wire = wire::Bundle::from_json(bundle.to_string().as_bytes()).unwrap();
    let checked = Checked::try_from(wire).unwrap();
    let mut options = Options::new(4_000_000_000);
    options.key = Some(s.public_key().clone());
    let policy = sigbox::policy::Policy::any();

    let good = trusted_root(&server.url, &log_key);
    let verdict = verify(&checked, &Artifact::Bytes(artifact), &good, &policy, &options);
    assert!(verdict.is_ok(), "{verdict:?}");

    let other = sigbox::crypto::EcdsaP256Signer::generate();
    let wrong = trusted_root(&server.url, other.public_key());
    assert!(verify(&checked, &Artifact::Bytes(artifact), &wrong, &policy, &options).is_err());
    assert!(verify(&checked, &Artifact::Bytes(b"other bytes"), &good, &policy, &options).is_err());
}
