//! Router Solicitation and Router Advertisement messages (RFC 4861 §4.1, §4.2)
//! and the Neighbor Discovery options a router sends in them.
//!
//! Not smoltcp's `Packet`/`Repr` pair (crates/ripng/src/wire.rs has that
//! shape): an RS or RA is read once, whole, by one caller, so there is no
//! checked view over the bytes worth keeping. Each message and option is a
//! plain struct of its fields (what smoltcp calls the `Repr`):
//!
//! - receiving, [`parse`] (or [`parse_rs`], [`parse_ra`]) applies the validity
//!   checks of RFC 4861 §6.1.1/§6.1.2 to the header, then walks the options:
//!   an option's Length is checked against the message before a byte of it
//!   is read, and each option's own parser (beside its struct, with its RFC
//!   section and field layout) checks the Length its RFC allows, so no input
//!   panics (fuzz/fuzz_targets/ra_parse.rs);
//! - sending, `to_bytes` on the message and [`NdOption::emit`] per option.
//!
//! The ICMPv6 checksum is left 0: for raw ICMPv6 sockets the kernel computes
//! it on send and verifies it on receive (RFC 3542 §3.1). Tests, with golden
//! bytes from the RFCs and captured from radvd: `wire/tests.rs`.
//!
//! Options:
//! - Source Link-Layer Address (type 1, RFC 4861 §4.6.1)
//! - Prefix Information (type 3, RFC 4861 §4.6.2)
//! - MTU (type 5, RFC 4861 §4.6.4)
//! - Route Information (type 24, RFC 4191 §2.3)
//! - Recursive DNS Server (type 25, RFC 8106 §5.1)
//! - DNS Search List (type 31, RFC 8106 §5.2)
//! - Captive Portal (type 37, RFC 8910 §2.3)
//! - PREF64 (type 38, RFC 8781 §4)
//!
//! Unknown options are kept as they are (receivers MUST silently ignore them,
//! RFC 4861 §4.6), so a parsed message can be re-emitted unchanged.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::Ipv6Addr;

/// ICMPv6 type of a Router Solicitation.
pub const ICMPV6_ROUTER_SOLICITATION: u8 = 133;
/// ICMPv6 type of a Router Advertisement.
pub const ICMPV6_ROUTER_ADVERTISEMENT: u8 = 134;
/// The IP Hop Limit every ND message is sent with and must arrive with
/// (RFC 4861 §6.1.1, §6.1.2): proof it was not forwarded by a router.
pub const ND_HOP_LIMIT: u8 = 255;

/// RS header: type, code, checksum, reserved (RFC 4861 §4.1).
pub const RS_HEADER_LEN: usize = 8;
/// RA header: type, code, checksum, hop limit, flags, router lifetime,
/// reachable time, retrans timer (RFC 4861 §4.2).
pub const RA_HEADER_LEN: usize = 16;

pub const OPT_SOURCE_LLADDR: u8 = 1;
pub const OPT_TARGET_LLADDR: u8 = 2;
pub const OPT_PREFIX_INFORMATION: u8 = 3;
pub const OPT_REDIRECTED_HEADER: u8 = 4;
pub const OPT_MTU: u8 = 5;
pub const OPT_ROUTE_INFORMATION: u8 = 24;
pub const OPT_RDNSS: u8 = 25;
pub const OPT_DNSSL: u8 = 31;
pub const OPT_CAPTIVE_PORTAL: u8 = 37;
pub const OPT_PREF64: u8 = 38;

