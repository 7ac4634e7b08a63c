//! Reconcile tests: each difference between configuration and kernel gives
//! its action, and applying the actions converges to only `Keep`.

use super::*;
use crate::observed::{ObservedRoute, OWNER_ALIAS};

const REMOTE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const LOCAL: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

fn he6() -> TunnelSpec {
    let mut s = TunnelSpec::new("he6", REMOTE, LocalEndpoint::Fixed(LOCAL));
    s.address = Some("2001:db8:f::2/64".parse().unwrap());
    s.default_route = true;
    s
}

fn auto_he6() -> TunnelSpec {
    let mut s = he6();
    s.local = LocalEndpoint::Auto { wan: "eth0".into() };
    s
}

fn p(s: &str) -> Ipv6Prefix {
    s.parse().unwrap()
}

/// The plan for `he6()` when the only link is `good_link(true)` changed by
/// `edit`, and nothing is remembered.
fn plan_after(edit: impl FnOnce(&mut ObservedLink)) -> Vec<Action> {
    let mut l = good_link(true);
    edit(&mut l);
    plan_for(l)
}

/// The plan for `he6()` when `l` is the only link and nothing is remembered.
fn plan_for(l: ObservedLink) -> Vec<Action> {
    reconcile(&[he6()], &with(vec![l]), &Memory::default())
}

fn wait(reason: &str) -> Action {
    Action::Wait {
        name: "he6".into(),
        reason: reason.into(),
    }
}

/// What `he6()` asks the kernel to create.
fn he6_link() -> SitLink {
    SitLink {
        name: "he6".into(),
        remote: REMOTE,
        local: LOCAL,
        ttl: 255,
        pmtudisc: true,
        mtu: 1480,
    }
}

fn add_addr(a: &str) -> Action {
    Action::AddAddress {
        name: "he6".into(),
        addr: a.parse().unwrap(),
    }
}

fn del_addr(a: &str) -> Action {
    Action::DelAddress {
        name: "he6".into(),
        addr: a.parse().unwrap(),
    }
}

/// Our route (metric 1024, protocol v6router) through he6.
fn add_route(dst: &str) -> Action {
    Action::AddRoute {
        name: "he6".into(),
        dst: p(dst),
        metric: 1024,
        protocol: rtprot::V6ROUTER,
    }
}

fn del_route(dst: &str) -> Action {
    Action::DelRoute {
        name: "he6".into(),
        dst: p(dst),
        metric: 1024,
        protocol: rtprot::V6ROUTER,
    }
}

/// The link `ip tunnel add he6 mode sit remote .. local .. ttl 255`,
/// set up, with the address and default route, as v6routerd leaves it.
fn good_link(ours: bool) -> ObservedLink {
    ObservedLink {
        index: 7,
        name: "he6".into(),
        kind: Some("sit".into()),
        sit: Some(SitParams {
            remote: Some(REMOTE),
            local: Some(LOCAL),
            ttl: 255,
            pmtudisc: true,
            proto: PROTO_IPV6,
        }),
        mtu: 1480,
        admin_up: true,
        running: true,
        alias: ours.then(|| OWNER_ALIAS.to_string()),
        addrs: vec![
            "fe80::c000:202/64".parse().unwrap(),
            "2001:db8:f::2/64".parse().unwrap(),
        ],
        routes: vec![
            ObservedRoute {
                dst: p("2001:db8:f::/64"),
                metric: 256,
                protocol: rtprot::KERNEL,
            },
            ObservedRoute {
                dst: p("::/0"),
                metric: 1024,
                protocol: rtprot::V6ROUTER,
            },
        ],
    }
}

fn with(links: Vec<ObservedLink>) -> Observed {
    let mut o = Observed::default();
    for l in links {
        o.links.insert(l.name.clone(), l);
    }
    o
}

