//! The RIPng service: runs the `v6ripng` engine on the `[ripng]` section.
//!
//! - Datagrams: one task reads the UDP 521 socket and hands datagrams with
//!   their packet info to the service in a bounded queue; the engine's
//!   paced sends go out from the interface's link-local address with hop
//!   limit 255.
//! - Kernel: learned routes go in and out through the kernel side's
//!   [`ProtocolRoutes`] (a batch writer thread and a listener for what
//!   others do to rip routes; see kernel_side.rs). A dump at start removes
//!   what a crash left; a route of ours an admin deletes is put back at
//!   once. At stop, neighbours hear our routes at metric 16 and our routes
//!   leave the kernel.
//! - v6ctl: `show rip neighbors`, `show rip interfaces`, our `show
//!   protocols` row, and our learned routes for the supervisor's `show
//!   route`.

use crate::kernel_side::{ProtocolRoutes, Refused, RouteEvent};
use crate::rt_show::Contributed;
use crate::service::unix_ms as now_ms;
use crate::service::{first, Changed, Ctx, Either, Row, Service};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn, Instrument};
use v6common::kernel::rtprot;
use v6common::{Ipv6Prefix, KernelView, RouteFact};
use v6config::Config;
use v6control::rip::{InterfaceRow, NeighborRow, RipAnswer, RouteRow, PROTOCOL_NAME};
use v6control::{Request, Response};
use v6netlink::routes::RouteChange;
use v6ripng::engine::{self, Action, Engine, IfaceConfig, Origin, PrefixFilter, Received};
use v6ripng::io::{RecvMeta, RipSocket};

/// Gather the burst of kernel events one change causes before looking.
const KERNEL_SETTLE: Duration = Duration::from_millis(100);
/// How long the final work at stop may take.
/// (The supervisor waits 1.5 s for all services.)
const STOP_BUDGET: Duration = Duration::from_millis(1400);

/// The engine configuration for a `[ripng]` section.
pub fn engine_config(r: &v6config::Ripng) -> engine::Config {
    let inside = |ps: &[Ipv6Prefix]| -> Vec<PrefixFilter> {
        ps.iter()
            .map(|p| PrefixFilter {
                prefix: *p,
                min_len: p.len(),
                max_len: 128,
            })
            .collect()
    };
    // `[[ripng.interface]]` entries first: the engine takes the first
    // pattern that matches an interface.
    let interfaces: Vec<IfaceConfig> = r
        .interface_settings
        .iter()
        .map(|i| IfaceConfig {
            name: i.name.clone(),
            cost: i.metric.unwrap_or(r.metric),
        })
        .chain(r.interfaces.iter().map(|n| IfaceConfig {
            name: n.clone(),
            cost: r.metric,
        }))
        .collect();
    let mut connected: Vec<String> = r.export.connected_interfaces.clone();
    if r.export.connected {
        connected.extend(interfaces.iter().map(|i| i.name.clone()));
    }
    engine::Config {
        interfaces,
        infinity: r.infinity,
        update_interval: Duration::from_secs(u64::from(r.update_time)),
        timeout: Duration::from_secs(u64::from(r.timeout_time)),
        garbage: Duration::from_secs(u64::from(r.garbage_time)),
        split_horizon: r.split_horizon,
        poisoned_reverse: r.poison_reverse,
        export: engine::ExportConfig {
            connected,
            kernel: r.export.kernel,
            default_route: r.export.default_route,
            prefixes: inside(&r.export.filter),
            metric: 1,
        },
        import: engine::ImportConfig {
            prefixes: inside(&r.import.filter),
            default_route: r.import.default_route,
            limit: Some(r.route_limit as usize),
        },
        pace_gap: Duration::from_micros(u64::from(r.tx_gap_us)),
        pace_burst: r.tx_burst,
        ..engine::Config::default()
    }
}

/// Hands the memory of a large table's datagrams back once they are done
/// (a regular update of 50,000 routes is 700 of them, sent and received
/// every 30 s).
#[derive(Default)]
struct Burst {
    received: usize,
    queued_peak: usize,
}

impl Burst {
    const LARGE: usize = 100;

    /// `n` datagrams were handled; `idle`: none are waiting.
    fn received(&mut self, n: usize, idle: bool) {
        self.received += n;
        if idle && self.received >= Self::LARGE {
            self.received = 0;
            crate::heap::trim();
        }
    }

    /// `queued` datagrams of ours wait for their pacing slot.
    fn sent(&mut self, queued: usize) {
        self.queued_peak = self.queued_peak.max(queued);
        if queued == 0 && self.queued_peak >= Self::LARGE {
            self.queued_peak = 0;
            crate::heap::trim();
        }
    }
}

