//! Advertiser tests with virtual time: the RFC 4861 §6.2 timers, RS
//! answers, prefix renumbering (RFC 9096) and RA splitting.

use super::*;
use crate::wire::{parse_ra, NdOption};

const LL: &str = "fe80::1";

fn p64(s: &str) -> Ipv6Prefix {
    s.parse().unwrap()
}

/// The issue's radvd.conf: M on, MTU 1280, Max 300, 2001:db8:1::/64 L+A.
fn issue_params() -> Params {
    let mut p = Params::with_max_interval(Duration::from_secs(300));
    p.managed = true;
    p.mtu = Some(1280);
    p.prefixes.push(PrefixParams {
        prefix: p64("2001:db8:1::/64"),
        on_link: true,
        autonomous: true,
        valid_lifetime: 86400,
        preferred_lifetime: 14400,
    });
    p
}

fn up_link() -> LinkInput {
    LinkInput {
        usable: true,
        lladdr: Some(vec![2, 0, 0, 0, 0, 1]),
        link_local: Some(LL.parse().unwrap()),
        mtu: 1500,
        addrs: vec![],
        forwarding: true,
        default_route: false,
        home_prefixes: vec![],
    }
}

fn sends(actions: &[Action]) -> Vec<RouterAdvertisement> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendMulticast(b) | Action::SendUnicast { bytes: b, .. } => {
                Some(parse_ra(b, LL.parse().unwrap()).unwrap())
            }
            _ => None,
        })
        .collect()
}

/// Run timers from `from` until `until`, collecting (time, action).
fn run(a: &mut Advertiser, until: Instant) -> Vec<(Instant, Action)> {
    let mut out = Vec::new();
    while let Some(t) = a.next_timer() {
        if t > until {
            break;
        }
        for act in a.on_timer(t) {
            out.push((t, act));
        }
    }
    out
}

fn multicast_times(v: &[(Instant, Action)]) -> Vec<Instant> {
    v.iter()
        .filter(|(_, a)| matches!(a, Action::SendMulticast(_)))
        .map(|(t, _)| *t)
        .collect()
}

/// RFC 4861 §6.2.3: what does not fit one RA goes out as several, each
/// within the link MTU, together carrying every option once; SLLA and
/// MTU ride in each.
#[test]
fn too_many_options_for_the_mtu_are_split_over_several_ras() {
    let t0 = Instant::now();
    let mut p = issue_params();
    p.routes = (0..250u16)
        .map(|i| RouteParams {
            prefix: Ipv6Prefix::new(Ipv6Addr::new(0x2001, 0xdb8, 0x100, i, 0, 0, 0, 0), 64),
            preference: RouterPreference::Medium,
            lifetime: 1800,
        })
        .collect();
    let mut a = Advertiser::new(t0, p, 7);
    a.update_link(t0, up_link());
    let out = run(&mut a, t0 + Duration::from_secs(1));
    let msgs: Vec<Vec<u8>> = out
        .iter()
        .filter_map(|(_, x)| match x {
            Action::SendMulticast(b) => Some(b.clone()),
            _ => None,
        })
        .collect();
    assert!(
        msgs.len() >= 3,
        "150 routes of 24 bytes need 3 RAs: {}",
        msgs.len()
    );
    let mut routes = std::collections::BTreeSet::new();
    let mut prefixes = 0;
    for b in &msgs {
        assert!(b.len() + 40 <= 1500, "part of {} bytes", b.len());
        let ra = parse_ra(b, LL.parse().unwrap()).unwrap();
        assert_eq!(ra.mtu(), Some(1280), "MTU option in every part");
        assert!(ra
            .options
            .iter()
            .any(|o| matches!(o, NdOption::SourceLinkLayerAddress(_))));
        assert!(ra.managed, "header fields in every part");
        prefixes += ra.prefixes().count();
        for o in &ra.options {
            if let NdOption::RouteInformation(r) = o {
                assert!(routes.insert(r.prefix), "route {} twice", r.prefix);
            }
        }
    }
    assert_eq!(routes.len(), 250);
    assert_eq!(prefixes, 1, "the prefix once");
    assert!(
        !out.iter().any(|(_, x)| matches!(x, Action::Log { .. })),
        "nothing to warn about: {out:?}"
    );
    // A small RA stays one message.
    let (parts, oversized) = Advertiser::new(t0, issue_params(), 1)
        .encode_parts(t0, false)
        .unwrap();
    assert_eq!((parts.len(), oversized), (1, false));
}

