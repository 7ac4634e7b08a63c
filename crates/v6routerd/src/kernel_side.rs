//! The supervisor's kernel side for a protocol with many routes of its own
//! (RIPng: 50,000 routes within a second of the first Response).
//!
//! The supervisor owns the one kernel view (supervisor.rs); routes of
//! protocol rip are left out of it (v6netlink::open filters them in the
//! kernel) because tens of thousands of them would cost every service a
//! copy. For such a protocol this module is the rest of the kernel side:
//!
//! - a writer thread with a blocking netlink socket of its own
//!   (`v6netlink::routes::RouteBatchSocket`): many requests per datagram,
//!   one acknowledgement per batch, so the kernel's FIB work (done inside
//!   `sendmsg`) runs beside datagram processing on the other core; batches
//!   that queued meanwhile are merged;
//! - a listener that sees only what others do to the protocol's routes
//!   (the kernel filters out the notifications of our own requests), so a
//!   route of ours an admin deletes can be put back at once;
//! - dumps of the protocol's routes (at start, to remove what a crash left;
//!   after lost notifications).
//!
//! Protocols ask through [`ProtocolRoutes`] and never open rtnetlink.
//!
//! Delegated-prefix routes (protocol v6router, via a requesting router)
//! are left out of the view too (supervisor.rs), so what the supervisor
//! said of them from its view, the writer says here: `v6ctl monitor
//! routes`' events for the routes the kernel accepted or gave up
//! ([`Announce`]).

use crate::service::{first, when_some, Either};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tracing::{debug, warn};
use v6common::{Ipv6Prefix, KernelView, RouteFact};
use v6netlink::routes::{is_overrun, RouteBatchSocket, RouteChange, RouteListener};

/// A batch this large (a table arriving) is followed by a heap trim.
const BIG_BATCH: usize = 4096;
/// Under load (the last batch went out less than this ago), the writer
/// lets requests gather this long before it sends the next batch: one
/// wake-up, one `sendmsg` and one acknowledgement per GATHER instead of
/// one per batch of the protocol's datagrams (about 1,000 a second at
/// 4,000 delegations a second), and as many fewer bursts of
/// notifications for the supervisor's event socket. A lone change, with
/// nothing sent lately, does not wait.
const GATHER: Duration = Duration::from_millis(5);

/// Installs the kernel refused, with their errno.
pub type Refused = Vec<(RouteFact, i32)>;

/// What the kernel side reports to the protocol.
pub enum RouteEvent {
    /// Installs the kernel refused (the engine retries them).
    Refused(Refused),
    /// The protocol's routes as the kernel has them (the answer to `dump`).
    Dumped(Vec<RouteFact>),
    /// Someone else added or deleted routes of the protocol.
    Changed(Vec<RouteChange>),
}

/// Where a writer tells `v6ctl monitor` (topic `routes`) of the routes
/// the kernel took in and gave up, for routes the supervisor's view
/// leaves out and so cannot announce itself. The view lends the link
/// names.
#[derive(Clone)]
pub struct Announce {
    pub bus: crate::events::Bus,
    pub kernel: watch::Receiver<Arc<KernelView>>,
}

impl Announce {
    pub fn new(ctx: &crate::service::Ctx) -> Announce {
        Announce {
            bus: ctx.events.clone(),
            kernel: ctx.kernel.clone(),
        }
    }

    /// One event per route `done` (removals first, as applied) that the
    /// kernel did not refuse; nothing when nobody monitors.
    fn batch(&self, del: &[RouteFact], add: &[RouteFact], refused: &HashSet<(Ipv6Prefix, bool)>) {
        if self.bus.receiver_count() == 0 {
            return;
        }
        let now_ms = crate::service::unix_ms();
        let view = self.kernel.borrow().clone();
        let all = del
            .iter()
            .map(|r| (r, false))
            .chain(add.iter().map(|r| (r, true)));
        for (r, added) in all.filter(|(r, a)| !refused.contains(&(r.dst, *a))) {
            let action = if added { "installed" } else { "removed" };
            crate::events::publish(
                &self.bus,
                crate::events::route_change(&view, action, r, now_ms),
            );
        }
    }
}

