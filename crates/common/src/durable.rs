//! The one way state files reach the disk: write a temporary file next to
//! the target, fsync it, rename it over the target, fsync the directory. A
//! crash or a power cut at any point leaves the old file or the new one,
//! never half of either (the rename is atomic; the fsyncs make the data and
//! then the rename durable before we act on them).
//!
//! Used for every file v6routerd keeps across restarts (server DUID, RA
//! prefix history, uplink bindings, subnet choices, ULA, the lease
//! journal's snapshots), so they all carry the same guarantee.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The temporary name `path` is written under before the rename.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Write `data` to the temporary file of `path` and fsync it; `path`
/// itself is untouched until [`replace`]. The file stays open for reading
/// and appending: the lease journal appends what was committed while its
/// snapshot was written before it renames the file.
pub fn write_temp(path: &Path, data: &[u8]) -> io::Result<File> {
    let mut f = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .read(true)
        .open(temp_path(path))?;
    f.write_all(data)?;
    f.sync_all()?;
    Ok(f)
}

/// Rename the temporary file over `path`, then fsync the directory so the
/// rename itself survives a power cut.
pub fn replace(path: &Path) -> io::Result<()> {
    std::fs::rename(temp_path(path), path)?;
    sync_dir(path)
}

/// Replace `path` by `data` durably (write, fsync, rename, fsync directory).
pub fn write(path: &Path, data: &[u8]) -> io::Result<()> {
    write_temp(path, data)?;
    replace(path)
}

/// fsync the directory that holds `path`.
pub fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests;
