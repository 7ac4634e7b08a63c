//! What the supervisor gives each protocol service, and how services are
//! started. A service is one tokio task per protocol (`ra`, `dhcpv6`, `ripng`,
//! `tunnel`, ...) with this signature:
//!
//! ```ignore
//! pub async fn run(ctx: ServiceCtx)
//! ```
//!
//! It must:
//! - run whether or not its config section exists (a reload may turn it on or
//!   off), reading `ctx.config` each time it changes;
//! - follow `ctx.kernel` (links, addresses, routes, forwarding), never read
//!   facts once at start;
//! - answer every `Query` on `ctx.queries` promptly (the supervisor waits 2 s),
//!   with a `Response` whose data the matching renderer in `v6control` reads;
//! - when `ctx.shutdown` turns true, do its final work (final RA, remove its
//!   routes, flush its store) and return within about 1 s.
//!
//! To add a service: `mod x;` in main.rs and one `spawn_service` line in
//! `Supervisor::spawn_services`.

// Parts of this interface are only used once a service is attached.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};
use v6common::KernelView;
use v6config::Config;
use v6control::{ProtocolInfo, Request, Response};
use v6netlink::Kernel;

/// `row` with its `since_ms` filled, if it has none: kept from `cur` (the
/// row it replaces) while the state is the same, else `now_ms`.
fn with_since(
    cur: Option<&ProtocolInfo>,
    row: Option<ProtocolInfo>,
    now_ms: u64,
) -> Option<ProtocolInfo> {
    let mut row = row?;
    if row.since_ms.is_none() {
        row.since_ms = Some(match cur {
            Some(c) if c.state == row.state => c.since_ms.unwrap_or(now_ms),
            _ => now_ms,
        });
    }
    Some(row)
}

/// Milliseconds since the Unix epoch (wall clock, for display).
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Seconds since the Unix epoch (wall clock: display, what is stored).
pub fn unix_secs() -> u64 {
    unix_ms() / 1000
}

/// What the uplink service learned from the ISP, for the services that pass
/// it on: DHCPv6 sub-delegation pools (`pd_pool = { from = "wan0" }`) and DNS
/// servers given as `"uplink"`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UplinkFacts {
    pub delegations: Vec<DelegatedPrefix>,
    /// Subnets the prefix manager gave to LANs (not to be sub-delegated).
    pub assigned: Vec<v6common::Ipv6Prefix>,
    pub dns: Vec<std::net::Ipv6Addr>,
    pub search: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DelegatedPrefix {
    pub uplink: String,
    pub prefix: v6common::Ipv6Prefix,
    pub preferred_until: std::time::Instant,
    pub valid_until: std::time::Instant,
}

impl UplinkFacts {
    /// The parts of what `uplink` delegated that no LAN uses, as prefixes of
    /// `len` (RFC 7084 WPD-4: sub-delegate what is left).
    pub fn free_subprefixes(
        &self,
        uplink: &str,
        len: u8,
    ) -> Vec<(v6common::Ipv6Prefix, &DelegatedPrefix)> {
        let mut out = Vec::new();
        for d in self.delegations.iter().filter(|d| d.uplink == uplink) {
            if len < d.prefix.len() || len > 64 {
                continue;
            }
            let n = 1u128 << u32::from(len - d.prefix.len()).min(16);
            for i in 0..n {
                let Some(p) = d.prefix.subnet(len, i) else {
                    break;
                };
                if !self.assigned.iter().any(|a| p.covers(a) || a.covers(&p)) {
                    out.push((p, d));
                }
            }
        }
        out
    }
}

/// One v6ctl request routed to a service.
pub struct Query {
    pub request: Request,
    pub reply: oneshot::Sender<Response>,
}

pub struct ServiceCtx {
    pub name: &'static str,
    /// The current kernel view; `changed().await` wakes on every update.
    pub kernel: watch::Receiver<Arc<KernelView>>,
    /// The current configuration; changes on a successful reload.
    pub config: watch::Receiver<Arc<Config>>,
    /// Requests to the kernel (routes, addresses, links).
    pub netlink: Kernel,
    pub queries: mpsc::Receiver<Query>,
    /// Turns true once, when the daemon stops (not on reload).
    pub shutdown: watch::Receiver<bool>,
    /// Where the service keeps state across restarts (exists, created at start).
    pub state_dir: PathBuf,
    /// The uplink's facts: `borrow()` for the current ones, `subscribe()` to
    /// follow them. Only the uplink service sends.
    pub uplink: Arc<watch::Sender<Arc<UplinkFacts>>>,
    /// Publish this service's row of `v6ctl show protocols`.
    pub protocol: watch::Sender<Option<ProtocolInfo>>,
}

impl ServiceCtx {
    /// Publish this service's `show protocols` row (None: no row). Only a
    /// changed row wakes the supervisor. A row without `since_ms` gets
    /// the time its state last changed, as BIRD's Since column: kept from
    /// the row it replaces while the state stays the same.
    pub fn publish_protocol(&self, row: Option<ProtocolInfo>) {
        self.protocol.send_if_modified(|cur| {
            let row = with_since(cur.as_ref(), row, unix_ms());
            let changed = *cur != row;
            if changed {
                *cur = row;
            }
            changed
        });
    }

    /// The current configuration.
    pub fn config(&self) -> Arc<Config> {
        self.config.borrow().clone()
    }
    /// The current kernel view.
    pub fn kernel(&self) -> Arc<KernelView> {
        self.kernel.borrow().clone()
    }
    /// Answer a query that this service does not know (should not happen).
    pub fn unknown(q: Query) {
        let _ = q.reply.send(Response::error(format!(
            "this service does not answer {:?}",
            q.request
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: &str, info: &str) -> ProtocolInfo {
        ProtocolInfo {
            name: "ra".into(),
            state: state.into(),
            info: info.into(),
            ..Default::default()
        }
    }

    /// BIRD's Since: the time of the last state change, not of the last
    /// update of the row.
    #[test]
    fn since_is_when_the_state_last_changed() {
        let a = with_since(None, Some(row("start", "")), 1_000).unwrap();
        assert_eq!(a.since_ms, Some(1_000));
        let b = with_since(Some(&a), Some(row("start", "1 of 2")), 2_000).unwrap();
        assert_eq!(b.since_ms, Some(1_000), "same state, other info");
        let c = with_since(Some(&b), Some(row("up", "2 of 2")), 3_000).unwrap();
        assert_eq!(c.since_ms, Some(3_000), "state changed");
        let mut own = row("up", "");
        own.since_ms = Some(42);
        assert_eq!(
            with_since(Some(&c), Some(own), 4_000).unwrap().since_ms,
            Some(42)
        );
        assert!(with_since(Some(&c), None, 5_000).is_none());
    }
}
