//! DHCPv6 message format (RFC 8415 §8, §9) and options (RFC 8415 §21,
//! RFC 3646 for DNS servers and the domain search list).
//!
//! Generic over client and server: every message type and every option the
//! server or the client (the uplink's) needs has a typed representation; anything
//! else is kept as raw bytes (`DhcpOption::Unknown`) so it round-trips.
//!
//! Shape: not a smoltcp-style checked `Packet` view with a separate `Repr`
//! (crates/ripng/src/wire.rs is one). A message is decoded at once into an
//! owned tree: [`Message`] (client/server, §8, or relay, §9) holding
//! [`DhcpOption`]s, which nest (IA_NA > IAADDR > Status Code).
//! [`Message::parse`] and [`parse_options`] read bytes into that tree;
//! `emit` on a message or an option appends its wire form to a `Vec<u8>`
//! (an option's length is filled in after its body). The engine and the
//! client read and build these trees; they never touch offsets.
//!
//! Nothing here panics on input: every length is checked and a malformed
//! message yields a `WireError` naming the reason (used as a drop counter).

use std::fmt;
use std::net::Ipv6Addr;

mod auth;
mod fqdn;
mod lladdr;
pub use auth::{
    auth_error, hmac_md5, md5, sign_reconfigure, verify_reconfigure, Auth, PROTOCOL_RECONFIGURE_KEY,
};
pub use fqdn::{flag as fqdn_flag, no_update_flags, ClientFqdn};
pub use lladdr::ClientLinkLayerAddr;

/// Well-known UDP ports (RFC 8415 §7.2).
pub const CLIENT_PORT: u16 = 546;
pub const SERVER_PORT: u16 = 547;
/// All_DHCP_Relay_Agents_and_Servers (RFC 8415 §7.1).
pub const ALL_DHCP_RELAY_AGENTS_AND_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);
/// All_DHCP_Servers (site scope, RFC 8415 §7.1).
pub const ALL_DHCP_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff05, 0, 0, 0, 0, 0, 1, 3);

/// Nesting bound for encapsulated options (IA_NA > IAADDR > STATUS_CODE is 3).
const MAX_OPTION_DEPTH: u8 = 4;
/// HOP_COUNT_LIMIT (RFC 8415 §7.6).
pub const HOP_COUNT_LIMIT: u8 = 8;

/// Why a message could not be parsed. `reason()` is a stable counter name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Fewer bytes than the fixed header or an option header needs.
    Truncated,
    /// Message type 0 or one this implementation does not know.
    UnknownMessageType(u8),
    /// An option's length disagrees with its fixed format.
    BadOptionLength { code: u16, len: usize },
    /// An option's length runs past the end of its container.
    OptionOverrun { code: u16 },
    /// A DUID that is empty, too long or too short for its type (RFC 8415 §11).
    BadDuid,
    /// A DNS name that is not in RFC 1035 §3.1 wire form.
    BadDomainName,
    /// Encapsulation nested deeper than any valid message needs.
    TooDeep,
}

impl WireError {
    pub fn reason(&self) -> &'static str {
        match self {
            WireError::Truncated => "truncated",
            WireError::UnknownMessageType(_) => "unknown-message-type",
            WireError::BadOptionLength { .. } => "bad-option-length",
            WireError::OptionOverrun { .. } => "option-overrun",
            WireError::BadDuid => "bad-duid",
            WireError::BadDomainName => "bad-domain-name",
            WireError::TooDeep => "too-deep",
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated => write!(f, "message truncated"),
            WireError::UnknownMessageType(t) => write!(f, "unknown message type {t}"),
            WireError::BadOptionLength { code, len } => {
                write!(f, "option {code}: bad length {len}")
            }
            WireError::OptionOverrun { code } => {
                write!(f, "option {code}: length runs past its container")
            }
            WireError::BadDuid => write!(f, "malformed DUID"),
            WireError::BadDomainName => write!(f, "malformed domain name"),
            WireError::TooDeep => write!(f, "options nested too deep"),
        }
    }
}

impl std::error::Error for WireError {}

/// Message types (RFC 8415 §7.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum MessageType {
    Solicit = 1,
    Advertise = 2,
    Request = 3,
    Confirm = 4,
    Renew = 5,
    Rebind = 6,
    Reply = 7,
    Release = 8,
    Decline = 9,
    Reconfigure = 10,
    InformationRequest = 11,
    RelayForw = 12,
    RelayRepl = 13,
}

impl MessageType {
    pub const ALL: [MessageType; 13] = [
        MessageType::Solicit,
        MessageType::Advertise,
        MessageType::Request,
        MessageType::Confirm,
        MessageType::Renew,
        MessageType::Rebind,
        MessageType::Reply,
        MessageType::Release,
        MessageType::Decline,
        MessageType::Reconfigure,
        MessageType::InformationRequest,
        MessageType::RelayForw,
        MessageType::RelayRepl,
    ];

    pub fn from_u8(v: u8) -> Option<MessageType> {
        MessageType::ALL
            .get(usize::from(v).checked_sub(1)?)
            .copied()
    }

