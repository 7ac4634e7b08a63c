use super::*;

#[test]
fn issue_config_becomes_params() {
    let src = r#"
            [[interface]]
            name = "eth1"
            [interface.ra]
            managed = true
            mtu = 1280
            max_interval = 300
            dns = ["2001:db8:1::53", "uplink", "self", "2001:db8:1::53"]
            search = ["home.arpa"]
            [[interface.ra.prefix]]
            prefix = "2001:470:d:407::/64"
            on_link = true
            autonomous = true
            [[interface.ra.route]]
            prefix = "2001:db8:8::/48"
            preference = "high"
        "#;
    let cfg = v6config::parse(src, Path::new("t.toml"))
        .expect("parses")
        .config;
    let (p, problems) = params_from(
        cfg.interfaces[0].ra.as_ref().unwrap(),
        &["2001:db8:ff::53".parse().unwrap()],
        Some("fd00:db8::1".parse().unwrap()),
    );
    assert!(p.managed && !p.other_config);
    assert_eq!(p.mtu, Some(1280));
    assert_eq!(p.max_interval, Duration::from_secs(300));
    assert_eq!(p.min_interval, Duration::from_secs(99));
    assert_eq!(p.router_lifetime, 900);
    assert_eq!(p.prefixes.len(), 1);
    assert_eq!(p.prefixes[0].prefix.to_string(), "2001:470:d:407::/64");
    assert_eq!(
        (
            p.prefixes[0].valid_lifetime,
            p.prefixes[0].preferred_lifetime
        ),
        (5400, 2700)
    );
    assert!(p.require_default_route && p.home_routes);
    assert_eq!(p.routes[0].lifetime, 900);
    assert_eq!(p.routes[0].preference, RouterPreference::High);
    // "uplink" stands for the DNS servers the ISP gave, "self" for the
    // router's own address; each server once.
    assert_eq!(
        p.rdnss,
        vec![
            "2001:db8:1::53".parse::<Ipv6Addr>().unwrap(),
            "2001:db8:ff::53".parse().unwrap(),
            "fd00:db8::1".parse().unwrap()
        ]
    );
    assert_eq!(p.dns_lifetime, 900);
    assert!(problems.is_empty(), "{problems:?}");
}

#[test]
fn history_file_round_trip() {
    let dir = std::env::temp_dir().join(format!("v6ra-hist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = history_path(&dir, "eth1");
    let h = PrefixHistory {
        prefixes: vec![v6ra::engine::HistoryEntry {
            prefix: "2001:db8:1::/64".parse().unwrap(),
            on_link: true,
            autonomous: true,
            stale: false,
            valid_until: Some(1_800_000_000),
        }],
    };
    save_history(&path, &h);
    assert_eq!(load_history(&path), Some(h));
    std::fs::write(&path, "not json").unwrap();
    assert_eq!(load_history(&path), None);
    let _ = std::fs::remove_dir_all(&dir);
}
