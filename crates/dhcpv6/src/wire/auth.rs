//! The Authentication option (RFC 8415 §21.11) as the Reconfigure Key
//! Authentication Protocol uses it (§20.4), and the HMAC-MD5 it needs
//! (RFC 2104 over RFC 1321's MD5, written here: 150 lines instead of two
//! crates, `md-5` + `hmac` with their digest traits, for one 16-byte MAC
//! per Reconfigure).

use super::{code, WireError};

/// Protocol 3: Reconfigure Key (§20.4).
pub const PROTOCOL_RECONFIGURE_KEY: u8 = 3;
/// Algorithm 1: HMAC-MD5 (§20.4).
pub const ALGORITHM_HMAC_MD5: u8 = 1;
/// Replay Detection Method 0: a monotonically increasing counter (§20.2).
pub const RDM_MONOTONIC: u8 = 0;
/// Type of the Reconfigure Key Authentication information (§20.4.1):
/// 1 the key (in a Reply), 2 the HMAC-MD5 digest (in a Reconfigure).
pub const INFO_KEY: u8 = 1;
pub const INFO_HMAC: u8 = 2;

/// OPTION_AUTH (11): protocol, algorithm, RDM, replay detection (64 bits),
/// authentication information.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth {
    pub protocol: u8,
    pub algorithm: u8,
    pub rdm: u8,
    pub replay: u64,
    pub info: Vec<u8>,
}

impl Auth {
    pub fn parse(data: &[u8]) -> Result<Auth, WireError> {
        if data.len() < 11 {
            return Err(WireError::BadOptionLength {
                code: code::AUTH,
                len: data.len(),
            });
        }
        let mut r = [0u8; 8];
        r.copy_from_slice(&data[3..11]);
        Ok(Auth {
            protocol: data[0],
            algorithm: data[1],
            rdm: data[2],
            replay: u64::from_be_bytes(r),
            info: data[11..].to_vec(),
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[self.protocol, self.algorithm, self.rdm]);
        out.extend_from_slice(&self.replay.to_be_bytes());
        out.extend_from_slice(&self.info);
    }

    /// The option a server puts in the Reply that creates a binding
    /// (§20.4.2): the Reconfigure Key itself.
    pub fn reconfigure_key(replay: u64, key: &[u8; 16]) -> Auth {
        let mut info = Vec::with_capacity(17);
        info.push(INFO_KEY);
        info.extend_from_slice(key);
        Auth::reconfigure_key_protocol(replay, info)
    }

    /// The option of a Reconfigure before it is signed (§20.4.3): the
    /// digest field zero, filled in by [`sign_reconfigure`].
    pub fn reconfigure_hmac_placeholder(replay: u64) -> Auth {
        let mut info = vec![0u8; 17];
        info[0] = INFO_HMAC;
        Auth::reconfigure_key_protocol(replay, info)
    }

    /// The Reconfigure Key Authentication Protocol's option (§20.4: protocol
    /// 3, HMAC-MD5, a monotonic replay counter) around `info`.
    fn reconfigure_key_protocol(replay: u64, info: Vec<u8>) -> Auth {
        Auth {
            protocol: PROTOCOL_RECONFIGURE_KEY,
            algorithm: ALGORITHM_HMAC_MD5,
            rdm: RDM_MONOTONIC,
            replay,
            info,
        }
    }

    /// The key, when this is a Reconfigure Key option carrying one.
    pub fn key(&self) -> Option<[u8; 16]> {
        if self.protocol != PROTOCOL_RECONFIGURE_KEY
            || self.algorithm != ALGORITHM_HMAC_MD5
            || self.info.len() != 17
            || self.info[0] != INFO_KEY
        {
            return None;
        }
        let mut k = [0u8; 16];
        k.copy_from_slice(&self.info[1..]);
        Some(k)
    }
}

/// Why a Reconfigure failed authentication (counter names).
pub mod auth_error {
    pub const NO_AUTH: &str = "reconfigure-no-auth";
    pub const NOT_RECONFIGURE_KEY: &str = "reconfigure-not-key-protocol";
    pub const BAD_DIGEST: &str = "reconfigure-bad-digest";
    pub const REPLAYED: &str = "reconfigure-replayed";
    pub const MALFORMED: &str = "reconfigure-malformed";
}

/// Where the 16-byte digest of the one top-level Authentication option of
/// a client/server message is, with that option (§20.4.3 signs the whole
/// message with this field zero).
fn find_digest(msg: &[u8]) -> Result<(usize, Auth), &'static str> {
    let mut at = 4;
    let mut found = None;
    while at < msg.len() {
        let h = msg.get(at..at + 4).ok_or(auth_error::MALFORMED)?;
        let c = u16::from_be_bytes([h[0], h[1]]);
        let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
        let body = msg.get(at + 4..at + 4 + len).ok_or(auth_error::MALFORMED)?;
        if c == code::AUTH {
            if found.is_some() {
                return Err(auth_error::MALFORMED);
            }
            let a = Auth::parse(body).map_err(|_| auth_error::MALFORMED)?;
            found = Some((at + 4 + 11 + 1, a));
        }
        at += 4 + len;
    }
    let (off, a) = found.ok_or(auth_error::NO_AUTH)?;
    if a.protocol != PROTOCOL_RECONFIGURE_KEY
        || a.algorithm != ALGORITHM_HMAC_MD5
        || a.rdm != RDM_MONOTONIC
        || a.info.len() != 17
        || a.info[0] != INFO_HMAC
    {
        return Err(auth_error::NOT_RECONFIGURE_KEY);
    }
    Ok((off, a))
}

