use super::*;

fn meta() -> Meta {
    let mut m = Meta::default();
    for kv in [
        "name:demo",
        "version:1.2.3-r1",
        "arch:x86_64",
        "license:MIT",
        "depends:",
    ] {
        m.set_info(kv).unwrap();
    }
    m
}

fn tree() -> Tree {
    let mut t = Tree::new();
    t.insert(String::new(), Node::Dir { mode: 0o755 });
    t.insert("etc".into(), Node::Dir { mode: 0o755 });
    t.insert(
        "etc/a.conf".into(),
        Node::File {
            mode: 0o600,
            mtime: 1_700_000_000,
            data: b"a=1\n".to_vec(),
        },
    );
    t.insert(
        "etc/link".into(),
        Node::Symlink {
            mtime: 1_700_000_000,
            target: "a.conf".into(),
        },
    );
    t
}

#[test]
fn round_trip_tree_and_info() {
    let apk = build(&meta(), &tree()).unwrap();
    assert_eq!(&apk[..4], b"ADBd");
    let p = parse(&apk).unwrap();
    assert_eq!(p.info["name"], "demo");
    assert_eq!(p.info["version"], "1.2.3-r1");
    assert_eq!(p.info["arch"], "x86_64");
    assert!(!p.info.contains_key("depends"));
    assert_eq!(p.installed_size, 4);
    let paths: Vec<_> = p
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e.mode))
        .collect();
    assert_eq!(
        paths,
        vec![
            ("", 0o755),
            ("etc", 0o755),
            ("etc/a.conf", 0o600),
            ("etc/link", 0o777)
        ]
    );
    match &p.entries[2].kind {
        EntryKind::File { data, .. } => assert_eq!(data, b"a=1\n"),
        k => panic!("{k:?}"),
    }
}

#[test]
fn unique_id_is_sha256_prefix_of_block_with_zero_placeholder() {
    let p = parse(&build(&meta(), &tree()).unwrap()).unwrap();
    let mut block = p.adb_block.clone();
    let at = block
        .windows(20)
        .position(|w| w == p.unique_id.as_slice())
        .unwrap();
    block[at..at + 20].fill(0);
    assert_eq!(&Sha256::digest(&block)[..20], p.unique_id.as_slice());
}

#[test]
fn deterministic_and_sensitive_to_content() {
    let a = build(&meta(), &tree()).unwrap();
    assert_eq!(a, build(&meta(), &tree()).unwrap());
    let mut t = tree();
    t.insert(
        "etc/a.conf".into(),
        Node::File {
            mode: 0o600,
            mtime: 1_700_000_000,
            data: b"a=2\n".to_vec(),
        },
    );
    assert_ne!(
        parse(&a).unwrap().unique_id,
        parse(&build(&meta(), &t).unwrap()).unwrap().unique_id
    );
}

#[test]
fn rejects_what_it_cannot_encode() {
    let mut m = Meta::default();
    assert!(m.set_info("depends:libc").is_err());
    assert!(m.set_info("provides:x").is_err());
    assert!(m.set_info("nocolon").is_err());
    assert!(m.set_script("post-install", vec![]).is_ok());
    assert!(m.set_script("postinst", vec![]).is_err());
    for v in ["1.0", "0.1.0-r1", "2.3a_rc1-r10", "1.0_p2~abc1"] {
        assert!(check_version(v).is_ok(), "{v}");
    }
    for v in ["", "a1", "1.", "1.0-r", "1.0_foo", "1.0 "] {
        assert!(check_version(v).is_err(), "{v}");
    }
    let mut bad = meta();
    bad.info.insert(1, "-x".into());
    assert!(build(&bad, &tree()).is_err());
}

#[test]
fn reader_rejects_tampered_data() {
    let stream = build_stream(&meta(), &tree()).unwrap();
    let mut s = stream.clone();
    let at = s.windows(4).rposition(|w| w == b"a=1\n").unwrap();
    s[at + 2] = b'9';
    assert!(
        matches!(parse(&s), Err(Error::Data(_))),
        "hash mismatch detected"
    );
    assert!(
        parse(&stream).is_ok(),
        "uncompressed ADB. files are read too"
    );
    assert!(parse(b"PK\x03\x04").is_err());
}