/// Why a received message was not accepted. Each variant names the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Fewer bytes than the fixed header of the message (RFC 4861 §6.1.1/§6.1.2:
    /// ICMP length 8 or more for RS, 16 or more for RA).
    Truncated { need: usize, got: usize },
    /// Not ICMPv6 type 133 or 134.
    NotRouterDiscovery(u8),
    /// ICMP Code is not 0 (RFC 4861 §6.1.1/§6.1.2).
    BadCode(u8),
    /// IP Hop Limit is not 255: the message was forwarded (RFC 4861 §6.1).
    BadHopLimit(u8),
    /// RA whose IP source is not link-local (RFC 4861 §6.1.2).
    SourceNotLinkLocal(Ipv6Addr),
    /// RS from the unspecified address carrying a source link-layer address
    /// option (RFC 4861 §6.1.1).
    UnspecifiedSourceWithLladdr,
    /// An option with Length 0 (RFC 4861 §4.6, §6.1).
    ZeroLengthOption { offset: usize, kind: u8 },
    /// An option whose Length runs past the end of the message.
    OptionOverrun { offset: usize, kind: u8, len: usize },
    /// A known option with a Length its RFC does not allow.
    BadOptionLength { kind: u8, units: u8 },
    /// A known option whose contents break its RFC (field named in `why`).
    BadOption { kind: u8, why: &'static str },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Truncated { need, got } => {
                write!(f, "truncated: {got} bytes, header needs {need}")
            }
            ParseError::NotRouterDiscovery(t) => write!(f, "ICMPv6 type {t} is not RS/RA"),
            ParseError::BadCode(c) => write!(f, "ICMPv6 code {c}, must be 0"),
            ParseError::BadHopLimit(h) => write!(f, "hop limit {h}, must be 255"),
            ParseError::SourceNotLinkLocal(a) => write!(f, "RA source {a} is not link-local"),
            ParseError::UnspecifiedSourceWithLladdr => {
                write!(f, "RS from :: carries a source link-layer address option")
            }
            ParseError::ZeroLengthOption { offset, kind } => {
                write!(f, "option type {kind} at offset {offset} has length 0")
            }
            ParseError::OptionOverrun { offset, kind, len } => {
                write!(
                    f,
                    "option type {kind} at offset {offset} ({len} bytes) runs past the end"
                )
            }
            ParseError::BadOptionLength { kind, units } => {
                write!(f, "option type {kind} has invalid length {units}")
            }
            ParseError::BadOption { kind, why } => write!(f, "option type {kind}: {why}"),
        }
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    /// A short name for the reason, to count drops by (`v6ctl show ra`).
    pub fn reason(&self) -> &'static str {
        match self {
            ParseError::Truncated { .. } => "truncated",
            ParseError::NotRouterDiscovery(_) => "not-rs-or-ra",
            ParseError::BadCode(_) => "bad-code",
            ParseError::BadHopLimit(_) => "bad-hop-limit",
            ParseError::SourceNotLinkLocal(_) => "source-not-link-local",
            ParseError::UnspecifiedSourceWithLladdr => "unspecified-source-with-lladdr",
            ParseError::ZeroLengthOption { .. } => "zero-length-option",
            ParseError::OptionOverrun { .. } => "option-overrun",
            ParseError::BadOptionLength { .. } => "bad-option-length",
            ParseError::BadOption { .. } => "bad-option",
        }
    }
}

/// Why a message could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmitError {
    /// The option would need more than 255 units of 8 bytes.
    OptionTooLong { kind: u8, bytes: usize },
    /// A DNSSL name with an empty label or a label over 63 bytes, or a name
    /// over 255 bytes (RFC 1035 §2.3.4).
    BadDomainName(String),
    /// A link-layer address longer than an option can hold.
    BadLladdr,
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::OptionTooLong { kind, bytes } => {
                write!(f, "option type {kind} would be {bytes} bytes, over 2040")
            }
            EmitError::BadDomainName(n) => write!(f, "`{n}` is not a valid DNS name"),
            EmitError::BadLladdr => write!(f, "link-layer address too long"),
        }
    }
}

impl std::error::Error for EmitError {}

/// RFC 4861 §6.1.1/§6.1.2: the IP Hop Limit of a received ND message must be
/// 255. The caller takes it from IPV6_HOPLIMIT ancillary data.
pub fn validate_hop_limit(hop_limit: u8) -> Result<(), ParseError> {
    if hop_limit == ND_HOP_LIMIT {
        Ok(())
    } else {
        Err(ParseError::BadHopLimit(hop_limit))
    }
}

/// Default Router Preference (RFC 4191 §2.1, §2.2) and Route Information
/// preference. Two bits: 01 high, 00 medium, 11 low, 10 reserved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouterPreference {
    High,
    #[default]
    Medium,
    Low,
}

impl RouterPreference {
    pub fn bits(self) -> u8 {
        match self {
            RouterPreference::High => 0b01,
            RouterPreference::Medium => 0b00,
            RouterPreference::Low => 0b11,
        }
    }

    /// None for the reserved value 10.
    pub fn from_bits(b: u8) -> Option<Self> {
        match b & 0b11 {
            0b01 => Some(RouterPreference::High),
            0b00 => Some(RouterPreference::Medium),
            0b11 => Some(RouterPreference::Low),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RouterPreference::High => "high",
            RouterPreference::Medium => "medium",
            RouterPreference::Low => "low",
        }
    }
}

