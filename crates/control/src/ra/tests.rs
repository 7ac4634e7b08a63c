use super::*;

fn sample() -> RaInterfaceStatus {
    RaInterfaceStatus {
        name: "eth1".into(),
        index: Some(3),
        state: "advertising".into(),
        managed: true,
        preference: "medium".into(),
        cur_hop_limit: 64,
        mtu: Some(1280),
        min_interval_ms: 99_000,
        max_interval_ms: 300_000,
        router_lifetime: 900,
        configured_router_lifetime: 900,
        forwarding: true,
        next_ra_ms: Some(241_500),
        last_ra_ms: Some(3_000),
        initial_left: 2,
        counters: RaCounters {
            ra_sent_multicast: 11,
            ra_sent_unicast: 1,
            rs_received: 3,
            ..Default::default()
        },
        prefixes: vec![
            RaPrefixStatus {
                prefix: "2001:db8:1::/64".into(),
                on_link: true,
                autonomous: true,
                valid_lifetime: 86400,
                preferred_lifetime: 14400,
                state: "advertised".into(),
                source: "config".into(),
            },
            RaPrefixStatus {
                prefix: "2001:db8:2::/64".into(),
                on_link: true,
                autonomous: true,
                valid_lifetime: 7000,
                preferred_lifetime: 0,
                state: "deprecated".into(),
                source: "history".into(),
            },
        ],
        rdnss: vec!["2001:db8:1::53".into()],
        dns_lifetime: 900,
        ..Default::default()
    }
}

#[test]
fn invalid_messages_are_shown_by_reason() {
    let mut st = sample();
    st.counters.rx_invalid = 4;
    st.counters.rx_invalid_by_reason = vec![
        crate::dhcpv6::Counter {
            name: "option-overrun".into(),
            count: 3,
        },
        crate::dhcpv6::Counter {
            name: "truncated".into(),
            count: 1,
        },
    ];
    let out = render(&serde_json::to_value(vec![st]).unwrap()).unwrap();
    assert!(
        out.contains(", 4 invalid\n  Invalid:    3 option-overrun, 1 truncated\n"),
        "{out}"
    );
    // Without invalid messages there is no such line.
    let out = render(&serde_json::to_value(vec![sample()]).unwrap()).unwrap();
    assert!(!out.contains("Invalid:"), "{out}");
}

#[test]
fn renders_table_and_details() {
    let v = serde_json::to_value(vec![sample()]).unwrap();
    let out = render(&v).unwrap();
    let expected = "\
Interface State       Flags Lifetime MTU  Interval Next RA RA sent RS recv
eth1      advertising M     900      1280 99-300   4m 2s   12      3

eth1:
  Router:     lifetime 900 s, preference medium, hop limit 64, reachable 0 ms, retrans 0 ms
  Intervals:  min 99 s, max 300 s, next RA in 4m 2s (2 initial left), last 3s ago
  Sent:       11 multicast, 1 unicast (0 solicited, 0 final), 0 errors
  Received:   3 RS, 0 RA from other routers (0 inconsistent), 0 invalid
  RDNSS:      2001:db8:1::53 (lifetime 900)
  Prefix          Flags Valid Preferred State      Source
  2001:db8:1::/64 LA    86400 14400     advertised config
  2001:db8:2::/64 LA    7000  0         deprecated history
";
    assert_eq!(out, expected);
}

#[test]
fn forwarding_off_and_empty() {
    let mut s = sample();
    s.forwarding = false;
    s.router_lifetime = 0;
    let out = render_status(&[s]);
    assert!(
        out.contains("lifetime 0 s (configured 900, IPv6 forwarding is off)"),
        "{out}"
    );
    assert_eq!(
        render_status(&[]),
        "No interface sends router advertisements\n"
    );
    assert!(render(&serde_json::json!({"x": 1})).is_err());
}
