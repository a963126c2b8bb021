//! Reference-model tests: the fast frontier, planned proofs and verifiers against a naive,
//! obviously correct recursive RFC 6962 implementation, for every size up to a few hundred
//! and for random sizes (proptest). Also the table-driven vectors in `fixtures/tlog/`.

use proptest::prelude::*;

use super::*;
use crate::tlog::hash::hash_leaf;
use crate::tlog::{verify_consistency, verify_inclusion, CompactRange};

/// RFC 6962 §2.1 MTH over leaf hashes, recursively.
fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            hash_children(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

/// RFC 6962 §2.1.1 PATH(m, D[n]).
fn naive_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return vec![];
    }
    let k = split(n);
    if m < k {
        let mut p = naive_path(m, &leaves[..k]);
        p.push(naive_root(&leaves[k..]));
        p
    } else {
        let mut p = naive_path(m - k, &leaves[k..]);
        p.push(naive_root(&leaves[..k]));
        p
    }
}

/// RFC 6962 §2.1.2 SUBPROOF(m, D[n], b).
fn naive_subproof(m: usize, leaves: &[Hash], whole: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if whole { vec![] } else { vec![naive_root(leaves)] };
    }
    let k = split(n);
    if m <= k {
        let mut p = naive_subproof(m, &leaves[..k], whole);
        p.push(naive_root(&leaves[k..]));
        p
    } else {
        let mut p = naive_subproof(m - k, &leaves[k..], false);
        p.push(naive_root(&leaves[..k]));
        p
    }
}

fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn leaves(n: usize) -> Vec<Hash> {
    (0..n).map(|i| hash_leaf(format!("leaf {i}").as_bytes())).collect()
}

fn store_of(leaves: &[Hash]) -> MemoryNodeStore {
    let mut s = MemoryNodeStore::new();
    for l in leaves {
        s.append(*l).unwrap();
    }
    s
}

#[test]
fn roots_match_reference_for_every_size_up_to_300() {
    let all = leaves(300);
    let mut cr = CompactRange::new();
    let store = store_of(&all);
    assert_eq!(cr.root(), naive_root(&[]));
    for n in 1..=300usize {
        cr.append(all[n - 1], |_, _| {}).unwrap();
        let want = naive_root(&all[..n]);
        assert_eq!(cr.root(), want, "compact root at size {n}");
        assert_eq!(root_at(n as u64, |id| store.node(id)).unwrap(), want, "stored root at {n}");
        let rebuilt = CompactRange::from_hashes(
            n as u64,
            CompactRange::frontier_ids(n as u64)
                .into_iter()
                .map(|id| store.node(id).unwrap())
                .collect(),
        )
        .unwrap();
        assert_eq!(rebuilt.root(), want, "frontier from store at {n}");
    }
}

#[test]
fn inclusion_proofs_match_reference_and_verify_up_to_130() {
    let all = leaves(130);
    let store = store_of(&all);
    for n in 1..=130usize {
        let root = naive_root(&all[..n]);
        for i in 0..n {
            let proof = inclusion_proof(i as u64, n as u64, |id| store.node(id)).unwrap();
            assert_eq!(proof, naive_path(i, &all[..n]), "proof for {i} in {n}");
            assert!((verify_inclusion(i as u64, n as u64, &all[i], &proof, &root)).is_ok());
        }
    }
}

#[test]
fn inclusion_proofs_for_sparse_indices_verify_up_to_300() {
    let all = leaves(300);
    let store = store_of(&all);
    for n in 131..=300usize {
        let root = naive_root(&all[..n]);
        for i in [0, 1, n / 3, n / 2, n - 2, n - 1] {
            let proof = inclusion_proof(i as u64, n as u64, |id| store.node(id)).unwrap();
            assert_eq!(proof, naive_path(i, &all[..n]), "proof for {i} in {n}");
            assert!((verify_inclusion(i as u64, n as u64, &all[i], &proof, &root)).is_ok());
        }
    }
}

#[test]
fn consistency_proofs_match_reference_and_verify_up_to_100() {
    let all = leaves(100);
    let store = store_of(&all);
    for n in 1..=100usize {
        let root2 = naive_root(&all[..n]);
        for m in 1..=n {
            let root1 = naive_root(&all[..m]);
            let proof = consistency_proof(m as u64, n as u64, |id| store.node(id)).unwrap();
            assert_eq!(proof, naive_subproof(m, &all[..n], true), "proof {m} -> {n}");
            assert!((verify_consistency(m as u64, n as u64, &proof, &root1, &root2)).is_ok());
        }
    }
}

#[test]
fn every_one_hash_change_to_a_proof_is_rejected() {
    let all = leaves(21);
    let store = store_of(&all);
    let root = naive_root(&all);
    for i in 0..21u64 {
        let proof = inclusion_proof(i, 21, |id| store.node(id)).unwrap();
        for j in 0..proof.len() {
            let mut bad = proof.clone();
            bad[j][7] ^= 0x10;
            assert!(matches!(
                verify_inclusion(i, 21, &all[i as usize], &bad, &root),
                Err(Error::RootMismatch { .. })
            ));
        }
        let mut short = proof.clone();
        short.pop();
        assert!(matches!(
            verify_inclusion(i, 21, &all[i as usize], &short, &root),
            Err(Error::ProofLength { .. })
        ));
        // The right proof for another index does not pass. (Another size can: the audit
        // path of a leaf away from the right edge is the same in trees of 21 and 22 leaves.)
        let other = (i + 1) % 21;
        assert!(verify_inclusion(other, 21, &all[i as usize], &proof, &root).is_err());
    }
}

#[test]
fn missing_node_is_reported_by_position() {
    let store = store_of(&leaves(4));
    let err = inclusion_proof(0, 5, |id| store.node(id)).unwrap_err();
    assert!(matches!(err, Error::MissingNode { level: 0, index: 4 }));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_sizes_agree_with_reference(n in 1usize..2000, a in 0usize..2000, b in 0usize..2000) {
        let all = leaves(n);
        let store = store_of(&all);
        let i = a % n;
        let m = 1 + b % n;
        let root = naive_root(&all);
        let root1 = naive_root(&all[..m]);
        prop_assert_eq!(store.root(), root);
        let proof = inclusion_proof(i as u64, n as u64, |id| store.node(id)).unwrap();
        prop_assert_eq!(&proof, &naive_path(i, &all));
        prop_assert!((verify_inclusion(i as u64, n as u64, &all[i], &proof, &root)).is_ok());
        let cproof = consistency_proof(m as u64, n as u64, |id| store.node(id)).unwrap();
        prop_assert_eq!(&cproof, &naive_subproof(m, &all, true));
        prop_assert!((verify_consistency(m as u64, n as u64, &cproof, &root1, &root)).is_ok());
        if m < n {
            prop_assert!(verify_consistency(m as u64, n as u64, &cproof, &root, &root1).is_err());
        }
    }
}
