//! The supervisor: owns the kernel view and the configuration, starts the
//! protocol services, routes v6ctl requests, reloads on SIGHUP and stops on
//! SIGTERM.

use crate::control;
use crate::rt_show::{Contributed, FirstSeen, Selection};
use crate::service::{Admin, Ctx, Handles, Query};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, info_span, warn, Instrument};
use v6common::{KernelEvent, KernelView};
use v6config::Config;
use v6control::{
    AddrInfo, InterfaceInfo, ProtocolInfo, ReloadResult, Request, Response, Service, ServiceState,
    Status,
};
use v6netlink::Kernel;

/// How often the whole kernel view is dumped again as a safety net. Lost
/// events (netlink drops notifications when its socket buffer overflows)
/// are reported by the socket (ENOBUFS) and answered with a dump at once
/// (`Kernel::overrun`); a dump of a large table costs CPU on a small
/// router (with 10,000 routes exported over RIPng, every 60 s was a fifth
/// of the sender's CPU).
const RESYNC: Duration = Duration::from_secs(600);
/// How often, at most, the times of `show route` follow the view (they
/// are shown to the second; a `show route` brings them up to date first).
const FIRST_SEEN_EVERY: Duration = Duration::from_secs(1);
/// How often net.ipv6.conf.all.forwarding is read (the kernel sends no rtnetlink
/// event our groups carry for it).
const SYSCTL_POLL: Duration = Duration::from_secs(2);
/// Kernel changes reach the services (and `show route`'s first-seen
/// times) at most this often. Every DHCPv6 Reply with a prefix adds a
/// route, and a restart re-installs every delegated prefix's route: one
/// published view per route woke every service and re-keyed every route
/// once per route, quadratic in the routes (5,000 routes stalled a daemon
/// for minutes in the power-cut harness).
const PUBLISH_EVERY: Duration = Duration::from_millis(20);
/// Time the services get to finish after SIGTERM.
const STOP_GRACE: Duration = Duration::from_millis(1500);

struct Svc {
    name: &'static str,
    /// Its name in `show protocols` (`rip1` for the ripng service).
    protocol_name: &'static str,
    kind: Service,
    queries: mpsc::Sender<Query>,
    /// Asks a service for its `show route` rows.
    routes: mpsc::Sender<oneshot::Sender<Contributed>>,
    protocol: watch::Receiver<Option<ProtocolInfo>>,
    admin: mpsc::Sender<(Admin, oneshot::Sender<Response>)>,
    task: JoinHandle<()>,
}

pub struct Supervisor {
    config_path: PathBuf,
    config_tx: watch::Sender<Arc<Config>>,
    kernel_tx: watch::Sender<Arc<KernelView>>,
    shutdown_tx: watch::Sender<bool>,
    nl: Kernel,
    uplink_tx: Arc<watch::Sender<Arc<crate::service::UplinkFacts>>>,
    services: Vec<Svc>,
    started: Instant,
    reconfigured: Instant,
    reloads: u64,
    last_reload_error: Option<String>,
    /// When each kernel route and connected prefix was first seen (the
    /// time column of `show route`).
    first_seen: FirstSeen,
    /// `v6ctl monitor`'s events (events.rs).
    events: crate::events::Bus,
    /// When `first_seen` was last brought up to date, and whether the view
    /// changed since: thousands of delegated-prefix routes a second must
    /// not cost a sort of every kernel route each 20 ms publish (it was a
    /// quarter of the server's CPU under perfdhcp -e address-and-prefix).
    first_seen_at: Instant,
    first_seen_stale: bool,
    /// Whether the view holds delegated prefixes' routes (see
    /// [`keeps_delegated`]).
    keep_delegated: bool,
}

