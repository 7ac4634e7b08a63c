use super::*;
use v6common::AddrFact;

#[test]
fn link_address_is_ours_in_the_relayed_prefix_lan_first() {
    let (lan, wan) = (3, 2);
    let relayed: Vec<Ipv6Prefix> = vec!["2001:db8:ff::/64".parse().unwrap()];
    let mut k = KernelView::default();
    let at = |k: &KernelView| link_address(k, lan, wan, &relayed);
    // Nothing of ours in it yet (SLAAC on the WAN not done): ::.
    k.upsert_addr(AddrFact::permanent(
        wan,
        "2001:db8:1::1".parse().unwrap(),
        64,
    ));
    assert_eq!(at(&k), Ipv6Addr::UNSPECIFIED);
    k.upsert_addr(AddrFact::permanent(
        wan,
        "2001:db8:ff::2".parse().unwrap(),
        64,
    ));
    assert_eq!(at(&k), "2001:db8:ff::2".parse::<Ipv6Addr>().unwrap());
    k.upsert_addr(AddrFact::permanent(
        lan,
        "2001:db8:ff::1".parse().unwrap(),
        64,
    ));
    assert_eq!(at(&k), "2001:db8:ff::1".parse::<Ipv6Addr>().unwrap());
}
