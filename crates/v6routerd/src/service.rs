//! The one service runtime. Every protocol service (ra, dhcpv6, ripng,
//! tunnel, uplink) implements [`Service`]: what it reacts to (its inputs
//! changed, its own I/O events, its deadline, a v6ctl query, stop) and what
//! it reports (its `show protocols` row, its answers). [`run_service`] owns
//! the one select loop: waking on config, kernel and uplink changes,
//! sleeping until the service's deadline, idling while its config section is
//! absent, starting and stopping it when a reload turns it on or off,
//! shutdown, and publishing its row. The supervisor runs each in a tracing
//! span named after it, so every log line carries its service.
//!
//! The shape follows holo's `ProtocolInstance` + one event loop and BIRD's
//! `nest/proto.c` (protocols start, run and stop under one driver); ours
//! stays single-threaded and the engines stay pure.
//!
//! To add a service: implement [`Service`] in its own file and add one line
//! to `Supervisor::spawn_services`.

use crate::rt_show::Contributed;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, watch};
use v6common::KernelView;
use v6config::Config;
use v6control::{ProtocolInfo, Request, Response};
use v6netlink::Kernel;

/// Which of a service's inputs changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Changed {
    /// A reload replaced the configuration (also sent once right after
    /// `start`, so a service has one place that applies its config).
    Config,
    /// The kernel view changed (links, addresses, routes, forwarding).
    Kernel,
    /// The uplink's facts changed (only for `FOLLOWS_UPLINK` services).
    Uplink,
}

/// A service's `show protocols` row, without what the runtime fills in
/// (name, protocol, table, and Since when the service has no better time).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    pub state: &'static str,
    pub info: String,
    /// When the state last changed, if the service knows better than the
    /// runtime (which keeps the time it first saw the state).
    pub since_ms: Option<u64>,
}

impl Row {
    pub fn new(state: &'static str, info: impl Into<String>) -> Row {
        Row {
            state,
            info: info.into(),
            since_ms: None,
        }
    }
}

/// A protocol service. Methods get the shared [`Ctx`]; the runtime calls
/// them one at a time, never concurrently.
pub trait Service: Sized + Send + 'static {
    /// Its name in `show protocols` and in messages (`ra`, `rip1`, ...).
    const NAME: &'static str;
    /// Its protocol column in `show protocols`.
    const PROTO: &'static str;
    /// Its table column in `show protocols`.
    const TABLE: &'static str = "---";
    /// Whether it follows the uplink's facts (`Changed::Uplink`).
    const FOLLOWS_UPLINK: bool = false;
    /// What its own I/O delivers: a datagram, a worker's result, ...
    type Event: Send;

    /// Whether `cfg` asks for this service. While it does not, the runtime
    /// keeps no instance, publishes no row and answers queries with
    /// [`Service::IDLE`].
    fn wanted(cfg: &Config) -> bool;
    /// Why queries get no answer while the service is not wanted.
    const IDLE: &'static str;
    /// Start: open sockets, load state. An error is shown in the row and
    /// given to queries; the next reload tries again.
    fn start(ctx: &Ctx) -> impl Future<Output = Result<Self, String>> + Send;
    /// One of its inputs changed: bring itself in line.
    fn changed(&mut self, ctx: &Ctx, what: Changed) -> impl Future<Output = ()> + Send;
    /// The next event of its own I/O; pending forever when it has none.
    /// Dropped when another input wins, so it must be cancel-safe.
    fn next_event(&mut self) -> impl Future<Output = Self::Event> + Send;
    /// Handle what `next_event` returned.
    fn on_event(&mut self, ctx: &Ctx, ev: Self::Event) -> impl Future<Output = ()> + Send;
    /// When `on_deadline` is next due, if ever.
    fn deadline(&self) -> Option<Instant>;
    /// The deadline passed (timers of its engines, retries, settling).
    fn on_deadline(&mut self, ctx: &Ctx, now: Instant) -> impl Future<Output = ()> + Send;
    /// Answer a v6ctl request routed to this service.
    fn answer(&mut self, ctx: &Ctx, req: Request) -> impl Future<Output = Response> + Send;
    /// Its routes for the router-wide `show route` (BIRD: what the
    /// protocol exported to the table); most services have none there.
    fn routes(&self, _ctx: &Ctx) -> Contributed {
        Vec::new()
    }
    /// Its metric families for `show metrics`, rendered by metrics.rs
    /// from the typed status it shows v6ctl (no JSON round trip).
    fn metrics(&self, _ctx: &Ctx) -> String {
        String::new()
    }
    /// Its `show protocols` row now (None: no row).
    fn row(&self) -> Option<Row>;
    /// Final work: final RAs, routes taken out, stores flushed. Called on
    /// daemon stop and when a reload turns the service off.
    fn stop(self, ctx: &Ctx) -> impl Future<Output = ()> + Send;
}