/// Whether the view holds the routes of delegated prefixes: only while
/// RIPng exports kernel routes, because it learns them from the view.
/// Otherwise they are left out, as rip routes are: a router delegating to
/// 20,000 requesting routers would copy each into the view (1.8 MB) and
/// follow each install and removal here (7 % of the server's CPU). The
/// writer that installs them announces them to `v6ctl monitor`
/// (kernel_side.rs), the DHCPv6 service shows them in `show route` and
/// finds stale ones in its own dump (dhcpv6/routes.rs).
fn keeps_delegated(c: &Config) -> bool {
    c.ripng.as_ref().is_some_and(|r| r.export.kernel)
}

/// An event about a delegated prefix's route.
fn is_delegated_event(ev: &KernelEvent) -> bool {
    matches!(ev, KernelEvent::NewRoute(r) | KernelEvent::DelRoute(r) if crate::kernel_side::is_delegated(r))
}

/// Have the kernel drop the delegated prefixes' route notifications
/// before they reach the event socket, unless the view keeps them.
fn filter_delegated(nl: &v6netlink::Kernel, keep: bool) {
    let via = (!keep).then_some(v6common::kernel::rtprot::V6ROUTER);
    if let Err(e) = nl.drop_routes_via(via) {
        warn!(
            "netlink: no socket filter for delegated routes ({e}); they are dropped after parsing"
        );
    }
}

/// Take the delegated prefixes' routes out of a dumped view.
fn drop_delegated(view: &mut KernelView) {
    view.routes.retain(|r| !crate::kernel_side::is_delegated(r));
}

/// The daemon: read the kernel, start the services, open the control
/// socket, then follow signals, netlink events and v6ctl until SIGTERM.
pub async fn run(config_path: PathBuf, config: Config) -> Result<(), String> {
    let (mut sup, events) = start(config_path, config).await?;
    let (ctl_rx, socket_path) = open_control(&sup).await?;
    main_loop(&mut sup, events, ctl_rx).await?;
    info!("stopping");
    sup.stop().await;
    let _ = std::fs::remove_file(&socket_path);
    info!("stopped");
    Ok(())
}

/// The kernel's state read, the state directory made, the services
/// spawned.
async fn start(
    config_path: PathBuf,
    config: Config,
) -> Result<(Supervisor, mpsc::UnboundedReceiver<KernelEvent>), String> {
    crate::heap::tune();
    let (nl, events) = v6netlink::open().map_err(|e| format!("cannot open netlink: {e}"))?;
    let mut view = nl
        .dump()
        .await
        .map_err(|e| format!("cannot read the kernel's state: {e}"))?;
    let keep_delegated = keeps_delegated(&config);
    if !keep_delegated {
        drop_delegated(&mut view);
    }
    filter_delegated(&nl, keep_delegated);
    info!(
        "v6routerd {} starting with {}: {} links, {} addresses, {} routes",
        crate::VERSION,
        config_path.display(),
        view.links.len(),
        view.addrs.len(),
        view.routes.len()
    );
    std::fs::create_dir_all(&config.router.state_dir).map_err(|e| {
        format!(
            "cannot create state_dir {}: {e}",
            config.router.state_dir.display()
        )
    })?;
    let (config_tx, _) = watch::channel(Arc::new(config));
    let (kernel_tx, _) = watch::channel(Arc::new(view));
    let (shutdown_tx, _) = watch::channel(false);
    let now = Instant::now();
    let mut sup = Supervisor {
        config_path,
        config_tx,
        kernel_tx,
        shutdown_tx,
        nl,
        uplink_tx: Arc::new(watch::channel(Arc::new(crate::service::UplinkFacts::default())).0),
        services: Vec::new(),
        started: now,
        reconfigured: now,
        reloads: 0,
        last_reload_error: None,
        first_seen: FirstSeen::default(),
        events: crate::events::bus(),
        first_seen_at: now,
        first_seen_stale: false,
        keep_delegated,
    };
    sup.note_first_seen();
    sup.apply_forwarding();
    sup.spawn_services();

    Ok((sup, events))
}