/// Datagrams received but not yet handled, at most.
const RX_QUEUE: usize = 4096;

/// Wall-clock milliseconds of an engine instant.
fn wall_ms(i: Instant) -> u64 {
    let ago = Instant::now().saturating_duration_since(i).as_millis() as u64;
    now_ms().saturating_sub(ago)
}

/// The RIPng service: its engine, its socket, and its routes in the kernel.
pub struct Rip {
    engine: Engine,
    /// The section the engine runs on (a reload with the same one is a no-op).
    config: v6config::Ripng,
    sock: Arc<RipSocket>,
    reader: tokio::task::JoinHandle<()>,
    /// Bounded: a flood from the LAN waits in the socket's buffer (and is
    /// dropped, counted, by the kernel when that is full), not in our heap.
    /// A whole 50,000-route table is about 700 datagrams.
    rx: mpsc::Receiver<(Vec<u8>, RecvMeta)>,
    joined: BTreeSet<u32>,
    routes: ProtocolRoutes,
    burst: Burst,
    /// Our `show protocols` info: how many routes the kernel refuses now
    /// (counted only when a refusal or a retry happened: counting walks
    /// the whole table).
    refused_info: String,
    /// A kernel change waits this long for the rest of its burst.
    kernel_due: Option<Instant>,
    kv: Arc<KernelView>,
}