fn started(seed: u64) -> (Instant, Advertiser) {
    let t0 = Instant::now();
    let mut a = Advertiser::new(t0, issue_params(), seed);
    a.update_link(t0, up_link());
    (t0, a)
}

#[test]
fn defaults_follow_rfc_and_radvd() {
    let p = Params::with_max_interval(Duration::from_secs(600));
    assert_eq!(p.min_interval, Duration::from_secs(198));
    assert_eq!(p.router_lifetime, 1800);
    let p = Params::with_max_interval(Duration::from_secs(4));
    assert_eq!(p.min_interval, Duration::from_secs(4));
    assert_eq!(
        Params::default_router_lifetime(Duration::from_secs(1800)),
        5400
    );
    assert_eq!(
        Params::default_router_lifetime(Duration::from_secs(4000)),
        9000
    );
}

#[test]
fn first_ra_at_once_then_fast_then_slow() {
    for seed in 0..50 {
        let (t0, mut a) = started(seed);
        assert_eq!(a.next_timer(), Some(t0));
        let v = run(&mut a, t0 + Duration::from_secs(3600));
        let times = multicast_times(&v);
        assert_eq!(times[0], t0);
        // §6.2.4: the intervals after the first 3 RAs are at most 16 s,
        // the rest in [Min, Max] = [99, 300].
        for w in times.windows(2).take(3) {
            let d = w[1] - w[0];
            assert!(
                d >= Duration::from_secs(3) && d <= MAX_INITIAL_RTR_ADVERT_INTERVAL,
                "{d:?}"
            );
        }
        for w in times.windows(2).skip(3) {
            let d = w[1] - w[0];
            assert!(
                d >= Duration::from_secs(99) && d <= Duration::from_secs(300),
                "seed {seed}: {d:?}"
            );
        }
        assert!(times.len() >= 4 + 3000 / 300);
        let ra = sends(&[v[0].1.clone()]).remove(0);
        assert!(ra.managed);
        assert_eq!(ra.mtu(), Some(1280));
        assert_eq!(ra.router_lifetime, 900);
        assert_eq!(ra.source_lladdr(), Some(&[2, 0, 0, 0, 0, 1][..]));
        let pi = ra.prefixes().next().unwrap();
        assert_eq!(
            (
                pi.valid_lifetime,
                pi.preferred_lifetime,
                pi.on_link,
                pi.autonomous
            ),
            (86400, 14400, true, true)
        );
    }
}

#[test]
fn intervals_are_random_and_cover_the_range() {
    let (t0, mut a) = started(7);
    let v = run(&mut a, t0 + Duration::from_secs(300 * 400));
    let times = multicast_times(&v);
    let gaps: Vec<Duration> = times.windows(2).skip(3).map(|w| w[1] - w[0]).collect();
    let lo = gaps.iter().min().unwrap();
    let hi = gaps.iter().max().unwrap();
    assert!(
        *lo < Duration::from_secs(120) && *hi > Duration::from_secs(280),
        "{lo:?} {hi:?}"
    );
}

#[test]
fn no_ra_without_link_local_or_link() {
    let t0 = Instant::now();
    let mut a = Advertiser::new(t0, issue_params(), 1);
    assert_eq!(a.next_timer(), None);
    let mut l = up_link();
    l.link_local = None;
    a.update_link(t0, l);
    assert_eq!(a.state(), AdvState::NoLinkLocal);
    assert_eq!(a.next_timer(), None);
    a.update_link(t0 + Duration::from_secs(2), up_link());
    assert_eq!(a.next_timer(), Some(t0 + Duration::from_secs(2)));
}

#[test]
fn link_down_stops_and_link_up_restarts_fast() {
    let (t0, mut a) = started(3);
    run(&mut a, t0 + Duration::from_secs(100));
    let down = t0 + Duration::from_secs(100);
    let mut l = up_link();
    l.usable = false;
    a.update_link(down, l);
    assert_eq!(a.state(), AdvState::LinkDown);
    assert!(multicast_times(&run(&mut a, down + Duration::from_secs(1000))).is_empty());
    let up = down + Duration::from_secs(1000);
    a.update_link(up, up_link());
    // First RA at once on link up, then fast ones again.
    let v = run(&mut a, up + Duration::from_secs(60));
    let times = multicast_times(&v);
    assert_eq!(times[0], up);
    assert!(times.len() >= 4, "{}", times.len());
}

