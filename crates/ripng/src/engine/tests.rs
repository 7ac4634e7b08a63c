//! Engine tests with virtual time: every RFC 2080 rule the engine claims.

use super::*;
use v6common::{AddrFact, LinkFact};

const IF1: u32 = 2;
const IF2: u32 = 3;
const OUR_LL1: &str = "fe80::1";
const OUR_LL2: &str = "fe80::2";
const NB_A: &str = "fe80::a";
const NB_B: &str = "fe80::b";

fn p(s: &str) -> Ipv6Prefix {
    s.parse().unwrap()
}
fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn link(index: u32, name: &str) -> LinkFact {
    LinkFact {
        index,
        name: name.into(),
        lladdr: None,
        mtu: 1500,
        admin_up: true,
        running: true,
        kind: Some("veth".into()),
        ..Default::default()
    }
}

fn addr(index: u32, s: &str, len: u8) -> AddrFact {
    AddrFact::permanent(index, a(s), len)
}

fn kroute(dst: &str, protocol: u8) -> RouteFact {
    RouteFact {
        dst: p(dst),
        gateway: None,
        oif: Some(IF1),
        protocol,
        metric: 1024,
        table: RT_TABLE_MAIN,
        kind: RouteKind::Unicast,
    }
}

/// Two RIPng interfaces eth0 (IF1) and eth1 (IF2), a LAN br-lan (4) with
/// 2001:db8:1::/64.
fn view() -> KernelView {
    let mut kv = KernelView::default();
    kv.links.insert(IF1, link(IF1, "eth0"));
    kv.links.insert(IF2, link(IF2, "eth1"));
    kv.links.insert(4, link(4, "br-lan"));
    kv.addrs.push(addr(IF1, OUR_LL1, 64));
    kv.addrs.push(addr(IF2, OUR_LL2, 64));
    kv.addrs.push(addr(4, "fe80::4", 64));
    kv.addrs.push(addr(4, "2001:db8:1::1", 64));
    kv
}

fn cfg() -> Config {
    Config {
        interfaces: vec![IfaceConfig {
            name: "eth*".into(),
            cost: 1,
        }],
        export: ExportConfig {
            connected: vec!["br-lan".into()],
            kernel: true,
            ..Config::default().export
        },
        ..Config::default()
    }
}

struct Lab {
    e: Engine,
    now: Instant,
    kv: KernelView,
}

impl Lab {
    fn new(cfg: Config) -> (Lab, Vec<Action>) {
        let now = Instant::now();
        let mut e = Engine::new(cfg, 7);
        let kv = view();
        let acts = e.set_kernel(now, &kv);
        (Lab { e, now, kv }, acts)
    }

    fn kernel(&mut self) -> Vec<Action> {
        self.e.set_kernel(self.now, &self.kv)
    }

    /// Advance virtual time, running every timer that falls due.
    fn run_for(&mut self, d: Duration) -> Vec<Action> {
        let end = self.now + d;
        let mut out = Vec::new();
        while let Some(t) = self.e.next_timer() {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            out.extend(self.e.on_timer(self.now));
        }
        self.now = end;
        out
    }

    fn response(
        &mut self,
        from: &str,
        ifindex: u32,
        rtes: &[(&str, u8)],
    ) -> Result<Vec<Action>, Drop> {
        let bytes = response_bytes(rtes);
        self.rx(from, 521, ifindex, Some(255), &bytes)
    }

    fn rx(
        &mut self,
        from: &str,
        port: u16,
        ifindex: u32,
        hl: Option<u8>,
        bytes: &[u8],
    ) -> Result<Vec<Action>, Drop> {
        self.e.handle_packet(
            self.now,
            Received {
                src: a(from),
                src_port: port,
                ifindex,
                hop_limit: hl,
                payload: bytes,
            },
        )
    }
}

fn response_bytes(rtes: &[(&str, u8)]) -> Vec<u8> {
    Repr {
        command: Command::Response,
        rtes: rtes
            .iter()
            .map(|(s, m)| {
                let pf = p(s);
                RawRte {
                    prefix: pf.addr(),
                    tag: 0,
                    prefix_len: pf.len(),
                    metric: *m,
                }
            })
            .collect(),
    }
    .to_bytes()
}

