//! Checking RFC 6962 / RFC 9162 §2.1.3.2 inclusion proofs and §2.1.4.2 consistency proofs.
//! Pure functions over hashes the caller already holds.
//!
//! The proof length is checked against the index and sizes before any hashing, so a short
//! or padded proof is reported as [`Error::ProofLength`] rather than as a wrong root.

use super::hash::{hash_children, Hash};
use super::{Error, Result};

/// Checks that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is `root`.
///
/// Errors: [`Error::IndexOutOfRange`] unless `index < size`; [`Error::ProofLength`] when the
/// proof does not have exactly the hashes the audit path needs; [`Error::RootMismatch`] when
/// the proof leads to another root.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<()> {
    let computed = root_from_inclusion_proof(index, size, leaf_hash, proof)?;
    if &computed != root {
        return Err(Error::RootMismatch { expected: *root, computed });
    }
    Ok(())
}

/// The root that an inclusion proof for `leaf_hash` at `index` in a tree of `size` leads to.
///
/// Errors as for [`verify_inclusion`], apart from the root comparison.
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
) -> Result<Hash> {
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose_inclusion(index, size);
    let want = inner + border;
    if proof.len() != want {
        return Err(Error::ProofLength { got: proof.len(), want });
    }
    let (inner_part, border_part) = proof.split_at(inner);
    let seed = chain_inner(*leaf_hash, inner_part, index);
    Ok(chain_border_right(seed, border_part))
}

/// Checks that the tree of `size1` leaves with root `root1` is a prefix of the tree of `size2`
/// leaves with root `root2`.
///
/// Equal sizes need an empty proof and equal roots. Errors: [`Error::SizesOutOfOrder`] when
/// `size1 > size2` or `size1 == 0 < size2`; [`Error::ProofLength`]; [`Error::RootMismatch`]
/// (naming `root1` or `root2`, whichever the proof does not reach).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<()> {
    if size1 > size2 || (size1 == 0 && size2 > 0) {
        return Err(Error::SizesOutOfOrder { size1, size2 });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(Error::ProofLength { got: proof.len(), want: 0 });
        }
        if root1 != root2 {
            return Err(Error::RootMismatch { expected: *root2, computed: *root1 });
        }
        return Ok(());
    }
    // size1 < size2 here, so both are at least 1.
    let (inner, border) = decompose_inclusion(size1 - 1, size2);
    let shift = size1.trailing_zeros() as usize;
    let inner = inner - shift;
    // When size1 is a power of two its root is the first proof node and is not sent.
    let (seed, rest) = if size1 == 1u64 << shift {
        (*root1, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(Error::ProofLength { got: 0, want: 1 + inner + border }),
        }
    };
    let start = proof.len() - rest.len();
    let want = start + inner + border;
    if proof.len() != want {
        return Err(Error::ProofLength { got: proof.len(), want });
    }
    let (inner_part, border_part) = rest.split_at(inner);
    let mask = (size1 - 1) >> shift;

    let hash1 = chain_inner_right(seed, inner_part, mask);
    let hash1 = chain_border_right(hash1, border_part);
    if &hash1 != root1 {
        return Err(Error::RootMismatch { expected: *root1, computed: hash1 });
    }
    let hash2 = chain_inner(seed, inner_part, mask);
    let hash2 = chain_border_right(hash2, border_part);
    if &hash2 != root2 {
        return Err(Error::RootMismatch { expected: *root2, computed: hash2 });
    }
    Ok(())
}

/// Splits the audit path of `index` in a tree of `size` into the part below the point where
/// the paths to `index` and to the last leaf meet (`inner`), and the right-border part above.
fn decompose_inclusion(index: u64, size: u64) -> (usize, usize) {
    let inner = (64 - (index ^ (size - 1)).leading_zeros()) as usize;
    // `inner` is 64 when the paths part at the top bit (sizes past 2^63, reachable from a
    // signed checkpoint): a plain shift by 64 would overflow.
    let border = index.checked_shr(inner as u32).unwrap_or(0).count_ones() as usize;
    (inner, border)
}

/// Hashes `seed` up through `proof`, taking the side of each sibling from the bits of `index`.
fn chain_inner(seed: Hash, proof: &[Hash], index: u64) -> Hash {
    let mut acc = seed;
    for (i, h) in proof.iter().enumerate() {
        acc = if bit(index, i) { hash_children(h, &acc) } else { hash_children(&acc, h) };
    }
    acc
}

/// Like [`chain_inner`], but only the siblings to the left count (the older tree's view).
fn chain_inner_right(seed: Hash, proof: &[Hash], index: u64) -> Hash {
    let mut acc = seed;
    for (i, h) in proof.iter().enumerate() {
        if bit(index, i) {
            acc = hash_children(h, &acc);
        }
    }
    acc
}