#[test]
fn without_a_default_route_the_router_lifetime_is_zero_when_required() {
    // Off (radvd): the default route does not matter.
    let (t0, mut a) = started(5);
    let first = sends(&a.on_timer(t0));
    assert_eq!(first[0].router_lifetime, 900);
    // On (RFC 7084 G-4): none yet, so lifetime 0 from the first RA.
    let mut p = issue_params();
    p.require_default_route = true;
    let t0 = Instant::now();
    let mut a = Advertiser::new(t0, p, 5);
    a.update_link(t0, up_link());
    let ras = sends(&a.on_timer(t0));
    assert_eq!(ras[0].router_lifetime, 0);
    assert_eq!(a.status(t0).router_lifetime, 0);
    // The uplink's default route appears: fast RAs with the lifetime.
    let t1 = t0 + Duration::from_secs(20);
    run(&mut a, t1);
    let routed = LinkInput {
        default_route: true,
        ..up_link()
    };
    let acts = a.update_link(t1, routed.clone());
    assert!(acts
        .iter()
        .any(|x| matches!(x, Action::Log { message, .. } if message.contains("G-4"))));
    assert_eq!(
        a.next_timer(),
        Some(t1),
        "an RA at once (last one > 3 s ago)"
    );
    let ras = sends(&a.on_timer(t1));
    assert_eq!(ras[0].router_lifetime, 900);
    // G-5: it goes away again: RAs with lifetime 0, as soon as
    // MIN_DELAY_BETWEEN_RAS allows.
    let t2 = t1 + Duration::from_secs(1);
    a.update_link(t2, up_link());
    assert_eq!(a.next_timer(), Some(t1 + MIN_DELAY_BETWEEN_RAS));
    let ras = sends(&a.on_timer(t1 + MIN_DELAY_BETWEEN_RAS));
    assert_eq!(ras[0].router_lifetime, 0);
    // The final RA is 0 either way; forwarding off wins too.
    a.update_link(
        t2,
        LinkInput {
            forwarding: false,
            ..routed
        },
    );
    assert_eq!(a.status(t2).router_lifetime, 0);
}

const ULA: &str = "fd12:3456:789a::/48";
const DELEGATED: &str = "2001:db8:100::/56";

/// The issue's params as a CE router: G-4 and L-3 on.
fn ce_params() -> Params {
    let mut p = issue_params();
    p.require_default_route = true;
    p.home_routes = true;
    p
}

/// The link with the ULA (forever) and a delegation valid for `vl` s more.
fn home_link(now: Instant, vl: u64) -> LinkInput {
    LinkInput {
        home_prefixes: vec![
            HomePrefix {
                prefix: p64(ULA),
                valid_until: None,
            },
            HomePrefix {
                prefix: p64(DELEGATED),
                valid_until: Some(now + Duration::from_secs(vl)),
            },
        ],
        ..up_link()
    }
}

/// The last RA among timer actions.
fn last_ra(v: &[(Instant, Action)]) -> RouterAdvertisement {
    v.iter()
        .rev()
        .find_map(|(_, x)| sends(std::slice::from_ref(x)).pop())
        .expect("RAs go on")
}

/// (prefix, lifetime) of each Route Information option of an RA.
fn rios(ra: &RouterAdvertisement) -> Vec<(String, u32)> {
    ra.routes()
        .map(|r| {
            (
                Ipv6Prefix::new(r.prefix, r.prefix_len).to_string(),
                r.route_lifetime,
            )
        })
        .collect()
}

/// RFC 7084 L-3: the ULA /48 and the delegated prefix are advertised as
/// routes (RFC 4191 §2.3), 3 * MaxRtrAdvInterval, never beyond the
/// delegation; even while the router lifetime is 0 (G-4).
#[test]
fn home_prefixes_are_advertised_as_routes_while_not_a_default_router() {
    let t0 = Instant::now();
    let mut a = Advertiser::new(t0, ce_params(), 3);
    a.update_link(t0, home_link(t0, 600));
    let ra = &sends(&a.on_timer(t0))[0];
    assert_eq!(ra.router_lifetime, 0, "no default route upstream (G-4)");
    assert_eq!(
        rios(ra),
        vec![(DELEGATED.to_string(), 600), (ULA.to_string(), 900)]
    );
    // Counting down with the delegation.
    let t1 = t0 + Duration::from_secs(550);
    let ra = &sends(&a.on_timer(t1))[0];
    assert_eq!(rios(ra)[0], (DELEGATED.to_string(), 50));
    assert_eq!(a.status(t1).home_routes.len(), 2);
    // The final RA takes the routes away with the router (lifetime 0).
    let fin = sends(&a.shutdown(t1 + Duration::from_secs(1)));
    assert!(rios(&fin[0]).iter().all(|(_, l)| *l == 0), "{fin:?}");
}

