//! The RA service: one `v6ra::engine::Advertiser` per interface with an
//! `[interface.ra]` table, one raw ICMPv6 socket for all of them.
//!
//! Thin glue: it turns the configuration into engine parameters, feeds the
//! engines the kernel facts of their link, received RS/RA and timer ticks,
//! and executes what they return (send, log, persist the prefix history in
//! `state_dir/ra-IFNAME.json`). A reload hands identical parameters to an
//! engine as a no-op, so hosts see nothing; an interface whose RA table goes
//! away gets its final RA (RFC 4861 §6.2.5) as on shutdown.
//!
//! Relay mode (`relay = { from }`) lives here too: the uplink's RAs become
//! the relaying LAN's parameters (`v6ra::relay`), and the ND proxy
//! (`v6ra::ndproxy`) hears NS/NA on both links through packet sockets.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tracing::{debug, info, warn};
use v6common::KernelView;
use v6config::{Config, Preference};
use v6control::ra::{RaCounters, RaInterfaceStatus, RaPrefixStatus, RaRouteStatus};
use v6control::{Request, Response};
use v6ra::engine::{
    Action, Advertiser, HomePrefix, LinkInput, LogLevel, Params, PrefixHistory, PrefixParams,
    RouteParams,
};
use v6ra::io::{RaSocket, ALL_NODES, ALL_ROUTERS};
use v6ra::ndproxy::{self, Ndp, Proxy};
use v6ra::relay::Upstream;
use v6ra::solicit::{router_solicitation, Solicitor, MAX_RTR_SOLICITATION_DELAY};
use v6ra::wire::{self, RouterDiscovery, RouterPreference};

use crate::dhcp_relay::{DhcpRelay, RelayEvent};
use crate::service::{first, when_some, Changed, Ctx, Either, Row, Service, UplinkFacts};

/// Retry opening the socket this often when it failed (no CAP_NET_RAW).
const SOCKET_RETRY: Duration = Duration::from_secs(10);

fn preference(p: &Preference) -> RouterPreference {
    match p {
        Preference::High => RouterPreference::High,
        Preference::Medium => RouterPreference::Medium,
        Preference::Low => RouterPreference::Low,
    }
}

/// `[interface.ra]` -> engine parameters, with radvd's defaults for what is
/// absent. Entries that cannot be used (an RDNSS that is not an address) are
/// reported in the second value.
/// `own` is the router's address for `dns = ["self"]`.
pub fn params_from(
    ra: &v6config::Ra,
    uplink_dns: &[Ipv6Addr],
    own: Option<Ipv6Addr>,
) -> (Params, Vec<String>) {
    let max = Duration::from_secs(u64::from(ra.max_interval));
    let mut p = Params::with_max_interval(max);
    let mut problems = Vec::new();
    let three_max = ra.max_interval.saturating_mul(3);
    p.managed = ra.managed;
    p.other_config = ra.other_config;
    p.mtu = ra.mtu.filter(|m| *m != 0);
    if let Some(min) = ra.min_interval {
        p.min_interval = Duration::from_secs(u64::from(min)).min(max);
    }
    if let Some(l) = ra.router_lifetime {
        p.router_lifetime = u16::try_from(l)
            .unwrap_or(u16::MAX)
            .min(v6ra::engine::MAX_ROUTER_LIFETIME);
    }
    p.require_default_route = ra.require_default_route;
    p.home_routes = ra.home_routes;
    p.preference = preference(&ra.router_preference);
    p.cur_hop_limit = ra.hop_limit;
    p.reachable_time = ra.reachable_time;
    p.retrans_timer = ra.retrans_timer;
    p.source_lladdr = ra.source_lladdr;
    p.unicast_solicited = ra.unicast_solicited;
    p.decrement_lifetimes = ra.decrement_lifetimes;
    p.prefixes = ra
        .prefixes
        .iter()
        .map(|x| PrefixParams {
            prefix: x.prefix,
            on_link: x.on_link,
            autonomous: x.autonomous,
            valid_lifetime: x.valid_lifetime,
            preferred_lifetime: x.preferred_lifetime,
        })
        .collect();
    p.routes = ra
        .routes
        .iter()
        .map(|r| RouteParams {
            prefix: r.prefix,
            preference: preference(&r.preference),
            lifetime: r.lifetime.unwrap_or(three_max),
        })
        .collect();
    p.rdnss = crate::service::resolve_dns(&ra.dns, uplink_dns, own);
    problems.extend(
        ra.dns
            .iter()
            .filter(|d| !matches!(d.as_str(), "uplink" | "self") && d.parse::<Ipv6Addr>().is_err())
            .map(|d| format!("dns entry `{d}` is not an IPv6 address; not advertised")),
    );
    p.dnssl = ra.search.clone();
    p.dns_lifetime = ra.dns_lifetime.unwrap_or(three_max);
    // RFC 8781 §4.1: lifetime 3 * MaxRtrAdvInterval, at most 65528 s.
    p.pref64 = ra.pref64.map(|x| {
        (
            x,
            u16::try_from(three_max)
                .unwrap_or(wire::Pref64::MAX_LIFETIME)
                .min(wire::Pref64::MAX_LIFETIME),
        )
    });
    p.captive_portal = ra.captive_portal.clone();
    (p, problems)
}

