//! The RIPng service: runs the `v6ripng` engine on the `[ripng]` section.
//!
//! - Datagrams: one task reads the UDP 521 socket and hands datagrams with
//!   their packet info to the loop below; the engine's paced sends go out
//!   from the interface's link-local address with hop limit 255.
//! - Kernel: learned routes go in as they arrive, in batches, from a writer
//!   thread with a netlink socket of its own (`v6netlink::routes`): many
//!   requests per datagram, one acknowledgement per batch, so 50,000 routes
//!   cost about what the kernel's FIB needs. Our routes carry RTPROT_RIP and
//!   stay out of the shared kernel view; a listener sees only what others do
//!   to rip routes (the kernel filters out the notifications of our own
//!   requests). A dump at start removes what a crash left; a route of ours
//!   an admin deletes is put back at once. At stop, neighbours hear our
//!   routes at metric 16 and our routes leave the kernel.
//! - v6ctl: `show route`, `show rip neighbors`, `show rip interfaces`, and
//!   our `show protocols` row.

use crate::service::unix_ms as now_ms;
use std::collections::BTreeSet;
use std::net::Ipv6Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tracing::{debug, info, warn};
use v6common::kernel::rtprot;
use v6common::{Ipv6Prefix, KernelView, RouteFact, RouteKind};
use v6config::Config;
use v6control::rip::{
    InterfaceRow, NeighborRow, RipAnswer, RouteRow, DIRECT_NAME, KERNEL_NAME, PROTOCOL_NAME,
};
use v6control::{ProtocolInfo, Request, Response};
use v6netlink::routes::{RouteBatchSocket, RouteChange, RouteListener};
use v6ripng::engine::{self, Action, Engine, IfaceConfig, Origin, PrefixFilter, Received};
use v6ripng::io::{RecvMeta, RipSocket};

use crate::service::{Query, ServiceCtx};

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

/// The next changes to rip routes by others (never, without a listener).
async fn next_change(l: &mut Option<RouteListener>) -> std::io::Result<Vec<RouteChange>> {
    match l {
        Some(l) => l.recv().await,
        None => std::future::pending().await,
    }
}

/// Work for the route writer thread, executed in order.
enum Write {
    Remove(Vec<RouteFact>),
    Install(Vec<RouteFact>),
    /// Dump our protocol's routes; the answer goes back to the service.
    Dump,
}

/// The route writer: a thread of its own with a blocking netlink socket, so
/// the kernel's FIB work (done inside `sendmsg`) runs beside the service's
/// datagram processing on the other core. Batches that queued up meanwhile
/// are merged: a 50,000-route table arriving in 700 datagrams becomes a few
/// large batches, installed while the rest still arrives.
fn route_writer(
    mut sock: RouteBatchSocket,
    rx: std::sync::mpsc::Receiver<Write>,
    dumped: mpsc::UnboundedSender<Vec<RouteFact>>,
    refused: mpsc::UnboundedSender<Refused>,
) {
    let run_writes = |sock: &mut RouteBatchSocket, del: &mut Vec<RouteFact>, add: &mut Vec<_>| {
        let r = run_writes(sock, del, add);
        if !r.is_empty() {
            let _ = refused.send(r);
        }
    };
    let (mut del, mut add) = (Vec::new(), Vec::new());
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(w) = next.take() {
            match w {
                // Removals join the batch only before its installs, so a
                // removal never overtakes an install of the same moment.
                Write::Remove(v) if add.is_empty() => del.extend(v),
                Write::Install(v) => add.extend(v),
                w => {
                    run_writes(&mut sock, &mut del, &mut add);
                    match w {
                        Write::Remove(v) => del.extend(v),
                        Write::Install(v) => add.extend(v),
                        Write::Dump => match sock.dump_protocol(rtprot::RIP) {
                            Ok(v) => {
                                let _ = dumped.send(v);
                            }
                            Err(e) => warn!("ripng: cannot dump the kernel's rip routes: {e}"),
                        },
                    }
                }
            }
            next = rx.try_recv().ok();
        }
        let big = del.len() + add.len() >= BIG_BATCH;
        run_writes(&mut sock, &mut del, &mut add);
        if big {
            // The batch and the burst of datagrams that made it are freed
            // now; hand the memory back instead of holding the peak.
            del = Vec::new();
            add = Vec::new();
            trim_heap();
        }
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
            trim_heap();
        }
    }

    /// `queued` datagrams of ours wait for their pacing slot.
    fn sent(&mut self, queued: usize) {
        self.queued_peak = self.queued_peak.max(queued);
        if queued == 0 && self.queued_peak >= Self::LARGE {
            self.queued_peak = 0;
            trim_heap();
        }
    }
}