/// The control socket (and the metrics listener) bound, privileges
/// dropped, v6ctl served. Returns the requests' queue and the socket's
/// path (removed at stop).
async fn open_control(
    sup: &Supervisor,
) -> Result<
    (
        mpsc::Receiver<(Request, oneshot::Sender<Response>)>,
        PathBuf,
    ),
    String,
> {
    let cfg = sup.config_tx.borrow().clone();
    let (ctl_tx, ctl_rx) = mpsc::channel::<(Request, oneshot::Sender<Response>)>(64);
    let (listener, socket_dir) = control::bind(&cfg.control)
        .map_err(|e| format!("control socket {}: {e}", cfg.control.socket.display()))?;
    let socket_path = cfg.control.socket.clone();
    if let Some(m) = &cfg.metrics {
        // Bound while we may still bind anything; a busy port is not fatal.
        match tokio::net::TcpListener::bind(m.listen).await {
            Ok(l) => {
                tokio::spawn(crate::metrics::http::serve(l, ctl_tx.clone()));
                info!("metrics on http://{}/metrics", m.listen);
            }
            Err(e) => warn!("metrics: cannot listen on {}: {e}", m.listen),
        }
    }
    // Sockets and state_dir are in place: keep CAP_NET_ADMIN/RAW/BIND_SERVICE only.
    let also: Vec<&std::path::Path> = socket_dir.as_deref().into_iter().collect();
    crate::privs::restrict_and_log(cfg.router.user.as_deref(), &cfg.router.state_dir, &also)?;
    tokio::spawn(control::serve(listener, ctl_tx, sup.events.clone()));
    info!("control socket {}", socket_path.display());

    Ok((ctl_rx, socket_path))
}

/// The supervisor's own loop (the services' is service.rs's): kernel
/// events coalesced into published views, resyncs, the forwarding poll,
/// SIGHUP reloads and v6ctl, until SIGTERM or SIGINT.
async fn main_loop(
    sup: &mut Supervisor,
    mut events: mpsc::UnboundedReceiver<KernelEvent>,
    mut ctl_rx: mpsc::Receiver<(Request, oneshot::Sender<Response>)>,
) -> Result<(), String> {
    let mut hup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut resync = tokio::time::interval(RESYNC);
    let nl_events = sup.nl.clone();
    resync.tick().await;
    let mut sysctl = tokio::time::interval(SYSCTL_POLL);
    // When changes not yet published go out (None: none pending).
    let mut publish_at: Option<Instant> = None;
    let mut published = Instant::now()
        .checked_sub(PUBLISH_EVERY)
        .unwrap_or_else(Instant::now);

    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Some(ev) => {
                    let mut batch = vec![ev];
                    // Coalesce a burst into one published view.
                    while let Ok(e) = events.try_recv() {
                        batch.push(e);
                    }
                    if sup.apply_events(batch) && publish_at.is_none() {
                        // The first change after a quiet spell goes out at once.
                        publish_at = Some((published + PUBLISH_EVERY).max(Instant::now()));
                    }
                }
                None => return Err("the netlink event stream ended".into()),
            },
            _ = crate::service::sleep_until(publish_at) => {
                sup.publish_view();
                publish_at = None;
                published = Instant::now();
            }
            _ = resync.tick() => sup.resync().await,
            _ = nl_events.overrun() => {
                warn!("netlink events were lost (socket buffer overflow); reading the kernel's state again");
                sup.resync().await;
            }
            _ = sysctl.tick() => sup.poll_forwarding(),
            _ = hup.recv() => {
                info!("SIGHUP: reloading {}", sup.config_path.display());
                let _ = sup.reload();
                sup.follow_keep_delegated().await;
            }
            Some((req, reply)) = ctl_rx.recv() => sup.handle(req, reply).await,
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    Ok(())
}

