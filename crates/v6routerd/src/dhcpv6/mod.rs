//! The DHCPv6 server service: the socket, the pure engine (`v6dhcp::engine`),
//! the lease journal on its own thread, routes for delegated prefixes, and
//! the answers to `v6ctl show leases` / `show dhcpv6`. It runs under the
//! one service runtime (`service::run_service`) while any interface has an
//! `[interface.dhcpv6]`.
//!
//! Durability: a reply that grants or extends a lease is handed to the store
//! thread together with its records. That thread appends everything queued
//! (many packets' worth: group commit), fsyncs once, and only then sends the
//! replies. If the write or the fsync fails, the replies are dropped and
//! counted, and the grants are forgotten: a client is never told about a
//! lease that is not on disk. Stopping flushes the journal, then takes our
//! delegated-prefix routes out; the next start restores both from it.
//!
//! Files: `links` (configuration -> engine links), `store_thread` (the
//! journal's thread), `routes` (delegated-prefix routes), `duid` (the
//! server DUID), `status` (v6ctl answers), `import` (`import-leases`),
//! `leasefile` and `publish` (odhcpd's lease file and trigger, for LuCI
//! and dnsmasq).

mod announce;
mod duid;
#[cfg(test)]
mod fixtures;
mod import;
mod leasefile;
mod links;
mod publish;
pub(crate) mod routes;
mod status;
mod store_thread;
mod summary;

pub use import::import_main;

use crate::service::{Changed, Ctx, Row, Service};
use links::{build_links, sync_groups};
use publish::{Publisher, Snapshot};
use routes::PdRoutes;
use std::collections::BTreeSet;
use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use store_thread::{send_replies, Reply, Store, StoreCmd};
use tracing::{debug, error, info, warn, Span};
use v6config::Config;
use v6control::{Request, Response};
use v6dhcp::engine::{Action, LinkConfig, Now, Received, Server, ServerConfig};
use v6dhcp::io::{recv_many, RecvMany, RecvMeta, ServerSocket};
use v6dhcp::lease::{Lease, LeaseRecord};
use v6dhcp::store::{Journal, LoadReport};
use v6dhcp::wire::SERVER_PORT;

const JOURNAL_FILE: &str = "leases.journal";
/// Most datagrams handled before their records are committed together.
const BATCH: usize = 512;
/// Datagrams taken by one recvmmsg (a batch takes as many calls as it
/// needs, up to BATCH datagrams).
const RECV_MANY: usize = 16;
/// Under load, how long datagrams gather in the socket between reads.
const COALESCE: Duration = Duration::from_millis(1);
/// The engine's timer runs at least this often, whatever it asks for.
const TIMER_MAX: Duration = Duration::from_secs(60);
/// Compact when the journal is this much larger than a fresh snapshot would be.
const COMPACT_FACTOR: u64 = 4;
const COMPACT_MIN: u64 = 4 << 20;
/// Bytes per lease in a snapshot, roughly (for the compaction trigger).
const SNAPSHOT_BYTES_PER_LEASE: u64 = 100;
/// After a burst of at least this many datagrams, once the server has
/// been idle for TRIM_IDLE, the heap's free memory goes back to the
/// kernel (see `Dhcpv6::trim_due`).
const TRIM_AFTER: u64 = 4096;
const TRIM_IDLE: Duration = Duration::from_millis(500);

/// The engine's clock. Lease times are Unix seconds (they go into the
/// journal and must mean something after a restart), but while we run they
/// advance with the monotonic clock from the wall-clock time read once at
/// start: an admin or NTP stepping the system clock an hour forwards must not
/// expire every lease at once, nor a step back keep them forever.
fn now() -> Now {
    static BASE: std::sync::OnceLock<(Instant, u64)> = std::sync::OnceLock::new();
    let (mono0, unix0) = *BASE.get_or_init(|| (Instant::now(), crate::service::unix_secs()));
    let mono = Instant::now();
    Now {
        mono,
        unix: unix0 + mono.saturating_duration_since(mono0).as_secs(),
    }
}

