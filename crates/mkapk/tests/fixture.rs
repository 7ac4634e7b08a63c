//! mkapk against a package written by apk-tools' own `apk mkpkg`
//! (tests/fixtures/README.md says how it was made).

mod common;

use common::{meta, read, tree, MTIME};
use mkapk::package::{self, EntryKind, Node};

#[test]
fn tree_description_is_what_it_claims() {
    let t = tree();
    assert_eq!(t.len(), 16);
    assert_eq!(t[""], Node::Dir { mode: 0o755 });
    assert_eq!(t["empty"], Node::Dir { mode: 0o700 });
    match &t["usr/sbin/tinyd"] {
        Node::File {
            mode: 0o755, data, ..
        } => assert_eq!(data.len(), 70_000),
        n => panic!("{n:?}"),
    }
    match &t["etc/init.d/tiny"] {
        Node::File { data, .. } => assert_eq!(data, b"#!/bin/sh /etc/rc.common\nSTART=95\n"),
        n => panic!("{n:?}"),
    }
    assert!(read("pre-deinstall").len() > 255);
}

#[test]
fn writer_output_is_byte_identical_to_apk_mkpkg() {
    let real = package::decompress(&read("tiny.apk")).unwrap();
    let ours = package::build_stream(&meta(), &tree()).unwrap();
    assert_eq!(ours.len(), real.len());
    if let Some(i) = ours.iter().zip(&real).position(|(a, b)| a != b) {
        panic!("first difference at byte {i} of {}", real.len());
    }
    // The compressed file differs only in the deflate bytes.
    let file = package::build(&meta(), &tree()).unwrap();
    assert_eq!(&file[..4], b"ADBd");
    assert_eq!(package::decompress(&file).unwrap(), real);
}

#[test]
fn reader_parses_the_apk_mkpkg_package() {
    let p = package::parse(&read("tiny.apk")).unwrap();
    assert_eq!(p.info["name"], "tiny");
    assert_eq!(p.info["version"], "1.2.3-r1");
    assert_eq!(p.info["arch"], "aarch64_cortex-a53");
    assert_eq!(p.info["license"], "MIT OR Apache-2.0");
    assert_eq!(p.info["maintainer"], "Nobody <nobody@example.org>");
    assert!(!p.info.contains_key("depends"));
    assert_eq!(p.installed_size, 8 + 34 + 84 + 70_000);
    assert_eq!(p.unique_id.len(), 20);
    assert_eq!(p.scripts["post-install"], read("post-install"));
    assert_eq!(p.scripts["pre-deinstall"], read("pre-deinstall"));
    assert_eq!(p.scripts.len(), 2);

    let t = tree();
    let got: Vec<&str> = p.entries.iter().map(|e| e.path.as_str()).collect();
    let want: Vec<&str> = t.keys().map(String::as_str).collect();
    assert_eq!(got, want, "every entry, in the order apk lists them");
    for e in &p.entries {
        assert_eq!(
            (e.user.as_str(), e.group.as_str()),
            ("root", "root"),
            "{}",
            e.path
        );
        match (&e.kind, &t[&e.path]) {
            (EntryKind::Dir, Node::Dir { mode }) => assert_eq!(e.mode, *mode, "{}", e.path),
            (
                EntryKind::File {
                    data: got,
                    mtime,
                    size,
                    ..
                },
                Node::File { mode, data, .. },
            ) => {
                assert_eq!(e.mode, *mode, "{}", e.path);
                assert_eq!(got, data, "{}", e.path);
                assert_eq!(*size, data.len() as u64);
                assert_eq!(*mtime, MTIME);
            }
            (EntryKind::Symlink { target: got, .. }, Node::Symlink { target, .. }) => {
                assert_eq!(got, target);
                assert_eq!(e.mode, 0o777);
            }
            (k, n) => panic!("{}: {k:?} vs {n:?}", e.path),
        }
    }
}

#[test]
fn reader_rejects_a_corrupted_apk_mkpkg_package() {
    let mut stream = package::decompress(&read("tiny.apk")).unwrap();
    // Flip one byte of the 70000-byte file's data (the last data block).
    let n = stream.len();
    stream[n - 100] ^= 0xff;
    let err = package::parse(&stream).unwrap_err();
    assert!(err.to_string().contains("sha256 mismatch"), "{err}");
}
