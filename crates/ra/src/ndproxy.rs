//! ND proxy for relay mode (RFC 4389; odhcpd's `ndp relay`): pure core.
//! The RA service's glue (v6routerd/src/ra.rs) feeds it what two
//! BPF-filtered packet sockets hear (`io::NdSocket`: hosts' DAD and the
//! ISP's NS go to solicited-node groups the router never joins), sends its
//! answers and probes through the raw ICMPv6 socket and installs its /128
//! routes (protocol v6router) through the kernel side.
//!
//! - [`Ndp`]: NS/NA (RFC 4861 §4.3, §4.4) parsed from a whole IPv6 packet
//!   with the receive checks of §7.1.1/§7.1.2 (hop limit 255, code 0,
//!   checksum, no multicast target), and emitted as ICMPv6 bodies.
//! - [`Proxy`]: which LAN hosts exist (learned from DAD and from NS/NA on
//!   the LAN, RFC 4389 §4.1), what to answer the ISP, when to probe and when
//!   a host is gone.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use v6common::Ipv6Prefix;

pub const NS: u8 = 135;
pub const NA: u8 = 136;
const OPT_SLLA: u8 = 1;
const OPT_TLLA: u8 = 2;
const NEXT_ICMPV6: u8 = 58;

/// Why a packet was dropped; each names its rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drop {
    /// Shorter than an IPv6 header plus 24 bytes of NS/NA.
    Truncated,
    /// Not IPv6, or an extension header before ICMPv6 (not expected for ND).
    NotIcmpv6,
    /// Not type 135/136.
    NotNd,
    /// RFC 4861 §7.1.1/§7.1.2: hop limit must be 255.
    HopLimit,
    /// RFC 4861 §7.1: code must be 0.
    Code,
    /// RFC 4861 §7.1: valid ICMP checksum.
    Checksum,
    /// RFC 4861 §7.1: the target is not a multicast address.
    MulticastTarget,
    /// RFC 4861 §7.1: an option of length 0, or one running past the end.
    BadOption,
}

impl Drop {
    pub fn reason(self) -> &'static str {
        match self {
            Drop::Truncated => "truncated",
            Drop::NotIcmpv6 => "not_icmpv6",
            Drop::NotNd => "not_nd",
            Drop::HopLimit => "hop_limit",
            Drop::Code => "code",
            Drop::Checksum => "checksum",
            Drop::MulticastTarget => "multicast_target",
            Drop::BadOption => "bad_option",
        }
    }
}

/// A Neighbor Solicitation or Advertisement with its IP addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ndp {
    pub kind: u8,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub target: Ipv6Addr,
    /// NA flags R, S, O (RFC 4861 §4.4); all false for an NS.
    pub router: bool,
    pub solicited: bool,
    pub override_: bool,
    /// Source (NS) or Target (NA) link-layer address option.
    pub lladdr: Option<Vec<u8>>,
}

fn addr(b: &[u8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[..16]);
    Ipv6Addr::from(a)
}

/// ICMPv6 checksum (RFC 4443 §2.3) over the pseudo-header (RFC 8200 §8.1).
pub fn checksum(src: Ipv6Addr, dst: Ipv6Addr, icmp: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    let mut add = |b: &[u8]| {
        for c in b.chunks(2) {
            let w = if c.len() == 2 {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], 0])
            };
            sum += u64::from(w);
        }
    };
    add(&src.octets());
    add(&dst.octets());
    let len = u32::try_from(icmp.len()).unwrap_or(u32::MAX);
    add(&len.to_be_bytes());
    add(&[0, 0, 0, NEXT_ICMPV6]);
    add(icmp);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