impl Drop for Rip {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

pub enum Event {
    Datagram(Vec<u8>, RecvMeta),
    Kernel(RouteEvent),
}

/// Read the socket on a task of its own and hand datagrams over, so a
/// burst waits in a bounded queue.
fn spawn_reader(sock: Arc<RipSocket>, tx: mpsc::Sender<(Vec<u8>, RecvMeta)>) -> JoinHandle<()> {
    tokio::spawn(
        async move {
            let mut buf = vec![0u8; 65536];
            let mut n = 0u32;
            loop {
                // A socket that is always readable never makes this task
                // give way on its own (AsyncFd does not take part in
                // tokio's budget): yield now and then so v6ctl and the
                // timers get their turn.
                n += 1;
                if n == 16 {
                    n = 0;
                    tokio::task::yield_now().await;
                }
                match sock.recv(&mut buf).await {
                    Ok(m) => {
                        if tx.send((buf[..m.len].to_vec(), m)).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        debug!("recv: {e}");
                        if e.kind() != std::io::ErrorKind::InvalidData {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
            }
        }
        .in_current_span(),
    )
}

impl Service for Rip {
    const NAME: &'static str = PROTOCOL_NAME;
    const PROTO: &'static str = "RIP";
    const TABLE: &'static str = "master6";
    const IDLE: &'static str = "RIPng is not configured";
    type Event = Event;

    fn wanted(cfg: &Config) -> bool {
        cfg.ripng.is_some()
    }

    async fn start(ctx: &Ctx) -> Result<Rip, String> {
        let cfg = ctx.config();
        let r = cfg.ripng.clone().ok_or("no [ripng]")?;
        let sock = RipSocket::open().map_err(|e| {
            warn!("cannot open UDP port 521: {e}; RIPng is off");
            format!("UDP 521: {e}")
        })?;
        let sock = Arc::new(sock);
        let (tx, rx) = mpsc::channel(RX_QUEUE);
        let engine = Engine::new(engine_config(&r), fastrand::u64(..));
        let names: Vec<&str> = engine
            .config()
            .interfaces
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        info!("running on {names:?}");
        let routes = ProtocolRoutes::open(rtprot::RIP);
        // Leftovers of a crash (or of anyone else) go; the answer comes
        // back as RouteEvent::Dumped.
        routes.dump();
        Ok(Rip {
            engine,
            config: r,
            reader: spawn_reader(sock.clone(), tx),
            sock,
            rx,
            joined: BTreeSet::new(),
            routes,
            burst: Burst::default(),
            refused_info: String::new(),
            kernel_due: None,
            kv: ctx.kernel(),
        })
    }

    async fn changed(&mut self, ctx: &Ctx, what: Changed) {
        match what {
            Changed::Config => {
                if let Some(r) = ctx.config().ripng.as_ref().filter(|r| **r != self.config) {
                    self.engine.set_config(engine_config(r));
                    self.config = r.clone();
                }
                self.kernel_changed(ctx.kernel()).await;
            }
            Changed::Kernel => {
                self.kernel_due
                    .get_or_insert_with(|| Instant::now() + KERNEL_SETTLE);
            }
            Changed::Uplink => {}
        }
    }

    async fn next_event(&mut self) -> Event {
        // A closed queue (the reader task ended) is a source gone quiet:
        // the kernel's routes are still followed.
        let datagram = async {
            match self.rx.recv().await {
                Some(d) => d,
                None => std::future::pending().await,
            }
        };
        match first(datagram, self.routes.next()).await {
            Either::A((bytes, meta)) => Event::Datagram(bytes, meta),
            Either::B(ev) => Event::Kernel(ev),
        }
    }

    async fn on_event(&mut self, _: &Ctx, ev: Event) {
        match ev {
            Event::Datagram(bytes, meta) => {
                self.datagram(&bytes, meta).await;
                // Drain what else arrived, without starving the rest.
                let mut n = 1;
                while n <= 256 {
                    match self.rx.try_recv() {
                        Ok((b, m)) => self.datagram(&b, m).await,
                        Err(_) => break,
                    }
                    n += 1;
                }
                self.burst.received(n, self.rx.is_empty());
            }
            Event::Kernel(RouteEvent::Refused(r)) => self.refused(r),
            Event::Kernel(RouteEvent::Dumped(routes)) => {
                let acts = self.engine.kernel_rip_routes(Instant::now(), &routes);
                self.execute(acts).await;
            }
            Event::Kernel(RouteEvent::Changed(changes)) => {
                let now = Instant::now();
                let mut acts = Vec::new();
                for c in &changes {
                    acts.extend(match c {
                        RouteChange::New(r) => self.engine.kernel_rip_added(now, r),
                        RouteChange::Del(r) => self.engine.kernel_rip_deleted(now, r),
                    });
                }
                self.execute(acts).await;
            }
        }
    }

    fn deadline(&self) -> Option<Instant> {
        [self.engine.next_timer(), self.kernel_due]
            .into_iter()
            .flatten()
            .min()
    }

    async fn on_deadline(&mut self, ctx: &Ctx, now: Instant) {
        if self.kernel_due.is_some_and(|t| t <= now) {
            self.kernel_due = None;
            self.kernel_changed(ctx.kernel()).await;
        }
        let acts = self.engine.on_timer(Instant::now());
        let pending = self.engine.tx_pending();
        self.execute(acts).await;
        self.burst.sent(pending);
        if !self.refused_info.is_empty() {
            // Retries went out; the row clears once none are refused
            // again (a refusal comes back within ms).
            self.count_refused();
        }
    }

    async fn answer(&mut self, _: &Ctx, req: Request) -> Response {
        match req {
            Request::ShowRipNeighbors => Response::ok(neighbors(self)),
            Request::ShowRipInterfaces => Response::ok(interfaces(self)),
            other => crate::service::not_mine(Self::NAME, &other),
        }
    }

    fn routes(&self, _: &Ctx) -> Contributed {
        rip_rows(&self.engine, &self.kv)
    }

    fn metrics(&self, _: &Ctx) -> String {
        crate::metrics::rip(&neighbors(self).rows)
    }

    fn row(&self) -> Option<Row> {
        Some(Row::new("up", self.refused_info.clone()))
    }

    /// Neighbours hear our routes at metric 16, our routes leave the kernel.
    async fn stop(mut self, _: &Ctx) {
        let stop = async {
            let acts = self.engine.shutdown();
            self.execute(acts).await;
            for i in &self.joined {
                self.sock.leave(*i);
            }
            self.reader.abort();
            let routes = std::mem::replace(&mut self.routes, ProtocolRoutes::closed());
            routes.close().await;
        };
        if tokio::time::timeout(STOP_BUDGET, stop).await.is_err() {
            warn!("stop took longer than {STOP_BUDGET:?}; some routes may remain");
        }
    }
}

impl Rip {
    /// The kernel refused installs: the engine marks and retries them; a
    /// refusal that lasts past a retry is warned about, a first one (a link
    /// going down while we put back what the kernel just deleted through
    /// it) only logged at debug level.
    fn refused(&mut self, refused: Refused) {
        let routes: Vec<RouteFact> = refused.iter().map(|(r, _)| r.clone()).collect();
        let lasting = self.engine.kernel_install_failed(Instant::now(), &routes);
        if let Some((r, errno)) = refused.first() {
            let e = std::io::Error::from_raw_os_error(*errno);
            if lasting > 0 {
                warn!(
                    "the kernel refused {} route installs again ({lasting} after a retry), e.g. {} via {:?}: {e}; retrying",
                    refused.len(),
                    r.dst,
                    r.gateway
                );
            } else {
                debug!(
                    "the kernel refused {} route installs, e.g. {} via {:?}: {e}; retrying",
                    refused.len(),
                    r.dst,
                    r.gateway
                );
            }
        }
        self.count_refused();
    }

    /// Our `show protocols` info: how many routes the kernel refuses now.
    fn count_refused(&mut self) {
        let n = self.engine.failed_installs();
        self.refused_info = if n > 0 {
            format!("{n} routes refused by the kernel, retrying")
        } else {
            String::new()
        };
    }

    async fn kernel_changed(&mut self, kv: Arc<KernelView>) {
        self.kv = kv.clone();
        let acts = self.engine.set_kernel(Instant::now(), &kv);
        // Follow the interfaces: ff02::9 on each active one.
        let active: BTreeSet<u32> = self
            .engine
            .interfaces()
            .filter(|i| i.is_active())
            .map(|i| i.ifindex)
            .collect();
        for i in active.difference(&self.joined) {
            if let Err(e) = self.sock.join(*i) {
                warn!("cannot join ff02::9 on ifindex {i}: {e}");
            }
        }
        for i in self.joined.difference(&active) {
            self.sock.leave(*i);
        }
        self.joined = active;
        self.execute(acts).await;
    }

    async fn datagram(&mut self, bytes: &[u8], meta: RecvMeta) {
        let rx = Received {
            src: *meta.src.ip(),
            src_port: meta.src.port(),
            ifindex: meta.ifindex,
            hop_limit: meta.hop_limit,
            payload: bytes,
        };
        match self.engine.handle_packet(Instant::now(), rx) {
            Ok(acts) => self.execute(acts).await,
            Err(engine::Drop::Own) => {}
            Err(e) => debug!("dropped datagram from {}: {e}", meta.src),
        }
    }

    async fn execute(&mut self, acts: Vec<Action>) {
        for a in acts {
            match a {
                Action::Send {
                    bytes,
                    dst,
                    ifindex,
                } => {
                    let src = self
                        .engine
                        .interfaces()
                        .find(|i| i.ifindex == ifindex)
                        .and_then(|i| i.link_local);
                    let Some(src) = src else { continue };
                    if let Err(e) = self.sock.send(&bytes, dst, ifindex, src).await {
                        debug!("send to {dst} on ifindex {ifindex}: {e}");
                    }
                }
                Action::InstallRoutes(v) => self.routes.install(v),
                Action::RemoveRoutes(v) => self.routes.remove(v),
            }
        }
    }
}

/// RIPng's contribution to `show route`: its learned routes.
fn rip_rows(engine: &Engine, kv: &KernelView) -> Contributed {
    let name_of = |i: u32| kv.links.get(&i).map(|l| l.name.clone());
    let inf = engine.config().infinity;
    let mut rows = Vec::new();
    for r in engine.routes() {
        let Origin::Learned {
            nexthop, ifindex, ..
        } = r.origin
        else {
            continue;
        };
        let kind = if r.metric < inf {
            "unicast"
        } else {
            "unreachable"
        };
        rows.push((
            r.prefix,
            RouteRow {
                prefix: r.prefix.to_string(),
                kind: kind.into(),
                proto: PROTOCOL_NAME.into(),
                since_ms: wall_ms(r.since),
                primary: false,
                preference: 120,
                metric: Some(r.metric),
                via: Some(nexthop.to_string()),
                iface: name_of(ifindex),
                tag: Some(r.tag),
                kernel_refused: r.install_failed,
            },
        ));
    }
    rows
}

fn neighbors(rip: &Rip) -> RipAnswer<NeighborRow> {
    let now = Instant::now();
    let rows = rip
        .engine
        .neighbours()
        .map(|n| {
            let iface = rip.engine.interfaces().find(|i| i.ifindex == n.ifindex);
            NeighborRow {
                addr: n.addr.to_string(),
                iface: iface.map(|i| i.name.clone()).unwrap_or_default(),
                metric: iface.map(|i| i.cost).unwrap_or(1),
                routes: rip.engine.neighbour_routes(n.addr, n.ifindex),
                seen_secs: now.saturating_duration_since(n.last_seen).as_secs_f64(),
                bad_packets: n.bad_packets,
                bad_routes: n.bad_routes,
            }
        })
        .collect();
    RipAnswer {
        protocol: PROTOCOL_NAME.into(),
        rows,
    }
}

fn interfaces(rip: &Rip) -> RipAnswer<InterfaceRow> {
    let now = Instant::now();
    let rows = rip
        .engine
        .interfaces()
        .map(|i| InterfaceRow {
            iface: i.name.clone(),
            state: if i.is_active() { "Up" } else { "Down" }.into(),
            metric: i.cost,
            neighbors: rip.engine.neighbour_count(i.ifindex),
            timer_secs: if i.is_active() {
                i.next_update.saturating_duration_since(now).as_secs_f64()
            } else {
                0.0
            },
        })
        .collect();
    RipAnswer {
        protocol: PROTOCOL_NAME.into(),
        rows,
    }
}

#[cfg(test)]
mod tests;
