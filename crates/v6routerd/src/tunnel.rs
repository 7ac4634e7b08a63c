//! The tunnel service: keeps the `[[tunnel]]` SIT links of the configuration
//! true in the kernel.
//!
//! It reads the supervisor's kernel view (links with their SIT parameters,
//! IPv6 addresses and routes through the tunnels, IPv4 addresses of the WAN
//! interfaces), asks `v6tunnel::reconcile` what to do and does it. It runs
//! at start, shortly after every change of the view, on reload and every
//! 30 s as a safety net. At stop it removes what it created unless the
//! tunnel says `keep_on_stop`.

use crate::service::unix_secs as now_unix;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tracing::{debug, info, warn, Instrument};
use v6common::kernel::{rtprot, KernelView, LinkFact, RouteFact, RouteKind, RT_TABLE_MAIN};
use v6common::Ipv6Prefix;
use v6config::Config;
use v6control::tunnel::TunnelStatus;
use v6control::{Request, Response};
use v6netlink::{sit, Kernel};
use v6tunnel::{
    reconcile, resolve_local, stop, validate_all, Action, BrokerUpdate, LocalEndpoint, Memory,
    Observed, ObservedLink, ObservedRoute, TunnelAddress, TunnelSpec, OWNER_ALIAS,
};

use crate::service::{Changed, Ctx, Row, Service};

/// The safety-net period: a missed event is repaired within this time.
const RESYNC: Duration = Duration::from_secs(30);
/// Retry soon after a request the kernel refused.
const RETRY: Duration = Duration::from_secs(2);
/// Gather the burst of events one change causes before looking again.
const SETTLE: Duration = Duration::from_millis(20);

/// Turn the `[[tunnel]]` tables into specs; tunnels that fail the checks the
/// config crate does not make are left out with an error in the log.
pub fn specs_from(cfg: &Config) -> Vec<TunnelSpec> {
    let mut out: Vec<TunnelSpec> = Vec::new();
    for t in &cfg.tunnels {
        let local = if t.local == "auto" {
            LocalEndpoint::Auto {
                wan: t.wan.clone().unwrap_or_default(),
            }
        } else {
            match t.local.parse::<Ipv4Addr>() {
                Ok(a) => LocalEndpoint::Fixed(a),
                Err(_) => {
                    warn!("tunnel {}: local `{}` is neither \"auto\" nor an IPv4 address; tunnel skipped", t.name, t.local);
                    continue;
                }
            }
        };
        let mut s = TunnelSpec::new(t.name.clone(), t.remote, local);
        s.ttl = t.ttl;
        s.mtu = t.mtu;
        s.pmtudisc = t.pmtudisc;
        s.default_route = t.default_route;
        s.routes = t.routes.clone();
        s.keep_on_stop = t.keep_on_stop;
        s.update_command = t.update_command.clone();
        if let Some(a) = &t.address {
            match a.parse::<TunnelAddress>() {
                Ok(a) => s.address = Some(a),
                Err(e) => {
                    warn!("tunnel {}: {e}; tunnel skipped", t.name);
                    continue;
                }
            }
        }
        if let Err(e) = s.validate() {
            warn!("tunnel {}: {e}; tunnel skipped", t.name);
            continue;
        }
        let mut with = out.clone();
        with.push(s.clone());
        if let Err(e) = validate_all(&with) {
            warn!("tunnel {}: {e}; tunnel skipped", t.name);
            continue;
        }
        out.push(s);
    }
    out
}

/// What the kernel view shows of these tunnels: every link a tunnel names
/// and every link of ours, with their IPv6 addresses and routes, and the
/// IPv4 addresses of the WANs `local = "auto"` follows.
fn observe(view: &KernelView, specs: &[TunnelSpec]) -> Observed {
    let names: BTreeSet<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    let relevant = view
        .links
        .values()
        .filter(|l| names.contains(l.name.as_str()) || l.alias.as_deref() == Some(OWNER_ALIAS));
    let mut o = Observed::default();
    for l in relevant {
        o.links.insert(l.name.clone(), observed_link(view, l));
    }
    for s in specs {
        if let LocalEndpoint::Auto { wan } = &s.local {
            if let Some(w) = view.link_by_name(wan) {
                o.wan_ipv4.insert(wan.clone(), ipv4_of(view, w.index));
            }
        }
    }
    o
}

