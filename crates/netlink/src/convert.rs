//! rtnetlink messages -> v6common facts.

use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage,
};
use netlink_packet_route::link::{
    InfoData, InfoIpTunnel, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteType};
use netlink_packet_route::AddressFamily;
use std::net::{IpAddr, Ipv4Addr};
use v6common::{Addr4Fact, AddrFact, Ipv6Prefix, LinkFact, RouteFact, RouteKind, SitFact};

pub fn link_fact(m: &LinkMessage) -> Option<LinkFact> {
    let mut name = None;
    let mut lladdr = None;
    let mut mtu = 0;
    let mut kind = None;
    let mut alias = None;
    let mut iptun = None;
    for a in &m.attributes {
        match a {
            LinkAttribute::IfName(n) => name = Some(n.clone()),
            LinkAttribute::Address(b) => lladdr = Some(b.clone()),
            LinkAttribute::Mtu(x) => mtu = *x,
            LinkAttribute::IfAlias(s) => alias = Some(s.clone()),
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    match i {
                        LinkInfo::Kind(k) => {
                            // The kernel's own name (`sit`, `veth`), as
                            // `ip -d link` prints it.
                            kind = Some(k.to_string())
                        }
                        LinkInfo::Data(InfoData::IpTunnel(v)) => iptun = Some(v),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let sit = match (kind.as_deref(), iptun) {
        (Some("sit"), Some(attrs)) => Some(sit_fact(attrs)),
        _ => None,
    };
    let flags = m.header.flags;
    Some(LinkFact {
        index: m.header.index,
        name: name?,
        lladdr,
        mtu,
        admin_up: flags.contains(LinkFlags::Up),
        running: flags.contains(LinkFlags::Running) && flags.contains(LinkFlags::LowerUp),
        kind,
        alias,
        sit,
    })
}

/// A SIT link's IFLA_IPTUN_* attributes, with the kernel's defaults where
/// one is absent (sit.c, ipip6_netlink_parms): any/any, ttl inherit,
/// pmtudisc on, IPv6.
pub fn sit_fact(attrs: &[InfoIpTunnel]) -> SitFact {
    let v4 = |a: &IpAddr| match a {
        IpAddr::V4(a) if !a.is_unspecified() => Some(*a),
        _ => None,
    };
    let mut s = SitFact {
        remote: None,
        local: None,
        ttl: 0,
        pmtudisc: true,
        proto: crate::sit::PROTO_IPV6,
    };
    for a in attrs {
        match a {
            InfoIpTunnel::Remote(r) => s.remote = v4(r),
            InfoIpTunnel::Local(l) => s.local = v4(l),
            InfoIpTunnel::Ttl(t) => s.ttl = *t,
            InfoIpTunnel::PMtuDisc(p) => s.pmtudisc = *p,
            InfoIpTunnel::Protocol(p) => s.proto = u8::from(*p),
            _ => {}
        }
    }
    s
}

/// An IPv4 address message. IFA_ADDRESS is the peer on point-to-point
/// links; IFA_LOCAL is ours (as `ip addr` shows it).
pub fn addr4_fact(m: &AddressMessage) -> Option<Addr4Fact> {
    if m.header.family != AddressFamily::Inet {
        return None;
    }
    let (mut local, mut address) = (None, None);
    for a in &m.attributes {
        match a {
            AddressAttribute::Local(IpAddr::V4(x)) => local = Some(*x),
            AddressAttribute::Address(IpAddr::V4(x)) => address = Some(*x),
            _ => {}
        }
    }
    let addr: Ipv4Addr = local.or(address)?;
    Some(Addr4Fact {
        index: m.header.index,
        addr,
        prefix_len: m.header.prefix_len,
        secondary: m.header.flags.contains(AddressHeaderFlags::Secondary),
    })
}

pub fn addr_fact(m: &AddressMessage) -> Option<AddrFact> {
    if m.header.family != AddressFamily::Inet6 {
        return None;
    }
    let mut addr = None;
    let mut flags = None;
    let (mut preferred, mut valid) = (u32::MAX, u32::MAX);
    for a in &m.attributes {
        match a {
            AddressAttribute::Address(IpAddr::V6(x)) => addr = Some(*x),
            AddressAttribute::Flags(f) => flags = Some(*f),
            AddressAttribute::CacheInfo(c) => {
                preferred = c.ifa_preferred;
                valid = c.ifa_valid;
            }
            _ => {}
        }
    }
    let h = m.header.flags;
    let has = |full: AddressFlags, short: AddressHeaderFlags| match flags {
        Some(f) => f.contains(full),
        None => h.contains(short),
    };
    Some(AddrFact {
        index: m.header.index,
        addr: addr?,
        prefix_len: m.header.prefix_len,
        preferred_lft: preferred,
        valid_lft: valid,
        tentative: has(AddressFlags::Tentative, AddressHeaderFlags::Tentative),
        deprecated: has(AddressFlags::Deprecated, AddressHeaderFlags::Deprecated),
        dad_failed: has(AddressFlags::Dadfailed, AddressHeaderFlags::Dadfailed),
        permanent: has(AddressFlags::Permanent, AddressHeaderFlags::Permanent),
    })
}

pub fn route_fact(m: &RouteMessage) -> Option<RouteFact> {
    if m.header.address_family != AddressFamily::Inet6 {
        return None;
    }
    let mut dst = std::net::Ipv6Addr::UNSPECIFIED;
    let mut gateway = None;
    let mut oif = None;
    let mut metric = 0;
    let mut table = u32::from(m.header.table);
    for a in &m.attributes {
        match a {
            RouteAttribute::Destination(RouteAddress::Inet6(d)) => dst = *d,
            RouteAttribute::Gateway(RouteAddress::Inet6(g)) => gateway = Some(*g),
            RouteAttribute::Oif(o) => oif = Some(*o),
            RouteAttribute::Priority(p) => metric = *p,
            RouteAttribute::Table(t) => table = *t,
            _ => {}
        }
    }
    // Only the main table: local/multicast routes live in `local` (255).
    if table != v6common::kernel::RT_TABLE_MAIN {
        return None;
    }
    let kind = match m.header.kind {
        RouteType::Unicast => RouteKind::Unicast,
        RouteType::Unreachable => RouteKind::Unreachable,
        RouteType::BlackHole => RouteKind::Blackhole,
        RouteType::Prohibit => RouteKind::Prohibit,
        _ => RouteKind::Other,
    };
    Some(RouteFact {
        dst: Ipv6Prefix::new(dst, m.header.destination_prefix_length),
        gateway,
        oif,
        protocol: u8::from(m.header.protocol),
        metric,
        table,
        kind,
    })
}
