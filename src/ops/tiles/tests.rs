use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::crypto::{EcdsaP256Signer, Ed25519Signer, Signer};
use crate::tlog::{Checkpoint, MemoryNodeStore, NodeStore};

/// An in-memory log whose exported size can be set below its full size, and whose stored
/// nodes can be damaged.
struct Fake {
    nodes: MemoryNodeStore,
    leaves: Vec<Vec<u8>>,
    signer: Ed25519Signer,
    size: u64,
    flipped: Option<NodeId>,
    /// Leaf `i` is `"<tag> <i>"`.
    tag: &'static str,
}

impl Fake {
    fn new(n: u64) -> Fake {
        Fake::tagged("entry", n)
    }

    fn tagged(tag: &'static str, n: u64) -> Fake {
        let mut fake = Fake {
            tag,
            nodes: MemoryNodeStore::new(),
            leaves: Vec::new(),
            signer: Ed25519Signer::generate(),
            size: 0,
            flipped: None,
        };
        fake.grow(n);
        fake
    }

    fn grow(&mut self, n: u64) {
        for _ in 0..n {
            let leaf = format!("{} {}", self.tag, self.leaves.len()).into_bytes();
            self.nodes.append(tlog::hash_leaf(&leaf)).unwrap();
            self.leaves.push(leaf);
        }
        self.size = self.nodes.size();
    }
}

impl TileSource for Fake {
    fn signed_tree(&self) -> Result<SignedTree> {
        let root = self.root_at(self.size)?;
        let cp = Checkpoint {
            origin: "fake.test".into(),
            size: self.size,
            root_hash: root,
            extensions: vec![],
        };
        let checkpoint = tlog::sign_checkpoint(&cp, "fake.test", &self.signer)?;
        Ok(SignedTree { size: self.size, root, checkpoint })
    }

    fn level_nodes(&self, level: u8, first: u64, end: u64) -> Result<Vec<Hash>> {
        let mut out = Vec::new();
        for index in first..end {
            let id = NodeId { level, index };
            let Ok(mut hash) = self.nodes.node(id) else { break };
            if self.flipped == Some(id) {
                hash[0] ^= 1;
            }
            out.push(hash);
        }
        Ok(out)
    }

    fn leaf_data(&self, first: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        Ok(self.leaves[first as usize..end as usize].to_vec())
    }

    fn root_at(&self, size: u64) -> Result<Hash> {
        Ok(tlog::root_at(size, |id| self.nodes.node(id))?)
    }
}

/// Every file below `dir` (relative path → bytes), temporary files included.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The root a reader rebuilds from the files alone: level-0 tiles' hashes, folded as RFC
/// 6962 does (independent of `root_from_edge`).
fn reader_root(dir: &Path, size: u64) -> Hash {
    let mut leaves = MemoryNodeStore::new();
    let mut index = 0;
    while leaves.size() < size {
        let width = (size - leaves.size()).min(TILE_WIDTH) as u16;
        let bytes = std::fs::read(dir.join(tlog::tile_path(0, index, width))).unwrap();
        for hash in bytes.chunks_exact(32) {
            leaves.append(hash.try_into().unwrap()).unwrap();
        }
        index += 1;
    }
    leaves.root()
}

fn export(dir: &TileDir, source: &dyn TileSource, from: u64) -> Result<Exported> {
    dir.export(source, from, &mut |_, _| {})
}

#[test]
fn the_right_edge_alone_gives_the_root_at_every_shape_of_tree() {
    let mut fake = Fake::new(0);
    for size in [0u64, 1, 2, 255, 256, 257, 511, 512, 65535, 65536, 65537, 70_000] {
        fake.grow(size - fake.size);
        let edge = right_edge(&fake, size).unwrap();
        assert_eq!(root_from_edge(size, &edge), Some(fake.nodes.root()), "size {size}");
    }
    // C2SP's example: 70,000 = 273 full level-0 tiles + 112, one full level-1 tile + 17,
    // and a level-2 tile of width 1.
    let partials: Vec<_> = plan(70_000, 70_000).into_iter().map(|t| t.to_path()).collect();
    assert_eq!(
        partials,
        ["tile/0/273.p/112", "tile/entries/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1"]
    );
    assert_eq!(plan(70_000, 0).len(), 273 * 2 + 2 + 1 + 1 + 1);
}

