//! `show route`, assembled as BIRD's rt-show does: the kernel's routes (as
//! BIRD's kernel protocol learns them), connected prefixes (BIRD's
//! direct), and the routes each protocol contributes (RIPng's table; see
//! `Service::routes`). Protocols never build the router-wide answer; the
//! supervisor does, here.

use crate::service::unix_ms as now_ms;
use std::net::Ipv6Addr;
use v6common::kernel::{rtprot, RT_TABLE_MAIN};
use v6common::{Ipv6Prefix, KernelView, RouteFact, RouteKind};
use v6control::rip::{RouteCount, RouteRow, DIRECT_NAME, KERNEL_NAME, PROTOCOL_NAME};

/// A route row and the prefix it is sorted and matched by.
pub type Contributed = Vec<(Ipv6Prefix, RouteRow)>;

/// What `show route [for ADDR|PREFIX] [protocol NAME]` asks, checked.
pub struct Selection {
    target: Option<Ipv6Prefix>,
    protocol: Option<String>,
}

impl Selection {
    pub fn parse(target: Option<&str>, protocol: Option<&str>) -> Result<Selection, String> {
        if let Some(p) = protocol {
            if ![PROTOCOL_NAME, DIRECT_NAME, KERNEL_NAME].contains(&p) {
                return Err(format!(
                    "unknown protocol `{p}` (known: {PROTOCOL_NAME}, {DIRECT_NAME}, {KERNEL_NAME})"
                ));
            }
        }
        let target = match target {
            None => None,
            Some(t) if t.contains('/') => Some(t.parse().map_err(|e| format!("{e}"))?),
            Some(t) => {
                let a: Ipv6Addr = t
                    .parse()
                    .map_err(|_| format!("`{t}` is neither an IPv6 address nor a prefix"))?;
                Some(Ipv6Prefix::new(a, 128))
            }
        };
        Ok(Selection {
            target,
            protocol: protocol.map(str::to_string),
        })
    }

    /// The answer from every source's rows: BIRD's `for` (the longest
    /// prefix that covers the target), the best route per prefix marked
    /// `*`, then the protocol filter.
    pub fn select(&self, mut rows: Contributed) -> Vec<RouteRow> {
        if let Some(t) = self.target {
            let best = rows
                .iter()
                .filter(|(p, _)| p.covers(&t))
                .map(|(p, _)| p.len())
                .max();
            rows.retain(|(p, _)| Some(p.len()) == best && p.covers(&t));
        }
        mark_primary(&mut rows);
        if let Some(name) = &self.protocol {
            rows.retain(|(_, r)| r.proto == *name);
        }
        rows.into_iter().map(|(_, r)| r).collect()
    }
}

/// `show route ... count`: the selected rows, the distinct prefixes among
/// them, out of `total`.
pub fn count(shown: &[RouteRow], total: usize) -> RouteCount {
    let networks: std::collections::BTreeSet<&str> =
        shown.iter().map(|r| r.prefix.as_str()).collect();
    RouteCount {
        routes: shown.len(),
        total,
        networks: networks.len(),
    }
}

/// The best route per prefix (highest preference, reachable) is `*`.
fn mark_primary(rows: &mut Contributed) {
    rows.sort_by(|(a, x), (b, y)| {
        a.cmp(b)
            .then(
                (y.kind == "unicast" || y.proto != PROTOCOL_NAME)
                    .cmp(&(x.kind == "unicast" || x.proto != PROTOCOL_NAME)),
            )
            .then(y.preference.cmp(&x.preference))
    });
    let mut last: Option<Ipv6Prefix> = None;
    for (p, r) in rows.iter_mut() {
        if last != Some(*p) {
            r.primary = !(r.proto == PROTOCOL_NAME && r.kind != "unicast");
        }
        last = Some(*p);
    }
}

/// The kernel's own rows: its routes (kernel1) and connected prefixes
/// (direct1), with the time each was first seen.
pub fn kernel_rows(kv: &KernelView, first_seen: &FirstSeen) -> Contributed {
    let seen = |p: Ipv6Prefix, proto: &'static str| first_seen.get(p, proto).unwrap_or_else(now_ms);
    let mut rows: Contributed = kernel_routes(kv)
        .map(|r| (r.dst, route_row(kv, r, seen(r.dst, KERNEL_NAME))))
        .collect();
    for (p, index) in connected(kv) {
        let mut x = row(p, "unicast", DIRECT_NAME, 240, seen(p, DIRECT_NAME));
        x.iface = kv.links.get(&index).map(|l| l.name.clone());
        rows.push((p, x));
    }
    rows
}