/// Prefix Information option (RFC 4861 §4.6.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixInformation {
    pub prefix_len: u8,
    /// L: the prefix is on-link.
    pub on_link: bool,
    /// A: usable for stateless address autoconfiguration (RFC 4862).
    pub autonomous: bool,
    /// R: the Prefix field carries the router's full address (RFC 6275 §7.2).
    pub router_address: bool,
    /// Seconds; 0xffffffff is infinity.
    pub valid_lifetime: u32,
    /// Seconds; 0xffffffff is infinity.
    pub preferred_lifetime: u32,
    pub prefix: Ipv6Addr,
}

/// Route Information option (RFC 4191 §2.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteInformation {
    pub prefix_len: u8,
    pub preference: RouterPreference,
    /// Seconds; 0xffffffff is infinity.
    pub route_lifetime: u32,
    /// The prefix; bits past `prefix_len` are zero when emitted.
    pub prefix: Ipv6Addr,
}

/// Recursive DNS Server option (RFC 8106 §5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rdnss {
    pub lifetime: u32,
    pub servers: Vec<Ipv6Addr>,
}

/// DNS Search List option (RFC 8106 §5.2). Names without the trailing dot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dnssl {
    pub lifetime: u32,
    pub domains: Vec<String>,
}

/// PREF64 option (RFC 8781 §4): the NAT64 prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pref64 {
    /// Lifetime in seconds; on the wire in units of 8 s in 13 bits, so at most
    /// 65528 and rounded down to a multiple of 8 when emitted.
    pub lifetime: u16,
    /// One of 96, 64, 56, 48, 40, 32 (the Prefix Length Code, §4).
    pub prefix_len: u8,
    pub prefix: Ipv6Addr,
}

impl Pref64 {
    /// Largest lifetime the 13-bit scaled field can carry (8191 * 8 s).
    pub const MAX_LIFETIME: u16 = 8191 * 8;

    /// Prefix Length Code (RFC 8781 §4).
    pub fn plc(prefix_len: u8) -> Option<u8> {
        match prefix_len {
            96 => Some(0),
            64 => Some(1),
            56 => Some(2),
            48 => Some(3),
            40 => Some(4),
            32 => Some(5),
            _ => None,
        }
    }

    fn len_from_plc(plc: u8) -> Option<u8> {
        [96, 64, 56, 48, 40, 32].get(usize::from(plc)).copied()
    }
}

/// One Neighbor Discovery option as it appears in an RS or RA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NdOption {
    /// The option's data (Length*8-2 bytes; 6 for Ethernet).
    SourceLinkLayerAddress(Vec<u8>),
    Mtu(u32),
    PrefixInformation(PrefixInformation),
    RouteInformation(RouteInformation),
    Rdnss(Rdnss),
    Dnssl(Dnssl),
    Pref64(Pref64),
    /// The API URI (RFC 8910 §2.3), NUL padding removed.
    CaptivePortal(String),
    /// Anything else: type and the bytes after the type/length pair.
    Unknown {
        kind: u8,
        data: Vec<u8>,
    },
}

impl NdOption {
    pub fn kind(&self) -> u8 {
        match self {
            NdOption::SourceLinkLayerAddress(_) => OPT_SOURCE_LLADDR,
            NdOption::Mtu(_) => OPT_MTU,
            NdOption::PrefixInformation(_) => OPT_PREFIX_INFORMATION,
            NdOption::RouteInformation(_) => OPT_ROUTE_INFORMATION,
            NdOption::Rdnss(_) => OPT_RDNSS,
            NdOption::Dnssl(_) => OPT_DNSSL,
            NdOption::Pref64(_) => OPT_PREF64,
            NdOption::CaptivePortal(_) => OPT_CAPTIVE_PORTAL,
            NdOption::Unknown { kind, .. } => *kind,
        }
    }