/// A delegation that goes away is withdrawn at once: fast RAs carry its
/// route with lifetime 0 (RFC 4191 §2.3), for as long as hosts may hold
/// it (3 * MaxRtrAdvInterval), then no more; one that runs out likewise.
#[test]
fn a_home_prefix_that_goes_is_withdrawn_with_route_lifetime_zero() {
    let t0 = Instant::now();
    let mut a = Advertiser::new(t0, ce_params(), 4);
    a.update_link(t0, home_link(t0, 5000));
    run(&mut a, t0 + Duration::from_secs(100));
    let t1 = t0 + Duration::from_secs(100);
    let mut only_ula = home_link(t0, 5000);
    only_ula.home_prefixes.truncate(1);
    a.update_link(t1, only_ula);
    assert_eq!(a.next_timer(), Some(t1), "an RA at once");
    let ra = &sends(&a.on_timer(t1))[0];
    assert_eq!(
        rios(ra),
        vec![(ULA.to_string(), 900), (DELEGATED.to_string(), 0)]
    );
    let late = t1 + Duration::from_secs(901);
    let v = run(&mut a, late + Duration::from_secs(300));
    assert_eq!(rios(&last_ra(&v)), vec![(ULA.to_string(), 900)]);
    // Running out by the clock: the next timer tick withdraws it.
    let t2 = Instant::now();
    let mut a = Advertiser::new(t2, ce_params(), 5);
    a.update_link(t2, home_link(t2, 10));
    let v = run(&mut a, t2 + Duration::from_secs(40));
    assert_eq!(
        rios(&last_ra(&v)),
        vec![(ULA.to_string(), 900), (DELEGATED.to_string(), 0)]
    );
}

/// `home_routes = false` (radvd-like setups) sends none; a configured
/// `route` for the same prefix wins over the home route.
#[test]
fn home_routes_off_or_configured_routes_take_precedence() {
    let t0 = Instant::now();
    let mut p = ce_params();
    p.home_routes = false;
    let mut a = Advertiser::new(t0, p, 6);
    a.update_link(t0, home_link(t0, 600));
    assert!(rios(&sends(&a.on_timer(t0))[0]).is_empty());
    let mut p = ce_params();
    p.routes.push(RouteParams {
        prefix: p64(ULA),
        preference: RouterPreference::High,
        lifetime: 60,
    });
    let mut a = Advertiser::new(t0, p, 7);
    a.update_link(t0, home_link(t0, 600));
    let ra = &sends(&a.on_timer(t0))[0];
    assert_eq!(
        rios(ra),
        vec![(ULA.to_string(), 60), (DELEGATED.to_string(), 600)]
    );
    // Turning it on by reload advertises them with fast RAs.
    let mut p = ce_params();
    p.home_routes = false;
    let mut a = Advertiser::new(t0, p.clone(), 8);
    a.update_link(t0, home_link(t0, 600));
    a.on_timer(t0);
    let t1 = t0 + Duration::from_secs(30);
    p.home_routes = true;
    a.update_params(t1, p);
    assert_eq!(a.next_timer(), Some(t1));
    assert_eq!(rios(&sends(&a.on_timer(t1))[0]).len(), 2);
}

#[test]
fn a_default_route_counts_unless_it_leaves_through_the_lan() {
    use v6common::{RouteFact, RouteKind};
    let mut v = KernelView::default();
    let route = |oif, table| RouteFact {
        dst: "::/0".parse().unwrap(),
        gateway: Some("fe80::1".parse().unwrap()),
        oif: Some(oif),
        protocol: v6common::kernel::rtprot::RA,
        metric: 1024,
        table,
        kind: RouteKind::Unicast,
    };
    assert!(!has_default_route(&v, 2));
    v.routes.push(route(2, 254));
    assert!(!has_default_route(&v, 2), "through the LAN itself");
    v.routes.push(route(3, 100));
    assert!(!has_default_route(&v, 2), "another table");
    v.routes.push(route(3, 254));
    assert!(has_default_route(&v, 2));
}

#[test]
fn link_flap_respects_min_delay_between_ras() {
    let (t0, mut a) = started(3);
    run(&mut a, t0);
    let mut l = up_link();
    l.usable = false;
    a.update_link(t0 + Duration::from_secs(1), l);
    a.update_link(t0 + Duration::from_secs(2), up_link());
    assert_eq!(a.next_timer(), Some(t0 + MIN_DELAY_BETWEEN_RAS));
}