/// A tunnel link with its IPv6 addresses and routes, for the reconciler.
fn observed_link(view: &KernelView, l: &LinkFact) -> ObservedLink {
    ObservedLink {
        index: l.index,
        name: l.name.clone(),
        kind: l.kind.clone(),
        sit: l.sit,
        mtu: l.mtu,
        admin_up: l.admin_up,
        running: l.running,
        alias: l.alias.clone(),
        addrs: view
            .addrs_of(l.index)
            .map(|a| TunnelAddress {
                addr: a.addr,
                prefix_len: a.prefix_len,
            })
            .collect(),
        routes: view
            .routes
            .iter()
            .filter(|r| r.oif == Some(l.index))
            .map(|r| ObservedRoute {
                dst: r.dst,
                metric: r.metric,
                protocol: r.protocol,
            })
            .collect(),
    }
}

/// The IPv4 addresses of the link `index`, primary addresses first (RFC
/// 1122's "primary" is the one the kernel uses as source; secondaries
/// follow it).
fn ipv4_of(view: &KernelView, index: u32) -> Vec<Ipv4Addr> {
    let mut mine: Vec<_> = view.addrs4.iter().filter(|a| a.index == index).collect();
    mine.sort_by_key(|a| a.secondary);
    mine.iter().map(|a| a.addr).collect()
}

/// The kernel route `ip -6 route add DST dev OIF metric M proto P` makes.
fn tunnel_route(oif: u32, dst: Ipv6Prefix, metric: u32, protocol: u8) -> RouteFact {
    RouteFact {
        dst,
        gateway: None,
        oif: Some(oif),
        protocol,
        metric,
        table: RT_TABLE_MAIN,
        kind: RouteKind::Unicast,
    }
}

/// What one executed action means to a reader of `show tunnels`.
fn history_line(a: &Action) -> String {
    match a {
        Action::Create { reason, .. } => format!("created ({reason})"),
        Action::Recreate { reason, .. } => format!("re-created ({reason})"),
        Action::SetUp { .. } => "set up (it was down)".into(),
        Action::SetMtu { mtu, was, .. } => format!("mtu {was} -> {mtu}"),
        Action::AddAddress { addr, .. } => format!("address {addr} added"),
        Action::DelAddress { addr, .. } => format!("address {addr} removed"),
        Action::AddRoute { dst, .. } => format!("route {dst} added"),
        Action::DelRoute { dst, .. } => format!("route {dst} removed"),
        Action::Delete { reason, .. } => format!("deleted ({reason})"),
        Action::Keep { .. } => "unchanged".into(),
        Action::Wait { reason, .. } => format!("waiting: {reason}"),
    }
}

/// A removal of what is already gone succeeded.
fn gone_is_ok(r: Result<(), sit::Error>) -> Result<(), String> {
    match r {
        Err(e) if !sit::is_gone(&e) => Err(e.to_string()),
        _ => Ok(()),
    }
}

/// An addition of what is already there succeeded.
fn exists_is_ok(r: Result<(), sit::Error>) -> Result<(), String> {
    match r {
        Err(e) if !sit::is_exists(&e) => Err(e.to_string()),
        _ => Ok(()),
    }
}

/// Create (or delete and create again) a tunnel's link and tag it as ours;
/// `index` learns its new index. A link of that name that exists already is
/// the one a previous pass made while the view had not shown it yet.
async fn create(k: &Kernel, a: &Action, index: &mut BTreeMap<String, u32>) -> Result<(), String> {
    let (Action::Create { link, .. } | Action::Recreate { link, .. }) = a else {
        return Ok(());
    };
    if let Action::Recreate { index: old, .. } = a {
        gone_is_ok(k.del_link(*old).await)
            .map_err(|e| format!("cannot delete the old link: {e}"))?;
        index.remove(&link.name);
    }
    match k.create_sit(link).await {
        Err(e) if sit::is_unsupported(&e) => {
            return Err(format!("{e}: this kernel has no sit driver (modprobe sit)"))
        }
        r => exists_is_ok(r)?,
    }
    let links = k.links().await.map_err(|e| e.to_string())?;
    let new = links
        .iter()
        .find(|l| l.name == link.name)
        .ok_or_else(|| "created, but the kernel does not list it".to_string())?;
    index.insert(link.name.clone(), new.index);
    k.set_alias(new.index, OWNER_ALIAS)
        .await
        .map_err(|e| format!("cannot tag it as ours: {e}"))
}