/// The rows of delegated prefixes' routes, which the view leaves out
/// (supervisor.rs): shown as kernel1 rows, as BIRD's kernel protocol
/// would learn them. `routes` are each route in the kernel and when it
/// was last confirmed (Unix ms).
pub fn delegated_rows(
    kv: &KernelView,
    routes: impl Iterator<Item = (RouteFact, u64)>,
) -> Contributed {
    routes
        .map(|(r, since)| (r.dst, route_row(kv, &r, since)))
        .collect()
}

/// A kernel1 row for route `r`.
fn route_row(kv: &KernelView, r: &RouteFact, since_ms: u64) -> RouteRow {
    let mut x = row(r.dst, kind_name(r.kind), KERNEL_NAME, 10, since_ms);
    x.via = r.gateway.map(|g| g.to_string());
    x.iface = r.oif.and_then(|i| kv.links.get(&i)).map(|l| l.name.clone());
    x
}

fn row(p: Ipv6Prefix, kind: &str, proto: &str, preference: u32, since_ms: u64) -> RouteRow {
    RouteRow {
        prefix: p.to_string(),
        kind: kind.into(),
        proto: proto.into(),
        since_ms,
        primary: false,
        preference,
        metric: None,
        via: None,
        iface: None,
        tag: None,
        kernel_refused: false,
    }
}

/// When each kernel route and connected prefix was first seen, for `show
/// route`'s time column: sorted by (prefix, source) and searched, 32 bytes
/// a route (a hash map of it took 49 and more, as much as the RIPng table
/// itself for a router exporting 10,000 kernel routes).
#[derive(Default)]
pub struct FirstSeen(Vec<(Ipv6Prefix, u8, u64)>);

impl FirstSeen {
    /// kernel1 0, direct1 1.
    fn source(proto: &str) -> u8 {
        u8::from(proto != KERNEL_NAME)
    }

    /// The routes now in the view keep their time; new ones get `now`.
    pub fn update(&mut self, keys: Vec<(Ipv6Prefix, &'static str)>, now: u64) {
        let mut keys: Vec<(Ipv6Prefix, u8)> = keys
            .into_iter()
            .map(|(p, s)| (p, Self::source(s)))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let old = std::mem::take(&mut self.0);
        let mut i = 0;
        let mut new = Vec::with_capacity(keys.len());
        for k in keys {
            while i < old.len() && (old[i].0, old[i].1) < k {
                i += 1;
            }
            let t = match old.get(i) {
                Some(o) if (o.0, o.1) == k => o.2,
                _ => now,
            };
            new.push((k.0, k.1, t));
        }
        self.0 = new;
    }

    pub fn get(&self, p: Ipv6Prefix, proto: &str) -> Option<u64> {
        let k = (p, Self::source(proto));
        self.0
            .binary_search_by(|x| (x.0, x.1).cmp(&k))
            .ok()
            .map(|i| self.0[i].2)
    }
}

fn kind_name(k: RouteKind) -> &'static str {
    match k {
        RouteKind::Unicast | RouteKind::Other => "unicast",
        RouteKind::Unreachable => "unreachable",
        RouteKind::Blackhole => "blackhole",
        RouteKind::Prohibit => "prohibit",
    }
}

/// Kernel routes as BIRD's `protocol kernel { learn; }` sees them: the main
/// table, not the kernel's own (proto kernel), not ours (shown as rip1),
/// no link-local or multicast destinations. Delegated prefixes' routes
/// (in the view only while RIPng exports kernel routes) are the DHCPv6
/// service's rows (`delegated_rows`), as if learned here.
fn kernel_routes(kv: &KernelView) -> impl Iterator<Item = &RouteFact> {
    kv.routes.iter().filter(|r| {
        r.table == RT_TABLE_MAIN
            && r.protocol != rtprot::KERNEL
            && r.protocol != rtprot::RIP
            && !crate::kernel_side::is_delegated(r)
            && !r.dst.is_link_local()
            && !r.dst.addr().is_multicast()
    })
}

/// Global prefixes on links that are up (BIRD's `protocol direct`).
fn connected(kv: &KernelView) -> Vec<(Ipv6Prefix, u32)> {
    let mut v = Vec::new();
    for l in kv.links.values().filter(|l| l.is_usable()) {
        for a in kv.globals(l.index) {
            if a.prefix_len < 128 && !a.tentative {
                v.push((a.prefix(), l.index));
            }
        }
    }
    v
}

/// The (prefix, source) of every kernel and connected row.
pub fn kernel_rows_keys(kv: &KernelView) -> Vec<(Ipv6Prefix, &'static str)> {
    let mut v: Vec<_> = kernel_routes(kv).map(|r| (r.dst, KERNEL_NAME)).collect();
    v.extend(connected(kv).into_iter().map(|(p, _)| (p, DIRECT_NAME)));
    v
}

#[cfg(test)]
mod tests;
