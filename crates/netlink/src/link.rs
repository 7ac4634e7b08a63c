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
mod tests {
    use super::*;
    use crate::wire::{messages, NLMSG_HDRLEN};

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

    /// The create request, byte for byte (x86_64, little-endian): what
    /// `ip tunnel add he6 mode sit remote 198.51.100.1 local 192.0.2.2
    /// ttl 255` + `mtu 1480` amounts to.
    #[test]
    #[cfg(target_endian = "little")]
    fn create_message_golden_bytes() {
        let mut b = Vec::new();
        put_create_sit(&mut b, &he6(), 9);
        #[rustfmt::skip]
        let want: &[u8] = &[
            104, 0, 0, 0, 16, 0, 0x05, 0x06, 9, 0, 0, 0, 0, 0, 0, 0, // nlmsghdr
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,          // ifinfomsg
            8, 0, 3, 0, b'h', b'e', b'6', 0,                         // IFLA_IFNAME
            8, 0, 4, 0, 0xc8, 0x05, 0, 0,                            // IFLA_MTU 1480
            56, 0, 18, 0,                                            // IFLA_LINKINFO
            7, 0, 1, 0, b's', b'i', b't', 0,                         //  IFLA_INFO_KIND
            44, 0, 2, 0,                                             //  IFLA_INFO_DATA
            8, 0, 3, 0, 198, 51, 100, 1,                             //   REMOTE
            8, 0, 2, 0, 192, 0, 2, 2,                                //   LOCAL
            5, 0, 4, 0, 255, 0, 0, 0,                                //   TTL
            5, 0, 10, 0, 1, 0, 0, 0,                                 //   PMTUDISC
            5, 0, 9, 0, 41, 0, 0, 0,                                 //   PROTO
        ];
        assert_eq!(b, want);
    }

    /// The create request read back as the kernel's echo would be read.
    #[test]
    fn create_message_round_trips() {
        let mut b = Vec::new();
        put_create_sit(&mut b, &he6(), 1);
        let m = messages(&b).next().unwrap();
        assert_eq!(m.kind, wire::RTM_NEWLINK);
        let s = link_fact(m.payload).expect("named link");
        assert_eq!(s.name, "he6");
        assert_eq!(s.kind.as_deref(), Some("sit"));
        assert_eq!(s.mtu, 1480);
        assert_eq!(
            s.sit,
            Some(SitFact {
                remote: Some(Ipv4Addr::new(198, 51, 100, 1)),
                local: Some(Ipv4Addr::new(192, 0, 2, 2)),
                ttl: 255,
                pmtudisc: true,
                proto: PROTO_IPV6,
            })
        );
    }

    fn link(flags: u32, attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut b = Vec::new();
        put_ifinfomsg(&mut b, 3, flags, 0);
        for (k, d) in attrs {
            wire::put_attr(&mut b, *k, d);
        }
        b
    }

    fn linkinfo(kind: &[u8], data: &[(u16, &[u8])]) -> Vec<u8> {
        let mut b = Vec::new();
        wire::put_attr(&mut b, IFLA_INFO_KIND, kind);
        let n = wire::begin_nest(&mut b, IFLA_INFO_DATA);
        for (k, d) in data {
            wire::put_attr(&mut b, *k, d);
        }
        wire::end_nest(&mut b, n);
        b
    }