/// The action as a verb, for "... failed: why".
fn verb(a: &Action) -> String {
    match a {
        Action::Create { .. } => "create".into(),
        Action::Recreate { .. } => "re-create".into(),
        Action::SetUp { .. } => "set up".into(),
        Action::SetMtu { mtu, .. } => format!("set mtu {mtu}"),
        Action::AddAddress { addr, .. } => format!("add address {addr}"),
        Action::DelAddress { addr, .. } => format!("remove address {addr}"),
        Action::AddRoute { dst, .. } => format!("add route {dst}"),
        Action::DelRoute { dst, .. } => format!("remove route {dst}"),
        Action::Delete { .. } => "delete".into(),
        Action::Keep { .. } | Action::Wait { .. } => "nothing".into(),
    }
}

/// The tunnel service.
pub struct Tunnels {
    netlink: Kernel,
    specs: Vec<TunnelSpec>,
    memory: Memory,
    /// Per tunnel: when v6routerd last changed it and what it did.
    history: BTreeMap<String, (u64, String)>,
    /// Per tunnel: the reason it waits, if it does (logged once per change).
    waiting: BTreeMap<String, String>,
    last: Observed,
    /// Per tunnel with an `update_command`: the command and what the
    /// broker was told with it (a new command, e.g. a corrected key after
    /// a reload, starts afresh: it runs at once).
    updates: BTreeMap<String, (String, BrokerUpdate)>,
    /// Finished update commands.
    update_done: mpsc::UnboundedSender<UpdateDone>,
    update_rx: mpsc::UnboundedReceiver<UpdateDone>,
    /// Passes in a row with a refused request (for the retry backoff).
    failures: u32,
    /// When the next pass is due: the safety net, or a retry.
    resync_at: Instant,
    /// When the burst of view changes being gathered is looked at (SETTLE).
    settle_at: Option<Instant>,
}

pub struct UpdateDone {
    tunnel: String,
    command: String,
    local: Ipv4Addr,
    result: Result<String, String>,
}

impl Tunnels {
    /// Look, decide, act. Returns false when a request failed (retry soon).
    async fn reconcile(&mut self, view: &KernelView) -> bool {
        let observed = observe(view, &self.specs);
        let plan = reconcile(&self.specs, &observed, &self.memory);
        let mut waits = BTreeMap::new();
        for a in &plan {
            if let Action::Wait { name, reason } = a {
                if self.waiting.get(name) != Some(reason) {
                    warn!("tunnel {a}");
                }
                waits.insert(name.clone(), reason.clone());
            }
        }
        self.waiting = waits;
        let ok = self.execute(&plan, &observed).await;
        // What changed shows in the view shortly; the pass that follows
        // the change (SETTLE) brings `last` up to date.
        self.last = observed;
        ok
    }

    /// Carry out a plan in order. After a failed create the rest of that
    /// tunnel's plan is skipped (it has no link to act on).
    async fn execute(&mut self, plan: &[Action], observed: &Observed) -> bool {
        let mut index: BTreeMap<String, u32> = observed
            .links
            .iter()
            .map(|(n, l)| (n.clone(), l.index))
            .collect();
        let mut broken: BTreeSet<String> = BTreeSet::new();
        let mut noted: BTreeSet<String> = BTreeSet::new();
        let mut all_ok = true;
        for a in plan.iter().filter(|a| a.changes_kernel()) {
            let name = a.tunnel().to_string();
            if broken.contains(&name) {
                continue;
            }
            info!("tunnel {a}");
            let res = self.execute_one(a, &mut index).await;
            match res {
                Ok(()) => {
                    self.memory.record(a);
                    // The first change of a pass says best what happened.
                    if noted.insert(name.clone()) {
                        self.history.insert(name, (now_unix(), history_line(a)));
                    }
                }
                Err(e) => {
                    warn!("tunnel {}: failed: {e}", a);
                    all_ok = false;
                    self.history.insert(
                        name.clone(),
                        (now_unix(), format!("{} failed: {e}", verb(a))),
                    );
                    noted.insert(name.clone());
                    if matches!(a, Action::Create { .. } | Action::Recreate { .. }) {
                        broken.insert(name);
                    }
                }
            }
        }
        all_ok
    }