/// What every service sees: the facts it follows and the handles it acts
/// through.
pub struct Ctx {
    /// The current kernel view (one owner: the supervisor).
    pub kernel: watch::Receiver<Arc<KernelView>>,
    /// The current configuration; changes on a successful reload.
    pub config: watch::Receiver<Arc<Config>>,
    /// Requests to the kernel (routes, addresses, links).
    pub netlink: Kernel,
    /// Where the service keeps state across restarts (exists, created at start).
    pub state_dir: PathBuf,
    /// The uplink's facts: `borrow()` for the current ones. Only the uplink
    /// service sends.
    pub uplink: Arc<watch::Sender<Arc<UplinkFacts>>>,
    /// `v6ctl monitor`'s bus (events.rs): publish, never wait.
    pub events: crate::events::Bus,
}

impl Ctx {
    /// The current configuration.
    pub fn config(&self) -> Arc<Config> {
        self.config.borrow().clone()
    }
    /// The current kernel view.
    pub fn kernel(&self) -> Arc<KernelView> {
        self.kernel.borrow().clone()
    }
    /// The uplink's current facts.
    pub fn uplink(&self) -> Arc<UplinkFacts> {
        self.uplink.borrow().clone()
    }
}

/// What the supervisor keeps of a running service.
pub struct Handles {
    pub queries: mpsc::Receiver<Query>,
    /// Asks for the service's `show route` rows.
    pub routes: mpsc::Receiver<oneshot::Sender<Contributed>>,
    /// Turns true once, when the daemon stops (not on reload).
    pub shutdown: watch::Receiver<bool>,
    /// Where the service's `show protocols` row is published.
    pub protocol: watch::Sender<Option<ProtocolInfo>>,
    /// `enable`, `disable`, `restart` from v6ctl.
    pub admin: mpsc::Receiver<(Admin, oneshot::Sender<Response>)>,
}

/// What the administrator asks of a protocol (birdc's enable/disable/restart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admin {
    Enable,
    Disable,
    Restart,
}

/// A service's life: not wanted, failed to start, running, or switched
/// off by the administrator (until `enable`, whatever reloads say).
enum Slot<S> {
    Idle,
    Failed(String),
    Running(S),
    Disabled,
}

/// Run `S` until the daemon stops: the one event loop of every service.
pub async fn run_service<S: Service>(mut ctx: Ctx, mut h: Handles) {
    let mut uplink = ctx.uplink.subscribe();
    let mut slot = Slot::<S>::Idle;
    follow_config(&mut slot, &ctx).await;
    loop {
        publish(&h.protocol, row_of(&slot));
        let deadline = match &slot {
            Slot::Running(s) => s.deadline(),
            _ => None,
        };
        tokio::select! {
            ev = next_event(&mut slot) => {
                if let Slot::Running(s) = &mut slot {
                    s.on_event(&ctx, ev).await;
                }
            }
            _ = sleep_until(deadline) => {
                if let Slot::Running(s) = &mut slot {
                    s.on_deadline(&ctx, Instant::now()).await;
                }
            }
            r = ctx.config.changed() => {
                if r.is_err() {
                    break;
                }
                follow_config(&mut slot, &ctx).await;
            }
            r = ctx.kernel.changed() => {
                if r.is_err() {
                    break;
                }
                if let Slot::Running(s) = &mut slot {
                    s.changed(&ctx, Changed::Kernel).await;
                }
            }
            r = uplink.changed(), if S::FOLLOWS_UPLINK => {
                if r.is_err() {
                    break;
                }
                if let Slot::Running(s) = &mut slot {
                    s.changed(&ctx, Changed::Uplink).await;
                }
            }
            Some(q) = h.queries.recv() => {
                let resp = match &mut slot {
                    Slot::Running(s) if q.request == Request::ShowMetrics => {
                        Response::ok(s.metrics(&ctx))
                    }
                    Slot::Running(s) => s.answer(&ctx, q.request).await,
                    Slot::Idle => Response::error(S::IDLE),
                    Slot::Disabled => Response::error(format!(
                        "{} is disabled (v6ctl enable {})",
                        S::NAME,
                        S::NAME
                    )),
                    Slot::Failed(why) => {
                        Response::error(format!("the {} service is not running: {why}", S::NAME))
                    }
                };
                let _ = q.reply.send(resp);
            }
            Some((cmd, reply)) = h.admin.recv() => {
                let _ = reply.send(administer(&mut slot, &ctx, cmd).await);
            }
            Some(tx) = h.routes.recv() => {
                let rows = match &slot {
                    Slot::Running(s) => s.routes(&ctx),
                    _ => Vec::new(),
                };
                let _ = tx.send(rows);
            }
            r = h.shutdown.changed() => {
                if r.is_err() || *h.shutdown.borrow() {
                    break;
                }
            }
        }
    }
    if let Slot::Running(s) = std::mem::replace(&mut slot, Slot::Idle) {
        s.stop(&ctx).await;
    }
    publish(&h.protocol, None);
}