/// Work for the writer thread, executed in order.
enum Write {
    Remove(Vec<RouteFact>),
    Install(Vec<RouteFact>),
    Dump,
}

/// One protocol's routes in the kernel: see the module documentation.
pub struct ProtocolRoutes {
    writer: Option<std::sync::mpsc::Sender<Write>>,
    thread: Option<std::thread::JoinHandle<()>>,
    events: mpsc::UnboundedReceiver<RouteEvent>,
    listener: Option<RouteListener>,
}

impl ProtocolRoutes {
    /// Open the writer and the listener for `protocol`. Failures are logged
    /// and leave the protocol's routes out of the kernel (or unfollowed);
    /// the protocol itself still runs.
    pub fn open(protocol: u8) -> ProtocolRoutes {
        ProtocolRoutes::open_announced(protocol, None)
    }

    /// Open as [`open`](Self::open); with `announce`, the writer tells
    /// `v6ctl monitor` of every route the kernel accepted or gave up.
    pub fn open_announced(protocol: u8, announce: Option<Announce>) -> ProtocolRoutes {
        let (wtx, wrx) = std::sync::mpsc::channel();
        let (etx, events) = mpsc::unbounded_channel();
        let mut me = ProtocolRoutes {
            writer: None,
            thread: None,
            events,
            listener: None,
        };
        let sock = match RouteBatchSocket::open() {
            Ok(s) => s,
            Err(e) => {
                warn!("no netlink socket ({e}); learned routes stay out of the kernel");
                return me;
            }
        };
        match RouteListener::open(protocol, sock.portid()) {
            Ok(l) => me.listener = Some(l),
            Err(e) => warn!(
                "cannot follow the kernel's routes of protocol {protocol} ({e}); routes deleted by others stay deleted"
            ),
        }
        // The thread logs under the protocol's span, as the service does.
        let span = tracing::Span::current();
        let spawned = std::thread::Builder::new()
            .name("route-writer".into())
            .spawn(move || {
                let _in = span.enter();
                writer(sock, protocol, wrx, etx, announce)
            });
        match spawned {
            Ok(t) => {
                me.writer = Some(wtx);
                me.thread = Some(t);
            }
            Err(e) => {
                warn!("no route writer thread ({e}); learned routes stay out of the kernel");
                me.listener = None;
            }
        }
        me
    }

    /// One that does nothing (what is left in a service after `close`).
    pub fn closed() -> ProtocolRoutes {
        ProtocolRoutes {
            writer: None,
            thread: None,
            events: mpsc::unbounded_channel().1,
            listener: None,
        }
    }

    pub fn install(&self, routes: Vec<RouteFact>) {
        self.send(Write::Install(routes));
    }

    pub fn remove(&self, routes: Vec<RouteFact>) {
        self.send(Write::Remove(routes));
    }

    /// Ask for the protocol's routes as the kernel has them; they come
    /// back as [`RouteEvent::Dumped`].
    pub fn dump(&self) {
        self.send(Write::Dump);
    }

    fn send(&self, w: Write) {
        if let Some(tx) = &self.writer {
            let _ = tx.send(w);
        }
    }

    /// The next report. Cancel-safe. Lost notifications (the listener's
    /// socket overflowed) are answered with a dump here.
    pub async fn next(&mut self) -> RouteEvent {
        loop {
            // The writer's reports; its queue closes only when it ended.
            let written = async {
                match self.events.recv().await {
                    Some(ev) => ev,
                    None => std::future::pending().await,
                }
            };
            let heard = when_some(self.listener.as_mut().map(RouteListener::recv));
            match first(written, heard).await {
                Either::A(ev) => return ev,
                Either::B(Ok(changes)) => return RouteEvent::Changed(changes),
                Either::B(Err(e)) if is_overrun(&e) => {
                    debug!("route notifications were lost; dumping again");
                    self.dump();
                }
                Either::B(Err(e)) => {
                    warn!("following the kernel's routes: {e}");
                    self.listener = None;
                }
            }
        }
    }