/// The prefixes the home's LANs are carved from (RFC 7084 L-3): the ULA
/// while a LAN uses it, and every delegated prefix, with when it ends.
fn home_prefixes(uplink: &UplinkFacts) -> Vec<HomePrefix> {
    let ula = uplink.ula.map(|prefix| HomePrefix {
        prefix,
        valid_until: None,
    });
    let delegated = uplink.delegations.iter().map(|d| HomePrefix {
        prefix: d.value,
        valid_until: Some(d.valid_until),
    });
    ula.into_iter().chain(delegated).collect()
}

fn history_path(dir: &Path, ifname: &str) -> PathBuf {
    dir.join(format!("ra-{ifname}.json"))
}

fn load_history(path: &Path) -> Option<PrefixHistory> {
    crate::state::load_json(path, "prefix history")
}

fn save_history(path: &Path, h: &PrefixHistory) {
    crate::state::save_json(path, h, "prefix history");
}

/// Datagrams handled between two yields to the runtime (see `run`).
const FAIR_BATCH: u64 = 16;

struct Iface {
    engine: Advertiser,
    /// Interface index the socket joined ff02::2 on.
    joined: Option<u32>,
    history: PathBuf,
    problems: Vec<String>,
    /// Invalid messages received, by `ParseError::reason`.
    invalid: BTreeMap<&'static str, u64>,
}

pub struct Ra {
    state_dir: PathBuf,
    ifaces: BTreeMap<String, Iface>,
    socket: Option<Arc<RaSocket>>,
    socket_error: Option<String>,
    last_socket_try: Option<Instant>,
    /// Where datagrams are received into.
    buf: Vec<u8>,
    /// Datagrams received, for yielding to the runtime now and then.
    received: u64,
    /// RA relay (`relay = { from = ... }`): what each relayed uplink's
    /// router advertises, by uplink name.
    upstream: BTreeMap<String, Upstream>,
    /// Router Solicitations still to send on relayed uplinks that have not
    /// heard their router yet (RFC 4861 §6.3.7, as the uplink service's
    /// WANs do).
    solicits: BTreeMap<String, Solicitor>,
    /// ND proxy of the (first) relaying LAN (RFC 4389).
    nd: Option<NdRelay>,
    /// DHCPv6 relay agent of the same LAN (RFC 8415 §19).
    dhcp: DhcpRelay,
}

/// ND proxy between a relaying LAN and its uplink: the pure `Proxy` and
/// the two packet sockets that hear every NS/NA of either link.
struct NdRelay {
    lan: String,
    wan: String,
    lan_idx: u32,
    wan_idx: u32,
    lan_sock: v6ra::io::NdSocket,
    wan_sock: v6ra::io::NdSocket,
    lan_buf: Vec<u8>,
    wan_buf: Vec<u8>,
    proxy: Proxy,
    /// Packets dropped, by `ndproxy::Drop::reason`.
    drops: BTreeMap<&'static str, u64>,
}

impl NdRelay {
    /// The next packet heard on either link: which one, and its length in
    /// that link's buffer. Cancel-safe.
    async fn next(&mut self) -> (bool, std::io::Result<usize>) {
        let wan = self.wan_sock.recv(&mut self.wan_buf);
        let lan = self.lan_sock.recv(&mut self.lan_buf);
        match first(wan, lan).await {
            Either::A(len) => (true, len),
            Either::B(len) => (false, len),
        }
    }
}

pub enum Event {
    Ra(std::io::Result<v6ra::io::Received>),
    /// A packet in `NdRelay::wan_buf` (wan) or `lan_buf`.
    Nd {
        wan: bool,
        len: std::io::Result<usize>,
    },
    Dhcp(RelayEvent),
}

/// The interfaces that advertise, with their RA settings: those with an
/// `[interface.ra]` section, and relaying LANs (defaults) without one.
fn advertising<'a>(
    cfg: &'a Config,
    relays: &BTreeMap<&str, &str>,
    default_ra: &'a v6config::Ra,
) -> BTreeMap<&'a str, &'a v6config::Ra> {
    cfg.interfaces
        .iter()
        .filter_map(|i| match (&i.ra, relays.contains_key(i.name.as_str())) {
            (Some(r), _) => Some((i.name.as_str(), r)),
            (None, true) => Some((i.name.as_str(), default_ra)),
            (None, false) => None,
        })
        .collect()
}

