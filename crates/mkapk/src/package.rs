//! The package schema (`pckg`) and the writer and reader of whole `.apk` files.
//!
//! Facts followed (apk-package(5), apk-tools `src/apk_adb.h`, `src/apk_adb.c`,
//! `src/app_mkpkg.c`, `src/adb_comp.c`, `src/io_gunzip.c`, `src/extract_v3.c`):
//! - Root object `package`: 1 info, 2 paths, 3 scripts, 4 triggers,
//!   5 replaces-priority. `info` (pkginfo): 1 name, 2 version, 3 hashes
//!   (the package's unique id), 4 description, 5 arch, 6 license, 7 origin,
//!   8 maintainer, 9 url, 10 repo-commit, 11 build-time, 12 installed-size,
//!   13 file-size, 14 provider-priority, 15 depends, ... 21 tags.
//!   `paths` is an array of dir objects (1 name, 2 acl, 3 files); a file
//!   object is 1 name, 2 acl, 3 size, 4 mtime, 5 hash, 6 target; an acl is
//!   1 mode, 2 user, 3 group, 4 xattrs. Scripts: 1 trigger, 2 pre-install,
//!   3 post-install, 4 pre-deinstall, 5 post-deinstall, 6 pre-upgrade,
//!   7 post-upgrade.
//! - mkpkg writes, in this order: the `--info` values in field-number order
//!   (an empty value is null and writes nothing); then the root directory and
//!   every directory below it in byte order of their relative paths, each
//!   after its non-directory entries in byte order of their names (name,
//!   sha256 of a regular file, symlink target as `u16` LE `S_IFLNK` + the
//!   link text, mtime, size, then the acl: mode & 07777, user, group);
//!   then installed-size (sum of regular file sizes, at least 1), a 20-byte
//!   zero `hashes` placeholder written unshared, the info object, the paths
//!   array, the scripts and the root. The file and path arrays are stored
//!   with the object type tag (`adb_wo_obj`). Default `--compat` 3.0.0_pre1
//!   keeps every directory, also empty ones and the root.
//! - Unique id: the first 20 bytes of the SHA-256 of the finished ADB block,
//!   taken with the placeholder zeroed, copied into `hashes`.
//! - Mtimes are SOURCE_DATE_EPOCH when set (`apk_get_build_time`).
//! - Then one data block per regular file with a non-zero size, in paths
//!   order: `u32` LE path index, `u32` LE file index (1-based), the bytes.
//! - Default compression: `ADBd` then raw deflate (zlib window bits -15,
//!   level 9) of the whole `ADB.`-stream.
//! - A reader (extract_v3) takes data blocks strictly in that order, checks
//!   the indexes, that the size equals the file's size, and the SHA-256.

use crate::adb::{self, Reader, Val, Writer, NULL};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};

/// Schema id `pckg` (`ADB_SCHEMA_PACKAGE`).
pub const SCHEMA_PACKAGE: u32 = 0x676b_6370;

/// Package info fields, by number (`ADBI_PI_*`), as `--info` names them.
pub const INFO_FIELDS: &[(&str, usize)] = &[
    ("name", 1),
    ("version", 2),
    ("description", 4),
    ("arch", 5),
    ("license", 6),
    ("origin", 7),
    ("maintainer", 8),
    ("url", 9),
    ("depends", 15),
];
const PI_NAME: usize = 1;
const PI_VERSION: usize = 2;
const PI_HASHES: usize = 3;
const PI_ARCH: usize = 5;
const PI_INSTALLED_SIZE: usize = 12;
const PI_DEPENDS: usize = 15;
const PI_MAX: usize = 21;

/// Script types by number (`ADBI_SCRPT_*`).
pub const SCRIPTS: &[&str] = &[
    "trigger",
    "pre-install",
    "post-install",
    "pre-deinstall",
    "post-deinstall",
    "pre-upgrade",
    "post-upgrade",
];