/// Fill in the HMAC-MD5 digest of a Reconfigure built with
/// [`Auth::reconfigure_hmac_placeholder`] (§20.4.3).
pub fn sign_reconfigure(msg: &mut [u8], key: &[u8; 16]) -> Result<(), &'static str> {
    let (off, _) = find_digest(msg)?;
    msg[off..off + 16].fill(0);
    let mac = hmac_md5(key, msg);
    msg[off..off + 16].copy_from_slice(&mac);
    Ok(())
}

/// Check a Reconfigure's digest with the key the server gave us (§20.4.4)
/// and that its replay counter is above `last` (§20.2: RDM 0, a
/// monotonically increasing value). Returns the counter to remember.
pub fn verify_reconfigure(
    msg: &[u8],
    key: &[u8; 16],
    last: Option<u64>,
) -> Result<u64, &'static str> {
    let (off, a) = find_digest(msg)?;
    let mut copy = msg.to_vec();
    copy[off..off + 16].fill(0);
    let mac = hmac_md5(key, &copy);
    // Compare without an early exit, so timing says nothing about the key.
    let diff = mac
        .iter()
        .zip(&msg[off..off + 16])
        .fold(0u8, |d, (a, b)| d | (a ^ b));
    if diff != 0 {
        return Err(auth_error::BAD_DIGEST);
    }
    if last.is_some_and(|l| a.replay <= l) {
        return Err(auth_error::REPLAYED);
    }
    Ok(a.replay)
}

/// HMAC-MD5 (RFC 2104 with B = 64).
pub fn hmac_md5(key: &[u8], data: &[u8]) -> [u8; 16] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..16].copy_from_slice(&md5(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Md5::new();
    inner.update(&k.map(|b| b ^ 0x36));
    inner.update(data);
    let ih = inner.finish();
    let mut outer = Md5::new();
    outer.update(&k.map(|b| b ^ 0x5c));
    outer.update(&ih);
    outer.finish()
}

/// MD5 of `data` (RFC 1321).
pub fn md5(data: &[u8]) -> [u8; 16] {
    let mut m = Md5::new();
    m.update(data);
    m.finish()
}

struct Md5 {
    s: [u32; 4],
    buf: [u8; 64],
    fill: usize,
    len: u64,
}

const S: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
    14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15,
    21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];

/// RFC 1321 §3.4: T[i] = floor(2^32 × |sin(i + 1)|).
const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

impl Md5 {
    fn new() -> Md5 {
        Md5 {
            s: [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476],
            buf: [0; 64],
            fill: 0,
            len: 0,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.len = self.len.wrapping_add(data.len() as u64);
        while !data.is_empty() {
            let n = (64 - self.fill).min(data.len());
            self.buf[self.fill..self.fill + n].copy_from_slice(&data[..n]);
            self.fill += n;
            data = &data[n..];
            if self.fill == 64 {
                let block = self.buf;
                self.block(&block);
                self.fill = 0;
            }
        }
    }

    fn finish(mut self) -> [u8; 16] {
        let bits = self.len.wrapping_mul(8);
        self.update(&[0x80]);
        while self.fill != 56 {
            self.update(&[0]);
        }
        self.update(&bits.to_le_bytes());
        let mut out = [0u8; 16];
        for (o, w) in out.chunks_exact_mut(4).zip(self.s) {
            o.copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    fn block(&mut self, b: &[u8; 64]) {
        let mut m = [0u32; 16];
        for (w, c) in m.iter_mut().zip(b.chunks_exact(4)) {
            *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        let [mut a, mut bb, mut c, mut d] = self.s;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((bb & c) | (!bb & d), i),
                1 => ((d & bb) | (!d & c), (5 * i + 1) % 16),
                2 => (bb ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (bb | !d), (7 * i) % 16),
            };
            let t = d;
            d = c;
            c = bb;
            bb = bb.wrapping_add(
                a.wrapping_add(f)
                    .wrapping_add(K[i])
                    .wrapping_add(m[g])
                    .rotate_left(S[i]),
            );
            a = t;
        }
        for (s, v) in self.s.iter_mut().zip([a, bb, c, d]) {
            *s = s.wrapping_add(v);
        }
    }
}

#[cfg(test)]
mod tests;
