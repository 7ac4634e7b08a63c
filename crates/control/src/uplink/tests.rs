use super::*;

#[test]
fn renders_uplink_and_assignments() {
    let s = UplinkStatus {
        uplinks: vec![UplinkInfo {
            name: "wan0".into(),
            state: "bound".into(),
            server_duid: Some("00:03:00:01:02:00:00:00:00:99".into()),
            server_addr: Some("fe80::1".into()),
            prefixes: vec![LeaseInfo {
                prefix: "2001:db8:100::/56".into(),
                preferred_left: 20,
                valid_left: 40,
            }],
            t1_in: Some(10),
            t2_in: Some(16),
            ..Default::default()
        }],
        ula: Some("fd12:3456:789a::/48".into()),
        assignments: vec![Assignment {
            iface: "lan0".into(),
            address: "2001:db8:100:1::1/64".into(),
            from: "2001:db8:100::/56".into(),
            preferred_left: Some(20),
            valid_left: Some(40),
            stale: false,
        }],
    };
    let t = render(&serde_json::to_value(&s).unwrap()).unwrap();
    assert!(t.contains("wan0 bound\n"), "{t}");
    assert!(
        t.contains("\tDelegated 2001:db8:100::/56 preferred 20s valid 40s\n"),
        "{t}"
    );
    assert!(
        t.contains("lan0      2001:db8:100:1::1/64 2001:db8:100::/56 20s       40s   active"),
        "{t}"
    );
}