const S_IFLNK: u16 = 0o120000;
const UNIQUE_ID_LEN: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    Adb(adb::Error),
    /// Metadata or tree that this writer does not encode; the text says what.
    Unsupported(String),
    /// Input the schema rejects (name, version, info key).
    Invalid(String),
    Compression(String),
    /// A data block that does not match the file it belongs to.
    Data(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Adb(e) => e.fmt(f),
            Error::Unsupported(s) => write!(f, "not supported: {s}"),
            Error::Invalid(s) => write!(f, "invalid: {s}"),
            Error::Compression(s) => write!(f, "compression: {s}"),
            Error::Data(s) => write!(f, "data block: {s}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<adb::Error> for Error {
    fn from(e: adb::Error) -> Self {
        Error::Adb(e)
    }
}

/// Package metadata as given to `apk mkpkg`.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// `--info KEY:VALUE`, info field number -> value.
    pub info: BTreeMap<usize, String>,
    /// `--script TYPE:FILE`, script number (1..=7) -> contents.
    pub scripts: BTreeMap<usize, Vec<u8>>,
}

impl Meta {
    /// Takes one `--info KEY:VALUE` (split at the first colon, as mkpkg does).
    pub fn set_info(&mut self, kv: &str) -> Result<(), Error> {
        let (k, v) = kv
            .split_once(':')
            .ok_or_else(|| Error::Invalid(format!("missing key or value: {kv}")))?;
        let (_, n) = INFO_FIELDS
            .iter()
            .find(|(name, _)| *name == k)
            .ok_or_else(|| Error::Unsupported(format!("info field '{k}'")))?;
        if *n == PI_DEPENDS && !v.trim().is_empty() {
            // Dependency objects (name, version, match) have not been checked
            // against apk-tools here; v6router's static binaries need none.
            return Err(Error::Unsupported("non-empty depends".into()));
        }
        self.info.insert(*n, v.to_string());
        Ok(())
    }

    /// Takes one `--script TYPE:` with the script's contents.
    pub fn set_script(&mut self, kind: &str, body: Vec<u8>) -> Result<(), Error> {
        let n = SCRIPTS
            .iter()
            .position(|s| *s == kind)
            .ok_or_else(|| Error::Invalid(format!("script type '{kind}'")))?;
        self.scripts.insert(n + 1, body);
        Ok(())
    }
}

/// One entry of the package's file tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir {
        mode: u32,
    },
    File {
        mode: u32,
        mtime: u64,
        data: Vec<u8>,
    },
    Symlink {
        mtime: u64,
        target: String,
    },
}

/// The tree: relative path ("" is the root, "etc/init.d" below it) -> node.
/// Everything is root-owned (OpenWrt packs under fakeroot).
pub type Tree = BTreeMap<String, Node>;

fn parent_and_name(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

/// apk-package(5) name: starts with a letter or digit, then `[A-Za-z0-9+_.-]`.
fn check_name(n: &str) -> Result<(), Error> {
    let ok = n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-._".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!("package name '{n}'")))
    }
}

/// apk-package(5) version: `number{.number}[letter]{_suffix[number]}[~hash][-rN]`.
pub fn check_version(v: &str) -> Result<(), Error> {
    let bad = || Error::Invalid(format!("package version '{v}'"));
    let b = v.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > s
    };
    loop {
        if !digits(&mut i) {
            return Err(bad());
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            continue;
        }
        break;
    }
    if i < b.len() && b[i].is_ascii_lowercase() {
        i += 1;
    }
    while i < b.len() && b[i] == b'_' {
        i += 1;
        let suffix = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"]
            .iter()
            .find(|s| b[i..].starts_with(s.as_bytes()))
            .ok_or_else(bad)?;
        i += suffix.len();
        digits(&mut i);
    }
    if i < b.len() && b[i] == b'~' {
        i += 1;
        let s = i;
        while i < b.len() && b[i].is_ascii_hexdigit() {
            i += 1;
        }
        if i == s {
            return Err(bad());
        }
    }
    if b[i..].starts_with(b"-r") {
        i += 2;
        if !digits(&mut i) {
            return Err(bad());
        }
    }
    if i == b.len() {
        Ok(())
    } else {
        Err(bad())
    }
}