impl Ndp {
    /// A whole IPv6 packet (as an AF_PACKET SOCK_DGRAM socket gives it).
    pub fn parse(pkt: &[u8]) -> Result<Ndp, Drop> {
        if pkt.len() < 40 + 24 {
            return Err(Drop::Truncated);
        }
        if pkt[0] >> 4 != 6 || pkt[6] != NEXT_ICMPV6 {
            return Err(Drop::NotIcmpv6);
        }
        let plen = usize::from(u16::from_be_bytes([pkt[4], pkt[5]]));
        let icmp = pkt.get(40..40 + plen).ok_or(Drop::Truncated)?;
        if icmp.len() < 24 {
            return Err(Drop::Truncated);
        }
        let kind = icmp[0];
        if kind != NS && kind != NA {
            return Err(Drop::NotNd);
        }
        if pkt[7] != 255 {
            return Err(Drop::HopLimit);
        }
        if icmp[1] != 0 {
            return Err(Drop::Code);
        }
        let (src, dst) = (addr(&pkt[8..]), addr(&pkt[24..]));
        if checksum(src, dst, icmp) != 0 {
            return Err(Drop::Checksum);
        }
        let target = addr(&icmp[8..]);
        if target.is_multicast() {
            return Err(Drop::MulticastTarget);
        }
        let want = if kind == NS { OPT_SLLA } else { OPT_TLLA };
        let mut lladdr = None;
        let mut opts = &icmp[24..];
        while !opts.is_empty() {
            let len = usize::from(*opts.get(1).ok_or(Drop::BadOption)?) * 8;
            if len == 0 || len > opts.len() {
                return Err(Drop::BadOption);
            }
            if opts[0] == want {
                lladdr = Some(opts[2..len].to_vec());
            }
            opts = &opts[len..];
        }
        Ok(Ndp {
            kind,
            src,
            dst,
            target,
            router: kind == NA && icmp[4] & 0x80 != 0,
            solicited: kind == NA && icmp[4] & 0x40 != 0,
            override_: kind == NA && icmp[4] & 0x20 != 0,
            lladdr,
        })
    }

    /// The ICMPv6 body (type through options; the raw socket fills in the
    /// checksum, RFC 3542 §3.1).
    pub fn emit(&self) -> Vec<u8> {
        let mut out = vec![self.kind, 0, 0, 0, 0, 0, 0, 0];
        if self.kind == NA {
            out[4] = u8::from(self.router) << 7
                | u8::from(self.solicited) << 6
                | u8::from(self.override_) << 5;
        }
        out.extend_from_slice(&self.target.octets());
        if let Some(ll) = &self.lladdr {
            let opt = if self.kind == NS { OPT_SLLA } else { OPT_TLLA };
            let units = (2 + ll.len()).div_ceil(8);
            out.push(opt);
            out.push(u8::try_from(units).unwrap_or(0));
            out.extend_from_slice(ll);
            out.resize(out.len() + units * 8 - 2 - ll.len(), 0);
        }
        out
    }
}