    /// The RFC's name, as used in counters and logs.
    pub fn name(self) -> &'static str {
        match self {
            MessageType::Solicit => "SOLICIT",
            MessageType::Advertise => "ADVERTISE",
            MessageType::Request => "REQUEST",
            MessageType::Confirm => "CONFIRM",
            MessageType::Renew => "RENEW",
            MessageType::Rebind => "REBIND",
            MessageType::Reply => "REPLY",
            MessageType::Release => "RELEASE",
            MessageType::Decline => "DECLINE",
            MessageType::Reconfigure => "RECONFIGURE",
            MessageType::InformationRequest => "INFORMATION-REQUEST",
            MessageType::RelayForw => "RELAY-FORW",
            MessageType::RelayRepl => "RELAY-REPL",
        }
    }

    pub fn is_relay(self) -> bool {
        matches!(self, MessageType::RelayForw | MessageType::RelayRepl)
    }
}

/// Option codes (RFC 8415 §21, RFC 3646).
pub mod code {
    pub const CLIENTID: u16 = 1;
    pub const SERVERID: u16 = 2;
    pub const IA_NA: u16 = 3;
    pub const IA_TA: u16 = 4;
    pub const IAADDR: u16 = 5;
    pub const ORO: u16 = 6;
    pub const PREFERENCE: u16 = 7;
    pub const ELAPSED_TIME: u16 = 8;
    pub const RELAY_MSG: u16 = 9;
    pub const AUTH: u16 = 11;
    pub const UNICAST: u16 = 12;
    pub const STATUS_CODE: u16 = 13;
    pub const RAPID_COMMIT: u16 = 14;
    pub const USER_CLASS: u16 = 15;
    pub const VENDOR_CLASS: u16 = 16;
    pub const VENDOR_OPTS: u16 = 17;
    pub const INTERFACE_ID: u16 = 18;
    pub const RECONF_MSG: u16 = 19;
    pub const RECONF_ACCEPT: u16 = 20;
    pub const DNS_SERVERS: u16 = 23;
    pub const DOMAIN_LIST: u16 = 24;
    pub const IA_PD: u16 = 25;
    pub const IAPREFIX: u16 = 26;
    pub const INFORMATION_REFRESH_TIME: u16 = 32;
    pub const SOL_MAX_RT: u16 = 82;
    pub const INF_MAX_RT: u16 = 83;
    /// RFC 4704.
    pub const CLIENT_FQDN: u16 = 39;
    /// RFC 6939.
    pub const CLIENT_LINKLAYER_ADDR: u16 = 79;
    /// NTP server option (RFC 5908 §4).
    pub const NTP_SERVER: u16 = 56;
}

/// Status codes (RFC 8415 §21.13).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusCode {
    Success,
    UnspecFail,
    NoAddrsAvail,
    NoBinding,
    NotOnLink,
    UseMulticast,
    NoPrefixAvail,
    Other(u16),
}

impl StatusCode {
    pub fn from_u16(v: u16) -> StatusCode {
        match v {
            0 => StatusCode::Success,
            1 => StatusCode::UnspecFail,
            2 => StatusCode::NoAddrsAvail,
            3 => StatusCode::NoBinding,
            4 => StatusCode::NotOnLink,
            5 => StatusCode::UseMulticast,
            6 => StatusCode::NoPrefixAvail,
            n => StatusCode::Other(n),
        }
    }
    pub fn to_u16(self) -> u16 {
        match self {
            StatusCode::Success => 0,
            StatusCode::UnspecFail => 1,
            StatusCode::NoAddrsAvail => 2,
            StatusCode::NoBinding => 3,
            StatusCode::NotOnLink => 4,
            StatusCode::UseMulticast => 5,
            StatusCode::NoPrefixAvail => 6,
            StatusCode::Other(n) => n,
        }
    }
}

/// DUID type codes (RFC 8415 §11.1).
pub mod duid_type {
    pub const LLT: u16 = 1;
    pub const EN: u16 = 2;
    pub const LL: u16 = 3;
    pub const UUID: u16 = 4;
}

/// ARP hardware type for Ethernet (RFC 826; IANA "Hardware Types").
pub const HWTYPE_ETHERNET: u16 = 1;

/// A DHCP Unique Identifier (RFC 8415 §11). Kept as its exact bytes (the
/// identity of a client is those bytes, RFC 8415 §11); typed views below.
/// DUIDs of up to 22 bytes (LL, LLT of Ethernet, UUID, most EN) are stored
/// inline: a server holds one per lease, and 100,000 small heap blocks cost
/// more than the bytes themselves.
#[derive(Clone)]
pub struct Duid(DuidBytes);

const DUID_INLINE: usize = 22;

#[derive(Clone)]
enum DuidBytes {
    Inline { len: u8, buf: [u8; DUID_INLINE] },
    Heap(std::sync::Arc<[u8]>),
}

impl From<&[u8]> for DuidBytes {
    fn from(b: &[u8]) -> DuidBytes {
        if b.len() <= DUID_INLINE {
            let mut buf = [0u8; DUID_INLINE];
            buf[..b.len()].copy_from_slice(b);
            DuidBytes::Inline {
                len: b.len() as u8,
                buf,
            }
        } else {
            DuidBytes::Heap(b.into())
        }
    }
}

impl From<Vec<u8>> for DuidBytes {
    fn from(v: Vec<u8>) -> DuidBytes {
        DuidBytes::from(v.as_slice())
    }
}

impl std::ops::Deref for DuidBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            DuidBytes::Inline { len, buf } => &buf[..usize::from(*len)],
            DuidBytes::Heap(a) => a,
        }
    }
}

