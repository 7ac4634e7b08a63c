//! Routes for delegated prefixes, via the requesting router that holds
//! each. They go to the kernel side's writer (kernel_side.rs) in batches:
//! queued while a batch of datagrams is answered and handed over when it
//! ends, so no Reply waits on netlink and the writer sends many requests
//! per datagram with one acknowledgement (2,000 delegations a second must
//! not cost 2,000 round trips). An install the kernel refuses is retried
//! while its lease lives; the lease itself is never touched by a route's
//! failure. Stale routes are cleaned at start, ours taken out at stop.
//!
//! The supervisor's kernel view leaves these routes out (supervisor.rs):
//! the kernel side's writer announces them to `v6ctl monitor`, `show
//! route` has its rows from the leases here, and stale ones are found in
//! a dump of our protocol's routes, asked for at start.

use crate::kernel_side::{Announce, ProtocolRoutes, Refused, RouteEvent};
use crate::rt_show::Contributed;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use tracing::{debug, warn};
use v6common::kernel::rtprot;
use v6common::{Ipv6Prefix, KernelView, RouteFact};
use v6dhcp::engine::{LinkConfig, Server};
use v6dhcp::lease::LeaseKind;

/// How long a refused install waits before it is tried again (a link
/// going down refuses every route through it for a while).
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// Route changes in the order the engine asked for them, consecutive ones
/// of a kind merged: an install and a later removal of the same prefix
/// must not be reordered (pure: unit-tested below).
#[derive(Default)]
pub(super) struct RouteQueue {
    groups: Vec<(bool, Vec<RouteFact>)>,
}

impl RouteQueue {
    pub(super) fn push(&mut self, add: bool, r: RouteFact) {
        match self.groups.last_mut() {
            Some((kind, v)) if *kind == add => v.push(r),
            _ => self.groups.push((add, vec![r])),
        }
    }

    /// The queued changes, in order: (install?, routes).
    pub(super) fn take(&mut self) -> Vec<(bool, Vec<RouteFact>)> {
        std::mem::take(&mut self.groups)
    }
}

/// Refused installs waiting for their retry, by prefix (pure).
#[derive(Default)]
pub(crate) struct Retries {
    waiting: BTreeMap<Ipv6Prefix, RouteFact>,
    at: Option<Instant>,
    /// Installs the kernel refused since start (`show dhcpv6`, the log).
    pub(super) refused_total: u64,
}

impl Retries {
    pub(super) fn refused(&mut self, routes: Refused, now: Instant) {
        self.refused_total += routes.len() as u64;
        for (r, _) in routes {
            self.waiting.insert(r.dst, r);
        }
        if !self.waiting.is_empty() {
            self.at.get_or_insert(now + RETRY_AFTER);
        }
    }

    pub(crate) fn due(&self) -> Option<Instant> {
        self.at
    }

    /// Whether the route for `p` was refused and waits for its retry
    /// (so it is not in the kernel).
    pub(crate) fn waiting(&self, p: &Ipv6Prefix) -> bool {
        self.waiting.contains_key(p)
    }

    /// The routes due again at `now` that `wanted` (the routes of the live
    /// prefix leases) still holds; a lease that ended meanwhile drops its
    /// retry.
    pub(super) fn take_due(
        &mut self,
        now: Instant,
        wanted: impl FnOnce(&BTreeSet<Ipv6Prefix>) -> Vec<RouteFact>,
    ) -> Vec<RouteFact> {
        if self.at.is_none_or(|t| t > now) {
            return Vec::new();
        }
        self.at = None;
        let keys: BTreeSet<Ipv6Prefix> = std::mem::take(&mut self.waiting).into_keys().collect();
        wanted(&keys)
    }
}

/// The delegated-prefix routes' way to the kernel: see the module
/// documentation. The server's leases and the relay agent's snooped
/// delegations (dhcp_relay.rs) both go this way.
pub(crate) struct PdRoutes {
    kernel: ProtocolRoutes,
    queue: RouteQueue,
    pub(crate) retries: Retries,
}

impl PdRoutes {
    /// Open the writer, which announces what it installs and removes.
    pub(crate) fn open(announce: Option<Announce>) -> PdRoutes {
        PdRoutes {
            kernel: ProtocolRoutes::open_announced(rtprot::V6ROUTER, announce),
            queue: RouteQueue::default(),
            retries: Retries::default(),
        }
    }

    /// Ask for our protocol's routes as the kernel has them, after what
    /// is queued: they come back to `on_event`.
    pub(crate) fn dump(&mut self) {
        self.flush();
        self.kernel.dump();
    }

    pub(crate) fn add(&mut self, r: RouteFact) {
        self.queue.push(true, r);
    }

    pub(crate) fn del(&mut self, r: RouteFact) {
        self.queue.push(false, r);
    }

    /// Hand what queued to the writer thread, in order.
    pub(crate) fn flush(&mut self) {
        for (add, routes) in self.queue.take() {
            if add {
                self.kernel.install(routes);
            } else {
                self.kernel.remove(routes);
            }
        }
    }

