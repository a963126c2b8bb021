//! Tests of the log: sequencing, proofs, restarts and live key rotation.
use super::*;
use crate::crypto::{EcdsaP256Signer, HashAlgorithm};
use crate::encoding::b64_encode;
use crate::rekor::canonicalize_proposed;
use crate::store::LogStore;
use crate::tlog::NoteVerifier;

fn proposal(signer: &EcdsaP256Signer, artifact: &[u8]) -> CanonicalEntry {
    let d = crate::crypto::digest(HashAlgorithm::Sha256, artifact);
    let sig = signer.sign_prehashed(d.as_bytes()).unwrap();
    canonicalize_proposed(&serde_json::json!({"apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {"data": {"hash": {"algorithm": "sha256", "value": d.to_hex()}},
                 "signature": {"content": b64_encode(sig),
                               "publicKey": {"content": b64_encode(signer.public_key().to_pem())}}}}))
    .unwrap()
}

fn open(dir: &std::path::Path, key: Arc<dyn Signer>) -> Log {
    let store = LogStore::open(dir).unwrap();
    Log::open(store, key, "log.test", Arc::new(|| 1_700_000_000)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submits_get_distinct_indices_and_valid_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let key: Arc<dyn Signer> = Arc::new(EcdsaP256Signer::generate());
    let log = open(dir.path(), key.clone());
    let s = EcdsaP256Signer::generate();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (log, entry) = (log.clone(), proposal(&s, format!("a{i}").as_bytes()));
        tasks.push(tokio::spawn(async move { log.submit(entry).await.unwrap() }));
    }
    let mut indices = Vec::new();
    for t in tasks {
        let view = t.await.unwrap();
        let leaf = tlog::hash_leaf(&view.record.body_bytes().unwrap());
        let p = &view.proof;
        tlog::verify_inclusion(p.log_index, p.tree_size, &leaf, &p.hashes, &p.root_hash).unwrap();
        let v = NoteVerifier::ecdsa("log.test", key.public_key().clone()).unwrap();
        let cp = tlog::verify_checkpoint(&p.checkpoint, &[v]).unwrap();
        assert_eq!((cp.checkpoint().size, cp.checkpoint().root_hash), (p.tree_size, p.root_hash));
        indices.push(view.record.log_index);
    }
    indices.sort();
    assert_eq!(indices, (0..40).collect::<Vec<_>>());
    assert_eq!(log.head().size, 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_body_twice_in_flight_is_logged_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), Arc::new(EcdsaP256Signer::generate()));
    let entry = proposal(&EcdsaP256Signer::generate(), b"same");
    let (a, b) = tokio::join!(log.submit(entry.clone()), log.submit(entry));
    let results = [a, b];
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results.iter().any(|r| matches!(r, Err(Error::Duplicate { .. }))));
    assert_eq!(log.head().size, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopen_keeps_tree_id_entries_and_resigns_under_new_name() {
    let dir = tempfile::tempdir().unwrap();
    let key: Arc<dyn Signer> = Arc::new(EcdsaP256Signer::generate());
    let (tree_id, root) = {
        let log = open(dir.path(), key.clone());
        assert!(log.seed_genesis().await.unwrap().is_some());
        assert!(log.seed_genesis().await.unwrap().is_none(), "only on an empty log");
        log.submit(proposal(&EcdsaP256Signer::generate(), b"x")).await.unwrap();
        let kept = (log.tree_id(), log.head().root);
        log.close().unwrap();
        kept
    };
    let store = LogStore::open(dir.path()).expect("a closed log's store reopens");
    let log = Log::open(store, key.clone(), "renamed", Arc::new(|| 0)).unwrap();
    assert_eq!(log.tree_id(), tree_id);
    assert_eq!(log.head().root, root);
    assert_eq!(log.origin(), format!("renamed - {tree_id}"));
    let v = NoteVerifier::ecdsa("renamed", key.public_key().clone()).unwrap();
    assert!(tlog::verify_checkpoint(&log.head().checkpoint, &[v]).is_ok());
    assert_eq!(log.entry_by_index(1).unwrap().record.log_index, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_key_signs_new_entries_and_old_entries_keep_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let old: Arc<dyn Signer> = Arc::new(EcdsaP256Signer::generate());
    let new: Arc<dyn Signer> = Arc::new(EcdsaP256Signer::generate());
    let log = open(dir.path(), old.clone());
    let s = EcdsaP256Signer::generate();
    let a = log.submit(proposal(&s, b"before")).await.unwrap();
    log.rotation().install(new.clone()).unwrap();
    let b = log.submit(proposal(&s, b"after")).await.unwrap();
    let verifier =
        |key: &Arc<dyn Signer>| NoteVerifier::ecdsa("log.test", key.public_key().clone()).unwrap();
    let check = |view: &EntryView, key: &Arc<dyn Signer>| {
        assert_eq!(view.log_id_hex, hex_encode(key.public_key().key_id()));
        let p = &view.proof;
        let leaf = tlog::hash_leaf(&view.record.body_bytes().unwrap());
        tlog::verify_inclusion(p.log_index, p.tree_size, &leaf, &p.hashes, &p.root_hash).unwrap();
        let cp = tlog::verify_checkpoint(&p.checkpoint, &[verifier(key)]).unwrap();
        assert_eq!(cp.checkpoint().size, p.tree_size);
        let payload = crate::rekor::set_payload(
            &view.record.body,
            view.record.integrated_time,
            &key.public_key().key_id(),
            view.record.log_index,
        )
        .unwrap();
        let set = crate::encoding::b64_decode(&view.record.set).unwrap();
        key.public_key()
            .verify(crate::crypto::SignatureScheme::EcdsaSha256, &payload, &set)
            .expect("the SET is by the key the view names");
    };
    check(&a, &old);
    check(&b, &new);
    // Read back after the rotation (and after a reopen), each entry keeps its key.
    check(&log.entry_by_index(0).unwrap(), &old);
    check(&log.entry_by_index(1).unwrap(), &new);
    assert!(tlog::verify_checkpoint(&log.head().checkpoint, &[verifier(&old)]).is_err());
    // One tree: the old key's last checkpoint is consistent with the new key's.
    let proof = log.consistency_proof(1, 2).unwrap();
    let (root1, root2) = (log.root_at(1).unwrap(), log.head().root);
    tlog::verify_consistency(1, 2, &proof, &root1, &root2).unwrap();
    log.close().unwrap();
    let store = LogStore::open(dir.path()).unwrap();
    let log = Log::open(store, new.clone(), "log.test", Arc::new(|| 1_700_000_000)).unwrap();
    check(&log.entry_by_index(0).unwrap(), &old);
    check(&log.entry_by_index(1).unwrap(), &new);
    // A key that does not suit the log is refused, and the log keeps its key.
    let ed: Arc<dyn Signer> = Arc::new(crate::crypto::Ed25519Signer::generate());
    assert!(log.rotation().install(ed).is_err());
    assert_eq!(log.log_id(), new.public_key().key_id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_is_refused_before_sequencing() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), Arc::new(EcdsaP256Signer::generate()));
    let entry = CanonicalEntry {
        kind: "hashedrekord",
        api_version: "0.0.1",
        body: vec![b' '; 70_000],
        search_keys: vec![],
    };
    assert!(matches!(log.submit(entry).await, Err(Error::BodyTooLarge(70_000))));
    assert_eq!(log.head().size, 0);
}
