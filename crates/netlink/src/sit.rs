//! SIT (6in4) links over rtnetlink: what the tunnel service asks of the
//! kernel beyond what every service can (addresses, routes, link up/down
//! and delete are `Kernel`'s; what the kernel has is the supervisor's view).
//!
//! `create` is `ip tunnel add NAME mode sit remote R local L ttl T` (+ `mtu`):
//! an RTM_NEWLINK of kind `sit` with IFLA_IPTUN_PROTO = IPPROTO_IPV6, which
//! is what the SIOCADDTUNNEL ioctl behind `ip tunnel add ... mode sit` sets
//! (a bare `ip link add type sit` would give the "any" mode instead).
//! `convert::link_fact` reads the same parameters back from a link message
//! (IFLA_LINKINFO / IFLA_INFO_DATA, IFLA_IPTUN_*).

use futures::TryStreamExt;
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::IpProtocol;
use rtnetlink::{Handle, LinkSit, LinkUnspec};
use v6common::kernel::SitLink;
use v6common::LinkFact;

pub use rtnetlink::Error;

/// IPPROTO_IPV6, the `mode sit` of `ip tunnel add`.
pub const PROTO_IPV6: u8 = 41;

/// The RTM_NEWLINK message `create` sends.
pub fn create_message(req: &SitLink) -> LinkMessage {
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
pub async fn create(handle: &Handle, req: &SitLink) -> Result<(), Error> {
    handle.link().add(create_message(req)).execute().await
}

/// Every link (`ip -d link show`): how a new link's index is learnt.
pub async fn links(handle: &Handle) -> Result<Vec<LinkFact>, Error> {
    let msgs: Vec<LinkMessage> = handle.link().get().execute().try_collect().await?;
    Ok(msgs.iter().filter_map(crate::link_fact).collect())
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

/// True for EEXIST: the link, address or route is there already.
pub fn is_exists(e: &Error) -> bool {
    matches!(e, Error::NetlinkError(m) if m.code.is_some_and(|c| -c.get() == libc::EEXIST))
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{
        Emitable, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    };
    use netlink_packet_route::link::{
        InfoData, InfoIpTunnel, InfoKind, LinkAttribute, LinkFlags, LinkInfo,
    };
    use netlink_packet_route::RouteNetlinkMessage;
    use std::net::IpAddr;
    use std::net::Ipv4Addr;

    fn he6() -> SitLink {
        SitLink {
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
        let s = crate::link_fact(&l).expect("named link");
        assert_eq!(s.name, "he6");
        assert_eq!(s.kind.as_deref(), Some("sit"));
        assert_eq!(s.mtu, 1480);
        assert_eq!(
            s.sit,
            Some(v6common::SitFact {
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
        let s = crate::link_fact(&m).unwrap();
        assert_eq!(
            s.sit,
            Some(v6common::SitFact {
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
        assert!(crate::link_fact(&m).is_none(), "no name: skipped");
        m.attributes.push(LinkAttribute::IfName("he6".into()));
        m.header.flags = LinkFlags::Up | LinkFlags::Running | LinkFlags::LowerUp;
        let s = crate::link_fact(&m).unwrap();
        assert_eq!(
            (s.kind.as_deref(), s.sit, s.admin_up, s.running),
            (Some("veth"), None, true, true)
        );
    }
}
