//! `v6-mkapk mkpkg` on a directory laid out from tests/fixtures/tree.txt
//! gives the same package as apk-tools' `apk mkpkg` did (tiny.apk): checks
//! the directory walk (modes, symlinks, empty dirs, SOURCE_DATE_EPOCH) and
//! the option handling, not only the in-memory writer.

mod common;

use common::{fixture, read, tree};
use mkapk::package::{self, Node};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn lay_out(root: &Path) {
    // Directories first (BTreeMap order puts parents before children).
    for (path, node) in &tree() {
        let p = root.join(path);
        match node {
            Node::Dir { .. } => std::fs::create_dir_all(&p).unwrap(),
            Node::File { data, .. } => std::fs::write(&p, data).unwrap(),
            Node::Symlink { target, .. } => symlink(target, &p).unwrap(),
        }
    }
    for (path, node) in &tree() {
        let mode = match node {
            Node::Dir { mode } | Node::File { mode, .. } => *mode,
            Node::Symlink { .. } => continue,
        };
        std::fs::set_permissions(root.join(path), std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

#[test]
fn mkpkg_on_a_directory_matches_apk_mkpkg() {
    let tmp = TempDir(std::env::temp_dir().join(format!("mkapk-cli-{}", std::process::id())));
    let root = tmp.0.join("root");
    std::fs::create_dir_all(&root).unwrap();
    lay_out(&root);
    let out = tmp.0.join("tiny.apk");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_v6-mkapk"));
    cmd.arg("mkpkg").env("SOURCE_DATE_EPOCH", "1700000000");
    for l in String::from_utf8(read("info.txt")).unwrap().lines() {
        cmd.arg("--info").arg(l);
    }
    cmd.arg("--script")
        .arg(format!(
            "post-install:{}",
            fixture("post-install").display()
        ))
        .arg("-s")
        .arg(format!(
            "pre-deinstall:{}",
            fixture("pre-deinstall").display()
        ))
        .arg("--files")
        .arg(&root)
        .arg("--output")
        .arg(&out);
    let st = cmd.status().unwrap();
    assert!(st.success());
    let ours = package::decompress(&std::fs::read(&out).unwrap()).unwrap();
    let real = package::decompress(&read("tiny.apk")).unwrap();
    assert!(ours == real, "v6-mkapk's package differs from apk mkpkg's");

    let dump = Command::new(env!("CARGO_BIN_EXE_v6-mkapk"))
        .arg("dump")
        .arg(&out)
        .output()
        .unwrap();
    assert!(dump.status.success());
    let text = String::from_utf8(dump.stdout).unwrap();
    assert!(text.contains("d 0700 root:root /empty\n"), "{text}");
    assert!(
        text.contains("l 0777 root:root /usr/bin/tiny-link -> ../sbin/tinyd\n"),
        "{text}"
    );
}

#[test]
fn mkpkg_refuses_what_it_cannot_write() {
    let run = |args: Vec<String>| {
        Command::new(env!("CARGO_BIN_EXE_v6-mkapk"))
            .args(args)
            .output()
            .unwrap()
    };
    let tmp = TempDir(std::env::temp_dir().join(format!("mkapk-cli-bad-{}", std::process::id())));
    let root = tmp.0.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let out = tmp.0.join("x.apk");
    let (r, o) = (root.display().to_string(), out.display().to_string());
    let base = [
        "mkpkg",
        "--info",
        "name:x",
        "--info",
        "version:1.0-r1",
        "--info",
        "arch:x86_64",
    ];
    let with = |extra: &[&'static str]| -> Vec<String> {
        base.iter()
            .chain(extra)
            .map(|s| s.to_string())
            .chain(["--files".into(), r.clone(), "--output".into(), o.clone()])
            .collect()
    };
    assert!(run(with(&[])).status.success());
    let e = run(with(&["--info", "depends:libc"]));
    assert!(!e.status.success());
    assert!(String::from_utf8_lossy(&e.stderr).contains("depends"));
    assert!(!run(with(&["--info", "version:one"])).status.success());
    std::fs::write(root.join("a"), b"x").unwrap();
    std::fs::hard_link(root.join("a"), root.join("b")).unwrap();
    let e = run(with(&[]));
    assert!(!e.status.success());
    assert!(String::from_utf8_lossy(&e.stderr).contains("hard links"));
}