impl PartialEq for Duid {
    fn eq(&self, o: &Duid) -> bool {
        self.as_bytes() == o.as_bytes()
    }
}
impl Eq for Duid {}
impl std::hash::Hash for Duid {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_bytes().hash(h)
    }
}
impl PartialOrd for Duid {
    fn partial_cmp(&self, o: &Duid) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Duid {
    fn cmp(&self, o: &Duid) -> std::cmp::Ordering {
        self.as_bytes().cmp(o.as_bytes())
    }
}

/// The typed view of a DUID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DuidKind<'a> {
    /// DUID-LLT (§11.2): hardware type, time (seconds since 2000-01-01 UTC), link-layer address.
    Llt {
        hw_type: u16,
        time: u32,
        lladdr: &'a [u8],
    },
    /// DUID-EN (§11.3): enterprise number and identifier.
    En {
        enterprise: u32,
        id: &'a [u8],
    },
    /// DUID-LL (§11.4): hardware type and link-layer address.
    Ll {
        hw_type: u16,
        lladdr: &'a [u8],
    },
    /// DUID-UUID (RFC 6355).
    Uuid([u8; 16]),
    Other {
        duid_type: u16,
        data: &'a [u8],
    },
}

impl Duid {
    /// A DUID from its bytes; 3..=130 bytes (type code plus at most 128
    /// octets, RFC 8415 §11.1), with the minimum size of its type.
    pub fn from_bytes(b: &[u8]) -> Result<Duid, WireError> {
        if b.len() < 3 || b.len() > 130 {
            return Err(WireError::BadDuid);
        }
        let t = u16::from_be_bytes([b[0], b[1]]);
        let ok = match t {
            duid_type::LLT => b.len() >= 9,
            duid_type::EN => b.len() >= 7,
            duid_type::LL => b.len() >= 5,
            duid_type::UUID => b.len() == 18,
            _ => true,
        };
        if !ok {
            return Err(WireError::BadDuid);
        }
        Ok(Duid(b.into()))
    }

    pub fn new_llt(hw_type: u16, time: u32, lladdr: &[u8]) -> Duid {
        let mut v = Vec::with_capacity(8 + lladdr.len());
        v.extend_from_slice(&duid_type::LLT.to_be_bytes());
        v.extend_from_slice(&hw_type.to_be_bytes());
        v.extend_from_slice(&time.to_be_bytes());
        v.extend_from_slice(lladdr);
        Duid(v.into())
    }

    pub fn new_ll(hw_type: u16, lladdr: &[u8]) -> Duid {
        let mut v = Vec::with_capacity(4 + lladdr.len());
        v.extend_from_slice(&duid_type::LL.to_be_bytes());
        v.extend_from_slice(&hw_type.to_be_bytes());
        v.extend_from_slice(lladdr);
        Duid(v.into())
    }

    pub fn new_en(enterprise: u32, id: &[u8]) -> Duid {
        let mut v = Vec::with_capacity(6 + id.len());
        v.extend_from_slice(&duid_type::EN.to_be_bytes());
        v.extend_from_slice(&enterprise.to_be_bytes());
        v.extend_from_slice(id);
        Duid(v.into())
    }

    pub fn new_uuid(uuid: [u8; 16]) -> Duid {
        let mut v = Vec::with_capacity(18);
        v.extend_from_slice(&duid_type::UUID.to_be_bytes());
        v.extend_from_slice(&uuid);
        Duid(v.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn duid_type(&self) -> u16 {
        u16::from_be_bytes([self.0[0], self.0[1]])
    }

    pub fn kind(&self) -> DuidKind<'_> {
        let b = &self.0;
        let be16 = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        match self.duid_type() {
            duid_type::LLT => DuidKind::Llt {
                hw_type: be16(2),
                time: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                lladdr: &b[8..],
            },
            duid_type::EN => DuidKind::En {
                enterprise: u32::from_be_bytes([b[2], b[3], b[4], b[5]]),
                id: &b[6..],
            },
            duid_type::LL => DuidKind::Ll {
                hw_type: be16(2),
                lladdr: &b[4..],
            },
            duid_type::UUID => {
                let mut u = [0u8; 16];
                u.copy_from_slice(&b[2..18]);
                DuidKind::Uuid(u)
            }
            t => DuidKind::Other {
                duid_type: t,
                data: &b[2..],
            },
        }
    }

    /// The Ethernet MAC address in a DUID-LL or DUID-LLT of hardware type 1
    /// (what ISC's `hardware ethernet` and Kea's `hw-address` match on).
    pub fn mac(&self) -> Option<[u8; 6]> {
        let (hw, ll) = match self.kind() {
            DuidKind::Llt {
                hw_type, lladdr, ..
            } => (hw_type, lladdr),
            DuidKind::Ll { hw_type, lladdr } => (hw_type, lladdr),
            _ => return None,
        };
        if hw != HWTYPE_ETHERNET {
            return None;
        }
        <[u8; 6]>::try_from(ll).ok()
    }

    /// Colon-separated hex, the notation of ISC dhcpd and WIDE dhcp6s.
    pub fn to_hex(&self) -> String {
        hex_colon(&self.0)
    }

    /// Parse `00:01:00:01:...` (also accepts no separators or `-`).
    pub fn from_hex(s: &str) -> Option<Duid> {
        parse_hex(s).and_then(|b| Duid::from_bytes(&b).ok())
    }
}

impl fmt::Debug for Duid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Duid({})", self.to_hex())
    }
}