/// glibc's heap for a table that arrives in bursts: large blocks always
/// mapped (so freed ones go back), instead of the threshold rising after
/// the first large free and later ones piling up in the heap.
///
/// These are process-wide settings, made here because RIPng is what
/// allocates in bursts (700 datagrams and their route batches every 30 s at
/// 50,000 routes). For the rest of the daemon they only mean that a block
/// of 256 KiB or more (DHCPv6's lease table as it grows, a kernel dump) is
/// mmap'ed and unmapped when freed, and that up to 1 MiB of free heap top
/// is kept: glibc's defaults (128 KiB, 128 KiB) except that the mmap
/// threshold no longer rises after the first large free. The cost is page
/// faults when such a block is made again (5 % of the sender's CPU at
/// 10,000 routes in perf); with the trims below it took the receiver's RSS
/// at 50,000 routes from 19-33 MB to 15.7 MB (commit 4242209).
fn tune_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1024 * 1024);
    }
}

/// Datagrams received but not yet handled, at most.
const RX_QUEUE: usize = 4096;

/// A batch this large (a table arriving) is followed by a heap trim.
const BIG_BATCH: usize = 4096;

/// Return freed heap memory to the kernel (glibc keeps it otherwise; musl
/// returns large blocks by itself).
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory that is already free.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Installs the kernel refused, with its errno, for the engine.
type Refused = Vec<(RouteFact, i32)>;

/// Apply one batch; returns the installs the kernel refused (the engine
/// retries them and the service decides whether to warn). A failed
/// removal is logged here: a route already gone (ESRCH) is what we wanted.
fn run_writes(
    sock: &mut RouteBatchSocket,
    del: &mut Vec<RouteFact>,
    add: &mut Vec<RouteFact>,
) -> Refused {
    let mut refused = Vec::new();
    if del.is_empty() && add.is_empty() {
        return refused;
    }
    let t = Instant::now();
    match sock.apply(del, add) {
        Ok(failed) => {
            let mut removals = 0;
            let mut example = None;
            for f in failed {
                if f.add {
                    refused.push((f.route, f.errno));
                } else if f.errno != libc::ESRCH {
                    removals += 1;
                    example.get_or_insert(f);
                }
            }
            if let Some(f) = example {
                warn!(
                    "ripng: {removals} of {} route removals failed, e.g. {} via {:?}: {}",
                    del.len(),
                    f.route.dst,
                    f.route.gateway,
                    f.error()
                );
            }
        }
        Err(e) => {
            warn!(
                "ripng: route batch ({} removals, {} installs) failed: {e}",
                del.len(),
                add.len()
            );
            // Nothing is known to be in: all installs are retried.
            let errno = e.raw_os_error().unwrap_or(libc::EIO);
            refused.extend(add.iter().map(|r| (r.clone(), errno)));
        }
    }
    debug!(
        "ripng: kernel: {} removed, {} installed in {:?}",
        del.len(),
        add.len(),
        t.elapsed()
    );
    del.clear();
    add.clear();
    refused
}

struct Rip {
    engine: Engine,
    sock: Arc<RipSocket>,
    reader: tokio::task::JoinHandle<()>,
    joined: BTreeSet<u32>,
}

impl Drop for Rip {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Wall-clock milliseconds of an engine instant.
fn wall_ms(i: Instant) -> u64 {
    let ago = Instant::now().saturating_duration_since(i).as_millis() as u64;
    now_ms().saturating_sub(ago)
}

struct Service {
    writer: std::sync::mpsc::Sender<Write>,
    /// Our `show protocols` row says routes are refused by the kernel.
    refused_shown: bool,
    started_ms: u64,
    rx_tx: mpsc::Sender<(Vec<u8>, RecvMeta)>,
    rip: Option<Rip>,
    burst: Burst,
    kv: Arc<KernelView>,
    /// When kernel routes and connected prefixes were first seen (show route).
    first_seen: FirstSeen,
}

/// When each kernel route and connected prefix was first seen, for `show
/// route`'s time column: sorted by (prefix, source) and searched, 32 bytes
/// a route (a hash map of it took 49 and more, as much as the RIPng table
/// itself for a router exporting 10,000 kernel routes).
#[derive(Default)]
struct FirstSeen(Vec<(Ipv6Prefix, u8, u64)>);

impl FirstSeen {
    /// kernel1 0, direct1 1.
    fn source(proto: &str) -> u8 {
        u8::from(proto != KERNEL_NAME)
    }

