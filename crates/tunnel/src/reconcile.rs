//! The pure decision: given what the configuration wants and what the kernel
//! has, which link, address and route requests bring the kernel in line.
//!
//! `reconcile` is idempotent: run it again on the kernel's new state and it
//! answers only `Keep`. The supervisor runs it at start, on every kernel
//! event touching a tunnel or a WAN IPv4 address, on reload, and on a slow
//! timer as a safety net; `stop` gives the clean-up for shutdown.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};
use v6common::kernel::rtprot;
use v6common::Ipv6Prefix;

use crate::desired::{LocalEndpoint, TunnelAddress, TunnelSpec};
use crate::observed::{Observed, ObservedLink, SitParams, PROTO_ANY, PROTO_IPV6};

/// Everything needed to create a SIT link: the equivalent of
/// `ip tunnel add NAME mode sit remote R local L ttl T [no]pmtudisc` + `mtu M`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SitLink {
    pub name: String,
    pub remote: Ipv4Addr,
    pub local: Ipv4Addr,
    pub ttl: u8,
    pub pmtudisc: bool,
    pub mtu: u32,
}

/// One step towards the desired state. Links are named rather than indexed
/// where the step may follow a `Create` (whose index is not known yet);
/// deletions carry the index so they never hit a link re-made meanwhile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// The link does not exist: create it (and tag it as ours).
    Create {
        link: SitLink,
        reason: String,
    },
    /// The link exists with other parameters: delete it and create it anew.
    Recreate {
        index: u32,
        link: SitLink,
        reason: String,
    },
    /// The link exists as wanted (repairs, if any, follow as further actions).
    Keep {
        name: String,
    },
    /// Nothing can be done yet (no WAN IPv4 address, a foreign link in the way).
    Wait {
        name: String,
        reason: String,
    },
    SetMtu {
        name: String,
        mtu: u32,
        was: u32,
    },
    SetUp {
        name: String,
    },
    AddAddress {
        name: String,
        addr: TunnelAddress,
    },
    DelAddress {
        name: String,
        addr: TunnelAddress,
    },
    /// Routes go in with `protocol` = [`rtprot::V6ROUTER`] so they can be found again.
    AddRoute {
        name: String,
        dst: Ipv6Prefix,
        metric: u32,
        protocol: u8,
    },
    DelRoute {
        name: String,
        dst: Ipv6Prefix,
        metric: u32,
        protocol: u8,
    },
    Delete {
        name: String,
        index: u32,
        reason: String,
    },
}

impl Action {
    /// The tunnel this action is about.
    pub fn tunnel(&self) -> &str {
        match self {
            Action::Create { link, .. } | Action::Recreate { link, .. } => &link.name,
            Action::Keep { name }
            | Action::Wait { name, .. }
            | Action::SetMtu { name, .. }
            | Action::SetUp { name }
            | Action::AddAddress { name, .. }
            | Action::DelAddress { name, .. }
            | Action::AddRoute { name, .. }
            | Action::DelRoute { name, .. }
            | Action::Delete { name, .. } => name,
        }
    }

    /// True for actions that ask the kernel for something.
    pub fn changes_kernel(&self) -> bool {
        !matches!(self, Action::Keep { .. } | Action::Wait { .. })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Create { link, reason } => write!(
                f,
                "{}: create sit remote {} local {} ttl {}{} mtu {} ({reason})",
                link.name,
                link.remote,
                link.local,
                link.ttl,
                if link.pmtudisc { "" } else { " nopmtudisc" },
                link.mtu
            ),
            Action::Recreate { link, reason, .. } => write!(
                f,
                "{}: re-create sit remote {} local {} ttl {}{} mtu {} ({reason})",
                link.name,
                link.remote,
                link.local,
                link.ttl,
                if link.pmtudisc { "" } else { " nopmtudisc" },
                link.mtu
            ),
            Action::Keep { name } => write!(f, "{name}: matches the configuration"),
            Action::Wait { name, reason } => write!(f, "{name}: waiting ({reason})"),
            Action::SetMtu { name, mtu, was } => write!(f, "{name}: set mtu {mtu} (was {was})"),
            Action::SetUp { name } => write!(f, "{name}: set up"),
            Action::AddAddress { name, addr } => write!(f, "{name}: add address {addr}"),
            Action::DelAddress { name, addr } => write!(f, "{name}: remove address {addr}"),
            Action::AddRoute {
                name,
                dst,
                metric,
                protocol,
            } => {
                write!(
                    f,
                    "{name}: add route {dst} metric {metric} proto {}",
                    rtprot::name(*protocol)
                )
            }
            Action::DelRoute {
                name,
                dst,
                metric,
                protocol,
            } => {
                write!(
                    f,
                    "{name}: remove route {dst} metric {metric} proto {}",
                    rtprot::name(*protocol)
                )
            }
            Action::Delete { name, reason, .. } => write!(f, "{name}: delete ({reason})"),
        }
    }
}

