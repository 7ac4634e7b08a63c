//! Shared by the tests: the fixture files and the tree they describe.
// Each test binary uses only some of these helpers.
#![allow(dead_code)]

use mkapk::package::{Meta, Node, Tree};
use std::path::PathBuf;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn read(name: &str) -> Vec<u8> {
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

pub const MTIME: u64 = 1_700_000_000;

/// tree.txt -> the tree mkpkg saw.
pub fn tree() -> Tree {
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

pub fn meta() -> Meta {
    let mut m = Meta::default();
    for l in String::from_utf8(read("info.txt")).unwrap().lines() {
        m.set_info(l).unwrap();
    }
    m.set_script("post-install", read("post-install")).unwrap();
    m.set_script("pre-deinstall", read("pre-deinstall"))
        .unwrap();
    m
}
