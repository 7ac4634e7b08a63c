//! The pure decision: given what the configuration wants and what the kernel
//! has, which link, address and route requests bring the kernel in line.
//!
//! `reconcile` is idempotent: run it again on the kernel's new state and it
//! answers only `Keep`. The tunnel service (crates/v6routerd/src/tunnel.rs,
//! not the supervisor) runs it at start, on every kernel event touching a
//! tunnel or a WAN IPv4 address, on reload, and every 30 s as a safety net;
//! `stop` gives the clean-up for shutdown.
//!
//! Tests: `reconcile/tests.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};
use v6common::kernel::rtprot;
use v6common::Ipv6Prefix;

use crate::desired::{LocalEndpoint, TunnelAddress, TunnelSpec};
use crate::observed::{Observed, ObservedLink, SitParams, PROTO_ANY, PROTO_IPV6};

pub use v6common::kernel::SitLink;

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
            Action::Create { link, reason } => write!(f, "{}: create {link} ({reason})", link.name),
            Action::Recreate { link, reason, .. } => {
                write!(f, "{}: re-create {link} ({reason})", link.name)
            }
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
            }
            | Action::DelRoute {
                name,
                dst,
                metric,
                protocol,
            } => {
                let verb = match self {
                    Action::AddRoute { .. } => "add",
                    _ => "remove",
                };
                write!(
                    f,
                    "{name}: {verb} route {dst} metric {metric} proto {}",
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
mod tests;