impl fmt::Display for Duid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

pub use v6common::hex::{hex_colon, parse_hex};

/// IA_NA (RFC 8415 §21.4) and, with `t1 = t2 = 0` and no times on the wire,
/// the body of IA_TA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IaNa {
    pub iaid: u32,
    pub t1: u32,
    pub t2: u32,
    pub options: Vec<DhcpOption>,
}

/// IA_TA (RFC 8415 §21.5): parsed so a client asking for one is answered
/// correctly (the server does not hand out temporary addresses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IaTa {
    pub iaid: u32,
    pub options: Vec<DhcpOption>,
}

/// IA_PD (RFC 8415 §21.21).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IaPd {
    pub iaid: u32,
    pub t1: u32,
    pub t2: u32,
    pub options: Vec<DhcpOption>,
}

/// IA Address option (RFC 8415 §21.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IaAddr {
    pub addr: Ipv6Addr,
    pub preferred: u32,
    pub valid: u32,
    pub options: Vec<DhcpOption>,
}

/// IA Prefix option (RFC 8415 §21.22).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IaPrefix {
    pub preferred: u32,
    pub valid: u32,
    pub prefix_len: u8,
    pub prefix: Ipv6Addr,
    pub options: Vec<DhcpOption>,
}

/// One option. Encapsulated options (inside IAs, addresses, prefixes) are
/// the same type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DhcpOption {
    ClientId(Duid),
    ServerId(Duid),
    IaNa(IaNa),
    IaTa(IaTa),
    IaAddr(IaAddr),
    /// Option Request Option (§21.7): requested option codes.
    Oro(Vec<u16>),
    Preference(u8),
    /// Hundredths of a second (§21.9).
    ElapsedTime(u16),
    /// Relay Message option (§21.10): the relayed message, kept as bytes.
    RelayMsg(Vec<u8>),
    Unicast(Ipv6Addr),
    StatusCode(StatusCode, String),
    RapidCommit,
    InterfaceId(Vec<u8>),
    /// Authentication option (§21.11); Reconfigure Key (§20.4) is the
    /// protocol this code signs and checks.
    Auth(Auth),
    /// Reconfigure Message option (§21.19): which message the client is to
    /// send (Renew, Rebind or Information-request).
    ReconfMsg(MessageType),
    ReconfAccept,
    IaPd(IaPd),
    IaPrefix(IaPrefix),
    /// RFC 3646 §3.
    DnsServers(Vec<Ipv6Addr>),
    /// RFC 3646 §4: search domains, without the trailing dot.
    DomainList(Vec<String>),
    InformationRefreshTime(u32),
    SolMaxRt(u32),
    InfMaxRt(u32),
    /// RFC 4704. A malformed one is kept as `Unknown` (code 39), so that
    /// the message is still answered and the name ignored.
    ClientFqdn(ClientFqdn),
    /// RFC 6939, in a Relay-forward.
    ClientLinkLayerAddr(ClientLinkLayerAddr),
    /// RFC 5908 §4: NTP servers, one suboption each.
    NtpServer(Vec<NtpSuboption>),
    Unknown {
        code: u16,
        data: Vec<u8>,
    },
}

/// The big-endian u32 at `i` (the caller checked the length).
fn be32(data: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]])
}

/// The IPv6 address at `i` (the caller checked the length).
fn addr_at(data: &[u8], i: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&data[i..i + 16]);
    Ipv6Addr::from(a)
}

impl DhcpOption {
    pub fn code(&self) -> u16 {
        match self {
            DhcpOption::ClientId(_) => code::CLIENTID,
            DhcpOption::ServerId(_) => code::SERVERID,
            DhcpOption::IaNa(_) => code::IA_NA,
            DhcpOption::IaTa(_) => code::IA_TA,
            DhcpOption::IaAddr(_) => code::IAADDR,
            DhcpOption::Oro(_) => code::ORO,
            DhcpOption::Preference(_) => code::PREFERENCE,
            DhcpOption::ElapsedTime(_) => code::ELAPSED_TIME,
            DhcpOption::RelayMsg(_) => code::RELAY_MSG,
            DhcpOption::Unicast(_) => code::UNICAST,
            DhcpOption::StatusCode(..) => code::STATUS_CODE,
            DhcpOption::RapidCommit => code::RAPID_COMMIT,
            DhcpOption::InterfaceId(_) => code::INTERFACE_ID,
            DhcpOption::ReconfAccept => code::RECONF_ACCEPT,
            DhcpOption::Auth(_) => code::AUTH,
            DhcpOption::ReconfMsg(_) => code::RECONF_MSG,
            DhcpOption::IaPd(_) => code::IA_PD,
            DhcpOption::IaPrefix(_) => code::IAPREFIX,
            DhcpOption::DnsServers(_) => code::DNS_SERVERS,
            DhcpOption::DomainList(_) => code::DOMAIN_LIST,
            DhcpOption::InformationRefreshTime(_) => code::INFORMATION_REFRESH_TIME,
            DhcpOption::SolMaxRt(_) => code::SOL_MAX_RT,
            DhcpOption::InfMaxRt(_) => code::INF_MAX_RT,
            DhcpOption::ClientFqdn(_) => code::CLIENT_FQDN,
            DhcpOption::ClientLinkLayerAddr(_) => code::CLIENT_LINKLAYER_ADDR,
            DhcpOption::NtpServer(_) => code::NTP_SERVER,
            DhcpOption::Unknown { code, .. } => *code,
        }
    }

