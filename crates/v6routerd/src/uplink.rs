//! The uplink service: a DHCPv6-PD client per `[interface.uplink]` (the pure
//! `v6dhcp::client` engine on a UDP 546 socket bound to the WAN), and the
//! prefix manager that turns what the ISP delegated, plus the ULA, into LAN
//! addresses and unreachable aggregates in the kernel.
//!
//! Downstream protocols follow the kernel view, so renumbering needs nothing
//! special from them: RA's `::/64` templates see the new address (and the old
//! one deprecated), DHCPv6 pools relative to the /64 move, RIPng's connected
//! export changes.

use crate::prefixes::{self, Delegation, Plan};
use crate::service::unix_secs as wall;
use crate::service::{DelegatedPrefix, Query, ServiceCtx, UplinkFacts};
use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::{debug, info, warn};
use v6common::kernel::rtprot;
use v6common::{Ipv6Prefix, KernelView, RouteFact, RouteKind};
use v6config::Config;
use v6control::uplink::{Assignment, LeaseInfo, UplinkInfo, UplinkStatus};
use v6control::{ProtocolInfo, Request, Response};
use v6dhcp::client::{Binding, Client, ClientAction, ClientParams, StoredBinding};
use v6dhcp::wire::{Duid, ALL_DHCP_RELAY_AGENTS_AND_SERVERS, SERVER_PORT};

const CLIENT_PORT: u16 = 546;

/// One uplink interface and its client.
struct Uplink {
    name: String,
    client: Client,
    socket: Option<Arc<UdpSocket>>,
    ifindex: Option<u32>,
    /// The link was usable when we last looked.
    running: bool,
    reader: Option<tokio::task::JoinHandle<()>>,
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

struct Manager {
    state_dir: PathBuf,
    uplinks: Vec<Uplink>,
    ula: Option<Ipv6Prefix>,
    auto: BTreeMap<String, u32>,
    installed: HashMap<(String, Ipv6Addr), Installed>,
    routes: Vec<Ipv6Prefix>,
    plan: Plan,
    rx_tx: mpsc::Sender<(String, Ipv6Addr, Vec<u8>)>,
}

pub async fn run(mut ctx: ServiceCtx) {
    let (rx_tx, mut rx) = mpsc::channel::<(String, Ipv6Addr, Vec<u8>)>(64);
    let state_dir = ctx.state_dir.clone();
    let mut m = Manager {
        auto: read_json(&state_dir.join("assign.json")).unwrap_or_default(),
        state_dir,
        uplinks: Vec::new(),
        ula: None,
        installed: HashMap::new(),
        routes: Vec::new(),
        plan: Plan::default(),
        rx_tx,
    };
    let mut cfg = ctx.config();
    m.configure(&ctx, &cfg);
    m.follow_links(&ctx, &ctx.kernel()).await;
    m.apply(&ctx, &cfg).await;
    let mut shutdown = ctx.shutdown.clone();
    loop {
        let next = m.uplinks.iter().filter_map(|u| u.client.next_timer()).min();
        let sleep = tokio::time::sleep_until(
            next.map(tokio::time::Instant::from_std)
                .unwrap_or_else(far_future),
        );
        tokio::select! {
            Some((name, src, data)) = rx.recv() => {
                let now = Instant::now();
                if let Some(i) = m.uplinks.iter().position(|u| u.name == name) {
                    let acts = m.uplinks[i].client.handle(now, src, &data);
                    m.execute(&ctx, &cfg, i, acts).await;
                }
            }
            _ = sleep => {
                let now = Instant::now();
                for i in 0..m.uplinks.len() {
                    if m.uplinks[i].client.next_timer().is_some_and(|t| t <= now) {
                        let acts = m.uplinks[i].client.on_timer(now);
                        m.execute(&ctx, &cfg, i, acts).await;
                    }
                }
                // Stale LAN addresses run out by themselves in the kernel; drop our record.
                m.installed.retain(|_, x| x.valid_until.is_none_or(|v| v > now));
            }
            r = ctx.kernel.changed() => {
                if r.is_err() { return; }
                let view = ctx.kernel();
                m.follow_links(&ctx, &view).await;
                m.repair(&ctx, &view).await;
            }
            r = ctx.config.changed() => {
                if r.is_err() { return; }
                cfg = ctx.config();
                m.configure(&ctx, &cfg);
                m.follow_links(&ctx, &ctx.kernel()).await;
                m.apply(&ctx, &cfg).await;
            }
            Some(q) = ctx.queries.recv() => m.answer(&ctx, &cfg, q).await,
            _ = shutdown.changed() => {
                m.stop(&cfg).await;
                return;
            }
        }
    }
}

fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(86400)
}

