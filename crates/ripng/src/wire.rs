//! RIPng packet format (RFC 2080 §2.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +---------------+---------------+-------------------------------+
//! |  command (1)  |  version (1)  |       must be zero (2)        |
//! +---------------+---------------+-------------------------------+
//! |                Route Table Entry 1 (20)                       |
//! ~                             ...                               ~
//! |                Route Table Entry N (20)                       |
//! +---------------------------------------------------------------+
//!
//! Route Table Entry:
//! +---------------------------------------------------------------+
//! ~                        IPv6 prefix (16)                       ~
//! +-------------------------------+---------------+---------------+
//! |         route tag (2)         | prefix len (1)|  metric (1)   |
//! +-------------------------------+---------------+---------------+
//! ```
//!
//! `Packet<T>` is a checked view over a byte buffer; `Repr` is the parsed,
//! high-level form that `parse`s from and `emit`s into it. Per-entry
//! validity (§2.4.2: prefix, length, metric) is checked by [`Rte::check`] so
//! the engine can drop single bad entries with a reason and keep the rest.

use std::fmt;
use std::net::Ipv6Addr;
use v6common::Ipv6Prefix;

/// UDP port of RIPng (§2.1).
pub const RIPNG_PORT: u16 = 521;
/// All-RIP-routers multicast group (§2.1).
pub const ALL_RIP_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 9);
/// Header length: command, version, must-be-zero.
pub const HEADER_LEN: usize = 4;
/// Length of one route table entry.
pub const RTE_LEN: usize = 20;
/// Metric value marking a next-hop RTE (§2.1.1).
pub const NEXT_HOP_METRIC: u8 = 0xff;
/// IPv6 (40) + UDP (8) headers, subtracted from the MTU (§2.1).
pub const IPV6_UDP_OVERHEAD: usize = 40 + 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// 1: a request for all or part of the responder's routing table.
    Request,
    /// 2: a message containing all or part of the sender's routing table.
    Response,
}

impl Command {
    pub fn to_u8(self) -> u8 {
        match self {
            Command::Request => 1,
            Command::Response => 2,
        }
    }
}

/// Why a packet was rejected as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Shorter than the 4-byte header.
    Truncated(usize),
    /// The body is not a whole number of 20-byte entries.
    BadLength(usize),
    UnknownCommand(u8),
    /// RFC 2080 defines version 1 only.
    BadVersion(u8),
    /// A Request with no entry at all (§2.4.1 needs at least one).
    EmptyRequest,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Truncated(n) => write!(f, "truncated packet ({n} bytes, header is 4)"),
            ParseError::BadLength(n) => {
                write!(f, "body of {n} bytes is not a multiple of the 20-byte RTE")
            }
            ParseError::UnknownCommand(c) => write!(f, "unknown command {c}"),
            ParseError::BadVersion(v) => write!(f, "unsupported version {v}"),
            ParseError::EmptyRequest => write!(f, "request without route table entries"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Why a single route table entry is ignored (§2.4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RteError {
    PrefixLenTooLong(u8),
    /// Metric 0 or above 16 (and not the 0xFF next-hop marker).
    BadMetric(u8),
    MulticastPrefix,
    LinkLocalPrefix,
    /// Host bits set beyond the prefix length.
    HostBitsSet,
    /// A next-hop RTE with a non-zero tag or prefix length (§2.1.1).
    BadNextHop,
}

impl fmt::Display for RteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RteError::PrefixLenTooLong(l) => write!(f, "prefix length {l} > 128"),
            RteError::BadMetric(m) => write!(f, "metric {m} outside 1..16"),
            RteError::MulticastPrefix => write!(f, "multicast prefix"),
            RteError::LinkLocalPrefix => write!(f, "link-local prefix"),
            RteError::HostBitsSet => write!(f, "bits set beyond the prefix length"),
            RteError::BadNextHop => write!(f, "next-hop entry with non-zero tag or length"),
        }
    }
}