    /// What the kernel side reports. Cancel-safe.
    pub(crate) async fn next(&mut self) -> RouteEvent {
        self.kernel.next().await
    }

    /// Take in a report; a dump's routes are returned (the server looks
    /// for stale ones in them).
    pub(crate) fn on_event(&mut self, ev: RouteEvent) -> Option<Vec<RouteFact>> {
        match ev {
            RouteEvent::Refused(r) => {
                if let Some((route, errno)) = r.first() {
                    debug!(
                        "{} prefix route installs refused, e.g. {} via {:?} (errno {errno}); retrying",
                        r.len(),
                        route.dst,
                        route.gateway
                    );
                }
                self.retries.refused(r, Instant::now());
                None
            }
            // Our protocol's routes changed by others (the uplink's, a
            // tunnel's, an admin's): what the leases need is retried on
            // refusal; nothing to do here.
            RouteEvent::Changed(_) => None,
            RouteEvent::Dumped(routes) => Some(routes),
        }
    }

    /// `show route`'s rows for `live` (the routes wanted now, with when
    /// each was last confirmed, Unix ms): those the kernel did not refuse.
    pub(crate) fn rows(
        &self,
        kv: &KernelView,
        live: impl Iterator<Item = (RouteFact, u64)>,
    ) -> Contributed {
        let shown = live.filter(|(r, _)| !self.retries.waiting(&r.dst));
        crate::rt_show::delegated_rows(kv, shown)
    }

    /// Install again the refused routes whose leases still live. The
    /// leases' routes are listed only when a retry is due: every timer
    /// of the server comes here, and listing 20,000 leases each time was
    /// 0.6 % of the server's CPU samples under perfdhcp (NA+PD, 4,000/s).
    pub(super) fn retry(&mut self, server: &Server, links: &[LinkConfig], now: Instant) {
        if self.retries.due().is_some_and(|t| t <= now) {
            self.retry_of(pd_routes(server, links), now);
        }
    }

    /// Install again the refused routes that `live` (the routes wanted
    /// now) still holds.
    pub(crate) fn retry_of(&mut self, live: Vec<RouteFact>, now: Instant) {
        let again = self.retries.take_due(now, |keys| {
            live.into_iter().filter(|r| keys.contains(&r.dst)).collect()
        });
        if !again.is_empty() {
            warn!("retrying {} refused prefix routes", again.len());
            self.kernel.install(again);
        }
    }

    /// Take out the routes of our prefix leases (they come back from the
    /// journal at the next start) in one batch, after what is queued, and
    /// let the writer finish.
    pub(super) async fn close(self, server: &Server, links: &[LinkConfig]) {
        self.close_with(pd_routes(server, links)).await;
    }

    /// Take `routes` out in one batch, after what is queued, and let the
    /// writer finish.
    pub(crate) async fn close_with(mut self, routes: Vec<RouteFact>) {
        for r in routes {
            self.del(r);
        }
        self.flush();
        self.kernel.close().await;
    }
}

/// Our routes (protocol v6router, via a gateway, on a served link) into a
/// prefix pool, for which no lease exists, among `routes` (a dump).
pub(super) fn stale_pd_routes(
    routes: &[RouteFact],
    links: &[LinkConfig],
    server: &Server,
) -> Vec<RouteFact> {
    let leased: BTreeSet<Ipv6Prefix> = server
        .leases()
        .filter(|l| l.kind == LeaseKind::Prefix)
        .map(|l| l.prefix)
        .collect();
    routes
        .iter()
        .filter(|r| crate::kernel_side::is_delegated(r))
        .filter(|r| {
            links.iter().any(|l| {
                Some(l.ifindex) == r.oif && l.prefix_pools.iter().any(|p| p.prefix.covers(&r.dst))
            })
        })
        .filter(|r| !leased.contains(&r.dst))
        .cloned()
        .collect()
}

/// The routes of our prefix leases on `links`, as they were added.
fn pd_routes(server: &Server, links: &[LinkConfig]) -> Vec<RouteFact> {
    pd_routes_since(server, links).map(|(r, _)| r).collect()
}

/// The routes of our prefix leases on `links`, each with its lease's
/// last exchange (Unix ms): the time the route was last confirmed.
pub(super) fn pd_routes_since<'a>(
    server: &'a Server,
    links: &'a [LinkConfig],
) -> impl Iterator<Item = (RouteFact, u64)> + 'a {
    server.leases().filter_map(|l| {
        let (LeaseKind::Prefix, Some(via)) = (l.kind, l.via) else {
            return None;
        };
        let link = links.iter().find(|k| *k.name == *l.link)?;
        let r = v6dhcp::engine::delegated_route(l.prefix, via, link.ifindex);
        Some((r, l.cltt.saturating_mul(1000)))
    })
}

#[cfg(test)]
mod tests;
