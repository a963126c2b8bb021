//! RFC 6962 §2.1 / RFC 9162 §2.1.1 Merkle hashing with SHA-256. This is the only file that
//! knows the 0x00 (leaf) and 0x01 (interior node) domain-separation prefixes.

use crate::crypto::{digest, HashAlgorithm};

/// A SHA-256 Merkle hash (leaf, node or root).
pub type Hash = [u8; 32];

/// The leaf hash of `data`: SHA-256(0x00 || data).
pub fn hash_leaf(data: &[u8]) -> Hash {
    let mut buf = Vec::with_capacity(data.len() + 1);
    buf.push(LEAF_PREFIX);
    buf.extend_from_slice(data);
    sha256(&buf)
}

/// The interior node over two children: SHA-256(0x01 || left || right).
pub fn hash_children(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = NODE_PREFIX;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    sha256(&buf)
}

/// The root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    sha256(&[])
}

fn sha256(data: &[u8]) -> Hash {
    let d = digest(HashAlgorithm::Sha256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_bytes());
    out
}

const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn leaf_hash_of_empty_leaf_matches_rfc6962_vector() {
        // RFC 6962 test vector (transparency-dev/merkle rfc6962 hasher_test.go).
        assert_eq!(
            hex::encode(hash_leaf(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn node_hash_depends_on_child_order() {
        let a = hash_leaf(b"a");
        let b = hash_leaf(b"b");
        assert_ne!(hash_children(&a, &b), hash_children(&b, &a));
        assert_ne!(hash_children(&a, &b), hash_leaf(&[a, b].concat()));
    }
}
