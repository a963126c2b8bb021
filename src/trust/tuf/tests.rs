//! The client checks against the real public-good repository (fixtures/tuf/public-good,
//! copied from sigstore/root-signing), with the clock pinned before its timestamp expires.

use super::*;

/// 2026-08-25T00:00:00Z: the fixture timestamp expires 2026-08-28T19:25:56Z.
const NOW: i64 = 1_787_616_000;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/tuf/public-good")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn walked() -> TrustedSet {
    let mut set = TrustedSet::new(PUBLIC_GOOD_TUF_ROOT.as_bytes(), NOW).unwrap();
    for version in 2..=15 {
        set.update_root(&fixture(&format!("{version}.root.json")))
            .unwrap_or_else(|e| panic!("root v{version}: {e}"));
    }
    set
}

#[test]
fn the_embedded_root_walks_to_root_15_and_the_targets() {
    let mut set = walked();
    set.check_root_fresh().unwrap();
    assert!(set.update_timestamp(&fixture("timestamp.json")).unwrap());
    set.update_snapshot(&fixture("165.snapshot.json"), false).unwrap();
    set.update_targets(&fixture("14.targets.json")).unwrap();
    let target = set.target("trusted_root.json").unwrap().clone();
    let name = format!("targets/{}.trusted_root.json", target.hashes["sha256"]);
    set.check_target("trusted_root.json", &fixture(&name)).unwrap();
    assert_eq!(set.root().signed.version, 15);
}

#[test]
fn a_skipped_root_version_is_rejected() {
    let mut set = TrustedSet::new(PUBLIC_GOOD_TUF_ROOT.as_bytes(), NOW).unwrap();
    let err = set.update_root(&fixture("3.root.json")).unwrap_err();
    // Root 3 is not signed by a threshold of root 1's keys or is not v2: either is named.
    assert!(
        matches!(err, Error::RootVersion { want: 2, got: 3 } | Error::Threshold { .. }),
        "{err}"
    );
}

#[test]
fn tampered_metadata_fails_the_signature_threshold() {
    let mut set = walked();
    let text = String::from_utf8(fixture("timestamp.json")).unwrap();
    let tampered = text.replace("\"version\": 165", "\"version\": 166");
    assert_ne!(text, tampered);
    let err = set.update_timestamp(tampered.as_bytes()).unwrap_err();
    assert!(matches!(err, Error::Threshold { role: "timestamp", valid: 0, .. }), "{err}");
    assert!(err.to_string().contains("signature threshold check"), "{err}");
}

#[test]
fn an_expired_timestamp_is_a_freeze_attack() {
    let mut set = walked();
    set.set_time(1_788_000_000); // 2026-08-29
    let err = set.update_timestamp(&fixture("timestamp.json")).unwrap_err();
    assert!(matches!(err, Error::Expired { role: "timestamp", .. }), "{err}");
    assert!(err.to_string().contains("freeze attack check"), "{err}");
}

#[test]
fn a_target_with_the_wrong_hash_is_rejected() {
    let mut set = walked();
    set.update_timestamp(&fixture("timestamp.json")).unwrap();
    set.update_snapshot(&fixture("165.snapshot.json"), false).unwrap();
    set.update_targets(&fixture("14.targets.json")).unwrap();
    let mut bytes = fixture(
        "targets/6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66.trusted_root.json",
    );
    let last = bytes.len() - 2;
    bytes[last] ^= 1;
    let err = set.check_target("trusted_root.json", &bytes).unwrap_err();
    assert!(matches!(err, Error::Hash { section: "5.7.3", .. }), "{err}");
    bytes.push(b' ');
    let err = set.check_target("trusted_root.json", &bytes).unwrap_err();
    assert!(matches!(err, Error::Length { .. }), "{err}");
}

#[test]
fn a_snapshot_version_other_than_the_timestamp_lists_is_mix_and_match() {
    let mut set = walked();
    set.update_timestamp(&fixture("timestamp.json")).unwrap();
    // Snapshot 165 re-labelled: its signature breaks first; a cached older snapshot (local,
    // hashes not checked) with a valid signature would fail the version match instead.
    let text = String::from_utf8(fixture("165.snapshot.json")).unwrap();
    let relabelled = text.replace("\"version\": 165", "\"version\": 164");
    let err = set.update_snapshot(relabelled.as_bytes(), true).unwrap_err();
    assert!(matches!(err, Error::Threshold { role: "snapshot", .. }), "{err}");
}

#[test]
fn the_key_id_of_a_pem_key_matches_the_public_repository() {
    let root = Signed::<Root>::parse("root", &fixture("15.root.json")).unwrap();
    for (id, key) in &root.signed.keys {
        assert_eq!(&key_id(key), id);
    }
}

mod fuzz {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn mutated_metadata_never_panics_the_client(at in 0usize..6000, byte in any::<u8>()) {
            let mut data = super::fixture("2.root.json");
            let i = at % data.len();
            data[i] = byte;
            let mut set = super::TrustedSet::new(super::PUBLIC_GOOD_TUF_ROOT.as_bytes(), super::NOW).unwrap();
            let _ = set.update_root(&data);
            let _ = set.update_timestamp(&data);
            let _ = super::TrustedSet::new(&data, super::NOW);
        }

        #[test]
        fn random_bytes_never_panic_the_parsers(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = super::Signed::<super::Root>::parse("root", &data);
            let _ = super::Signed::<super::MetaList>::parse("timestamp", &data);
            let _ = super::Signed::<super::Targets>::parse("targets", &data);
        }
    }
}

#[test]
fn a_rolled_back_timestamp_is_rejected_against_the_trusted_one() {
    let mut set = walked();
    set.update_timestamp(&fixture("timestamp.json")).unwrap();
    let older = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tuf/timestamp-761.json"),
    )
    .unwrap();
    let err = set.update_timestamp(&older).unwrap_err();
    assert!(
        matches!(err, Error::Rollback { role: "timestamp", got: 761, trusted: 762, .. }),
        "{err}"
    );
    // The same version again is "nothing new", not an error.
    assert!(!set.update_timestamp(&fixture("timestamp.json")).unwrap());
}