    /// The bodies of IA_NA, IA_PD, IA_TA (§21.4, §21.21, §21.5) and of
    /// the addresses and prefixes inside them (§21.6, §21.22): fixed fields,
    /// then options one level deeper.
    fn parse_ia_body(code: u16, data: &[u8], depth: u8) -> Result<DhcpOption, WireError> {
        let bad = || WireError::BadOptionLength {
            code,
            len: data.len(),
        };
        Ok(match code {
            code::IA_NA | code::IA_PD => {
                if data.len() < 12 {
                    return Err(bad());
                }
                let (iaid, t1, t2) = (be32(data, 0), be32(data, 4), be32(data, 8));
                let options = parse_options_depth(&data[12..], depth + 1)?;
                if code == code::IA_NA {
                    DhcpOption::IaNa(IaNa {
                        iaid,
                        t1,
                        t2,
                        options,
                    })
                } else {
                    DhcpOption::IaPd(IaPd {
                        iaid,
                        t1,
                        t2,
                        options,
                    })
                }
            }
            code::IA_TA => {
                if data.len() < 4 {
                    return Err(bad());
                }
                DhcpOption::IaTa(IaTa {
                    iaid: be32(data, 0),
                    options: parse_options_depth(&data[4..], depth + 1)?,
                })
            }
            code::IAADDR => {
                if data.len() < 24 {
                    return Err(bad());
                }
                DhcpOption::IaAddr(IaAddr {
                    addr: addr_at(data, 0),
                    preferred: be32(data, 16),
                    valid: be32(data, 20),
                    options: parse_options_depth(&data[24..], depth + 1)?,
                })
            }
            code::IAPREFIX => {
                if data.len() < 25 || data[8] > 128 {
                    return Err(bad());
                }
                DhcpOption::IaPrefix(IaPrefix {
                    preferred: be32(data, 0),
                    valid: be32(data, 4),
                    prefix_len: data[8],
                    prefix: addr_at(data, 9),
                    options: parse_options_depth(&data[25..], depth + 1)?,
                })
            }
            // Not an IA option: kept as parse_body keeps unknown codes.
            _ => DhcpOption::Unknown {
                code,
                data: data.to_vec(),
            },
        })
    }

    /// Parse one option body (`data` is exactly `option-len` bytes).
    fn parse_body(code: u16, data: &[u8], depth: u8) -> Result<DhcpOption, WireError> {
        let bad = || WireError::BadOptionLength {
            code,
            len: data.len(),
        };
        Ok(match code {
            code::CLIENTID => DhcpOption::ClientId(Duid::from_bytes(data)?),
            code::SERVERID => DhcpOption::ServerId(Duid::from_bytes(data)?),
            code::IA_NA | code::IA_PD | code::IA_TA | code::IAADDR | code::IAPREFIX => {
                Self::parse_ia_body(code, data, depth)?
            }
            code::ORO => {
                if data.len() & 1 != 0 {
                    return Err(bad());
                }
                DhcpOption::Oro(
                    data.chunks_exact(2)
                        .map(|c| u16::from_be_bytes([c[0], c[1]]))
                        .collect(),
                )
            }
            code::PREFERENCE => match data {
                [p] => DhcpOption::Preference(*p),
                _ => return Err(bad()),
            },
            code::ELAPSED_TIME => match data {
                [a, b] => DhcpOption::ElapsedTime(u16::from_be_bytes([*a, *b])),
                _ => return Err(bad()),
            },
            code::RELAY_MSG => DhcpOption::RelayMsg(data.to_vec()),
            code::UNICAST => {
                if data.len() != 16 {
                    return Err(bad());
                }
                DhcpOption::Unicast(addr_at(data, 0))
            }
            code::STATUS_CODE => {
                if data.len() < 2 {
                    return Err(bad());
                }
                // The message is UTF-8 (§21.13); keep what can be read.
                DhcpOption::StatusCode(
                    StatusCode::from_u16(u16::from_be_bytes([data[0], data[1]])),
                    String::from_utf8_lossy(&data[2..]).into_owned(),
                )
            }
            code::RAPID_COMMIT => {
                if !data.is_empty() {
                    return Err(bad());
                }
                DhcpOption::RapidCommit
            }
            code::INTERFACE_ID => DhcpOption::InterfaceId(data.to_vec()),
            code::AUTH => DhcpOption::Auth(Auth::parse(data)?),
            code::RECONF_MSG => match data {
                [t] => match MessageType::from_u8(*t) {
                    Some(m) => DhcpOption::ReconfMsg(m),
                    None => return Err(bad()),
                },
                _ => return Err(bad()),
            },
            code::RECONF_ACCEPT => {
                if !data.is_empty() {
                    return Err(bad());
                }
                DhcpOption::ReconfAccept
            }
            code::DNS_SERVERS => {
                if data.len() & 15 != 0 {
                    return Err(bad());
                }
                DhcpOption::DnsServers(
                    (0..data.len() / 16)
                        .map(|i| addr_at(data, 16 * i))
                        .collect(),
                )
            }
            code::DOMAIN_LIST => DhcpOption::DomainList(parse_domain_list(data)?),
            code::INFORMATION_REFRESH_TIME | code::SOL_MAX_RT | code::INF_MAX_RT => {
                if data.len() != 4 {
                    return Err(bad());
                }
                let v = be32(data, 0);
                match code {
                    code::INFORMATION_REFRESH_TIME => DhcpOption::InformationRefreshTime(v),
                    code::SOL_MAX_RT => DhcpOption::SolMaxRt(v),
                    _ => DhcpOption::InfMaxRt(v),
                }
            }
            code::CLIENT_FQDN => match ClientFqdn::parse(data) {
                Ok(f) => DhcpOption::ClientFqdn(f),
                Err(_) => DhcpOption::Unknown {
                    code,
                    data: data.to_vec(),
                },
            },
            code::CLIENT_LINKLAYER_ADDR => {
                DhcpOption::ClientLinkLayerAddr(ClientLinkLayerAddr::parse(data)?)
            }
            code::NTP_SERVER => DhcpOption::NtpServer(parse_ntp_suboptions(data)?),
            _ => DhcpOption::Unknown {
                code,
                data: data.to_vec(),
            },
        })
    }

