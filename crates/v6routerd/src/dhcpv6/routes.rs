//! Routes for delegated prefixes, via the requesting router that holds
//! each: added and removed in order by one worker as the engine asks,
//! stale ones cleaned at start, ours taken out at stop.

use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::{debug, warn, Instrument};
use v6common::kernel::{rtprot, RT_TABLE_MAIN};
use v6common::{Ipv6Prefix, KernelView, RouteFact};
use v6dhcp::engine::{LinkConfig, Server};
use v6dhcp::lease::LeaseKind;
use v6netlink::Kernel;

/// How long stopping waits for each route to go.
const DEL_WAIT: Duration = Duration::from_millis(200);

pub(super) enum RouteOp {
    Add(RouteFact),
    Del(RouteFact),
}

/// Start the route worker (its log lines carry the caller's span); it ends
/// when the returned sender is dropped.
pub(super) fn spawn_worker(nl: Kernel) -> mpsc::UnboundedSender<RouteOp> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(route_worker(nl, rx).in_current_span());
    tx
}

/// Route changes run one after another (an add and a later delete of the
/// same prefix must not be reordered).
async fn route_worker(nl: Kernel, mut rx: mpsc::UnboundedReceiver<RouteOp>) {
    while let Some(op) = rx.recv().await {
        match op {
            RouteOp::Add(r) => {
                if let Err(e) = nl.add_route(&r, true).await {
                    warn!("cannot add route {} via {:?}: {e}", r.dst, r.gateway);
                } else {
                    // One per delegated prefix (thousands at a restart):
                    // the lease itself is the news, not its route.
                    debug!("route {} via {:?} dev {:?}", r.dst, r.gateway, r.oif);
                }
            }
            RouteOp::Del(r) => {
                if let Err(e) = nl.del_route(&r).await {
                    debug!("cannot remove route {}: {e}", r.dst);
                }
            }
        }
    }
}

/// Our routes (protocol v6router, via a gateway, on a served link) into a
/// prefix pool, for which no lease exists.
pub(super) fn stale_pd_routes(
    k: &KernelView,
    links: &[LinkConfig],
    server: &Server,
) -> Vec<RouteFact> {
    let leased: BTreeSet<Ipv6Prefix> = server
        .leases()
        .filter(|l| l.kind == LeaseKind::Prefix)
        .map(|l| l.prefix)
        .collect();
    k.routes
        .iter()
        .filter(|r| r.protocol == rtprot::V6ROUTER && r.gateway.is_some())
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
    server
        .leases()
        .filter_map(|l| {
            let (LeaseKind::Prefix, Some(via)) = (l.kind, l.via) else {
                return None;
            };
            let link = links.iter().find(|k| *k.name == *l.link)?;
            Some(RouteFact {
                dst: l.prefix,
                gateway: Some(via),
                oif: Some(link.ifindex),
                protocol: rtprot::V6ROUTER,
                metric: 1024,
                table: RT_TABLE_MAIN,
                kind: v6common::RouteKind::Unicast,
            })
        })
        .collect()
}

/// Take out the routes of our prefix leases (they come back from the
/// journal at the next start), waiting a little for each.
pub(super) async fn remove_pd_routes(nl: &Kernel, server: &Server, links: &[LinkConfig]) {
    for r in pd_routes(server, links) {
        let _ = tokio::time::timeout(DEL_WAIT, nl.del_route(&r)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{view, CFG};
    use super::super::links::build_links;
    use super::*;
    use crate::service::UplinkFacts;
    use std::path::Path;
    use std::sync::Arc;
    use v6dhcp::engine::ServerConfig;
    use v6dhcp::lease::{Lease, LeaseState};
    use v6dhcp::wire::Duid;

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
        let stale: Vec<String> = stale_pd_routes(&k, &links, &server)
            .iter()
            .map(|r| r.dst.to_string())
            .collect();
        assert_eq!(stale, vec!["2001:db8:8:10::/60".to_string()]);
    }
}
