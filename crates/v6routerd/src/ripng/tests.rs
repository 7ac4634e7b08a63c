use super::*;
use crate::rt_show::{kernel_rows, kernel_rows_keys, FirstSeen, Selection};
use std::net::Ipv6Addr;
use v6common::{AddrFact, LinkFact, RouteKind};
use v6control::rip::{DIRECT_NAME, KERNEL_NAME};

/// `show route` as the supervisor assembles it, with RIPng's rows.
fn route_rows(
    kv: &KernelView,
    fs: &FirstSeen,
    engine: Option<&Engine>,
    target: Option<&str>,
    protocol: Option<&str>,
) -> Result<Vec<RouteRow>, String> {
    let sel = Selection::parse(target, protocol)?;
    let mut rows = kernel_rows(kv, fs);
    if let Some(e) = engine {
        rows.extend(rip_rows(e, kv));
    }
    Ok(sel.select(rows))
}

fn view() -> KernelView {
    let mut kv = KernelView::default();
    for (i, n) in [(2, "eth0"), (3, "lan0")] {
        kv.links.insert(
            i,
            LinkFact {
                index: i,
                name: n.into(),
                lladdr: None,
                mtu: 1500,
                admin_up: true,
                running: true,
                kind: None,
                ..Default::default()
            },
        );
    }
    let addr = |index, a: &str, len| AddrFact::permanent(index, a.parse().unwrap(), len);
    kv.addrs.push(addr(2, "fe80::1", 64));
    kv.addrs.push(addr(3, "2001:db8:1::1", 64));
    let route = |dst: &str, protocol, kind| RouteFact {
        dst: dst.parse().unwrap(),
        gateway: None,
        oif: Some(3),
        protocol,
        metric: 1024,
        table: v6common::kernel::RT_TABLE_MAIN,
        kind,
    };
    kv.routes.push(route(
        "2001:db8:5::/48",
        rtprot::STATIC,
        RouteKind::Unreachable,
    ));
    kv.routes
        .push(route("2001:db8:1::/64", rtprot::KERNEL, RouteKind::Unicast));
    kv.routes
        .push(route("fe80::/64", rtprot::KERNEL, RouteKind::Unicast));
    kv
}

/// An engine on eth0 that learned 2001:db8:bb::/48 from fe80::b.
fn engine(kv: &KernelView) -> Engine {
    let cfg = engine::Config {
        interfaces: vec![IfaceConfig {
            name: "eth0".into(),
            cost: 1,
        }],
        ..engine::Config::default()
    };
    let mut e = Engine::new(cfg, 1);
    let now = Instant::now();
    e.set_kernel(now, kv);
    hear_bb(&mut e, now);
    e
}

/// fe80::b on eth0 (ifindex 2) announces 2001:db8:bb::/48 at metric 1.
fn hear_bb(e: &mut Engine, now: Instant) -> Vec<Action> {
    let pkt = v6ripng::wire::Repr {
        command: v6ripng::wire::Command::Response,
        rtes: vec![v6ripng::wire::RawRte {
            prefix: "2001:db8:bb::".parse().unwrap(),
            tag: 0,
            prefix_len: 48,
            metric: 1,
        }],
    }
    .to_bytes();
    let rx = Received {
        src: "fe80::b".parse().unwrap(),
        src_port: 521,
        ifindex: 2,
        hop_limit: Some(255),
        payload: &pkt,
    };
    e.handle_packet(now, rx).unwrap()
}

#[test]
fn show_route_sources_selection_and_errors() {
    let kv = view();
    let e = engine(&kv);
    let mut fs = FirstSeen::default();
    // Seen times survive an update that keeps the route, new ones get
    // the update's time, gone ones go.
    fs.update(kernel_rows_keys(&kv), 1_000);
    fs.update(kernel_rows_keys(&kv), 2_000);
    assert_eq!(
        fs.get("2001:db8:5::/48".parse().unwrap(), KERNEL_NAME),
        Some(1_000)
    );
    assert_eq!(
        fs.get("2001:db8:5::/48".parse().unwrap(), DIRECT_NAME),
        None
    );
    fs.update(
        vec![("2001:db8:9::/48".parse().unwrap(), KERNEL_NAME)],
        3_000,
    );
    assert_eq!(
        fs.get("2001:db8:5::/48".parse().unwrap(), KERNEL_NAME),
        None
    );
    assert_eq!(
        fs.get("2001:db8:9::/48".parse().unwrap(), KERNEL_NAME),
        Some(3_000)
    );
    fs.update(kernel_rows_keys(&kv), 4_000);
    let all = route_rows(&kv, &fs, Some(&e), None, None).unwrap();
    let got: Vec<(&str, &str, &str, bool)> = all
        .iter()
        .map(|r| {
            (
                r.prefix.as_str(),
                r.proto.as_str(),
                r.kind.as_str(),
                r.primary,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("2001:db8:1::/64", "direct1", "unicast", true),
            ("2001:db8:5::/48", "kernel1", "unreachable", true),
            ("2001:db8:bb::/48", "rip1", "unicast", true),
        ]
    );
    let rip = &all[2];
    assert_eq!((rip.preference, rip.metric), (120, Some(2)));
    assert_eq!(rip.via.as_deref(), Some("fe80::b"));
    assert_eq!(rip.iface.as_deref(), Some("eth0"));
    // `for`: the longest prefix covering the address or prefix.
    let f = route_rows(&kv, &fs, Some(&e), Some("2001:db8:bb:1::9"), None).unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].prefix, "2001:db8:bb::/48");
    let f = route_rows(&kv, &fs, Some(&e), Some("2001:db8:5:7::/64"), None).unwrap();
    assert_eq!(f[0].prefix, "2001:db8:5::/48");
    assert!(route_rows(&kv, &fs, Some(&e), Some("2001:db8:99::1"), None)
        .unwrap()
        .is_empty());
    // `protocol`.
    let p = route_rows(&kv, &fs, Some(&e), None, Some("kernel1")).unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].proto, "kernel1");
    assert!(route_rows(&kv, &fs, Some(&e), None, Some("ospf1")).is_err());
    assert!(route_rows(&kv, &fs, Some(&e), Some("nonsense"), None).is_err());
    // Without RIPng: the kernel and connected routes still show.
    assert_eq!(route_rows(&kv, &fs, None, None, None).unwrap().len(), 2);
}