impl Supervisor {
    fn spawn_services(&mut self) {
        // One line per protocol service (see service.rs); the span names
        // the service in every log line it writes.
        self.spawn::<crate::ra::Ra>(Service::Ra, info_span!("ra"));
        self.spawn::<crate::dhcpv6::Dhcpv6>(Service::Dhcpv6, info_span!("dhcpv6"));
        self.spawn::<crate::ripng::Rip>(Service::Ripng, info_span!("ripng"));
        self.spawn::<crate::tunnel::Tunnels>(Service::Tunnel, info_span!("tunnel"));
        self.spawn::<crate::uplink::Uplinks>(Service::Uplink, info_span!("uplink"));
    }

    fn spawn<S: crate::service::Service>(&mut self, kind: Service, span: tracing::Span) {
        let name = span.metadata().map_or(S::NAME, |m| m.name());
        let (qtx, qrx) = mpsc::channel(16);
        let (rtx, rrx) = mpsc::channel(4);
        let (ptx, prx) = watch::channel(None);
        let (atx, arx) = mpsc::channel(4);
        let ctx = Ctx {
            kernel: self.kernel_tx.subscribe(),
            config: self.config_tx.subscribe(),
            netlink: self.nl.clone(),
            state_dir: self.config_tx.borrow().router.state_dir.clone(),
            uplink: self.uplink_tx.clone(),
            events: self.events.clone(),
        };
        let handles = Handles {
            queries: qrx,
            routes: rrx,
            shutdown: self.shutdown_tx.subscribe(),
            protocol: ptx,
            admin: arx,
        };
        let task = tokio::spawn(crate::service::run_service::<S>(ctx, handles).instrument(span));
        self.services.push(Svc {
            name,
            protocol_name: S::NAME,
            kind,
            queries: qtx,
            routes: rtx,
            protocol: prx,
            admin: atx,
            task,
        });
    }

    /// Apply kernel events to the view without telling the services yet
    /// (`publish_view` does, at most every PUBLISH_EVERY). True when the
    /// view changed.
    fn apply_events(&mut self, mut batch: Vec<KernelEvent>) -> bool {
        if !self.keep_delegated {
            // Before the view is touched: a burst of delegated routes
            // alone must not copy a view a service still holds.
            batch.retain(|ev| !is_delegated_event(ev));
            if batch.is_empty() {
                return false;
            }
        }
        let mut changed = false;
        // Route events are made only while someone monitors: thousands of
        // delegated-prefix routes a second would otherwise cost for nothing.
        let watched = self.events.receiver_count() > 0;
        let now_ms = crate::service::unix_ms();
        let mut route_events = Vec::new();
        // In place: the view is copied only if a service still holds the
        // previous snapshot (Arc::make_mut), not once per burst of events.
        self.kernel_tx.send_if_modified(|view| {
            let view = Arc::make_mut(view);
            for ev in &batch {
                log_event(view, ev);
                // Delegated routes kept for RIPng are announced by their
                // writer (kernel_side.rs), not twice.
                if watched && !is_delegated_event(ev) {
                    route_events.extend(crate::events::route_event(view, ev, now_ms));
                }
                changed |= view.apply(ev);
            }
            false
        });
        for e in route_events {
            crate::events::publish(&self.events, e);
        }
        changed
    }

    /// Tell the services the view changed.
    fn publish_view(&mut self) {
        self.kernel_tx.send_modify(|_| {});
        self.first_seen_stale = true;
        if self.first_seen_at.elapsed() >= FIRST_SEEN_EVERY {
            self.note_first_seen();
        }
    }

    fn note_first_seen(&mut self) {
        self.first_seen_at = Instant::now();
        self.first_seen_stale = false;
        let keys = crate::rt_show::kernel_rows_keys(&self.kernel_tx.borrow());
        self.first_seen.update(keys, crate::service::unix_ms());
    }

    async fn resync(&mut self) {
        match self.nl.dump().await {
            Ok(mut v) => {
                if !self.keep_delegated {
                    drop_delegated(&mut v);
                }
                if *self.kernel_tx.borrow().as_ref() != v {
                    debug!("periodic dump found changes the events missed");
                    self.kernel_tx.send_replace(Arc::new(v));
                    self.note_first_seen();
                }
            }
            Err(e) => warn!("periodic kernel dump failed: {e}"),
        }
    }