#[test]
fn rs_with_slla_gets_delayed_unicast() {
    let (t0, mut a) = started(5);
    let t = t0 + Duration::from_secs(500);
    run(&mut a, t);
    let rs = RouterSolicitation {
        options: vec![NdOption::SourceLinkLayerAddress(vec![2, 0, 0, 0, 0, 9])],
    };
    let host: Ipv6Addr = "fe80::9".parse().unwrap();
    assert!(a.on_rs(t, host, &rs).is_empty());
    assert!(a.on_rs(t, host, &rs).is_empty());
    let due = a.next_timer().unwrap();
    assert!(due >= t && due <= t + MAX_RA_DELAY_TIME);
    let out = a.on_timer(due);
    let uni: Vec<_> = out
        .iter()
        .filter(|x| matches!(x, Action::SendUnicast { dst, .. } if *dst == host))
        .collect();
    assert_eq!(uni.len(), 1, "one answer for two RSs from the same host");
    assert_eq!(a.status(due).counters.rs_received, 2);
}

#[test]
fn rs_without_slla_gets_rate_limited_multicast() {
    let (t0, mut a) = started(9);
    let t1 = t0 + Duration::from_secs(60);
    run(&mut a, t1);
    let rs = RouterSolicitation::default();
    let last = a.last_multicast.unwrap();
    let t = t1 + Duration::from_secs(1000);
    run(&mut a, t);
    let last2 = a.last_multicast.unwrap();
    assert!(last2 > last);
    // An RS 1 s after a multicast RA waits for MIN_DELAY_BETWEEN_RAS.
    let t_rs = last2 + Duration::from_secs(1);
    a.on_rs(t_rs, Ipv6Addr::UNSPECIFIED, &rs);
    let due = a.next_timer().unwrap();
    assert!(
        due >= last2 + MIN_DELAY_BETWEEN_RAS
            && due <= last2 + MIN_DELAY_BETWEEN_RAS + MAX_RA_DELAY_TIME
    );
    // A burst of RSs gives one multicast RA.
    for i in 0..20 {
        a.on_rs(
            t_rs + Duration::from_millis(i * 10),
            Ipv6Addr::UNSPECIFIED,
            &rs,
        );
    }
    let v = run(&mut a, last2 + Duration::from_secs(10));
    assert_eq!(multicast_times(&v).len(), 1);
    assert_eq!(a.status(due).counters.ra_sent_solicited, 1);
    // Unicast disabled: an RS with SLLA is answered by multicast.
    let mut p = issue_params();
    p.unicast_solicited = false;
    let (t0, mut b) = (Instant::now(), Advertiser::new(Instant::now(), p, 1));
    b.update_link(t0, up_link());
    run(&mut b, t0 + Duration::from_secs(200));
    let rs = RouterSolicitation {
        options: vec![NdOption::SourceLinkLayerAddress(vec![2, 0, 0, 0, 0, 9])],
    };
    let t = t0 + Duration::from_secs(200);
    b.on_rs(t, "fe80::9".parse().unwrap(), &rs);
    let out = b.on_timer(b.next_timer().unwrap());
    assert!(matches!(out[..], [Action::SendMulticast(_)]), "{out:?}");
}

#[test]
fn forwarding_off_gives_lifetime_zero_and_one_warning() {
    let t0 = Instant::now();
    let mut a = Advertiser::new(t0, issue_params(), 1);
    let mut l = up_link();
    l.forwarding = false;
    let out = a.update_link(t0, l.clone());
    assert_eq!(
        out.iter()
            .filter(|x| matches!(
                x,
                Action::Log {
                    level: LogLevel::Warn,
                    ..
                }
            ))
            .count(),
        1
    );
    let ra = sends(&a.on_timer(t0)).remove(0);
    assert_eq!(ra.router_lifetime, 0);
    // Turning it on restores the lifetime with fast RAs.
    let t1 = t0 + Duration::from_secs(20);
    run(&mut a, t1);
    l.forwarding = true;
    a.update_link(t1, l);
    let ra = sends(&a.on_timer(a.next_timer().unwrap())).remove(0);
    assert_eq!(ra.router_lifetime, 900);
}

#[test]
fn shutdown_sends_final_ra_with_zero_lifetime() {
    let (t0, mut a) = started(2);
    let mut p = issue_params();
    p.rdnss = vec!["2001:db8::53".parse().unwrap()];
    a.update_params(t0, p);
    run(&mut a, t0 + Duration::from_secs(30));
    let out = a.shutdown(t0 + Duration::from_secs(30));
    let ras = sends(&out);
    assert_eq!(ras.len(), 1);
    assert_eq!(ras[0].router_lifetime, 0);
    assert_eq!(ras[0].rdnss().next().unwrap().lifetime, 0);
    assert_eq!(a.state(), AdvState::Stopped);
    assert_eq!(a.next_timer(), None);
    assert!(out.contains(&Action::PersistHistory));
}