fn read_json<T: serde::de::DeserializeOwned>(p: &Path) -> Option<T> {
    let text = std::fs::read_to_string(p).ok()?;
    match serde_json::from_str(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            warn!("ignoring unreadable {}: {e}", p.display());
            None
        }
    }
}

/// Write a file so that a crash leaves the old or the new one, never half.
fn write_atomic(p: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = p.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, p)?;
    if let Some(dir) = p.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// A stable IAID for an interface name (RFC 8415 §12: consistent across restarts).
fn iaid_of(name: &str) -> u32 {
    name.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

impl Manager {
    fn binding_file(&self, name: &str) -> PathBuf {
        self.state_dir.join(format!("uplink-{name}.json"))
    }

    /// Create or drop clients to match the configuration; load the ULA.
    fn configure(&mut self, ctx: &ServiceCtx, cfg: &Config) {
        self.ula = match cfg.router.ula.as_deref() {
            Some("auto") => Some(self.load_ula()),
            Some("off") | None => None,
            Some(s) => s.parse().ok(),
        };
        let wanted: Vec<&v6config::Interface> = cfg
            .interfaces
            .iter()
            .filter(|i| i.uplink.is_some())
            .collect();
        self.uplinks.retain(|u| {
            let keep = wanted.iter().any(|w| w.name == u.name);
            if !keep {
                if let Some(r) = &u.reader {
                    r.abort();
                }
            }
            keep
        });
        let view = ctx.kernel();
        for w in wanted {
            let Some(up) = &w.uplink else { continue };
            if self.uplinks.iter().any(|u| u.name == w.name) {
                continue;
            }
            let mac = view
                .link_by_name(&w.name)
                .and_then(|l| l.lladdr.clone())
                .filter(|m| m.len() == 6);
            // DUID-LL from the WAN's MAC (stable, needs no storage, as odhcp6c
            // does); DUID-EN from the name when there is no MAC yet.
            let duid = match mac {
                Some(m) => Duid::new_ll(1, &m),
                None => Duid::new_en(32473, w.name.as_bytes()),
            };
            let params = ClientParams {
                duid,
                iaid: iaid_of(&w.name),
                prefix_length: up.prefix_length,
                request_pd: true,
                request_address: up.request_address,
                // Offer Rapid Commit; a server configured for it answers the
                // Solicit with a Reply at once (RFC 8415 §18.2.1).
                rapid_commit: true,
                sol_max_rt: Duration::from_secs(u64::from(up.solicit_max_rt)),
            };
            let stored: Option<StoredBinding> = read_json(&self.binding_file(&w.name));
            let restored = stored.and_then(|s| Binding::restore(&s, Instant::now(), wall()));
            if let Some(b) = &restored {
                info!(
                    "{}: kept the delegation across the restart: {}",
                    w.name,
                    b.prefixes
                        .iter()
                        .map(|p| p.value.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let seed = u64::from(iaid_of(&w.name)) ^ wall() ^ u64::from(std::process::id());
            self.uplinks.push(Uplink {
                name: w.name.clone(),
                client: Client::new(params, seed, restored),
                socket: None,
                ifindex: None,
                running: false,
                reader: None,
            });
        }
    }

    fn load_ula(&self) -> Ipv6Prefix {
        let f = self.state_dir.join("ula");
        if let Some(p) = std::fs::read_to_string(&f)
            .ok()
            .and_then(|s| s.trim().parse::<Ipv6Prefix>().ok())
        {
            return p;
        }
        let mut rng = fastrand::Rng::new();
        let p = prefixes::new_ula(&mut rng);
        match write_atomic(&f, format!("{p}\n").as_bytes()) {
            Ok(()) => info!("made the ULA prefix {p} (kept in {})", f.display()),
            Err(e) => warn!("cannot keep the ULA prefix in {}: {e}", f.display()),
        }
        p
    }

    /// Start a client when its WAN becomes usable, stop it when it goes down.
    async fn follow_links(&mut self, ctx: &ServiceCtx, view: &KernelView) {
        let now = Instant::now();
        for i in 0..self.uplinks.len() {
            let name = self.uplinks[i].name.clone();
            let link = view.link_by_name(&name);
            let usable = link.is_some_and(|l| l.is_usable())
                && link.and_then(|l| view.link_local(l.index)).is_some();
            let index = link.map(|l| l.index);
            if index != self.uplinks[i].ifindex {
                // New or re-created link: a fresh socket bound to it.
                if let Some(r) = self.uplinks[i].reader.take() {
                    r.abort();
                }
                self.uplinks[i].socket = None;
                self.uplinks[i].ifindex = index;
            }
            if usable && self.uplinks[i].socket.is_none() {
                wan_accepts_ra(&name);
                match open_socket(&name) {
                    Ok(s) => {
                        let s = Arc::new(s);
                        let tx = self.rx_tx.clone();
                        let rs = s.clone();
                        let n = name.clone();
                        self.uplinks[i].reader = Some(tokio::spawn(async move {
                            let mut buf = vec![0u8; 4096];
                            loop {
                                match rs.recv_from(&mut buf).await {
                                    // Any source port: RFC 8415 §7.2 fixes only
                                    // the ports we and servers listen on, and
                                    // WIDE dhcp6s answers from an ephemeral one.
                                    // The engine checks what the message is.
                                    Ok((len, std::net::SocketAddr::V6(src))) => {
                                        if tx
                                            .send((n.clone(), *src.ip(), buf[..len].to_vec()))
                                            .await
                                            .is_err()
                                        {
                                            return;
                                        }
                                    }
                                    Ok(_) => {}
                                    Err(e) => {
                                        debug!("{n}: DHCPv6 client socket: {e}");
                                        tokio::time::sleep(Duration::from_millis(100)).await;
                                    }
                                }
                            }
                        }));
                        self.uplinks[i].socket = Some(s);
                    }
                    Err(e) => warn!("{name}: cannot open the DHCPv6 client socket: {e}"),
                }
            }
            if usable && !self.uplinks[i].running {
                info!("{name}: link up, asking for a delegated prefix");
                self.uplinks[i].running = true;
                let acts = self.uplinks[i].client.start(now);
                self.execute(ctx, &ctx.config(), i, acts).await;
            } else if !usable && self.uplinks[i].running {
                // Keep the prefix until its lifetimes run out: a short flap must
                // not renumber the home.
                info!("{name}: link down, keeping the delegation until it expires");
                self.uplinks[i].running = false;
                self.uplinks[i].client.stop();
            }
        }
    }

    async fn execute(&mut self, ctx: &ServiceCtx, cfg: &Config, i: usize, acts: Vec<ClientAction>) {
        let mut changed = false;
        for a in acts {
            match a {
                ClientAction::Send(bytes) => {
                    let u = &self.uplinks[i];
                    if let (Some(s), Some(idx)) = (&u.socket, u.ifindex) {
                        let dst = SocketAddrV6::new(
                            ALL_DHCP_RELAY_AGENTS_AND_SERVERS,
                            SERVER_PORT,
                            0,
                            idx,
                        );
                        if let Err(e) = s.send_to(&bytes, dst).await {
                            debug!("{}: send: {e}", u.name);
                        }
                    }
                }
                ClientAction::BindingChanged => changed = true,
                ClientAction::Log(l) => info!("{}: {l}", self.uplinks[i].name),
            }
        }
        if changed {
            let u = &self.uplinks[i];
            let f = self.binding_file(&u.name);
            match u.client.binding() {
                Some(b) => {
                    let stored = b.store(Instant::now(), wall());
                    if let Err(e) = serde_json::to_vec_pretty(&stored)
                        .map_err(std::io::Error::other)
                        .and_then(|d| write_atomic(&f, &d))
                    {
                        warn!(
                            "{}: cannot keep the binding in {}: {e}",
                            u.name,
                            f.display()
                        );
                    }
                }
                None => {
                    let _ = std::fs::remove_file(&f);
                }
            }
            self.apply(ctx, cfg).await;
        }
    }

    fn delegations(&self) -> Vec<Delegation> {
        self.uplinks
            .iter()
            .flat_map(|u| {
                u.client.binding().into_iter().flat_map(move |b| {
                    b.prefixes.iter().map(move |p| Delegation {
                        uplink: u.name.clone(),
                        prefix: p.value,
                        preferred_until: p.preferred_until,
                        valid_until: p.valid_until,
                    })
                })
            })
            .collect()
    }

    /// Re-plan and bring the kernel in line: new addresses, refreshed
    /// lifetimes, stale ones deprecated, aggregates.
    async fn apply(&mut self, ctx: &ServiceCtx, cfg: &Config) {
        let now = Instant::now();
        let plan = prefixes::plan(cfg, &self.delegations(), self.ula, &self.auto, now);
        for p in &plan.problems {
            warn!("{p}");
        }
        if plan.auto_subnets != self.auto {
            self.auto = plan.auto_subnets.clone();
            if let Ok(d) = serde_json::to_vec_pretty(&self.auto) {
                let _ = write_atomic(&self.state_dir.join("assign.json"), &d);
            }
        }
        let view = ctx.kernel();
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
        // What is no longer planned is deprecated and left to run out (RFC 9096 §3).
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
            let left = inst
                .valid_until
                .map(|v| v.saturating_duration_since(now))
                .unwrap_or(Duration::ZERO);
            let Some(link) = view.link_by_name(&key.0) else {
                gone.push(key.clone());
                continue;
            };
            if left < Duration::from_secs(1) {
                let _ = ctx
                    .netlink
                    .del_address(link.index, key.1, inst.prefix_len)
                    .await;
                info!(
                    "{}: removed {}/{} ({} is gone)",
                    key.0, key.1, inst.prefix_len, inst.from
                );
                gone.push(key.clone());
            } else {
                let vl = u32::try_from(left.as_secs()).unwrap_or(u32::MAX - 1);
                info!(
                    "{}: {}/{} deprecated ({} is gone), valid {vl}s more",
                    key.0, key.1, inst.prefix_len, inst.from
                );
                if let Err(e) = ctx
                    .netlink
                    .set_address(link.index, key.1, inst.prefix_len, 0, vl)
                    .await
                {
                    warn!("{}: cannot deprecate {}: {e}", key.0, key.1);
                }
                inst.stale = true;
                inst.preferred_until = Some(now);
            }
        }
        for k in gone {
            self.installed.remove(&k);
        }
        // Unreachable aggregates (RFC 7084 WPD-5).
        for p in &plan.unreachable {
            if !self.routes.contains(p) || !has_route(&view, p) {
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
        self.plan = plan;
        self.publish(ctx);
        ctx.publish_protocol(Some(self.protocol_row()));
    }

    /// Tell the other services what the ISP gave (sub-delegation, DNS).
    fn publish(&self, ctx: &ServiceCtx) {
        let mut facts = UplinkFacts {
            delegations: self
                .delegations()
                .into_iter()
                .map(|d| DelegatedPrefix {
                    uplink: d.uplink,
                    prefix: d.prefix,
                    preferred_until: d.preferred_until,
                    valid_until: d.valid_until,
                })
                .collect(),
            assigned: self
                .plan
                .addrs
                .iter()
                .map(|a| Ipv6Prefix::new(a.addr, a.prefix_len))
                .collect(),
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
                *cur = Arc::new(facts);
                true
            }
        });
    }

    /// Put back what someone removed by hand, or what a re-created link lost.
    async fn repair(&mut self, ctx: &ServiceCtx, view: &KernelView) {
        let mut again = false;
        for a in &self.plan.addrs {
            let Some(link) = view.link_by_name(&a.iface) else {
                continue;
            };
            if !view.addrs_of(link.index).any(|x| x.addr == a.addr) {
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
            let cfg = ctx.config();
            self.apply(ctx, &cfg).await;
        }
    }

    fn protocol_row(&self) -> ProtocolInfo {
        let n = self.delegations().len();
        ProtocolInfo {
            name: "uplink".into(),
            proto: "DHCPv6-PD".into(),
            table: "---".into(),
            state: if self.uplinks.is_empty() {
                "down".into()
            } else {
                "up".into()
            },
            since: String::new(),
            info: format!("{n} delegated prefix{}", if n == 1 { "" } else { "es" }),
            since_ms: None,
        }
    }

    fn status(&self) -> UplinkStatus {
        let now = Instant::now();
        let left = |t: Instant| t.saturating_duration_since(now).as_secs();
        UplinkStatus {
            uplinks: self
                .uplinks
                .iter()
                .map(|u| {
                    let b = u.client.binding();
                    let c = &u.client.counters;
                    UplinkInfo {
                        name: u.name.clone(),
                        state: format!("{:?}", u.client.state()).to_lowercase(),
                        server_duid: b.map(|b| b.server_id.to_hex()),
                        server_addr: b.map(|b| b.server_addr.to_string()),
                        prefixes: b
                            .map(|b| {
                                b.prefixes
                                    .iter()
                                    .map(|p| LeaseInfo {
                                        prefix: p.value.to_string(),
                                        preferred_left: left(p.preferred_until),
                                        valid_left: left(p.valid_until),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        addresses: b
                            .map(|b| {
                                b.addresses
                                    .iter()
                                    .map(|a| LeaseInfo {
                                        prefix: a.value.to_string(),
                                        preferred_left: left(a.preferred_until),
                                        valid_left: left(a.valid_until),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
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
                        last_status: u.client.last_status().map(String::from),
                    }
                })
                .collect(),
            ula: self.ula.map(|u| u.to_string()),
            assignments: {
                let mut v: Vec<Assignment> = self
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
                v.sort_by(|a, b| (&a.iface, &a.address).cmp(&(&b.iface, &b.address)));
                v
            },
        }
    }

    async fn answer(&mut self, ctx: &ServiceCtx, cfg: &Config, q: Query) {
        let now = Instant::now();
        let resp = match q.request {
            Request::ShowUplink => Response::ok(self.status()),
            Request::UplinkRenew | Request::UplinkRelease if self.uplinks.is_empty() => {
                Response::error("no uplink is configured")
            }
            Request::UplinkRenew => {
                for i in 0..self.uplinks.len() {
                    let acts = self.uplinks[i].client.renew_now(now);
                    self.execute(ctx, cfg, i, acts).await;
                }
                Response::ok("renewing")
            }
            Request::UplinkRelease => {
                for i in 0..self.uplinks.len() {
                    let acts = self.uplinks[i].client.release(now);
                    self.execute(ctx, cfg, i, acts).await;
                }
                Response::ok("released")
            }
            _ => {
                ServiceCtx::unknown(q);
                return;
            }
        };
        let _ = q.reply.send(resp);
    }

    /// On stop: Release only when configured (a restart must keep the prefix);
    /// LAN addresses stay, as their lifetimes still hold.
    async fn stop(&mut self, cfg: &Config) {
        let now = Instant::now();
        for i in 0..self.uplinks.len() {
            let release = cfg
                .interface(&self.uplinks[i].name)
                .and_then(|x| x.uplink.as_ref())
                .is_some_and(|u| u.release_on_stop);
            if release && self.uplinks[i].client.binding().is_some() {
                info!(
                    "{}: releasing the delegation (release_on_stop)",
                    self.uplinks[i].name
                );
                let acts = self.uplinks[i].client.release(now);
                let u = &self.uplinks[i];
                for a in acts {
                    if let (ClientAction::Send(bytes), Some(s), Some(idx)) =
                        (a, &u.socket, u.ifindex)
                    {
                        let _ = s
                            .send_to(
                                &bytes,
                                SocketAddrV6::new(
                                    ALL_DHCP_RELAY_AGENTS_AND_SERVERS,
                                    SERVER_PORT,
                                    0,
                                    idx,
                                ),
                            )
                            .await;
                    }
                }
                let _ = std::fs::remove_file(self.binding_file(&self.uplinks[i].name));
            }
            if let Some(r) = &self.uplinks[i].reader {
                r.abort();
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
        table: 254,
        kind: RouteKind::Unreachable,
    }
}

fn has_route(view: &KernelView, p: &Ipv6Prefix) -> bool {
    view.routes
        .iter()
        .any(|r| r.dst == *p && r.kind == RouteKind::Unreachable)
}

/// While forwarding is on, Linux ignores RAs unless accept_ra is 2: the WAN's
/// default route comes from the ISP's RA.
fn wan_accepts_ra(name: &str) {
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
mod tests {
    use super::iaid_of;

    #[test]
    fn iaids_are_stable_and_differ() {
        assert_eq!(iaid_of("wan0"), iaid_of("wan0"));
        assert_ne!(iaid_of("wan0"), iaid_of("wan1"));
    }
}