#[test]
fn config_maps_to_engine() {
    let toml = r#"
[ripng]
interfaces = ["eth*"]
metric = 2
update_time = 5
timeout_time = 15
garbage_time = 10
poison_reverse = false
route_limit = 500
export = { connected = true, connected_interfaces = ["br-lan"], kernel = true, filter = ["2001:db8::/32"] }
"#;
    let c = match v6config::parse(toml, std::path::Path::new("t.toml")) {
        Ok(l) => l.config,
        Err(d) => panic!("{d}"),
    };
    let e = engine_config(c.ripng.as_ref().unwrap());
    assert_eq!(e.interfaces[0].cost, 2);
    assert_eq!(e.update_interval, Duration::from_secs(5));
    assert_eq!(e.timeout, Duration::from_secs(15));
    assert!(!e.poisoned_reverse && e.split_horizon);
    assert_eq!(e.import.limit, Some(500));
    assert_eq!(
        e.export.connected,
        vec!["br-lan".to_string(), "eth*".to_string()]
    );
    assert!(e.export.prefixes[0].matches(&"2001:db8:5::/48".parse().unwrap()));
    assert!(!e.export.prefixes[0].matches(&"2001:db9::/48".parse().unwrap()));
    // The pacing defaults (RFC-neutral, measured against BIRD).
    assert_eq!(e.pace_gap, Duration::from_millis(5));
    assert_eq!(e.pace_burst, 8);
}

#[test]
fn bad_interface_settings_and_pacing_are_refused() {
    for (toml, key) in [
        (
            "[ripng]\n[[ripng.interface]]\nname = \"eth0\"\nmetric = 16\n",
            "ripng.interface[0].metric",
        ),
        (
            "[ripng]\n[[ripng.interface]]\nname = \"\"\n",
            "ripng.interface[0].name",
        ),
        (
            "[ripng]\ninterfaces = [\"eth0\"]\ntx_burst = 0\n",
            "ripng.tx_burst",
        ),
        (
            "[ripng]\ninterfaces = [\"eth0\"]\ntx_gap_us = 2000000\n",
            "ripng.tx_gap_us",
        ),
        ("[ripng]\n", "ripng.interfaces"),
    ] {
        match v6config::parse(toml, std::path::Path::new("t.toml")) {
            Ok(_) => panic!("accepted: {toml}"),
            Err(d) => assert!(format!("{d}").contains(key), "{toml}: {d}"),
        }
    }
    // Only `[[ripng.interface]]` is enough to run.
    let ok = "[ripng]\n[[ripng.interface]]\nname = \"eth0\"\n";
    assert!(v6config::parse(ok, std::path::Path::new("t.toml")).is_ok());
}

/// `[[ripng.interface]] metric` (BIRD's `interface "eth0" { metric 3; }`)
/// is what a route received there costs: a route heard on eth0 at
/// metric 1 leaves on lan0 at 4, and on eth0 poisoned (§2.5).
#[test]
fn interface_metric_from_the_config_shows_in_what_we_send() {
    let toml = r#"
[ripng]
interfaces = ["lan0"]
tx_gap_us = 500
tx_burst = 4
[[ripng.interface]]
name = "eth0"
metric = 3
"#;
    let c = match v6config::parse(toml, std::path::Path::new("t.toml")) {
        Ok(l) => l.config,
        Err(d) => panic!("{d}"),
    };
    let cfg = engine_config(c.ripng.as_ref().unwrap());
    assert_eq!(
        (cfg.pace_gap, cfg.pace_burst),
        (Duration::from_micros(500), 4)
    );
    let mut kv = view();
    kv.upsert_addr(AddrFact {
        addr: "fe80::3".parse().unwrap(),
        ..kv.addrs[0].clone()
    });
    kv.addrs.last_mut().unwrap().index = 3;
    let mut e = Engine::new(cfg, 1);
    let now = Instant::now();
    e.set_kernel(now, &kv);
    let costs: Vec<(String, u8)> = e.interfaces().map(|i| (i.name.clone(), i.cost)).collect();
    assert_eq!(costs, [("eth0".to_string(), 3), ("lan0".to_string(), 1)]);
    let acts = hear_bb(&mut e, now);
    let sent_metric = |ifindex: u32| {
        acts.iter().find_map(|a| match a {
            Action::Send {
                bytes, ifindex: i, ..
            } if *i == ifindex => {
                let r = v6ripng::wire::Repr::parse_bytes(bytes).ok()?;
                r.rtes
                    .iter()
                    .find(|t| {
                        t.prefix_len == 48
                            && t.prefix == "2001:db8:bb::".parse::<Ipv6Addr>().unwrap()
                    })
                    .map(|t| t.metric)
            }
            _ => None,
        })
    };
    assert_eq!(sent_metric(3), Some(4));
    assert_eq!(sent_metric(2), Some(16));
}