/// The engine's counters as `show ra` gives them.
fn counters(c: &v6ra::engine::Counters, invalid: &BTreeMap<&'static str, u64>) -> RaCounters {
    RaCounters {
        ra_sent_multicast: c.ra_sent_multicast,
        ra_sent_unicast: c.ra_sent_unicast,
        ra_sent_solicited: c.ra_sent_solicited,
        ra_sent_final: c.ra_sent_final,
        rs_received: c.rs_received,
        ra_received: c.ra_received,
        ra_inconsistent: c.ra_inconsistent,
        rx_invalid: c.rx_invalid,
        tx_errors: c.tx_errors,
        rx_invalid_by_reason: by_count(invalid),
    }
}

/// One advertised (or deprecated) prefix as `show ra` gives it.
fn prefix_status(x: &v6ra::engine::PrefixStatus) -> RaPrefixStatus {
    RaPrefixStatus {
        prefix: x.prefix.to_string(),
        on_link: x.on_link,
        autonomous: x.autonomous,
        valid_lifetime: x.valid_lifetime,
        preferred_lifetime: x.preferred_lifetime,
        state: if x.stale { "deprecated" } else { "advertised" }.into(),
        source: match x.source {
            v6ra::engine::PrefixSource::Config => "config",
            v6ra::engine::PrefixSource::Interface => "interface",
            v6ra::engine::PrefixSource::History => "history",
        }
        .into(),
    }
}

fn host_route(a: Ipv6Addr, oif: u32) -> v6common::RouteFact {
    v6common::RouteFact {
        dst: v6common::Ipv6Prefix::new(a, 128),
        gateway: None,
        oif: Some(oif),
        protocol: v6common::kernel::rtprot::V6ROUTER,
        metric: 1024,
        table: v6common::kernel::RT_TABLE_MAIN,
        kind: v6common::RouteKind::Unicast,
    }
}

impl Ra {
    /// Bring the engines in line with the configuration and the kernel.
    /// Open, move or close the ND proxy for relaying LAN `pair` (lan, wan);
    /// its prefixes are the uplink's global /64s, its own addresses the
    /// uplink's.
    async fn sync_nd(
        &mut self,
        k: &v6netlink::Kernel,
        view: &KernelView,
        pair: Option<(&str, &str)>,
    ) {
        let idx = |n: &str| view.link_by_name(n).map(|l| l.index);
        let want = pair.and_then(|(l, w)| Some((l, w, idx(l)?, idx(w)?)));
        let same = match (&self.nd, want) {
            (Some(nd), Some((l, w, li, wi))) => {
                nd.lan == l && nd.wan == w && nd.lan_idx == li && nd.wan_idx == wi
            }
            _ => false,
        };
        if !same {
            if let Some(nd) = self.nd.take() {
                for a in nd.proxy.hosts() {
                    let _ = k.del_route(&host_route(*a, nd.lan_idx)).await;
                }
            }
            if let Some((l, w, li, wi)) = want {
                match (v6ra::io::NdSocket::open(li), v6ra::io::NdSocket::open(wi)) {
                    (Ok(lan_sock), Ok(wan_sock)) => {
                        info!("{l}: ND proxy towards {w} (RFC 4389)");
                        self.nd = Some(NdRelay {
                            lan: l.to_string(),
                            wan: w.to_string(),
                            lan_idx: li,
                            wan_idx: wi,
                            lan_sock,
                            wan_sock,
                            lan_buf: vec![0u8; 2048],
                            wan_buf: vec![0u8; 2048],
                            proxy: Proxy::default(),
                            drops: BTreeMap::new(),
                        });
                    }
                    (Err(e), _) | (_, Err(e)) => {
                        warn!("{l}: cannot open the ND proxy's packet sockets: {e}")
                    }
                }
            }
        }
        if let Some(nd) = &mut self.nd {
            // What the uplink's RA gives now (not the WAN's own addresses:
            // those are tentative for a while after the RA, and hosts do
            // their DAD meanwhile).
            nd.proxy.prefixes = self
                .upstream
                .get(&nd.wan)
                .map(|u| u.prefixes(Instant::now()))
                .unwrap_or_default();
            nd.proxy.own = view.globals(nd.wan_idx).map(|a| a.addr).collect();
        }
    }