#[test]
fn export_is_incremental_and_a_reader_rebuilds_the_signed_root() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = TileDir::open(&tmp.path().join("tiles")).unwrap();
    let mut fake = Fake::new(300);
    let first = export(&dir, &fake, 0).unwrap();
    // tile/0/000, 001.p/44, entries 000 and 001.p/44, tile/1/000.p/1.
    assert_eq!((first.written, first.skipped, first.checkpoint_written), (5, 0, true));
    assert_eq!(reader_root(dir.path(), 300), fake.nodes.root());
    let bundle = std::fs::read(dir.path().join("tile/entries/001.p/44")).unwrap();
    assert_eq!(&bundle[..2], &(b"entry 256".len() as u16).to_be_bytes());
    assert_eq!(&bundle[2..11], b"entry 256");
    let before = files(dir.path());
    assert!(before.keys().all(|k| !k.contains(".tmp")), "{:?}", before.keys());

    let again = export(&dir, &fake, 0).unwrap();
    assert_eq!((again.written, again.skipped, again.checkpoint_written), (0, 5, false));
    assert_eq!(files(dir.path()), before, "a second export changes nothing");

    // 300 → 600: the level-0 tile 001 and its bundle become full (their partials go), a new
    // partial at 002, and level 1 grows to width 2.
    fake.grow(300);
    let grown = export(&dir, &fake, 300).unwrap();
    assert_eq!((grown.written, grown.removed), (5, 2), "{grown:?}");
    let after = files(dir.path());
    let new: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).cloned().collect();
    assert_eq!(
        new,
        [
            "tile/0/001",
            "tile/0/002.p/88",
            "tile/1/000.p/2",
            "tile/entries/001",
            "tile/entries/002.p/88"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
    );
    for (name, bytes) in &before {
        if name != "checkpoint" && !name.contains(".p/44") {
            assert_eq!(after.get(name), Some(bytes), "{name} was rewritten");
        }
    }
    assert!(!dir.path().join("tile/0/001.p").exists(), "superseded partials are removed");
    assert_eq!(reader_root(dir.path(), 600), fake.nodes.root());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("checkpoint")).unwrap(),
        fake.signed_tree().unwrap().checkpoint
    );

    // A lost file is put back by a full pass, and only that one.
    std::fs::remove_file(dir.path().join("tile/0/000")).unwrap();
    let repaired = export(&dir, &fake, 0).unwrap();
    assert_eq!((repaired.written, repaired.checkpoint_written), (1, false));
    assert_eq!(files(dir.path()), after);
}

#[test]
fn nothing_is_published_when_a_tile_disagrees_with_the_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = TileDir::open(tmp.path()).unwrap();
    let mut fake = Fake::new(600);
    // A damaged leaf hash in the full tile 001: its parent (level 8) no longer matches.
    fake.flipped = Some(NodeId { level: 0, index: 300 });
    let err = export(&dir, &fake, 0).unwrap_err();
    assert!(
        matches!(&err, Error::Damaged(Damage::Tile { path, problem })
            if path == "tile/0/001" && problem.contains("parent node")),
        "{err}"
    );
    assert!(!dir.path().join("checkpoint").exists());
    // A damaged node on the right edge: the signed root is not reached.
    fake.flipped = Some(NodeId { level: 0, index: 599 });
    let err = export(&dir, &fake, 0).unwrap_err();
    assert!(err.to_string().contains("do not hash to the signed root"), "{err}");
    // The entry bundle is checked against the leaf hashes (into a new directory: the
    // first attempt above wrote the good bundle 000, and present files are not rewritten).
    fake.flipped = None;
    fake.leaves[10] = b"changed".to_vec();
    let dir = TileDir::open(&tmp.path().join("again")).unwrap();
    let err = export(&dir, &fake, 0).unwrap_err();
    assert!(err.to_string().contains("entry 10 does not hash to its leaf hash"), "{err}");
    assert!(!dir.path().join("checkpoint").exists());
}

#[test]
fn a_directory_of_another_tree_or_another_exporter_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("tiles");
    let dir = TileDir::open(&path).unwrap();
    export(&dir, &Fake::new(10), 0).unwrap();
    assert!(matches!(TileDir::open(&path), Err(Error::Refused(_))), "locked");
    let other = Fake::tagged("other", 20);
    let err = export(&dir, &other, 0).unwrap_err();
    assert!(err.to_string().contains("publishes another tree"), "{err}");
    let smaller = Fake::new(5);
    let err = export(&dir, &smaller, 0).unwrap_err();
    assert!(err.to_string().contains("larger than this log's 5"), "{err}");
    drop(dir);
    std::fs::write(path.join("checkpoint"), "not a note").unwrap();
    let dir = TileDir::open(&path).unwrap();
    assert!(matches!(export(&dir, &Fake::new(10), 0), Err(Error::Refused(_))));
}

