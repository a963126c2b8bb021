//! Verifier tests over the real vectors (`fixtures/bundle/`) and table-driven tamperings of
//! them. Each negative case names the check that must fail.

use super::*;
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
    let key = PublicKey::from_pem_or_der(&fixture("valid/publish_key.pub")).unwrap();
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

/// A key-signed v0.3 bundle with no tlog entry, as `cosign sign-blob --tlog-upload=false`
/// writes it.
fn untlogged_key_bundle(artifact: &[u8]) -> (Vec<u8>, PublicKey) {
    use crate::crypto::Signer as _;
    let signer = crate::crypto::EcdsaP256Signer::generate();
    let signature = signer.sign(artifact).unwrap();
    let d = digest(HashAlgorithm::Sha256, artifact);
    let bundle = crate::bundle::wire::Bundle {
        media_type: crate::bundle::wire::MEDIA_TYPE_V03.into(),
        verification_material: Some(crate::bundle::wire::VerificationMaterial {
            public_key: Some(crate::bundle::wire::PublicKeyIdentifier { hint: "k".into() }),
            ..Default::default()
        }),
        message_signature: Some(crate::bundle::wire::MessageSignature {
            message_digest: Some(crate::bundle::wire::HashOutput {
                algorithm: "SHA2_256".into(),
                digest: d.as_bytes().into(),
            }),
            signature: signature.into(),
        }),
        dsse_envelope: None,
    };
    (bundle.to_json().unwrap().into_bytes(), signer.public_key().clone())
}

#[test]
fn key_bundle_without_tlog_needs_insecure_ignore_tlog() {
    let artifact = b"hello";
    let (bundle, key) = untlogged_key_bundle(artifact);
    let strict = Options { key: Some(key.clone()), ..Options::new(NOW) };
    let result =
        run(&bundle, &Artifact::Bytes(artifact), &root(PROD_ROOT), &Policy::any(), &strict);
    assert!(matches!(result, Err(Error::TlogEntryCount { got: 0 })), "{result:?}");
    let lax = Options { insecure_ignore_tlog: true, ..strict };
    let verdict =
        run(&bundle, &Artifact::Bytes(artifact), &root(PROD_ROOT), &Policy::any(), &lax).unwrap();
    assert!(verdict.tlog.is_none());
    let wrong = run(&bundle, &Artifact::Bytes(b"hellO"), &root(PROD_ROOT), &Policy::any(), &lax);
    assert!(matches!(wrong, Err(Error::ArtifactMismatch { .. })));
}

#[test]
fn ignore_tlog_does_not_apply_to_certificate_bundles() {
    let artifact = fixture("valid/bundle_v3_no_signed_time.txt");
    let options = Options { insecure_ignore_tlog: true, ..Options::new(NOW) };
    let result = run(
        &fixture("valid/bundle_v3_no_signed_time.txt.sigstore.json"),
        &Artifact::Bytes(&artifact),
        &root(PROD_ROOT),
        &Policy::any(),
        &options,
    );
    assert!(matches!(result, Err(Error::NoTrustedTime { .. })), "{result:?}");
}

#[test]
fn digest_input_must_match_message_digest_algorithm_and_value() {
    let artifact = fixture("valid/bundle_v3_github.whl");
    let sha512 = digest(HashAlgorithm::Sha512, &artifact);
    let result = run(
        &fixture("valid/bundle_v3_github.whl.sigstore"),
        &Artifact::Digest(sha512),
        &root(PROD_ROOT),
        &policy(GITHUB_ID, GITHUB_ISSUER),
        &Options::new(NOW),
    );
    assert!(matches!(result, Err(Error::DigestAlgorithm { .. })), "{result:?}");
}

#[test]
fn dsse_artifact_bytes_match_a_sha512_subject() {
    // The npm bundle's subject carries only a sha512 digest; a wrong input is rejected.
    let email = policy("brian@dehamer.com", "https://github.com/login/oauth");
    let result = run(
        &fixture("valid/bundleV03-dsse.sigstore"),
        &Artifact::Bytes(b"not the package"),
        &root(PROD_ROOT),
        &email,
        &Options::new(NOW),
    );
    assert!(matches!(result, Err(Error::DsseSubject { .. })), "{result:?}");
}

#[test]
fn predicate_type_is_checked_when_asked() {
    let provenance = policy(
        "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
        GITHUB_ISSUER,
    );
    let options =
        Options { predicate_type: Some("https://spdx.dev/Document".into()), ..Options::new(NOW) };
    let result = run(
        &fixture("valid/sigstore.js@2.0.0-provenance.sigstore.json"),
        &Artifact::Omitted,
        &root(PROD_ROOT),
        &provenance,
        &options,
    );
    assert!(matches!(result, Err(Error::PredicateType { .. })), "{result:?}");
}

#[test]
fn message_signature_without_artifact_is_rejected() {
    let result = run(
        &fixture("valid/bundle_v3_github.whl.sigstore"),
        &Artifact::Omitted,
        &root(PROD_ROOT),
        &policy(GITHUB_ID, GITHUB_ISSUER),
        &Options::new(NOW),
    );
    assert!(matches!(result, Err(Error::ArtifactRequired)));
}

#[test]
fn github_workflow_extension_policy_is_enforced() {
    let artifact = fixture("valid/bundle_v3_github.whl");
    let good = policy(GITHUB_ID, GITHUB_ISSUER)
        .with_extension(
            crate::policy::Extension::GithubWorkflowRepository,
            "trailofbits/rfc8785.py",
        )
        .with_extension(crate::policy::Extension::GithubWorkflowRef, "refs/tags/v0.1.2");
    let bundle = fixture("valid/bundle_v3_github.whl.sigstore");
    assert!(run(&bundle, &Artifact::Bytes(&artifact), &root(PROD_ROOT), &good, &Options::new(NOW))
        .is_ok());
    let bad = policy(GITHUB_ID, GITHUB_ISSUER)
        .with_extension(crate::policy::Extension::GithubWorkflowTrigger, "push");
    let result =
        run(&bundle, &Artifact::Bytes(&artifact), &root(PROD_ROOT), &bad, &Options::new(NOW));
    assert!(matches!(result, Err(Error::Extension(_))), "{result:?}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 200, ..Default::default() })]

    /// One byte of a real bundle replaced anywhere: the verifier must reject or accept, never
    /// panic.
    #[test]
    fn mutated_bundles_never_panic_the_verifier(at in 0usize..10_000, byte in proptest::prelude::any::<u8>()) {
        let mut data = fixture("valid/bundle_v3_github.whl.sigstore");
        let i = at % data.len();
        data[i] = byte;
        fuzz_verify(&data);
    }
}
