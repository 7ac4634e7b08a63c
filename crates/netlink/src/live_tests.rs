/// The glue against the running kernel (no privilege needed for the
/// dump; the refusal is ENODEV as root, EPERM otherwise).
#[tokio::test(flavor = "current_thread")]
async fn dumps_the_loopback_and_names_a_refusal() {
    let (k, _events) = crate::open().expect("netlink sockets");
    let v = k.dump().await.expect("dump");
    assert!(v.links.values().any(|l| l.name == "lo" && l.mtu > 0));
    assert_eq!(k.links().await.expect("links").len(), v.links.len());
    let e = k.del_link(0x7fff_fff0).await.expect_err("no such link");
    assert!(matches!(e.errno(), Some(libc::ENODEV | libc::EPERM)), "{e}");
    assert!(e.to_string().starts_with("delete link 2147483632: "), "{e}");
    // The socket still answers after a refusal.
    assert!(k.dump().await.is_ok());
}

/// The event socket's filter against the running kernel, in a network
/// namespace of this test's own (root and `ip` only; skipped
/// otherwise): with `drop_routes_via(Some(p))` the notification of a
/// route of protocol p via a gateway never arrives, one of p without a
/// gateway and one of another protocol via a gateway do; with `None`
/// it arrives again.
#[test]
fn the_event_filter_drops_routes_via_a_gateway_of_one_protocol() {
    use v6common::{KernelEvent, RouteFact, RouteKind};
    std::thread::spawn(|| {
        // SAFETY: unshare(2) moves only this thread to a new netns.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            eprintln!("skipped: unshare(CLONE_NEWNET) needs root");
            return;
        }
        // `ip` runs in this thread's namespace (a child inherits it).
        let ip = |args: &[&str]| {
            std::process::Command::new("ip")
                .args(args)
                .status()
                .is_ok_and(|s| s.success())
        };
        if !ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v1"]) {
            eprintln!("skipped: no veth link");
            return;
        }
        assert!(ip(&["link", "set", "v0", "up"]) && ip(&["link", "set", "v1", "up"]));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let (k, mut events) = crate::open().expect("netlink sockets");
            let v0 = k
                .links()
                .await
                .expect("links")
                .into_iter()
                .find(|l| l.name == "v0")
                .expect("v0")
                .index;
            let r = |i: u16, via: bool, protocol: u8| RouteFact {
                dst: format!("2001:db8:{i:x}::/64").parse().unwrap(),
                gateway: via.then(|| "fe80::1".parse().unwrap()),
                oif: Some(v0),
                protocol,
                metric: 1024,
                table: 0,
                kind: if via {
                    RouteKind::Unicast
                } else {
                    RouteKind::Unreachable
                },
            };
            let p = 201;
            k.drop_routes_via(Some(p)).expect("filter");
            // Many requests in one datagram: their notifications still
            // come one to a datagram.
            let first = [r(1, true, p), r(2, false, p), r(3, true, 4)];
            assert!(k.sync_routes(&first, &[]).await.is_empty());
            assert!(k.sync_routes(&[], &first[..1]).await.is_empty());
            k.drop_routes_via(None).expect("filter off");
            k.add_route(&r(4, true, p), false).await.expect("route 4");
            let mut seen = Vec::new();
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
            while !seen.contains(&(true, 4)) {
                let ev = tokio::time::timeout_at(deadline, events.recv())
                    .await
                    .expect("route 4's notification")
                    .expect("events");
                match ev {
                    KernelEvent::NewRoute(f) if f.dst.len() == 64 => {
                        seen.push((true, f.dst.addr().segments()[2]))
                    }
                    KernelEvent::DelRoute(f) if f.dst.len() == 64 => {
                        seen.push((false, f.dst.addr().segments()[2]))
                    }
                    _ => {}
                }
            }
            assert_eq!(seen, vec![(true, 2), (true, 3), (true, 4)]);
        });
    })
    .join()
    .expect("netns thread");
}

/// Requests in a network namespace of this test's own (root only;
/// skipped otherwise): link up, address, batched routes with one
/// refusal, and the view that follows.
#[test]
fn requests_in_a_fresh_netns() {
    use v6common::{RouteFact, RouteKind};
    std::thread::spawn(|| {
        // SAFETY: unshare(2) moves only this thread to a new netns.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            eprintln!("skipped: unshare(CLONE_NEWNET) needs root");
            return;
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let (k, _events) = crate::open().expect("netlink sockets");
            k.set_link_up(1).await.expect("lo up");
            let a: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
            k.set_address(1, a, 128, 100, 200).await.expect("address");
            let r = |dst: &str| RouteFact {
                dst: dst.parse().unwrap(),
                gateway: None,
                oif: Some(1),
                protocol: v6common::kernel::rtprot::STATIC,
                metric: 1024,
                table: 0,
                kind: RouteKind::Unreachable,
            };
            let add: Vec<_> = (0..300)
                .map(|i| r(&format!("2001:db8:{i:x}::/48")))
                .collect();
            let missing = r("2001:db8:ffff::/48");
            let failed = k.sync_routes(&add, std::slice::from_ref(&missing)).await;
            assert_eq!(failed.len(), 1, "{failed:?}");
            assert_eq!(failed[0].0, missing);
            assert_eq!(failed[0].1.errno(), Some(libc::ESRCH));
            let v = k.dump().await.expect("dump");
            assert!(v.links.get(&1).is_some_and(|l| l.admin_up));
            let got = v.addrs.iter().find(|f| f.addr == a);
            assert!(got.is_some_and(|f| f.valid_lft <= 200), "{:?}", v.addrs);
            assert_eq!(v.routes.iter().filter(|r| r.dst.len() == 48).count(), 300);
            let e = k.add_route(&add[0], false).await.expect_err("exists");
            assert!(crate::sit::is_exists(&e), "{e}");
            k.del_route(&add[0]).await.expect("del");
            let e = k.del_address(1, a, 128).await;
            assert!(e.is_ok(), "{e:?}");
        });
    })
    .join()
    .expect("netns thread");
}