#[test]
fn identical_reload_changes_nothing() {
    let (t0, mut a) = started(4);
    run(&mut a, t0 + Duration::from_secs(200));
    let before = a.next_timer();
    let init = a.initial_left;
    assert!(a
        .update_params(t0 + Duration::from_secs(200), issue_params())
        .is_empty());
    assert_eq!(a.next_timer(), before);
    assert_eq!(a.initial_left, init);
    // The same link facts again change nothing either.
    assert!(a
        .update_link(t0 + Duration::from_secs(200), up_link())
        .is_empty());
    assert_eq!(a.next_timer(), before);
}

#[test]
fn changed_reload_sends_fast_ras() {
    let (t0, mut a) = started(4);
    let t = t0 + Duration::from_secs(200);
    run(&mut a, t);
    let mut p = issue_params();
    p.other_config = true;
    a.update_params(t, p);
    assert_eq!(a.next_timer(), Some(t));
    let ra = sends(&a.on_timer(t)).remove(0);
    assert!(ra.other_config);
}

#[test]
fn removed_prefix_is_deprecated_then_dropped() {
    let (t0, mut a) = started(6);
    let t = t0 + Duration::from_secs(200);
    run(&mut a, t);
    let mut p = issue_params();
    p.prefixes.clear();
    let out = a.update_params(t, p);
    assert!(out.contains(&Action::PersistHistory));
    let ra = sends(&a.on_timer(a.next_timer().unwrap())).remove(0);
    let pi = ra.prefixes().next().unwrap();
    // RFC 9096 §3: PL 0, VL min(86400, 2h).
    assert_eq!((pi.preferred_lifetime, pi.valid_lifetime), (0, 7200));
    // Counting down.
    let later = t + Duration::from_secs(3600);
    run(&mut a, later);
    let ra = a.build(later, false);
    assert_eq!(ra.prefixes().next().unwrap().valid_lifetime, 3600);
    let st = a.status(later);
    assert!(st.prefixes[0].stale);
    // Gone after 2 h.
    let end = t + Duration::from_secs(7201);
    run(&mut a, end);
    assert_eq!(a.build(end, false).prefixes().count(), 0);
    // A prefix that comes back is advertised normally again.
    a.update_params(end, issue_params());
    let pi = a.build(end, false).prefixes().next().unwrap().clone();
    assert_eq!((pi.valid_lifetime, pi.preferred_lifetime), (86400, 14400));
}

/// (prefix, valid, preferred) of each Prefix Information option, in order.
fn prefix_lifetimes(ra: &RouterAdvertisement) -> Vec<(String, u32, u32)> {
    ra.prefixes()
        .map(|p| (p.prefix.to_string(), p.valid_lifetime, p.preferred_lifetime))
        .collect()
}