/// A toy kernel: applies actions to an `Observed` the way Linux would.
fn apply(o: &mut Observed, a: &Action) {
    match a {
        Action::Create { link, .. } | Action::Recreate { link, .. } => {
            let index = o.links.values().map(|l| l.index).max().unwrap_or(10) + 1;
            o.links.insert(
                link.name.clone(),
                ObservedLink {
                    index,
                    name: link.name.clone(),
                    kind: Some("sit".into()),
                    sit: Some(SitParams {
                        remote: Some(link.remote),
                        local: Some(link.local),
                        ttl: link.ttl,
                        pmtudisc: link.pmtudisc,
                        proto: PROTO_IPV6,
                    }),
                    mtu: link.mtu,
                    admin_up: false,
                    running: false,
                    alias: Some(OWNER_ALIAS.into()),
                    addrs: vec![],
                    routes: vec![],
                },
            );
        }
        Action::Delete { name, .. } => {
            o.links.remove(name);
        }
        Action::SetMtu { name, mtu, .. } => o.links.get_mut(name).unwrap().mtu = *mtu,
        Action::SetUp { name } => o.links.get_mut(name).unwrap().admin_up = true,
        Action::AddAddress { name, addr } => o.links.get_mut(name).unwrap().addrs.push(*addr),
        Action::DelAddress { name, addr } => {
            o.links.get_mut(name).unwrap().addrs.retain(|x| x != addr)
        }
        Action::AddRoute {
            name,
            dst,
            metric,
            protocol,
        } => o.links.get_mut(name).unwrap().routes.push(ObservedRoute {
            dst: *dst,
            metric: *metric,
            protocol: *protocol,
        }),
        Action::DelRoute {
            name, dst, metric, ..
        } => o
            .links
            .get_mut(name)
            .unwrap()
            .routes
            .retain(|r| !(r.dst == *dst && r.metric == *metric)),
        Action::Keep { .. } | Action::Wait { .. } => {}
    }
}

/// Apply a plan and check that a second pass only keeps.
fn converge(desired: &[TunnelSpec], o: &mut Observed, m: &mut Memory) {
    let plan = reconcile(desired, o, m);
    for a in &plan {
        apply(o, a);
        m.record(a);
    }
    let again = reconcile(desired, o, m);
    assert!(
        again.iter().all(|a| !a.changes_kernel()),
        "not converged: {again:?}"
    );
}

#[test]
fn missing_tunnel_is_created_then_set_up_addressed_and_routed() {
    let plan = reconcile(&[he6()], &Observed::default(), &Memory::default());
    let want = he6_link();
    assert_eq!(
        plan,
        vec![
            Action::Create {
                link: want,
                reason: "not present".into()
            },
            Action::SetUp { name: "he6".into() },
            add_addr("2001:db8:f::2/64"),
            add_route("::/0"),
        ]
    );
    let mut o = Observed::default();
    converge(&[he6()], &mut o, &mut Memory::default());
    assert!(o.links["he6"].is_ours());
}

#[test]
fn matching_tunnel_is_kept_untouched() {
    let plan = reconcile(&[he6()], &with(vec![good_link(false)]), &Memory::default());
    assert_eq!(plan, vec![Action::Keep { name: "he6".into() }]);
}

#[test]
fn each_parameter_difference_recreates_with_its_reason() {
    type Change = fn(&mut SitParams);
    let cases: Vec<(Change, &str)> = vec![
        (
            |s| s.remote = Some(Ipv4Addr::new(198, 51, 100, 9)),
            "remote is 198.51.100.9, want 198.51.100.1",
        ),
        (|s| s.local = None, "local is any, want 192.0.2.2"),
        (|s| s.ttl = 64, "ttl is 64, want 255"),
        (|s| s.ttl = 0, "ttl is inherit, want 255"),
        (|s| s.pmtudisc = false, "nopmtudisc, want pmtudisc"),
        (
            |s| s.proto = PROTO_ANY,
            "mode is any, want ip6ip (mode sit)",
        ),
    ];
    for (change, reason) in cases {
        let mut l = good_link(false);
        change(l.sit.as_mut().unwrap());
        let plan = plan_for(l);
        match &plan[0] {
            Action::Recreate {
                index: 7,
                reason: r,
                ..
            } => assert_eq!(r, reason),
            other => panic!("expected a re-create for {reason}, got {other:?}"),
        }
        // After a re-create the link is bare: up, address, routes follow.
        assert_eq!(plan[1], Action::SetUp { name: "he6".into() });
        assert!(matches!(plan[2], Action::AddAddress { .. }));
        assert!(matches!(plan[3], Action::AddRoute { .. }));
    }
}

#[test]
fn several_differences_are_all_named() {
    let mut l = good_link(false);
    l.sit = Some(SitParams {
        remote: Some(Ipv4Addr::new(198, 51, 100, 9)),
        local: Some(LOCAL),
        ttl: 64,
        pmtudisc: true,
        proto: 41,
    });
    let plan = plan_for(l);
    assert!(matches!(&plan[0], Action::Recreate { reason, .. }
        if reason == "remote is 198.51.100.9, want 198.51.100.1; ttl is 64, want 255"));
}

#[test]
fn missing_sit_data_recreates() {
    let plan = plan_after(|l| l.sit = None);
    assert!(
        matches!(&plan[0], Action::Recreate { reason, .. } if reason.contains("no SIT parameters"))
    );
}

