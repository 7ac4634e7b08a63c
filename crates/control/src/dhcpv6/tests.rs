use super::*;

#[test]
fn leases_table() {
    let l = Leases {
        leases: vec![
            LeaseRow {
                lease: "2001:db8:1::1000".into(),
                kind: "address".into(),
                duid: "00:01:00:01:11:f9:4b:5a:08:00:27:c5:40:c7".into(),
                iaid: 0x27c540c7,
                interface: "lan0".into(),
                expires: 0,
                remaining: 7199,
                state: "bound".into(),
                is_static: false,
                via: None,
                name: Some("laptop".into()),
            },
            LeaseRow {
                lease: "2001:db8:8:10::/60".into(),
                kind: "prefix".into(),
                duid: "00:03:00:01:02:00:00:00:00:01".into(),
                iaid: 1,
                interface: "lan0".into(),
                expires: 0,
                remaining: 59,
                state: "bound".into(),
                is_static: true,
                via: Some("fe80::1".into()),
                name: None,
            },
        ],
        next: None,
    };
    let v = serde_json::to_value(&l).unwrap();
    let t = render_leases(&v).unwrap();
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(
        lines[0],
        "Lease              Kind    Interface Name   IAID     Expires   Binding DUID"
    );
    assert_eq!(
            lines[1],
            "2001:db8:1::1000   address lan0      laptop 27c540c7 in 1h 59m dynamic 00:01:00:01:11:f9:4b:5a:08:00:27:c5:40:c7"
        );
    assert_eq!(lines[2], "2001:db8:8:10::/60 prefix  lan0      -      00000001 in 59s    static  00:03:00:01:02:00:00:00:00:01");
    assert!(v["leases"][0]["name"] == "laptop" && v["leases"][1].get("name").is_none());
    assert_eq!(
        render_leases(&serde_json::to_value(Leases::default()).unwrap()).unwrap(),
        "No leases\n"
    );
}

#[test]
fn lease_filters() {
    let row = |lease: &str, iface: &str, duid: &str, name: Option<&str>| LeaseRow {
        lease: lease.into(),
        interface: iface.into(),
        duid: duid.into(),
        name: name.map(Into::into),
        ..Default::default()
    };
    let a = row("2001:db8:1::1000", "lan0", "00:01:AB", Some("Laptop"));
    let p = row("2001:db8:8:10::/60", "lan1", "00:03:cd", None);
    let f = |i: Option<&str>, d: Option<&str>, ad: Option<&str>, n: Option<&str>| LeaseFilter {
        interface: i.map(Into::into),
        duid: d.map(Into::into),
        address: ad.map(Into::into),
        name: n.map(Into::into),
    };
    let all = f(None, None, None, None);
    assert!(all.matches(&a) && all.matches(&p));
    assert!(f(Some("lan0"), None, None, None).matches(&a));
    assert!(!f(Some("lan0"), None, None, None).matches(&p));
    assert!(f(None, Some("0001ab"), None, None).matches(&a));
    assert!(!f(None, Some("0001ab"), None, None).matches(&p));
    assert!(f(None, None, None, Some("laptop")).matches(&a));
    assert!(!f(None, None, None, Some("laptop")).matches(&p));
    assert!(f(None, None, Some("2001:db8:1::1000"), None).matches(&a));
    assert!(!f(None, None, Some("2001:db8:1::1001"), None).matches(&a));
    // An address inside a delegated prefix finds the prefix.
    assert!(f(None, None, Some("2001:db8:8:1f::1"), None).matches(&p));
    assert!(!f(None, None, Some("2001:db8:8:20::1"), None).matches(&p));
    // All given fields must match.
    assert!(!f(Some("lan1"), Some("0001ab"), None, None).matches(&a));
    assert!(f(None, None, Some("nope"), None).check().is_err());
    assert!(f(None, None, Some("2001:db8::1"), None).check().is_ok());
}

#[test]
fn stats_text_shows_only_nonzero() {
    let s = Dhcpv6Stats {
        server_duid: "00:01".into(),
        interfaces: vec!["lan0 (3)".into()],
        addresses: 2,
        prefixes: 1,
        received: vec![
            Counter {
                name: "SOLICIT".into(),
                count: 3,
            },
            Counter {
                name: "RENEW".into(),
                count: 0,
            },
        ],
        sent: vec![Counter {
            name: "ADVERTISE".into(),
            count: 3,
        }],
        drops: vec![Counter {
            name: "no-client-id".into(),
            count: 1,
        }],
        use_multicast: 0,
        bad_client_fqdn: 0,
        reconfigures_pending: 0,
        reconfigures_unanswered: 0,
        journal: JournalStats::default(),
    };
    let t = render_stats(&serde_json::to_value(&s).unwrap()).unwrap();
    assert!(t.contains("Leases: 2 addresses, 1 prefixes"));
    assert!(t.contains("SOLICIT   3        0\n"), "{t}");
    assert!(t.contains("ADVERTISE 0        3\n"), "{t}");
    assert!(!t.contains("RENEW"));
    assert!(t.contains("no-client-id 1"));
    assert!(render_stats(&serde_json::json!({"bogus": 1})).is_err());
}