    /// Carry out the ND proxy's actions.
    async fn execute_nd(
        &mut self,
        k: &v6netlink::Kernel,
        view: &KernelView,
        acts: Vec<ndproxy::Action>,
    ) {
        let (Some(nd), Some(sock)) = (&self.nd, &self.socket) else {
            return;
        };
        let mac = |i: u32| view.links.get(&i).and_then(|l| l.lladdr.clone());
        for a in acts {
            let (idx, dst, kind, target, solicited) = match a {
                ndproxy::Action::AddRoute(h) => {
                    debug!("{}: LAN host {h}", nd.lan);
                    if let Err(e) = k.add_route(&host_route(h, nd.lan_idx), true).await {
                        warn!("{}: route to {h}: {e}", nd.lan);
                    }
                    continue;
                }
                ndproxy::Action::DelRoute(h) => {
                    debug!("{}: LAN host {h} gone", nd.lan);
                    let _ = k.del_route(&host_route(h, nd.lan_idx)).await;
                    continue;
                }
                // RFC 4389 §4.1.2 / RFC 4861 §7.2.8: a proxy's NA has
                // Override 0 and our own link-layer address.
                ndproxy::Action::AnswerWan {
                    dst,
                    target,
                    solicited,
                } => (nd.wan_idx, dst, ndproxy::NA, target, solicited),
                ndproxy::Action::AnswerLan { dst, target } => {
                    (nd.lan_idx, dst, ndproxy::NA, target, true)
                }
                ndproxy::Action::ProbeLan { target } => (
                    nd.lan_idx,
                    ndproxy::solicited_node(target),
                    ndproxy::NS,
                    target,
                    false,
                ),
            };
            let Some(src) = view.link_local(idx) else {
                continue;
            };
            let m = Ndp {
                kind,
                src,
                dst,
                target,
                router: false,
                solicited,
                override_: false,
                lladdr: mac(idx),
            };
            if let Err(e) = sock.send(&m.emit(), dst, idx, src).await {
                debug!("ND proxy: sending to {dst}: {e}");
            }
        }
    }

    /// Bring every advertising interface, the relays and the ND proxy in
    /// line with the configuration, the kernel view and the uplink's facts.
    async fn sync(
        &mut self,
        ctx_netlink: &v6netlink::Kernel,
        cfg: &Config,
        view: &KernelView,
        uplink: &UplinkFacts,
    ) {
        let now = Instant::now();
        let relays = crate::service::relaying(cfg, uplink);
        let default_ra = v6config::Ra::default();
        let wanted = advertising(cfg, &relays, &default_ra);
        self.follow_upstreams(&relays, now);
        self.sync_relay(ctx_netlink, cfg, view, &relays, now).await;
        self.stop_unwanted(&wanted, view, now).await;
        if !wanted.is_empty() {
            self.ensure_socket(now);
        }
        let home = home_prefixes(uplink);
        for (name, ra) in wanted {
            let link = view.link_by_name(name).map(|l| l.index);
            let own = link.and_then(|i| view.own_dns_address(i));
            let (mut params, problems) = params_from(ra, &uplink.dns, own);
            if let Some(up) = relays.get(name).and_then(|f| self.upstream.get(*f)) {
                // Nothing heard yet: router lifetime 0 and no prefixes.
                params = up.params(now, params);
            }
            let input = LinkInput {
                home_prefixes: home.clone(),
                ..link.map_or_else(LinkInput::default, |idx| LinkInput::from_view(view, idx))
            };
            let (mut iface, acts) = match self.ifaces.remove(name) {
                Some(mut i) => {
                    let mut acts = i.engine.update_params(now, params);
                    acts.extend(i.engine.update_link(now, input));
                    (i, acts)
                }
                None => self.new_iface(name, now, params, input),
            };
            if problems != iface.problems {
                for p in &problems {
                    warn!("{name}: {p}");
                }
                iface.problems = problems;
            }
            self.join_all_routers(name, &mut iface, link);
            self.execute(name, &mut iface, view, acts).await;
            self.ifaces.insert(name.to_string(), iface);
        }
    }

    /// The relayed uplinks: their RAs must still reach the kernel while
    /// forwarding is on (the uplink's default route and the /64 route), and
    /// a newly relayed one solicits the ISP's RA (RFC 4861 §6.3.7).
    fn follow_upstreams(&mut self, relays: &BTreeMap<&str, &str>, now: Instant) {
        self.upstream.retain(|n, _| relays.values().any(|f| f == n));
        self.solicits.retain(|n, _| self.upstream.contains_key(n));
        for from in relays.values() {
            if !self.upstream.contains_key(*from) {
                crate::uplink::wan_accepts_ra(from);
                self.upstream.insert(from.to_string(), Upstream::default());
                let delay = MAX_RTR_SOLICITATION_DELAY.mul_f64(fastrand::f64());
                self.solicits
                    .insert(from.to_string(), Solicitor::new(now, delay));
            }
        }
    }