/// The uncompressed package stream: `ADB.pckg`, the ADB block, data blocks.
pub fn build_stream(meta: &Meta, tree: &Tree) -> Result<Vec<u8>, Error> {
    let name = meta
        .info
        .get(&PI_NAME)
        .ok_or_else(|| Error::Invalid("no name".into()))?;
    check_name(name)?;
    check_version(
        meta.info
            .get(&PI_VERSION)
            .ok_or_else(|| Error::Invalid("no version".into()))?,
    )?;
    if !meta.info.contains_key(&PI_ARCH) {
        return Err(Error::Invalid(
            "no arch (mkpkg would take the build host's)".into(),
        ));
    }
    let root_mode = match tree.get("") {
        Some(Node::Dir { mode }) => *mode,
        _ => return Err(Error::Invalid("tree has no root directory".into())),
    };

    let mut w = Writer::new();
    let mut info = [NULL; PI_MAX];
    for (&n, v) in &meta.info {
        if n != PI_DEPENDS {
            info[n - 1] = w.blob(v.as_bytes());
        }
    }

    // Directories: root first, then by path bytes; each one's non-directory
    // entries by name bytes (a BTreeMap walk gives exactly that order).
    let mut dirs: Vec<(&str, u32)> = vec![("", root_mode)];
    for (path, node) in tree {
        match node {
            Node::Dir { mode } if !path.is_empty() => dirs.push((path, *mode)),
            _ => {}
        }
    }
    dirs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut children: BTreeMap<&str, Vec<(&str, &Node)>> = BTreeMap::new();
    for (path, node) in tree {
        if path.is_empty() || matches!(node, Node::Dir { .. }) {
            continue;
        }
        let (dir, leaf) = parent_and_name(path);
        match tree.get(dir) {
            Some(Node::Dir { .. }) => {}
            _ => return Err(Error::Invalid(format!("{path}: parent is not a directory"))),
        }
        children.entry(dir).or_default().push((leaf, node));
    }

    let mut installed: u64 = 0;
    let mut path_vals = Vec::with_capacity(dirs.len());
    let mut data_files: Vec<Vec<(&[u8], u64)>> = Vec::with_capacity(dirs.len());
    for &(dir, dir_mode) in &dirs {
        let mut files = children.remove(dir).unwrap_or_default();
        files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let mut file_vals = Vec::with_capacity(files.len());
        let mut datas = Vec::with_capacity(files.len());
        for (leaf, node) in files {
            let fname = w.blob(leaf.as_bytes());
            let (mode, mtime, size, hash, target, data) = match node {
                Node::File { mode, mtime, data } => {
                    installed += data.len() as u64;
                    let h = w.blob(&Sha256::digest(data));
                    (
                        *mode & 0o7777,
                        *mtime,
                        data.len() as u64,
                        h,
                        NULL,
                        Some(data.as_slice()),
                    )
                }
                Node::Symlink { mtime, target } => {
                    let mut t = S_IFLNK.to_le_bytes().to_vec();
                    t.extend_from_slice(target.as_bytes());
                    let tv = w.blob(&t);
                    // lstat: a symlink is 0777 and as long as its text.
                    (0o777, *mtime, target.len() as u64, NULL, tv, None)
                }
                Node::Dir { .. } => continue,
            };
            let mtime = w.int(mtime);
            let size_v = w.int(size);
            let acl = acl(&mut w, mode);
            file_vals.push(w.object(&[fname, acl, size_v, mtime, hash, target]));
            datas.push((data.unwrap_or_default(), size));
        }
        let dname = w.blob(dir.as_bytes());
        let dacl = acl(&mut w, dir_mode & 0o7777);
        let files_v = w.object(&file_vals);
        path_vals.push(w.object(&[dname, dacl, files_v]));
        data_files.push(datas);
    }

    if installed == 0 {
        installed = 1;
    }
    info[PI_INSTALLED_SIZE - 1] = w.int(installed);
    let uid = w.blob_raw(&[0u8; UNIQUE_ID_LEN]);
    info[PI_HASHES - 1] = uid;
    let info_v = w.object(&info);
    let paths_v = w.object(&path_vals);
    let scripts_v = if meta.scripts.is_empty() {
        NULL
    } else {
        let mut s = [NULL; 7];
        for (&n, body) in &meta.scripts {
            s[n - 1] = w.blob(body);
        }
        w.object(&s)
    };
    let root = w.object(&[info_v, paths_v, scripts_v]);
    w.set_root(root);
    let digest = Sha256::digest(w.bytes());
    w.blob_bytes_mut(uid)
        .copy_from_slice(&digest[..UNIQUE_ID_LEN]);
    let block = w.finish()?;

    let mut out = Vec::with_capacity(block.len() + installed as usize + 64);
    out.extend_from_slice(adb::FORMAT_MAGIC);
    out.extend_from_slice(&SCHEMA_PACKAGE.to_le_bytes());
    adb::push_block(&mut out, adb::BLOCK_ADB, &[&block])?;
    for (pi, datas) in data_files.iter().enumerate() {
        for (fi, (data, size)) in datas.iter().enumerate() {
            if *size == 0 || data.is_empty() {
                continue;
            }
            let mut hdr = [0u8; 8];
            hdr[..4].copy_from_slice(&(pi as u32 + 1).to_le_bytes());
            hdr[4..].copy_from_slice(&(fi as u32 + 1).to_le_bytes());
            adb::push_block(&mut out, adb::BLOCK_DATA, &[&hdr, data])?;
        }
    }
    Ok(out)
}

