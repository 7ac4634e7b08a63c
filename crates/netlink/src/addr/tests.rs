use super::*;
use crate::wire::{messages, NLMSG_HDRLEN};

/// RTM_NEWADDR payloads from a 6.18 kernel's dump (x86_64), after
/// `ip -6 addr add 2001:db8::1/64 dev v0 nodad` and
/// `ip addr add 192.0.2.2/24 dev v0` (ifindex 3) in a fresh netns.
#[test]
#[cfg(target_endian = "little")]
fn golden_kernel_addresses() {
    let p = include_bytes!("../../testdata/ipv6_newaddr.bin");
    let f = addr_fact(p).unwrap();
    assert_eq!(f.addr, "2001:db8::1".parse::<Ipv6Addr>().unwrap());
    assert_eq!((f.index, f.prefix_len), (3, 64));
    assert_eq!((f.preferred_lft, f.valid_lft), (u32::MAX, u32::MAX));
    assert!(f.permanent && !f.tentative && !f.deprecated && !f.dad_failed);
    assert_eq!(addr4_fact(p), None);
    let p = include_bytes!("../../testdata/ipv4_newaddr.bin");
    assert_eq!(
        addr4_fact(p),
        Some(Addr4Fact {
            index: 3,
            addr: Ipv4Addr::new(192, 0, 2, 2),
            prefix_len: 24,
            secondary: false
        })
    );
    assert_eq!(addr_fact(p), None);
}

#[test]
fn ipv4_local_wins_over_peer() {
    let mut p = Vec::new();
    p.extend_from_slice(&[2, 32, 0x01, 0, 4, 0, 0, 0]);
    wire::put_attr(&mut p, IFA_ADDRESS, &[10, 0, 0, 2]);
    wire::put_attr(&mut p, IFA_LOCAL, &[10, 0, 0, 1]);
    let f = addr4_fact(&p).unwrap();
    assert_eq!(f.addr, Ipv4Addr::new(10, 0, 0, 1));
    assert!(f.secondary);
    assert_eq!(addr_fact(&p), None);
}

/// IFA_FLAGS wins over the 8-bit header field (tentative is set only
/// in the attribute here).
#[test]
fn flags_attribute_wins() {
    let mut b = Vec::new();
    put_set(&mut b, 3, "2001:db8::2".parse().unwrap(), 64, 100, 200, 1);
    let m = messages(&b).next().unwrap();
    let mut p = m.payload.to_vec();
    wire::put_attr(&mut p, IFA_FLAGS, &IFA_F_TENTATIVE.to_ne_bytes());
    let f = addr_fact(&p).unwrap();
    assert_eq!((f.preferred_lft, f.valid_lft), (100, 200));
    assert!(f.tentative && !f.permanent);
}

#[test]
#[cfg(target_endian = "little")]
fn requests_golden_bytes() {
    let a: Ipv6Addr = "2001:db8::2".parse().unwrap();
    let mut b = Vec::new();
    put_set(&mut b, 3, a, 64, u32::MAX, u32::MAX, 5);
    // RTM_NEWADDR, REQUEST|ACK|REPLACE|CREATE, no IFA_CACHEINFO.
    assert_eq!(&b[..8], &[64, 0, 0, 0, 20, 0, 0x05, 0x05]);
    assert_eq!(
        &b[NLMSG_HDRLEN..NLMSG_HDRLEN + 8],
        &[10, 64, 0, 0, 3, 0, 0, 0]
    );
    assert_eq!(&b[NLMSG_HDRLEN + 8..NLMSG_HDRLEN + 12], &[20, 0, 2, 0]);
    assert_eq!(&b[NLMSG_HDRLEN + 28..NLMSG_HDRLEN + 32], &[20, 0, 1, 0]);
    b.clear();
    put_del(&mut b, 3, a, 64, 6);
    assert_eq!(&b[..8], &[44, 0, 0, 0, 21, 0, 0x05, 0x00]);
}

#[test]
fn malformed_addresses_are_refused() {
    let mut p = vec![10, 64, 0, 0, 1, 0, 0, 0];
    wire::put_attr(&mut p, IFA_ADDRESS, &[0x20, 1]);
    assert_eq!(addr_fact(&p), None, "a 2-byte IPv6 address");
    let mut p = vec![10, 64, 0, 0, 1, 0, 0, 0];
    wire::put_attr(&mut p, IFA_ADDRESS, &[0; 16]);
    wire::put_attr(&mut p, IFA_CACHEINFO, &[0; 8]);
    assert_eq!(addr_fact(&p), None, "a short ifa_cacheinfo");
    for cut in 0..IFADDRMSG_LEN {
        assert_eq!(addr_fact(&p[..cut]), None);
        assert_eq!(addr4_fact(&p[..cut]), None);
    }
}