#[test]
fn template_follows_interface_addresses() {
    let t0 = Instant::now();
    let mut p = issue_params();
    p.prefixes[0].prefix = p64("::/64");
    let mut a = Advertiser::new(t0, p, 1);
    let mut l = up_link();
    let addr = |s: &str, dep: bool, pl: u32, vl: u32| LinkAddr {
        prefix: p64(s),
        deprecated: dep,
        preferred_lft: pl,
        valid_lft: vl,
    };
    l.addrs = vec![
        addr("2001:db8:1::/64", false, INFINITY, INFINITY),
        addr("2001:db8:2::/64", true, 0, 5000),
        addr("2001:db8:3::/56", false, INFINITY, INFINITY),
        addr("2001:db8:4::/64", false, 1000, 2000),
    ];
    a.update_link(t0, l.clone());
    let got = prefix_lifetimes(&a.build(t0, false));
    assert_eq!(
        got,
        vec![
            ("2001:db8:1::".into(), 86400, 14400),
            ("2001:db8:4::".into(), 2000, 1000)
        ],
        "deprecated and non-/64 excluded; lifetimes capped by the address's"
    );
    // The same facts reported again later do not restart the address deadlines.
    let t1 = t0 + Duration::from_secs(500);
    a.update_link(t1, l.clone());
    let ra = a.build(t1, false);
    assert_eq!(ra.prefixes().nth(1).unwrap().valid_lifetime, 1500);
    // Renumbering: 2001:db8:1::/64 goes, 2001:db8:5::/64 comes.
    l.addrs.remove(0);
    l.addrs
        .push(addr("2001:db8:5::/64", false, INFINITY, INFINITY));
    let out = a.update_link(t1, l);
    assert!(out.contains(&Action::PersistHistory));
    // Renumbering restarts the fast RAs, the first one now.
    assert_eq!(a.next_timer(), Some(t1));
    let got = prefix_lifetimes(&a.build(t1, false));
    assert_eq!(
        got,
        vec![
            ("2001:db8:4::".into(), 1500, 500),
            ("2001:db8:5::".into(), 86400, 14400),
            ("2001:db8:1::".into(), 7200, 0),
        ]
    );
    // When 2001:db8:4::/64's address runs out, it goes stale by itself.
    let t2 = t0 + Duration::from_secs(2000);
    a.on_timer(t2);
    let st = a.status(t2);
    let four = st
        .prefixes
        .iter()
        .find(|p| p.prefix == p64("2001:db8:4::/64"))
        .unwrap();
    assert!(four.stale);
    assert_eq!(four.valid_lifetime, 0);
    // ... and stays so while the same (expired) fact is still reported.
    a.on_timer(t2 + Duration::from_secs(1));
    let mut l2 = up_link();
    l2.addrs = vec![
        addr("2001:db8:4::/64", false, 1000, 2000),
        addr("2001:db8:5::/64", false, INFINITY, INFINITY),
    ];
    a.update_link(t2 + Duration::from_secs(2), l2);
    let st = a.status(t2 + Duration::from_secs(2));
    // Its valid lifetime is over: gone from the RA, not advertised anew.
    let four = st
        .prefixes
        .iter()
        .find(|p| p.prefix == p64("2001:db8:4::/64"));
    assert!(four.is_none(), "revived by a stale fact: {four:?}");
    assert!(a
        .build(t2 + Duration::from_secs(2), false)
        .prefixes()
        .all(|p| p.prefix != p64("2001:db8:4::/64").addr()));
    // A fresh fact (new lifetimes, e.g. the ISP renewed) brings it back.
    let mut l3 = up_link();
    l3.addrs = vec![addr("2001:db8:4::/64", false, 3000, 6000)];
    a.update_link(t2 + Duration::from_secs(3), l3);
    let st = a.status(t2 + Duration::from_secs(3));
    let four = st
        .prefixes
        .iter()
        .find(|p| p.prefix == p64("2001:db8:4::/64"))
        .unwrap();
    assert!(!four.stale);
    assert_eq!((four.valid_lifetime, four.preferred_lifetime), (6000, 3000));
}

#[test]
fn decrementing_lifetimes() {
    let t0 = Instant::now();
    let mut p = issue_params();
    p.decrement_lifetimes = true;
    let mut a = Advertiser::new(t0, p, 1);
    a.update_link(t0, up_link());
    let t = t0 + Duration::from_secs(1000);
    let pi = a.build(t, false).prefixes().next().unwrap().clone();
    assert_eq!((pi.valid_lifetime, pi.preferred_lifetime), (85400, 13400));
    let t = t0 + Duration::from_secs(20000);
    let pi = a.build(t, false).prefixes().next().unwrap().clone();
    assert_eq!((pi.valid_lifetime, pi.preferred_lifetime), (66400, 0));
}

#[test]
fn history_survives_restart() {
    let (t0, a) = started(1);
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let h = a.export_history(t0, wall);
    assert_eq!(h.prefixes.len(), 1);
    assert_eq!(h.prefixes[0].valid_until, Some(1_800_000_000 + 86400));
    let json = serde_json::to_string(&h).unwrap();
    assert!(json.contains("\"2001:db8:1::/64\""), "{json}");
    let h: PrefixHistory = serde_json::from_str(&json).unwrap();
    // Restart 10 minutes later with the prefix gone from the config.
    let t1 = Instant::now();
    let mut p = issue_params();
    p.prefixes.clear();
    let mut b = Advertiser::new(t1, p, 2);
    b.update_link(t1, up_link());
    let out = b.import_history(t1, wall + Duration::from_secs(600), &h);
    assert!(out.contains(&Action::PersistHistory));
    let pi = b.build(t1, false).prefixes().next().unwrap().clone();
    assert_eq!((pi.preferred_lifetime, pi.valid_lifetime), (0, 7200));
    assert_eq!(b.status(t1).prefixes[0].source, PrefixSource::History);
    // A history entry whose valid lifetime already ended is ignored.
    let mut c = Advertiser::new(t1, Params::with_max_interval(Duration::from_secs(300)), 3);
    assert!(c
        .import_history(t1, wall + Duration::from_secs(90000), &h)
        .is_empty());
    // A prefix still configured is not touched.
    let mut d = Advertiser::new(t1, issue_params(), 3);
    assert!(d.import_history(t1, wall, &h).is_empty());
}