/// The running server.
pub struct Dhcpv6 {
    server: Server,
    /// The links the engine serves (and our prefix routes point into).
    links: Vec<LinkConfig>,
    /// Per interface, what is served or why not (`show dhcpv6`, the row).
    notes: Vec<String>,
    sock: ServerSocket,
    /// For the neighbour cache (a client's MAC for bindings by MAC).
    netlink: v6netlink::Kernel,
    neighbours: crate::neighbours::Neighbours,
    /// Interfaces where the socket joined ff02::1:2.
    joined: BTreeSet<u32>,
    store: Store,
    routes: PdRoutes,
    /// The INFO log's periodic summary (one line, not one per lease).
    summary: summary::Summary,
    /// Where datagrams are received into: the first of a batch, then the
    /// rest, RECV_MANY to a system call.
    buf: Vec<u8>,
    many: RecvMany,
    /// Replies that wait for nothing, sent at the end of each batch.
    out: Vec<Reply>,
    /// When the last batch of datagrams was handled (see `coalesce`).
    last_batch: Instant,
    /// Datagrams handled since the heap was last trimmed.
    since_trim: u64,
    /// odhcpd's lease file, when `[dhcpv6_state]` asks for it.
    publisher: Option<Publisher>,
    /// Lease events for `v6ctl monitor`.
    announcer: announce::Announcer,
    bus: crate::events::Bus,
    /// What a Remove record means in the batch at hand (announce.rs).
    ended: &'static str,
}

/// What the server's own I/O delivers.
pub enum Event {
    /// The first datagram of a batch (or why receiving failed).
    Datagram(io::Result<RecvMeta>),
    /// Records the store thread could not make durable (their replies
    /// were dropped).
    NotStored(Vec<LeaseRecord>),
    /// What the kernel side says of our prefix routes.
    Routes(crate::kernel_side::RouteEvent),
}

impl Service for Dhcpv6 {
    const NAME: &'static str = "dhcpv6";
    const PROTO: &'static str = "DHCPv6";
    const FOLLOWS_UPLINK: bool = true;
    const IDLE: &'static str = "the DHCPv6 server is not configured (no [interface.dhcpv6])";
    type Event = Event;

    fn wanted(cfg: &Config) -> bool {
        cfg.interfaces.iter().any(|i| i.dhcpv6.is_some())
    }

    async fn start(ctx: &Ctx) -> Result<Dhcpv6, String> {
        let (cfg, kernel, up) = (ctx.config(), ctx.kernel(), ctx.uplink());
        let duid = duid::server_duid(&ctx.state_dir, &cfg, &kernel)?;
        let journal_path = ctx.state_dir.join(JOURNAL_FILE);
        let (journal, report) = open_journal(journal_path.clone()).await?;
        let (links, notes, limits) = build_links(&cfg, &kernel, &up);
        let config = ServerConfig {
            server_duid: duid,
            links: links.clone(),
            limits,
        };
        let mut server = Server::new(config, fastrand::u64(..));
        let sock = ServerSocket::bind(SERVER_PORT)
            .map_err(|e| format!("cannot bind [::]:{SERVER_PORT}: {e}"))?;
        let send_fd = sock
            .socket()
            .try_clone()
            .map_err(|e| format!("cannot duplicate the socket: {e}"))?;
        let mut joined = BTreeSet::new();
        sync_groups(&sock, &mut joined, &links);
        let mut routes = PdRoutes::open(Some(crate::kernel_side::Announce::new(ctx)));
        let store = Store::spawn(journal, &report, OwnedFd::from(send_fd), journal_path)?;
        restore(&mut server, report, &mut routes);
        // Routes a previous run installed for prefixes that are no longer
        // leased (the process died between adding the route and storing the
        // lease, or the lease ended while it was down) are in this dump;
        // they go when it comes back (`sweep`).
        routes.dump();
        info!("serving on {}", notes.join(", "));
        Ok(Dhcpv6 {
            server,
            links,
            notes,
            sock,
            netlink: ctx.netlink.clone(),
            neighbours: crate::neighbours::Neighbours::default(),
            joined,
            store,
            routes,
            summary: summary::Summary::new(Instant::now()),
            buf: vec![0u8; 65536],
            many: RecvMany::new(RECV_MANY),
            out: Vec::new(),
            last_batch: Instant::now(),
            since_trim: 0,
            publisher: cfg.dhcpv6_state.as_ref().map(Publisher::start),
            announcer: Default::default(),
            bus: ctx.events.clone(),
            ended: "released",
        })
    }

    async fn changed(&mut self, ctx: &Ctx, _: Changed) {
        self.rebuild(ctx);
        self.sync_publisher(&ctx.config());
    }

    async fn next_event(&mut self) -> Event {
        tokio::select! {
            r = self.sock.recv(&mut self.buf) => Event::Datagram(r),
            Some(recs) = self.store.failed_rx.recv() => Event::NotStored(recs),
            ev = self.routes.next() => Event::Routes(ev),
        }
    }

