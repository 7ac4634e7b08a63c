//! The uplink service: a DHCPv6-PD client per `[interface.uplink]` (the pure
//! `v6dhcp::client` engine on a UDP 546 socket bound to the WAN), and the
//! prefix manager that turns what the ISP delegated, plus the ULA, into LAN
//! addresses and unreachable aggregates in the kernel.
//!
//! Downstream protocols follow the kernel view, so renumbering needs nothing
//! special from them: RA's `::/64` templates see the new address (and the old
//! one deprecated), DHCPv6 pools relative to the /64 move, RIPng's connected
//! export changes.

use crate::prefixes::{self, Delegation, Plan, PlannedAddr, UplinkLease, WanLease};
use crate::service::unix_secs as wall;
use crate::service::{Changed, Ctx, Row, Service, UplinkFacts};
use crate::state::{load_json, save_json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::{debug, info, warn, Instrument};
use v6common::kernel::{rtprot, RT_TABLE_MAIN};
use v6common::{Ipv6Prefix, KernelView, RouteFact, RouteKind};
use v6config::Config;
use v6control::uplink::{Assignment, LeaseInfo, UplinkInfo, UplinkStatus};
use v6control::{Request, Response};
use v6dhcp::client::{Binding, Client, ClientAction, ClientParams, Lease, StoredBinding};
use v6dhcp::wire::{Duid, ALL_DHCP_RELAY_AGENTS_AND_SERVERS, SERVER_PORT};
use v6ra::solicit::{router_solicitation, Solicitor, MAX_RTR_SOLICITATION_DELAY};

const CLIENT_PORT: u16 = 546;

/// What a client socket's reader task hands the service: the uplink it was
/// received on, the source address and the message.
type Datagram = (String, Ipv6Addr, Vec<u8>);

/// One uplink interface and its client.
struct Uplink {
    name: String,
    client: Client,
    socket: Option<Arc<UdpSocket>>,
    ifindex: Option<u32>,
    /// The link was usable when we last looked.
    running: bool,
    reader: Option<tokio::task::JoinHandle<()>>,
    /// Router Solicitations still to send (RFC 7084 W-1: a host on the WAN),
    /// until an RA gives the WAN a default route.
    solicit: Option<Solicitor>,
}

impl Uplink {
    /// Send a client message to All_DHCP_Relay_Agents_and_Servers on the
    /// WAN (RFC 8415 §7.1); nothing while the WAN has no socket.
    async fn send(&self, bytes: &[u8]) {
        let (Some(s), Some(idx)) = (&self.socket, self.ifindex) else {
            return;
        };
        let dst = SocketAddrV6::new(ALL_DHCP_RELAY_AGENTS_AND_SERVERS, SERVER_PORT, 0, idx);
        if let Err(e) = s.send_to(bytes, dst).await {
            debug!("{}: send: {e}", self.name);
        }
    }

    /// The next Router Solicitation, if one is due at `now` and the WAN has
    /// no default router yet (§6.3.7: a host stops soliciting once an RA
    /// came).
    fn solicit_router(&mut self, view: &KernelView, now: Instant) {
        let (Some(s), Some(index)) = (&mut self.solicit, self.ifindex) else {
            return;
        };
        if has_default_via(view, index) {
            self.solicit = None;
            return;
        }
        if !s.due(now) {
            return;
        }
        let mac = view.links.get(&index).and_then(|l| l.lladdr.as_deref());
        let sent = router_solicitation(mac)
            .map_err(|e| std::io::Error::other(format!("{e:?}")))
            .and_then(|rs| v6ra::io::send_rs(&rs, index));
        match sent {
            Ok(()) => debug!("{}: Router Solicitation sent", self.name),
            Err(e) => debug!("{}: Router Solicitation: {e}", self.name),
        }
    }

    /// Close the socket and end its reader.
    fn close(&mut self) {
        if let Some(r) = self.reader.take() {
            r.abort();
        }
        self.socket = None;
    }
}

/// An address we put on a LAN.
#[derive(Clone, Debug)]
struct Installed {
    prefix_len: u8,
    from: Ipv6Prefix,
    preferred_until: Option<Instant>,
    valid_until: Option<Instant>,
    stale: bool,
}

/// The uplink service: the DHCPv6-PD clients and the prefix manager.
pub struct Uplinks {
    state_dir: PathBuf,
    uplinks: Vec<Uplink>,
    ula: Option<Ipv6Prefix>,
    auto: BTreeMap<String, u32>,
    installed: HashMap<(String, Ipv6Addr), Installed>,
    /// The uplinks' own IA_NA addresses we configured on them.
    wan_installed: BTreeSet<(String, Ipv6Addr)>,
    routes: Vec<Ipv6Prefix>,
    plan: Plan,
    /// Given to each socket's reader task.
    rx_tx: mpsc::Sender<Datagram>,
    /// What the readers received.
    rx: mpsc::Receiver<Datagram>,
}

impl Service for Uplinks {
    const NAME: &'static str = "uplink";
    const PROTO: &'static str = "DHCPv6-PD";
    const IDLE: &'static str = "the uplink service is not running";
    type Event = Datagram;

    /// Always: besides the DHCPv6-PD clients of `[interface.uplink]` the
    /// service owns the ULA and the `[interface.assign]` LAN addresses,
    /// which need no uplink; and a reload that drops the last of them must
    /// still reach `apply`, which deprecates what is no longer planned
    /// (RFC 9096 §3) rather than leaving it. Its row ("down" with no
    /// uplink) is shown as before.
    fn wanted(_: &Config) -> bool {
        true
    }

    async fn start(ctx: &Ctx) -> Result<Uplinks, String> {
        let (rx_tx, rx) = mpsc::channel(64);
        let auto = load_json(&ctx.state_dir.join("assign.json"), "subnet choices");
        Ok(Uplinks {
            auto: auto.unwrap_or_default(),
            state_dir: ctx.state_dir.clone(),
            uplinks: Vec::new(),
            ula: None,
            installed: HashMap::new(),
            wan_installed: BTreeSet::new(),
            routes: Vec::new(),
            plan: Plan::default(),
            rx_tx,
            rx,
        })
    }

    async fn changed(&mut self, ctx: &Ctx, what: Changed) {
        let view = ctx.kernel();
        match what {
            Changed::Config => {
                let cfg = ctx.config();
                self.configure(&cfg, &view);
                self.follow_links(ctx, &view).await;
                self.apply(ctx, &cfg).await;
            }
            Changed::Kernel => {
                self.follow_links(ctx, &view).await;
                self.repair(ctx, &view).await;
            }
            // Not followed: this service is the one that sends them.
            Changed::Uplink => {}
        }
    }

    async fn next_event(&mut self) -> Datagram {
        // Never None: `rx_tx` lives as long as `rx`.
        match self.rx.recv().await {
            Some(d) => d,
            None => std::future::pending().await,
        }
    }

    async fn on_event(&mut self, ctx: &Ctx, (name, src, data): Datagram) {
        let Some(i) = self.uplinks.iter().position(|u| u.name == name) else {
            return;
        };
        let acts = self.uplinks[i].client.handle(Instant::now(), src, &data);
        self.execute(ctx, i, acts).await;
    }

    fn deadline(&self) -> Option<Instant> {
        let solicits = self
            .uplinks
            .iter()
            .filter_map(|u| u.solicit.as_ref()?.deadline());
        self.uplinks
            .iter()
            .filter_map(|u| u.client.next_timer())
            .chain(solicits)
            .min()
    }

    async fn on_deadline(&mut self, ctx: &Ctx, now: Instant) {
        for i in 0..self.uplinks.len() {
            if self.uplinks[i]
                .client
                .next_timer()
                .is_some_and(|t| t <= now)
            {
                let acts = self.uplinks[i].client.on_timer(now);
                self.execute(ctx, i, acts).await;
            }
        }
        let view = ctx.kernel();
        for u in &mut self.uplinks {
            u.solicit_router(&view, now);
        }
        // Stale LAN addresses run out by themselves in the kernel; drop our record.
        self.installed
            .retain(|_, x| x.valid_until.is_none_or(|v| v > now));
    }

    async fn answer(&mut self, ctx: &Ctx, req: Request) -> Response {
        let now = Instant::now();
        match req {
            Request::ShowUplink => Response::ok(self.status()),
            Request::UplinkRenew | Request::UplinkRelease if self.uplinks.is_empty() => {
                Response::error("no uplink is configured")
            }
            Request::UplinkRenew => {
                for i in 0..self.uplinks.len() {
                    let acts = self.uplinks[i].client.renew_now(now);
                    self.execute(ctx, i, acts).await;
                }
                Response::ok("renewing")
            }
            Request::UplinkRelease => {
                for i in 0..self.uplinks.len() {
                    let acts = self.uplinks[i].client.release(now);
                    self.execute(ctx, i, acts).await;
                }
                Response::ok("released")
            }
            other => crate::service::not_mine(Self::NAME, &other),
        }
    }

    fn metrics(&self, _: &Ctx) -> String {
        crate::metrics::uplink(&self.status())
    }

    fn row(&self) -> Option<Row> {
        let n = self.delegations().len();
        Some(Row::new(
            if self.uplinks.is_empty() {
                "down"
            } else {
                "up"
            },
            format!("{n} delegated prefix{}", if n == 1 { "" } else { "es" }),
        ))
    }

    /// Release only when configured (a restart must keep the prefix); LAN
    /// addresses stay, as their lifetimes still hold.
    async fn stop(mut self, ctx: &Ctx) {
        let cfg = ctx.config();
        let now = Instant::now();
        for u in &mut self.uplinks {
            let release = cfg
                .interface(&u.name)
                .and_then(|x| x.uplink.as_ref())
                .is_some_and(|up| up.release_on_stop);
            if release && u.client.binding().is_some() {
                info!("{}: releasing the delegation (release_on_stop)", u.name);
                for a in u.client.release(now) {
                    if let ClientAction::Send(bytes) = a {
                        u.send(&bytes).await;
                    }
                }
                let _ = std::fs::remove_file(binding_file(&self.state_dir, &u.name));
            }
            u.close();
        }
        // Released addresses are no longer ours to use (RFC 8415 §18.2.7);
        // kept ones stay with their lifetimes, as the LAN addresses do.
        self.sync_wan_addrs(ctx, &ctx.kernel(), now).await;
    }
}

/// The ULA /48 kept in state_dir, or a new one (RFC 4193 §3.2), kept
/// there so the LANs keep their ULA addresses across restarts.
fn load_ula(state_dir: &Path) -> Ipv6Prefix {
    let f = state_dir.join("ula");
    match std::fs::read_to_string(&f) {
        Ok(s) => match s.trim().parse::<Ipv6Prefix>() {
            Ok(p) => return p,
            // Written whole or not at all (durable::write), so this is
            // a damaged disk or a hand edit: said, then replaced.
            Err(e) => warn!("ignoring the ULA prefix in {}: {e}", f.display()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => warn!("cannot read the ULA prefix in {}: {e}", f.display()),
    }
    let mut rng = fastrand::Rng::new();
    let p = prefixes::new_ula(&mut rng);
    match v6common::durable::write(&f, format!("{p}\n").as_bytes()) {
        Ok(()) => info!("made the ULA prefix {p} (kept in {})", f.display()),
        Err(e) => warn!("cannot keep the ULA prefix in {}: {e}", f.display()),
    }
    p
}

fn binding_file(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join(format!("uplink-{name}.json"))
}

/// A stable IAID for an interface name (RFC 8415 §12: consistent across restarts).
fn iaid_of(name: &str) -> u32 {
    name.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

impl Uplinks {
    /// Create or drop clients to match the configuration; load the ULA.
    fn configure(&mut self, cfg: &Config, view: &KernelView) {
        self.ula = match cfg.router.ula.as_deref() {
            Some("auto") => Some(load_ula(&self.state_dir)),
            Some("off") | None => None,
            Some(s) => s.parse().ok(),
        };
        let wanted: Vec<&v6config::Interface> = cfg
            .interfaces
            .iter()
            .filter(|i| i.uplink.is_some())
            .collect();
        self.uplinks.retain_mut(|u| {
            let keep = wanted.iter().any(|w| w.name == u.name);
            if !keep {
                u.close();
            }
            keep
        });
        for w in wanted {
            let Some(up) = &w.uplink else { continue };
            if !self.uplinks.iter().any(|u| u.name == w.name) {
                let u = self.new_uplink(&w.name, up, view);
                self.uplinks.push(u);
            }
        }
    }

    /// A client for `name`, with the binding a previous run kept, if it is
    /// still valid.
    fn new_uplink(&self, name: &str, up: &v6config::Uplink, view: &KernelView) -> Uplink {
        let mac = view
            .link_by_name(name)
            .and_then(|l| l.lladdr.clone())
            .filter(|m| m.len() == 6);
        // DUID-LL from the WAN's MAC (stable, needs no storage, as odhcp6c
        // does); DUID-EN from the name when there is no MAC yet.
        let duid = match mac {
            Some(m) => Duid::new_ll(1, &m),
            None => Duid::new_en(32473, name.as_bytes()),
        };
        let params = ClientParams {
            duid,
            iaid: iaid_of(name),
            prefix_length: up.prefix_length,
            request_pd: true,
            request_address: up.request_address,
            // Offer Rapid Commit; a server configured for it answers the
            // Solicit with a Reply at once (RFC 8415 §18.2.1).
            rapid_commit: true,
            sol_max_rt: Duration::from_secs(u64::from(up.solicit_max_rt)),
            reconfigure: up.reconfigure,
        };
        let stored: Option<StoredBinding> =
            load_json(&binding_file(&self.state_dir, name), "DHCPv6 binding");
        let restored = stored.and_then(|s| Binding::restore(&s, Instant::now(), wall()));
        if let Some(b) = &restored {
            info!(
                "{name}: kept the delegation across the restart: {}",
                b.prefixes
                    .iter()
                    .map(|p| p.value.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let seed = u64::from(iaid_of(name)) ^ wall() ^ u64::from(std::process::id());
        Uplink {
            name: name.to_string(),
            client: Client::new(params, seed, restored),
            socket: None,
            ifindex: None,
            running: false,
            reader: None,
            solicit: None,
        }
    }

    /// Start a client when its WAN becomes usable, stop it when it goes down.
    async fn follow_links(&mut self, ctx: &Ctx, view: &KernelView) {
        let now = Instant::now();
        for i in 0..self.uplinks.len() {
            let u = &mut self.uplinks[i];
            let link = view.link_by_name(&u.name);
            let usable = link.is_some_and(|l| l.is_usable())
                && link.and_then(|l| view.link_local(l.index)).is_some();
            let index = link.map(|l| l.index);
            if index != u.ifindex {
                // New or re-created link: a fresh socket bound to it.
                u.close();
                u.ifindex = index;
            }
            if usable && u.socket.is_none() {
                wan_accepts_ra(&u.name);
                open_client_socket(u, &self.rx_tx);
                let delay = MAX_RTR_SOLICITATION_DELAY.mul_f64(fastrand::f64());
                u.solicit = Some(Solicitor::new(now, delay));
            }
            if usable && !u.running {
                info!("{}: link up, asking for a delegated prefix", u.name);
                u.running = true;
                let acts = u.client.start(now);
                self.execute(ctx, i, acts).await;
            } else if !usable && u.running {
                // Keep the prefix until its lifetimes run out: a short flap must
                // not renumber the home.
                info!(
                    "{}: link down, keeping the delegation until it expires",
                    u.name
                );
                u.running = false;
                u.client.stop();
            }
        }
    }

    async fn execute(&mut self, ctx: &Ctx, i: usize, acts: Vec<ClientAction>) {
        let mut changed = false;
        for a in acts {
            match a {
                ClientAction::Send(bytes) => self.uplinks[i].send(&bytes).await,
                ClientAction::BindingChanged => changed = true,
                ClientAction::Log(l) => info!("{}: {l}", self.uplinks[i].name),
            }
        }
        if changed {
            self.save_binding(i);
            self.apply(ctx, &ctx.config()).await;
        }
    }

    /// Keep uplink `i`'s binding in state_dir (durably: a restart keeps the
    /// delegation, RFC 8415 §18.2.2 Confirm/Rebind need it), or remove it.
    fn save_binding(&self, i: usize) {
        let u = &self.uplinks[i];
        let f = binding_file(&self.state_dir, &u.name);
        match u.client.binding() {
            Some(b) => {
                save_json(&f, &b.store(Instant::now(), wall()), "DHCPv6 binding");
            }
            None => {
                let _ = std::fs::remove_file(&f);
            }
        }
    }

    /// Each uplink that holds a binding, by name.
    fn bindings(&self) -> impl Iterator<Item = (&str, &Binding)> {
        self.uplinks
            .iter()
            .filter_map(|u| u.client.binding().map(|b| (u.name.as_str(), b)))
    }

    /// The `leases` of every binding (its prefixes or its addresses),
    /// each with its uplink's name.
    fn uplink_leases<T: Copy>(
        &self,
        leases: impl Fn(&Binding) -> &[Lease<T>],
    ) -> Vec<UplinkLease<T>> {
        self.bindings()
            .flat_map(|(name, b)| leases(b).iter().map(move |l| UplinkLease::of(name, l)))
            .collect()
    }

    fn delegations(&self) -> Vec<Delegation> {
        self.uplink_leases(|b| &b.prefixes)
    }

    /// Re-plan and bring the kernel in line: new addresses, refreshed
    /// lifetimes, stale ones deprecated, aggregates.
    async fn apply(&mut self, ctx: &Ctx, cfg: &Config) {
        let now = Instant::now();
        let plan = prefixes::plan(cfg, &self.delegations(), self.ula, &self.auto, now);
        for p in &plan.problems {
            warn!("{p}");
        }
        if plan.auto_subnets != self.auto {
            self.auto = plan.auto_subnets.clone();
            let f = self.state_dir.join("assign.json");
            save_json(&f, &self.auto, "subnet choices");
        }
        let view = ctx.kernel();
        self.install_addrs(ctx, &view, &plan, now).await;
        self.sync_wan_addrs(ctx, &view, now).await;
        self.deprecate_unplanned(ctx, &view, &plan, now).await;
        self.sync_unreachable(ctx, &view, &plan).await;
        self.plan = plan;
        self.publish(ctx);
    }

    /// Put the planned LAN addresses in place with fresh lifetimes.
    async fn install_addrs(&mut self, ctx: &Ctx, view: &KernelView, plan: &Plan, now: Instant) {
        let deadline = |s: u32| (s != u32::MAX).then(|| now + Duration::from_secs(u64::from(s)));
        for a in &plan.addrs {
            let key = (a.iface.clone(), a.addr);
            let fresh = !self.installed.contains_key(&key);
            self.installed.insert(
                key,
                Installed {
                    prefix_len: a.prefix_len,
                    from: a.from,
                    preferred_until: deadline(a.preferred),
                    valid_until: deadline(a.valid),
                    stale: false,
                },
            );
            let Some(link) = view.link_by_name(&a.iface) else {
                continue;
            };
            if fresh {
                info!("{}: {}/{} from {}", a.iface, a.addr, a.prefix_len, a.from);
            }
            if let Err(e) = ctx
                .netlink
                .set_address(link.index, a.addr, a.prefix_len, a.preferred, a.valid)
                .await
            {
                warn!("{}: cannot set {}/{}: {e}", a.iface, a.addr, a.prefix_len);
            }
        }
    }

    /// The IA_NA addresses of every binding.
    fn wan_leases(&self) -> Vec<WanLease> {
        self.uplink_leases(|b| &b.addresses)
    }

    /// Configure each uplink's own IA_NA addresses (`request_address`) with
    /// their lifetimes; remove the ones released or expired (RFC 8415
    /// §18.2.7: a released address is not used any more).
    async fn sync_wan_addrs(&mut self, ctx: &Ctx, view: &KernelView, now: Instant) {
        let planned = prefixes::wan_addrs(&self.wan_leases(), now);
        for a in &planned {
            let Some(link) = view.link_by_name(&a.iface) else {
                continue;
            };
            if self.wan_installed.insert((a.iface.clone(), a.addr)) {
                info!(
                    "{}: {}/128 from the ISP (IA_NA), preferred {} s, valid {} s",
                    a.iface, a.addr, a.preferred, a.valid
                );
            }
            if let Err(e) = ctx
                .netlink
                .set_address(link.index, a.addr, 128, a.preferred, a.valid)
                .await
            {
                warn!("{}: cannot set {}/128: {e}", a.iface, a.addr);
            }
        }
        let gone: Vec<(String, Ipv6Addr)> = self
            .wan_installed
            .iter()
            .filter(|(i, x)| !planned.iter().any(|a| a.iface == *i && a.addr == *x))
            .cloned()
            .collect();
        for (iface, addr) in gone {
            self.wan_installed.remove(&(iface.clone(), addr));
            let Some(link) = view.link_by_name(&iface) else {
                continue;
            };
            match ctx.netlink.del_address(link.index, addr, 128).await {
                Ok(()) => info!("{iface}: removed {addr}/128 (released or expired)"),
                Err(e) => debug!("{iface}: {addr}/128 already gone: {e}"),
            }
        }
    }

    /// What is no longer planned is deprecated and left to run out (RFC 9096
    /// §3); removed once its valid lifetime is over, or its LAN is gone.
    async fn deprecate_unplanned(
        &mut self,
        ctx: &Ctx,
        view: &KernelView,
        plan: &Plan,
        now: Instant,
    ) {
        let planned: Vec<(String, Ipv6Addr)> = plan
            .addrs
            .iter()
            .map(|a| (a.iface.clone(), a.addr))
            .collect();
        let mut gone = Vec::new();
        for (key, inst) in self.installed.iter_mut() {
            if planned.contains(key) || inst.stale {
                continue;
            }
            let Some(link) = view.link_by_name(&key.0) else {
                gone.push(key.clone());
                continue;
            };
            if deprecate(ctx, link.index, key, inst, now).await {
                gone.push(key.clone());
            }
        }
        for k in gone {
            self.installed.remove(&k);
        }
    }

    /// Unreachable aggregates for the delegations (RFC 7084 WPD-5): added
    /// (or put back), and removed with their delegation.
    async fn sync_unreachable(&mut self, ctx: &Ctx, view: &KernelView, plan: &Plan) {
        for p in &plan.unreachable {
            if !self.routes.contains(p) || !has_route(view, p) {
                if let Err(e) = ctx.netlink.add_route(&unreachable(*p), true).await {
                    warn!("cannot add unreachable {p}: {e}");
                }
            }
        }
        for p in self.routes.iter().filter(|p| !plan.unreachable.contains(p)) {
            match view.routes.iter().find(|r| {
                r.dst == *p && r.protocol == rtprot::V6ROUTER && r.kind == RouteKind::Unreachable
            }) {
                Some(r) => match ctx.netlink.del_route(r).await {
                    Ok(()) => info!("removed unreachable {p}: the delegation is gone"),
                    Err(e) => warn!("cannot remove unreachable {p}: {e} ({r:?})"),
                },
                None => debug!(
                    "unreachable {p} is already gone ({:?})",
                    view.routes
                        .iter()
                        .filter(|r| r.dst == *p)
                        .collect::<Vec<_>>()
                ),
            }
        }
        self.routes = plan.unreachable.clone();
    }

    /// Tell the other services what the ISP gave (sub-delegation, DNS).
    fn publish(&self, ctx: &Ctx) {
        let mut facts = UplinkFacts {
            delegations: self.delegations(),
            assigned: self
                .plan
                .addrs
                .iter()
                .map(|a| Ipv6Prefix::new(a.addr, a.prefix_len))
                .collect(),
            ula: self
                .ula
                .filter(|u| self.plan.addrs.iter().any(|a| a.from == *u)),
            ..Default::default()
        };
        for b in self.uplinks.iter().filter_map(|u| u.client.binding()) {
            for d in &b.dns {
                if !facts.dns.contains(d) {
                    facts.dns.push(*d);
                }
            }
            for s in &b.search {
                if !facts.search.contains(s) {
                    facts.search.push(s.clone());
                }
            }
        }
        ctx.uplink.send_if_modified(|cur| {
            if **cur == facts {
                false
            } else {
                let now = crate::service::unix_ms();
                for e in crate::events::prefix_events(cur, &facts, now) {
                    crate::events::publish(&ctx.events, e);
                }
                *cur = Arc::new(facts);
                true
            }
        });
    }

    /// Put back what someone removed by hand, or what a re-created link lost.
    async fn repair(&mut self, ctx: &Ctx, view: &KernelView) {
        let mut again = false;
        let wan = prefixes::wan_addrs(&self.wan_leases(), Instant::now());
        for a in self.plan.addrs.iter().chain(&wan) {
            if is_missing(view, a) {
                debug!("{}: {} is missing, putting it back", a.iface, a.addr);
                again = true;
            }
        }
        for p in &self.routes {
            if !has_route(view, p) {
                again = true;
            }
        }

        if again {
            self.apply(ctx, &ctx.config()).await;
        }
    }

    fn status(&self) -> UplinkStatus {
        let now = Instant::now();
        let left = |t: Instant| t.saturating_duration_since(now).as_secs();
        let mut assignments: Vec<Assignment> = self
            .installed
            .iter()
            .map(|((iface, addr), x)| Assignment {
                iface: iface.clone(),
                address: format!("{addr}/{}", x.prefix_len),
                from: x.from.to_string(),
                preferred_left: x.preferred_until.map(left),
                valid_left: x.valid_until.map(left),
                stale: x.stale,
            })
            .collect();
        assignments.sort_by(|a, b| (&a.iface, &a.address).cmp(&(&b.iface, &b.address)));
        UplinkStatus {
            uplinks: self.uplinks.iter().map(|u| uplink_info(u, now)).collect(),
            ula: self.ula.map(|u| u.to_string()),
            assignments,
        }
    }
}

/// Deprecate an address that is no longer planned (preferred lifetime 0,
/// what is left of the valid one), or remove it when nothing is left.
/// Returns whether it was removed.
async fn deprecate(
    ctx: &Ctx,
    index: u32,
    (iface, addr): &(String, Ipv6Addr),
    inst: &mut Installed,
    now: Instant,
) -> bool {
    let left = inst
        .valid_until
        .map(|v| v.saturating_duration_since(now))
        .unwrap_or(Duration::ZERO);
    if left < Duration::from_secs(1) {
        let _ = ctx.netlink.del_address(index, *addr, inst.prefix_len).await;
        info!(
            "{iface}: removed {addr}/{} ({} is gone)",
            inst.prefix_len, inst.from
        );
        return true;
    }
    let vl = u32::try_from(left.as_secs()).unwrap_or(u32::MAX - 1);
    info!(
        "{iface}: {addr}/{} deprecated ({} is gone), valid {vl}s more",
        inst.prefix_len, inst.from
    );
    if let Err(e) = ctx
        .netlink
        .set_address(index, *addr, inst.prefix_len, 0, vl)
        .await
    {
        warn!("{iface}: cannot deprecate {addr}: {e}");
    }
    inst.stale = true;
    inst.preferred_until = Some(now);
    false
}

/// One uplink as `show uplink` lists it.
fn uplink_info(u: &Uplink, now: Instant) -> UplinkInfo {
    let left = |t: Instant| t.saturating_duration_since(now).as_secs();
    let b = u.client.binding();
    let c = &u.client.counters;
    UplinkInfo {
        name: u.name.clone(),
        state: format!("{:?}", u.client.state()).to_lowercase(),
        server_duid: b.map(|b| b.server_id.to_hex()),
        server_addr: b.map(|b| b.server_addr.to_string()),
        prefixes: b.map(|b| leases(&b.prefixes, now)).unwrap_or_default(),
        addresses: b.map(|b| leases(&b.addresses, now)).unwrap_or_default(),
        t1_in: b.map(|b| left(b.t1_at)),
        t2_in: b.map(|b| left(b.t2_at)),
        next_event_in: u.client.next_timer().map(left),
        dns: b
            .map(|b| b.dns.iter().map(|d| d.to_string()).collect())
            .unwrap_or_default(),
        search: b.map(|b| b.search.clone()).unwrap_or_default(),
        sent: c.sent,
        received: c.received,
        dropped: c.dropped,
        reconfigures: c.reconfigures,
        reconfigures_refused: c.reconfigures_refused,
        last_status: u.client.last_status().map(String::from),
    }
}

/// Leases with the seconds left of their lifetimes.
fn leases<T: std::fmt::Display>(v: &[Lease<T>], now: Instant) -> Vec<LeaseInfo> {
    let left = |t: Instant| t.saturating_duration_since(now).as_secs();
    v.iter()
        .map(|l| LeaseInfo {
            prefix: l.value.to_string(),
            preferred_left: left(l.preferred_until),
            valid_left: left(l.valid_until),
        })
        .collect()
}

/// Open `u`'s client socket on its WAN and start the task that reads it.
fn open_client_socket(u: &mut Uplink, to: &mpsc::Sender<Datagram>) {
    match open_socket(&u.name) {
        Ok(s) => {
            let s = Arc::new(s);
            let reader = read_datagrams(s.clone(), u.name.clone(), to.clone());
            // In the service's span, so its lines name the service.
            u.reader = Some(tokio::spawn(reader.in_current_span()));
            u.socket = Some(s);
        }
        Err(e) => warn!("{}: cannot open the DHCPv6 client socket: {e}", u.name),
    }
}

/// Hand what `s` receives to the service, until the service is gone.
async fn read_datagrams(s: Arc<UdpSocket>, name: String, to: mpsc::Sender<Datagram>) {
    let mut buf = vec![0u8; 4096];
    loop {
        match s.recv_from(&mut buf).await {
            // Any source port: RFC 8415 §7.2 fixes only the ports we and
            // servers listen on, and WIDE dhcp6s answers from an ephemeral
            // one. The engine checks what the message is.
            Ok((len, std::net::SocketAddr::V6(src))) => {
                let d = (name.clone(), *src.ip(), buf[..len].to_vec());
                if to.send(d).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                debug!("{name}: DHCPv6 client socket: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

fn unreachable(p: Ipv6Prefix) -> RouteFact {
    RouteFact {
        dst: p,
        gateway: None,
        oif: None,
        protocol: rtprot::V6ROUTER,
        metric: 0,
        table: RT_TABLE_MAIN,
        kind: RouteKind::Unreachable,
    }
}

/// A planned address whose link is there without it (someone removed it,
/// or the link was re-created).
fn is_missing(view: &KernelView, a: &PlannedAddr) -> bool {
    view.link_by_name(&a.iface)
        .is_some_and(|l| !view.addrs_of(l.index).any(|x| x.addr == a.addr))
}

/// A default route in the main table out of `index`: the ISP's RA came.
fn has_default_via(view: &KernelView, index: u32) -> bool {
    view.default_routes().any(|r| r.oif == Some(index))
}

fn has_route(view: &KernelView, p: &Ipv6Prefix) -> bool {
    view.routes
        .iter()
        .any(|r| r.dst == *p && r.kind == RouteKind::Unreachable)
}

/// While forwarding is on, Linux ignores RAs unless accept_ra is 2: the WAN's
/// default route comes from the ISP's RA.
pub(crate) fn wan_accepts_ra(name: &str) {
    match v6netlink::sysctl::read(name, "accept_ra") {
        Ok(v) if v == "2" => {}
        Ok(_) => match v6netlink::sysctl::write(name, "accept_ra", "2") {
            Ok(()) => info!("{name}: accept_ra=2, so the ISP's RA still gives the default route while forwarding is on"),
            Err(e) => warn!("{name}: cannot set accept_ra=2: {e}"),
        },
        Err(e) => debug!("{name}: accept_ra: {e}"),
    }
}

fn open_socket(ifname: &str) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_only_v6(true)?;
    s.set_reuse_address(true)?;
    s.bind_device(Some(ifname.as_bytes()))?;
    s.set_nonblocking(true)?;
    s.bind(&SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, CLIENT_PORT, 0, 0).into())?;
    UdpSocket::from_std(s.into())
}

#[cfg(test)]
mod tests;