    /// Append this option (header and body) to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.code().to_be_bytes());
        let len_at = out.len();
        out.extend_from_slice(&[0, 0]);
        match self {
            DhcpOption::ClientId(d) | DhcpOption::ServerId(d) => {
                out.extend_from_slice(d.as_bytes())
            }
            DhcpOption::IaNa(IaNa {
                iaid,
                t1,
                t2,
                options,
            })
            | DhcpOption::IaPd(IaPd {
                iaid,
                t1,
                t2,
                options,
            }) => {
                out.extend_from_slice(&iaid.to_be_bytes());
                out.extend_from_slice(&t1.to_be_bytes());
                out.extend_from_slice(&t2.to_be_bytes());
                emit_options(options, out);
            }
            DhcpOption::IaTa(IaTa { iaid, options }) => {
                out.extend_from_slice(&iaid.to_be_bytes());
                emit_options(options, out);
            }
            DhcpOption::IaAddr(a) => {
                out.extend_from_slice(&a.addr.octets());
                out.extend_from_slice(&a.preferred.to_be_bytes());
                out.extend_from_slice(&a.valid.to_be_bytes());
                emit_options(&a.options, out);
            }
            DhcpOption::IaPrefix(p) => {
                out.extend_from_slice(&p.preferred.to_be_bytes());
                out.extend_from_slice(&p.valid.to_be_bytes());
                out.push(p.prefix_len);
                out.extend_from_slice(&p.prefix.octets());
                emit_options(&p.options, out);
            }
            DhcpOption::Oro(codes) => {
                for c in codes {
                    out.extend_from_slice(&c.to_be_bytes());
                }
            }
            DhcpOption::Preference(p) => out.push(*p),
            DhcpOption::ElapsedTime(t) => out.extend_from_slice(&t.to_be_bytes()),
            DhcpOption::RelayMsg(m) | DhcpOption::InterfaceId(m) => out.extend_from_slice(m),
            DhcpOption::Unicast(a) => out.extend_from_slice(&a.octets()),
            DhcpOption::StatusCode(c, msg) => {
                out.extend_from_slice(&c.to_u16().to_be_bytes());
                out.extend_from_slice(msg.as_bytes());
            }
            DhcpOption::RapidCommit | DhcpOption::ReconfAccept => {}
            DhcpOption::Auth(a) => a.emit(out),
            DhcpOption::ReconfMsg(t) => out.push(*t as u8),
            DhcpOption::DnsServers(v) => {
                for a in v {
                    out.extend_from_slice(&a.octets());
                }
            }
            DhcpOption::DomainList(names) => {
                for n in names {
                    emit_domain_name(n, out);
                }
            }
            DhcpOption::InformationRefreshTime(v)
            | DhcpOption::SolMaxRt(v)
            | DhcpOption::InfMaxRt(v) => out.extend_from_slice(&v.to_be_bytes()),
            DhcpOption::ClientFqdn(f) => f.emit(out),
            DhcpOption::ClientLinkLayerAddr(l) => l.emit(out),
            DhcpOption::NtpServer(subs) => emit_ntp_suboptions(subs, out),
            DhcpOption::Unknown { data, .. } => out.extend_from_slice(data),
        }
        set_len_since(out, len_at);
    }
}

/// Write the length of what follows the 2-byte length field at `len_at`.
/// Bodies are bounded by the message size the caller builds; an oversized
/// body is clamped rather than wrapped (never reached by what the server
/// emits: a UDP payload is < 64 KiB).
fn set_len_since(out: &mut [u8], len_at: usize) {
    let len = u16::try_from(out.len() - len_at - 2).unwrap_or(u16::MAX);
    out[len_at..len_at + 2].copy_from_slice(&len.to_be_bytes());
}

/// Parse a sequence of options filling `data` exactly.
pub fn parse_options(data: &[u8]) -> Result<Vec<DhcpOption>, WireError> {
    parse_options_depth(data, 0)
}

