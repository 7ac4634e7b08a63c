//! `v6-mkapk`: `apk mkpkg` for hosts without apk-tools v3, plus a reader.
//!
//!   v6-mkapk [mkpkg] --info KEY:VALUE... [--script TYPE:FILE]... --files DIR --output FILE
//!   v6-mkapk dump FILE.apk
//!
//! The option names are `apk mkpkg`'s (apk-mkpkg(8)), so a script can call
//! either. Files are recorded root-owned; mtimes are SOURCE_DATE_EPOCH when
//! set, else each file's own (as mkpkg does).

use mkapk::package::{self, EntryKind, Meta, Node, Tree};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::ExitCode;

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("v6-mkapk: {msg}");
    ExitCode::FAILURE
}

/// Reads DIR into a tree (lstat, no symlink following).
fn walk(root: &Path, epoch: Option<u64>) -> Result<Tree, String> {
    let mut tree = Tree::new();
    let meta = std::fs::symlink_metadata(root).map_err(|e| format!("{}: {e}", root.display()))?;
    if !meta.is_dir() {
        return Err(format!("{}: not a directory", root.display()));
    }
    tree.insert(
        String::new(),
        Node::Dir {
            mode: meta.permissions().mode() & 0o7777,
        },
    );
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let rd = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for ent in rd {
            let ent = ent.map_err(|e| format!("{}: {e}", dir.display()))?;
            let name = ent
                .file_name()
                .into_string()
                .map_err(|n| format!("{}: non-UTF-8 file name {n:?}", dir.display()))?;
            let path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let full = root.join(&path);
            let m = std::fs::symlink_metadata(&full).map_err(|e| format!("{path}: {e}"))?;
            let mtime = epoch.unwrap_or(m.mtime().max(0) as u64);
            let ft = m.file_type();
            let node = if ft.is_dir() {
                stack.push(path.clone());
                Node::Dir {
                    mode: m.mode() & 0o7777,
                }
            } else if ft.is_symlink() {
                let t = std::fs::read_link(&full).map_err(|e| format!("{path}: {e}"))?;
                let target = t
                    .into_os_string()
                    .into_string()
                    .map_err(|_| format!("{path}: non-UTF-8 link"))?;
                Node::Symlink { mtime, target }
            } else if ft.is_file() {
                if m.nlink() > 1 {
                    return Err(format!("{path}: hard links are not supported"));
                }
                let data = std::fs::read(&full).map_err(|e| format!("{path}: {e}"))?;
                Node::File {
                    mode: m.mode() & 0o7777,
                    mtime,
                    data,
                }
            } else {
                return Err(format!(
                    "{path}: device, fifo or socket entries are not supported"
                ));
            };
            tree.insert(path, node);
        }
    }
    Ok(tree)
}

fn mkpkg(args: &[String]) -> ExitCode {
    let mut meta = Meta::default();
    let (mut files, mut output) = (None, None);
    let mut it = args.iter();
    while let Some(opt) = it.next() {
        let (key, inline) = match opt.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k, Some(v.to_string())),
            _ => (opt.as_str(), None),
        };
        let Some(val) = inline.or_else(|| it.next().cloned()) else {
            return fail(format!("{opt} needs a value"));
        };
        let r = match key {
            "--info" | "-I" => meta.set_info(&val).map_err(|e| e.to_string()),
            "--files" | "-F" => {
                files = Some(val);
                Ok(())
            }
            "--output" | "-o" => {
                output = Some(val);
                Ok(())
            }
            "--script" | "-s" => match val.split_once(':') {
                Some((kind, file)) => std::fs::read(file)
                    .map_err(|e| format!("failed to load script: {file}: {e}"))
                    .and_then(|body| meta.set_script(kind, body).map_err(|e| e.to_string())),
                None => Err(format!("missing script type: {val}")),
            },
            _ => Err(format!("unsupported option {opt}")),
        };
        if let Err(e) = r {
            return fail(e);
        }
    }
    let (Some(files), Some(output)) = (files, output) else {
        return fail("--files DIR and --output FILE are required");
    };
    let epoch = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) if !s.is_empty() => match s.parse::<u64>() {
            Ok(v) => Some(v),
            Err(_) => return fail(format!("SOURCE_DATE_EPOCH={s} is not a number")),
        },
        _ => None,
    };
    let tree = match walk(Path::new(&files), epoch) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    match package::build(&meta, &tree) {
        Ok(bytes) => match std::fs::write(&output, bytes) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(format!("{output}: {e}")),
        },
        Err(e) => fail(format!("failed to create package: {e}")),
    }
}

/// Prints the info fields, scripts and every entry with its mode, owner and
/// size; fails unless every data block matches its file's size and SHA-256.
fn dump(file: &str) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return fail(format!("{file}: {e}")),
    };
    let p = match package::parse(&bytes) {
        Ok(p) => p,
        Err(e) => return fail(format!("{file}: {e}")),
    };
    for (k, v) in &p.info {
        println!("{k}: {v}");
    }
    println!("installed-size: {}", p.installed_size);
    println!(
        "unique-id: {}",
        p.unique_id
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    for (k, v) in &p.scripts {
        println!("script: {k} ({} bytes)", v.len());
    }
    for e in &p.entries {
        let (kind, extra) = match &e.kind {
            EntryKind::Dir => ('d', String::new()),
            EntryKind::File { size, sha256, .. } => (
                'f',
                format!(
                    " {size} {}",
                    sha256
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                ),
            ),
            EntryKind::Symlink { target, .. } => ('l', format!(" -> {target}")),
        };
        println!(
            "{kind} {:04o} {}:{} /{}{extra}",
            e.mode, e.user, e.group, e.path
        );
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("dump") if args.len() == 2 => dump(&args[1]),
        Some("--version") => {
            println!("v6-mkapk {} (apk v3 package writer; not apk-tools)", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("mkpkg") => mkpkg(&args[1..]),
        Some(a) if a.starts_with('-') => mkpkg(&args),
        _ => fail("usage: v6-mkapk [mkpkg] --info K:V... [--script TYPE:FILE]... --files DIR --output FILE | v6-mkapk dump FILE"),
    }
}