    async fn on_event(&mut self, _ctx: &Ctx, ev: Event) {
        match ev {
            Event::Datagram(first) => self.on_datagrams(first).await,
            Event::NotStored(recs) => {
                self.forget(&recs);
                self.routes.flush();
            }
            Event::Routes(ev) => {
                if let Some(dumped) = self.routes.on_event(ev) {
                    self.sweep(&dumped);
                }
            }
        }
    }

    fn deadline(&self) -> Option<Instant> {
        let n = now();
        let max = n.mono + TIMER_MAX;
        let engine = self.server.next_deadline(n).map_or(max, |t| t.min(max));
        let publish = self.publisher.as_ref().and_then(Publisher::due);
        let others = [
            publish,
            self.routes.retries.due(),
            Some(self.summary.due()),
            self.trim_due(),
        ];
        Some(others.into_iter().flatten().fold(engine, Instant::min))
    }

    async fn on_deadline(&mut self, ctx: &Ctx, at: Instant) {
        self.announcer.sync(&self.bus, &self.server);
        self.ended = "expired";
        let actions = self.server.on_timer(now());
        let (mut records, mut held) = (vec![], vec![]);
        self.dispatch(actions, &mut records, &mut held);
        send_replies(self.sock.raw_fd(), &mut self.out, 50);
        self.commit(records, held);
        self.routes.retry(&self.server, &self.links, at);
        self.routes.flush();
        self.summary
            .maybe_log(at, self.server.stats(), self.routes.retries.refused_total);
        self.publish(ctx, at);
        if self.trim_due().is_some_and(|t| t <= at) {
            crate::heap::trim();
            self.since_trim = 0;
        }
    }

    async fn answer(&mut self, _ctx: &Ctx, req: Request) -> Response {
        match req {
            Request::ShowLeases { filter, page } => match filter.check() {
                Ok(()) => match page {
                    None => Response::ok(self.leases(&filter)),
                    Some(p) => match status::cursor(p.after.as_deref()) {
                        Ok(after) => Response::ok(self.leases_page(&filter, after, p.limit)),
                        Err(e) => Response::error(e),
                    },
                },
                Err(e) => Response::error(e),
            },
            Request::ShowDhcpv6 => Response::ok(self.stats()),
            other => crate::service::not_mine(Self::NAME, &other),
        }
    }

    fn metrics(&self, _: &Ctx) -> String {
        crate::metrics::dhcpv6(&self.stats())
    }

    /// The routes of the prefixes we delegate, as kernel rows: the view
    /// leaves them out (supervisor.rs).
    fn routes(&self, ctx: &Ctx) -> crate::rt_show::Contributed {
        let live = routes::pd_routes_since(&self.server, &self.links);
        self.routes.rows(&ctx.kernel(), live)
    }

    fn row(&self) -> Option<Row> {
        Some(Row::new("up", self.notes.join(", ")))
    }

    async fn stop(self, _ctx: &Ctx) {
        // Flush the journal, then take our routes away (they come back
        // from the journal at the next start).
        let Dhcpv6 {
            server,
            links,
            store,
            routes,
            ..
        } = self;
        let thread = store.stop().await;
        routes.close(&server, &links).await;
        store_thread::join(thread).await;
    }
}