/// What v6routerd remembers between runs of `reconcile`: the addresses it
/// added (the kernel keeps no owner for addresses). Links carry their owner
/// in the kernel ([`crate::observed::OWNER_ALIAS`]); routes carry it in their
/// protocol ([`rtprot::V6ROUTER`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    addrs_added: BTreeMap<String, BTreeSet<TunnelAddress>>,
}

impl Memory {
    /// Note an action the kernel accepted.
    pub fn record(&mut self, action: &Action) {
        match action {
            Action::Create { link, .. } | Action::Recreate { link, .. } => {
                // A new link starts with no address of ours.
                self.addrs_added.remove(&link.name);
            }
            Action::Delete { name, .. } => {
                self.addrs_added.remove(name);
            }
            Action::AddAddress { name, addr } => {
                self.addrs_added
                    .entry(name.clone())
                    .or_default()
                    .insert(*addr);
            }
            Action::DelAddress { name, addr } => {
                if let Some(s) = self.addrs_added.get_mut(name) {
                    s.remove(addr);
                }
            }
            _ => {}
        }
    }

    pub fn added(&self, name: &str) -> impl Iterator<Item = &TunnelAddress> {
        self.addrs_added.get(name).into_iter().flatten()
    }
}

/// Resolve the local endpoint: a fixed address, or the primary IPv4 address
/// of the WAN interface. Err is the reason there is none (yet).
pub fn resolve_local(spec: &TunnelSpec, observed: &Observed) -> Result<Ipv4Addr, String> {
    match &spec.local {
        LocalEndpoint::Fixed(a) => Ok(*a),
        LocalEndpoint::Auto { wan } => match observed.wan_ipv4.get(wan) {
            None => Err(format!("WAN interface {wan} does not exist")),
            Some(v) => v
                .first()
                .copied()
                .ok_or_else(|| format!("no IPv4 address on {wan} yet")),
        },
    }
}

fn mode_name(proto: u8) -> String {
    match proto {
        PROTO_IPV6 => "ip6ip".into(),
        PROTO_ANY => "any".into(),
        4 => "ipip".into(),
        137 => "mplsip".into(),
        n => format!("proto {n}"),
    }
}

fn show_v4(a: Option<Ipv4Addr>) -> String {
    a.map_or_else(|| "any".to_string(), |a| a.to_string())
}

/// What differs between the link we want and the parameters the kernel has,
/// in words, one item per parameter; empty when they match.
pub fn differences(want: &SitLink, have: &SitParams, local: &LocalEndpoint) -> Vec<String> {
    let mut d = Vec::new();
    if have.remote != Some(want.remote) {
        d.push(format!(
            "remote is {}, want {}",
            show_v4(have.remote),
            want.remote
        ));
    }
    if have.local != Some(want.local) {
        let src = match local {
            LocalEndpoint::Auto { wan } => format!(" (the address of {wan})"),
            LocalEndpoint::Fixed(_) => String::new(),
        };
        d.push(format!(
            "local is {}, want {}{src}",
            show_v4(have.local),
            want.local
        ));
    }
    if have.ttl != want.ttl {
        let t = |t: u8| {
            if t == 0 {
                "inherit".to_string()
            } else {
                t.to_string()
            }
        };
        d.push(format!("ttl is {}, want {}", t(have.ttl), t(want.ttl)));
    }
    if have.pmtudisc != want.pmtudisc {
        let p = |b: bool| if b { "pmtudisc" } else { "nopmtudisc" };
        d.push(format!("{}, want {}", p(have.pmtudisc), p(want.pmtudisc)));
    }
    if have.proto != PROTO_IPV6 {
        d.push(format!(
            "mode is {}, want ip6ip (mode sit)",
            mode_name(have.proto)
        ));
    }
    d
}