    async fn execute_one(
        &mut self,
        a: &Action,
        index: &mut BTreeMap<String, u32>,
    ) -> Result<(), String> {
        let k = &self.netlink;
        let idx = |name: &str| {
            index
                .get(name)
                .copied()
                .ok_or_else(|| format!("{name} does not exist"))
        };
        match a {
            Action::Create { .. } | Action::Recreate { .. } => create(k, a, index).await,
            Action::Delete { index: i, .. } => gone_is_ok(k.del_link(*i).await),
            Action::SetUp { name } => k.set_link_up(idx(name)?).await.map_err(|e| e.to_string()),
            Action::SetMtu { name, mtu, .. } => {
                k.set_mtu(idx(name)?, *mtu).await.map_err(|e| e.to_string())
            }
            Action::AddAddress { name, addr } => {
                let forever = u32::MAX;
                let (i, a) = (idx(name)?, addr);
                exists_is_ok(
                    k.set_address(i, a.addr, a.prefix_len, forever, forever)
                        .await,
                )
            }
            Action::DelAddress { name, addr } => {
                gone_is_ok(k.del_address(idx(name)?, addr.addr, addr.prefix_len).await)
            }
            Action::AddRoute {
                name,
                dst,
                metric,
                protocol,
            } => {
                let r = tunnel_route(idx(name)?, *dst, *metric, *protocol);
                exists_is_ok(k.add_route(&r, false).await)
            }
            Action::DelRoute {
                name,
                dst,
                metric,
                protocol,
            } => gone_is_ok(
                k.del_route(&tunnel_route(idx(name)?, *dst, *metric, *protocol))
                    .await,
            ),
            Action::Keep { .. } | Action::Wait { .. } => Ok(()),
        }
    }

    /// Remove what we made (unless kept), at shutdown.
    async fn remove_ours(&mut self, view: &KernelView) {
        let observed = observe(view, &self.specs);
        let plan = stop(&self.specs, &observed, &self.memory);
        self.execute(&plan, &observed).await;
        for s in self.specs.iter().filter(|s| s.keep_on_stop) {
            if observed.links.contains_key(&s.name) {
                info!("tunnel {}: kept in place (keep_on_stop)", s.name);
            }
        }
    }

    fn status(&self) -> Vec<TunnelStatus> {
        let mut st = status_of(&self.specs, &self.last, &self.history, &self.waiting);
        let (now, unix) = (Instant::now(), now_unix());
        for t in &mut st {
            if let Some((_, u)) = self.updates.get(&t.name) {
                t.broker_update = Some(crate::broker_update::describe(u, now, unix));
            }
        }
        st
    }

    /// Start the update commands that are due: a tunnel that is up with a
    /// local address its broker has not been told yet (or a retry).
    fn start_updates(&mut self, now: Instant) {
        self.updates.retain(|name, (cmd, _)| {
            self.specs
                .iter()
                .any(|s| &s.name == name && s.update_command.as_ref() == Some(cmd))
        });
        for s in &self.specs {
            let Some(cmd) = &s.update_command else {
                continue;
            };
            let local = self
                .last
                .link(&s.name)
                .filter(|l| l.is_sit() && l.admin_up)
                .and_then(|l| l.sit)
                .and_then(|p| p.local);
            let (_, u) = self
                .updates
                .entry(s.name.clone())
                .or_insert_with(|| (cmd.clone(), BrokerUpdate::default()));
            let Some(run) = u.poll(now, local) else {
                continue;
            };
            info!(
                "tunnel {}: telling the broker our local address {} (update_command)",
                s.name, run.local
            );
            let (cmd, name, remote, done) = (
                cmd.clone(),
                s.name.clone(),
                s.remote,
                self.update_done.clone(),
            );
            tokio::spawn(
                async move {
                    let result = crate::broker_update::run(&cmd, &name, remote, &run).await;
                    let _ = done.send(UpdateDone {
                        tunnel: name,
                        command: cmd,
                        local: run.local,
                        result,
                    });
                }
                // In the service's span, like the rest of its work.
                .in_current_span(),
            );
        }
    }