    /// The ND proxy and the DHCPv6 relay follow the first relaying LAN.
    async fn sync_relay(
        &mut self,
        k: &v6netlink::Kernel,
        cfg: &Config,
        view: &KernelView,
        relays: &BTreeMap<&str, &str>,
        now: Instant,
    ) {
        let first = relays.iter().next().map(|(l, w)| (*l, *w));
        self.sync_nd(k, view, first).await;
        let relayed = first
            .and_then(|(_, w)| self.upstream.get(w))
            .map(|u| u.prefixes(now))
            .unwrap_or_default();
        let servers = first
            .and_then(|(l, _)| cfg.interface(l)?.relay.as_ref())
            .map(|r| r.dhcpv6_servers.as_slice())
            .unwrap_or_default();
        self.dhcp.sync(view, first, servers, &relayed);
    }

    /// RA turned off on an interface: final RA (RFC 4861 §6.2.5).
    async fn stop_unwanted(
        &mut self,
        wanted: &BTreeMap<&str, &v6config::Ra>,
        view: &KernelView,
        now: Instant,
    ) {
        let gone: Vec<String> = self
            .ifaces
            .keys()
            .filter(|n| !wanted.contains_key(n.as_str()))
            .cloned()
            .collect();
        for name in gone {
            if let Some(mut i) = self.ifaces.remove(&name) {
                info!("{name}: no longer advertising");
                let acts = i.engine.shutdown(now);
                self.execute(&name, &mut i, view, acts).await;
                if let (Some(s), Some(idx)) = (&self.socket, i.joined) {
                    let _ = s.leave(idx);
                }
            }
        }
    }

    /// A newly advertising interface: its engine, given the prefixes it
    /// advertised before a restart (RFC 9096 deprecation of those now gone).
    fn new_iface(
        &self,
        name: &str,
        now: Instant,
        params: Params,
        input: LinkInput,
    ) -> (Iface, Vec<Action>) {
        info!("{name}: advertising");
        let mut engine = Advertiser::new(now, params, fastrand::u64(..));
        let mut acts = engine.update_link(now, input);
        let history = history_path(&self.state_dir, name);
        if let Some(h) = load_history(&history) {
            acts.extend(engine.import_history(now, SystemTime::now(), &h));
        }
        let iface = Iface {
            engine,
            joined: None,
            history,
            problems: Vec::new(),
            invalid: BTreeMap::new(),
        };
        (iface, acts)
    }

    /// Join ff02::2 on the (possibly new) interface index, so RSs reach us.
    fn join_all_routers(&self, name: &str, iface: &mut Iface, link: Option<u32>) {
        let Some(s) = &self.socket else { return };
        if iface.joined == link {
            return;
        }
        if let Some(old) = iface.joined.take() {
            let _ = s.leave(old);
        }
        if let Some(idx) = link {
            match s.join(idx) {
                Ok(()) => iface.joined = Some(idx),
                Err(e) => debug!("{name}: cannot join ff02::2 yet: {e}"),
            }
        }
    }

    fn ensure_socket(&mut self, now: Instant) {
        if self.socket.is_some() || self.last_socket_try.is_some_and(|t| now < t + SOCKET_RETRY) {
            return;
        }
        self.last_socket_try = Some(now);
        match RaSocket::open() {
            Ok(s) => {
                self.socket = Some(Arc::new(s));
                self.socket_error = None;
                for i in self.ifaces.values_mut() {
                    i.joined = None;
                }
            }
            Err(e) => {
                let msg = format!("cannot open the raw ICMPv6 socket (needs CAP_NET_RAW): {e}");
                if self.socket_error.as_deref() != Some(msg.as_str()) {
                    warn!("{msg}");
                }
                self.socket_error = Some(msg);
            }
        }
    }

    async fn execute(&self, name: &str, i: &mut Iface, view: &KernelView, acts: Vec<Action>) {
        let link = view.link_by_name(name).map(|l| l.index);
        for a in acts {
            let (dst, bytes) = match a {
                Action::SendMulticast(b) => (ALL_NODES, b),
                Action::SendUnicast { dst, bytes } => (dst, bytes),
                Action::Log {
                    level: LogLevel::Warn,
                    message,
                } => {
                    warn!("{name}: {message}");
                    continue;
                }
                Action::Log {
                    level: LogLevel::Info,
                    message,
                } => {
                    info!("{name}: {message}");
                    continue;
                }
                Action::PersistHistory => {
                    save_history(
                        &i.history,
                        &i.engine.export_history(Instant::now(), SystemTime::now()),
                    );
                    continue;
                }
            };
            let (Some(sock), Some(idx)) = (&self.socket, link) else {
                i.engine.counters_mut().tx_errors += 1;
                continue;
            };
            let Some(src) = view.link_local(idx) else {
                i.engine.counters_mut().tx_errors += 1;
                debug!("{name}: no usable link-local address to send from");
                continue;
            };
            match sock.send(&bytes, dst, idx, src).await {
                Ok(()) => debug!("{name}: sent RA ({} bytes) to {dst}", bytes.len()),
                Err(e) => {
                    i.engine.counters_mut().tx_errors += 1;
                    warn!("{name}: sending RA to {dst}: {e}");
                }
            }
        }
    }