    /// Parse one option from `opt`, which is exactly Length*8 bytes long
    /// with Length > 0 ([`parse_options`] checked both), so the body after
    /// type and length has at least 6 bytes.
    fn parse(opt: &[u8]) -> Result<NdOption, ParseError> {
        let (kind, units, body) = (opt[0], opt[1], &opt[2..]);
        Ok(match kind {
            // RFC 4861 §4.6.1: the address fills the body (padding included).
            OPT_SOURCE_LLADDR => NdOption::SourceLinkLayerAddress(body.to_vec()),
            OPT_MTU => NdOption::Mtu(parse_mtu(units, body)?),
            OPT_PREFIX_INFORMATION => {
                NdOption::PrefixInformation(PrefixInformation::parse(units, body)?)
            }
            OPT_ROUTE_INFORMATION => {
                NdOption::RouteInformation(RouteInformation::parse(units, body)?)
            }
            OPT_RDNSS => NdOption::Rdnss(Rdnss::parse(units, body)?),
            OPT_DNSSL => NdOption::Dnssl(Dnssl::parse(units, body)?),
            OPT_PREF64 => NdOption::Pref64(Pref64::parse(units, body)?),
            OPT_CAPTIVE_PORTAL => NdOption::CaptivePortal(parse_captive_portal(body)?),
            _ => NdOption::Unknown {
                kind,
                data: body.to_vec(),
            },
        })
    }

    /// Append the option's encoding (type, length, body, padding) to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EmitError> {
        let start = out.len();
        out.push(self.kind());
        out.push(0); // length, patched by pad_option
        match self {
            NdOption::SourceLinkLayerAddress(ll) => {
                if ll.len() > 2040 - 2 {
                    return Err(EmitError::BadLladdr);
                }
                out.extend_from_slice(ll);
            }
            NdOption::Mtu(mtu) => {
                // RFC 4861 §4.6.4: 2 reserved bytes, then the MTU.
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&mtu.to_be_bytes());
            }
            NdOption::PrefixInformation(p) => p.emit_body(out),
            NdOption::RouteInformation(r) => r.emit_body(out),
            NdOption::Rdnss(r) => r.emit_body(out),
            NdOption::Dnssl(d) => d.emit_body(out)?,
            NdOption::Pref64(p) => p.emit_body(out),
            // RFC 8910 §2.3: the URI; the padding is NUL bytes.
            NdOption::CaptivePortal(uri) => out.extend_from_slice(uri.as_bytes()),
            NdOption::Unknown { data, .. } => out.extend_from_slice(data),
        }
        pad_option(self.kind(), start, out)
    }
}

/// Pad the option that starts at `start` with zeros to a multiple of 8 and
/// write its Length in units of 8 bytes (RFC 4861 §4.6; RFC 8106 §5.2;
/// RFC 8910 §2.3). An option over 255 units is taken out again.
fn pad_option(kind: u8, start: usize, out: &mut Vec<u8>) -> Result<(), EmitError> {
    let len = out.len() - start;
    let padded = len.div_ceil(8) * 8;
    if padded > 255 * 8 {
        out.truncate(start);
        return Err(EmitError::OptionTooLong {
            kind,
            bytes: padded,
        });
    }
    out.resize(start + padded, 0);
    out[start + 1] = (padded / 8) as u8;
    Ok(())
}

fn bad_length(kind: u8, units: u8) -> ParseError {
    ParseError::BadOptionLength { kind, units }
}

fn bad_option(kind: u8, why: &'static str) -> ParseError {
    ParseError::BadOption { kind, why }
}

/// MTU option (RFC 4861 §4.6.4): Length 1; Reserved (2), MTU (4).
fn parse_mtu(units: u8, body: &[u8]) -> Result<u32, ParseError> {
    if units != 1 {
        return Err(bad_length(OPT_MTU, units));
    }
    Ok(be32(&body[2..6]))
}

/// Captive Portal option (RFC 8910 §2.3): the URI, padded with NUL to the
/// 8-byte boundary; a NUL inside it or bytes that are not UTF-8 are invalid.
fn parse_captive_portal(body: &[u8]) -> Result<String, ParseError> {
    let end = body.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    if body[..end].contains(&0) {
        return Err(bad_option(OPT_CAPTIVE_PORTAL, "NUL inside the URI"));
    }
    let uri = std::str::from_utf8(&body[..end])
        .map_err(|_| bad_option(OPT_CAPTIVE_PORTAL, "URI is not UTF-8"))?;
    Ok(uri.to_string())
}