#[test]
fn down_tunnel_is_set_up_without_recreate() {
    let plan = plan_after(|l| l.admin_up = false);
    assert_eq!(
        plan,
        vec![
            Action::Keep { name: "he6".into() },
            Action::SetUp { name: "he6".into() }
        ]
    );
}

#[test]
fn mtu_difference_is_fixed_in_place() {
    let mut l = good_link(true);
    l.mtu = 1500;
    let mut s = he6();
    s.mtu = 1280;
    let plan = reconcile(&[s], &with(vec![l]), &Memory::default());
    assert_eq!(
        plan,
        vec![
            Action::Keep { name: "he6".into() },
            Action::SetMtu {
                name: "he6".into(),
                mtu: 1280,
                was: 1500
            }
        ]
    );
}

#[test]
fn lost_address_and_route_are_put_back() {
    let plan = plan_after(|l| {
        l.addrs.retain(|a| a.addr.segments()[0] == 0xfe80);
        l.routes.clear();
    });
    assert_eq!(plan.len(), 3);
    assert!(matches!(plan[1], Action::AddAddress { .. }));
    assert!(matches!(
        plan[2],
        Action::AddRoute {
            metric: 1024,
            protocol: rtprot::V6ROUTER,
            ..
        }
    ));
}

#[test]
fn a_route_of_another_metric_does_not_count() {
    let plan = plan_after(|l| {
        l.routes = vec![ObservedRoute {
            dst: p("::/0"),
            metric: 512,
            protocol: rtprot::BOOT,
        }];
    });
    // Ours is added; the one someone else made stays.
    assert_eq!(plan.len(), 2);
    assert!(matches!(plan[1], Action::AddRoute { metric: 1024, .. }));
}

#[test]
fn address_with_other_length_is_replaced() {
    let plan = plan_after(|l| l.addrs = vec!["2001:db8:f::2/128".parse().unwrap()]);
    assert_eq!(
        &plan[1..],
        &[del_addr("2001:db8:f::2/128"), add_addr("2001:db8:f::2/64"),]
    );
}

#[test]
fn config_change_removes_our_old_address_and_routes_only() {
    let mut o = Observed::default();
    let mut m = Memory::default();
    let mut s = he6();
    s.routes = vec![p("2001:db8:aa::/48")];
    converge(&[s.clone()], &mut o, &mut m);
    // Someone else adds an address and a route of their own.
    let l = o.links.get_mut("he6").unwrap();
    l.addrs.push("2001:db8:ff::9/64".parse().unwrap());
    l.routes.push(ObservedRoute {
        dst: p("2001:db8:bb::/48"),
        metric: 1024,
        protocol: rtprot::BOOT,
    });
    // New config: another address, no default route, no extra route.
    s.address = Some("2001:db8:e::2/64".parse().unwrap());
    s.default_route = false;
    s.routes.clear();
    let plan = reconcile(&[s.clone()], &o, &m);
    assert_eq!(
        plan,
        vec![
            Action::Keep { name: "he6".into() },
            add_addr("2001:db8:e::2/64"),
            del_addr("2001:db8:f::2/64"),
            del_route("::/0"),
            del_route("2001:db8:aa::/48"),
        ]
    );
    converge(&[s], &mut o, &mut m);
    let l = &o.links["he6"];
    assert!(l.addrs.contains(&"2001:db8:ff::9/64".parse().unwrap()));
    assert!(l.routes.iter().any(|r| r.dst == p("2001:db8:bb::/48")));
}

#[test]
fn auto_local_follows_the_wan_address() {
    let mut o = Observed::default();
    let mut m = Memory::default();
    o.wan_ipv4
        .insert("eth0".into(), vec![LOCAL, Ipv4Addr::new(192, 0, 2, 99)]);
    converge(&[auto_he6()], &mut o, &mut m);
    assert_eq!(
        o.links["he6"].sit.unwrap().local,
        Some(LOCAL),
        "the primary (first) address is used"
    );
    // The ISP hands out a new address.
    o.wan_ipv4
        .insert("eth0".into(), vec![Ipv4Addr::new(192, 0, 2, 7)]);
    let plan = reconcile(&[auto_he6()], &o, &m);
    assert!(matches!(&plan[0], Action::Recreate { link, reason, .. }
        if link.local == Ipv4Addr::new(192, 0, 2, 7)
        && reason == "local is 192.0.2.2, want 192.0.2.7 (the address of eth0)"));
    converge(&[auto_he6()], &mut o, &mut m);
}

