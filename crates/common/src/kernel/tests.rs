use super::*;

#[test]
fn own_dns_address_prefers_a_usable_ula() {
    let a = |s: &str| AddrFact::permanent(3, s.parse().unwrap(), 64);
    let mut v = KernelView::default();
    assert_eq!(v.own_dns_address(3), None);
    v.addrs.push(a("fe80::1"));
    assert_eq!(v.own_dns_address(3), None, "never the link-local");
    v.addrs.push(a("2001:db8:1::1"));
    assert_eq!(v.own_dns_address(3), Some("2001:db8:1::1".parse().unwrap()));
    v.addrs.push(AddrFact {
        tentative: true,
        ..a("fd00:db8::1")
    });
    assert_eq!(v.own_dns_address(3), Some("2001:db8:1::1".parse().unwrap()));
    v.addrs.push(AddrFact {
        deprecated: true,
        ..a("fd00:db8::2")
    });
    v.addrs.push(a("fd00:db8::3"));
    v.addrs
        .push(AddrFact::permanent(4, "fd00:db8::4".parse().unwrap(), 64));
    assert_eq!(v.own_dns_address(3), Some("fd00:db8::3".parse().unwrap()));
}

/// IPv4 addresses (a tunnel's `local = "auto"`): primary ones first, an
/// event that changes nothing says so, a deleted link takes its own.
#[test]
fn ipv4_addresses_follow_events() {
    let mut v = KernelView::default();
    let a = |addr: &str, secondary| Addr4Fact {
        index: 2,
        addr: addr.parse().unwrap(),
        prefix_len: 24,
        secondary,
    };
    assert!(v.apply(&KernelEvent::NewAddr4(a("192.0.2.9", true))));
    assert!(v.apply(&KernelEvent::NewAddr4(a("192.0.2.2", false))));
    assert!(!v.apply(&KernelEvent::NewAddr4(a("192.0.2.2", false))));
    assert_eq!(
        v.addrs4_of(2),
        vec![
            "192.0.2.2".parse::<Ipv4Addr>().unwrap(),
            "192.0.2.9".parse().unwrap()
        ]
    );
    let del = KernelEvent::DelAddr4 {
        index: 2,
        addr: "192.0.2.2".parse().unwrap(),
    };
    assert!(v.apply(&del));
    assert!(!v.apply(&del));
    v.remove_link(2);
    assert!(v.addrs4.is_empty());
}

#[test]
fn interface_name_patterns() {
    assert!(ifname_matches("eth*", "eth0"));
    assert!(ifname_matches("*", "anything"));
    assert!(ifname_matches("e*0", "eth0"));
    assert!(!ifname_matches("eth*", "lan0"));
    assert!(ifname_matches("lan0", "lan0"));
    assert!(!ifname_matches("lan0", "lan01"));
}

fn addr(index: u32, a: &str, tentative: bool) -> AddrFact {
    AddrFact {
        tentative,
        ..AddrFact::permanent(index, a.parse().unwrap(), 64)
    }
}

fn route(dst: &str, metric: u32) -> RouteFact {
    RouteFact {
        dst: dst.parse().unwrap(),
        gateway: None,
        oif: Some(2),
        protocol: 4,
        metric,
        table: RT_TABLE_MAIN,
        kind: RouteKind::Unicast,
    }
}

#[test]
fn route_index_follows_upserts_removals_and_direct_edits() {
    let mut v = KernelView::default();
    for i in 0..100u32 {
        v.upsert_route(route(&format!("2001:db8:{i:x}::/48"), 1024));
    }
    v.upsert_route(route("2001:db8:5::/48", 1024)); // same key: replaced
    assert_eq!(v.routes.len(), 100);
    v.remove_route(&route("2001:db8:0::/48", 1024)); // swap_remove moves the last
    assert_eq!(v.routes.len(), 99);
    assert!(v.find_route(&route("2001:db8:63::/48", 1024)).is_some());
    assert!(v.find_route(&route("2001:db8:0::/48", 1024)).is_none());
    // A different metric is a different route.
    assert!(v.find_route(&route("2001:db8:7::/48", 1)).is_none());
    // Edited directly, then used again: the index is rebuilt.
    v.routes.push(route("2001:db8:ff00::/48", 1024));
    v.upsert_route(route("2001:db8:ff00::/48", 1024));
    assert_eq!(v.routes.len(), 100);
    // Order does not matter for equality.
    let mut w = KernelView::default();
    for r in v.routes.iter().rev() {
        w.upsert_route(r.clone());
    }
    assert_eq!(v, w);
    w.remove_route(&route("2001:db8:9::/48", 1024));
    assert_ne!(v, w);
}

#[test]
fn route_index_agrees_with_a_search_through_churn() {
    // Adds and removals in a scrambled order, the first, middle and last
    // positions included: every route found by the index is the one a
    // plain search finds, and every removed one is gone.
    let mut v = KernelView::default();
    let r = |i: u32| route(&format!("2001:db8:{:x}::/48", i % 97), 1000 + i / 97);
    for step in 0..2000u32 {
        let i = step.wrapping_mul(2_654_435_761) % 500;
        if step % 3 == 2 {
            v.remove_route(&r(i));
            assert!(v.find_route(&r(i)).is_none());
        } else {
            v.upsert_route(r(i));
        }
    }
    for i in 0..500 {
        let by_search = v.routes.iter().find(|x| **x == r(i));
        assert_eq!(v.find_route(&r(i)), by_search, "route {i}");
    }
    assert!(!v.routes.is_empty());
}

#[test]
fn link_local_skips_tentative() {
    let mut v = KernelView::default();
    v.upsert_addr(addr(2, "fe80::1", true));
    assert_eq!(v.link_local(2), None);
    v.upsert_addr(addr(2, "fe80::1", false));
    assert_eq!(v.addrs.len(), 1);
    assert_eq!(v.link_local(2), Some("fe80::1".parse().unwrap()));
    v.upsert_addr(addr(2, "2001:db8::1", false));
    assert_eq!(v.globals(2).count(), 1);
    // A tentative global counts (its prefix is advertised during DAD).
    v.upsert_addr(addr(2, "2001:db8:1::1", true));
    assert_eq!(v.globals(2).count(), 2);
    v.remove_link(2);
    assert!(v.addrs.is_empty());
}