    /// The routes now in the view keep their time; new ones get `now`.
    fn update(&mut self, keys: Vec<(Ipv6Prefix, &'static str)>, now: u64) {
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

    fn get(&self, p: Ipv6Prefix, proto: &str) -> Option<u64> {
        let k = (p, Self::source(proto));
        self.0
            .binary_search_by(|x| (x.0, x.1).cmp(&k))
            .ok()
            .map(|i| self.0[i].2)
    }
}

pub async fn run(mut ctx: ServiceCtx) {
    tune_heap();
    let (wtx, wrx) = std::sync::mpsc::channel();
    let (dump_tx, mut dump_rx) = mpsc::unbounded_channel();
    let (refused_tx, mut refused_rx) = mpsc::unbounded_channel::<Refused>();
    // Our routes go through a socket of our own, and we follow changes to
    // rip routes by others on another (the shared kernel view leaves rip
    // routes out, see v6netlink::open).
    let (writer, mut listener) = match RouteBatchSocket::open() {
        Ok(sock) => {
            let listener = match RouteListener::open(rtprot::RIP, sock.portid()) {
                Ok(l) => Some(l),
                Err(e) => {
                    warn!("ripng: cannot follow the kernel's rip routes ({e}); routes deleted by others stay deleted");
                    None
                }
            };
            let w = std::thread::Builder::new()
                .name("ripng-routes".into())
                .spawn(move || route_writer(sock, wrx, dump_tx, refused_tx));
            match w {
                Ok(h) => (Some(h), listener),
                Err(e) => {
                    warn!("ripng: no route writer thread ({e}); learned routes stay out of the kernel");
                    (None, None)
                }
            }
        }
        Err(e) => {
            warn!("ripng: no netlink socket ({e}); learned routes stay out of the kernel");
            (None, None)
        }
    };
    // Bounded: a flood from the LAN waits in the socket's buffer (and is
    // dropped, counted, by the kernel when that is full), not in our heap.
    // A whole 50,000-route table is about 700 datagrams.
    let (rx_tx, mut rx_rx) = mpsc::channel::<(Vec<u8>, RecvMeta)>(RX_QUEUE);
    let mut svc = Service {
        writer: wtx,
        refused_shown: false,
        started_ms: now_ms(),
        rx_tx,
        rip: None,
        burst: Burst::default(),
        kv: ctx.kernel(),
        first_seen: FirstSeen::default(),
    };
    svc.configure(&ctx.config(), &ctx).await;
    svc.kernel_changed(ctx.kernel()).await;
    let mut kernel_due: Option<tokio::time::Instant> = None;
    loop {
        let engine_due = svc
            .rip
            .as_ref()
            .and_then(|r| r.engine.next_timer())
            .map(tokio::time::Instant::from_std);
        let due = match (engine_due, kernel_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let sleep = async {
            match due {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = ctx.shutdown.changed() => {
                if r.is_err() || *ctx.shutdown.borrow() {
                    break;
                }
            }
            r = ctx.config.changed() => {
                if r.is_err() {
                    break; // the supervisor is gone
                }
                let cfg = ctx.config();
                svc.configure(&cfg, &ctx).await;
                svc.kernel_changed(ctx.kernel()).await;
            }
            r = ctx.kernel.changed() => {
                if r.is_err() {
                    break;
                }
                if kernel_due.is_none() {
                    kernel_due = Some(tokio::time::Instant::now() + KERNEL_SETTLE);
                }
            }
            Some(refused) = refused_rx.recv() => svc.refused(refused, &ctx),
            Some(routes) = dump_rx.recv() => {
                if let Some(r) = svc.rip.as_mut() {
                    let acts = r.engine.kernel_rip_routes(Instant::now(), &routes);
                    svc.execute(acts).await;
                }
            }
            r = next_change(&mut listener) => match r {
                Ok(changes) => {
                    if let Some(rip) = svc.rip.as_mut() {
                        let now = Instant::now();
                        let mut acts = Vec::new();
                        for c in &changes {
                            acts.extend(match c {
                                RouteChange::New(r) => rip.engine.kernel_rip_added(now, r),
                                RouteChange::Del(r) => rip.engine.kernel_rip_deleted(now, r),
                            });
                        }
                        svc.execute(acts).await;
                    }
                }
                Err(e) if v6netlink::routes::is_overrun(&e) => {
                    debug!("ripng: rip route notifications were lost; dumping again");
                    let _ = svc.writer.send(Write::Dump);
                }
                Err(e) => {
                    warn!("ripng: following the kernel's rip routes: {e}");
                    listener = None;
                }
            },
            Some((bytes, meta)) = rx_rx.recv() => {
                svc.datagram(&bytes, meta).await;
                // Drain what else arrived, without starving the rest.
                let mut n = 1;
                while n <= 256 {
                    match rx_rx.try_recv() {
                        Ok((b, m)) => svc.datagram(&b, m).await,
                        Err(_) => break,
                    }
                    n += 1;
                }
                svc.burst.received(n, rx_rx.is_empty());
            }
            Some(q) = ctx.queries.recv() => svc.answer(q),
            _ = sleep => {
                if kernel_due.is_some_and(|t| t <= tokio::time::Instant::now()) {
                    kernel_due = None;
                    svc.kernel_changed(ctx.kernel()).await;
                }
                if let Some(r) = svc.rip.as_mut() {
                    let acts = r.engine.on_timer(Instant::now());
                    let pending = r.engine.tx_pending();
                    svc.execute(acts).await;
                    svc.burst.sent(pending);
                    if svc.refused_shown {
                        // Retries went out; the row clears once none are
                        // refused again (a refusal comes back within ms).
                        svc.show_refused(&ctx);
                    }
                }
            }
        }
    }
    // Stop: tell neighbours, take our routes out of the kernel.
    let stop = async {
        svc.stop_engine().await;
        drop(svc);
        if let Some(w) = writer {
            let _ = tokio::task::spawn_blocking(move || w.join()).await;
        }
    };
    if tokio::time::timeout(STOP_BUDGET, stop).await.is_err() {
        warn!("ripng: stop took longer than {STOP_BUDGET:?}; some routes may remain");
    }
    let _ = ctx.protocol.send(None);
}

impl Service {
    async fn configure(&mut self, cfg: &Config, ctx: &ServiceCtx) {
        match (&cfg.ripng, self.rip.as_mut()) {
            (None, Some(_)) => {
                info!("ripng: removed from the configuration; stopping");
                self.stop_engine().await;
                let _ = ctx.protocol.send(None);
            }
            (None, None) => {}
            (Some(r), Some(rip)) => {
                rip.engine.set_config(engine_config(r));
            }
            (Some(r), None) => {
                let sock = match RipSocket::open() {
                    Ok(s) => Arc::new(s),
                    Err(e) => {
                        warn!("ripng: cannot open UDP port 521: {e}; RIPng is off");
                        let _ = ctx.protocol.send(Some(ProtocolInfo {
                            name: PROTOCOL_NAME.into(),
                            proto: "RIP".into(),
                            table: "master6".into(),
                            state: "down".into(),
                            since: v6control::rip::format_since(now_ms(), now_ms()),
                            since_ms: Some(now_ms()),
                            info: format!("UDP 521: {e}"),
                        }));
                        return;
                    }
                };
                let reader = {
                    let sock = sock.clone();
                    let tx = self.rx_tx.clone();
                    tokio::spawn(async move {
                        let mut buf = vec![0u8; 65536];
                        let mut n = 0u32;
                        loop {
                            // A socket that is always readable never makes
                            // this task give way on its own (AsyncFd does not
                            // take part in tokio's budget): yield now and
                            // then so v6ctl and the timers get their turn.
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
                                    debug!("ripng: recv: {e}");
                                    if e.kind() != std::io::ErrorKind::InvalidData {
                                        tokio::time::sleep(Duration::from_millis(10)).await;
                                    }
                                }
                            }
                        }
                    })
                };
                let seed = fastrand::u64(..);
                let started_ms = now_ms();
                self.started_ms = started_ms;
                let names: Vec<String> = engine_config(r)
                    .interfaces
                    .into_iter()
                    .map(|i| i.name)
                    .collect();
                info!("ripng: running on {names:?}");
                self.rip = Some(Rip {
                    engine: Engine::new(engine_config(r), seed),
                    sock,
                    reader,
                    joined: BTreeSet::new(),
                });
                // Leftovers of a crash (or of anyone else) go; the answer
                // comes back on the writer's dump channel.
                let _ = self.writer.send(Write::Dump);
                let _ = ctx.protocol.send(Some(ProtocolInfo {
                    name: PROTOCOL_NAME.into(),
                    proto: "RIP".into(),
                    table: "master6".into(),
                    state: "up".into(),
                    since: v6control::rip::format_since(started_ms, now_ms()),
                    since_ms: Some(started_ms),
                    info: String::new(),
                }));
            }
        }
    }

    /// The kernel refused installs: the engine marks and retries them; a
    /// refusal that lasts past a retry is warned about, a first one (a link
    /// going down while we put back what the kernel just deleted through
    /// it) only logged at debug level.
    fn refused(&mut self, refused: Refused, ctx: &ServiceCtx) {
        let Some(rip) = self.rip.as_mut() else {
            return;
        };
        let routes: Vec<RouteFact> = refused.iter().map(|(r, _)| r.clone()).collect();
        let lasting = rip.engine.kernel_install_failed(Instant::now(), &routes);
        if let Some((r, errno)) = refused.first() {
            let e = std::io::Error::from_raw_os_error(*errno);
            if lasting > 0 {
                warn!(
                    "ripng: the kernel refused {} route installs again ({lasting} after a retry), e.g. {} via {:?}: {e}; retrying",
                    refused.len(),
                    r.dst,
                    r.gateway
                );
            } else {
                debug!(
                    "ripng: the kernel refused {} route installs, e.g. {} via {:?}: {e}; retrying",
                    refused.len(),
                    r.dst,
                    r.gateway
                );
            }
        }
        self.show_refused(ctx);
    }

    /// Our `show protocols` row: how many routes the kernel refuses now.
    fn show_refused(&mut self, ctx: &ServiceCtx) {
        let Some(rip) = self.rip.as_ref() else {
            return;
        };
        let n = rip.engine.failed_installs();
        if n == 0 && !self.refused_shown {
            return;
        }
        self.refused_shown = n > 0;
        let info = if n > 0 {
            format!("{n} routes refused by the kernel, retrying")
        } else {
            String::new()
        };
        let _ = ctx.protocol.send(Some(ProtocolInfo {
            name: PROTOCOL_NAME.into(),
            proto: "RIP".into(),
            table: "master6".into(),
            state: "up".into(),
            since: v6control::rip::format_since(self.started_ms, now_ms()),
            since_ms: Some(self.started_ms),
            info,
        }));
    }

    async fn stop_engine(&mut self) {
        if let Some(mut rip) = self.rip.take() {
            let acts = rip.engine.shutdown();
            self.rip = Some(rip);
            self.execute(acts).await;
            if let Some(rip) = self.rip.take() {
                for i in &rip.joined {
                    rip.sock.leave(*i);
                }
            }
        }
    }

    async fn kernel_changed(&mut self, kv: Arc<KernelView>) {
        self.kv = kv.clone();
        self.note_first_seen();
        let Some(rip) = self.rip.as_mut() else {
            return;
        };
        let acts = rip.engine.set_kernel(Instant::now(), &kv);
        // Follow the interfaces: ff02::9 on each active one.
        let active: BTreeSet<u32> = rip
            .engine
            .interfaces()
            .filter(|i| i.is_active())
            .map(|i| i.ifindex)
            .collect();
        for i in active.difference(&rip.joined) {
            if let Err(e) = rip.sock.join(*i) {
                warn!("ripng: cannot join ff02::9 on ifindex {i}: {e}");
            }
        }
        for i in rip.joined.difference(&active) {
            rip.sock.leave(*i);
        }
        rip.joined = active;
        self.execute(acts).await;
    }

    fn note_first_seen(&mut self) {
        self.first_seen.update(kernel_rows_keys(&self.kv), now_ms());
    }

    async fn datagram(&mut self, bytes: &[u8], meta: RecvMeta) {
        let Some(rip) = self.rip.as_mut() else {
            return;
        };
        let rx = Received {
            src: *meta.src.ip(),
            src_port: meta.src.port(),
            ifindex: meta.ifindex,
            hop_limit: meta.hop_limit,
            payload: bytes,
        };
        match rip.engine.handle_packet(Instant::now(), rx) {
            Ok(acts) => self.execute(acts).await,
            Err(engine::Drop::Own) => {}
            Err(e) => debug!("ripng: dropped datagram from {}: {e}", meta.src),
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
                    let Some(rip) = self.rip.as_ref() else {
                        continue;
                    };
                    let src = rip
                        .engine
                        .interfaces()
                        .find(|i| i.ifindex == ifindex)
                        .and_then(|i| i.link_local);
                    let Some(src) = src else { continue };
                    if let Err(e) = rip.sock.send(&bytes, dst, ifindex, src).await {
                        debug!("ripng: send to {dst} on ifindex {ifindex}: {e}");
                    }
                }
                Action::InstallRoutes(v) => {
                    let _ = self.writer.send(Write::Install(v));
                }
                Action::RemoveRoutes(v) => {
                    let _ = self.writer.send(Write::Remove(v));
                }
            }
        }
    }