/// A route table entry exactly as it is on the wire (no validation beyond
/// size): `check` decides whether it is usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawRte {
    pub prefix: Ipv6Addr,
    pub tag: u16,
    pub prefix_len: u8,
    pub metric: u8,
}

/// A validated route table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rte {
    /// A route: destination, tag, metric (1..=16).
    Route {
        prefix: Ipv6Prefix,
        tag: u16,
        metric: u8,
    },
    /// §2.1.1: the following routes go via this address; `::` means "via
    /// the originator of this packet".
    NextHop(Ipv6Addr),
}

impl RawRte {
    /// Validate per §2.4.2 (Responses) and §2.1.1 (next hop).
    pub fn check(&self) -> Result<Rte, RteError> {
        if self.metric == NEXT_HOP_METRIC {
            if self.tag != 0 || self.prefix_len != 0 {
                return Err(RteError::BadNextHop);
            }
            return Ok(Rte::NextHop(self.prefix));
        }
        if self.prefix_len > 128 {
            return Err(RteError::PrefixLenTooLong(self.prefix_len));
        }
        if self.metric == 0 || self.metric > 16 {
            return Err(RteError::BadMetric(self.metric));
        }
        if self.prefix.is_multicast() {
            return Err(RteError::MulticastPrefix);
        }
        let prefix = Ipv6Prefix::new(self.prefix, self.prefix_len);
        if prefix.addr() != self.prefix {
            return Err(RteError::HostBitsSet);
        }
        if self.prefix_len >= 10 && v6common::prefix::is_link_local(self.prefix) {
            return Err(RteError::LinkLocalPrefix);
        }
        Ok(Rte::Route {
            prefix,
            tag: self.tag,
            metric: self.metric,
        })
    }

    /// The §2.4.1 whole-table request entry: `::/0`, metric 16.
    pub fn is_whole_table_request(&self) -> bool {
        self.prefix == Ipv6Addr::UNSPECIFIED && self.prefix_len == 0 && self.metric == 16
    }
}

/// A checked view over a RIPng datagram (the UDP payload).
#[derive(Debug)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wrap and check lengths, so the accessors never go out of bounds.
    pub fn new_checked(buffer: T) -> Result<Self, ParseError> {
        let p = Packet { buffer };
        p.check_len()?;
        Ok(p)
    }

    pub fn check_len(&self) -> Result<(), ParseError> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(ParseError::Truncated(len));
        }
        if !(len - HEADER_LEN).is_multiple_of(RTE_LEN) {
            return Err(ParseError::BadLength(len - HEADER_LEN));
        }
        Ok(())
    }

    pub fn command(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    pub fn rte_count(&self) -> usize {
        (self.buffer.as_ref().len() - HEADER_LEN) / RTE_LEN
    }

    /// The `i`-th route table entry; `i < rte_count()`.
    pub fn rte(&self, i: usize) -> RawRte {
        let b = &self.buffer.as_ref()[HEADER_LEN + i * RTE_LEN..HEADER_LEN + (i + 1) * RTE_LEN];
        let mut a = [0u8; 16];
        a.copy_from_slice(&b[..16]);
        RawRte {
            prefix: Ipv6Addr::from(a),
            tag: u16::from_be_bytes([b[16], b[17]]),
            prefix_len: b[18],
            metric: b[19],
        }
    }

    pub fn rtes(&self) -> impl Iterator<Item = RawRte> + '_ {
        (0..self.rte_count()).map(move |i| self.rte(i))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_header(&mut self, command: Command) {
        let b = self.buffer.as_mut();
        b[0] = command.to_u8();
        b[1] = 1;
        b[2] = 0;
        b[3] = 0;
    }

    pub fn set_rte(&mut self, i: usize, rte: &RawRte) {
        let b = &mut self.buffer.as_mut()[HEADER_LEN + i * RTE_LEN..HEADER_LEN + (i + 1) * RTE_LEN];
        b[..16].copy_from_slice(&rte.prefix.octets());
        b[16..18].copy_from_slice(&rte.tag.to_be_bytes());
        b[18] = rte.prefix_len;
        b[19] = rte.metric;
    }
}