    /// The Router Solicitations due on relayed uplinks; an uplink that has
    /// heard its router solicits no more.
    async fn solicit_routers(&mut self, view: &KernelView, now: Instant) {
        self.solicits
            .retain(|n, _| !self.upstream.get(n).is_some_and(Upstream::heard));
        let Some(sock) = self.socket.clone() else {
            return;
        };
        for (name, s) in &mut self.solicits {
            // Taken even when it cannot go out yet (no link-local): the
            // deadline must move on, and the next one is 4 s later.
            if !s.due(now) {
                continue;
            }
            let link = view.link_by_name(name);
            let src = link.and_then(|l| view.link_local(l.index));
            let (Some(link), Some(src)) = (link, src) else {
                continue;
            };
            let sent = match router_solicitation(link.lladdr.as_deref()) {
                Ok(rs) => sock.send(&rs, ALL_ROUTERS, link.index, src).await,
                Err(e) => Err(std::io::Error::other(format!("{e:?}"))),
            };
            if let Err(e) = sent {
                debug!("{name}: Router Solicitation: {e}");
            }
        }
    }

    async fn on_timer(&mut self, view: &KernelView) {
        let now = Instant::now();
        let names: Vec<String> = self.ifaces.keys().cloned().collect();
        for name in names {
            let Some(mut i) = self.ifaces.remove(&name) else {
                continue;
            };
            if i.engine.next_timer().is_some_and(|t| t <= now) {
                let acts = i.engine.on_timer(now);
                self.execute(&name, &mut i, view, acts).await;
            }
            self.ifaces.insert(name, i);
        }
    }

    fn next_timer(&self) -> Option<Instant> {
        self.ifaces
            .values()
            .filter_map(|i| i.engine.next_timer())
            .min()
    }

    /// Handle one datagram; true when a relayed uplink's RA changed (the
    /// relaying LANs' parameters are then to be synced).
    async fn on_packet(&mut self, view: &KernelView, data: &[u8], rx: v6ra::io::Received) -> bool {
        let Some(link) = view.links.get(&rx.ifindex) else {
            return false;
        };
        let name = link.name.clone();
        let now = Instant::now();
        // RFC 4861 §6.1: no hop limit from the kernel counts as not 255.
        let parsed = wire::parse(data, rx.src, rx.hop_limit.unwrap_or(0));
        if let (Some(up), Ok(RouterDiscovery::Advertisement(ra))) =
            (self.upstream.get_mut(&name), &parsed)
        {
            if up.on_ra(now, rx.src, ra) {
                info!(
                    "{name}: the uplink's RA from {} changed; relaying it",
                    rx.src
                );
                return true;
            }
            return false;
        }
        let Some(mut i) = self.ifaces.remove(&name) else {
            return false;
        };
        let acts = match parsed {
            Ok(RouterDiscovery::Solicitation(rs)) => {
                debug!("{name}: RS from {}", rx.src);
                i.engine.on_rs(now, rx.src, &rs)
            }
            Ok(RouterDiscovery::Advertisement(ra)) => i.engine.on_ra(now, rx.src, &ra),
            Err(e) => {
                i.engine.counters_mut().rx_invalid += 1;
                *i.invalid.entry(e.reason()).or_default() += 1;
                debug!("{name}: dropped message from {}: {e}", rx.src);
                Vec::new()
            }
        };
        self.execute(&name, &mut i, view, acts).await;
        self.ifaces.insert(name, i);
        false
    }

    async fn shutdown(&mut self, view: &KernelView) {
        let now = Instant::now();
        let names: Vec<String> = self.ifaces.keys().cloned().collect();
        for name in names {
            if let Some(mut i) = self.ifaces.remove(&name) {
                let acts = i.engine.shutdown(now);
                self.execute(&name, &mut i, view, acts).await;
            }
        }
    }

