//! The ADB container: typed values, the deduplicating object writer, the
//! block framing and a bounds-checked reader (apk-v3(5) "ADB FORMAT").
//!
//! Facts followed (apk-tools `src/adb.h`, `src/adb.c`, 3.0 series):
//! - A value is a little-endian `u32`: type in the top 4 bits, the rest an
//!   inline integer or a byte offset into the ADB block. Types: special
//!   (0 = null), int (inline, < 2^28), int32 / int64 (offset to 4-aligned
//!   data), blob8 / blob16 / blob32 (offset to a length prefix of 1, 2 or 4
//!   bytes, aligned to its own size, then the bytes), array, object (offset
//!   to 4-aligned `u32[n]`, `[0]` = n counting itself, `[1..]` the fields).
//! - The ADB block starts with `adb_hdr`: compat version 0, version 0,
//!   2 reserved bytes, then the root value.
//! - `adb_w_data`: every write is padded (zeros) to its alignment, and an
//!   identical byte string written before at an offset with that alignment
//!   is reused instead of written again (`adb_w_blob_raw` bypasses this).
//! - `__adb_w_obj`: trailing null fields are dropped; an object or array
//!   with no fields is the null value and writes nothing; an empty blob is
//!   null too.
//! - File: `ADB.` magic, `u32` schema, then blocks: `u32` type (top 2 bits)
//!   and raw size (header included), payload, zero padding to 8 bytes. One
//!   ADB block, then signature blocks, then data blocks, in that order.

use std::collections::HashMap;
use std::fmt;

pub const TYPE_SPECIAL: u32 = 0x0000_0000;
pub const TYPE_INT: u32 = 0x1000_0000;
pub const TYPE_INT_32: u32 = 0x2000_0000;
pub const TYPE_INT_64: u32 = 0x3000_0000;
pub const TYPE_BLOB_8: u32 = 0x8000_0000;
pub const TYPE_BLOB_16: u32 = 0x9000_0000;
pub const TYPE_BLOB_32: u32 = 0xa000_0000;
pub const TYPE_ARRAY: u32 = 0xd000_0000;
pub const TYPE_OBJECT: u32 = 0xe000_0000;
const TYPE_MASK: u32 = 0xf000_0000;
const VALUE_MASK: u32 = 0x0fff_ffff;

/// The null value (`ADB_NULL`).
pub const NULL: Val = Val(0);

/// File magic `ADB.` and the block types of `adb.h`.
pub const FORMAT_MAGIC: &[u8; 4] = b"ADB.";
pub const BLOCK_ADB: u32 = 0;
pub const BLOCK_SIG: u32 = 1;
pub const BLOCK_DATA: u32 = 2;
pub const BLOCK_EXT: u32 = 3;
pub const BLOCK_ALIGNMENT: usize = 8;
/// Largest payload a plain (not extended) block header can frame.
pub const MAX_BLOCK_PAYLOAD: u64 = 0x3fff_ffff - 4;
const HDR_LEN: usize = 8;

/// One encoded ADB value (`adb_val_t`), host order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Val(pub u32);

impl Val {
    pub fn kind(self) -> u32 {
        self.0 & TYPE_MASK
    }
    pub fn offset(self) -> usize {
        (self.0 & VALUE_MASK) as usize
    }
    pub fn is_null(self) -> bool {
        self == NULL
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The ADB block outgrew the 28-bit offsets of a value.
    TooLarge,
    /// A reader found something the format does not allow; the reason says what.
    Malformed(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooLarge => write!(f, "ADB block larger than 256 MiB"),
            Error::Malformed(why) => write!(f, "malformed ADB: {why}"),
        }
    }
}

impl std::error::Error for Error {}

/// Builds one ADB block the way `adb.c`'s writer does.
pub struct Writer {
    buf: Vec<u8>,
    seen: HashMap<Vec<u8>, usize>,
    overflow: bool,
}

impl Default for Writer {
    fn default() -> Self {
        Self::new()
    }
}

impl Writer {
    /// An empty block holding just `adb_hdr` (compat 0, version 0, root null).
    pub fn new() -> Self {
        Writer {
            buf: vec![0; HDR_LEN],
            seen: HashMap::new(),
            overflow: false,
        }
    }

    fn raw(&mut self, parts: &[&[u8]], align: usize) -> usize {
        let pad = self.buf.len().next_multiple_of(align) - self.buf.len();
        self.buf.resize(self.buf.len() + pad, 0);
        let at = self.buf.len();
        for p in parts {
            self.buf.extend_from_slice(p);
        }
        if at > VALUE_MASK as usize {
            self.overflow = true;
        }
        at
    }

    fn data(&mut self, parts: &[&[u8]], align: usize) -> usize {
        let key = parts.concat();
        if let Some(&at) = self.seen.get(&key) {
            if at % align == 0 {
                return at;
            }
        }
        let at = self.raw(parts, align);
        self.seen.insert(key, at);
        at
    }