    fn update_finished(&mut self, d: UpdateDone) {
        let (name, local) = (&d.tunnel, d.local);
        match &d.result {
            Ok(line) => info!("tunnel {name}: broker told {local}: {line}"),
            Err(e) => warn!("tunnel {name}: update_command for {local} failed: {e}"),
        }
        // The result of a command the configuration no longer has is
        // only logged.
        if let Some((cmd, u)) = self.updates.get_mut(name) {
            if *cmd == d.command {
                u.finished(Instant::now(), local, d.result);
            }
        }
    }

    fn next_update_retry(&self, now: Instant) -> Option<Instant> {
        self.updates
            .values()
            .filter_map(|(_, u)| u.next_wakeup(now))
            .min()
    }

    /// Look again, now: reconcile, set when the next pass is due, start
    /// the update commands that became due.
    async fn pass(&mut self, view: &KernelView) {
        let ok = self.reconcile(view).await;
        // After a refusal retry at 2 s, 4 s, 8 s, ... up to the resync
        // period (a kernel without the sit driver must not be asked every
        // 2 s forever).
        self.failures = if ok {
            0
        } else {
            self.failures.saturating_add(1)
        };
        let next = if self.failures > 0 {
            RETRY
                .saturating_mul(1 << (self.failures - 1).min(4))
                .min(RESYNC)
        } else {
            RESYNC
        };
        let now = Instant::now();
        self.resync_at = now + next;
        self.start_updates(now);
    }
}

impl Service for Tunnels {
    const NAME: &'static str = "tunnel";
    const PROTO: &'static str = "SIT";
    const IDLE: &'static str = "the tunnel service is not running";
    type Event = UpdateDone;

    /// Always, even with no `[[tunnel]]`: a tunnel a previous run made
    /// (alias `v6routerd`) is removed at start, and one a reload takes out
    /// of the configuration is removed by the next pass, as `reconcile`
    /// plans; stopping the service instead would apply `keep_on_stop`.
    fn wanted(_: &Config) -> bool {
        true
    }

    async fn start(ctx: &Ctx) -> Result<Tunnels, String> {
        let (update_done, update_rx) = mpsc::unbounded_channel();
        Ok(Tunnels {
            netlink: ctx.netlink.clone(),
            specs: specs_from(&ctx.config()),
            memory: Memory::default(),
            history: BTreeMap::new(),
            waiting: BTreeMap::new(),
            last: Observed::default(),
            updates: BTreeMap::new(),
            update_done,
            update_rx,
            failures: 0,
            resync_at: Instant::now(),
            settle_at: None,
        })
    }

    async fn changed(&mut self, ctx: &Ctx, what: Changed) {
        match what {
            Changed::Config => {
                let specs = specs_from(&ctx.config());
                if specs != self.specs {
                    debug!("configuration changed");
                    self.specs = specs;
                }
                self.pass(&ctx.kernel()).await;
            }
            // One change in the kernel comes as a burst of events (a link,
            // its addresses, its routes): look once it has settled.
            Changed::Kernel => {
                self.settle_at.get_or_insert(Instant::now() + SETTLE);
            }
            Changed::Uplink => {}
        }
    }

    async fn next_event(&mut self) -> UpdateDone {
        // `self` holds a sender, so the channel never closes.
        match self.update_rx.recv().await {
            Some(done) => done,
            None => std::future::pending().await,
        }
    }

    async fn on_event(&mut self, _: &Ctx, done: UpdateDone) {
        self.update_finished(done);
        self.start_updates(Instant::now());
    }

    fn deadline(&self) -> Option<Instant> {
        let retry = self.next_update_retry(Instant::now());
        [Some(self.resync_at), self.settle_at, retry]
            .into_iter()
            .flatten()
            .min()
    }

    async fn on_deadline(&mut self, ctx: &Ctx, now: Instant) {
        if self.resync_at <= now || self.settle_at.is_some_and(|t| t <= now) {
            self.settle_at = None;
            self.pass(&ctx.kernel()).await;
        } else {
            // An update command's retry fell due.
            self.start_updates(now);
        }
    }