    /// After a reload: when RIPng's `export.kernel` came or went, the
    /// view takes the delegated prefixes' routes in (a dump) or out.
    async fn follow_keep_delegated(&mut self) {
        let keep = keeps_delegated(&self.config_tx.borrow());
        if keep == self.keep_delegated {
            return;
        }
        self.keep_delegated = keep;
        filter_delegated(&self.nl, keep);
        if keep {
            self.resync().await;
        } else {
            self.kernel_tx
                .send_modify(|v| drop_delegated(Arc::make_mut(v)));
            self.note_first_seen();
        }
    }

    fn wants_forwarding(&self) -> bool {
        let c = self.config_tx.borrow();
        c.router.forwarding && c.routes_packets()
    }

    fn apply_forwarding(&mut self) {
        if !self.wants_forwarding() {
            return;
        }
        match v6netlink::sysctl::forwarding() {
            Ok(true) => info!("IPv6 forwarding is on"),
            _ => match v6netlink::sysctl::write("all", "forwarding", "1") {
                Ok(()) => {
                    info!("turned IPv6 forwarding on (net.ipv6.conf.all.forwarding=1): routing is configured");
                    self.apply_events(vec![KernelEvent::Forwarding(true)]);
                }
                Err(e) => {
                    warn!("cannot turn IPv6 forwarding on: {e}; RAs will carry router lifetime 0")
                }
            },
        }
    }

    fn poll_forwarding(&mut self) {
        let Ok(now) = v6netlink::sysctl::forwarding() else {
            return;
        };
        let before = self.kernel_tx.borrow().forwarding;
        if now != before {
            if !now && self.wants_forwarding() {
                warn!("IPv6 forwarding was turned off by someone else; this router no longer routes (RAs now say router lifetime 0)");
            } else {
                info!("IPv6 forwarding is now {}", if now { "on" } else { "off" });
            }
            self.apply_events(vec![KernelEvent::Forwarding(now)]);
        }
    }

    /// Re-read the configuration; a bad one is rejected and the old one kept.
    fn reload(&mut self) -> Result<ReloadResult, String> {
        match v6config::load(&self.config_path) {
            Ok(l) => {
                let warnings: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
                for w in &warnings {
                    warn!("{}", w.trim_end());
                }
                let changed = **self.config_tx.borrow() != l.config;
                if changed {
                    if l.config.control != self.config_tx.borrow().control {
                        warn!("[control] changes take effect at the next restart");
                    }
                    if l.config.metrics != self.config_tx.borrow().metrics {
                        warn!("[metrics] changes take effect at the next restart");
                    }
                    self.config_tx.send_replace(Arc::new(l.config));
                    self.apply_forwarding();
                    info!("reloaded {}", self.config_path.display());
                } else {
                    info!("reloaded {}: no change", self.config_path.display());
                }
                self.reloads += 1;
                self.reconfigured = Instant::now();
                self.last_reload_error = None;
                Ok(ReloadResult { changed, warnings })
            }
            Err(d) => {
                let text = d.to_string();
                warn!(
                    "reload rejected, still running the previous configuration:\n{}",
                    text.trim_end()
                );
                self.last_reload_error = Some(text.clone());
                Err(format!(
                    "{text}reload rejected: still running the previous configuration"
                ))
            }
        }
    }