    /// An RTM_NEWLINK payload from a 6.18 kernel's dump (x86_64, 1492
    /// bytes: statistics, AF_SPEC, XDP, ...), after `ip link add v0 type
    /// veth peer name v1`, both up, `ip link set v0 mtu 1480 alias
    /// v6routerd`, in a fresh netns.
    #[test]
    #[cfg(target_endian = "little")]
    fn golden_kernel_veth() {
        let p = include_bytes!("../testdata/veth_newlink.bin");
        let f = link_fact(p).unwrap();
        assert_eq!((f.index, f.name.as_str(), f.mtu), (3, "v0", 1480));
        assert_eq!(f.kind.as_deref(), Some("veth"));
        assert_eq!(f.alias.as_deref(), Some("v6routerd"));
        assert_eq!(f.lladdr, Some(vec![0xee, 0xdb, 0xfa, 0xa3, 0x3c, 0xd2]));
        assert!(f.admin_up && f.running);
        assert_eq!(f.sit, None);
        // Cut anywhere: refused inside an attribute, read up to the cut at
        // an attribute's end; never a panic.
        for cut in 0..p.len() {
            if let Some(g) = link_fact(&p[..cut]) {
                assert_eq!((g.index, g.name.as_str()), (3, "v0"));
            }
        }
    }

    #[test]
    fn absent_attributes_take_kernel_defaults() {
        let li = linkinfo(b"sit\0", &[(IFLA_IPTUN_REMOTE, &[0, 0, 0, 0])]);
        let p = link(0, &[(IFLA_IFNAME, b"sit0\0"), (IFLA_LINKINFO, &li)]);
        let s = link_fact(&p).unwrap();
        assert_eq!(s.index, 3);
        assert_eq!(
            s.sit,
            Some(SitFact {
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
        let li = linkinfo(b"veth", &[(1, &[1, 2, 3, 4])]);
        let p = link(0, &[(IFLA_LINKINFO, &li)]);
        assert!(link_fact(&p).is_none(), "no name: skipped");
        let p = link(
            IFF_UP | IFF_RUNNING | IFF_LOWER_UP,
            &[
                (IFLA_LINKINFO, &li),
                (IFLA_IFNAME, b"he6\0"),
                (IFLA_IFALIAS, b"v6routerd"),
                (IFLA_ADDRESS, &[2, 0, 0, 0, 0, 1]),
            ],
        );
        let s = link_fact(&p).unwrap();
        assert_eq!(
            (s.kind.as_deref(), s.sit, s.admin_up, s.running),
            (Some("veth"), None, true, true)
        );
        assert_eq!(s.alias.as_deref(), Some("v6routerd"));
        assert_eq!(s.lladdr, Some(vec![2, 0, 0, 0, 0, 1]));
        // Up without carrier: not running.
        let p = link(IFF_UP | IFF_RUNNING, &[(IFLA_IFNAME, b"he6\0")]);
        assert!(!link_fact(&p).unwrap().running);
    }

    #[test]
    fn malformed_links_are_refused() {
        let li = linkinfo(b"sit", &[(IFLA_IPTUN_LOCAL, &[1, 2, 3])]);
        let p = link(0, &[(IFLA_IFNAME, b"x\0"), (IFLA_LINKINFO, &li)]);
        assert!(link_fact(&p).is_none(), "a 3-byte address");
        let p = link(0, &[(IFLA_IFNAME, b"x\0"), (IFLA_MTU, &[1, 2])]);
        assert!(link_fact(&p).is_none(), "a 2-byte mtu");
        let p = link(0, &[(IFLA_IFNAME, b"eth0\0")]);
        for cut in 0..IFINFOMSG_LEN {
            assert!(link_fact(&p[..cut]).is_none());
        }
        assert!(link_fact(&p[..p.len() - 4]).is_none(), "cut attribute");
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn set_requests_golden_bytes() {
        let mut b = Vec::new();
        put_set(&mut b, 7, LinkChange::Up, 2);
        assert_eq!(
            &b[4..8],
            &[19, 0, 5, 0],
            "RTM_SETLINK, NLM_F_REQUEST|NLM_F_ACK"
        );
        assert_eq!(
            &b[NLMSG_HDRLEN..],
            &[0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]
        );
        b.clear();
        put_set(&mut b, 7, LinkChange::Alias("v6"), 2);
        assert_eq!(&b[NLMSG_HDRLEN + 16..], &[6, 0, 20, 0, b'v', b'6', 0, 0]);
        b.clear();
        put_del(&mut b, 7, 2);
        assert_eq!(&b[4..6], &[17, 0]);
    }
}