fn acl(w: &mut Writer, mode: u32) -> Val {
    let m = w.int(u64::from(mode));
    let user = w.blob(b"root");
    let group = w.blob(b"root");
    w.object(&[m, user, group])
}

/// The `.apk` file: `ADBd` + raw deflate (level 9) of [`build_stream`].
pub fn build(meta: &Meta, tree: &Tree) -> Result<Vec<u8>, Error> {
    let stream = build_stream(meta, tree)?;
    let mut enc = flate2::write::DeflateEncoder::new(b"ADBd".to_vec(), flate2::Compression::best());
    enc.write_all(&stream)
        .map_err(|e| Error::Compression(e.to_string()))?;
    enc.finish().map_err(|e| Error::Compression(e.to_string()))
}

/// Undoes the compression framing of `adb_decompress`: `ADB.` (none),
/// `ADBd` (raw deflate) or `ADBc` + algorithm + level (deflate only here).
pub fn decompress(file: &[u8]) -> Result<Vec<u8>, Error> {
    let inflate = |z: &[u8]| {
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(z)
            .read_to_end(&mut out)
            .map_err(|e| Error::Compression(e.to_string()))?;
        Ok(out)
    };
    match file.get(..4) {
        Some(b"ADB.") => Ok(file.to_vec()),
        Some(b"ADBd") => inflate(&file[4..]),
        Some(b"ADBc") => match file.get(4) {
            Some(0) => Ok(file[6..].to_vec()),
            Some(1) => inflate(file.get(6..).unwrap_or_default()),
            _ => Err(Error::Compression(
                "unsupported ADBc algorithm (zstd?)".into(),
            )),
        },
        _ => Err(Error::Compression(
            "not an apk v3 file (no ADB magic)".into(),
        )),
    }
}

/// One file system entry read back from a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to the root ("" for the root directory).
    pub path: String,
    pub mode: u32,
    pub user: String,
    pub group: String,
    pub kind: EntryKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File {
        size: u64,
        mtime: u64,
        sha256: Vec<u8>,
        data: Vec<u8>,
    },
    Symlink {
        mtime: u64,
        target: String,
    },
}

/// A package read back: info fields by name, scripts, the tree.
#[derive(Debug, Clone, Default)]
pub struct Package {
    pub info: BTreeMap<&'static str, String>,
    pub installed_size: u64,
    pub unique_id: Vec<u8>,
    pub scripts: BTreeMap<&'static str, Vec<u8>>,
    pub entries: Vec<Entry>,
    /// The uncompressed ADB block, for byte comparisons.
    pub adb_block: Vec<u8>,
}

const INFO_NAMES: &[(usize, &str)] = &[
    (1, "name"),
    (2, "version"),
    (4, "description"),
    (5, "arch"),
    (6, "license"),
    (7, "origin"),
    (8, "maintainer"),
    (9, "url"),
];

fn text(b: Option<&[u8]>) -> String {
    String::from_utf8_lossy(b.unwrap_or_default()).into_owned()
}

fn field(f: &[Val], i: usize) -> Val {
    f.get(i - 1).copied().unwrap_or(NULL)
}