/// Start, stop or reconfigure the service after the configuration changed
/// (or at first). A failed start is retried at the next change.
async fn follow_config<S: Service>(slot: &mut Slot<S>, ctx: &Ctx) {
    let wanted = S::wanted(&ctx.config.borrow());
    match std::mem::replace(slot, Slot::Idle) {
        Slot::Running(s) if !wanted => {
            tracing::info!("not configured any more; stopping");
            s.stop(ctx).await;
        }
        Slot::Running(mut s) => {
            s.changed(ctx, Changed::Config).await;
            *slot = Slot::Running(s);
        }
        Slot::Idle | Slot::Failed(_) if wanted => {
            *slot = match S::start(ctx).await {
                Ok(mut s) => {
                    s.changed(ctx, Changed::Config).await;
                    Slot::Running(s)
                }
                Err(e) => {
                    tracing::error!("{e}");
                    Slot::Failed(e)
                }
            };
        }
        Slot::Idle | Slot::Failed(_) => {}
        Slot::Disabled => *slot = Slot::Disabled,
    }
}

/// Carry out `enable`, `disable` or `restart`; the answer is birdc's line
/// (`ra: disabled`) or why not.
async fn administer<S: Service>(slot: &mut Slot<S>, ctx: &Ctx, cmd: Admin) -> Response {
    let name = S::NAME;
    let was = std::mem::replace(slot, Slot::Idle);
    let disabled = matches!(was, Slot::Disabled);
    match (cmd, was) {
        (Admin::Disable, Slot::Disabled) => {
            *slot = Slot::Disabled;
            Response::ok(format!("{name}: already disabled\n"))
        }
        (Admin::Disable, was) => {
            if let Slot::Running(s) = was {
                s.stop(ctx).await;
            }
            *slot = Slot::Disabled;
            tracing::info!("disabled by the administrator");
            Response::ok(format!("{name}: disabled\n"))
        }
        (Admin::Restart, Slot::Disabled) => {
            *slot = Slot::Disabled;
            Response::error(format!("{name} is disabled (v6ctl enable {name})"))
        }
        (Admin::Enable, was) if !disabled => {
            *slot = was;
            Response::ok(format!("{name}: already enabled\n"))
        }
        (Admin::Restart, Slot::Idle) => Response::error(S::IDLE),
        (cmd, was) => {
            if let Slot::Running(s) = was {
                s.stop(ctx).await;
            }
            // Enable or restart: start as a reload would (not at all when
            // the configuration has no such section).
            follow_config(slot, ctx).await;
            let verb = if cmd == Admin::Enable {
                "enabled"
            } else {
                "restarted"
            };
            tracing::info!("{verb} by the administrator");
            Response::ok(format!("{name}: {verb}\n"))
        }
    }
}

async fn next_event<S: Service>(slot: &mut Slot<S>) -> S::Event {
    match slot {
        Slot::Running(s) => s.next_event().await,
        _ => std::future::pending().await,
    }
}

/// Sleep until `t`; forever when there is none.
pub async fn sleep_until(t: Option<Instant>) {
    when_some(t.map(|t| tokio::time::sleep_until(t.into()))).await
}