impl PrefixInformation {
    /// RFC 4861 §4.6.2: Length 4; Prefix Length (1), L|A|R flags (1), Valid
    /// Lifetime (4), Preferred Lifetime (4), Reserved2 (4), Prefix (16).
    fn parse(units: u8, body: &[u8]) -> Result<Self, ParseError> {
        let kind = OPT_PREFIX_INFORMATION;
        if units != 4 {
            return Err(bad_length(kind, units));
        }
        let prefix_len = body[0];
        if prefix_len > 128 {
            return Err(bad_option(kind, "prefix length over 128"));
        }
        let flags = body[1];
        Ok(PrefixInformation {
            prefix_len,
            on_link: flags & 0x80 != 0,
            autonomous: flags & 0x40 != 0,
            router_address: flags & 0x20 != 0,
            valid_lifetime: be32(&body[2..6]),
            preferred_lifetime: be32(&body[6..10]),
            prefix: addr16(&body[14..30]),
        })
    }

    fn emit_body(&self, out: &mut Vec<u8>) {
        out.push(self.prefix_len);
        let mut flags = 0u8;
        if self.on_link {
            flags |= 0x80;
        }
        if self.autonomous {
            flags |= 0x40;
        }
        if self.router_address {
            flags |= 0x20;
        }
        out.push(flags);
        out.extend_from_slice(&self.valid_lifetime.to_be_bytes());
        out.extend_from_slice(&self.preferred_lifetime.to_be_bytes());
        out.extend_from_slice(&[0; 4]); // Reserved2
                                        // §4.6.2: bits after the prefix length are reserved and MUST be
                                        // zero, unless R says it is the router's address.
        let prefix = if self.router_address {
            self.prefix
        } else {
            v6common::prefix::mask(self.prefix, self.prefix_len)
        };
        out.extend_from_slice(&prefix.octets());
    }
}

impl RouteInformation {
    /// RFC 4191 §2.3: Prefix Length (1), Prf in bits 3-4 (1), Route Lifetime
    /// (4), then 0, 8 or 16 bytes of prefix: Length 1, 2 or 3; 3 when Prefix
    /// Length > 64, at least 2 when Prefix Length > 0.
    fn parse(units: u8, body: &[u8]) -> Result<Self, ParseError> {
        let kind = OPT_ROUTE_INFORMATION;
        let prefix_len = body[0];
        if !(1..=3).contains(&units) {
            return Err(bad_length(kind, units));
        }
        if prefix_len > 128 {
            return Err(bad_option(kind, "prefix length over 128"));
        }
        if (prefix_len > 64 && units < 3) || (prefix_len > 0 && units < 2) {
            return Err(bad_option(kind, "length too short for prefix length"));
        }
        // §2.3: a reserved (10) Prf means the option MUST be ignored; we
        // reject it so the caller counts it.
        let preference = RouterPreference::from_bits(body[1] >> 3)
            .ok_or(bad_option(kind, "reserved route preference 10"))?;
        let mut p = [0u8; 16];
        let plen = (usize::from(units) - 1) * 8;
        p[..plen].copy_from_slice(&body[6..6 + plen]);
        Ok(RouteInformation {
            prefix_len,
            preference,
            route_lifetime: be32(&body[2..6]),
            prefix: Ipv6Addr::from(p),
        })
    }

    fn emit_body(&self, out: &mut Vec<u8>) {
        let plen = self.prefix_len.min(128);
        out.push(plen);
        out.push(self.preference.bits() << 3);
        out.extend_from_slice(&self.route_lifetime.to_be_bytes());
        // RFC 4191 §2.3: the shortest Length that holds the prefix.
        let bytes = match plen {
            0 => 0,
            1..=64 => 8,
            _ => 16,
        };
        let p = v6common::prefix::mask(self.prefix, plen).octets();
        out.extend_from_slice(&p[..bytes]);
    }
}

impl Rdnss {
    /// RFC 8106 §5.1: Reserved (2), Lifetime (4), addresses (16 each):
    /// Length 3 + 2n for n >= 1 addresses.
    fn parse(units: u8, body: &[u8]) -> Result<Self, ParseError> {
        if units < 3 || units & 1 == 0 {
            return Err(bad_length(OPT_RDNSS, units));
        }
        Ok(Rdnss {
            lifetime: be32(&body[2..6]),
            servers: body[6..].chunks_exact(16).map(addr16).collect(),
        })
    }

    fn emit_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&self.lifetime.to_be_bytes());
        for s in &self.servers {
            out.extend_from_slice(&s.octets());
        }
    }
}

