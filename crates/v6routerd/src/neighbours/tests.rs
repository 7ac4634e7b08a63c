use super::*;

const A: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const B: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

#[test]
fn one_dump_answers_a_burst_and_misses_redump_only_after_redump() {
    let t0 = Instant::now();
    let mut n = Neighbours::default();
    assert_eq!(n.cached(3, A, t0), Lookup::Dump);
    n.refresh(3, vec![(A, MAC)], t0);
    assert_eq!(n.cached(3, A, t0), Lookup::Known(Some(MAC)));
    // An unknown source within REDUMP: no new dump (a flood costs one
    // dump per REDUMP, not one per datagram).
    assert_eq!(n.cached(3, B, t0 + REDUMP / 2), Lookup::Known(None));
    assert_eq!(n.cached(3, B, t0 + REDUMP), Lookup::Dump);
    // Other links have tables of their own.
    assert_eq!(n.cached(4, A, t0), Lookup::Dump);
    // A hit is trusted for FRESH, then asked again.
    assert_eq!(n.cached(3, A, t0 + FRESH / 2), Lookup::Known(Some(MAC)));
    assert_eq!(n.cached(3, A, t0 + FRESH), Lookup::Dump);
    assert_eq!(n.get(3, A), Some(MAC));
}