    fn status(&self, view: &KernelView, only: Option<&str>) -> Vec<RaInterfaceStatus> {
        let now = Instant::now();
        self.ifaces
            .iter()
            .filter(|(n, _)| only.is_none_or(|o| o == n.as_str()))
            .map(|(name, i)| {
                let p = i.engine.params();
                let st = i.engine.status(now);
                let c = &st.counters;
                let index = view.link_by_name(name).map(|l| l.index);
                RaInterfaceStatus {
                    name: name.clone(),
                    index,
                    state: if index.is_none() {
                        "absent".into()
                    } else {
                        st.state.as_str().into()
                    },
                    managed: p.managed,
                    other_config: p.other_config,
                    preference: p.preference.as_str().into(),
                    cur_hop_limit: p.cur_hop_limit,
                    mtu: p.mtu,
                    reachable_time: p.reachable_time,
                    retrans_timer: p.retrans_timer,
                    min_interval_ms: p.min_interval.as_millis() as u64,
                    max_interval_ms: p.max_interval.as_millis() as u64,
                    router_lifetime: st.router_lifetime,
                    configured_router_lifetime: p.router_lifetime,
                    forwarding: st.forwarding,
                    next_ra_ms: st.next_ra_in.map(|d| d.as_millis() as u64),
                    last_ra_ms: st.last_ra_ago.map(|d| d.as_millis() as u64),
                    initial_left: st.initial_left,
                    counters: counters(c, &i.invalid),
                    prefixes: st.prefixes.iter().map(prefix_status).collect(),
                    routes: p
                        .routes
                        .iter()
                        .map(|r| RaRouteStatus {
                            prefix: r.prefix.to_string(),
                            preference: r.preference.as_str().into(),
                            lifetime: r.lifetime,
                        })
                        .chain(
                            st.home_routes
                                .iter()
                                .map(|(prefix, lifetime)| RaRouteStatus {
                                    prefix: prefix.to_string(),
                                    preference: p.preference.as_str().into(),
                                    lifetime: *lifetime,
                                }),
                        )
                        .collect(),
                    rdnss: p.rdnss.iter().map(|a| a.to_string()).collect(),
                    dnssl: p.dnssl.clone(),
                    dns_lifetime: p.dns_lifetime,
                    pref64: p.pref64.map(|(x, l)| format!("{x} lifetime {l}")),
                    captive_portal: p.captive_portal.clone(),
                }
            })
            .collect()
    }

    fn status_row(&self) -> Option<Row> {
        if self.ifaces.is_empty() {
            return None;
        }
        let adv = self
            .ifaces
            .values()
            .filter(|i| i.engine.state() == v6ra::engine::AdvState::Advertising)
            .count();
        Some(match &self.socket_error {
            Some(e) => Row::new("down", e.clone()),
            None => Row::new(
                if adv > 0 { "up" } else { "start" },
                format!(
                    "{adv} of {} interfaces advertising{}",
                    self.ifaces.len(),
                    self.dhcp_relay_info()
                ),
            ),
        })
    }

    /// The DHCPv6 relay's part of the row: its counters, while it relays.
    fn dhcp_relay_info(&self) -> String {
        let Some((lan, st, routes)) = self.dhcp.status() else {
            return String::new();
        };
        format!(
            "; DHCPv6 relay on {lan}: {} forwarded, {} delivered, {} dropped, {routes} prefix routes",
            st.forwarded,
            st.delivered,
            st.dropped()
        )
    }

    /// When the socket is opened again, while it is missing and RA is
    /// configured.
    fn socket_retry(&self) -> Option<Instant> {
        if self.socket.is_some() || self.ifaces.is_empty() {
            return None;
        }
        Some(
            self.last_socket_try
                .map_or_else(Instant::now, |t| t + SOCKET_RETRY),
        )
    }
}

impl Service for Ra {
    const NAME: &'static str = "ra";
    const PROTO: &'static str = "RA";
    const FOLLOWS_UPLINK: bool = true;
    const IDLE: &'static str =
        "no interface sends router advertisements (no [interface.ra], no relay)";
    type Event = Event;

    fn wanted(cfg: &Config) -> bool {
        cfg.interfaces
            .iter()
            .any(|i| i.ra.is_some() || i.relay.is_some())
    }

    async fn start(ctx: &Ctx) -> Result<Ra, String> {
        Ok(Ra {
            state_dir: ctx.state_dir.clone(),
            ifaces: BTreeMap::new(),
            socket: None,
            socket_error: None,
            last_socket_try: None,
            buf: vec![0u8; 65536],
            received: 0,
            upstream: BTreeMap::new(),
            solicits: BTreeMap::new(),
            nd: None,
            dhcp: DhcpRelay::new(crate::kernel_side::Announce::new(ctx)),
        })
    }

    async fn changed(&mut self, ctx: &Ctx, _: Changed) {
        // The ISP's DNS servers (for `dns = ["uplink"]`) and the home's
        // prefixes; an Arc, so no borrow of the watch is held across an await.
        let uplink = ctx.uplink();
        self.sync(&ctx.netlink, &ctx.config(), &ctx.kernel(), &uplink)
            .await;
    }

    async fn next_event(&mut self) -> Self::Event {
        let ra = when_some(self.socket.as_ref().map(|s| s.recv(&mut self.buf)));
        let own = first(ra, self.dhcp.next());
        let nd = when_some(self.nd.as_mut().map(NdRelay::next));
        match first(own, nd).await {
            Either::A(Either::A(r)) => Event::Ra(r),
            Either::A(Either::B(ev)) => Event::Dhcp(ev),
            Either::B((wan, len)) => Event::Nd { wan, len },
        }
    }