impl Dnssl {
    /// RFC 8106 §5.2: Reserved (2), Lifetime (4), names: Length at least 2.
    fn parse(units: u8, body: &[u8]) -> Result<Self, ParseError> {
        if units < 2 {
            return Err(bad_length(OPT_DNSSL, units));
        }
        Ok(Dnssl {
            lifetime: be32(&body[2..6]),
            domains: parse_dns_names(&body[6..]).map_err(|why| bad_option(OPT_DNSSL, why))?,
        })
    }

    fn emit_body(&self, out: &mut Vec<u8>) -> Result<(), EmitError> {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&self.lifetime.to_be_bytes());
        self.domains
            .iter()
            .try_for_each(|name| encode_dns_name(name, out))
    }
}

impl Pref64 {
    /// RFC 8781 §4: Scaled Lifetime (13 bits) and PLC (3 bits), then the
    /// first 96 bits of the prefix: Length 2; an unknown PLC means the
    /// option is ignored (rejected here so it is counted).
    fn parse(units: u8, body: &[u8]) -> Result<Self, ParseError> {
        if units != 2 {
            return Err(bad_length(OPT_PREF64, units));
        }
        let word = u16::from_be_bytes([body[0], body[1]]);
        let prefix_len = Pref64::len_from_plc((word & 0x7) as u8)
            .ok_or(bad_option(OPT_PREF64, "invalid prefix length code"))?;
        let mut p = [0u8; 16];
        p[..12].copy_from_slice(&body[2..14]);
        Ok(Pref64 {
            lifetime: word & 0xfff8,
            prefix_len,
            prefix: Ipv6Addr::from(p),
        })
    }

