//! mkapk against a package written by apk-tools' own `apk mkpkg`
//! (tests/fixtures/README.md says how it was made).

use mkapk::package::{self, EntryKind, Meta, Node, Tree};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut it = s.bytes();
    while let Some(c) = it.next() {
        if c != b'\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'\\') => out.push(b'\\'),
            other => panic!("bad escape {other:?}"),
        }
    }
    out
}

/// The text after the first `n` whitespace-separated words.
fn rest_after(line: &str, n: usize) -> &str {
    let mut rest = line.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest
}

const MTIME: u64 = 1_700_000_000;

/// tree.txt -> the tree mkpkg saw.
fn tree() -> Tree {
    let text = String::from_utf8(read("tree.txt")).unwrap();
    let mut t = Tree::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split_whitespace().collect();
        let path = if f[1] == "." {
            String::new()
        } else {
            f[1].to_string()
        };
        let node = match f[0] {
            "dir" => Node::Dir {
                mode: u32::from_str_radix(f[2], 8).unwrap(),
            },
            "link" => Node::Symlink {
                mtime: MTIME,
                target: f[2].to_string(),
            },
            "file" => {
                let spec = rest_after(line, 3);
                let data = if let Some(t) = spec.strip_prefix("text:") {
                    unescape(t)
                } else if let Some(n) = spec.strip_prefix("pattern:") {
                    (0..n.parse::<usize>().unwrap())
                        .map(|i| ((i * 7 + 3) % 256) as u8)
                        .collect()
                } else {
                    panic!("{line}")
                };
                Node::File {
                    mode: u32::from_str_radix(f[2], 8).unwrap(),
                    mtime: MTIME,
                    data,
                }
            }
            k => panic!("kind {k}"),
        };
        t.insert(path, node);
    }
    t
}

fn meta() -> Meta {
    let mut m = Meta::default();
    for l in String::from_utf8(read("info.txt")).unwrap().lines() {
        m.set_info(l).unwrap();
    }
    m.set_script("post-install", read("post-install")).unwrap();
    m.set_script("pre-deinstall", read("pre-deinstall"))
        .unwrap();
    m
}

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
