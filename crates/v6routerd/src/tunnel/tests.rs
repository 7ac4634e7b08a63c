use super::*;

#[test]
fn config_becomes_specs_with_defaults() {
    let src = r#"
            [[tunnel]]
            name = "he6"
            remote = "198.51.100.1"
            local = "auto"
            wan = "eth0"
            address = "2001:db8:f::2/64"
            default_route = true

            [[tunnel]]
            name = "t2"
            remote = "198.51.100.2"
            local = "192.0.2.9"
            mtu = 1280
            routes = ["2001:db8:aa::/48"]
            keep_on_stop = true
        "#;
    let cfg = v6config::parse(src, std::path::Path::new("test.toml"))
        .expect("config parses")
        .config;
    let specs = specs_from(&cfg);
    assert_eq!(specs.len(), 2);
    assert_eq!(specs[0].local, LocalEndpoint::Auto { wan: "eth0".into() });
    assert_eq!(
        (specs[0].ttl, specs[0].mtu, specs[0].pmtudisc),
        (255, 1480, true)
    );
    assert_eq!(
        specs[0].address.map(|a| a.to_string()).as_deref(),
        Some("2001:db8:f::2/64")
    );
    assert_eq!(
        specs[1].local,
        LocalEndpoint::Fixed("192.0.2.9".parse().unwrap())
    );
    assert_eq!(specs[1].mtu, 1280);
    assert!(specs[1].keep_on_stop);
    assert_eq!(specs[1].wanted_routes().len(), 1);
}

fn spec() -> TunnelSpec {
    let mut s = TunnelSpec::new(
        "he6",
        "198.51.100.1".parse().unwrap(),
        LocalEndpoint::Auto { wan: "eth0".into() },
    );
    s.address = Some("2001:db8:f::2/64".parse().unwrap());
    s
}

fn link(up: bool) -> ObservedLink {
    ObservedLink {
        index: 7,
        name: "he6".into(),
        kind: Some("sit".into()),
        sit: Some(v6common::SitFact {
            remote: Some("198.51.100.1".parse().unwrap()),
            local: Some("192.0.2.2".parse().unwrap()),
            ttl: 255,
            pmtudisc: true,
            proto: v6tunnel::PROTO_IPV6,
        }),
        mtu: 1480,
        admin_up: up,
        running: up,
        alias: Some(OWNER_ALIAS.into()),
        addrs: vec![
            "fe80::c000:202/64".parse().unwrap(),
            "2001:db8:f::2/64".parse().unwrap(),
        ],
        routes: vec![
            ObservedRoute {
                dst: "fe80::/64".parse().unwrap(),
                metric: 256,
                protocol: rtprot::KERNEL,
            },
            ObservedRoute {
                dst: "::/0".parse().unwrap(),
                metric: 1024,
                protocol: rtprot::V6ROUTER,
            },
        ],
    }
}

#[test]
fn status_states_and_what_is_shown() {
    let mut last = Observed::default();
    let mut history = BTreeMap::new();
    let mut waiting = BTreeMap::new();
    // No link, no WAN address: waiting, with the reason as last change.
    waiting.insert("he6".to_string(), "no IPv4 address on eth0 yet".to_string());
    let st = status_of(&[spec()], &last, &history, &waiting);
    assert_eq!(
        (st[0].state.as_str(), st[0].local.as_deref()),
        ("waiting", None)
    );
    assert_eq!(st[0].last_change, "waiting: no IPv4 address on eth0 yet");
    // No link, nothing to wait for: missing.
    waiting.clear();
    assert_eq!(
        status_of(&[spec()], &last, &history, &waiting)[0].state,
        "missing"
    );
    // Up: the kernel's values, no link-local address or route.
    last.links.insert("he6".into(), link(true));
    history.insert("he6".to_string(), (5, "created (not present)".to_string()));
    let st = status_of(&[spec()], &last, &history, &waiting);
    let t = &st[0];
    assert_eq!(
        (t.state.as_str(), t.index, t.local.as_deref()),
        ("up", Some(7), Some("192.0.2.2"))
    );
    assert_eq!(t.local_source, "auto from eth0");
    assert_eq!(t.addresses, ["2001:db8:f::2/64"]);
    assert_eq!(t.routes, ["::/0 metric 1024 proto v6router"]);
    assert_eq!(
        (t.since, t.last_change.as_str(), t.ours),
        (Some(5), "created (not present)", true)
    );
    last.links.insert("he6".into(), link(false));
    assert_eq!(
        status_of(&[spec()], &last, &history, &waiting)[0].state,
        "down"
    );
}

fn view_with_tunnel() -> KernelView {
    let mut v = KernelView::default();
    let l = link(true);
    let sit = LinkFact {
        index: l.index,
        name: l.name.clone(),
        mtu: l.mtu,
        admin_up: true,
        running: true,
        kind: l.kind.clone(),
        alias: l.alias.clone(),
        sit: l.sit,
        ..LinkFact::default()
    };
    let wan = LinkFact {
        index: 2,
        name: "eth0".into(),
        kind: Some("veth".into()),
        ..LinkFact::default()
    };
    let other = LinkFact {
        index: 3,
        name: "lan0".into(),
        ..LinkFact::default()
    };
    for f in [sit, wan, other] {
        v.links.insert(f.index, f);
    }
    for a in &l.addrs {
        v.addrs
            .push(v6common::AddrFact::permanent(7, a.addr, a.prefix_len));
    }
    let v4 = |addr: &str, secondary| v6common::kernel::Addr4Fact {
        index: 2,
        addr: addr.parse().unwrap(),
        prefix_len: 24,
        secondary,
    };
    v.addrs4 = vec![v4("192.0.2.9", true), v4("192.0.2.2", false)];
    for r in &l.routes {
        v.routes.push(tunnel_route(7, r.dst, r.metric, r.protocol));
    }
    // A route on another link is not the tunnel's.
    v.routes.push(tunnel_route(
        3,
        "2001:db8:1::/64".parse().unwrap(),
        256,
        rtprot::KERNEL,
    ));
    v
}

#[test]
fn the_view_is_observed_as_the_kernel_dumps_showed_it() {
    let o = observe(&view_with_tunnel(), &[spec()]);
    assert_eq!(o.links.len(), 1, "only the tunnel's link: {o:?}");
    assert_eq!(o.link("he6"), Some(&link(true)));
    // Primary first, as the kernel uses it as the source.
    let primary_first: Vec<Ipv4Addr> =
        vec!["192.0.2.2".parse().unwrap(), "192.0.2.9".parse().unwrap()];
    assert_eq!(o.wan_ipv4.get("eth0"), Some(&primary_first));
    // A WAN that does not exist has no entry (reconcile waits for it).
    let mut v = view_with_tunnel();
    v.links.remove(&2);
    assert!(observe(&v, &[spec()]).wan_ipv4.is_empty());
    // A link of ours no tunnel names any more is observed (to delete it).
    assert!(observe(&view_with_tunnel(), &[]).link("he6").is_some());
}

#[test]
fn invalid_tunnels_are_left_out() {
    let src = r#"
            [[tunnel]]
            name = "sit0"
            remote = "198.51.100.1"
            local = "192.0.2.2"

            [[tunnel]]
            name = "ok6"
            remote = "198.51.100.1"
            local = "192.0.2.2"
        "#;
    let cfg = v6config::parse(src, std::path::Path::new("test.toml"))
        .expect("config parses")
        .config;
    let specs = specs_from(&cfg);
    assert_eq!(
        specs.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["ok6"]
    );
}
