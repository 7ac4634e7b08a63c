//! The lease store: an append-only journal of checksummed, length-prefixed
//! records, made durable with one `fdatasync` per batch (group commit),
//! reloaded at start and compacted in the background.
//!
//! File layout:
//!
//! ```text
//! "v6rleas3" (8-byte magic: format version 3; "v6rleas2" and "v6rlease"
//! were versions 2 and 1)
//! { u32 le payload length | u32 le crc32(payload) | payload }*
//! ```
//!
//! Payload: `u8 op` (1 upsert, 2 remove), `u8 kind` (0 address, 1 prefix),
//! `[16] address`, `u8 prefix length`; an upsert goes on with `u32 iaid`,
//! `u64 cltt`, `u32 preferred`, `u32 valid`, `u8 state` (0 bound,
//! 1 declined), `u8 flags` (bit 0 static, bit 1 has via), `[16] via`,
//! `u8 duid length`, duid, `u8 link name length`, link name, and since
//! version 2 `u8 host name length` (0: none), host name, and since
//! version 3 `u8 reconfigure` (0: the client did not accept Reconfigure,
//! 1: it did) followed, when 1, by `[16] Reconfigure Key` and `[16] the
//! client's address` (RFC 8415 §20.4.2: a restarted server can still
//! reconfigure its clients). Integers are big-endian inside the payload.
//!
//! Version 1 and 2 files still load (their leases have no names, no
//! Reconfigure Keys); opening a journal rewrites it in the current version
//! before anything is appended.
//!
//! A torn tail (a crash during a write) or a record whose checksum fails is
//! dropped and reported; records before it are kept.
//!
//! The file is grown ahead of the records in zero-filled chunks, so that an
//! append changes no file metadata and its `fdatasync` flushes only data
//! blocks, without waiting for a file-system journal commit (what keeps
//! fsync-before-Reply cheap on a busy disk). A record header of all zeros
//! marks the end of the records; the zeros after it are not a torn tail.

use crate::lease::{Lease, LeaseKey, LeaseKind, LeaseRecord, LeaseState, ReconfigureKey};
use crate::wire::Duid;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use v6common::{durable, Ipv6Prefix};

/// The current format's magic (version 3: leases carry a Reconfigure Key).
pub const MAGIC: &[u8; 8] = b"v6rleas3";
/// Version 2 (host names, no Reconfigure Keys), read but no longer written.
pub const MAGIC_V2: &[u8; 8] = b"v6rleas2";
/// Version 1 (no host names), read but no longer written.
pub const MAGIC_V1: &[u8; 8] = b"v6rlease";
/// Host names are DNS labels (RFC 1035 §2.3.4); longer ones are cut.
const MAX_NAME: usize = 63;
/// No valid record is larger; a bigger length means corruption.
const MAX_RECORD: usize = 600;
/// The file grows by this much at a time (zero-filled, synced once).
const GROW: u64 = 1 << 20;

const OP_UPSERT: u8 = 1;
const OP_REMOVE: u8 = 2;

