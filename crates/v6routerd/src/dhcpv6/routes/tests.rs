use super::super::fixtures::{view, CFG};
use super::super::links::build_links;
use super::*;
use crate::service::UplinkFacts;
use std::path::Path;
use std::sync::Arc;
use v6common::kernel::RT_TABLE_MAIN;
use v6dhcp::engine::ServerConfig;
use v6dhcp::lease::{Lease, LeaseState};
use v6dhcp::wire::Duid;

fn r(dst: &str) -> RouteFact {
    crate::testkit::route(dst, Some("fe80::1"), rtprot::V6ROUTER)
}

#[test]
fn queue_keeps_order_and_merges_runs() {
    let mut q = RouteQueue::default();
    q.push(true, r("2001:db8:8:10::/60"));
    q.push(true, r("2001:db8:8:20::/60"));
    q.push(false, r("2001:db8:8:10::/60"));
    q.push(true, r("2001:db8:8:10::/60"));
    let g: Vec<(bool, usize)> = q.take().iter().map(|(a, v)| (*a, v.len())).collect();
    assert_eq!(g, vec![(true, 2), (false, 1), (true, 1)]);
    assert!(q.take().is_empty());
}

#[test]
fn refused_installs_retry_later_and_only_while_leased() {
    let t0 = Instant::now();
    let mut rt = Retries::default();
    rt.refused(
        vec![
            (r("2001:db8:8:10::/60"), 101),
            (r("2001:db8:8:20::/60"), 101),
        ],
        t0,
    );
    assert_eq!(rt.refused_total, 2);
    assert_eq!(rt.due(), Some(t0 + RETRY_AFTER));
    // Not yet due: nothing, and the wanted set is not even asked.
    assert!(rt.take_due(t0, |_| panic!("asked early")).is_empty());
    // Due: only what is still leased comes back (the :20 lease ended).
    let again = rt.take_due(t0 + RETRY_AFTER, |keys| {
        assert_eq!(keys.len(), 2);
        vec![r("2001:db8:8:10::/60")]
    });
    assert_eq!(again, vec![r("2001:db8:8:10::/60")]);
    assert_eq!(rt.due(), None);
}

#[test]
fn stale_routes_are_ours_in_a_pool_and_unleased() {
    let cfg = v6config::parse(CFG, Path::new("t.toml")).unwrap().config;
    let mut k = view();
    let (links, _, limits) = build_links(&cfg, &k, &UplinkFacts::default());
    let route = |dst: &str, proto: u8, oif: u32| RouteFact {
        dst: dst.parse().unwrap(),
        gateway: Some("fe80::1".parse().unwrap()),
        oif: Some(oif),
        protocol: proto,
        metric: 1024,
        table: RT_TABLE_MAIN,
        kind: v6common::RouteKind::Unicast,
    };
    let v6r = rtprot::V6ROUTER;
    k.routes = vec![
        route("2001:db8:8:10::/60", v6r, 3),            // stale
        route("2001:db8:8:20::/60", v6r, 3),            // leased below
        route("2001:db8:8:30::/60", rtprot::STATIC, 3), // not ours
        route("2001:db8:77::/48", v6r, 3),              // outside the pool (a tunnel's?)
        route("2001:db8:8:40::/60", v6r, 9),            // another interface
    ];
    let mut server = Server::new(
        ServerConfig {
            server_duid: Duid::new_ll(1, &[2, 0, 0, 0, 0, 1]),
            links: links.clone(),
            limits,
        },
        1,
    );
    server.restore([Lease {
        kind: LeaseKind::Prefix,
        prefix: "2001:db8:8:20::/60".parse().unwrap(),
        duid: Duid::new_ll(1, &[2, 0, 0, 0, 0, 2]),
        iaid: 1,
        link: Arc::from("lan0"),
        cltt: super::super::now().unix,
        preferred: 100,
        valid: 200,
        state: LeaseState::Bound,
        is_static: false,
        via: Some("fe80::1".parse().unwrap()),
        name: None,
        reconfigure: None,
    }]);
    let stale: Vec<String> = stale_pd_routes(&k.routes, &links, &server)
        .iter()
        .map(|r| r.dst.to_string())
        .collect();
    assert_eq!(stale, vec!["2001:db8:8:10::/60".to_string()]);
}