/// Reads a whole `.apk`: checks the framing, walks the schema, matches every
/// data block to its file in order and checks its size and SHA-256 (what
/// `apk_extract_v3` checks).
pub fn parse(file: &[u8]) -> Result<Package, Error> {
    let stream = decompress(file)?;
    let c = adb::parse_container(&stream)?;
    if c.schema != SCHEMA_PACKAGE {
        return Err(Error::Invalid(format!(
            "schema {:#x} is not pckg",
            c.schema
        )));
    }
    let r = Reader::new(c.adb)?;
    let root = r.fields(r.root())?;
    let info = r.fields(field(&root, 1))?;
    let mut p = Package {
        adb_block: c.adb.to_vec(),
        ..Default::default()
    };
    for &(n, name) in INFO_NAMES {
        if let Some(b) = r.blob(field(&info, n))? {
            p.info.insert(name, text(Some(b)));
        }
    }
    if !r.fields(field(&info, PI_DEPENDS))?.is_empty() {
        p.info.insert("depends", "(present)".into());
    }
    p.installed_size = r.int(field(&info, PI_INSTALLED_SIZE))?.unwrap_or(0);
    p.unique_id = r
        .blob(field(&info, PI_HASHES))?
        .unwrap_or_default()
        .to_vec();
    let scripts = r.fields(field(&root, 3))?;
    for (i, s) in SCRIPTS.iter().enumerate() {
        if let Some(b) = r.blob(field(&scripts, i + 1))? {
            p.scripts.insert(s, b.to_vec());
        }
    }
    let mut data = c.data.iter();
    for (pi, d) in r.fields(field(&root, 2))?.into_iter().enumerate() {
        let d = r.fields(d)?;
        let dir = text(r.blob(field(&d, 1))?);
        let (mode, user, group) = read_acl(&r, field(&d, 2))?;
        p.entries.push(Entry {
            path: dir.clone(),
            mode,
            user,
            group,
            kind: EntryKind::Dir,
        });
        for (fi, f) in r.fields(field(&d, 3))?.into_iter().enumerate() {
            let f = r.fields(f)?;
            let name = text(r.blob(field(&f, 1))?);
            let path = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            let (mode, user, group) = read_acl(&r, field(&f, 2))?;
            let size = r.int(field(&f, 3))?.unwrap_or(0);
            let mtime = r.int(field(&f, 4))?.unwrap_or(0);
            let kind = if let Some(t) = r.blob(field(&f, 6))? {
                if t.len() < 2 || u16::from_le_bytes([t[0], t[1]]) != S_IFLNK {
                    return Err(Error::Unsupported(format!(
                        "{path}: device or hard link entry"
                    )));
                }
                EntryKind::Symlink {
                    mtime,
                    target: text(Some(&t[2..])),
                }
            } else {
                let sha256 = r.blob(field(&f, 5))?.unwrap_or_default().to_vec();
                if sha256.len() != 32 {
                    return Err(Error::Invalid(format!("{path}: no sha256 hash")));
                }
                let mut bytes = Vec::new();
                if size != 0 {
                    let blk = data
                        .next()
                        .ok_or_else(|| Error::Data(format!("{path}: no data block")))?;
                    if blk.len() < 8
                        || u32::from_le_bytes([blk[0], blk[1], blk[2], blk[3]]) as usize != pi + 1
                        || u32::from_le_bytes([blk[4], blk[5], blk[6], blk[7]]) as usize != fi + 1
                    {
                        return Err(Error::Data(format!("{path}: block for another file")));
                    }
                    if blk.len() as u64 - 8 != size {
                        return Err(Error::Data(format!("{path}: size differs from the entry")));
                    }
                    bytes = blk[8..].to_vec();
                }
                if Sha256::digest(&bytes).as_slice() != sha256.as_slice() {
                    return Err(Error::Data(format!("{path}: sha256 mismatch")));
                }
                EntryKind::File {
                    size,
                    mtime,
                    sha256,
                    data: bytes,
                }
            };
            p.entries.push(Entry {
                path,
                mode,
                user,
                group,
                kind,
            });
        }
    }
    if data.next().is_some() {
        return Err(Error::Data("more data blocks than files".into()));
    }
    Ok(p)
}

fn read_acl(r: &Reader, v: Val) -> Result<(u32, String, String), Error> {
    let a = r.fields(v)?;
    let mode = r.int(field(&a, 1))?.unwrap_or(0) as u32;
    Ok((
        mode,
        text(r.blob(field(&a, 2))?),
        text(r.blob(field(&a, 3))?),
    ))
}

#[cfg(test)]
mod tests;