#[test]
fn consistency_checks_report_differences() {
    let (t0, mut a) = started(1);
    let other: Ipv6Addr = "fe80::2".parse().unwrap();
    let mut ra = a.build(t0, false);
    assert!(
        a.on_ra(t0, other, &ra).is_empty(),
        "identical RA is consistent"
    );
    ra.managed = false;
    ra.cur_hop_limit = 255;
    ra.options.retain(|o| !matches!(o, NdOption::Mtu(_)));
    ra.options.push(NdOption::Mtu(1500));
    if let Some(NdOption::PrefixInformation(pi)) = ra
        .options
        .iter_mut()
        .find(|o| matches!(o, NdOption::PrefixInformation(_)))
    {
        pi.valid_lifetime = 3600;
    }
    let out = a.on_ra(t0, other, &ra);
    let Action::Log { message, .. } = &out[0] else {
        panic!("{out:?}")
    };
    for needle in [
        "M flag 0",
        "cur hop limit 255",
        "MTU 1500",
        "valid lifetime 3600",
    ] {
        assert!(message.contains(needle), "{needle} in {message}");
    }
    // Unspecified values (0) are not compared; our own RA is ignored.
    ra = a.build(t0, false);
    ra.cur_hop_limit = 0;
    assert!(a.on_ra(t0, other, &ra).is_empty());
    assert!(a
        .on_ra(t0, LL.parse().unwrap(), &RouterAdvertisement::default())
        .is_empty());
    let c = a.status(t0).counters;
    assert_eq!((c.ra_received, c.ra_inconsistent), (3, 1));
}

#[test]
fn new_link_local_restarts_fast_ras() {
    let (t0, mut a) = started(8);
    let t = t0 + Duration::from_secs(400);
    run(&mut a, t);
    let mut l = up_link();
    l.link_local = Some("fe80::99".parse().unwrap());
    a.update_link(t, l);
    assert_eq!(a.next_timer(), Some(t));
    assert_eq!(a.initial_left, MAX_INITIAL_RTR_ADVERTISEMENTS);
}

#[test]
fn an_option_too_big_for_any_ra_is_sent_and_reported_once() {
    let t0 = Instant::now();
    let mut p = issue_params();
    // One RDNSS option of 8 + 100 * 16 bytes: more than a 1500-byte
    // link holds even alone.
    p.rdnss = (0..100u16)
        .map(|i| Ipv6Addr::new(0x2001, 0xdb8, 0, 0x53, 0, 0, 0, i))
        .collect();
    let mut a = Advertiser::new(t0, p, 1);
    a.update_link(t0, up_link());
    let out = a.on_timer(t0);
    let warns = |o: &[Action]| {
        o.iter().filter(|x| matches!(x, Action::Log { level: LogLevel::Warn, message } if message.contains("does not fit"))).count()
    };
    assert_eq!(warns(&out), 1);
    // The prefix goes in the first RA, the RDNSS option alone in a second.
    let ras = sends(&out);
    assert_eq!(ras.len(), 2);
    assert_eq!(ras[0].prefixes().count(), 1);
    let out = a.on_timer(a.next_timer().unwrap());
    assert_eq!(warns(&out), 0);
    assert_eq!(sends(&out).len(), 2);
}

#[test]
fn options_in_ra() {
    let t0 = Instant::now();
    let mut p = issue_params();
    p.rdnss = vec!["2001:db8::53".parse().unwrap()];
    p.dnssl = vec!["home.arpa".into()];
    p.routes = vec![RouteParams {
        prefix: p64("2001:db8:8::/48"),
        preference: RouterPreference::High,
        lifetime: 900,
    }];
    p.pref64 = Some((p64("64:ff9b::/96"), 1800));
    p.captive_portal = Some("https://cp.example/api".into());
    p.preference = RouterPreference::Low;
    let mut a = Advertiser::new(t0, p, 1);
    a.update_link(t0, up_link());
    let ra = sends(&a.on_timer(t0)).remove(0);
    assert_eq!(ra.preference, RouterPreference::Low);
    assert_eq!(ra.rdnss().next().unwrap().lifetime, 900);
    assert_eq!(
        ra.dnssl().next().unwrap().domains,
        vec!["home.arpa".to_string()]
    );
    assert_eq!(ra.routes().next().unwrap().route_lifetime, 900);
    assert!(ra
        .options
        .iter()
        .any(|o| matches!(o, NdOption::Pref64(x) if x.lifetime == 1800)));
    assert!(ra
        .options
        .contains(&NdOption::CaptivePortal("https://cp.example/api".into())));
}