/// The solicited-node multicast address of `a` (RFC 4291 §2.7.1).
pub fn solicited_node(a: Ipv6Addr) -> Ipv6Addr {
    let o = a.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

/// RFC 4861 §10 REACHABLE_TIME: a host not heard of this long is probed.
pub const REACHABLE: Duration = Duration::from_secs(30);
/// RFC 4861 §10 MAX_UNICAST_SOLICIT: unanswered probes before it is gone.
pub const MAX_PROBES: u8 = 3;
/// RFC 4861 §10 RETRANS_TIMER.
pub const RETRANS: Duration = Duration::from_secs(1);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Answer the ISP on the WAN: NA for `target` with our WAN MAC, to `dst`.
    AnswerWan {
        dst: Ipv6Addr,
        target: Ipv6Addr,
        solicited: bool,
    },
    /// Answer a LAN host that asks for an address of the /64 not on the LAN
    /// (the ISP's router, another customer): NA with our LAN MAC to `dst`.
    AnswerLan { dst: Ipv6Addr, target: Ipv6Addr },
    /// Probe the LAN: NS for `target` to its solicited-node group.
    ProbeLan { target: Ipv6Addr },
    /// A LAN host appeared: /128 route towards the LAN.
    AddRoute(Ipv6Addr),
    /// A LAN host is gone.
    DelRoute(Ipv6Addr),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Host {
    heard: Instant,
    probes: u8,
    next_probe: Option<Instant>,
}

/// Which LAN hosts exist in the relayed prefixes and what to do about it.
#[derive(Clone, Debug, Default)]
pub struct Proxy {
    /// The relayed prefixes (only targets in them are proxied).
    pub prefixes: Vec<Ipv6Prefix>,
    /// The router's own addresses on the WAN: never answered for.
    pub own: Vec<Ipv6Addr>,
    hosts: BTreeMap<Ipv6Addr, Host>,
    /// Targets the ISP asked about that the LAN was probed for.
    asked: BTreeMap<Ipv6Addr, Instant>,
}

impl Proxy {
    fn ours(&self, a: Ipv6Addr) -> bool {
        self.prefixes.iter().any(|p| p.contains(a)) && !self.own.contains(&a)
    }

    pub fn hosts(&self) -> impl Iterator<Item = &Ipv6Addr> {
        self.hosts.keys()
    }

    fn learn(&mut self, now: Instant, a: Ipv6Addr, out: &mut Vec<Action>) {
        if !self.ours(a) {
            return;
        }
        let fresh = Host {
            heard: now,
            probes: 0,
            next_probe: None,
        };
        if self.hosts.insert(a, fresh).is_none() {
            out.push(Action::AddRoute(a));
        }
        self.asked.remove(&a);
    }

    /// An NS or NA heard on the WAN (RFC 4389 §4.1.2): an NS for a LAN host
    /// is answered with our link-layer address; one for an unknown target in
    /// the prefix makes us probe the LAN (the host may use an address it
    /// never announced); anything else is not ours (never answered).
    pub fn on_wan(&mut self, now: Instant, m: &Ndp) -> Vec<Action> {
        let mut out = Vec::new();
        if m.kind != NS || !self.ours(m.target) {
            return out;
        }
        if self.hosts.contains_key(&m.target) {
            // RFC 4861 §7.2.4: to the all-nodes group for a DAD NS.
            let unspecified = m.src.is_unspecified();
            out.push(Action::AnswerWan {
                dst: if unspecified {
                    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1)
                } else {
                    m.src
                },
                target: m.target,
                solicited: !unspecified,
            });
        } else if !m.src.is_unspecified()
            && self
                .asked
                .get(&m.target)
                .is_none_or(|t| now >= *t + RETRANS)
        {
            self.asked.insert(m.target, now);
            out.push(Action::ProbeLan { target: m.target });
        }
        out
    }

    /// An NS or NA heard on the LAN (the glue drops our own): DAD (NS from
    /// ::) announces the target (RFC 4389 §4.1.3.1 relays it; we learn it);
    /// an NA announces its target; an NS from a global source shows the
    /// source is in use, and when it asks for an address of the /64 that is
    /// no LAN host (a host that sees the /64 on-link, e.g. with an address
    /// added by hand) we answer for it: that address is on the WAN side.
    pub fn on_lan(&mut self, now: Instant, m: &Ndp) -> Vec<Action> {
        let mut out = Vec::new();
        match m.kind {
            NS if m.src.is_unspecified() => self.learn(now, m.target, &mut out),
            NS => {
                self.learn(now, m.src, &mut out);
                if self.prefixes.iter().any(|p| p.contains(m.target))
                    && !self.hosts.contains_key(&m.target)
                {
                    out.push(Action::AnswerLan {
                        dst: m.src,
                        target: m.target,
                    });
                }
            }
            _ => self.learn(now, m.target, &mut out),
        }
        out
    }

    /// Probe hosts not heard of for REACHABLE, MAX_PROBES times RETRANS
    /// apart; then they are gone and their route goes.
    pub fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        let mut gone = Vec::new();
        for (a, h) in &mut self.hosts {
            let due = h.next_probe.unwrap_or(h.heard + REACHABLE);
            if now < due {
                continue;
            }
            if h.probes >= MAX_PROBES {
                gone.push(*a);
                continue;
            }
            h.probes += 1;
            h.next_probe = Some(now + RETRANS);
            out.push(Action::ProbeLan { target: *a });
        }
        for a in gone {
            self.hosts.remove(&a);
            out.push(Action::DelRoute(a));
        }
        self.asked.retain(|_, t| now < *t + REACHABLE);
        out
    }

    pub fn next_timer(&self) -> Option<Instant> {
        self.hosts
            .values()
            .map(|h| h.next_probe.unwrap_or(h.heard + REACHABLE))
            .min()
    }
}

#[cfg(test)]
mod tests;
