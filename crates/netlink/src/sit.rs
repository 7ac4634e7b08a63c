//! SIT (6in4) links over rtnetlink, and the few dumps the tunnel supervisor
//! needs beside them: IPv4 addresses (for `local = "auto"`), IPv6 addresses
//! and IPv6 routes by output interface.
//!
//! `create` is `ip tunnel add NAME mode sit remote R local L ttl T` (+ `mtu`):
//! an RTM_NEWLINK of kind `sit` with IFLA_IPTUN_PROTO = IPPROTO_IPV6, which
//! is what the SIOCADDTUNNEL ioctl behind `ip tunnel add ... mode sit` sets
//! (a bare `ip link add type sit` would give the "any" mode instead).
//! `parse_link` reads the same parameters back from a link dump
//! (IFLA_LINKINFO / IFLA_INFO_DATA, IFLA_IPTUN_*).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use futures::{StreamExt, TryStreamExt};
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::address::{AddressAttribute, AddressHeaderFlags, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoIpTunnel, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteProtocol};
use netlink_packet_route::{AddressFamily, IpProtocol, RouteNetlinkMessage};
use rtnetlink::{Handle, LinkSit, LinkUnspec, MulticastGroup, RouteMessageBuilder};
use tokio::sync::mpsc;
use v6common::Ipv6Prefix;

pub use rtnetlink::Error;

/// IPPROTO_IPV6, the `mode sit` of `ip tunnel add`.
pub const PROTO_IPV6: u8 = 41;

/// The groups whose events can change a tunnel's state: links (created,
/// deleted, up/down), IPv4 addresses (the WAN address `auto` follows), IPv6
/// addresses and routes (the tunnel's address and routes).
pub const EVENT_GROUPS: &[MulticastGroup] = &[
    MulticastGroup::Link,
    MulticastGroup::Ipv4Ifaddr,
    MulticastGroup::Ipv6Ifaddr,
    MulticastGroup::Ipv6Route,
];

/// A SIT link to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SitRequest {
    pub name: String,
    pub remote: Ipv4Addr,
    pub local: Ipv4Addr,
    /// 0 = inherit.
    pub ttl: u8,
    pub pmtudisc: bool,
    pub mtu: u32,
}

/// The SIT parameters of a link (IFLA_IPTUN_*).
pub type SitInfo = v6common::SitFact;

/// One link from a dump, with its SIT parameters when it is a SIT link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkState {
    pub index: u32,
    pub name: String,
    pub kind: Option<String>,
    pub sit: Option<SitInfo>,
    pub mtu: u32,
    pub admin_up: bool,
    pub running: bool,
    pub alias: Option<String>,
}

/// One IPv4 or IPv6 address from a dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrEntry {
    pub index: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
    /// IFA_F_SECONDARY (IPv4): not the primary address of its subnet.
    pub secondary: bool,
}

/// One IPv6 route of the main table from a dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteEntry {
    pub dst: Ipv6Prefix,
    pub oif: Option<u32>,
    pub metric: u32,
    pub protocol: u8,
    pub table: u32,
}