    fn emit_body(&self, out: &mut Vec<u8>) {
        let plc = Pref64::plc(self.prefix_len).unwrap_or(0);
        let word = (self.lifetime & 0xfff8) | u16::from(plc);
        out.extend_from_slice(&word.to_be_bytes());
        out.extend_from_slice(&self.prefix.octets()[..12]);
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn addr16(b: &[u8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[..16]);
    Ipv6Addr::from(a)
}

/// RFC 8106 §5.2: names in RFC 1035 §3.1 encoding, no compression, then zero
/// padding. Labels must be LDH-ish printable ASCII without dots.
fn parse_dns_names(mut b: &[u8]) -> Result<Vec<String>, &'static str> {
    let mut names = Vec::new();
    while let Some(&first) = b.first() {
        if first == 0 {
            // Padding: the rest must be zero.
            if b.iter().any(|&x| x != 0) {
                return Err("non-zero bytes after the padding starts");
            }
            break;
        }
        let mut name = String::new();
        let mut wire_len = 0usize;
        loop {
            let Some(&l) = b.first() else {
                return Err("name not terminated by a zero label");
            };
            b = &b[1..];
            wire_len += 1;
            if l == 0 {
                break;
            }
            if l > 63 {
                return Err("label over 63 bytes or a compression pointer");
            }
            let l = usize::from(l);
            if b.len() < l {
                return Err("label runs past the option");
            }
            let label = &b[..l];
            if !label.iter().all(|&c| c.is_ascii_graphic() && c != b'.') {
                return Err("label with a dot or a non-printable byte");
            }
            if !name.is_empty() {
                name.push('.');
            }
            name.extend(label.iter().map(|&c| char::from(c)));
            b = &b[l..];
            wire_len += l;
            if wire_len > 255 {
                return Err("name over 255 bytes");
            }
        }
        names.push(name);
    }
    if names.is_empty() {
        return Err("no domain name");
    }
    Ok(names)
}

fn encode_dns_name(name: &str, out: &mut Vec<u8>) -> Result<(), EmitError> {
    let n = name.strip_suffix('.').unwrap_or(name);
    let bad = || EmitError::BadDomainName(name.to_string());
    if n.is_empty() || n.len() + 2 > 255 {
        return Err(bad());
    }
    for label in n.split('.') {
        if label.is_empty() || label.len() > 63 || !label.bytes().all(|c| c.is_ascii_graphic()) {
            return Err(bad());
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    Ok(())
}

/// Walk the options area: every option has Length > 0 and fits (RFC 4861 §6.1).
fn parse_options(b: &[u8], base: usize) -> Result<Vec<NdOption>, ParseError> {
    let mut opts = Vec::new();
    let mut off = 0;
    while off < b.len() {
        let kind = b[off];
        let Some(&units) = b.get(off + 1) else {
            return Err(ParseError::OptionOverrun {
                offset: base + off,
                kind,
                len: 2,
            });
        };
        if units == 0 {
            return Err(ParseError::ZeroLengthOption {
                offset: base + off,
                kind,
            });
        }
        let len = usize::from(units) * 8;
        if off + len > b.len() {
            return Err(ParseError::OptionOverrun {
                offset: base + off,
                kind,
                len,
            });
        }
        opts.push(NdOption::parse(&b[off..off + len])?);
        off += len;
    }
    Ok(opts)
}

fn emit_options(opts: &[NdOption], out: &mut Vec<u8>) -> Result<(), EmitError> {
    opts.iter().try_for_each(|o| o.emit(out))
}

/// The first Source Link-Layer Address option (RFC 4861 §4.6.1) of an RS or RA.
fn source_lladdr(opts: &[NdOption]) -> Option<&[u8]> {
    opts.iter().find_map(|o| match o {
        NdOption::SourceLinkLayerAddress(ll) => Some(ll.as_slice()),
        _ => None,
    })
}

/// Router Solicitation (RFC 4861 §4.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouterSolicitation {
    pub options: Vec<NdOption>,
}

impl RouterSolicitation {
    /// The Source Link-Layer Address option, if any.
    pub fn source_lladdr(&self) -> Option<&[u8]> {
        source_lladdr(&self.options)
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, EmitError> {
        let mut out = vec![ICMPV6_ROUTER_SOLICITATION, 0, 0, 0, 0, 0, 0, 0];
        emit_options(&self.options, &mut out)?;
        Ok(out)
    }
}

/// Router Advertisement (RFC 4861 §4.2, flags of RFC 4191 §2.2 and RFC 5175).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouterAdvertisement {
    /// Cur Hop Limit; 0 means unspecified.
    pub cur_hop_limit: u8,
    /// M: addresses via DHCPv6.
    pub managed: bool,
    /// O: other configuration via DHCPv6.
    pub other_config: bool,
    /// H: Mobile IPv6 home agent (RFC 6275 §7.1).
    pub home_agent: bool,
    pub preference: RouterPreference,
    /// P: ND proxy (RFC 4389 §4.1.3.3).
    pub proxy: bool,
    /// Seconds; 0 means "not a default router".
    pub router_lifetime: u16,
    /// Milliseconds; 0 means unspecified.
    pub reachable_time: u32,
    /// Milliseconds; 0 means unspecified.
    pub retrans_timer: u32,
    pub options: Vec<NdOption>,
}

impl Default for RouterAdvertisement {
    fn default() -> Self {
        RouterAdvertisement {
            cur_hop_limit: 0,
            managed: false,
            other_config: false,
            home_agent: false,
            preference: RouterPreference::Medium,
            proxy: false,
            router_lifetime: 0,
            reachable_time: 0,
            retrans_timer: 0,
            options: Vec::new(),
        }
    }
}

impl RouterAdvertisement {
    /// The Source Link-Layer Address option, if any.
    pub fn source_lladdr(&self) -> Option<&[u8]> {
        source_lladdr(&self.options)
    }

    pub fn mtu(&self) -> Option<u32> {
        self.options.iter().find_map(|o| match o {
            NdOption::Mtu(m) => Some(*m),
            _ => None,
        })
    }

    pub fn prefixes(&self) -> impl Iterator<Item = &PrefixInformation> {
        self.options.iter().filter_map(|o| match o {
            NdOption::PrefixInformation(p) => Some(p),
            _ => None,
        })
    }

    pub fn routes(&self) -> impl Iterator<Item = &RouteInformation> {
        self.options.iter().filter_map(|o| match o {
            NdOption::RouteInformation(r) => Some(r),
            _ => None,
        })
    }

    pub fn rdnss(&self) -> impl Iterator<Item = &Rdnss> {
        self.options.iter().filter_map(|o| match o {
            NdOption::Rdnss(r) => Some(r),
            _ => None,
        })
    }

    pub fn dnssl(&self) -> impl Iterator<Item = &Dnssl> {
        self.options.iter().filter_map(|o| match o {
            NdOption::Dnssl(r) => Some(r),
            _ => None,
        })
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, EmitError> {
        let mut flags = 0u8;
        if self.managed {
            flags |= 0x80;
        }
        if self.other_config {
            flags |= 0x40;
        }
        if self.home_agent {
            flags |= 0x20;
        }
        flags |= self.preference.bits() << 3;
        if self.proxy {
            flags |= 0x04;
        }
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(&[
            ICMPV6_ROUTER_ADVERTISEMENT,
            0,
            0,
            0,
            self.cur_hop_limit,
            flags,
        ]);
        out.extend_from_slice(&self.router_lifetime.to_be_bytes());
        out.extend_from_slice(&self.reachable_time.to_be_bytes());
        out.extend_from_slice(&self.retrans_timer.to_be_bytes());
        emit_options(&self.options, &mut out)?;
        Ok(out)
    }
}

/// A received RS or RA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouterDiscovery {
    Solicitation(RouterSolicitation),
    Advertisement(RouterAdvertisement),
}

/// Parse and validate an ICMPv6 RS or RA body (starting at the ICMPv6 type)
/// received from `source` with IP Hop Limit `hop_limit`, applying the checks of
/// RFC 4861 §6.1.1 (RS) and §6.1.2 (RA). The checksum was verified by the kernel.
pub fn parse(data: &[u8], source: Ipv6Addr, hop_limit: u8) -> Result<RouterDiscovery, ParseError> {
    validate_hop_limit(hop_limit)?;
    let Some(&kind) = data.first() else {
        return Err(ParseError::Truncated {
            need: RS_HEADER_LEN,
            got: 0,
        });
    };
    match kind {
        ICMPV6_ROUTER_SOLICITATION => parse_rs(data, source).map(RouterDiscovery::Solicitation),
        ICMPV6_ROUTER_ADVERTISEMENT => parse_ra(data, source).map(RouterDiscovery::Advertisement),
        t => Err(ParseError::NotRouterDiscovery(t)),
    }
}

/// RFC 4861 §6.1.1/§6.1.2: at least the fixed header, the expected ICMPv6
/// type, and ICMP Code 0.
fn check_header(data: &[u8], kind: u8, header_len: usize) -> Result<(), ParseError> {
    if data.len() < header_len {
        return Err(ParseError::Truncated {
            need: header_len,
            got: data.len(),
        });
    }
    if data[0] != kind {
        return Err(ParseError::NotRouterDiscovery(data[0]));
    }
    if data[1] != 0 {
        return Err(ParseError::BadCode(data[1]));
    }
    Ok(())
}

/// RFC 4861 §6.1.1 (the hop limit is checked by [`parse`] or the caller).
pub fn parse_rs(data: &[u8], source: Ipv6Addr) -> Result<RouterSolicitation, ParseError> {
    check_header(data, ICMPV6_ROUTER_SOLICITATION, RS_HEADER_LEN)?;
    let options = parse_options(&data[RS_HEADER_LEN..], RS_HEADER_LEN)?;
    let rs = RouterSolicitation { options };
    if source.is_unspecified() && rs.source_lladdr().is_some() {
        return Err(ParseError::UnspecifiedSourceWithLladdr);
    }
    Ok(rs)
}

/// RFC 4861 §6.1.2 (the hop limit is checked by [`parse`] or the caller).
pub fn parse_ra(data: &[u8], source: Ipv6Addr) -> Result<RouterAdvertisement, ParseError> {
    check_header(data, ICMPV6_ROUTER_ADVERTISEMENT, RA_HEADER_LEN)?;
    if !v6common::prefix::is_link_local(source) {
        return Err(ParseError::SourceNotLinkLocal(source));
    }
    let flags = data[5];
    let options = parse_options(&data[RA_HEADER_LEN..], RA_HEADER_LEN)?;
    Ok(RouterAdvertisement {
        cur_hop_limit: data[4],
        managed: flags & 0x80 != 0,
        other_config: flags & 0x40 != 0,
        home_agent: flags & 0x20 != 0,
        // RFC 4191 §2.2: a reserved (10) preference is treated as medium.
        preference: RouterPreference::from_bits(flags >> 3).unwrap_or(RouterPreference::Medium),
        proxy: flags & 0x04 != 0,
        router_lifetime: u16::from_be_bytes([data[6], data[7]]),
        reachable_time: be32(&data[8..12]),
        retrans_timer: be32(&data[12..16]),
        options,
    })
}

#[cfg(test)]
mod tests;
