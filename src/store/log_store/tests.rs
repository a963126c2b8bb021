//! Tests of the sled-backed log store.
use super::*;
use crate::tlog::{hash_leaf, inclusion_proof, verify_inclusion, NodeStore as _};

/// Opens a store whose previous handle was closed (`open` waits for sled's lock).
fn reopen(path: &Path) -> LogStore {
    LogStore::open(path).expect("a closed store reopens")
}

fn commit_leaves(store: &LogStore, range: &mut CompactRange, datas: &[&[u8]]) -> Commit {
    let mut commit = Commit::default();
    for d in datas {
        let leaf_hash = hash_leaf(d);
        let index = range.size();
        range.append(leaf_hash, |id, h| commit.nodes.push((id, *h))).unwrap();
        commit.entries.push(CommittedEntry {
            index,
            leaf_hash,
            record: d.to_vec(),
            search_keys: vec![format!("key-{}", d.len())],
        });
    }
    commit.checkpoint = format!("size {}", range.size());
    store.commit(&commit).unwrap();
    commit
}

#[test]
fn committed_entries_survive_reopen_with_same_root_and_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let mut range = CompactRange::new();
    let root = {
        let store = LogStore::open(dir.path()).unwrap();
        commit_leaves(&store, &mut range, &[b"a", b"bb", b"ccc"]);
        commit_leaves(&store, &mut range, &[b"dddd", b"e"]);
        store.close().unwrap();
        range.root()
    };
    let store = reopen(dir.path());
    assert_eq!(store.size().unwrap(), 5);
    assert_eq!(store.compact_range().unwrap().root(), root);
    assert_eq!(store.checkpoint().unwrap().as_deref(), Some("size 5"));
    assert_eq!(store.entry(3).unwrap().as_deref(), Some(&b"dddd"[..]));
    assert_eq!(store.index_of(&hash_leaf(b"ccc")).unwrap(), Some(2));
    assert_eq!(store.search("key-1").unwrap(), vec![0, 4]);
    assert_eq!(store.entries(1, 3).unwrap(), vec![b"bb".to_vec(), b"ccc".to_vec()]);
    let proof = inclusion_proof(2, 5, |id| store.node(id)).unwrap();
    assert!(verify_inclusion(2, 5, &hash_leaf(b"ccc"), &proof, &root).is_ok());
}

#[test]
fn commit_not_continuing_the_log_is_rejected_and_changes_nothing() {
    let store = LogStore::temporary().unwrap();
    let mut range = CompactRange::new();
    commit_leaves(&store, &mut range, &[b"a"]);
    let bad = Commit {
        entries: vec![CommittedEntry {
            index: 5,
            leaf_hash: hash_leaf(b"x"),
            record: vec![],
            search_keys: vec![],
        }],
        nodes: vec![],
        checkpoint: "x".into(),
    };
    assert!(matches!(store.commit(&bad), Err(Error::OutOfSequence { got: 5, want: 1 })));
    assert_eq!(store.size().unwrap(), 1);
    assert_eq!(store.checkpoint().unwrap().as_deref(), Some("size 1"));
}