    async fn handle(&mut self, req: Request, reply: oneshot::Sender<Response>) {
        let resp = match req.service() {
            Service::Core => match req {
                Request::ShowStatus => Response::ok(self.status()),
                Request::ShowInterfaces => Response::ok(self.interfaces()),
                Request::ShowProtocols => Response::ok(self.protocols()),
                Request::ShowRoute {
                    target,
                    protocol,
                    count,
                    ..
                } => {
                    return self.show_route(target.as_deref(), protocol.as_deref(), count, reply);
                }
                Request::ShowMetrics => return self.show_metrics(reply),
                Request::ShowMemory => Response::ok(crate::heap::memory()),
                Request::ConfigureCheck { file } => self.configure_check(file.as_deref()),
                Request::Enable { protocol } => return self.admin(&protocol, Admin::Enable, reply),
                Request::Disable { protocol } => {
                    return self.admin(&protocol, Admin::Disable, reply)
                }
                Request::Restart { protocol } => {
                    return self.admin(&protocol, Admin::Restart, reply)
                }
                Request::Reload => {
                    let r = self.reload();
                    self.follow_keep_delegated().await;
                    match r {
                        Ok(r) => Response::ok(r),
                        Err(e) => Response::error(e),
                    }
                }
                // The control socket streams these itself (control.rs).
                _ => Response::error("not a core request"),
            },
            kind => match self.services.iter().find(|s| s.kind == kind) {
                None => Response::error(format!("{kind:?} is not available in this daemon")),
                Some(s) => {
                    // Ask without blocking the supervisor on a slow service.
                    let (q, name) = (s.queries.clone(), s.name);
                    tokio::spawn(async move {
                        let _ = reply.send(ask(&q, name, req).await);
                    });
                    return;
                }
            },
        };
        let _ = reply.send(resp);
    }

    /// `show route`: the kernel's rows and every service's contribution,
    /// assembled as BIRD's rt-show does (rt_show.rs). Services are asked
    /// without blocking the supervisor.
    fn show_route(
        &mut self,
        target: Option<&str>,
        protocol: Option<&str>,
        count: bool,
        reply: oneshot::Sender<Response>,
    ) {
        let sel = match Selection::parse(target, protocol) {
            Ok(s) => s,
            Err(e) => {
                let _ = reply.send(Response::error(e));
                return;
            }
        };
        if self.first_seen_stale {
            self.note_first_seen();
        }
        let mut rows = crate::rt_show::kernel_rows(&self.kernel_tx.borrow(), &self.first_seen);
        let askers: Vec<_> = self.services.iter().map(|s| s.routes.clone()).collect();
        tokio::spawn(async move {
            for ask in askers {
                if let Ok(r) = request(&ask, |tx| tx, ASK_WITHIN).await {
                    rows.extend(r);
                }
            }
            let total = rows.len();
            let shown = sel.select(rows);
            let _ = reply.send(if count {
                Response::ok(crate::rt_show::count(&shown, total))
            } else {
                Response::ok(shown)
            });
        });
    }

    /// `enable`/`disable`/`restart PROTOCOL`, by the service's name in
    /// `show protocols` (`rip1`; also `ripng`, and `tunnels` for `tunnel`,
    /// as users write them).
    fn admin(&self, protocol: &str, cmd: Admin, reply: oneshot::Sender<Response>) {
        let svc = self.services.iter().find(|s| {
            s.name == protocol
                || s.protocol_name == protocol
                || protocol.strip_suffix('s') == Some(s.name)
        });
        let Some(s) = svc else {
            let names: Vec<&str> = self.services.iter().map(|s| s.protocol_name).collect();
            let _ = reply.send(Response::error(format!(
                "no protocol `{protocol}`; there are: {}",
                names.join(", ")
            )));
            return;
        };
        let (tx, name) = (s.admin.clone(), s.name);
        tokio::spawn(async move {
            // Stopping may take a while (final RAs, routes out).
            let r = request(&tx, |rtx| (cmd, rtx), Duration::from_secs(10)).await;
            let _ = reply.send(r.unwrap_or_else(|why| unanswered(name, why)));
        });
    }

    /// `configure check [FILE]`: what `v6routerd check` says of FILE (the
    /// running configuration's file by default), without loading it.
    fn configure_check(&self, file: Option<&str>) -> Response {
        let path = file.map_or_else(|| self.config_path.clone(), PathBuf::from);
        match v6config::load(&path) {
            Ok(l) => {
                let mut text: String = l.warnings.iter().map(|w| w.to_string()).collect();
                text.push_str(&format!(
                    "{}: OK ({} warning{})\n",
                    path.display(),
                    l.warnings.len(),
                    if l.warnings.len() == 1 { "" } else { "s" }
                ));
                Response::ok(text)
            }
            Err(d) => Response::error(format!("{d}{}: not valid", path.display())),
        }
    }

