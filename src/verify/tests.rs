//! Verifier tests over the real vectors (`fixtures/bundle/`) and table-driven tamperings of
//! them. Each negative case names the check that must fail.

use super::*;
use crate::bundle::wire;
use crate::policy::Matcher;

const PROD_ROOT: &str = include_str!("../../fixtures/trust/trusted_root.json");
const STAGING_ROOT: &str = include_str!("../../fixtures/trust/staging_trusted_root.json");
/// 2026-01-01, after every vector.
const NOW: i64 = 1_767_225_600;

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/fixtures/bundle/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("reading {full}: {e}"))
}

fn root(text: &str) -> TrustedRoot {
    TrustedRoot::from_json(text.as_bytes()).unwrap()
}

fn policy(identity: &str, issuer: &str) -> Policy {
    Policy::any().with_identity(Matcher::exact(identity)).with_issuer(Matcher::exact(issuer))
}

fn run(
    bundle_json: &[u8],
    artifact: &Artifact<'_>,
    root: &TrustedRoot,
    policy: &Policy,
    options: &Options,
) -> Result<Verdict> {
    let bundle = Checked::from_json(bundle_json).expect("bundle shape");
    verify(&bundle, artifact, root, policy, options)
}

const GITHUB_ID: &str =
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

#[test]
fn github_wheel_bundle_verifies() {
    let artifact = fixture("valid/bundle_v3_github.whl");
    let verdict = run(
        &fixture("valid/bundle_v3_github.whl.sigstore"),
        &Artifact::Bytes(&artifact),
        &root(PROD_ROOT),
        &policy(GITHUB_ID, GITHUB_ISSUER),
        &Options::new(NOW),
    )
    .unwrap();
    assert_eq!(verdict.verified_times.first().map(|t| t.time), Some(1710888076));
    assert_eq!(verdict.tlog.as_ref().map(|t| t.log_index), Some(79605083));
    assert!(verdict.verified_scts >= 1);
}

#[test]
fn github_wheel_bundle_verifies_by_digest() {
    let artifact = fixture("valid/bundle_v3_github.whl");
    let d = digest(HashAlgorithm::Sha256, &artifact);
    let verdict = run(
        &fixture("valid/bundle_v3_github.whl.sigstore"),
        &Artifact::Digest(d),
        &root(PROD_ROOT),
        &policy(GITHUB_ID, GITHUB_ISSUER),
        &Options::new(NOW),
    )
    .unwrap();
    assert!(verdict.artifact_digest.unwrap().starts_with("sha256:c4e92e9e"));
}

#[test]
fn dsse_bundles_verify_without_artifact() {
    let email = policy("brian@dehamer.com", "https://github.com/login/oauth");
    for name in [
        "valid/bundleV03-dsse.sigstore",
        "valid/bundleV03-intoto.sigstore",
        "valid/bundleV01-full-cert-chain.sigstore",
    ] {
        let result =
            run(&fixture(name), &Artifact::Omitted, &root(PROD_ROOT), &email, &Options::new(NOW));
        assert!(result.is_ok(), "{name}: {:?}", result.err());
    }
    let provenance = policy(
        "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
        GITHUB_ISSUER,
    );
    let verdict = run(
        &fixture("valid/sigstore.js@2.0.0-provenance.sigstore.json"),
        &Artifact::Omitted,
        &root(PROD_ROOT),
        &provenance,
        &Options::new(NOW),
    )
    .unwrap();
    assert_eq!(verdict.predicate_type.as_deref(), Some("https://slsa.dev/provenance/v1"));
}

#[test]
fn key_bundle_verifies_with_the_given_key() {
    let key = parse_public_key(&fixture("valid/publish_key.pub")).unwrap();
    let options = Options { key: Some(key), ..Options::new(NOW) };
    let verdict = run(
        &fixture("valid/bundle-publish.json"),
        &Artifact::Omitted,
        &root(PROD_ROOT),
        &Policy::any(),
        &options,
    )
    .unwrap();
    assert!(matches!(verdict.signer, SignerInfo::Key { .. }));
    let without = run(
        &fixture("valid/bundle-publish.json"),
        &Artifact::Omitted,
        &root(PROD_ROOT),
        &Policy::any(),
        &Options::new(NOW),
    );
    assert!(matches!(without, Err(Error::KeyRequired { .. })));
}

#[test]
fn bundle_without_signed_time_is_rejected() {
    let artifact = fixture("valid/bundle_v3_no_signed_time.txt");
    let result = run(
        &fixture("valid/bundle_v3_no_signed_time.txt.sigstore.json"),
        &Artifact::Bytes(&artifact),
        &root(PROD_ROOT),
        &policy("william@yossarian.net", "https://github.com/login/oauth"),
        &Options::new(NOW),
    );
    assert!(matches!(result, Err(Error::NoTrustedTime { got: 0, .. })), "{result:?}");
}

#[test]
fn staging_rekor_v2_bundles_verify_with_timestamps() {
    let artifact = fixture("staging/staging-rekor-v2.txt");
    let verdict = run(
        &fixture("staging/staging-rekor-v2.txt.sigstore.json"),
        &Artifact::Bytes(&artifact),
        &root(STAGING_ROOT),
        &policy("jku@goto.fi", "https://github.com/login/oauth"),
        &Options::new(NOW),
    )
    .unwrap();
    assert_eq!(verdict.verified_times.first().map(|t| t.source), Some("timestamp"));
    let beacon = policy(
        "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
        GITHUB_ISSUER,
    );
    let dsse = run(
        &fixture("staging/a.dsse.staging-rekor-v2.txt.sigstore.json"),
        &Artifact::Omitted,
        &root(STAGING_ROOT),
        &beacon,
        &Options::new(NOW),
    );
    assert!(dsse.is_ok(), "{dsse:?}");
}

#[test]
fn staging_bundle_against_production_root_is_rejected() {
    let artifact = fixture("staging/staging-rekor-v2.txt");
    let result = run(
        &fixture("staging/staging-rekor-v2.txt.sigstore.json"),
        &Artifact::Bytes(&artifact),
        &root(PROD_ROOT),
        &Policy::any(),
        &Options::new(NOW),
    );
    assert!(matches!(result, Err(Error::UnknownLog { .. })), "{result:?}");
}