fn parse_options_depth(mut data: &[u8], depth: u8) -> Result<Vec<DhcpOption>, WireError> {
    if depth > MAX_OPTION_DEPTH {
        return Err(WireError::TooDeep);
    }
    let mut out = Vec::new();
    while !data.is_empty() {
        if data.len() < 4 {
            return Err(WireError::Truncated);
        }
        let code = u16::from_be_bytes([data[0], data[1]]);
        let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
        let body = data
            .get(4..4 + len)
            .ok_or(WireError::OptionOverrun { code })?;
        out.push(DhcpOption::parse_body(code, body, depth)?);
        data = &data[4 + len..];
    }
    Ok(out)
}

pub fn emit_options(opts: &[DhcpOption], out: &mut Vec<u8>) {
    for o in opts {
        o.emit(out);
    }
}

/// One suboption of the NTP server option (RFC 5908 §4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NtpSuboption {
    /// NTP_SUBOPTION_SRV_ADDR (1, §4.1): a unicast server address.
    ServerAddr(Ipv6Addr),
    /// NTP_SUBOPTION_MC_ADDR (2, §4.2): a multicast group to listen on.
    MulticastAddr(Ipv6Addr),
    /// NTP_SUBOPTION_SRV_FQDN (3, §4.3): a server name, without the trailing dot.
    ServerFqdn(String),
    /// A suboption this codec does not know, kept as it came.
    Unknown { code: u16, data: Vec<u8> },
}

impl NtpSuboption {
    pub const SRV_ADDR: u16 = 1;
    pub const MC_ADDR: u16 = 2;
    pub const SRV_FQDN: u16 = 3;

    /// A configured server: an address (multicast or not, §4.1/§4.2) or a
    /// name (§4.3).
    pub fn from_server(s: &str) -> NtpSuboption {
        match s.parse::<Ipv6Addr>() {
            Ok(a) if a.is_multicast() => NtpSuboption::MulticastAddr(a),
            Ok(a) => NtpSuboption::ServerAddr(a),
            Err(_) => NtpSuboption::ServerFqdn(s.trim_end_matches('.').to_string()),
        }
    }

    fn code(&self) -> u16 {
        match self {
            NtpSuboption::ServerAddr(_) => Self::SRV_ADDR,
            NtpSuboption::MulticastAddr(_) => Self::MC_ADDR,
            NtpSuboption::ServerFqdn(_) => Self::SRV_FQDN,
            NtpSuboption::Unknown { code, .. } => *code,
        }
    }
}

/// RFC 5908 §4: suboptions as options are (type, length, data); an
/// address suboption is exactly 16 bytes, a name one RFC 1035 wire format
/// without compression (§4.3), exactly one name.
fn parse_ntp_suboptions(mut data: &[u8]) -> Result<Vec<NtpSuboption>, WireError> {
    let bad = |len: usize| WireError::BadOptionLength {
        code: code::NTP_SERVER,
        len,
    };
    let mut out = Vec::new();
    while !data.is_empty() {
        let [t0, t1, l0, l1, rest @ ..] = data else {
            return Err(WireError::Truncated);
        };
        let sub = u16::from_be_bytes([*t0, *t1]);
        let len = usize::from(u16::from_be_bytes([*l0, *l1]));
        let body = rest.get(..len).ok_or(WireError::OptionOverrun {
            code: code::NTP_SERVER,
        })?;
        out.push(match sub {
            NtpSuboption::SRV_ADDR | NtpSuboption::MC_ADDR => {
                let a: [u8; 16] = body.try_into().map_err(|_| bad(len))?;
                if sub == NtpSuboption::SRV_ADDR {
                    NtpSuboption::ServerAddr(Ipv6Addr::from(a))
                } else {
                    NtpSuboption::MulticastAddr(Ipv6Addr::from(a))
                }
            }
            NtpSuboption::SRV_FQDN => match parse_domain_list(body)?.as_slice() {
                [name] => NtpSuboption::ServerFqdn(name.clone()),
                _ => return Err(WireError::BadDomainName),
            },
            _ => NtpSuboption::Unknown {
                code: sub,
                data: body.to_vec(),
            },
        });
        data = &rest[len..];
    }
    Ok(out)
}

fn emit_ntp_suboptions(subs: &[NtpSuboption], out: &mut Vec<u8>) {
    for sub in subs {
        out.extend_from_slice(&sub.code().to_be_bytes());
        let len_at = out.len();
        out.extend_from_slice(&[0, 0]);
        match sub {
            NtpSuboption::ServerAddr(a) | NtpSuboption::MulticastAddr(a) => {
                out.extend_from_slice(&a.octets())
            }
            NtpSuboption::ServerFqdn(name) => emit_domain_name(name, out),
            NtpSuboption::Unknown { data, .. } => out.extend_from_slice(data),
        }
        set_len_since(out, len_at);
    }
}

/// RFC 1035 §3.1 names, uncompressed (RFC 8415 §10), back to back.
fn parse_domain_list(mut data: &[u8]) -> Result<Vec<String>, WireError> {
    let mut names = Vec::new();
    while !data.is_empty() {
        let (name, rest, terminated) = read_name(data)?;
        if !terminated {
            return Err(WireError::BadDomainName);
        }
        names.push(name);
        data = rest;
    }
    Ok(names)
}

