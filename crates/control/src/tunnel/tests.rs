use super::*;

#[test]
fn utc_dates() {
    // Expected values from `date -u -d @N`.
    assert_eq!(utc(0), "1970-01-01 00:00:00");
    assert_eq!(utc(951_782_400), "2000-02-29 00:00:00");
    assert_eq!(utc(1_795_992_603), "2026-11-29 22:50:03");
}

#[test]
fn renders_a_tunnel() {
    let t = TunnelStatus {
        name: "he6".into(),
        state: "up".into(),
        index: Some(7),
        local: Some("192.0.2.2".into()),
        local_source: "auto from eth0".into(),
        remote: "198.51.100.1".into(),
        ttl: 255,
        mtu: 1480,
        pmtudisc: true,
        addresses: vec!["2001:db8:f::2/64".into()],
        routes: vec!["::/0 metric 1024 proto v6router".into()],
        since: Some(0),
        last_change: "created (not present)".into(),
        ours: true,
        keep_on_stop: false,
        broker_update: None,
    };
    let v = serde_json::to_value(vec![t]).unwrap();
    let s = render(&v).unwrap();
    assert_eq!(
        s,
        "Name State Local     Remote       TTL MTU  Since               Last change\n\
             he6  up    192.0.2.2 198.51.100.1 255 1480 1970-01-01 00:00:00 created (not present)\n\
             \n\
             he6:\n  Options:   local auto from eth0, pmtudisc, created by v6routerd\n\
             \x20 Addresses: 2001:db8:f::2/64\n\
             \x20 Routes:    ::/0 metric 1024 proto v6router\n"
    );
    assert_eq!(
        render(&serde_json::json!([])).unwrap(),
        "No tunnels configured\n"
    );
    assert!(render(&serde_json::json!({"x": 1})).is_err());
}