/// A parsed RIPng datagram. Entries are kept raw: a bad entry is ignored
/// on its own (§2.4.2), it does not spoil the packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repr {
    pub command: Command,
    pub rtes: Vec<RawRte>,
}

impl Repr {
    /// A request for the whole table (RFC 2080 §2.4.1: exactly one RTE,
    /// prefix 0, prefix length 0, metric infinity).
    pub fn whole_table_request() -> Repr {
        Repr {
            command: Command::Request,
            rtes: vec![RawRte {
                prefix: Ipv6Addr::UNSPECIFIED,
                tag: 0,
                prefix_len: 0,
                metric: 16,
            }],
        }
    }

    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Repr, ParseError> {
        p.check_len()?;
        let command = match p.command() {
            1 => Command::Request,
            2 => Command::Response,
            c => return Err(ParseError::UnknownCommand(c)),
        };
        if p.version() != 1 {
            return Err(ParseError::BadVersion(p.version()));
        }
        // The must-be-zero field is not checked: RFC 2080 does not say to
        // drop on it, and BIRD does not either.
        let rtes: Vec<RawRte> = p.rtes().collect();
        if command == Command::Request && rtes.is_empty() {
            return Err(ParseError::EmptyRequest);
        }
        Ok(Repr { command, rtes })
    }

    /// Parse a UDP payload.
    pub fn parse_bytes(b: &[u8]) -> Result<Repr, ParseError> {
        Repr::parse(&Packet::new_checked(b)?)
    }

    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.rtes.len() * RTE_LEN
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Packet<T>) {
        p.set_header(self.command);
        for (i, r) in self.rtes.iter().enumerate() {
            p.set_rte(i, r);
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = vec![0u8; self.buffer_len()];
        self.emit(&mut Packet::new_unchecked(&mut v[..]));
        v
    }
}

/// How many RTEs fit in one datagram on a link of this MTU (§2.1):
/// `(MTU - sizeof(IPv6 hdrs) - UDP hdrlen - RIPng hdrlen) / RTE size`.
/// Never below 1, so a route always goes out even on a tiny MTU.
pub fn max_rtes(mtu: u32) -> usize {
    let mtu = (mtu as usize).max(1280);
    ((mtu - IPV6_UDP_OVERHEAD - HEADER_LEN) / RTE_LEN).max(1)
}

/// Split entries into Response datagrams of at most `max_rtes(mtu)` entries
/// each. A next-hop RTE is never left as the last entry of a datagram: it
/// is repeated at the start of the next one so every datagram stands alone.
pub fn emit_responses(rtes: &[RawRte], mtu: u32) -> Vec<Vec<u8>> {
    let max = max_rtes(mtu);
    let mut out = Vec::new();
    let mut cur: Vec<RawRte> = Vec::with_capacity(max);
    let mut nh: Option<RawRte> = None;
    for r in rtes {
        let is_nh = r.metric == NEXT_HOP_METRIC;
        if cur.len() == max || (is_nh && cur.len() + 1 == max) {
            out.push(
                Repr {
                    command: Command::Response,
                    rtes: std::mem::take(&mut cur),
                }
                .to_bytes(),
            );
            if let (Some(n), false) = (nh, is_nh) {
                cur.push(n);
            }
        }
        if is_nh {
            nh = Some(*r);
        }
        cur.push(*r);
    }
    if cur.iter().any(|r| r.metric != NEXT_HOP_METRIC) {
        out.push(
            Repr {
                command: Command::Response,
                rtes: cur,
            }
            .to_bytes(),
        );
    }
    out
}

#[cfg(test)]
mod tests;