fn installs(acts: &[Action]) -> Vec<RouteFact> {
    acts.iter()
        .filter_map(|a| match a {
            Action::InstallRoutes(v) => Some(v.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn removes(acts: &[Action]) -> Vec<RouteFact> {
    acts.iter()
        .filter_map(|a| match a {
            Action::RemoveRoutes(v) => Some(v.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// (interface, destination, RTEs) of every datagram sent.
fn sent(acts: &[Action]) -> Vec<(u32, SocketAddrV6, Repr)> {
    acts.iter()
        .filter_map(|a| match a {
            Action::Send {
                bytes,
                dst,
                ifindex,
            } => Some((*ifindex, *dst, Repr::parse_bytes(bytes).unwrap())),
            _ => None,
        })
        .collect()
}

fn metric_in(reprs: &[(u32, SocketAddrV6, Repr)], ifindex: u32, prefix: &str) -> Option<u8> {
    let pf = p(prefix);
    reprs
        .iter()
        .filter(|(i, _, r)| *i == ifindex && r.command == Command::Response)
        .flat_map(|(_, _, r)| r.rtes.iter())
        .filter(|r| r.prefix == pf.addr() && r.prefix_len == pf.len())
        .map(|r| r.metric)
        .next_back()
}

#[test]
fn startup_requests_whole_table_on_each_interface() {
    let (_, acts) = Lab::new(cfg());
    let s = sent(&acts);
    let reqs: Vec<_> = s
        .iter()
        .filter(|(_, _, r)| r.command == Command::Request)
        .collect();
    assert_eq!(reqs.len(), 2);
    for (_, dst, r) in reqs {
        assert_eq!(*dst.ip(), ALL_RIP_ROUTERS);
        assert_eq!(dst.port(), 521);
        assert!(r.rtes.len() == 1 && r.rtes[0].is_whole_table_request());
    }
}

#[test]
fn learns_route_installs_via_neighbour_and_poisons_reverse() {
    let (mut lab, _) = Lab::new(cfg());
    lab.run_for(Duration::from_secs(10));
    let acts = lab.response(NB_A, IF1, &[("2001:db8:aa::/48", 1)]).unwrap();
    let inst = installs(&acts);
    assert_eq!(inst.len(), 1);
    assert_eq!(inst[0].dst, p("2001:db8:aa::/48"));
    assert_eq!(inst[0].gateway, Some(a(NB_A)));
    assert_eq!(inst[0].oif, Some(IF1));
    assert_eq!(inst[0].protocol, rtprot::RIP);
    let r = lab.e.route(&p("2001:db8:aa::/48")).unwrap();
    assert_eq!(r.metric, 2, "metric + interface cost (§2.4.2)");
    // Triggered update: poisoned back to eth0, metric 2 on eth1.
    let s = sent(&acts);
    assert_eq!(metric_in(&s, IF1, "2001:db8:aa::/48"), Some(16));
    assert_eq!(metric_in(&s, IF2, "2001:db8:aa::/48"), Some(2));
    assert_eq!(lab.e.neighbour_routes(a(NB_A), IF1), 1);
}

#[test]
fn split_horizon_without_poison_omits() {
    let mut c = cfg();
    c.poisoned_reverse = false;
    let (mut lab, _) = Lab::new(c);
    lab.run_for(Duration::from_secs(10));
    let acts = lab.response(NB_A, IF1, &[("2001:db8:aa::/48", 1)]).unwrap();
    let s = sent(&acts);
    assert_eq!(metric_in(&s, IF1, "2001:db8:aa::/48"), None);
    assert_eq!(metric_in(&s, IF2, "2001:db8:aa::/48"), Some(2));
}

#[test]
fn drops_invalid_responses_and_counts_them() {
    let (mut lab, _) = Lab::new(cfg());
    let b = response_bytes(&[("2001:db8:aa::/48", 1)]);
    assert_eq!(
        lab.rx(NB_A, 5000, IF1, Some(255), &b),
        Err(Drop::NotFromPort521(5000))
    );
    assert_eq!(
        lab.rx("2001:db8::9", 521, IF1, Some(255), &b),
        Err(Drop::NotLinkLocal(a("2001:db8::9")))
    );
    assert_eq!(
        lab.rx(NB_A, 521, IF1, Some(254), &b),
        Err(Drop::HopLimit(Some(254)))
    );
    assert_eq!(lab.rx(NB_A, 521, IF1, None, &b), Err(Drop::HopLimit(None)));
    assert_eq!(lab.rx(OUR_LL2, 521, IF1, Some(255), &b), Err(Drop::Own));
    assert_eq!(
        lab.rx(NB_A, 521, 4, Some(255), &b),
        Err(Drop::UnknownInterface(4))
    );
    assert!(matches!(
        lab.rx(NB_A, 521, IF1, Some(255), &[2, 1, 0]),
        Err(Drop::Malformed(_))
    ));
    let s = &lab.e.stats;
    assert_eq!(
        (
            s.rx_not_port_521,
            s.rx_not_link_local,
            s.rx_bad_hop_limit,
            s.rx_own,
            s.rx_unknown_interface,
            s.rx_malformed
        ),
        (1, 1, 2, 1, 1, 1)
    );
    assert!(lab.e.route(&p("2001:db8:aa::/48")).is_none());
}

#[test]
fn bad_rtes_are_ignored_alone() {
    let (mut lab, _) = Lab::new(cfg());
    let acts = lab
        .response(
            NB_A,
            IF1,
            &[
                ("2001:db8:aa::/48", 0),
                ("fe80::/64", 1),
                ("2001:db8:bb::/48", 3),
            ],
        )
        .unwrap();
    assert_eq!(installs(&acts).len(), 1);
    assert_eq!(lab.e.stats.rx_bad_rtes, 2);
    assert_eq!(lab.e.neighbours().next().unwrap().bad_routes, 2);
}

#[test]
fn timeout_then_garbage_collection() {
    let mut c = cfg();
    c.timeout = Duration::from_secs(180);
    c.garbage = Duration::from_secs(120);
    let (mut lab, _) = Lab::new(c);
    lab.response(NB_A, IF1, &[("2001:db8:aa::/48", 1)]).unwrap();
    let acts = lab.run_for(Duration::from_secs(179));
    assert!(removes(&acts).is_empty());
    assert_eq!(lab.e.route(&p("2001:db8:aa::/48")).unwrap().metric, 2);
    let acts = lab.run_for(Duration::from_secs(2));
    // §2.3: metric 16, out of the kernel, advertised as unreachable.
    assert_eq!(removes(&acts).len(), 1);
    let r = lab.e.route(&p("2001:db8:aa::/48")).unwrap();
    assert_eq!(r.metric, 16);
    assert_eq!(metric_in(&sent(&acts), IF2, "2001:db8:aa::/48"), Some(16));
    lab.run_for(Duration::from_secs(118));
    assert!(lab.e.route(&p("2001:db8:aa::/48")).is_some());
    lab.run_for(Duration::from_secs(3));
    assert!(lab.e.route(&p("2001:db8:aa::/48")).is_none());
}

#[test]
fn refresh_keeps_route_alive() {
    let (mut lab, _) = Lab::new(cfg());
    for _ in 0..20 {
        lab.response(NB_A, IF1, &[("2001:db8:aa::/48", 1)]).unwrap();
        let acts = lab.run_for(Duration::from_secs(30));
        assert!(removes(&acts).is_empty());
    }
    assert_eq!(lab.e.route(&p("2001:db8:aa::/48")).unwrap().metric, 2);
}

#[test]
fn metric_rules() {
    let (mut lab, _) = Lab::new(cfg());
    let pf = p("2001:db8:aa::/48");
    lab.response(NB_A, IF1, &[("2001:db8:aa::/48", 3)]).unwrap();
    assert_eq!(lab.e.route(&pf).unwrap().metric, 4);
    // Worse from another router: ignored.
    let acts = lab.response(NB_B, IF2, &[("2001:db8:aa::/48", 5)]).unwrap();
    assert!(installs(&acts).is_empty());
    // Better from another router: adopted, new gateway.
    let acts = lab.response(NB_B, IF2, &[("2001:db8:aa::/48", 1)]).unwrap();
    let inst = installs(&acts);
    assert_eq!(inst[0].gateway, Some(a(NB_B)));
    assert_eq!(inst[0].oif, Some(IF2));
    assert_eq!(lab.e.route(&pf).unwrap().metric, 2);
    // Worse from the same router: adopted (§2.4.2), no kernel change.
    let acts = lab.response(NB_B, IF2, &[("2001:db8:aa::/48", 6)]).unwrap();
    assert!(installs(&acts).is_empty());
    assert_eq!(lab.e.route(&pf).unwrap().metric, 7);
    // Infinity from the same router: deletion starts at once.
    lab.run_for(Duration::from_secs(6));
    let acts = lab
        .response(NB_B, IF2, &[("2001:db8:aa::/48", 16)])
        .unwrap();
    assert_eq!(removes(&acts).len(), 1);
    assert_eq!(lab.e.route(&pf).unwrap().metric, 16);
    // A route in garbage collection is taken over by anyone reachable.
    let acts = lab.response(NB_A, IF1, &[("2001:db8:aa::/48", 2)]).unwrap();
    assert_eq!(installs(&acts)[0].gateway, Some(a(NB_A)));
    assert_eq!(lab.e.route(&pf).unwrap().metric, 3);
}

#[test]
fn equal_metric_switch_when_aging() {
    let (mut lab, _) = Lab::new(cfg());
    let pf = p("2001:db8:aa::/48");
    lab.response(NB_A, IF1, &[("2001:db8:aa::/48", 2)]).unwrap();
    lab.run_for(Duration::from_secs(30));
    assert!(installs(&lab.response(NB_B, IF2, &[("2001:db8:aa::/48", 2)]).unwrap()).is_empty());
    lab.run_for(Duration::from_secs(70));
    let acts = lab.response(NB_B, IF2, &[("2001:db8:aa::/48", 2)]).unwrap();
    assert_eq!(installs(&acts)[0].gateway, Some(a(NB_B)));
    assert!(
        matches!(lab.e.route(&pf).unwrap().origin, Origin::Learned { from, .. } if from == a(NB_B))
    );
}

#[test]
fn configurable_infinity() {
    let mut c = cfg();
    c.infinity = 8;
    let (mut lab, _) = Lab::new(c);
    let acts = lab
        .response(
            NB_A,
            IF1,
            &[("2001:db8:aa::/48", 7), ("2001:db8:bb::/48", 6)],
        )
        .unwrap();
    assert_eq!(installs(&acts).len(), 1, "7 + 1 reaches infinity 8");
    assert_eq!(lab.e.route(&p("2001:db8:bb::/48")).unwrap().metric, 7);
}

#[test]
fn interface_cost_is_added() {
    let mut c = cfg();
    c.interfaces = vec![
        IfaceConfig {
            name: "eth0".into(),
            cost: 5,
        },
        IfaceConfig {
            name: "eth1".into(),
            cost: 1,
        },
    ];
    let (mut lab, _) = Lab::new(c);
    lab.response(NB_A, IF1, &[("2001:db8:aa::/48", 2)]).unwrap();
    assert_eq!(lab.e.route(&p("2001:db8:aa::/48")).unwrap().metric, 7);
}

#[test]
fn next_hop_rte_sets_gateway() {
    let (mut lab, _) = Lab::new(cfg());
    let mut r = Repr::parse_bytes(&response_bytes(&[
        ("2001:db8:aa::/48", 1),
        ("2001:db8:bb::/48", 1),
    ]))
    .unwrap();
    r.rtes.insert(
        1,
        RawRte {
            prefix: a("fe80::99"),
            tag: 0,
            prefix_len: 0,
            metric: 0xff,
        },
    );
    let acts = lab.rx(NB_A, 521, IF1, Some(255), &r.to_bytes()).unwrap();
    let inst = installs(&acts);
    assert_eq!(inst[0].gateway, Some(a(NB_A)));
    assert_eq!(inst[1].gateway, Some(a("fe80::99")));
    // A global next hop means "the originator" (§2.1.1).
    r.rtes[1].prefix = a("2001:db8::99");
    r.rtes[2].prefix = a("2001:db8:cc::");
    let acts = lab.rx(NB_A, 521, IF1, Some(255), &r.to_bytes()).unwrap();
    assert_eq!(installs(&acts)[0].gateway, Some(a(NB_A)));
}

#[test]
fn triggered_updates_hold_one_to_five_seconds() {
    let (mut lab, _) = Lab::new(cfg());
    lab.run_for(Duration::from_secs(5));
    let first = lab.response(NB_A, IF1, &[("2001:db8:aa::/48", 1)]).unwrap();
    assert_eq!(metric_in(&sent(&first), IF2, "2001:db8:aa::/48"), Some(2));
    // A second change right after: held back.
    let t0 = lab.now;
    let second = lab.response(NB_A, IF1, &[("2001:db8:bb::/48", 1)]).unwrap();
    assert_eq!(metric_in(&sent(&second), IF2, "2001:db8:bb::/48"), None);
    let third = lab.response(NB_A, IF1, &[("2001:db8:cc::/48", 1)]).unwrap();
    assert!(sent(&third).is_empty());
    // Step until the held update leaves: between 1 and 5 s later, both
    // changes in it.
    let mut when = None;
    for ms in (0..6000).step_by(50) {
        let acts = lab.run_for(Duration::from_millis(50));
        let s = sent(&acts);
        if metric_in(&s, IF2, "2001:db8:bb::/48").is_some() {
            assert_eq!(metric_in(&s, IF2, "2001:db8:cc::/48"), Some(2));
            when = Some(ms + 50);
            break;
        }
    }
    let when = when.expect("held triggered update never sent");
    assert!((1000..=5050).contains(&when), "held {when} ms");
    assert!(lab.now - t0 >= Duration::from_secs(1));
}

#[test]
fn regular_updates_every_30s_with_jitter() {
    let (mut lab, _) = Lab::new(cfg());
    let mut times = Vec::new();
    for _ in 0..(20 * 60 * 10) {
        let acts = lab.run_for(Duration::from_millis(100));
        if sent(&acts)
            .iter()
            .any(|(i, _, r)| *i == IF1 && r.command == Command::Response)
        {
            times.push(lab.now);
        }
    }
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    assert!(gaps.len() >= 25, "{} updates in 20 min", gaps.len());
    assert!(gaps.iter().all(|g| (14.9..=45.1).contains(g)), "{gaps:?}");
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    assert!((25.0..=35.0).contains(&mean), "mean {mean}");
    // Jittered, not a fixed period.
    assert!(gaps.iter().any(|g| (g - gaps[0]).abs() > 1.0));
    // The update carries our connected prefix at metric 1.
}

#[test]
fn exports_connected_and_kernel_routes_only() {
    let (mut lab, _) = Lab::new(cfg());
    lab.kv
        .routes
        .push(kroute("2001:db8:5::/48", rtprot::STATIC));
    lab.kv
        .routes
        .push(kroute("2001:db8:6::/48", rtprot::V6ROUTER));
    lab.kv.routes.push(kroute("2001:db8:7::/48", rtprot::BOOT));
    lab.kv
        .routes
        .push(kroute("2001:db8:8::/48", rtprot::KERNEL));
    lab.kv.routes.push(kroute("2001:db8:9::/48", rtprot::RA));
    lab.kv.routes.push(kroute("fe80::/64", rtprot::STATIC));
    lab.kv.routes.push(kroute("::/0", rtprot::STATIC));
    lab.kernel();
    let local: BTreeSet<String> = lab
        .e
        .routes()
        .filter(|r| r.origin.is_local())
        .map(|r| r.prefix.to_string())
        .collect();
    let want: BTreeSet<String> = [
        "2001:db8:1::/64",
        "2001:db8:5::/48",
        "2001:db8:6::/48",
        "2001:db8:7::/48",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(local, want);
    // Advertised at metric 1 in the next regular update.
    let acts = lab.run_for(Duration::from_secs(46));
    assert_eq!(metric_in(&sent(&acts), IF1, "2001:db8:5::/48"), Some(1));
    assert_eq!(metric_in(&sent(&acts), IF1, "2001:db8:1::/64"), Some(1));
}

#[test]
fn default_route_only_when_asked_and_filters() {
    let mut c = cfg();
    c.export.default_route = true;
    c.export.prefixes = vec!["2001:db8:5::/48+".parse().unwrap(), "::/0".parse().unwrap()];
    let (mut lab, _) = Lab::new(c);
    lab.kv.routes.push(kroute("::/0", rtprot::STATIC));
    lab.kv
        .routes
        .push(kroute("2001:db8:5:1::/64", rtprot::STATIC));
    lab.kv
        .routes
        .push(kroute("2001:db8:6::/48", rtprot::STATIC));
    lab.kernel();
    let mut local: Vec<Ipv6Prefix> = lab
        .e
        .routes()
        .filter(|r| r.origin.is_local())
        .map(|r| r.prefix)
        .collect();
    local.sort();
    assert_eq!(local, vec![p("::/0"), p("2001:db8:5:1::/64")]);
}

#[test]
fn withdrawn_local_route_is_advertised_at_infinity() {
    let (mut lab, _) = Lab::new(cfg());
    lab.kv
        .routes
        .push(kroute("2001:db8:5::/48", rtprot::STATIC));
    lab.kernel();
    lab.run_for(Duration::from_secs(10));
    lab.kv.routes.clear();
    let acts = lab.kernel();
    let acts = [acts, lab.run_for(Duration::from_secs(6))].concat();
    assert_eq!(metric_in(&sent(&acts), IF1, "2001:db8:5::/48"), Some(16));
    lab.run_for(Duration::from_secs(121));
    assert!(lab.e.route(&p("2001:db8:5::/48")).is_none());
}

#[test]
fn local_route_wins_over_learned() {
    let (mut lab, _) = Lab::new(cfg());
    let acts = lab.response(NB_A, IF1, &[("2001:db8:1::/64", 1)]).unwrap();
    assert!(installs(&acts).is_empty());
    lab.response(NB_A, IF1, &[("2001:db8:5::/48", 1)]).unwrap();
    lab.kv
        .routes
        .push(kroute("2001:db8:5::/48", rtprot::STATIC));
    let acts = lab.kernel();
    assert_eq!(removes(&acts).len(), 1);
    assert!(lab
        .e
        .route(&p("2001:db8:5::/48"))
        .unwrap()
        .origin
        .is_local());
}

#[test]
fn whole_table_request_answers_requester_with_split_horizon() {
    let (mut lab, _) = Lab::new(cfg());
    lab.response(NB_A, IF1, &[("2001:db8:aa::/48", 1)]).unwrap();
    lab.run_for(Duration::from_secs(6));
    let req = Repr::whole_table_request();
    // Not to an off-link requester (amplification).
    let far = lab.rx("2001:db8::66", 4242, IF1, Some(64), &req.to_bytes());
    assert_eq!(far, Err(Drop::NotLinkLocal(a("2001:db8::66"))));
    let acts = lab.rx(NB_A, 4242, IF1, Some(1), &req.to_bytes()).unwrap();
    let s = sent(&acts);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].1, SocketAddrV6::new(a(NB_A), 4242, 0, IF1));
    assert_eq!(metric_in(&s, IF1, "2001:db8:aa::/48"), Some(16));
    assert_eq!(metric_in(&s, IF1, "2001:db8:1::/64"), Some(1));
}

#[test]
fn specific_request_fills_metrics_without_split_horizon() {
    let (mut lab, _) = Lab::new(cfg());
    lab.response(NB_A, IF1, &[("2001:db8:aa::/48", 1)]).unwrap();
    let req = Repr::parse_bytes(&response_bytes(&[
        ("2001:db8:aa::/48", 16),
        ("2001:db8:ff::/48", 16),
    ]))
    .unwrap();
    let req = Repr {
        command: Command::Request,
        ..req
    };
    let acts = lab
        .rx("2001:db8::77", 3333, IF1, Some(64), &req.to_bytes())
        .unwrap();
    let s = sent(&acts);
    assert_eq!(s[0].1, SocketAddrV6::new(a("2001:db8::77"), 3333, 0, IF1));
    assert_eq!(metric_in(&s, IF1, "2001:db8:aa::/48"), Some(2));
    assert_eq!(metric_in(&s, IF1, "2001:db8:ff::/48"), Some(16));
}

#[test]
fn kernel_dump_removes_foreign_and_puts_back_missing() {
    let (mut lab, _) = Lab::new(cfg());
    // A route of ours left by a crash: removed at the first dump.
    let mut stale = kroute("2001:db8:dead::/48", rtprot::RIP);
    stale.gateway = Some(a("fe80::dead"));
    let acts = lab
        .e
        .kernel_rip_routes(lab.now, std::slice::from_ref(&stale));
    assert_eq!(removes(&acts), vec![stale.clone()]);
    assert!(installs(&acts).is_empty());
    assert!(lab.e.saw_stale_routes());
    let acts = lab.response(NB_A, IF1, &[("2001:db8:aa::/48", 1)]).unwrap();
    let ours = installs(&acts)[0].clone();
    assert_eq!(ours.protocol, rtprot::RIP);
    // A dump that shows it: nothing to do.
    assert!(lab
        .e
        .kernel_rip_routes(lab.now, std::slice::from_ref(&ours))
        .is_empty());
    // One without it (notifications were lost meanwhile): put back.
    let acts = lab.e.kernel_rip_routes(lab.now, &[]);
    assert_eq!(installs(&acts), vec![ours.clone()]);
    // Other tables are not ours to judge.
    let mut other = stale.clone();
    other.table = 100;
    let acts = lab.e.kernel_rip_routes(lab.now, &[ours, other]);
    assert!(acts.is_empty());
}

#[test]
fn kernel_changes_by_others_are_undone() {
    let (mut lab, _) = Lab::new(cfg());
    let acts = lab.response(NB_A, IF1, &[("2001:db8:aa::/48", 1)]).unwrap();
    let ours = installs(&acts)[0].clone();
    // An admin deletes it: put back at once.
    let acts = lab.e.kernel_rip_deleted(lab.now, &ours);
    assert_eq!(installs(&acts), vec![ours.clone()]);
    // The deletion of a route that is not (or no longer) ours: nothing.
    let mut gone = ours.clone();
    gone.gateway = Some(a("fe80::99"));
    assert!(lab.e.kernel_rip_deleted(lab.now, &gone).is_empty());
    // Someone replaces ours with another next hop: theirs goes, ours back.
    let acts = lab.e.kernel_rip_added(lab.now, &gone);
    assert_eq!(removes(&acts), vec![gone.clone()]);
    assert_eq!(installs(&acts), vec![ours.clone()]);
    // Someone adds a rip route for a prefix we do not hold: removed.
    let foreign = kroute("2001:db8:f0::/48", rtprot::RIP);
    let acts = lab.e.kernel_rip_added(lab.now, &foreign);
    assert_eq!(removes(&acts), vec![foreign]);
    assert!(installs(&acts).is_empty());
    // Exactly ours, added again: nothing.
    assert!(lab.e.kernel_rip_added(lab.now, &ours).is_empty());
    // Once the route timed out it is no longer ours to put back.
    let acts = lab.run_for(Duration::from_secs(181));
    assert_eq!(removes(&acts), vec![ours.clone()]);
    assert!(lab.e.kernel_rip_deleted(lab.now, &ours).is_empty());
    assert_eq!(removes(&lab.e.kernel_rip_added(lab.now, &ours)), vec![ours]);
}

#[test]
fn import_limit_and_filter() {
    let mut c = cfg();
    c.import.limit = Some(2);
    c.import.prefixes = vec!["2001:db8::/32{48,64}".parse().unwrap()];
    let (mut lab, _) = Lab::new(c);
    let acts = lab
        .response(
            NB_A,
            IF1,
            &[
                ("2001:db8:a::/48", 1),
                ("2001:db8:b::/48", 1),
                ("2001:db8:c::/48", 1),
                ("2001:db8::/32", 1),
            ],
        )
        .unwrap();
    assert_eq!(installs(&acts).len(), 2);
    assert_eq!(lab.e.stats.rx_over_limit, 1);
    assert_eq!(lab.e.stats.rx_filtered, 1);
}

#[test]
fn interface_down_kills_its_routes() {
    let (mut lab, _) = Lab::new(cfg());
    lab.response(NB_A, IF1, &[("2001:db8:aa::/48", 1)]).unwrap();
    lab.kv.links.get_mut(&IF1).unwrap().running = false;
    let acts = lab.kernel();
    assert_eq!(removes(&acts).len(), 1);
    assert_eq!(lab.e.route(&p("2001:db8:aa::/48")).unwrap().metric, 16);
    assert_eq!(lab.e.neighbours().count(), 0);
}

#[test]
fn updates_are_paced_and_mtu_bounded() {
    let mut c = cfg();
    c.pace_burst = 10;
    c.pace_gap = Duration::from_millis(1);
    let (mut lab, _) = Lab::new(c);
    // 10,000 routes from A: 139 datagrams of 72.
    let mut all = Vec::new();
    for chunk in 0..139u16 {
        let rtes: Vec<(String, u8)> = (0..72u16)
            .map(|i| (format!("2001:db8:{:x}:{:x}::/64", chunk + 0x100, i), 1))
            .take(if chunk == 138 { 10_000 - 138 * 72 } else { 72 })
            .collect();
        let refs: Vec<(&str, u8)> = rtes.iter().map(|(s, m)| (s.as_str(), *m)).collect();
        all.extend(lab.response(NB_A, IF1, &refs).unwrap());
    }
    assert_eq!(installs(&all).len(), 10_000);
    // Whatever goes out on eth1 now (the triggered update of 10,000
    // routes, then regular updates) leaves in bursts of at most 10, then
    // one per ms: 139 full datagrams take at least 129 ms.
    let mut times = Vec::new();
    for ms in 0..60_000u32 {
        let acts = lab.run_for(Duration::from_millis(1));
        let n = sent(&acts)
            .iter()
            .filter(|(i, _, r)| *i == IF2 && r.rtes.len() > 50)
            .count();
        assert!(n <= 10, "{n} datagrams in one ms");
        for (_, _, r) in sent(&acts) {
            assert!(r.buffer_len() <= 1500 - 48);
        }
        times.extend(std::iter::repeat_n(ms, n));
        if times.len() >= 139 {
            break;
        }
    }
    assert!(times.len() >= 139);
    assert!(times[138] - times[0] >= 129, "{} ms", times[138] - times[0]);
}

#[test]
fn paced_datagrams_leave_in_small_groups() {
    let mut c = cfg();
    c.pace_burst = 8;
    c.pace_gap = Duration::from_millis(5);
    let (mut lab, _) = Lab::new(c);
    // 100 datagrams' worth of routes, learned at once: the triggered update
    // on eth1 is queued in one go.
    let rtes: Vec<(String, u8)> = (0..7200u16)
        .map(|i| {
            (
                format!("2001:db8:{:x}:{:x}::/64", 0x100 + i / 72, i % 72),
                1,
            )
        })
        .collect();
    let refs: Vec<(&str, u8)> = rtes.iter().map(|(s, m)| (s.as_str(), *m)).collect();
    lab.response(NB_A, IF1, &refs).unwrap();
    // Past the triggered-update hold of the start, until it is queued.
    let mut sends = 0;
    while lab.e.tx_pending() == 0 {
        lab.now = lab.e.next_timer().unwrap();
        sends = sent(&lab.e.on_timer(lab.now)).len();
    }
    let start = lab.now;
    let mut wakeups = 0;
    while lab.e.tx_pending() > 0 {
        let t = lab.e.next_timer().unwrap();
        lab.now = lab.now.max(t);
        let n = sent(&lab.e.on_timer(lab.now)).len();
        assert!(n as u32 <= TX_GROUP, "{n} datagrams in one wakeup");
        sends += n;
        wakeups += 1;
    }
    assert!(sends >= 100, "{sends}");
    // The rate stays one per gap after the first burst ...
    let took = lab.now - start;
    assert!(
        took >= Duration::from_millis(5) * (sends as u32 - 16),
        "{took:?}"
    );
    // ... with a fraction of the wakeups.
    assert!(
        wakeups * (TX_GROUP as usize - 1) < sends,
        "{wakeups} wakeups for {sends} datagrams"
    );
}

/// A refused install: the route stays wanted, is marked and counted, and
/// goes to the kernel again after 1 s; a second refusal counts as lasting.
/// A route withdrawn meanwhile is not retried.
#[test]
fn refused_install_is_marked_counted_and_retried() {
    let (mut lab, _) = Lab::new(cfg());
    let acts = lab
        .response(
            NB_A,
            IF1,
            &[("2001:db8:aa::/48", 1), ("2001:db8:ab::/48", 1)],
        )
        .unwrap();
    let inst = installs(&acts);
    assert_eq!(inst.len(), 2);
    assert_eq!(
        lab.e.kernel_install_failed(lab.now, &inst),
        0,
        "a first refusal is not lasting"
    );
    assert_eq!(lab.e.stats.install_failures, 2);
    assert_eq!(lab.e.failed_installs(), 2);
    let r = lab.e.route(&p("2001:db8:aa::/48")).unwrap();
    assert!(r.installed && r.install_failed);
    // A report about a route that is not what we asked for changes nothing.
    let mut other = inst[0].clone();
    other.gateway = Some(a(NB_B));
    assert_eq!(lab.e.kernel_install_failed(lab.now, &[other]), 0);
    assert_eq!(lab.e.stats.install_failures, 2);
    // ab goes away (metric 16) before the retry: only aa is retried.
    lab.response(NB_A, IF1, &[("2001:db8:ab::/48", 16)])
        .unwrap();
    let acts = lab.run_for(Duration::from_millis(900));
    assert!(installs(&acts).is_empty(), "no retry before 1 s");
    let acts = lab.run_for(Duration::from_millis(200));
    let again = installs(&acts);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0], inst[0]);
    assert!(!lab.e.route(&p("2001:db8:aa::/48")).unwrap().install_failed);
    // Refused again: lasting; the next retry waits 2 s.
    assert_eq!(lab.e.kernel_install_failed(lab.now, &again), 1);
    let acts = lab.run_for(Duration::from_millis(1900));
    assert!(installs(&acts).is_empty());
    let acts = lab.run_for(Duration::from_millis(200));
    assert_eq!(installs(&acts), again);
    assert_eq!(lab.e.failed_installs(), 0);
}

/// Learned routes share their source (neighbour, next hop, interface); a
/// source no route uses any more is freed, so next hops that come and go
/// do not pile up.
#[test]
fn sources_are_shared_and_freed() {
    let (mut lab, _) = Lab::new(cfg());
    let many: Vec<String> = (0..50).map(|i| format!("2001:db8:{i:x}::/48")).collect();
    let rtes: Vec<(&str, u8)> = many.iter().map(|s| (s.as_str(), 1)).collect();
    lab.response(NB_A, IF1, &rtes).unwrap();
    lab.response(NB_B, IF2, &rtes[..10]).unwrap();
    assert_eq!(lab.e.sources.iter().filter(|s| s.1 > 0).count(), 1);
    // A's route to the first prefix worsens; B's (equal to A's others,
    // which stay) takes it over: two sources in use.
    lab.response(NB_A, IF1, &[(many[0].as_str(), 5)]).unwrap();
    lab.response(NB_B, IF2, &rtes[..10]).unwrap();
    assert!(
        matches!(lab.e.route(&p(&many[0])).unwrap().origin, Origin::Learned { from, .. } if from == a(NB_B))
    );
    let used: Vec<u32> = lab
        .e
        .sources
        .iter()
        .map(|s| s.1)
        .filter(|u| *u > 0)
        .collect();
    assert_eq!(used.len(), 2, "{used:?}");
    assert_eq!(used.iter().sum::<u32>(), 50);
    // Everything times out and is collected: no source is left in use.
    lab.run_for(Duration::from_secs(180 + 120 + 5));
    assert!(lab.e.routes().all(|r| r.origin.is_local()));
    assert!(lab.e.sources.iter().all(|s| s.1 == 0));
    assert!(lab.e.source_ids.is_empty());
    assert_eq!(lab.e.free_sources.len(), lab.e.sources.len());
}