#[test]
fn a_stopped_store_exports_at_its_verified_checkpoint() {
    use crate::rekor::Record;
    use crate::store::{Commit, CommittedEntry};
    let tmp = tempfile::tempdir().unwrap();
    let signer = EcdsaP256Signer::generate();
    let store = LogStore::open(&tmp.path().join("db")).unwrap();
    let mut range = tlog::CompactRange::new();
    let mut commit = Commit::default();
    for i in 0..300u64 {
        let body = format!("{{\"entry\":{i}}}");
        let leaf = tlog::hash_leaf(body.as_bytes());
        range.append(leaf, |id, h| commit.nodes.push((id, *h))).unwrap();
        let record = Record::new(body.as_bytes(), 1, i, &signer.public_key().key_id(), &signer);
        commit.entries.push(CommittedEntry {
            index: i,
            leaf_hash: leaf,
            record: record.unwrap().to_bytes().unwrap(),
            search_keys: vec![],
        });
    }
    let cp = Checkpoint {
        origin: "t - 1".into(),
        size: 300,
        root_hash: range.root(),
        extensions: vec![],
    };
    commit.checkpoint = tlog::sign_checkpoint(&cp, "t", &signer).unwrap();
    store.commit(&commit).unwrap();

    let out = TileDir::open(&tmp.path().join("tiles")).unwrap();
    let source = StoreSource::new(&store, LogKind::Rekor, signer.public_key().clone());
    let done = export(&out, &source, 0).unwrap();
    assert_eq!((done.size, done.written), (300, 5));
    assert_eq!(reader_root(out.path(), 300), range.root());
    let bundle = std::fs::read(out.path().join("tile/entries/000")).unwrap();
    assert_eq!(&bundle[2..13], b"{\"entry\":0}");

    let stranger = EcdsaP256Signer::generate().public_key().clone();
    let err = export(&out, &StoreSource::new(&store, LogKind::Rekor, stranger), 0).unwrap_err();
    assert!(matches!(err, Error::Damaged(Damage::Checkpoint(_))), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_exporter_publishes_the_final_head_when_stopped_and_lets_the_log_close() {
    use std::sync::Arc;
    let tmp = tempfile::tempdir().unwrap();
    let key: Arc<dyn Signer> = Arc::new(Ed25519Signer::generate());
    let store = LogStore::open(&tmp.path().join("db")).unwrap();
    let log = crate::rekor::Log::open_version(
        store,
        key.clone(),
        "live.test",
        crate::rekor::LogVersion::V2,
        Arc::new(|| 1),
    )
    .unwrap();
    let tiles = tmp.path().join("tiles");
    // A tick far away: only the stop makes it export.
    let live =
        live::LiveExport::start(log.clone(), &tiles, std::time::Duration::from_secs(3600)).unwrap();
    assert!(matches!(TileDir::open(&tiles), Err(Error::Refused(_))), "the exporter holds it");
    let s = EcdsaP256Signer::generate();
    for i in 0..3u8 {
        let d = crate::crypto::digest(crate::crypto::HashAlgorithm::Sha256, &[i]);
        let sig = s.sign_prehashed(d.as_bytes()).unwrap();
        let request = serde_json::json!({"hashedRekordRequestV002": {
            "digest": crate::encoding::b64_encode(d.as_bytes()),
            "signature": {"content": crate::encoding::b64_encode(&sig), "verifier": {
                "publicKey": {"rawBytes": crate::encoding::b64_encode(s.public_key().spki_der())},
                "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}});
        log.submit(crate::rekor::canonicalize_v2_request(&request).unwrap()).await.unwrap();
    }
    let done = live.stop().unwrap().expect("a final export");
    assert_eq!((done.size, done.written), (3, 2));
    assert_eq!(std::fs::read_to_string(tiles.join("checkpoint")).unwrap(), log.head().checkpoint);
    assert_eq!(reader_root(&tiles, 3), log.head().root);
    // The exporter's handle is gone: this is the last one, so the store closes and reopens.
    log.close().unwrap();
    LogStore::open(&tmp.path().join("db")).unwrap();
}