#[test]
fn auto_local_without_wan_address_waits() {
    let mut o = Observed::default();
    let plan = reconcile(&[auto_he6()], &o, &Memory::default());
    assert_eq!(plan, vec![wait("WAN interface eth0 does not exist")]);
    o.wan_ipv4.insert("eth0".into(), vec![]);
    let plan = reconcile(&[auto_he6()], &o, &Memory::default());
    assert_eq!(plan, vec![wait("no IPv4 address on eth0 yet")]);
}

#[test]
fn existing_tunnel_survives_a_wan_address_gap_and_stays_repaired() {
    let mut l = good_link(true);
    l.admin_up = false;
    let mut o = with(vec![l]);
    o.wan_ipv4.insert("eth0".into(), vec![]);
    let plan = reconcile(&[auto_he6()], &o, &Memory::default());
    assert_eq!(
        plan,
        vec![
            wait("no IPv4 address on eth0 yet"),
            Action::SetUp { name: "he6".into() },
        ]
    );
}

#[test]
fn foreign_link_of_the_same_name_is_left_alone() {
    let mut l = good_link(false);
    l.kind = Some("veth".into());
    l.sit = None;
    let plan = plan_for(l);
    assert_eq!(plan.len(), 1);
    assert!(
        matches!(&plan[0], Action::Wait { reason, .. } if reason.contains("veth link named he6"))
    );
    assert!(stop(&[he6()], &with(vec![]), &Memory::default()).is_empty());
}

#[test]
fn tunnel_of_ours_dropped_from_config_is_deleted_but_not_foreign_ones() {
    let mut ours = good_link(true);
    ours.name = "old6".into();
    ours.index = 9;
    let mut foreign = good_link(false);
    foreign.name = "manual6".into();
    let plan = reconcile(&[], &with(vec![ours, foreign]), &Memory::default());
    assert_eq!(
        plan,
        vec![Action::Delete {
            name: "old6".into(),
            index: 9,
            reason: "no longer in the configuration".into()
        }]
    );
}

#[test]
fn renamed_tunnel_old_one_is_deleted_before_the_new_one_is_made() {
    let mut o = with(vec![good_link(true)]);
    let mut m = Memory::default();
    let mut s = he6();
    s.name = "he7".into();
    let plan = reconcile(&[s.clone()], &o, &m);
    assert_eq!(
        plan[0],
        Action::Delete {
            name: "he6".into(),
            index: 7,
            reason: "no longer in the configuration".into()
        }
    );
    assert!(matches!(&plan[1], Action::Create { link, .. } if link.name == "he7"));
    converge(&[s], &mut o, &mut m);
    assert!(!o.links.contains_key("he6"));
}

#[test]
fn stop_deletes_ours_unless_kept() {
    let o = with(vec![good_link(true)]);
    assert_eq!(
        stop(&[he6()], &o, &Memory::default()),
        vec![Action::Delete {
            name: "he6".into(),
            index: 7,
            reason: "v6routerd is stopping".into()
        }]
    );
    let mut keep = he6();
    keep.keep_on_stop = true;
    assert!(stop(&[keep], &o, &Memory::default()).is_empty());
}

#[test]
fn stop_on_an_adopted_tunnel_takes_back_only_our_routes_and_addresses() {
    // A tunnel made by hand, which we kept and completed.
    let mut l = good_link(false);
    l.addrs.retain(|a| a.addr.segments()[0] == 0xfe80);
    l.routes.retain(|r| r.protocol != rtprot::V6ROUTER);
    let mut o = with(vec![l]);
    let mut m = Memory::default();
    converge(&[he6()], &mut o, &mut m);
    assert!(!o.links["he6"].is_ours());
    let plan = stop(&[he6()], &o, &m);
    assert_eq!(plan, vec![del_route("::/0"), del_addr("2001:db8:f::2/64"),]);
}

#[test]
fn memory_forgets_addresses_of_a_recreated_link() {
    let mut m = Memory::default();
    let addr: TunnelAddress = "2001:db8:f::2/64".parse().unwrap();
    m.record(&Action::AddAddress {
        name: "he6".into(),
        addr,
    });
    assert_eq!(m.added("he6").count(), 1);
    m.record(&Action::Recreate {
        index: 1,
        link: he6_link(),
        reason: String::new(),
    });
    assert_eq!(m.added("he6").count(), 0);
}

#[test]
fn actions_read_like_log_lines() {
    let plan = reconcile(&[he6()], &Observed::default(), &Memory::default());
    let lines: Vec<String> = plan.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        lines,
        [
            "he6: create sit remote 198.51.100.1 local 192.0.2.2 ttl 255 mtu 1480 (not present)",
            "he6: set up",
            "he6: add address 2001:db8:f::2/64",
            "he6: add route ::/0 metric 1024 proto v6router",
        ]
    );
}
