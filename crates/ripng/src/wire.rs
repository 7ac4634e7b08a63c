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
mod tests {
    use super::*;

    use testlab::unhex as hex;

    /// A Response captured from BIRD 2.0.12 (fe80::2486:70ff:fe20:34ca) with
    /// tcpdump on a veth, split horizon with poisoned reverse on: the routes
    /// it learned from the peer come back at metric 16.
    const BIRD_RESPONSE: &str = "02010000\
        20010db800bb000000000000000000000000 3010\
        20010db800aa000000000000000000000000 3001\
        20010db800bb000100000000000000000000 4010\
        20010db800aa000100000000000000000000 4001\
        20010db8000a000000000000000000000000 4001";

    fn bird() -> Vec<u8> {
        hex(&BIRD_RESPONSE.replace([' ', '\n'], ""))
    }

    #[test]
    fn parses_bird_response() {
        let r = Repr::parse_bytes(&bird()).unwrap();
        assert_eq!(r.command, Command::Response);
        assert_eq!(r.rtes.len(), 5);
        let checked: Vec<Rte> = r.rtes.iter().map(|e| e.check().unwrap()).collect();
        assert_eq!(
            checked[0],
            Rte::Route {
                prefix: "2001:db8:bb::/48".parse().unwrap(),
                tag: 0,
                metric: 16
            }
        );
        assert_eq!(
            checked[4],
            Rte::Route {
                prefix: "2001:db8:a::/64".parse().unwrap(),
                tag: 0,
                metric: 1
            }
        );
        // And back to the same bytes.
        assert_eq!(r.to_bytes(), bird());
    }

    #[test]
    fn whole_table_request_golden() {
        // §2.4.1: one RTE, prefix 0, prefix length 0, metric 16.
        let r = Repr::whole_table_request();
        let b = r.to_bytes();
        assert_eq!(
            b,
            hex(&format!("01010000{}0000{}", "00".repeat(16), "0010"))
        );
        let back = Repr::parse_bytes(&b).unwrap();
        assert!(back.rtes[0].is_whole_table_request());
    }

    #[test]
    fn next_hop_rte() {
        // Header, next hop fe80::1 (tag 0, length 0, metric 0xFF), then
        // 2001:db8:1::/64 tag 0x00ab metric 3.
        let b = hex(concat!(
            "02010000",
            "fe800000000000000000000000000001",
            "0000",
            "00",
            "ff",
            "20010db8000100000000000000000000",
            "00ab",
            "40",
            "03",
        ));
        let r = Repr::parse_bytes(&b).unwrap();
        assert_eq!(
            r.rtes[0].check(),
            Ok(Rte::NextHop("fe80::1".parse().unwrap()))
        );
        assert_eq!(
            r.rtes[1].check(),
            Ok(Rte::Route {
                prefix: "2001:db8:1::/64".parse().unwrap(),
                tag: 0xab,
                metric: 3
            })
        );
        let mut bad = r.rtes[0];
        bad.prefix_len = 64;
        assert_eq!(bad.check(), Err(RteError::BadNextHop));
    }

    #[test]
    fn packet_errors() {
        assert_eq!(Repr::parse_bytes(&[2, 1]), Err(ParseError::Truncated(2)));
        assert_eq!(
            Repr::parse_bytes(&[2, 1, 0, 0, 1]),
            Err(ParseError::BadLength(1))
        );
        assert_eq!(
            Repr::parse_bytes(&[3, 1, 0, 0]),
            Err(ParseError::UnknownCommand(3))
        );
        assert_eq!(
            Repr::parse_bytes(&[2, 2, 0, 0]),
            Err(ParseError::BadVersion(2))
        );
        assert_eq!(
            Repr::parse_bytes(&[1, 1, 0, 0]),
            Err(ParseError::EmptyRequest)
        );
        // An empty Response is legal (nothing to say).
        assert!(Repr::parse_bytes(&[2, 1, 0, 0]).is_ok());
    }

    #[test]
    fn rte_errors() {
        let base = RawRte {
            prefix: "2001:db8::".parse().unwrap(),
            tag: 0,
            prefix_len: 32,
            metric: 1,
        };
        assert!(base.check().is_ok());
        assert_eq!(
            RawRte { metric: 0, ..base }.check(),
            Err(RteError::BadMetric(0))
        );
        assert_eq!(
            RawRte { metric: 17, ..base }.check(),
            Err(RteError::BadMetric(17))
        );
        assert_eq!(
            RawRte {
                prefix_len: 129,
                ..base
            }
            .check(),
            Err(RteError::PrefixLenTooLong(129))
        );
        assert_eq!(
            RawRte {
                prefix_len: 16,
                ..base
            }
            .check(),
            Err(RteError::HostBitsSet)
        );
        let mc = RawRte {
            prefix: "ff02::".parse().unwrap(),
            prefix_len: 16,
            ..base
        };
        assert_eq!(mc.check(), Err(RteError::MulticastPrefix));
        let ll = RawRte {
            prefix: "fe80::".parse().unwrap(),
            prefix_len: 64,
            ..base
        };
        assert_eq!(ll.check(), Err(RteError::LinkLocalPrefix));
        // The default route is a valid RTE.
        let def = RawRte {
            prefix: Ipv6Addr::UNSPECIFIED,
            prefix_len: 0,
            ..base
        };
        assert!(def.check().is_ok());
    }

    #[test]
    fn mtu_bound() {
        // §2.1: (1500 - 40 - 8 - 4) / 20 = 72 entries.
        assert_eq!(max_rtes(1500), 72);
        assert_eq!(max_rtes(1280), 61);
        // 9000 jumbo: 447.
        assert_eq!(max_rtes(9000), 447);
        let rtes: Vec<RawRte> = (0..200u16)
            .map(|i| RawRte {
                prefix: Ipv6Addr::new(0x2001, 0xdb8, i, 0, 0, 0, 0, 0),
                tag: 0,
                prefix_len: 48,
                metric: 1,
            })
            .collect();
        let pkts = emit_responses(&rtes, 1500);
        assert_eq!(pkts.len(), 3);
        assert!(pkts.iter().all(|p| p.len() <= 1500 - 48));
        assert_eq!(pkts[0].len(), 4 + 72 * 20);
        let n: usize = pkts
            .iter()
            .map(|p| Repr::parse_bytes(p).unwrap().rtes.len())
            .sum();
        assert_eq!(n, 200);
    }

    #[test]
    fn next_hop_repeated_across_datagrams() {
        let nh = RawRte {
            prefix: "fe80::1".parse().unwrap(),
            tag: 0,
            prefix_len: 0,
            metric: 0xff,
        };
        let mut rtes = vec![nh];
        for i in 0..100u16 {
            rtes.push(RawRte {
                prefix: Ipv6Addr::new(0x2001, 0xdb8, i, 0, 0, 0, 0, 0),
                tag: 0,
                prefix_len: 48,
                metric: 2,
            });
        }
        let pkts = emit_responses(&rtes, 1280);
        assert_eq!(pkts.len(), 2);
        for p in &pkts {
            let r = Repr::parse_bytes(p).unwrap();
            assert_eq!(r.rtes[0], nh);
            assert!(r.rtes.len() <= 61);
        }
        let routes: usize = pkts
            .iter()
            .map(|p| Repr::parse_bytes(p).unwrap().rtes.len() - 1)
            .sum();
        assert_eq!(routes, 100);
    }
}