    /// `show metrics`: every running service asked what it shows v6ctl,
    /// rendered for Prometheus (metrics.rs). Without blocking the supervisor.
    fn show_metrics(&self, reply: oneshot::Sender<Response>) {
        let gather = self.metrics_gatherer();
        tokio::spawn(async move {
            let _ = reply.send(Response::ok(gather.scrape().await));
        });
    }

    /// What a scrape needs of the supervisor, to take into a task.
    pub fn metrics_gatherer(&self) -> crate::metrics::Gatherer {
        crate::metrics::Gatherer {
            protocols: self.protocols(),
            services: self
                .services
                .iter()
                .map(|s| (s.name, s.queries.clone()))
                .collect(),
        }
    }

    fn status(&self) -> Status {
        let c = self.config_tx.borrow();
        let v = self.kernel_tx.borrow();
        Status {
            version: crate::VERSION.to_string(),
            pid: std::process::id(),
            config_file: self.config_path.display().to_string(),
            uptime: self.started.elapsed().as_secs(),
            since_reconfig: self.reconfigured.elapsed().as_secs(),
            reloads: self.reloads,
            last_reload_error: self.last_reload_error.clone(),
            forwarding: v.forwarding,
            interfaces_configured: c.interfaces.len(),
            interfaces_present: c
                .interfaces
                .iter()
                .filter(|i| v.link_by_name(&i.name).is_some())
                .count(),
            services: self
                .services
                .iter()
                .map(|s| {
                    let p = s.protocol.borrow().clone();
                    ServiceState {
                        name: s.name.to_string(),
                        state: if s.task.is_finished() {
                            "stopped".into()
                        } else {
                            p.as_ref()
                                .map(|p| p.state.clone())
                                .unwrap_or_else(|| "up".into())
                        },
                        info: p.map(|p| p.info).unwrap_or_default(),
                    }
                })
                .collect(),
        }
    }

    fn protocols(&self) -> Vec<ProtocolInfo> {
        let now = crate::service::unix_ms();
        self.services
            .iter()
            .filter_map(|s| s.protocol.borrow().clone())
            .map(|mut p| {
                if let Some(ms) = p.since_ms {
                    p.since = v6control::rip::format_since(ms, now);
                }
                p
            })
            .collect()
    }

    fn interfaces(&self) -> Vec<InterfaceInfo> {
        let c = self.config_tx.borrow();
        let v = self.kernel_tx.borrow();
        let mut out: Vec<InterfaceInfo> = v
            .links
            .values()
            .map(|l| InterfaceInfo {
                name: l.name.clone(),
                index: Some(l.index),
                present: true,
                admin_up: l.admin_up,
                running: l.running,
                mtu: l.mtu,
                lladdr: l
                    .lladdr
                    .as_ref()
                    .filter(|b| !b.is_empty())
                    .map(|b| v6common::hex::hex_colon(b)),
                kind: l.kind.clone(),
                roles: roles(&c, &l.name),
                addrs: v.addrs_of(l.index).map(addr_info).collect(),
            })
            .collect();
        // Configured but absent interfaces are listed too: they are picked up
        // when they appear.
        for i in &c.interfaces {
            if v.link_by_name(&i.name).is_none() {
                out.push(InterfaceInfo {
                    name: i.name.clone(),
                    roles: roles(&c, &i.name),
                    ..Default::default()
                });
            }
        }
        out
    }

    async fn stop(&mut self) {
        self.shutdown_tx.send_replace(true);
        let deadline = tokio::time::Instant::now() + STOP_GRACE;
        for s in self.services.drain(..) {
            let mut task = s.task;
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                warn!("the {} service did not stop in time", s.name);
                task.abort();
            }
        }
    }
}