    fn blob_parts(&mut self, b: &[u8], cached: bool) -> Val {
        let len = b.len();
        let (prefix, kind): (Vec<u8>, u32) = if len > 0xffff {
            ((len as u32).to_le_bytes().to_vec(), TYPE_BLOB_32)
        } else if len > 0xff {
            ((len as u16).to_le_bytes().to_vec(), TYPE_BLOB_16)
        } else if len > 0 {
            (vec![len as u8], TYPE_BLOB_8)
        } else {
            return NULL;
        };
        let align = prefix.len();
        let at = if cached {
            self.data(&[&prefix, b], align)
        } else {
            self.raw(&[&prefix, b], align)
        };
        Val(kind | at as u32)
    }

    /// A blob (`adb_w_blob`); the empty blob is null.
    pub fn blob(&mut self, b: &[u8]) -> Val {
        self.blob_parts(b, true)
    }

    /// A blob that is never shared with another write (`adb_w_blob_raw`),
    /// for values patched in place afterwards.
    pub fn blob_raw(&mut self, b: &[u8]) -> Val {
        self.blob_parts(b, false)
    }

    /// An integer (`adb_w_int`): inline below 2^28, else 32 or 64 bit data.
    pub fn int(&mut self, v: u64) -> Val {
        if v >= 0x1_0000_0000 {
            Val(TYPE_INT_64 | self.data(&[&v.to_le_bytes()], 4) as u32)
        } else if v >= 0x1000_0000 {
            Val(TYPE_INT_32 | self.data(&[&(v as u32).to_le_bytes()], 4) as u32)
        } else {
            Val(TYPE_INT | v as u32)
        }
    }

    /// Writes `u32[n]` = count, then the values, trailing nulls dropped;
    /// null when no value is left (`__adb_w_obj`).
    pub fn vals(&mut self, kind: u32, fields: &[Val]) -> Val {
        let n = fields.len() - fields.iter().rev().take_while(|v| v.is_null()).count();
        if n == 0 {
            return NULL;
        }
        let mut bytes = Vec::with_capacity((n + 1) * 4);
        bytes.extend_from_slice(&(n as u32 + 1).to_le_bytes());
        for v in &fields[..n] {
            bytes.extend_from_slice(&v.0.to_le_bytes());
        }
        Val(kind | self.data(&[&bytes], 4) as u32)
    }

    /// An object; `fields[0]` is field 1 of its schema.
    pub fn object(&mut self, fields: &[Val]) -> Val {
        self.vals(TYPE_OBJECT, fields)
    }

    pub fn set_root(&mut self, root: Val) {
        self.buf[4..8].copy_from_slice(&root.0.to_le_bytes());
    }

    /// The bytes of a blob written before (to patch a `blob_raw` in place).
    pub fn blob_bytes_mut(&mut self, v: Val) -> &mut [u8] {
        let at = v.offset();
        let (skip, len) = match v.kind() {
            TYPE_BLOB_8 => (1, self.buf[at] as usize),
            TYPE_BLOB_16 => (
                2,
                u16::from_le_bytes([self.buf[at], self.buf[at + 1]]) as usize,
            ),
            _ => (
                4,
                u32::from_le_bytes(self.buf[at..at + 4].try_into().unwrap_or([0; 4])) as usize,
            ),
        };
        &mut self.buf[at + skip..at + skip + len]
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn finish(self) -> Result<Vec<u8>, Error> {
        if self.overflow {
            return Err(Error::TooLarge);
        }
        Ok(self.buf)
    }
}

/// Appends one block: header, payload, zero padding to 8 bytes.
pub fn push_block(out: &mut Vec<u8>, kind: u32, payload: &[&[u8]]) -> Result<(), Error> {
    let len: u64 = payload.iter().map(|p| p.len() as u64).sum();
    if len > MAX_BLOCK_PAYLOAD {
        return Err(Error::TooLarge);
    }
    let raw = 4 + len as usize;
    out.extend_from_slice(&((kind << 30) + raw as u32).to_le_bytes());
    for p in payload {
        out.extend_from_slice(p);
    }
    out.resize(out.len() + raw.next_multiple_of(BLOCK_ALIGNMENT) - raw, 0);
    Ok(())
}

/// A file's blocks, checked for framing and order (`__adb_m_parse`).
#[derive(Debug)]
pub struct Container<'a> {
    pub schema: u32,
    pub adb: &'a [u8],
    pub signatures: Vec<&'a [u8]>,
    pub data: Vec<&'a [u8]>,
}