/// Bit `i` of `index`; bits past 63 are 0.
fn bit(index: u64, i: usize) -> bool {
    u32::try_from(i).ok().and_then(|i| index.checked_shr(i)).is_some_and(|v| v & 1 == 1)
}

/// Hashes up the right border, where every sibling is on the left.
fn chain_border_right(seed: Hash, proof: &[Hash]) -> Hash {
    proof.iter().fold(seed, |acc, h| hash_children(h, &acc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::hash::hash_leaf;

    #[test]
    fn inclusion_single_leaf_tree_needs_empty_proof() {
        let leaf = hash_leaf(b"x");
        assert!((verify_inclusion(0, 1, &leaf, &[], &leaf)).is_ok());
        assert!(matches!(
            verify_inclusion(0, 1, &leaf, &[leaf], &leaf),
            Err(Error::ProofLength { got: 1, want: 0 })
        ));
    }

    #[test]
    fn inclusion_index_past_size_is_rejected() {
        let leaf = hash_leaf(b"x");
        assert!(matches!(
            verify_inclusion(1, 1, &leaf, &[], &leaf),
            Err(Error::IndexOutOfRange { index: 1, size: 1 })
        ));
    }

    /// Sizes past 2^63 come from signed checkpoints a monitor reads; the arithmetic must not
    /// overflow (it panicked in debug builds and shifted by 0 in release ones).
    #[test]
    fn huge_tree_sizes_are_answered_without_overflow() {
        let leaf = hash_leaf(b"x");
        for (index, size) in [(0, u64::MAX), ((1 << 63) - 1, 1 << 63), (1 << 63, (1 << 63) + 1)] {
            let err = verify_inclusion(index, size, &leaf, &[], &leaf).unwrap_err();
            assert!(matches!(err, Error::ProofLength { got: 0, .. }), "{index}/{size}: {err}");
        }
        let err = verify_consistency(1 << 63, u64::MAX, &[], &leaf, &leaf).unwrap_err();
        assert!(matches!(err, Error::ProofLength { got: 0, .. }), "{err}");
        let err = verify_consistency(3, u64::MAX, &[leaf; 3], &leaf, &leaf).unwrap_err();
        assert!(matches!(err, Error::ProofLength { .. } | Error::RootMismatch { .. }), "{err}");
    }

    #[test]
    fn consistency_equal_sizes_with_different_roots_is_rejected() {
        let a = hash_leaf(b"a");
        let b = hash_leaf(b"b");
        assert!(matches!(verify_consistency(1, 1, &[], &a, &b), Err(Error::RootMismatch { .. })));
        assert!((verify_consistency(1, 1, &[], &a, &a)).is_ok());
    }

    #[test]
    fn consistency_from_empty_tree_is_rejected() {
        let a = hash_leaf(b"a");
        assert!(matches!(
            verify_consistency(0, 1, &[], &a, &a),
            Err(Error::SizesOutOfOrder { size1: 0, size2: 1 })
        ));
    }

    /// Every file in `fixtures/tlog/{inclusion,consistency}/` is one vector: inputs plus the
    /// verdict (`ok` or the error variant name) from the independent generator.
    #[test]
    fn fixture_vectors_give_their_recorded_verdicts() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tlog");
        let mut seen = 0;
        for kind in ["inclusion", "consistency"] {
            let mut files: Vec<_> = std::fs::read_dir(root.join(kind))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect();
            files.sort();
            for path in files {
                let v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                let hash = |key: &str| -> Hash {
                    hex::decode(v[key].as_str().unwrap()).unwrap().try_into().unwrap()
                };
                let proof: Vec<Hash> = v["proof"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| hex::decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
                    .collect();
                let num = |key: &str| v[key].as_u64().unwrap();
                let result = if kind == "inclusion" {
                    verify_inclusion(
                        num("leafIndex"),
                        num("treeSize"),
                        &hash("leafHash"),
                        &proof,
                        &hash("rootHash"),
                    )
                } else {
                    verify_consistency(
                        num("size1"),
                        num("size2"),
                        &proof,
                        &hash("root1"),
                        &hash("root2"),
                    )
                };
                let got = match &result {
                    Ok(()) => "ok",
                    Err(Error::IndexOutOfRange { .. }) => "IndexOutOfRange",
                    Err(Error::SizesOutOfOrder { .. }) => "SizesOutOfOrder",
                    Err(Error::ProofLength { .. }) => "ProofLength",
                    Err(Error::RootMismatch { .. }) => "RootMismatch",
                    Err(other) => panic!("{}: unexpected error {other}", path.display()),
                };
                assert_eq!(got, v["want"].as_str().unwrap(), "{}: {result:?}", path.display());
                seen += 1;
            }
        }
        assert!(seen >= 30, "only {seen} vectors found");
    }
}