/// What an optional event source delivers: `source`'s output, or pending
/// forever while there is none (a socket not open, a link not relaying).
pub async fn when_some<T>(source: Option<impl Future<Output = T>>) -> T {
    match source {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

/// Which of two event sources delivered first.
pub enum Either<A, B> {
    A(A),
    B(B),
}

/// The first of two event sources to deliver: how a service whose
/// `next_event` listens to several sockets or queues multiplexes them
/// (nest it for more). Which is polled first is random each time, so a
/// flooded source cannot starve the other. The loser is dropped, so both
/// must be cancel-safe, as `next_event` itself must be.
pub async fn first<A, B>(a: impl Future<Output = A>, b: impl Future<Output = B>) -> Either<A, B> {
    tokio::select! {
        v = a => Either::A(v),
        v = b => Either::B(v),
    }
}

fn row_of<S: Service>(slot: &Slot<S>) -> Option<ProtocolInfo> {
    let row = match slot {
        Slot::Idle => return None,
        Slot::Failed(why) => Row::new("down", why.clone()),
        Slot::Disabled => Row::new("down", "disabled by the administrator"),
        Slot::Running(s) => s.row()?,
    };
    Some(ProtocolInfo {
        name: S::NAME.into(),
        proto: S::PROTO.into(),
        table: S::TABLE.into(),
        state: row.state.into(),
        since: String::new(),
        since_ms: row.since_ms,
        info: row.info,
    })
}

/// Publish a `show protocols` row (None: no row). Only a changed row wakes
/// the supervisor. A row without `since_ms` gets the time its state last
/// changed, as BIRD's Since column: kept from the row it replaces while the
/// state stays the same.
fn publish(tx: &watch::Sender<Option<ProtocolInfo>>, row: Option<ProtocolInfo>) {
    tx.send_if_modified(|cur| {
        let row = with_since(cur.as_ref(), row, unix_ms());
        let changed = *cur != row;
        if changed {
            *cur = row;
        }
        changed
    });
}

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

/// The DNS servers a LAN announces (RDNSS, DHCPv6 option 23) from its
/// `dns` list: addresses as they are, `"uplink"` as the ISP's servers,
/// `"self"` as the router's own address on that LAN (`own`, preferring the
/// ULA: see `KernelView::own_dns_address`). Entries that name nothing now
/// (no address yet) are left out; the config check reports the rest.
pub fn resolve_dns(dns: &[String], uplink: &[Ipv6Addr], own: Option<Ipv6Addr>) -> Vec<Ipv6Addr> {
    let mut out: Vec<Ipv6Addr> = vec![];
    for d in dns {
        let found: Vec<Ipv6Addr> = match d.as_str() {
            "uplink" => uplink.to_vec(),
            "self" => own.into_iter().collect(),
            _ => d.parse().into_iter().collect(),
        };
        for a in found {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

/// The interfaces that relay now, with the uplink each relays from:
/// `relay` without `fallback` always, with `fallback` while nothing is
/// delegated on the uplink the LAN's `assign` names (else routed mode).
pub fn relaying<'a>(cfg: &'a Config, uplink: &UplinkFacts) -> BTreeMap<&'a str, &'a str> {
    cfg.interfaces
        .iter()
        .filter_map(|i| {
            let r = i.relay.as_ref()?;
            let delegated = i
                .assign
                .as_ref()
                .is_some_and(|a| uplink.delegations.iter().any(|d| d.uplink == a.from));
            (!(r.fallback && delegated)).then_some((i.name.as_str(), r.from.as_str()))
        })
        .collect()
}

/// What the uplink service learned from the ISP, for the services that pass
/// it on: DHCPv6 sub-delegation pools (`pd_pool = { from = "wan0" }`) and DNS
/// servers given as `"uplink"`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UplinkFacts {
    pub delegations: Vec<crate::prefixes::Delegation>,
    /// Subnets the prefix manager gave to LANs (not to be sub-delegated).
    pub assigned: Vec<v6common::Ipv6Prefix>,
    pub dns: Vec<std::net::Ipv6Addr>,
    pub search: Vec<String>,
    /// The ULA /48, when some LAN has an address in it (RFC 7084 L-3
    /// advertises it as a route then).
    pub ula: Option<v6common::Ipv6Prefix>,
}

impl UplinkFacts {
    /// The parts of what `uplink` delegated that no LAN uses, as prefixes of
    /// `len` (RFC 7084 WPD-4: sub-delegate what is left).
    pub fn free_subprefixes(
        &self,
        uplink: &str,
        len: u8,
    ) -> Vec<(v6common::Ipv6Prefix, &crate::prefixes::Delegation)> {
        let mut out = Vec::new();
        for d in self.delegations.iter().filter(|d| d.uplink == uplink) {
            if len < d.value.len() || len > 64 {
                continue;
            }
            let n = 1u128 << u32::from(len - d.value.len()).min(16);
            for i in 0..n {
                let Some(p) = d.value.subnet(len, i) else {
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

/// The answer to a request routed to a service that does not know it (a
/// routing mistake in `Request::service`, not a user error).
pub fn not_mine(service: &str, req: &Request) -> Response {
    Response::error(format!("the {service} service does not answer {req:?}"))
}

#[cfg(test)]
mod tests;