/// Actions that bring an existing, correctly parametrised link to the rest
/// of the desired state: MTU, admin state, address, routes; and that take
/// away addresses and routes of ours the configuration no longer names.
fn maintain(spec: &TunnelSpec, link: &ObservedLink, memory: &Memory, out: &mut Vec<Action>) {
    let name = &spec.name;
    if link.mtu != spec.mtu {
        out.push(Action::SetMtu {
            name: name.clone(),
            mtu: spec.mtu,
            was: link.mtu,
        });
    }
    if !link.admin_up {
        out.push(Action::SetUp { name: name.clone() });
    }
    if let Some(want) = spec.address {
        match link.addrs.iter().find(|a| a.addr == want.addr) {
            Some(have) if have.prefix_len == want.prefix_len => {}
            Some(have) => {
                // Same address with another length: the kernel refuses a
                // second one (EEXIST), so take the old one away first.
                out.push(Action::DelAddress {
                    name: name.clone(),
                    addr: *have,
                });
                out.push(Action::AddAddress {
                    name: name.clone(),
                    addr: want,
                });
            }
            None => out.push(Action::AddAddress {
                name: name.clone(),
                addr: want,
            }),
        }
    }
    for stale in memory.added(name) {
        if Some(*stale) != spec.address && link.addrs.contains(stale) {
            out.push(Action::DelAddress {
                name: name.clone(),
                addr: *stale,
            });
        }
    }
    let wanted = spec.wanted_routes();
    for dst in &wanted {
        if !link
            .routes
            .iter()
            .any(|r| r.dst == *dst && r.metric == spec.metric)
        {
            out.push(Action::AddRoute {
                name: name.clone(),
                dst: *dst,
                metric: spec.metric,
                protocol: rtprot::V6ROUTER,
            });
        }
    }
    for r in &link.routes {
        if r.protocol == rtprot::V6ROUTER && !(wanted.contains(&r.dst) && r.metric == spec.metric) {
            out.push(Action::DelRoute {
                name: name.clone(),
                dst: r.dst,
                metric: r.metric,
                protocol: r.protocol,
            });
        }
    }
}

/// What a freshly created link needs after `Create`/`Recreate`.
fn populate(spec: &TunnelSpec, out: &mut Vec<Action>) {
    out.push(Action::SetUp {
        name: spec.name.clone(),
    });
    if let Some(addr) = spec.address {
        out.push(Action::AddAddress {
            name: spec.name.clone(),
            addr,
        });
    }
    for dst in spec.wanted_routes() {
        out.push(Action::AddRoute {
            name: spec.name.clone(),
            dst,
            metric: spec.metric,
            protocol: rtprot::V6ROUTER,
        });
    }
}