    async fn answer(&mut self, _: &Ctx, req: Request) -> Response {
        match req {
            Request::ShowTunnels => Response::ok(self.status()),
            other => crate::service::not_mine(Self::NAME, &other),
        }
    }

    fn metrics(&self, _: &Ctx) -> String {
        crate::metrics::tunnels(&self.status())
    }

    fn row(&self) -> Option<Row> {
        if self.specs.is_empty() {
            return None;
        }
        let st = self.status();
        let up = st.iter().filter(|t| t.state == "up").count();
        let since = st.iter().filter_map(|t| t.since).max();
        let state = if up == st.len() { "up" } else { "start" };
        Some(Row {
            state,
            info: format!("{up} of {} tunnels up", st.len()),
            // The last change we made to a tunnel, else when the state
            // last changed.
            since_ms: since.map(|s| s * 1000),
        })
    }

    async fn stop(mut self, ctx: &Ctx) {
        self.remove_ours(&ctx.kernel()).await;
    }
}

/// `show tunnels`: the configured tunnels as the kernel last showed them,
/// with what v6routerd last did to each and why.
fn status_of(
    specs: &[TunnelSpec],
    last: &Observed,
    history: &BTreeMap<String, (u64, String)>,
    waiting: &BTreeMap<String, String>,
) -> Vec<TunnelStatus> {
    specs
        .iter()
        .map(|s| tunnel_status(s, last, history.get(&s.name), waiting.get(&s.name)))
        .collect()
}

/// One tunnel of `show tunnels`: what it last did (`history`) and why it
/// waits, if it does.
fn tunnel_status(
    s: &TunnelSpec,
    last: &Observed,
    history: Option<&(u64, String)>,
    waiting: Option<&String>,
) -> TunnelStatus {
    let l = last.link(&s.name).filter(|l| l.is_sit());
    let state = match l {
        None if waiting.is_some() => "waiting",
        None => "missing",
        Some(l) if l.admin_up => "up",
        Some(_) => "down",
    };
    let sit = l.and_then(|l| l.sit);
    let local = sit
        .and_then(|p| p.local)
        .or_else(|| resolve_local(s, last).ok())
        .map(|a| a.to_string());
    let (since, mut last_change) = history
        .cloned()
        .map_or((None, String::new()), |(t, w)| (Some(t), w));
    if let Some(w) = waiting {
        last_change = format!("waiting: {w}");
    }
    TunnelStatus {
        name: s.name.clone(),
        state: state.into(),
        index: l.map(|l| l.index),
        local,
        local_source: match &s.local {
            LocalEndpoint::Fixed(_) => "static".into(),
            LocalEndpoint::Auto { wan } => format!("auto from {wan}"),
        },
        remote: sit.and_then(|p| p.remote).unwrap_or(s.remote).to_string(),
        ttl: sit.map_or(s.ttl, |p| p.ttl),
        mtu: l.map_or(s.mtu, |l| l.mtu),
        pmtudisc: sit.map_or(s.pmtudisc, |p| p.pmtudisc),
        addresses: l.map(shown_addresses).unwrap_or_default(),
        routes: l.map(shown_routes).unwrap_or_default(),
        since,
        last_change,
        ours: l.is_some_and(|l| l.is_ours()),
        keep_on_stop: s.keep_on_stop,
        broker_update: None,
    }
}

/// A tunnel's addresses but the link-local one the kernel gives it.
fn shown_addresses(l: &ObservedLink) -> Vec<String> {
    let is_link_local = |a: std::net::Ipv6Addr| a.segments()[0] & 0xffc0 == 0xfe80;
    l.addrs
        .iter()
        .filter(|a| !is_link_local(a.addr))
        .map(|a| a.to_string())
        .collect()
}

/// A tunnel's routes but the link-local one.
fn shown_routes(l: &ObservedLink) -> Vec<String> {
    l.routes
        .iter()
        .filter(|r| !r.dst.is_link_local())
        .map(|r| {
            format!(
                "{} metric {} proto {}",
                r.dst,
                r.metric,
                rtprot::name(r.protocol)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests;