/// Open the lease journal (on a blocking thread: it reads every record)
/// and say what it held.
async fn open_journal(path: PathBuf) -> Result<(Journal, LoadReport), String> {
    let p = path.clone();
    let span = Span::current();
    let (journal, report) = tokio::task::spawn_blocking(move || {
        let _span = span.enter();
        Journal::open(&p)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("lease journal {}: {e}", path.display()))?;
    if report.is_clean() {
        info!("{} leases from {}", report.leases.len(), path.display());
    } else {
        warn!(
            "{} leases from {}; dropped {} corrupt records and {} bytes of torn tail",
            report.leases.len(),
            path.display(),
            report.corrupt_records,
            report.torn_tail_bytes
        );
    }
    Ok((journal, report))
}

/// Give the engine the journal's leases, and their prefix routes back.
fn restore(server: &mut Server, report: LoadReport, routes: &mut PdRoutes) {
    for a in server.restore(report.leases.into_values()) {
        if let Action::AddRoute(r) = a {
            routes.add(r);
        }
    }
}

/// Where a datagram of a batch is: the first in `buf` (with what its
/// receive said), the others in a slot of `many`.
enum Slot {
    First(io::Result<RecvMeta>),
    Many(usize),
}

impl Dhcpv6 {
    /// Handle `first` and the datagrams queued behind it (up to BATCH):
    /// the replies that wait for nothing go out together at the end, the
    /// records (and the replies that wait for them) to the store in one
    /// commit.
    async fn on_datagrams(&mut self, first: io::Result<RecvMeta>) {
        let started = Instant::now();
        let (mut records, mut held) = (vec![], vec![]);
        self.announcer.sync(&self.bus, &self.server);
        self.ended = "released";
        self.datagram(Slot::First(first), &mut records, &mut held)
            .await;
        // The rest of what is queued, many datagrams per recvmmsg.
        let mut handled = 1;
        while handled < BATCH {
            let n = match recv_many(self.sock.raw_fd(), &mut self.many) {
                Ok(n) => n,
                Err(e) => {
                    debug!("recv: {e}");
                    break;
                }
            };
            for i in 0..n {
                self.datagram(Slot::Many(i), &mut records, &mut held).await;
            }
            handled += n;
            if n < self.many.slots() {
                break;
            }
        }
        send_replies(self.sock.raw_fd(), &mut self.out, 50);
        self.commit(records, held);
        self.routes.flush();
        self.coalesce(started).await;
    }

    /// Handle one datagram.
    async fn datagram(
        &mut self,
        slot: Slot,
        records: &mut Vec<LeaseRecord>,
        held: &mut Vec<Reply>,
    ) {
        self.since_trim += 1;
        let (r, buf) = match slot {
            Slot::First(r) => (r, &self.buf[..]),
            Slot::Many(i) => self.many.get(i),
        };
        let meta = match r {
            Ok(m) => m,
            Err(e) => {
                debug!("recv: {e}");
                return;
            }
        };
        // A group datagram where we joined none was for the relay
        // agent's socket on a relaying LAN (dhcp_relay.rs): Linux hands
        // ff02::1:2 to every socket of the group, whatever the link.
        if meta.multicast() && !self.joined.contains(&meta.ifindex) {
            return;
        }
        let mut rx = Received {
            data: &buf[..meta.len.min(buf.len())],
            src: meta.src,
            ifindex: meta.ifindex,
            multicast: meta.multicast(),
            client_lladdr: None,
        };
        if self.server.wants_client_lladdr(&rx) {
            rx.client_lladdr = self
                .neighbours
                .mac(&self.netlink, meta.ifindex, *meta.src.ip())
                .await;
        }
        let actions = self.server.handle(now(), rx);
        self.dispatch(actions, records, held);
    }

    /// Under load (this batch's first datagram came within COALESCE of the
    /// end of the last batch), let the next datagrams gather before
    /// reading again, as NAPI coalesces interrupts: one wake-up per
    /// COALESCE instead of one per datagram, the largest CPU cost left per
    /// exchange after the kernel's own. A lone client is never delayed;
    /// under load a reply waits up to ~2 ms more, against a client's 1 s
    /// first timeout (RFC 8415 §15, SOL_TIMEOUT, REQ_TIMEOUT). The
    /// socket's 4 MiB buffer holds far more than 2 ms of any rate we serve.
    ///
    /// The thread sleeps outside the runtime's epoll: a timer would let
    /// every datagram that arrives meanwhile wake it (the socket's
    /// registration is edge-triggered, each arrival an edge): 4,800 wake-ups
    /// a second at 4,000 exchanges/s, against ~1,000 this way. The other
    /// tasks of the runtime wait at most COALESCE, and run before the next
    /// batch (the task yields after the sleep).
    async fn coalesce(&mut self, started: Instant) {
        let busy = started.saturating_duration_since(self.last_batch) < COALESCE;
        if busy {
            std::thread::sleep(COALESCE);
        }
        self.last_batch = Instant::now();
        if busy {
            tokio::task::yield_now().await;
        }
    }

    /// When the heap is next trimmed: TRIM_IDLE after the last batch of a
    /// burst (TRIM_AFTER datagrams or more since the last trim). A burst
    /// (a building's routers back after a power cut, a Solicit flood)
    /// leaves its replies', records' and offers' blocks free in glibc's
    /// heap, which keeps them (half a megabyte after 20,000 NA+PD
    /// clients); a router with 64 MB wants them back. Under steady load
    /// there is no idle moment and nothing to give back; musl returns
    /// memory by itself.
    fn trim_due(&self) -> Option<Instant> {
        (self.since_trim >= TRIM_AFTER).then_some(self.last_batch + TRIM_IDLE)
    }

    /// Split actions: records and the replies behind them go to `records`
    /// and `held` (for the store); replies that grant nothing to `self.out`,
    /// sent at the end of the batch (see [`send_replies`]).
    fn dispatch(
        &mut self,
        actions: Vec<Action>,
        records: &mut Vec<LeaseRecord>,
        held: &mut Vec<Reply>,
    ) {
        let mut persisted = false;
        for a in actions {
            match a {
                Action::Persist(r) => {
                    persisted = true;
                    self.announcer.announce(&self.bus, &r, self.ended);
                    records.extend(r);
                    self.leases_changed();
                }
                Action::Send { data, dst, ifindex } => {
                    let reply = Reply { data, dst, ifindex };
                    if persisted {
                        held.push(reply);
                    } else {
                        self.out.push(reply);
                    }
                }
                Action::AddRoute(r) => self.routes.add(r),
                Action::DelRoute(r) => self.routes.del(r),
            }
        }
    }

    fn commit(&mut self, records: Vec<LeaseRecord>, replies: Vec<Reply>) {
        if records.is_empty() && replies.is_empty() {
            return;
        }
        if self
            .store
            .tx
            .send(StoreCmd::Commit { records, replies })
            .is_err()
        {
            error!("the lease store stopped; replies dropped");
        }
        self.maybe_compact();
    }

    fn maybe_compact(&mut self) {
        let c = &self.store.counters;
        let size = c.get().size;
        let live = self.server.lease_count() as u64 * SNAPSHOT_BYTES_PER_LEASE;
        if size > COMPACT_MIN.max(live * COMPACT_FACTOR)
            && !c.compacting.swap(true, Ordering::Relaxed)
        {
            info!(
                "compacting {} ({size} bytes, {} leases)",
                self.store.journal_path.display(),
                self.server.lease_count()
            );
            let snapshot: Vec<Lease> = self.server.leases().collect();
            let _ = self.store.tx.send(StoreCmd::Compact(snapshot));
        }
    }

    /// Remove the stale routes among `dumped` (our protocol's routes as
    /// the kernel had them): in a pool of ours, with no lease. A lease
    /// granted since the dump is in the engine already, so its route is
    /// kept; one ended since is removed twice (the second finds nothing).
    fn sweep(&mut self, dumped: &[v6common::RouteFact]) {
        for r in routes::stale_pd_routes(dumped, &self.links, &self.server) {
            info!("removing stale route {} via {:?}", r.dst, r.gateway);
            self.routes.del(r);
        }
        self.routes.flush();
    }

    /// The store could not write `recs`: forget those grants (never a
    /// lease in memory that is not on disk) and count the replies dropped.
    fn forget(&mut self, recs: &[LeaseRecord]) {
        for a in self.server.rollback(recs) {
            if let Action::DelRoute(r) = a {
                self.routes.del(r);
            }
        }
        let dropped = self
            .store
            .counters
            .update(|s| std::mem::take(&mut s.dropped_replies));
        self.server.note_persist_failed(dropped);
        self.leases_changed();
    }

    /// Bring the engine's links in line with the configuration, the kernel
    /// and the uplink's facts.
    fn rebuild(&mut self, ctx: &Ctx) {
        let up = ctx.uplink();
        let (links, notes, _) = build_links(&ctx.config(), &ctx.kernel(), &up);
        self.notes = notes;
        if links != self.links {
            info!("links now {}", self.notes.join(", "));
            sync_groups(&self.sock, &mut self.joined, &links);
            self.server.set_links(links.clone());
            self.links = links;
        }
    }

    /// Start, restart or stop the lease file's publisher as `[dhcpv6_state]`
    /// says; names and domains may have changed either way.
    fn sync_publisher(&mut self, cfg: &Config) {
        let same = self.publisher.as_ref().map(Publisher::config) == cfg.dhcpv6_state.as_ref();
        if !same {
            self.publisher = cfg.dhcpv6_state.as_ref().map(Publisher::start);
        }
        self.leases_changed();
    }

    fn leases_changed(&mut self) {
        if let Some(p) = &mut self.publisher {
            p.changed(Instant::now());
        }
    }

    /// Hand the leases to the lease file's writer when it is due.
    fn publish(&mut self, ctx: &Ctx, at: Instant) {
        let Some(p) = &mut self.publisher else { return };
        if p.take_due(at) {
            p.publish(Snapshot {
                leases: self.server.leases().collect(),
                naming: leasefile::Naming::new(&ctx.config(), &self.links),
                unix: now().unix,
            });
        }
    }
}