fn log_event(view: &KernelView, ev: &KernelEvent) {
    match ev {
        KernelEvent::NewLink(l) => match view.links.get(&l.index) {
            None => info!("link {} appeared (index {})", l.name, l.index),
            Some(old) if old.is_usable() != l.is_usable() => {
                info!(
                    "link {} is {}",
                    l.name,
                    if l.is_usable() { "up" } else { "down" }
                )
            }
            _ => {}
        },
        KernelEvent::DelLink(i) => {
            if let Some(l) = view.links.get(i) {
                info!("link {} disappeared", l.name)
            }
        }
        KernelEvent::NewAddr(a)
            if !view
                .addrs
                .iter()
                .any(|x| x.index == a.index && x.addr == a.addr) =>
        {
            debug!(
                "address {}/{} added on index {}",
                a.addr, a.prefix_len, a.index
            )
        }
        KernelEvent::DelAddr { index, addr } => debug!("address {addr} removed from index {index}"),
        _ => {}
    }
}

/// How long a service may take to answer a query.
const ASK_WITHIN: Duration = Duration::from_secs(2);

/// Ask one service a question, at most [`ASK_WITHIN`]; an error answer
/// says which service failed.
/// What the configuration makes of interface `name` in `show interfaces`.
fn roles(c: &Config, name: &str) -> Vec<String> {
    let mut r = Vec::new();
    if let Some(i) = c.interface(name) {
        for (on, role) in [
            (i.uplink.is_some(), "uplink"),
            (i.assign.is_some(), "assign"),
            (i.ra.is_some(), "ra"),
            (i.dhcpv6.is_some(), "dhcpv6"),
        ] {
            if on {
                r.push(role.to_string());
            }
        }
    }
    if c.ripng.as_ref().is_some_and(|rip| {
        rip.interfaces
            .iter()
            .any(|p| v6common::kernel::ifname_matches(p, name))
    }) {
        r.push("ripng".into());
    }
    if c.tunnels.iter().any(|t| t.name == name) {
        r.push("tunnel".into());
    }
    r
}

/// An address as `show interfaces` lists it (iproute2's flags and scope).
fn addr_info(a: &v6common::AddrFact) -> AddrInfo {
    let flags = [
        (a.tentative, "tentative"),
        (a.deprecated, "deprecated"),
        (a.dad_failed, "dadfailed"),
        (a.permanent, "permanent"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, f)| f.to_string())
    .collect();
    let forever = a.valid_lft == u32::MAX;
    let scope = if a.is_link_local() {
        "link"
    } else if a.addr.is_loopback() {
        "host"
    } else {
        "global"
    };
    AddrInfo {
        addr: format!("{}/{}", a.addr, a.prefix_len),
        scope: scope.into(),
        preferred_lft: (!forever).then_some(a.preferred_lft),
        valid_lft: (!forever).then_some(a.valid_lft),
        flags,
    }
}

pub async fn ask(q: &mpsc::Sender<Query>, name: &str, req: Request) -> Response {
    let query = |reply| Query {
        request: req,
        reply,
    };
    request(q, query, ASK_WITHIN)
        .await
        .unwrap_or_else(|why| unanswered(name, why))
}

/// Send what `msg` makes of a reply channel to a service's queue and wait
/// `within` for the reply; Err says why there is none.
async fn request<M, R>(
    q: &mpsc::Sender<M>,
    msg: impl FnOnce(oneshot::Sender<R>) -> M,
    within: Duration,
) -> Result<R, &'static str> {
    let (reply, rx) = oneshot::channel();
    q.send(msg(reply)).await.map_err(|_| "is not running")?;
    match tokio::time::timeout(within, rx).await {
        Ok(Ok(r)) => Ok(r),
        _ => Err("did not answer"),
    }
}

fn unanswered(name: &str, why: &str) -> Response {
    Response::error(format!("the {name} service {why}"))
}

#[cfg(test)]
mod tests;