    /// Let the writer finish what is queued, then end it.
    pub async fn close(mut self) {
        self.writer = None;
        if let Some(t) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}

/// The writer thread. Removals join a batch only before its installs, so
/// a removal never overtakes an install of the same moment.
fn writer(
    mut sock: RouteBatchSocket,
    protocol: u8,
    rx: std::sync::mpsc::Receiver<Write>,
    events: mpsc::UnboundedSender<RouteEvent>,
    announce: Option<Announce>,
) {
    let flush = |sock: &mut RouteBatchSocket, del: &mut Vec<RouteFact>, add: &mut Vec<_>| {
        let r = apply(sock, del, add, announce.as_ref());
        if !r.is_empty() {
            let _ = events.send(RouteEvent::Refused(r));
        }
    };
    let (mut del, mut add) = (Vec::new(), Vec::new());
    let mut last_sent: Option<Instant> = None;
    while let Ok(first) = rx.recv() {
        // Sleep out the window rather than wait on the channel: a wait
        // would wake this thread (and make the sender's send a futex
        // wake) once per request.
        if let Some(left) =
            last_sent.and_then(|t| (t + GATHER).checked_duration_since(Instant::now()))
        {
            std::thread::sleep(left);
        }
        let mut next = Some(first);
        while let Some(w) = next.take() {
            match w {
                Write::Remove(v) if add.is_empty() => del.extend(v),
                Write::Install(v) => add.extend(v),
                Write::Remove(v) => {
                    flush(&mut sock, &mut del, &mut add);
                    del.extend(v);
                }
                Write::Dump => {
                    flush(&mut sock, &mut del, &mut add);
                    match sock.dump_protocol(protocol) {
                        Ok(v) => {
                            let _ = events.send(RouteEvent::Dumped(v));
                        }
                        Err(e) => warn!("cannot dump the kernel's routes: {e}"),
                    }
                }
            }
            next = rx.try_recv().ok();
        }
        let big = del.len() + add.len() >= BIG_BATCH;
        flush(&mut sock, &mut del, &mut add);
        last_sent = Some(Instant::now());
        if big {
            // The batch and the burst of datagrams that made it are freed
            // now; hand the memory back instead of holding the peak.
            del = Vec::new();
            add = Vec::new();
            crate::heap::trim();
        }
    }
}

/// Apply one batch; returns the installs the kernel refused. A failed
/// removal is logged here: a route already gone (ESRCH) is what we wanted.
/// With `announce`, what the kernel did is told to `v6ctl monitor`.
fn apply(
    sock: &mut RouteBatchSocket,
    del: &mut Vec<RouteFact>,
    add: &mut Vec<RouteFact>,
    announce: Option<&Announce>,
) -> Refused {
    let mut refused = Vec::new();
    if del.is_empty() && add.is_empty() {
        return refused;
    }
    let t = Instant::now();
    match sock.apply(del, add) {
        Ok(failed) => {
            if let Some(a) = announce {
                // A removal that failed (even ESRCH: it was not there)
                // removed nothing; an install refused installed nothing.
                let no: HashSet<_> = failed.iter().map(|f| (f.route.dst, f.add)).collect();
                a.batch(del, add, &no);
            }
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
                    "{removals} of {} route removals failed, e.g. {} via {:?}: {}",
                    del.len(),
                    f.route.dst,
                    f.route.gateway,
                    f.error()
                );
            }
        }
        Err(e) => {
            warn!(
                "route batch ({} removals, {} installs) failed: {e}",
                del.len(),
                add.len()
            );
            // Nothing is known to be in: all installs are retried.
            let errno = e.raw_os_error().unwrap_or(libc::EIO);
            refused.extend(add.iter().map(|r| (r.clone(), errno)));
        }
    }
    debug!(
        "kernel: {} removed, {} installed in {:?}",
        del.len(),
        add.len(),
        t.elapsed()
    );
    del.clear();
    add.clear();
    refused
}

/// A delegated prefix's route: ours (protocol v6router) and via a
/// requesting router. Our other routes of that protocol (the uplink's
/// unreachable aggregates, tunnels, relayed hosts) have no gateway.
pub fn is_delegated(r: &RouteFact) -> bool {
    r.protocol == v6common::kernel::rtprot::V6ROUTER && r.gateway.is_some()
}

#[cfg(test)]
mod tests;
