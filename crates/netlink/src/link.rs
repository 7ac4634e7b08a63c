//! Link messages (RTM_NEWLINK / RTM_DELLINK / RTM_SETLINK): struct
//! ifinfomsg (linux/rtnetlink.h) and the IFLA_* attributes we read or send
//! (linux/if_link.h), with the SIT parameters of IFLA_INFO_DATA
//! (IFLA_IPTUN_*, linux/if_tunnel.h).
//!
//! Only what a `LinkFact` holds is read; statistics, VF tables, XDP and
//! the dozens of other IFLA_* attributes are skipped by their length.

use crate::wire::{self, array, str_attr, u32_attr, walk_attrs};
use std::net::Ipv4Addr;
use v6common::kernel::SitLink;
use v6common::{LinkFact, SitFact};

/// struct ifinfomsg: u8 family, u8 pad, u16 type, i32 index, u32 flags,
/// u32 change.
pub(crate) const IFINFOMSG_LEN: usize = 16;

// linux/if.h: enum net_device_flags.
pub const IFF_UP: u32 = 0x1;
const IFF_RUNNING: u32 = 0x40;
const IFF_LOWER_UP: u32 = 0x1_0000;

// linux/if_link.h: IFLA_*.
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_LINKINFO: u16 = 18;
const IFLA_IFALIAS: u16 = 20;
// linux/if_link.h: IFLA_INFO_* (inside IFLA_LINKINFO).
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
// linux/if_tunnel.h: IFLA_IPTUN_* (inside IFLA_INFO_DATA of kind sit).
const IFLA_IPTUN_LOCAL: u16 = 2;
const IFLA_IPTUN_REMOTE: u16 = 3;
const IFLA_IPTUN_TTL: u16 = 4;
const IFLA_IPTUN_PROTO: u16 = 9;
const IFLA_IPTUN_PMTUDISC: u16 = 10;

/// IPPROTO_IPV6, the `mode sit` of `ip tunnel add`.
pub const PROTO_IPV6: u8 = 41;

/// The ifinfomsg header's fields we use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkHeader {
    pub index: u32,
    /// IFF_* (linux/if.h).
    pub flags: u32,
}

/// The header of a link message's payload (None: too short).
pub fn header(p: &[u8]) -> Option<LinkHeader> {
    if p.len() < IFINFOMSG_LEN {
        return None;
    }
    Some(LinkHeader {
        index: wire::u32_at(p, 4)?,
        flags: wire::u32_at(p, 8)?,
    })
}

/// A link message's payload as a fact (None: no name, or malformed).
pub fn link_fact(p: &[u8]) -> Option<LinkFact> {
    let h = header(p)?;
    let mut name = None;
    let mut lladdr = None;
    let mut mtu = 0;
    let mut alias = None;
    let mut kind = None;
    let mut data: Option<&[u8]> = None;
    walk_attrs(&p[IFINFOMSG_LEN..], |t, d| {
        match t {
            IFLA_IFNAME => name = Some(str_attr(d)?),
            IFLA_ADDRESS => lladdr = Some(d.to_vec()),
            IFLA_MTU => mtu = u32_attr(d)?,
            IFLA_IFALIAS => alias = Some(str_attr(d)?),
            IFLA_LINKINFO => walk_attrs(d, |t, d| {
                match t {
                    // The kernel's own name (`sit`, `veth`), as `ip -d
                    // link` prints it.
                    IFLA_INFO_KIND => kind = Some(str_attr(d)?),
                    IFLA_INFO_DATA => data = Some(d),
                    _ => {}
                }
                Some(())
            })?,
            _ => {}
        }
        Some(())
    })?;
    let sit = match (kind.as_deref(), data) {
        (Some("sit"), Some(d)) => Some(sit_fact(d)?),
        _ => None,
    };
    Some(LinkFact {
        index: h.index,
        name: name?,
        lladdr,
        mtu,
        admin_up: h.flags & IFF_UP != 0,
        running: h.flags & IFF_RUNNING != 0 && h.flags & IFF_LOWER_UP != 0,
        kind,
        alias,
        sit,
    })
}

/// A SIT link's IFLA_INFO_DATA (IFLA_IPTUN_*), with the kernel's defaults
/// where one is absent (sit.c, ipip6_netlink_parms): any/any, ttl inherit,
/// pmtudisc on, IPv6. None when an attribute has the wrong size.
pub fn sit_fact(data: &[u8]) -> Option<SitFact> {
    let v4 = |d: &[u8]| {
        array::<4>(d)
            .map(Ipv4Addr::from)
            .map(|a| (!a.is_unspecified()).then_some(a))
    };
    let mut s = SitFact {
        remote: None,
        local: None,
        ttl: 0,
        pmtudisc: true,
        proto: PROTO_IPV6,
    };
    walk_attrs(data, |t, d| {
        match t {
            IFLA_IPTUN_REMOTE => s.remote = v4(d)?,
            IFLA_IPTUN_LOCAL => s.local = v4(d)?,
            IFLA_IPTUN_TTL => s.ttl = *d.first()?,
            IFLA_IPTUN_PMTUDISC => s.pmtudisc = *d.first()? != 0,
            IFLA_IPTUN_PROTO => s.proto = *d.first()?,
            _ => {}
        }
        Some(())
    })?;
    Some(s)
}