/// Splits an uncompressed ADB stream (`ADB.` + schema + blocks).
pub fn parse_container(stream: &[u8]) -> Result<Container<'_>, Error> {
    if stream.len() < 8 || &stream[..4] != FORMAT_MAGIC {
        return Err(Error::Malformed("no ADB. file header"));
    }
    let schema = u32::from_le_bytes([stream[4], stream[5], stream[6], stream[7]]);
    let mut c = Container {
        schema,
        adb: &[],
        signatures: Vec::new(),
        data: Vec::new(),
    };
    let mut pos = 8;
    let mut seen_adb = false;
    while pos < stream.len() {
        let rest = &stream[pos..];
        if rest.len() < 4 {
            return Err(Error::Malformed("truncated block header"));
        }
        let ts = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let (kind, hdr, raw) = if ts >> 30 == BLOCK_EXT {
            if rest.len() < 16 {
                return Err(Error::Malformed("truncated extended block header"));
            }
            let x = u64::from_le_bytes(
                rest[8..16]
                    .try_into()
                    .map_err(|_| Error::Malformed("header"))?,
            );
            (ts & 0x3fff_ffff, 16usize, x)
        } else {
            (ts >> 30, 4usize, u64::from(ts & 0x3fff_ffff))
        };
        if raw < hdr as u64 {
            return Err(Error::Malformed("block shorter than its header"));
        }
        let size = raw.next_multiple_of(BLOCK_ALIGNMENT as u64);
        if size > rest.len() as u64 {
            return Err(Error::Malformed("block runs past the end of the file"));
        }
        let payload = &rest[hdr..raw as usize];
        match kind {
            BLOCK_ADB if !seen_adb => {
                if payload.len() < HDR_LEN {
                    return Err(Error::Malformed("ADB block shorter than its header"));
                }
                if payload[0] != 0 {
                    return Err(Error::Malformed("ADB compat version is not 0"));
                }
                c.adb = payload;
                seen_adb = true;
            }
            BLOCK_SIG if seen_adb && c.data.is_empty() => c.signatures.push(payload),
            BLOCK_DATA if seen_adb => c.data.push(payload),
            _ => {
                return Err(Error::Malformed(
                    "block out of order (ADB, then SIG, then DATA)",
                ))
            }
        }
        pos += size as usize;
    }
    if !seen_adb {
        return Err(Error::Malformed("no ADB block"));
    }
    Ok(c)
}

/// Bounds-checked reads of one ADB block.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    adb: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(adb: &'a [u8]) -> Result<Self, Error> {
        if adb.len() < HDR_LEN {
            return Err(Error::Malformed("ADB block shorter than its header"));
        }
        Ok(Reader { adb })
    }

    pub fn root(&self) -> Val {
        Val(u32::from_le_bytes([
            self.adb[4],
            self.adb[5],
            self.adb[6],
            self.adb[7],
        ]))
    }

    fn at(&self, off: usize, len: usize) -> Result<&'a [u8], Error> {
        off.checked_add(len)
            .and_then(|end| self.adb.get(off..end))
            .ok_or(Error::Malformed("value points past the ADB block"))
    }

    fn u32_at(&self, off: usize) -> Result<u32, Error> {
        let b = self.at(off, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An integer; null reads as `None`.
    pub fn int(&self, v: Val) -> Result<Option<u64>, Error> {
        match v.kind() {
            TYPE_SPECIAL if v.is_null() => Ok(None),
            TYPE_INT => Ok(Some(u64::from(v.0 & VALUE_MASK))),
            TYPE_INT_32 => Ok(Some(u64::from(self.u32_at(v.offset())?))),
            TYPE_INT_64 => {
                let b = self.at(v.offset(), 8)?;
                Ok(Some(u64::from_le_bytes(
                    b.try_into().map_err(|_| Error::Malformed("int64"))?,
                )))
            }
            _ => Err(Error::Malformed("integer field holds another type")),
        }
    }

    /// A blob; null reads as `None`.
    pub fn blob(&self, v: Val) -> Result<Option<&'a [u8]>, Error> {
        let off = v.offset();
        let (skip, len) = match v.kind() {
            TYPE_SPECIAL if v.is_null() => return Ok(None),
            TYPE_BLOB_8 => (1, self.at(off, 1)?[0] as usize),
            TYPE_BLOB_16 => {
                let b = self.at(off, 2)?;
                (2, u16::from_le_bytes([b[0], b[1]]) as usize)
            }
            TYPE_BLOB_32 => (4, self.u32_at(off)? as usize),
            _ => return Err(Error::Malformed("blob field holds another type")),
        };
        Ok(Some(self.at(off + skip, len)?))
    }

    /// An object's or array's fields (index 0 = field 1); null reads as empty.
    pub fn fields(&self, v: Val) -> Result<Vec<Val>, Error> {
        match v.kind() {
            TYPE_SPECIAL if v.is_null() => Ok(Vec::new()),
            TYPE_OBJECT | TYPE_ARRAY => {
                let n = self.u32_at(v.offset())? as usize;
                if n == 0 {
                    return Err(Error::Malformed("object with a zero count"));
                }
                let b = self.at(
                    v.offset(),
                    n.checked_mul(4).ok_or(Error::Malformed("count"))?,
                )?;
                Ok(b[4..]
                    .chunks_exact(4)
                    .map(|c| Val(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                    .collect())
            }
            _ => Err(Error::Malformed("object field holds another type")),
        }
    }
}

#[cfg(test)]
mod tests;