/// Decide, for every desired tunnel and every tunnel of ours, what to do.
/// `observed` must hold every link named by `desired` and every link tagged
/// as ours, plus the IPv4 addresses of every `wan` named by `desired`.
pub fn reconcile(desired: &[TunnelSpec], observed: &Observed, memory: &Memory) -> Vec<Action> {
    let mut out = Vec::new();
    // Tunnels we made that the configuration no longer names go first: a
    // renamed tunnel keeps its endpoints, and the sit driver refuses a second
    // tunnel with the same local/remote pair (EEXIST) while the old one lives.
    for l in observed.links.values() {
        if l.is_ours() && l.is_sit() && !desired.iter().any(|s| s.name == l.name) {
            out.push(Action::Delete {
                name: l.name.clone(),
                index: l.index,
                reason: "no longer in the configuration".into(),
            });
        }
    }
    for spec in desired {
        let name = &spec.name;
        let existing = observed.link(name);
        if let Some(l) = existing {
            if !l.is_sit() {
                out.push(Action::Wait {
                    name: name.clone(),
                    reason: format!(
                        "a {} link named {name} is in the way; not touching it",
                        l.kind.as_deref().unwrap_or("non-sit")
                    ),
                });
                continue;
            }
        }
        let local = match resolve_local(spec, observed) {
            Ok(a) => a,
            Err(reason) => {
                // Keep an existing tunnel as it is (the ISP may hand the
                // address back in a moment) but keep it in repair.
                out.push(Action::Wait {
                    name: name.clone(),
                    reason,
                });
                if let Some(l) = existing {
                    maintain(spec, l, memory, &mut out);
                }
                continue;
            }
        };
        let want = SitLink {
            name: name.clone(),
            remote: spec.remote,
            local,
            ttl: spec.ttl,
            pmtudisc: spec.pmtudisc,
            mtu: spec.mtu,
        };
        match existing {
            None => {
                out.push(Action::Create {
                    link: want,
                    reason: "not present".into(),
                });
                populate(spec, &mut out);
            }
            Some(l) => {
                let diff = match &l.sit {
                    Some(have) => differences(&want, have, &spec.local),
                    None => vec!["the kernel reported no SIT parameters".into()],
                };
                if diff.is_empty() {
                    out.push(Action::Keep { name: name.clone() });
                    maintain(spec, l, memory, &mut out);
                } else {
                    out.push(Action::Recreate {
                        index: l.index,
                        link: want,
                        reason: diff.join("; "),
                    });
                    populate(spec, &mut out);
                }
            }
        }
    }
    out
}