#[test]
fn proofs_and_tiles_agree_with_an_in_memory_tree_across_tile_levels() {
    // 70,000 leaves reach tile level 2 (65,536 = 256^2); uneven batches cross tile edges.
    let store = LogStore::temporary().unwrap();
    let mut reference = tlog::MemoryNodeStore::new();
    let mut range = CompactRange::new();
    let mut n = 0u64;
    let mut batch = 1u64;
    while n < 70_000 {
        let mut commit = Commit::default();
        for i in n..(n + batch).min(70_000) {
            let leaf = hash_leaf(&i.to_be_bytes());
            reference.append(leaf).unwrap();
            range.append(leaf, |id, h| commit.nodes.push((id, *h))).unwrap();
            commit.entries.push(CommittedEntry {
                index: i,
                leaf_hash: leaf,
                record: vec![],
                search_keys: vec![],
            });
        }
        n += commit.entries.len() as u64;
        commit.checkpoint = n.to_string();
        store.commit(&commit).unwrap();
        batch = batch * 7 % 1013 + 1;
    }
    assert_eq!(store.compact_range().unwrap().root(), reference.root());
    for index in [0, 1, 255, 256, 65_535, 65_536, 69_999] {
        for size in [index + 1, 65_536, 70_000] {
            if size <= index {
                continue;
            }
            let got = inclusion_proof(index, size, |id| store.node(id)).unwrap();
            let want = inclusion_proof(index, size, |id| reference.node(id)).unwrap();
            assert_eq!(got, want, "proof for {index} at {size}");
        }
    }
    let got = tlog::consistency_proof(300, 70_000, |id| store.node(id)).unwrap();
    let want = tlog::consistency_proof(300, 70_000, |id| reference.node(id)).unwrap();
    assert_eq!(got, want);
    // Tile rows as the tlog-tiles endpoint serves them: level 8, partial last tile.
    let nodes = store.level_nodes(8, 256, 512).unwrap();
    let want: Vec<Hash> =
        (256..273).map(|i| reference.node(NodeId { level: 8, index: i }).unwrap()).collect();
    assert_eq!(nodes, want, "70,000 >> 8 = 273 nodes at level 8");
    assert_eq!(store.level_nodes(0, 69_888, 70_144).unwrap().len(), 112);
    assert!(store.level_nodes(3, 0, 4).unwrap().is_empty(), "not a tile row");
}

/// Format 1's leaf-hash key.
fn leaf_key(hash: &Hash) -> [u8; 33] {
    let mut k = [b'l'; 33];
    k[1..].copy_from_slice(hash);
    k
}

#[test]
fn a_format_1_store_is_converted_on_open_and_keeps_its_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let mut reference = tlog::MemoryNodeStore::new();
    {
        // The old layout, written by hand: a key per node, search keys in clear.
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let tree = db.open_tree("log").unwrap();
        let mut range = CompactRange::new();
        for i in 0..600u64 {
            let leaf = hash_leaf(&i.to_be_bytes());
            reference.append(leaf).unwrap();
            range
                .append(leaf, |id, h| {
                    let mut k = vec![b'n', id.level];
                    k.extend_from_slice(&id.index.to_be_bytes());
                    tree.insert(k, &h[..]).unwrap();
                })
                .unwrap();
            tree.insert(entry_key(i), i.to_string().as_bytes()).unwrap();
            tree.insert(leaf_key(&leaf), &i.to_be_bytes()[..]).unwrap();
            let mut k = b"s".to_vec();
            k.extend_from_slice(format!("old-key-{}", i % 3).as_bytes());
            k.push(0);
            k.extend_from_slice(&i.to_be_bytes());
            tree.insert(k, &[][..]).unwrap();
        }
        tree.insert(meta_key("size"), &600u64.to_be_bytes()[..]).unwrap();
        db.flush().unwrap();
    }
    let store = reopen(dir.path());
    assert_eq!(store.size().unwrap(), 600);
    assert_eq!(store.compact_range().unwrap().root(), reference.root());
    let got = inclusion_proof(517, 600, |id| store.node(id)).unwrap();
    assert_eq!(got, inclusion_proof(517, 600, |id| reference.node(id)).unwrap());
    assert_eq!(
        store.search("old-key-2").unwrap(),
        (0..600).filter(|i| i % 3 == 2).collect::<Vec<_>>()
    );
    assert_eq!(store.entry(7).unwrap().as_deref(), Some(&b"7"[..]));
    assert_eq!(store.index_of(&hash_leaf(&517u64.to_be_bytes())).unwrap(), Some(517));
    for old in [b"n", b"l", b"s"] {
        assert_eq!(store.tree.scan_prefix(old).count(), 0, "old keys are gone");
    }
    store.close().unwrap();
    // Opening again finds the current format and changes nothing.
    let store = reopen(dir.path());
    assert_eq!(store.compact_range().unwrap().root(), reference.root());
}

#[test]
fn missing_node_is_a_tree_error() {
    let store = LogStore::temporary().unwrap();
    assert!(matches!(
        store.node(NodeId { level: 0, index: 0 }),
        Err(Error::Tree(tlog::Error::MissingNode { level: 0, index: 0 }))
    ));
}
