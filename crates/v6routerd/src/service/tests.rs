use super::*;

#[test]
fn dns_entries_resolve_to_addresses_once_each() {
    let a = |s: &str| s.parse::<Ipv6Addr>().unwrap();
    let dns: Vec<String> = ["self", "2001:db8::53", "uplink", "fd00:db8::1", "nonsense"]
        .map(String::from)
        .to_vec();
    let uplink = [a("2001:db8:ff::53"), a("2001:db8::53")];
    assert_eq!(
        resolve_dns(&dns, &uplink, Some(a("fd00:db8::1"))),
        [a("fd00:db8::1"), a("2001:db8::53"), a("2001:db8:ff::53")]
    );
    // No address of our own yet: "self" names nothing (no bogus server).
    assert_eq!(
        resolve_dns(&dns[..1], &uplink, None),
        Vec::<Ipv6Addr>::new()
    );
}

fn row(state: &str, info: &str) -> ProtocolInfo {
    ProtocolInfo {
        name: "ra".into(),
        state: state.into(),
        info: info.into(),
        ..Default::default()
    }
}

/// BIRD's Since: the time of the last state change, not of the last
/// update of the row.
#[test]
fn since_is_when_the_state_last_changed() {
    let a = with_since(None, Some(row("start", "")), 1_000).unwrap();
    assert_eq!(a.since_ms, Some(1_000));
    let b = with_since(Some(&a), Some(row("start", "1 of 2")), 2_000).unwrap();
    assert_eq!(b.since_ms, Some(1_000), "same state, other info");
    let c = with_since(Some(&b), Some(row("up", "2 of 2")), 3_000).unwrap();
    assert_eq!(c.since_ms, Some(3_000), "state changed");
    let mut own = row("up", "");
    own.since_ms = Some(42);
    assert_eq!(
        with_since(Some(&c), Some(own), 4_000).unwrap().since_ms,
        Some(42)
    );
    assert!(with_since(Some(&c), None, 5_000).is_none());
}