/// One RFC 1035 §3.1 name from the front of `data`: the name (labels
/// joined by dots), what follows it, and whether it ended with the
/// zero-length root label (a name that runs to the end of `data` without
/// one is a partial name, RFC 4704 §4.2).
fn read_name(mut data: &[u8]) -> Result<(String, &[u8], bool), WireError> {
    let mut name = String::new();
    let mut wire_len = 0usize;
    while let Some((&l, rest)) = data.split_first() {
        let l = usize::from(l);
        wire_len += 1 + l;
        // Labels of at most 63 octets, names of at most 255 (RFC 1035 §2.3.4);
        // 0xC0 compression pointers are not allowed here (RFC 8415 §10).
        if l > 63 || wire_len > 255 {
            return Err(WireError::BadDomainName);
        }
        if l == 0 {
            return Ok((name, rest, true));
        }
        let label = rest.get(..l).ok_or(WireError::BadDomainName)?;
        if label.iter().any(|&c| c == b'.' || !c.is_ascii_graphic()) {
            return Err(WireError::BadDomainName);
        }
        if !name.is_empty() {
            name.push('.');
        }
        // ASCII checked above.
        name.extend(label.iter().map(|&c| char::from(c)));
        data = &rest[l..];
    }
    Ok((name, data, false))
}

fn emit_domain_name(name: &str, out: &mut Vec<u8>) {
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        let l = &label.as_bytes()[..label.len().min(63)];
        out.push(l.len() as u8);
        out.extend_from_slice(l);
    }
    out.push(0);
}

/// Whether a domain name can be encoded (used by config validation).
pub fn valid_domain_name(name: &str) -> bool {
    let n = name.trim_end_matches('.');
    !n.is_empty()
        && n.len() <= 253
        && n.split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|c| c.is_ascii_graphic()))
}

/// A client/server message (RFC 8415 §8) or a relay message (§9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    ClientServer(ClientServerMessage),
    Relay(RelayMessage),
}

/// RFC 8415 §8: msg-type, 24-bit transaction-id, options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientServerMessage {
    pub msg_type: MessageType,
    /// Only the low 24 bits are on the wire.
    pub transaction_id: u32,
    pub options: Vec<DhcpOption>,
}

/// RFC 8415 §9: Relay-forward and Relay-reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayMessage {
    pub msg_type: MessageType,
    pub hop_count: u8,
    pub link_address: Ipv6Addr,
    pub peer_address: Ipv6Addr,
    pub options: Vec<DhcpOption>,
}

impl Message {
    pub fn parse(data: &[u8]) -> Result<Message, WireError> {
        let (&t, _) = data.split_first().ok_or(WireError::Truncated)?;
        let msg_type = MessageType::from_u8(t).ok_or(WireError::UnknownMessageType(t))?;
        if msg_type.is_relay() {
            if data.len() < 34 {
                return Err(WireError::Truncated);
            }
            let mut la = [0u8; 16];
            let mut pa = [0u8; 16];
            la.copy_from_slice(&data[2..18]);
            pa.copy_from_slice(&data[18..34]);
            Ok(Message::Relay(RelayMessage {
                msg_type,
                hop_count: data[1],
                link_address: Ipv6Addr::from(la),
                peer_address: Ipv6Addr::from(pa),
                options: parse_options(&data[34..])?,
            }))
        } else {
            if data.len() < 4 {
                return Err(WireError::Truncated);
            }
            Ok(Message::ClientServer(ClientServerMessage {
                msg_type,
                transaction_id: u32::from_be_bytes([0, data[1], data[2], data[3]]),
                options: parse_options(&data[4..])?,
            }))
        }
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        match self {
            Message::ClientServer(m) => m.emit(out),
            Message::Relay(r) => r.emit(out),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(256);
        self.emit(&mut v);
        v
    }
}

impl ClientServerMessage {
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.msg_type as u8);
        out.extend_from_slice(&self.transaction_id.to_be_bytes()[1..]);
        emit_options(&self.options, out);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(256);
        self.emit(&mut v);
        v
    }

    /// The first option with this code.
    pub fn option(&self, code: u16) -> Option<&DhcpOption> {
        self.options.iter().find(|o| o.code() == code)
    }

    pub fn client_id(&self) -> Option<&Duid> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::ClientId(d) => Some(d),
            _ => None,
        })
    }

    pub fn server_id(&self) -> Option<&Duid> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::ServerId(d) => Some(d),
            _ => None,
        })
    }

    pub fn has(&self, code: u16) -> bool {
        self.option(code).is_some()
    }

    /// How many times an option appears (some may appear only once, §21).
    pub fn count(&self, code: u16) -> usize {
        self.options.iter().filter(|o| o.code() == code).count()
    }

    /// Option codes listed in the ORO (empty when there is none).
    pub fn oro(&self) -> &[u16] {
        self.options
            .iter()
            .find_map(|o| match o {
                DhcpOption::Oro(v) => Some(v.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }
}

impl RelayMessage {
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.msg_type as u8);
        out.push(self.hop_count);
        out.extend_from_slice(&self.link_address.octets());
        out.extend_from_slice(&self.peer_address.octets());
        emit_options(&self.options, out);
    }

    /// The relayed message (Relay Message option).
    pub fn relay_msg(&self) -> Option<&[u8]> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::RelayMsg(m) => Some(m.as_slice()),
            _ => None,
        })
    }

    pub fn interface_id(&self) -> Option<&[u8]> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::InterfaceId(m) => Some(m.as_slice()),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests;