/// The clean-up when v6routerd stops: delete the tunnels we made unless told
/// to keep them; on tunnels someone else made, take back only our routes and
/// the addresses we added.
pub fn stop(desired: &[TunnelSpec], observed: &Observed, memory: &Memory) -> Vec<Action> {
    let mut out = Vec::new();
    for l in observed.links.values() {
        let spec = desired.iter().find(|s| s.name == l.name);
        if spec.is_some_and(|s| s.keep_on_stop) || !l.is_sit() {
            continue;
        }
        if l.is_ours() {
            out.push(Action::Delete {
                name: l.name.clone(),
                index: l.index,
                reason: "v6routerd is stopping".into(),
            });
        } else if spec.is_some() {
            for r in l.routes.iter().filter(|r| r.protocol == rtprot::V6ROUTER) {
                out.push(Action::DelRoute {
                    name: l.name.clone(),
                    dst: r.dst,
                    metric: r.metric,
                    protocol: r.protocol,
                });
            }
            for a in memory.added(&l.name) {
                if l.addrs.contains(a) {
                    out.push(Action::DelAddress {
                        name: l.name.clone(),
                        addr: *a,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
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
        let want = SitLink {
            name: "he6".into(),
            remote: REMOTE,
            local: LOCAL,
            ttl: 255,
            pmtudisc: true,
            mtu: 1480,
        };
        assert_eq!(
            plan,
            vec![
                Action::Create {
                    link: want,
                    reason: "not present".into()
                },
                Action::SetUp { name: "he6".into() },
                Action::AddAddress {
                    name: "he6".into(),
                    addr: "2001:db8:f::2/64".parse().unwrap()
                },
                Action::AddRoute {
                    name: "he6".into(),
                    dst: p("::/0"),
                    metric: 1024,
                    protocol: rtprot::V6ROUTER
                },
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
            let plan = reconcile(&[he6()], &with(vec![l]), &Memory::default());
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
        let plan = reconcile(&[he6()], &with(vec![l]), &Memory::default());
        assert!(matches!(&plan[0], Action::Recreate { reason, .. }
            if reason == "remote is 198.51.100.9, want 198.51.100.1; ttl is 64, want 255"));
    }

    #[test]
    fn missing_sit_data_recreates() {
        let mut l = good_link(true);
        l.sit = None;
        let plan = reconcile(&[he6()], &with(vec![l]), &Memory::default());
        assert!(
            matches!(&plan[0], Action::Recreate { reason, .. } if reason.contains("no SIT parameters"))
        );
    }

    #[test]
    fn down_tunnel_is_set_up_without_recreate() {
        let mut l = good_link(true);
        l.admin_up = false;
        let plan = reconcile(&[he6()], &with(vec![l]), &Memory::default());
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
        let mut l = good_link(true);
        l.addrs.retain(|a| a.addr.segments()[0] == 0xfe80);
        l.routes.clear();
        let plan = reconcile(&[he6()], &with(vec![l]), &Memory::default());
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
        let mut l = good_link(true);
        l.routes = vec![ObservedRoute {
            dst: p("::/0"),
            metric: 512,
            protocol: rtprot::BOOT,
        }];
        let plan = reconcile(&[he6()], &with(vec![l]), &Memory::default());
        // Ours is added; the one someone else made stays.
        assert_eq!(plan.len(), 2);
        assert!(matches!(plan[1], Action::AddRoute { metric: 1024, .. }));
    }

    #[test]
    fn address_with_other_length_is_replaced() {
        let mut l = good_link(true);
        l.addrs = vec!["2001:db8:f::2/128".parse().unwrap()];
        let plan = reconcile(&[he6()], &with(vec![l]), &Memory::default());
        assert_eq!(
            &plan[1..],
            &[
                Action::DelAddress {
                    name: "he6".into(),
                    addr: "2001:db8:f::2/128".parse().unwrap()
                },
                Action::AddAddress {
                    name: "he6".into(),
                    addr: "2001:db8:f::2/64".parse().unwrap()
                },
            ]
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
                Action::AddAddress {
                    name: "he6".into(),
                    addr: "2001:db8:e::2/64".parse().unwrap()
                },
                Action::DelAddress {
                    name: "he6".into(),
                    addr: "2001:db8:f::2/64".parse().unwrap()
                },
                Action::DelRoute {
                    name: "he6".into(),
                    dst: p("::/0"),
                    metric: 1024,
                    protocol: rtprot::V6ROUTER
                },
                Action::DelRoute {
                    name: "he6".into(),
                    dst: p("2001:db8:aa::/48"),
                    metric: 1024,
                    protocol: rtprot::V6ROUTER
                },
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
        assert_eq!(
            plan,
            vec![Action::Wait {
                name: "he6".into(),
                reason: "WAN interface eth0 does not exist".into()
            }]
        );
        o.wan_ipv4.insert("eth0".into(), vec![]);
        let plan = reconcile(&[auto_he6()], &o, &Memory::default());
        assert_eq!(
            plan,
            vec![Action::Wait {
                name: "he6".into(),
                reason: "no IPv4 address on eth0 yet".into()
            }]
        );
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
                Action::Wait {
                    name: "he6".into(),
                    reason: "no IPv4 address on eth0 yet".into()
                },
                Action::SetUp { name: "he6".into() },
            ]
        );
    }

    #[test]
    fn foreign_link_of_the_same_name_is_left_alone() {
        let mut l = good_link(false);
        l.kind = Some("veth".into());
        l.sit = None;
        let plan = reconcile(&[he6()], &with(vec![l]), &Memory::default());
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
        assert_eq!(
            plan,
            vec![
                Action::DelRoute {
                    name: "he6".into(),
                    dst: p("::/0"),
                    metric: 1024,
                    protocol: rtprot::V6ROUTER
                },
                Action::DelAddress {
                    name: "he6".into(),
                    addr: "2001:db8:f::2/64".parse().unwrap()
                },
            ]
        );
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
            link: SitLink {
                name: "he6".into(),
                remote: REMOTE,
                local: LOCAL,
                ttl: 255,
                pmtudisc: true,
                mtu: 1480,
            },
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
}