/// Read a link dump entry. None for a message without a name (the kernel
/// always sends one; a malformed message is skipped rather than trusted).
pub fn parse_link(msg: &LinkMessage) -> Option<LinkState> {
    let mut name = None;
    let mut mtu = 0;
    let mut kind = None;
    let mut alias = None;
    let mut iptun: Option<&Vec<InfoIpTunnel>> = None;
    for a in &msg.attributes {
        match a {
            LinkAttribute::IfName(n) => name = Some(n.clone()),
            LinkAttribute::Mtu(m) => mtu = *m,
            LinkAttribute::IfAlias(s) => alias = Some(s.clone()),
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    match i {
                        LinkInfo::Kind(k) => kind = Some(k.to_string()),
                        LinkInfo::Data(InfoData::IpTunnel(v)) => iptun = Some(v),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let sit = match (kind.as_deref(), iptun) {
        (Some("sit"), Some(attrs)) => Some(crate::convert::sit_fact(attrs)),
        _ => None,
    };
    Some(LinkState {
        index: msg.header.index,
        name: name?,
        kind,
        sit,
        mtu,
        admin_up: msg.header.flags.contains(LinkFlags::Up),
        running: msg.header.flags.contains(LinkFlags::Running),
        alias,
    })
}

/// The RTM_NEWLINK message `create` sends.
pub fn create_message(req: &SitRequest) -> LinkMessage {
    LinkSit::new(&req.name)
        .remote(req.remote)
        .local(req.local)
        .ttl(req.ttl)
        .pmtudisc(req.pmtudisc)
        .protocol(IpProtocol::Ipv6)
        .mtu(req.mtu)
        .build()
}

/// Create a SIT link (down, as `ip tunnel add` leaves it).
pub async fn create(handle: &Handle, req: &SitRequest) -> Result<(), Error> {
    handle.link().add(create_message(req)).execute().await
}

/// Every link (`ip -d link show`).
pub async fn links(handle: &Handle) -> Result<Vec<LinkState>, Error> {
    let msgs: Vec<LinkMessage> = handle.link().get().execute().try_collect().await?;
    Ok(msgs.iter().filter_map(parse_link).collect())
}

/// `ip link del` by index.
pub async fn delete(handle: &Handle, index: u32) -> Result<(), Error> {
    handle.link().del(index).execute().await
}

/// `ip link set up`.
pub async fn set_up(handle: &Handle, index: u32) -> Result<(), Error> {
    handle
        .link()
        .set(LinkUnspec::new_with_index(index).up().build())
        .execute()
        .await
}

/// `ip link set mtu`.
pub async fn set_mtu(handle: &Handle, index: u32, mtu: u32) -> Result<(), Error> {
    handle
        .link()
        .set(LinkUnspec::new_with_index(index).mtu(mtu).build())
        .execute()
        .await
}

/// `ip link set alias` (IFLA_IFALIAS), the owner tag that survives restarts.
pub async fn set_alias(handle: &Handle, index: u32, alias: &str) -> Result<(), Error> {
    handle
        .link()
        .set(LinkUnspec::new_with_index(index).alias(alias).build())
        .execute()
        .await
}

fn addr_entries(msgs: &[AddressMessage], family: AddressFamily) -> Vec<AddrEntry> {
    let mut out = Vec::new();
    for m in msgs.iter().filter(|m| m.header.family == family) {
        // IFA_LOCAL is the interface's own address on point-to-point links;
        // IFA_ADDRESS is the peer there. Prefer IFA_LOCAL (as `ip addr` does).
        let mut local = None;
        let mut address = None;
        for a in &m.attributes {
            match a {
                AddressAttribute::Local(x) => local = Some(*x),
                AddressAttribute::Address(x) => address = Some(*x),
                _ => {}
            }
        }
        if let Some(addr) = local.or(address) {
            out.push(AddrEntry {
                index: m.header.index,
                addr,
                prefix_len: m.header.prefix_len,
                secondary: m.header.flags.contains(AddressHeaderFlags::Secondary),
            });
        }
    }
    out
}

/// Every IPv4 address (`ip -4 addr show`), in the kernel's order.
pub async fn ipv4_addrs(handle: &Handle) -> Result<Vec<AddrEntry>, Error> {
    let msgs: Vec<AddressMessage> = handle.address().get().execute().try_collect().await?;
    Ok(addr_entries(&msgs, AddressFamily::Inet))
}

/// Every IPv6 address (`ip -6 addr show`).
pub async fn ipv6_addrs(handle: &Handle) -> Result<Vec<AddrEntry>, Error> {
    let msgs: Vec<AddressMessage> = handle.address().get().execute().try_collect().await?;
    Ok(addr_entries(&msgs, AddressFamily::Inet6))
}

/// `ip -6 addr add ADDR/LEN dev INDEX`.
pub async fn add_ipv6_addr(
    handle: &Handle,
    index: u32,
    addr: Ipv6Addr,
    prefix_len: u8,
) -> Result<(), Error> {
    handle
        .address()
        .add(index, IpAddr::V6(addr), prefix_len)
        .execute()
        .await
}

/// `ip -6 addr del ADDR/LEN dev INDEX`.
pub async fn del_ipv6_addr(
    handle: &Handle,
    index: u32,
    addr: Ipv6Addr,
    prefix_len: u8,
) -> Result<(), Error> {
    let mut m = AddressMessage::default();
    m.header.family = AddressFamily::Inet6;
    m.header.prefix_len = prefix_len;
    m.header.index = index;
    m.attributes
        .push(AddressAttribute::Address(IpAddr::V6(addr)));
    handle.address().del(m).execute().await
}

/// Read an IPv6 route dump entry; None for other families or a malformed one.
pub fn parse_route(m: &RouteMessage) -> Option<RouteEntry> {
    if m.header.address_family != AddressFamily::Inet6 {
        return None;
    }
    let mut dst = Ipv6Addr::UNSPECIFIED;
    let mut oif = None;
    let mut metric = 0;
    let mut table = u32::from(m.header.table);
    for a in &m.attributes {
        match a {
            RouteAttribute::Destination(RouteAddress::Inet6(d)) => dst = *d,
            RouteAttribute::Oif(i) => oif = Some(*i),
            RouteAttribute::Priority(p) => metric = *p,
            RouteAttribute::Table(t) => table = *t,
            _ => {}
        }
    }
    if m.header.destination_prefix_length > 128 {
        return None;
    }
    Some(RouteEntry {
        dst: Ipv6Prefix::new(dst, m.header.destination_prefix_length),
        oif,
        metric,
        protocol: u8::from(m.header.protocol),
        table,
    })
}

/// Every IPv6 route of the main table (`ip -6 route show`).
pub async fn ipv6_routes(handle: &Handle) -> Result<Vec<RouteEntry>, Error> {
    let req = RouteMessageBuilder::<Ipv6Addr>::new().build();
    let msgs: Vec<RouteMessage> = handle.route().get(req).execute().try_collect().await?;
    Ok(msgs
        .iter()
        .filter_map(parse_route)
        .filter(|r| r.table == v6common::kernel::RT_TABLE_MAIN)
        .collect())
}

fn route_message(oif: u32, dst: Ipv6Prefix, metric: u32, protocol: u8) -> RouteMessage {
    RouteMessageBuilder::<Ipv6Addr>::new()
        .destination_prefix(dst.addr(), dst.len())
        .output_interface(oif)
        .priority(metric)
        .protocol(RouteProtocol::from(protocol))
        .build()
}

/// `ip -6 route add DST dev OIF metric M proto P`.
pub async fn add_ipv6_route(
    handle: &Handle,
    oif: u32,
    dst: Ipv6Prefix,
    metric: u32,
    protocol: u8,
) -> Result<(), Error> {
    handle
        .route()
        .add(route_message(oif, dst, metric, protocol))
        .execute()
        .await
}

/// `ip -6 route del DST dev OIF metric M proto P`.
pub async fn del_ipv6_route(
    handle: &Handle,
    oif: u32,
    dst: Ipv6Prefix,
    metric: u32,
    protocol: u8,
) -> Result<(), Error> {
    handle
        .route()
        .del(route_message(oif, dst, metric, protocol))
        .execute()
        .await
}

/// True when a netlink error is the kernel's "no such device" / "no such
/// process" / "not found": the thing to delete is gone already.
pub fn is_gone(e: &Error) -> bool {
    matches!(e, Error::NetlinkError(m) if m.code.is_some_and(|c| {
        let c = -c.get();
        c == libc::ENODEV || c == libc::ESRCH || c == libc::EADDRNOTAVAIL || c == libc::ENOENT
    }))
}

/// True for EOPNOTSUPP: the kernel does not know the link kind (no sit
/// module, as on kernels built without CONFIG_IPV6_SIT).
pub fn is_unsupported(e: &Error) -> bool {
    matches!(e, Error::NetlinkError(m) if m.code.is_some_and(|c| -c.get() == libc::EOPNOTSUPP))
}

/// True for EEXIST: the address or route is there already.
pub fn is_exists(e: &Error) -> bool {
    matches!(e, Error::NetlinkError(m) if m.code.is_some_and(|c| -c.get() == libc::EEXIST))
}

/// A kernel event that may concern a tunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SitEvent {
    /// A link appeared, changed or went away.
    Link,
    /// An IPv4 address came or went (the WAN address `auto` follows).
    Ipv4Addr { index: u32 },
    /// An IPv6 address came or went.
    Ipv6Addr { index: u32 },
    /// An IPv6 route came or went.
    Ipv6Route { oif: Option<u32> },
}

/// Classify one rtnetlink message (None: nothing a tunnel cares about).
pub fn classify(m: &RouteNetlinkMessage) -> Option<SitEvent> {
    match m {
        RouteNetlinkMessage::NewLink(_) | RouteNetlinkMessage::DelLink(_) => Some(SitEvent::Link),
        RouteNetlinkMessage::NewAddress(a) | RouteNetlinkMessage::DelAddress(a) => {
            match a.header.family {
                AddressFamily::Inet => Some(SitEvent::Ipv4Addr {
                    index: a.header.index,
                }),
                AddressFamily::Inet6 => Some(SitEvent::Ipv6Addr {
                    index: a.header.index,
                }),
                _ => None,
            }
        }
        RouteNetlinkMessage::NewRoute(r) | RouteNetlinkMessage::DelRoute(r) => {
            parse_route(r).map(|r| SitEvent::Ipv6Route { oif: r.oif })
        }
        _ => None,
    }
}

/// A connection of its own subscribed to [`EVENT_GROUPS`]; the events arrive
/// classified on the receiver (the shared kernel view does not follow IPv4
/// addresses, which `local = "auto"` needs).
pub fn events() -> std::io::Result<mpsc::UnboundedReceiver<SitEvent>> {
    let (conn, _handle, mut messages) = rtnetlink::new_multicast_connection(EVENT_GROUPS)?;
    tokio::spawn(conn);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some((msg, _)) = messages.next().await {
            if let NetlinkPayload::InnerMessage(m) = msg.payload {
                if let Some(ev) = classify(&m) {
                    if tx.send(ev).is_err() {
                        break;
                    }
                }
            }
        }
    });
    Ok(rx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{
        Emitable, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    };
    use netlink_packet_route::link::InfoKind;

    fn he6() -> SitRequest {
        SitRequest {
            name: "he6".into(),
            remote: Ipv4Addr::new(198, 51, 100, 1),
            local: Ipv4Addr::new(192, 0, 2, 2),
            ttl: 255,
            pmtudisc: true,
            mtu: 1480,
        }
    }

    /// Emit the create message to bytes, parse it back as the kernel's echo
    /// would be parsed, and read the SIT parameters.
    #[test]
    fn create_message_round_trips_through_bytes() {
        let msg = create_message(&he6());
        let mut nl = NetlinkMessage::new(
            NetlinkHeader::default(),
            NetlinkPayload::from(RouteNetlinkMessage::NewLink(msg)),
        );
        nl.finalize();
        let mut buf = vec![0u8; nl.buffer_len()];
        nl.emit(&mut buf);
        let back = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf).expect("parse");
        let NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(l)) = back.payload else {
            panic!("not a NewLink")
        };
        let s = parse_link(&l).expect("named link");
        assert_eq!(s.name, "he6");
        assert_eq!(s.kind.as_deref(), Some("sit"));
        assert_eq!(s.mtu, 1480);
        assert_eq!(
            s.sit,
            Some(SitInfo {
                remote: Some(Ipv4Addr::new(198, 51, 100, 1)),
                local: Some(Ipv4Addr::new(192, 0, 2, 2)),
                ttl: 255,
                pmtudisc: true,
                proto: PROTO_IPV6,
            })
        );
        // The raw IFLA_IPTUN_PROTO attribute: len 5, type 9, value 41.
        assert!(
            buf.windows(5).any(|w| w == [5, 0, 9, 0, 41]),
            "IFLA_IPTUN_PROTO=41 present"
        );
        assert!(NetlinkBuffer::new_checked(&buf[..]).is_ok());
    }

    #[test]
    fn absent_attributes_take_kernel_defaults() {
        let mut m = LinkMessage::default();
        m.header.index = 3;
        m.attributes.push(LinkAttribute::IfName("sit0".into()));
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::SitTun),
            LinkInfo::Data(InfoData::IpTunnel(vec![InfoIpTunnel::Remote(IpAddr::V4(
                Ipv4Addr::UNSPECIFIED,
            ))])),
        ]));
        let s = parse_link(&m).unwrap();
        assert_eq!(
            s.sit,
            Some(SitInfo {
                remote: None,
                local: None,
                ttl: 0,
                pmtudisc: true,
                proto: PROTO_IPV6
            })
        );
        assert!(!s.admin_up);
    }

    #[test]
    fn non_sit_and_nameless_links() {
        let mut m = LinkMessage::default();
        m.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                InfoKind::Veth,
            )]));
        assert!(parse_link(&m).is_none(), "no name: skipped");
        m.attributes.push(LinkAttribute::IfName("he6".into()));
        m.header.flags = LinkFlags::Up | LinkFlags::Running;
        let s = parse_link(&m).unwrap();
        assert_eq!(
            (s.kind.as_deref(), s.sit, s.admin_up, s.running),
            (Some("veth"), None, true, true)
        );
    }

    #[test]
    fn route_message_and_parse_agree() {
        let dst: Ipv6Prefix = "::/0".parse().unwrap();
        let m = route_message(7, dst, 1024, 201);
        let r = parse_route(&m).unwrap();
        assert_eq!(
            r,
            RouteEntry {
                dst,
                oif: Some(7),
                metric: 1024,
                protocol: 201,
                table: v6common::kernel::RT_TABLE_MAIN
            }
        );
    }

    #[test]
    fn events_are_classified() {
        let mut a = AddressMessage::default();
        a.header.family = AddressFamily::Inet;
        a.header.index = 4;
        assert_eq!(
            classify(&RouteNetlinkMessage::NewAddress(a.clone())),
            Some(SitEvent::Ipv4Addr { index: 4 })
        );
        a.header.family = AddressFamily::Inet6;
        assert_eq!(
            classify(&RouteNetlinkMessage::DelAddress(a)),
            Some(SitEvent::Ipv6Addr { index: 4 })
        );
        let r = route_message(7, "::/0".parse().unwrap(), 1024, 201);
        assert_eq!(
            classify(&RouteNetlinkMessage::NewRoute(r)),
            Some(SitEvent::Ipv6Route { oif: Some(7) })
        );
        assert_eq!(
            classify(&RouteNetlinkMessage::DelLink(LinkMessage::default())),
            Some(SitEvent::Link)
        );
    }

    #[test]
    fn addresses_prefer_ifa_local() {
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet;
        m.header.index = 2;
        m.header.prefix_len = 24;
        m.header.flags = AddressHeaderFlags::Secondary;
        m.attributes
            .push(AddressAttribute::Address(IpAddr::V4(Ipv4Addr::new(
                192, 0, 2, 1,
            ))));
        m.attributes
            .push(AddressAttribute::Local(IpAddr::V4(Ipv4Addr::new(
                192, 0, 2, 2,
            ))));
        let e = addr_entries(&[m.clone()], AddressFamily::Inet);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].addr, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));
        assert!(e[0].secondary);
        assert!(addr_entries(&[m], AddressFamily::Inet6).is_empty());
    }
}