/// ifinfomsg for a request about link `index` (AF_UNSPEC, no type);
/// `flags`/`change` as in the struct (set `change` bits to `flags`).
fn put_ifinfomsg(buf: &mut Vec<u8>, index: u32, flags: u32, change: u32) {
    buf.extend_from_slice(&[0, 0, 0, 0]); // family AF_UNSPEC, pad, type
    buf.extend_from_slice(&index.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&change.to_ne_bytes());
}

/// RTM_GETLINK, dump of every link.
pub(crate) fn put_dump(buf: &mut Vec<u8>, seq: u32) {
    let s = wire::begin(buf, wire::RTM_GETLINK, wire::NLM_F_DUMP, seq);
    put_ifinfomsg(buf, 0, 0, 0);
    wire::finish(buf, s);
}

/// What a link request changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkChange<'a> {
    /// `ip link set up`: IFF_UP in ifi_flags and ifi_change.
    Up,
    /// `ip link set mtu`.
    Mtu(u32),
    /// `ip link set alias` (IFLA_IFALIAS).
    Alias(&'a str),
}

/// RTM_SETLINK of link `index`, with NLM_F_ACK.
pub(crate) fn put_set(buf: &mut Vec<u8>, index: u32, c: LinkChange<'_>, seq: u32) {
    let s = wire::begin(buf, wire::RTM_SETLINK, wire::NLM_F_ACK, seq);
    match c {
        LinkChange::Up => put_ifinfomsg(buf, index, IFF_UP, IFF_UP),
        LinkChange::Mtu(m) => {
            put_ifinfomsg(buf, index, 0, 0);
            wire::put_attr(buf, IFLA_MTU, &m.to_ne_bytes());
        }
        LinkChange::Alias(a) => {
            put_ifinfomsg(buf, index, 0, 0);
            // As iproute2 sends it: the text without a NUL.
            wire::put_attr(buf, IFLA_IFALIAS, a.as_bytes());
        }
    }
    wire::finish(buf, s);
}

/// RTM_DELLINK of link `index`, with NLM_F_ACK.
pub(crate) fn put_del(buf: &mut Vec<u8>, index: u32, seq: u32) {
    let s = wire::begin(buf, wire::RTM_DELLINK, wire::NLM_F_ACK, seq);
    put_ifinfomsg(buf, index, 0, 0);
    wire::finish(buf, s);
}

/// RTM_NEWLINK creating a SIT link (NLM_F_CREATE | NLM_F_EXCL, NLM_F_ACK):
/// `ip tunnel add NAME mode sit remote R local L ttl T [no]pmtudisc` + `mtu`.
/// IFLA_IPTUN_PROTO = IPPROTO_IPV6 is what the SIOCADDTUNNEL ioctl behind
/// `ip tunnel add ... mode sit` sets (a bare `ip link add type sit` would
/// give the "any" mode instead).
pub(crate) fn put_create_sit(buf: &mut Vec<u8>, req: &SitLink, seq: u32) {
    let flags = wire::NLM_F_ACK | wire::NLM_F_CREATE | wire::NLM_F_EXCL;
    let s = wire::begin(buf, wire::RTM_NEWLINK, flags, seq);
    put_ifinfomsg(buf, 0, 0, 0);
    let mut name = req.name.as_bytes().to_vec();
    name.push(0);
    wire::put_attr(buf, IFLA_IFNAME, &name);
    wire::put_attr(buf, IFLA_MTU, &req.mtu.to_ne_bytes());
    let info = wire::begin_nest(buf, IFLA_LINKINFO);
    wire::put_attr(buf, IFLA_INFO_KIND, b"sit");
    let data = wire::begin_nest(buf, IFLA_INFO_DATA);
    wire::put_attr(buf, IFLA_IPTUN_REMOTE, &req.remote.octets());
    wire::put_attr(buf, IFLA_IPTUN_LOCAL, &req.local.octets());
    wire::put_attr(buf, IFLA_IPTUN_TTL, &[req.ttl]);
    wire::put_attr(buf, IFLA_IPTUN_PMTUDISC, &[u8::from(req.pmtudisc)]);
    wire::put_attr(buf, IFLA_IPTUN_PROTO, &[PROTO_IPV6]);
    wire::end_nest(buf, data);
    wire::end_nest(buf, info);
    wire::finish(buf, s);
}

#[cfg(test)]
mod tests;