    fn answer(&self, q: Query) {
        let r = match &q.request {
            Request::ShowRoute { target, protocol } => {
                match self.routes(target.as_deref(), protocol.as_deref()) {
                    Ok(rows) => Response::ok(rows),
                    Err(e) => Response::error(e),
                }
            }
            Request::ShowRipNeighbors => match &self.rip {
                None => Response::error("RIPng is not configured"),
                Some(rip) => Response::ok(neighbors(rip)),
            },
            Request::ShowRipInterfaces => match &self.rip {
                None => Response::error("RIPng is not configured"),
                Some(rip) => Response::ok(interfaces(rip)),
            },
            _ => {
                ServiceCtx::unknown(q);
                return;
            }
        };
        let _ = q.reply.send(r);
    }

    /// `show route [for ADDR|PREFIX] [protocol NAME]`: the kernel's routes
    /// (as BIRD's kernel protocol learns them), connected prefixes (BIRD's
    /// direct) and the RIPng table.
    fn routes(
        &self,
        target: Option<&str>,
        protocol: Option<&str>,
    ) -> Result<Vec<RouteRow>, String> {
        route_rows(
            &self.kv,
            &self.first_seen,
            self.rip.as_ref().map(|r| &r.engine),
            target,
            protocol,
        )
    }
}

/// The rows of `show route` from the kernel view, the first-seen times of
/// kernel and connected routes, and the RIPng table.
fn route_rows(
    kv: &KernelView,
    first_seen: &FirstSeen,
    engine: Option<&Engine>,
    target: Option<&str>,
    protocol: Option<&str>,
) -> Result<Vec<RouteRow>, String> {
    if let Some(p) = protocol {
        if ![PROTOCOL_NAME, DIRECT_NAME, KERNEL_NAME].contains(&p) {
            return Err(format!(
                "unknown protocol `{p}` (known: {PROTOCOL_NAME}, {DIRECT_NAME}, {KERNEL_NAME})"
            ));
        }
    }
    let target: Option<Ipv6Prefix> = match target {
        None => None,
        Some(t) if t.contains('/') => Some(t.parse().map_err(|e| format!("{e}"))?),
        Some(t) => {
            let a: Ipv6Addr = t
                .parse()
                .map_err(|_| format!("`{t}` is neither an IPv6 address nor a prefix"))?;
            Some(Ipv6Prefix::new(a, 128))
        }
    };
    let mut rows: Vec<(Ipv6Prefix, RouteRow)> = Vec::new();
    let name_of = |i: u32| kv.links.get(&i).map(|l| l.name.clone());
    let seen = |p: Ipv6Prefix, proto: &'static str| first_seen.get(p, proto).unwrap_or_else(now_ms);
    for r in kernel_routes(kv) {
        rows.push((
            r.dst,
            RouteRow {
                prefix: r.dst.to_string(),
                kind: kind_name(r.kind).into(),
                proto: KERNEL_NAME.into(),
                since_ms: seen(r.dst, KERNEL_NAME),
                primary: false,
                preference: 10,
                metric: None,
                via: r.gateway.map(|g| g.to_string()),
                iface: r.oif.and_then(name_of),
                tag: None,
                kernel_refused: false,
            },
        ));
    }
    for (p, index) in connected(kv) {
        rows.push((
            p,
            RouteRow {
                prefix: p.to_string(),
                kind: "unicast".into(),
                proto: DIRECT_NAME.into(),
                since_ms: seen(p, DIRECT_NAME),
                primary: false,
                preference: 240,
                metric: None,
                via: None,
                iface: name_of(index),
                tag: None,
                kernel_refused: false,
            },
        ));
    }
    if let Some(engine) = engine {
        let inf = engine.config().infinity;
        for r in engine.routes() {
            let Origin::Learned {
                nexthop, ifindex, ..
            } = r.origin
            else {
                continue;
            };
            rows.push((
                r.prefix,
                RouteRow {
                    prefix: r.prefix.to_string(),
                    kind: if r.metric < inf {
                        "unicast"
                    } else {
                        "unreachable"
                    }
                    .into(),
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
    }
    if let Some(t) = target {
        // BIRD's `for`: the longest prefix that covers the target.
        let best = rows
            .iter()
            .filter(|(p, _)| p.covers(&t))
            .map(|(p, _)| p.len())
            .max();
        rows.retain(|(p, _)| Some(p.len()) == best && p.covers(&t));
    }
    // The best route per prefix (highest preference, reachable) is `*`.
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
    if let Some(name) = protocol {
        rows.retain(|(_, r)| r.proto == name);
    }
    Ok(rows.into_iter().map(|(_, r)| r).collect())
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
/// no link-local or multicast destinations.
fn kernel_routes(kv: &KernelView) -> impl Iterator<Item = &RouteFact> {
    kv.routes.iter().filter(|r| {
        r.table == engine::RT_TABLE_MAIN
            && r.protocol != rtprot::KERNEL
            && r.protocol != rtprot::RIP
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

fn kernel_rows_keys(kv: &KernelView) -> Vec<(Ipv6Prefix, &'static str)> {
    let mut v: Vec<_> = kernel_routes(kv).map(|r| (r.dst, KERNEL_NAME)).collect();
    v.extend(connected(kv).into_iter().map(|(p, _)| (p, DIRECT_NAME)));
    v
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
mod tests {
    use super::*;
    use v6common::{AddrFact, LinkFact};

    fn view() -> KernelView {
        let mut kv = KernelView::default();
        for (i, n) in [(2, "eth0"), (3, "lan0")] {
            kv.links.insert(
                i,
                LinkFact {
                    index: i,
                    name: n.into(),
                    lladdr: None,
                    mtu: 1500,
                    admin_up: true,
                    running: true,
                    kind: None,
                },
            );
        }
        let addr = |index, a: &str, len| AddrFact {
            index,
            addr: a.parse().unwrap(),
            prefix_len: len,
            preferred_lft: u32::MAX,
            valid_lft: u32::MAX,
            tentative: false,
            deprecated: false,
            dad_failed: false,
            permanent: true,
        };
        kv.addrs.push(addr(2, "fe80::1", 64));
        kv.addrs.push(addr(3, "2001:db8:1::1", 64));
        let route = |dst: &str, protocol, kind| RouteFact {
            dst: dst.parse().unwrap(),
            gateway: None,
            oif: Some(3),
            protocol,
            metric: 1024,
            table: 254,
            kind,
        };
        kv.routes.push(route(
            "2001:db8:5::/48",
            rtprot::STATIC,
            RouteKind::Unreachable,
        ));
        kv.routes
            .push(route("2001:db8:1::/64", rtprot::KERNEL, RouteKind::Unicast));
        kv.routes
            .push(route("fe80::/64", rtprot::KERNEL, RouteKind::Unicast));
        kv
    }

    /// An engine on eth0 that learned 2001:db8:bb::/48 from fe80::b.
    fn engine(kv: &KernelView) -> Engine {
        let cfg = engine::Config {
            interfaces: vec![IfaceConfig {
                name: "eth0".into(),
                cost: 1,
            }],
            ..engine::Config::default()
        };
        let mut e = Engine::new(cfg, 1);
        let now = Instant::now();
        e.set_kernel(now, kv);
        hear_bb(&mut e, now);
        e
    }

    /// fe80::b on eth0 (ifindex 2) announces 2001:db8:bb::/48 at metric 1.
    fn hear_bb(e: &mut Engine, now: Instant) -> Vec<Action> {
        let pkt = v6ripng::wire::Repr {
            command: v6ripng::wire::Command::Response,
            rtes: vec![v6ripng::wire::RawRte {
                prefix: "2001:db8:bb::".parse().unwrap(),
                tag: 0,
                prefix_len: 48,
                metric: 1,
            }],
        }
        .to_bytes();
        let rx = Received {
            src: "fe80::b".parse().unwrap(),
            src_port: 521,
            ifindex: 2,
            hop_limit: Some(255),
            payload: &pkt,
        };
        e.handle_packet(now, rx).unwrap()
    }

    #[test]
    fn show_route_sources_selection_and_errors() {
        let kv = view();
        let e = engine(&kv);
        let mut fs = FirstSeen::default();
        // Seen times survive an update that keeps the route, new ones get
        // the update's time, gone ones go.
        fs.update(kernel_rows_keys(&kv), 1_000);
        fs.update(kernel_rows_keys(&kv), 2_000);
        assert_eq!(
            fs.get("2001:db8:5::/48".parse().unwrap(), KERNEL_NAME),
            Some(1_000)
        );
        assert_eq!(
            fs.get("2001:db8:5::/48".parse().unwrap(), DIRECT_NAME),
            None
        );
        fs.update(
            vec![("2001:db8:9::/48".parse().unwrap(), KERNEL_NAME)],
            3_000,
        );
        assert_eq!(
            fs.get("2001:db8:5::/48".parse().unwrap(), KERNEL_NAME),
            None
        );
        assert_eq!(
            fs.get("2001:db8:9::/48".parse().unwrap(), KERNEL_NAME),
            Some(3_000)
        );
        fs.update(kernel_rows_keys(&kv), 4_000);
        let all = route_rows(&kv, &fs, Some(&e), None, None).unwrap();
        let got: Vec<(&str, &str, &str, bool)> = all
            .iter()
            .map(|r| {
                (
                    r.prefix.as_str(),
                    r.proto.as_str(),
                    r.kind.as_str(),
                    r.primary,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("2001:db8:1::/64", "direct1", "unicast", true),
                ("2001:db8:5::/48", "kernel1", "unreachable", true),
                ("2001:db8:bb::/48", "rip1", "unicast", true),
            ]
        );
        let rip = &all[2];
        assert_eq!((rip.preference, rip.metric), (120, Some(2)));
        assert_eq!(rip.via.as_deref(), Some("fe80::b"));
        assert_eq!(rip.iface.as_deref(), Some("eth0"));
        // `for`: the longest prefix covering the address or prefix.
        let f = route_rows(&kv, &fs, Some(&e), Some("2001:db8:bb:1::9"), None).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].prefix, "2001:db8:bb::/48");
        let f = route_rows(&kv, &fs, Some(&e), Some("2001:db8:5:7::/64"), None).unwrap();
        assert_eq!(f[0].prefix, "2001:db8:5::/48");
        assert!(route_rows(&kv, &fs, Some(&e), Some("2001:db8:99::1"), None)
            .unwrap()
            .is_empty());
        // `protocol`.
        let p = route_rows(&kv, &fs, Some(&e), None, Some("kernel1")).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].proto, "kernel1");
        assert!(route_rows(&kv, &fs, Some(&e), None, Some("ospf1")).is_err());
        assert!(route_rows(&kv, &fs, Some(&e), Some("nonsense"), None).is_err());
        // Without RIPng: the kernel and connected routes still show.
        assert_eq!(route_rows(&kv, &fs, None, None, None).unwrap().len(), 2);
    }

    #[test]
    fn config_maps_to_engine() {
        let toml = r#"
[ripng]
interfaces = ["eth*"]
metric = 2
update_time = 5
timeout_time = 15
garbage_time = 10
poison_reverse = false
route_limit = 500
export = { connected = true, connected_interfaces = ["br-lan"], kernel = true, filter = ["2001:db8::/32"] }
"#;
        let c = match v6config::parse(toml, std::path::Path::new("t.toml")) {
            Ok(l) => l.config,
            Err(d) => panic!("{d}"),
        };
        let e = engine_config(c.ripng.as_ref().unwrap());
        assert_eq!(e.interfaces[0].cost, 2);
        assert_eq!(e.update_interval, Duration::from_secs(5));
        assert_eq!(e.timeout, Duration::from_secs(15));
        assert!(!e.poisoned_reverse && e.split_horizon);
        assert_eq!(e.import.limit, Some(500));
        assert_eq!(
            e.export.connected,
            vec!["br-lan".to_string(), "eth*".to_string()]
        );
        assert!(e.export.prefixes[0].matches(&"2001:db8:5::/48".parse().unwrap()));
        assert!(!e.export.prefixes[0].matches(&"2001:db9::/48".parse().unwrap()));
        // The pacing defaults (RFC-neutral, measured against BIRD).
        assert_eq!(e.pace_gap, Duration::from_millis(5));
        assert_eq!(e.pace_burst, 8);
    }

    #[test]
    fn bad_interface_settings_and_pacing_are_refused() {
        for (toml, key) in [
            (
                "[ripng]\n[[ripng.interface]]\nname = \"eth0\"\nmetric = 16\n",
                "ripng.interface[0].metric",
            ),
            (
                "[ripng]\n[[ripng.interface]]\nname = \"\"\n",
                "ripng.interface[0].name",
            ),
            (
                "[ripng]\ninterfaces = [\"eth0\"]\ntx_burst = 0\n",
                "ripng.tx_burst",
            ),
            (
                "[ripng]\ninterfaces = [\"eth0\"]\ntx_gap_us = 2000000\n",
                "ripng.tx_gap_us",
            ),
            ("[ripng]\n", "ripng.interfaces"),
        ] {
            match v6config::parse(toml, std::path::Path::new("t.toml")) {
                Ok(_) => panic!("accepted: {toml}"),
                Err(d) => assert!(format!("{d}").contains(key), "{toml}: {d}"),
            }
        }
        // Only `[[ripng.interface]]` is enough to run.
        let ok = "[ripng]\n[[ripng.interface]]\nname = \"eth0\"\n";
        assert!(v6config::parse(ok, std::path::Path::new("t.toml")).is_ok());
    }

    /// `[[ripng.interface]] metric` (BIRD's `interface "eth0" { metric 3; }`)
    /// is what a route received there costs: a route heard on eth0 at
    /// metric 1 leaves on lan0 at 4, and on eth0 poisoned (§2.5).
    #[test]
    fn interface_metric_from_the_config_shows_in_what_we_send() {
        let toml = r#"
[ripng]
interfaces = ["lan0"]
tx_gap_us = 500
tx_burst = 4
[[ripng.interface]]
name = "eth0"
metric = 3
"#;
        let c = match v6config::parse(toml, std::path::Path::new("t.toml")) {
            Ok(l) => l.config,
            Err(d) => panic!("{d}"),
        };
        let cfg = engine_config(c.ripng.as_ref().unwrap());
        assert_eq!(
            (cfg.pace_gap, cfg.pace_burst),
            (Duration::from_micros(500), 4)
        );
        let mut kv = view();
        kv.upsert_addr(AddrFact {
            addr: "fe80::3".parse().unwrap(),
            ..kv.addrs[0].clone()
        });
        kv.addrs.last_mut().unwrap().index = 3;
        let mut e = Engine::new(cfg, 1);
        let now = Instant::now();
        e.set_kernel(now, &kv);
        let costs: Vec<(String, u8)> = e.interfaces().map(|i| (i.name.clone(), i.cost)).collect();
        assert_eq!(costs, [("eth0".to_string(), 3), ("lan0".to_string(), 1)]);
        let acts = hear_bb(&mut e, now);
        let sent_metric = |ifindex: u32| {
            acts.iter().find_map(|a| match a {
                Action::Send {
                    bytes, ifindex: i, ..
                } if *i == ifindex => {
                    let r = v6ripng::wire::Repr::parse_bytes(bytes).ok()?;
                    r.rtes
                        .iter()
                        .find(|t| {
                            t.prefix_len == 48
                                && t.prefix == "2001:db8:bb::".parse::<Ipv6Addr>().unwrap()
                        })
                        .map(|t| t.metric)
                }
                _ => None,
            })
        };
        assert_eq!(sent_metric(3), Some(4));
        assert_eq!(sent_metric(2), Some(16));
    }
}