    async fn on_event(&mut self, ctx: &Ctx, ev: Self::Event) {
        let ev = match ev {
            Event::Ra(r) => r,
            Event::Dhcp(ev) => return self.dhcp.on_event(&ctx.netlink, ev).await,
            Event::Nd { wan, len } => {
                let Some(nd) = &mut self.nd else { return };
                let len = match len {
                    Ok(n) => n,
                    Err(e) => {
                        warn!("ND proxy receive: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        return;
                    }
                };
                let buf = if wan { &nd.wan_buf } else { &nd.lan_buf };
                let now = Instant::now();
                let view = ctx.kernel();
                // The packet socket also sees what we send: not a question.
                let own = view.link_local(if wan { nd.wan_idx } else { nd.lan_idx });
                let acts = match Ndp::parse(&buf[..len.min(buf.len())]) {
                    Ok(m) if Some(m.src) == own => return,
                    Ok(m) if wan => nd.proxy.on_wan(now, &m),
                    Ok(m) => nd.proxy.on_lan(now, &m),
                    Err(d) => {
                        *nd.drops.entry(d.reason()).or_default() += 1;
                        return;
                    }
                };
                self.execute_nd(&ctx.netlink, &view, acts).await;
                return;
            }
        };
        let rx = match ev {
            Ok(rx) => rx,
            Err(e) => {
                warn!("receive: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                return;
            }
        };
        let buf = std::mem::take(&mut self.buf);
        let len = rx.len.min(buf.len());
        let relayed_changed = self.on_packet(&ctx.kernel(), &buf[..len], rx).await;
        self.buf = buf;
        if relayed_changed {
            self.changed(ctx, Changed::Config).await;
        }
        // A socket that is always readable never makes this task wait
        // (AsyncFd readiness does not spend tokio's cooperative budget):
        // let the other tasks of the one runtime thread, v6ctl's among
        // them, run now and then.
        self.received += 1;
        if self.received.is_multiple_of(FAIR_BATCH) {
            tokio::task::yield_now().await;
        }
    }

    fn deadline(&self) -> Option<Instant> {
        let relay = self
            .upstream
            .values()
            .filter_map(Upstream::next_expiry)
            .min();
        let nd = self.nd.as_ref().and_then(|n| n.proxy.next_timer());
        let solicit = self.solicits.values().filter_map(Solicitor::deadline).min();
        [
            solicit,
            self.next_timer(),
            self.socket_retry(),
            relay,
            nd,
            self.dhcp.deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    async fn on_deadline(&mut self, ctx: &Ctx, now: Instant) {
        if let Some(nd) = &mut self.nd {
            let acts = nd.proxy.on_timer(now);
            self.execute_nd(&ctx.netlink, &ctx.kernel(), acts).await;
        }
        self.dhcp.on_deadline(now);
        self.solicit_routers(&ctx.kernel(), now).await;
        let mut expired = false;
        for up in self.upstream.values_mut() {
            expired |= up.expire(now);
        }
        if expired || self.socket_retry().is_some() {
            self.changed(ctx, Changed::Config).await;
        }
        self.on_timer(&ctx.kernel()).await;
    }

    async fn answer(&mut self, ctx: &Ctx, req: Request) -> Response {
        match req {
            Request::ShowRa { iface } => {
                let list = self.status(&ctx.kernel(), iface.as_deref());
                match iface {
                    Some(n) if list.is_empty() => {
                        Response::error(format!("{n} does not send router advertisements"))
                    }
                    _ => Response::ok(list),
                }
            }
            other => crate::service::not_mine(Self::NAME, &other),
        }
    }

    /// The routes of prefixes delegated through the DHCPv6 relay.
    fn routes(&self, ctx: &Ctx) -> crate::rt_show::Contributed {
        self.dhcp.rows(&ctx.kernel())
    }

    fn metrics(&self, ctx: &Ctx) -> String {
        let mut m = crate::metrics::ra(&self.status(&ctx.kernel(), None));
        if let Some((lan, st, routes)) = self.dhcp.status() {
            m.push_str(&crate::metrics::dhcpv6_relay(lan, st, routes));
        }
        m
    }

    fn row(&self) -> Option<Row> {
        self.status_row()
    }

    async fn stop(mut self, ctx: &Ctx) {
        // The ND proxy's /128 routes go with it.
        self.sync_nd(&ctx.netlink, &ctx.kernel(), None).await;
        self.shutdown(&ctx.kernel()).await;
        self.dhcp.stop().await;
    }
}

/// Counters by name, busiest first (ties by name).
fn by_count(m: &BTreeMap<&'static str, u64>) -> Vec<v6control::dhcpv6::Counter> {
    let mut v: Vec<_> = m
        .iter()
        .map(|(name, count)| v6control::dhcpv6::Counter {
            name: name.to_string(),
            count: *count,
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    v
}

#[cfg(test)]
mod tests;