/// Append one framed record to `out`.
pub fn encode_record(r: &LeaseRecord, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 8]);
    let (op, key) = match r {
        LeaseRecord::Upsert(l) => (OP_UPSERT, l.key()),
        LeaseRecord::Remove(k) => (OP_REMOVE, *k),
    };
    out.push(op);
    out.push(match key.0 {
        LeaseKind::Address => 0,
        LeaseKind::Prefix => 1,
    });
    out.extend_from_slice(&key.1.addr().octets());
    out.push(key.1.len());
    if let LeaseRecord::Upsert(l) = r {
        out.extend_from_slice(&l.iaid.to_be_bytes());
        out.extend_from_slice(&l.cltt.to_be_bytes());
        out.extend_from_slice(&l.preferred.to_be_bytes());
        out.extend_from_slice(&l.valid.to_be_bytes());
        out.push(match l.state {
            LeaseState::Bound => 0,
            LeaseState::Declined => 1,
        });
        out.push(u8::from(l.is_static) | (u8::from(l.via.is_some()) << 1));
        out.extend_from_slice(&l.via.unwrap_or(Ipv6Addr::UNSPECIFIED).octets());
        let d = l.duid.as_bytes();
        out.push(d.len() as u8); // a Duid is at most 130 bytes
        out.extend_from_slice(d);
        let name = &l.link.as_bytes()[..l.link.len().min(255)];
        out.push(name.len() as u8);
        out.extend_from_slice(name);
        let host = l.name.as_deref().unwrap_or("").as_bytes();
        let host = &host[..host.len().min(MAX_NAME)];
        out.push(host.len() as u8);
        out.extend_from_slice(host);
        match &l.reconfigure {
            None => out.push(0),
            Some(r) => {
                out.push(1);
                out.extend_from_slice(&r.key);
                out.extend_from_slice(&r.client_addr.octets());
            }
        }
    }
    let payload_len = (out.len() - start - 8) as u32;
    let crc = crc32(&out[start + 8..]);
    out[start..start + 4].copy_from_slice(&payload_len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320: the one zlib and
/// the crc32fast crate compute, so journals written before are read as
/// they were). Byte-at-a-time with one 1 KiB table made at compile time:
/// crc32fast's slicing-by-16 tables were 16 KiB of incompressible data in
/// every package, and the journal checksums a few hundred bytes per commit.
fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    !data.iter().fold(!0u32, |c, &b| {
        TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

/// Decode one payload of the current version (checksum already verified).
pub fn decode_payload(p: &[u8]) -> Option<LeaseRecord> {
    decode_versioned(p, Version::V3)
}

/// The journal formats this reader knows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
    V3,
}

fn decode_versioned(p: &[u8], version: Version) -> Option<LeaseRecord> {
    let mut r = Reader(p);
    let op = r.u8()?;
    let kind = match r.u8()? {
        0 => LeaseKind::Address,
        1 => LeaseKind::Prefix,
        _ => return None,
    };
    let addr = r.addr()?;
    let plen = r.u8()?;
    if plen > 128 {
        return None;
    }
    let key = (kind, Ipv6Prefix::new(addr, plen));
    match op {
        OP_REMOVE => r.end().then_some(LeaseRecord::Remove(key)),
        OP_UPSERT => {
            let iaid = r.u32()?;
            let cltt = r.u64()?;
            let preferred = r.u32()?;
            let valid = r.u32()?;
            let state = match r.u8()? {
                0 => LeaseState::Bound,
                1 => LeaseState::Declined,
                _ => return None,
            };
            let flags = r.u8()?;
            let via = r.addr()?;
            let dl = usize::from(r.u8()?);
            let duid = Duid::from_bytes(r.take(dl)?).ok()?;
            let nl = usize::from(r.u8()?);
            let link = std::str::from_utf8(r.take(nl)?).ok()?;
            let name = match version {
                Version::V1 => None,
                Version::V2 | Version::V3 => {
                    let hl = usize::from(r.u8()?);
                    let host = std::str::from_utf8(r.take(hl)?).ok()?;
                    (!host.is_empty()).then(|| Arc::from(host))
                }
            };
            let reconfigure = match version {
                Version::V1 | Version::V2 => None,
                Version::V3 => match r.u8()? {
                    0 => None,
                    1 => {
                        let mut key = [0u8; 16];
                        key.copy_from_slice(r.take(16)?);
                        Some(ReconfigureKey {
                            key,
                            client_addr: r.addr()?,
                        })
                    }
                    _ => return None,
                },
            };
            if !r.end() {
                return None;
            }
            Some(LeaseRecord::Upsert(Lease {
                kind,
                prefix: key.1,
                duid,
                iaid,
                link: Arc::from(link),
                cltt,
                preferred,
                valid,
                state,
                is_static: flags & 1 != 0,
                via: (flags & 2 != 0).then_some(via),
                name,
                reconfigure,
            }))
        }
        _ => None,
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Option<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(u64::from_be_bytes(a))
    }
    fn addr(&mut self) -> Option<Ipv6Addr> {
        let b = self.take(16)?;
        let mut a = [0u8; 16];
        a.copy_from_slice(b);
        Some(Ipv6Addr::from(a))
    }
    fn end(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a reload found.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// The leases after replaying every intact record.
    pub leases: HashMap<LeaseKey, Lease>,
    pub records: usize,
    /// Records whose checksum or content was wrong (skipped).
    pub corrupt_records: usize,
    /// Bytes at the end that did not form a whole record (torn write).
    pub torn_tail_bytes: usize,
}

impl LoadReport {
    pub fn is_clean(&self) -> bool {
        self.corrupt_records == 0 && self.torn_tail_bytes == 0
    }
}

#[derive(Debug)]
pub enum LoadError {
    /// The file is not a lease journal (refuse to overwrite it).
    BadMagic,
    Io(io::Error),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::BadMagic => write!(f, "not a v6router lease journal (bad magic)"),
            LoadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Replay a journal image (pure; the whole file as bytes). An empty image is
/// an empty store.
pub fn replay(bytes: &[u8]) -> Result<LoadReport, LoadError> {
    let mut rep = LoadReport::default();
    if bytes.is_empty() {
        return Ok(rep);
    }
    if bytes.len() < MAGIC.len() {
        // A crash while writing the header of a new file.
        rep.torn_tail_bytes = bytes.len();
        return if [MAGIC, MAGIC_V2, MAGIC_V1]
            .iter()
            .any(|m| m.starts_with(bytes))
        {
            Ok(rep)
        } else {
            Err(LoadError::BadMagic)
        };
    }
    let version = match &bytes[..8] {
        m if m == MAGIC => Version::V3,
        m if m == MAGIC_V2 => Version::V2,
        m if m == MAGIC_V1 => Version::V1,
        _ => return Err(LoadError::BadMagic),
    };
    let mut rest = &bytes[8..];
    while !rest.is_empty() {
        if rest.len() < 8 {
            rep.torn_tail_bytes = rest.len();
            break;
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len == 0 && crc == 0 {
            // The end of the records: zero-filled space grown ahead. Anything
            // but zeros after it was a write that never completed.
            if let Some(last) = rest.iter().rposition(|b| *b != 0) {
                rep.torn_tail_bytes = last + 1;
            }
            break;
        }
        if len > MAX_RECORD {
            // The length itself is damaged: nothing after it can be framed.
            rep.corrupt_records += 1;
            rep.torn_tail_bytes = rest.len();
            break;
        }
        let Some(payload) = rest.get(8..8 + len) else {
            rep.torn_tail_bytes = rest.len();
            break;
        };
        if crc32(payload) != crc {
            if rest[8 + len..].iter().all(|b| *b == 0) {
                // Nothing but zeros (space grown ahead) after it: the last
                // write, cut short by a crash (a kill -9 can end a write(2)
                // part-way), not a damaged record among intact ones.
                rep.torn_tail_bytes = rest.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
                break;
            }
            rest = &rest[8 + len..];
            rep.corrupt_records += 1;
            continue;
        }
        rest = &rest[8 + len..];
        match decode_versioned(payload, version) {
            Some(LeaseRecord::Upsert(l)) => {
                rep.leases.insert(l.key(), l);
            }
            Some(LeaseRecord::Remove(k)) => {
                rep.leases.remove(&k);
            }
            None => {
                rep.corrupt_records += 1;
                continue;
            }
        }
        rep.records += 1;
    }
    Ok(rep)
}

/// A journal image holding exactly these leases.
pub fn snapshot_image<'a>(leases: impl IntoIterator<Item = &'a Lease>) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    for l in leases {
        encode_record(&LeaseRecord::Upsert(l.clone()), &mut out);
    }
    out
}

struct Compaction {
    worker: JoinHandle<io::Result<File>>,
    /// Records appended to the old journal since the snapshot was taken;
    /// they go to the new file before it replaces the old one.
    since: Vec<u8>,
}

/// The journal writer. Not async: the glue runs it on its own thread so an
/// fsync never blocks packet handling.
pub struct Journal {
    path: PathBuf,
    file: File,
    /// End of the records (the next append goes here).
    size: u64,
    /// Length of the file: records, then zeros.
    allocated: u64,
    compaction: Option<Compaction>,
    buf: Vec<u8>,
}

impl Journal {
    /// Open (creating the directory and file if needed), replay, and rewrite
    /// the file compacted so a torn tail is cut before anything is appended.
    pub fn open(path: &Path) -> Result<(Journal, LoadReport), LoadError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(LoadError::Io)?;
        }
        let mut bytes = vec![];
        match File::open(path) {
            Ok(mut f) => {
                f.read_to_end(&mut bytes).map_err(LoadError::Io)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(LoadError::Io(e)),
        }
        let report = replay(&bytes)?;
        let image = snapshot_image(report.leases.values());
        let file = durable::write_temp(path, &image).map_err(LoadError::Io)?;
        durable::replace(path).map_err(LoadError::Io)?;
        // Before session 7 a compaction cut short left JOURNAL.compact
        // behind (now JOURNAL.tmp, replaced just above): never read, so gone.
        let mut legacy = path.as_os_str().to_owned();
        legacy.push(".compact");
        let _ = std::fs::remove_file(legacy);
        let j = Journal {
            path: path.to_path_buf(),
            file,
            size: image.len() as u64,
            allocated: image.len() as u64,
            compaction: None,
            buf: vec![],
        };
        Ok((j, report))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of records in the file (its length may be larger: zeros grown ahead).
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn compacting(&self) -> bool {
        self.compaction.is_some()
    }

    /// Append records and make them durable with one `fdatasync` (group
    /// commit: the caller passes everything that is waiting).
    pub fn append(&mut self, records: &[LeaseRecord]) -> io::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.buf.clear();
        for r in records {
            encode_record(r, &mut self.buf);
        }
        self.append_encoded()
    }

    fn append_encoded(&mut self) -> io::Result<()> {
        // O_APPEND is not used: a short write must not leave the size unknown.
        use std::io::{Seek, SeekFrom};
        let end = self.size + self.buf.len() as u64;
        if end > self.allocated {
            // Grow with real zeros (not a hole, not fallocate's unwritten
            // extents: both would turn the next appends into metadata
            // changes) and make the new length durable once. On a nearly
            // full disk, grow by just what this append needs.
            let want = end - self.allocated;
            if let Err(e) = self.grow(GROW.max(want)) {
                let _ = self.file.set_len(self.allocated);
                if want >= GROW {
                    return Err(e);
                }
                self.grow(want).inspect_err(|_| {
                    let _ = self.file.set_len(self.allocated);
                })?;
            }
        }
        self.file.seek(SeekFrom::Start(self.size))?;
        // On failure the next append overwrites from `size` again; a crash
        // before that leaves a torn record that replay reports.
        self.file.write_all(&self.buf)?;
        self.file.sync_data()?;
        self.size += self.buf.len() as u64;
        if let Some(c) = &mut self.compaction {
            c.since.extend_from_slice(&self.buf);
        }
        self.poll_compaction()
    }

    fn grow(&mut self, by: u64) -> io::Result<()> {
        use std::io::{Seek, SeekFrom};
        self.file.seek(SeekFrom::Start(self.allocated))?;
        let zeros = [0u8; 16 * 1024];
        let mut left = by;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            self.file.write_all(&zeros[..n])?;
            left -= n as u64;
        }
        self.file.sync_all()?;
        self.allocated += by;
        Ok(())
    }

    /// Start compacting from a snapshot of the live leases. The snapshot must
    /// be taken at the point of the record stream where this call sits (the
    /// glue sends it through the same queue as the records), so that every
    /// record appended after it is replayed on top of it, in order. The image
    /// is written on a worker thread; appends go on meanwhile.
    pub fn begin_compaction(&mut self, snapshot: Vec<Lease>) {
        if self.compaction.is_some() {
            return;
        }
        let path = self.path.clone();
        let worker = std::thread::spawn(move || {
            durable::write_temp(&path, &snapshot_image(snapshot.iter()))
        });
        self.compaction = Some(Compaction {
            worker,
            since: vec![],
        });
    }

    /// Finish a compaction whose image is written (no-op otherwise).
    pub fn poll_compaction(&mut self) -> io::Result<()> {
        if !self
            .compaction
            .as_ref()
            .is_some_and(|c| c.worker.is_finished())
        {
            return Ok(());
        }
        self.finish_compaction()
    }

    /// Wait for a running compaction and install it.
    pub fn finish_compaction(&mut self) -> io::Result<()> {
        let Some(c) = self.compaction.take() else {
            return Ok(());
        };
        let mut f = c
            .worker
            .join()
            .map_err(|_| io::Error::other("compaction thread panicked"))??;
        f.write_all(&c.since)?;
        f.sync_data()?;
        durable::replace(&self.path)?;
        self.size = f.metadata()?.len();
        self.allocated = self.size;
        self.file = f;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
