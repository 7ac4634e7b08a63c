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
    let p = include_bytes!("../../testdata/veth_newlink.bin");
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
