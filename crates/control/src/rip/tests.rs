use super::*;

/// 2026-11-24 22:08:32.546 UTC.
const T: u64 = 1_795_558_112_546;

#[test]
fn time_format() {
    assert_eq!(format_since(T, T + 1000), "22:08:32.546");
    assert_eq!(format_since(T, T + 86_400_000), "2026-11-24");
    assert_eq!(format_since(0, 86_400_000 * 3), "1970-01-01");
}

/// Text captured from `birdc show route` (BIRD 2.0.12) with a RIP
/// route, a static unreachable one, a kernel one and a direct one.
#[test]
fn routes_like_birdc() {
    let rows = vec![
        RouteRow {
            prefix: "2001:db8:bb::/48".into(),
            kind: "unicast".into(),
            proto: "rip1".into(),
            since_ms: T,
            primary: true,
            preference: 120,
            metric: Some(2),
            via: Some("fe80::8871:68ff:fe3e:b61".into()),
            iface: Some("eth0".into()),
            tag: Some(0),
            kernel_refused: false,
        },
        RouteRow {
            prefix: "2001:db8:cd::/48".into(),
            kind: "unreachable".into(),
            proto: "kernel1".into(),
            since_ms: T,
            primary: true,
            preference: 10,
            ..Default::default()
        },
        RouteRow {
            prefix: "2001:db8:a::/64".into(),
            kind: "unicast".into(),
            proto: "direct1".into(),
            since_ms: T,
            primary: true,
            preference: 240,
            iface: Some("eth0".into()),
            ..Default::default()
        },
    ];
    let want = "Table master6:\n\
2001:db8:bb::/48     unicast [rip1 22:08:32.546] * (120/2)\n\
\tvia fe80::8871:68ff:fe3e:b61 on eth0\n\
2001:db8:cd::/48     unreachable [kernel1 22:08:32.546] * (10)\n\
2001:db8:a::/64      unicast [direct1 22:08:32.546] * (240)\n\
\tdev eth0\n";
    assert_eq!(routes_text(&rows, T + 5), want);
    // Local time, one hour east, and `all`'s attribute lines (birdc's
    // `show route all` for a RIP route).
    let east = routes_text_at(&rows[..1], T + 5, 3_600_000, true);
    assert_eq!(
        east,
        "Table master6:\n\
2001:db8:bb::/48     unicast [rip1 23:08:32.546] * (120/2)\n\
\tvia fe80::8871:68ff:fe3e:b61 on eth0\n\
\tType: RIP univ\n\
\trip_metric: 2\n\
\trip_tag: 0000\n"
    );
    assert!(routes_text_at(&rows[2..], T, 0, true).ends_with("\tdev eth0\n\tType: device univ\n"));
    assert_eq!(routes_text(&[], T), "Network not found\n");
    let v = serde_json::to_value(&rows).unwrap();
    assert!(render_routes(&v)
        .unwrap()
        .starts_with("Table master6:\n2001:db8:bb::/48     unicast [rip1 "));
    // The flag stays out of the JSON of a normal row.
    assert!(v[0].get("kernel_refused").is_none());
    // A route the kernel refused says so under its own lines.
    let mut refused = rows[0].clone();
    refused.kernel_refused = true;
    let text = routes_text(&[refused.clone()], T + 5);
    assert!(text.ends_with(
            "\tvia fe80::8871:68ff:fe3e:b61 on eth0\n\tnot in the kernel table: install refused, retrying\n"
        ));
    let back: RouteRow = serde_json::from_value(serde_json::to_value(&refused).unwrap()).unwrap();
    assert!(back.kernel_refused);
}

/// Captured from `birdc show protocols` (BIRD 2.0.12, in a namespace;
/// the banner line left out): a name longer than its column, a
/// protocol without a table, one down, no Info.
#[test]
fn protocols_like_birdc() {
    let captured = "Name       Proto      Table      State  Since         Info\n\
device1    Device     ---        up     01:38:21.996  \n\
kernel1    Kernel     master6    up     01:38:21.996  \n\
rip1       RIP        master6    up     01:38:21.996  \n\
rip_with_a_long_name RIP        master6    up     01:38:21.996  \n\
s2         Static     master6    down   01:38:21.996  \n";
    let p = |name: &str, proto: &str, table: &str, state: &str| crate::ProtocolInfo {
        name: name.into(),
        proto: proto.into(),
        table: table.into(),
        state: state.into(),
        since: "01:38:21.996".into(),
        info: String::new(),
        since_ms: None,
    };
    let list = [
        p("device1", "Device", "---", "up"),
        p("kernel1", "Kernel", "master6", "up"),
        p("rip1", "RIP", "master6", "up"),
        p("rip_with_a_long_name", "RIP", "master6", "up"),
        p("s2", "Static", "master6", "down"),
    ];
    assert_eq!(render_protocols(&list), captured);
    let mut down = p("rip1", "RIP", "master6", "down");
    down.info = "UDP 521: Address in use".into();
    assert!(render_protocols(&[down]).ends_with("down   01:38:21.996  UDP 521: Address in use\n"));
}

#[test]
fn neighbors_like_birdc() {
    let a = RipAnswer {
        protocol: "rip1".into(),
        rows: vec![NeighborRow {
            addr: "fe80::2486:70ff:fe20:34ca".into(),
            iface: "eth0".into(),
            metric: 1,
            routes: 6,
            seen_secs: 4.515,
            ..Default::default()
        }],
    };
    let want = "rip1:\n\
IP address                Interface  Metric Routes    Seen\n\
fe80::2486:70ff:fe20:34ca eth0            1      6   4.515\n";
    assert_eq!(neighbors_text(&a), want);
    let v = serde_json::to_value(&a).unwrap();
    assert_eq!(render_neighbors(&v).unwrap(), want);
}

#[test]
fn interfaces_like_birdc() {
    let a = RipAnswer {
        protocol: "rip1".into(),
        rows: vec![InterfaceRow {
            iface: "eth0".into(),
            state: "Up".into(),
            metric: 1,
            neighbors: 1,
            timer_secs: 3.197,
        }],
    };
    let want = "rip1:\n\
Interface  State  Metric   Nbrs   Timer\n\
eth0       Up          1      1   3.197\n";
    assert_eq!(interfaces_text(&a), want);
}
