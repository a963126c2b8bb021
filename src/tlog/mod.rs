//! L1 the Merkle transparency log, independent of Rekor: RFC 6962 / RFC 9162 hashing,
//! proof arithmetic, proof verification, compact ranges for appending, C2SP signed-note
//! checkpoints and C2SP tlog-tiles paths.
//!
//! Nothing here does I/O. Storage reaches the algorithms through [`NodeStore`] or a
//! fetching closure ([`inclusion_proof`], [`consistency_proof`], [`root_at`]); Rekor
//! knowledge (entry kinds, SETs) lives in `rekor`, so this module only sees leaf bytes.

mod checkpoint;
mod compact;
mod error;
mod hash;
mod proof;
mod storage;
mod tiles;
mod verify;

pub use checkpoint::{
    sign_checkpoint, verify_checkpoint, Checkpoint, NoteVerifier, VerifiedCheckpoint,
};
pub use compact::CompactRange;
pub use error::{Error, Result};
pub use hash::{empty_root, hash_children, hash_leaf, Hash};
pub use proof::{consistency_plan, inclusion_plan, subtrees, NodeId, ProofPlan};
pub use storage::{consistency_proof, inclusion_proof, root_at, MemoryNodeStore, NodeStore};
pub use tiles::{
    entries_path, parse_tile_path, tile_path, tile_width, TilePath, TILE_HEIGHT, TILE_WIDTH,
};
pub use verify::{root_from_inclusion_proof, verify_consistency, verify_inclusion};

/// Fuzz entry point: signed notes, checkpoint bodies and tile paths. Must never panic;
/// checks that parse → format gives back the input where the format is canonical.
#[doc(hidden)]
pub fn fuzz_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cp) = Checkpoint::parse_note_body(text) {
        assert_eq!(cp.to_note_body(), text, "checkpoint bodies are canonical");
    }
    if let Ok(tile) = parse_tile_path(text) {
        assert_eq!(tile.to_path(), text, "tile paths are canonical");
    }
    let verifiers: Vec<NoteVerifier> = crate::crypto::PublicKey::from_ed25519_raw(&[0x3b; 32])
        .ok()
        .and_then(|k| NoteVerifier::ed25519("fuzz", k).ok())
        .into_iter()
        .collect();
    let _ = verify_checkpoint(text, &verifiers);
}

#[cfg(test)]
mod fuzz_tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fuzz_parse_never_panics_on_note_like_text(
            origin in "[a-z0-9. -]{0,12}", size in "[0-9]{0,4}", root in "[A-Za-z0-9+/=]{0,48}",
            ext in "[ -~]{0,8}", sig in "[ -~\u{2014}]{0,40}"
        ) {
            let note = format!("{origin}\n{size}\n{root}\n{ext}\n\n{sig}\n");
            super::fuzz_parse(note.as_bytes());
            super::fuzz_parse(format!("tile/{size}/{origin}").as_bytes());
        }
    }
}
