//! The per-interface advertiser of RFC 4861 §6.2, sans-IO.
//!
//! One [`Advertiser`] per advertising interface. Inputs are method calls with
//! the current time passed in (`now`): a timer tick, a received RS or RA, new
//! parameters (reload), new kernel facts about the link, shutdown. Outputs are
//! [`Action`]s the glue executes (send bytes, log, persist the prefix history).
//! Randomness comes from a `fastrand::Rng` seeded by the constructor, so tests
//! replay exactly.

use crate::wire::{
    Dnssl, EmitError, NdOption, Pref64, PrefixInformation, Rdnss, RouteInformation,
    RouterAdvertisement, RouterPreference, RouterSolicitation,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant, SystemTime};
use v6common::{Ipv6Prefix, KernelView};

/// RFC 4861 §10 router constants.
pub const MAX_INITIAL_RTR_ADVERT_INTERVAL: Duration = Duration::from_secs(16);
pub const MAX_INITIAL_RTR_ADVERTISEMENTS: u32 = 3;
pub const MAX_FINAL_RTR_ADVERTISEMENTS: u32 = 3;
pub const MIN_DELAY_BETWEEN_RAS: Duration = Duration::from_secs(3);
pub const MAX_RA_DELAY_TIME: Duration = Duration::from_millis(500);
/// RFC 9096 §3 (L-13): a withdrawn prefix is advertised with a Valid Lifetime
/// of at most 2 hours, the floor of RFC 4862 §5.5.3 (e).
pub const STALE_VALID_LIFETIME_CAP: u32 = 7200;
/// Most unicast RS answers waiting for their random delay at one time; more
/// RSs within half a second are answered by multicast instead.
pub const MAX_PENDING_UNICAST: usize = 32;
/// RFC 4861 §6.2.1: AdvDefaultLifetime at most 9000 s.
pub const MAX_ROUTER_LIFETIME: u16 = 9000;
/// Lifetime value meaning infinity (RFC 4861 §4.6.2).
pub const INFINITY: u32 = u32::MAX;

/// One `prefix` of the configuration. `::/64` (unspecified address) is a
/// template: every /64 of the interface's non-deprecated global addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixParams {
    pub prefix: Ipv6Prefix,
    /// AdvOnLink.
    pub on_link: bool,
    /// AdvAutonomous.
    pub autonomous: bool,
    /// AdvValidLifetime, seconds (INFINITY = forever).
    pub valid_lifetime: u32,
    /// AdvPreferredLifetime, seconds (INFINITY = forever).
    pub preferred_lifetime: u32,
}

impl PrefixParams {
    pub fn is_template(&self) -> bool {
        self.prefix.addr().is_unspecified() && self.prefix.len() > 0
    }
}

/// Route Information (RFC 4191 §2.3) to advertise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteParams {
    pub prefix: Ipv6Prefix,
    pub preference: RouterPreference,
    pub lifetime: u32,
}

/// Everything configured about one advertising interface, in engine terms
/// (the glue converts the TOML section into this).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    /// AdvManagedFlag.
    pub managed: bool,
    /// AdvOtherConfigFlag.
    pub other_config: bool,
    /// AdvLinkMTU; None: no MTU option.
    pub mtu: Option<u32>,
    /// MinRtrAdvInterval.
    pub min_interval: Duration,
    /// MaxRtrAdvInterval.
    pub max_interval: Duration,
    /// AdvDefaultLifetime in seconds (0: not a default router).
    pub router_lifetime: u16,
    /// RFC 7084 G-4/G-5: advertise router lifetime 0 while this router has
    /// no default route of its own (none through another interface).
    pub require_default_route: bool,
    /// AdvDefaultPreference (RFC 4191 §2.2).
    pub preference: RouterPreference,
    /// AdvCurHopLimit.
    pub cur_hop_limit: u8,
    /// AdvReachableTime, ms.
    pub reachable_time: u32,
    /// AdvRetransTimer, ms.
    pub retrans_timer: u32,
    /// AdvSourceLLAddress.
    pub source_lladdr: bool,
    /// AdvRASolicitedUnicast.
    pub unicast_solicited: bool,
    /// radvd DecrementLifetimes: prefix lifetimes count down in real time
    /// from when the prefix was first advertised.
    pub decrement_lifetimes: bool,
    pub prefixes: Vec<PrefixParams>,
    pub routes: Vec<RouteParams>,
    /// RDNSS addresses (RFC 8106 §5.1).
    pub rdnss: Vec<Ipv6Addr>,
    /// DNSSL domains (RFC 8106 §5.2).
    pub dnssl: Vec<String>,
    /// Lifetime of RDNSS and DNSSL, seconds.
    pub dns_lifetime: u32,
    /// NAT64 prefix and its lifetime in seconds (RFC 8781).
    pub pref64: Option<(Ipv6Prefix, u16)>,
    /// Captive portal API URI (RFC 8910).
    pub captive_portal: Option<String>,
}

impl Params {
    /// radvd's (and RFC 4861 §6.2.1's) defaults for a MaxRtrAdvInterval.
    pub fn with_max_interval(max_interval: Duration) -> Params {
        let max_s = max_interval.as_secs();
        Params {
            managed: false,
            other_config: false,
            mtu: None,
            min_interval: Self::default_min_interval(max_interval),
            max_interval,
            router_lifetime: Self::default_router_lifetime(max_interval),
            require_default_route: false,
            preference: RouterPreference::Medium,
            cur_hop_limit: 64,
            reachable_time: 0,
            retrans_timer: 0,
            source_lladdr: true,
            unicast_solicited: true,
            decrement_lifetimes: false,
            prefixes: Vec::new(),
            routes: Vec::new(),
            rdnss: Vec::new(),
            dnssl: Vec::new(),
            dns_lifetime: u32::try_from(3 * max_s).unwrap_or(INFINITY - 1),
            pref64: None,
            captive_portal: None,
        }
    }

    /// RFC 4861 §6.2.1: 0.33 * MaxRtrAdvInterval when that is at least 9 s,
    /// otherwise MaxRtrAdvInterval; never below 3 s.
    pub fn default_min_interval(max: Duration) -> Duration {
        let min = if max >= Duration::from_secs(9) {
            max.mul_f64(0.33)
        } else {
            max
        };
        min.max(MIN_DELAY_BETWEEN_RAS)
    }

    /// RFC 4861 §6.2.1: 3 * MaxRtrAdvInterval, at most 9000 s.
    pub fn default_router_lifetime(max: Duration) -> u16 {
        let l = max.as_secs().saturating_mul(3);
        u16::try_from(l)
            .unwrap_or(MAX_ROUTER_LIFETIME)
            .min(MAX_ROUTER_LIFETIME)
    }
}

/// One global address of the interface, as far as prefix templates care.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkAddr {
    pub prefix: Ipv6Prefix,
    pub deprecated: bool,
    /// Remaining preferred lifetime at the time of the fact (INFINITY = forever).
    pub preferred_lft: u32,
    /// Remaining valid lifetime at the time of the fact (INFINITY = forever).
    pub valid_lft: u32,
}

/// What the engine needs to know about its link from the kernel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkInput {
    /// Administratively up and with carrier.
    pub usable: bool,
    pub lladdr: Option<Vec<u8>>,
    /// Usable (non-tentative) link-local address, the source of our RAs.
    pub link_local: Option<Ipv6Addr>,
    pub mtu: u32,
    /// Global addresses that are not DAD-failed.
    pub addrs: Vec<LinkAddr>,
    /// net.ipv6.conf.all.forwarding.
    pub forwarding: bool,
    /// The router has a default route through another interface (only
    /// looked at with `Params::require_default_route`).
    pub default_route: bool,
}

impl LinkInput {
    /// The facts of link `index` in a kernel view; a missing link is unusable.
    pub fn from_view(view: &KernelView, index: u32) -> LinkInput {
        let Some(link) = view.links.get(&index) else {
            return LinkInput {
                forwarding: view.forwarding,
                ..Default::default()
            };
        };
        LinkInput {
            usable: link.is_usable(),
            lladdr: link.lladdr.clone().filter(|l| !l.is_empty()),
            link_local: view.link_local(index),
            mtu: link.mtu,
            addrs: view
                .globals(index)
                .map(|a| LinkAddr {
                    prefix: a.prefix(),
                    deprecated: a.deprecated || a.preferred_lft == 0,
                    preferred_lft: a.preferred_lft,
                    valid_lft: a.valid_lft,
                })
                .collect(),
            forwarding: view.forwarding,
            default_route: has_default_route(view, index),
        }
    }
}

/// A unicast default route in the main table that does not leave through
/// `index` (a default route back into the LAN is not an uplink).
pub fn has_default_route(view: &KernelView, index: u32) -> bool {
    view.routes.iter().any(|r| {
        r.dst.len() == 0
            && r.table == v6common::kernel::RT_TABLE_MAIN
            && r.kind == v6common::RouteKind::Unicast
            && r.oif != Some(index)
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Info,
    Warn,
}

/// What the glue must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send this RA to ff02::1 on the interface (from its link-local, hop limit 255).
    SendMulticast(Vec<u8>),
    /// Send this RA to one host (an RS answered by unicast, RFC 4861 §6.2.6).
    SendUnicast {
        dst: Ipv6Addr,
        bytes: Vec<u8>,
    },
    Log {
        level: LogLevel,
        message: String,
    },
    /// The prefix history changed: save [`Advertiser::export_history`].
    PersistHistory,
}

/// Where an advertised prefix comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrefixSource {
    /// Written in the configuration.
    Config,
    /// A template matched an address of the interface.
    Interface,
    /// Known only from the saved history (withdrawn before a restart).
    History,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PrefixState {
    Active {
        valid_lifetime: u32,
        preferred_lifetime: u32,
        first_advertised: Instant,
        /// The address's own lifetimes as last reported, and when they end.
        addr_lft: Option<(u32, u32)>,
        addr_preferred_until: Option<Instant>,
        addr_valid_until: Option<Instant>,
    },
    /// RFC 9096 §3: withdrawn; advertised with PL 0 and a VL counting down.
    Stale { valid_until: Instant },
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct PrefixEntry {
    on_link: bool,
    autonomous: bool,
    source: PrefixSource,
    state: PrefixState,
}

/// A prefix to advertise: its parameters, where it comes from, and the
/// address's own (preferred, valid) lifetimes when a template matched one.
type Wanted<'a> = (&'a PrefixParams, PrefixSource, Option<(u32, u32)>);

fn secs_until(deadline: Instant, now: Instant) -> u32 {
    u32::try_from(deadline.saturating_duration_since(now).as_secs()).unwrap_or(INFINITY - 1)
}

fn deadline(now: Instant, lft: u32) -> Option<Instant> {
    (lft != INFINITY).then(|| now + Duration::from_secs(u64::from(lft)))
}

impl PrefixEntry {
    /// (valid, preferred) lifetimes to advertise at `now`.
    fn lifetimes(&self, now: Instant, decrement: bool) -> (u32, u32) {
        match &self.state {
            PrefixState::Active {
                valid_lifetime,
                preferred_lifetime,
                first_advertised,
                addr_preferred_until,
                addr_valid_until,
                ..
            } => {
                let (mut vl, mut pl) = (*valid_lifetime, *preferred_lifetime);
                if decrement {
                    let el =
                        u32::try_from(now.saturating_duration_since(*first_advertised).as_secs())
                            .unwrap_or(INFINITY);
                    if vl != INFINITY {
                        vl = vl.saturating_sub(el);
                    }
                    if pl != INFINITY {
                        pl = pl.saturating_sub(el);
                    }
                }
                // Never promise more than the address (delegated prefix) has left.
                if let Some(t) = addr_valid_until {
                    vl = vl.min(secs_until(*t, now));
                }
                if let Some(t) = addr_preferred_until {
                    pl = pl.min(secs_until(*t, now));
                }
                // RFC 4862 §5.5.3 (c): hosts ignore PL > VL.
                (vl, pl.min(vl))
            }
            PrefixState::Stale { valid_until, .. } => (secs_until(*valid_until, now), 0),
        }
    }

    fn is_stale(&self) -> bool {
        matches!(self.state, PrefixState::Stale { .. })
    }
}

/// Prefix history saved across restarts (RFC 9096 §3, L-13/L-14): what we
/// advertised, so a prefix that is gone after the restart is still deprecated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixHistory {
    pub prefixes: Vec<HistoryEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub prefix: Ipv6Prefix,
    pub on_link: bool,
    pub autonomous: bool,
    /// Already withdrawn (advertised with PL 0) when saved.
    pub stale: bool,
    /// Unix time (seconds) at which the advertised valid lifetime ends; None
    /// for infinity.
    pub valid_until: Option<u64>,
}

/// Counters shown by `v6ctl show ra`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub ra_sent_multicast: u64,
    pub ra_sent_unicast: u64,
    pub ra_sent_solicited: u64,
    pub ra_sent_final: u64,
    pub rs_received: u64,
    pub ra_received: u64,
    pub ra_inconsistent: u64,
    /// Messages dropped by the validity checks (counted by the glue).
    pub rx_invalid: u64,
    /// Sends the kernel refused (counted by the glue).
    pub tx_errors: u64,
}

/// Why the interface is (not) advertising.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdvState {
    Advertising,
    LinkDown,
    NoLinkLocal,
    Stopped,
}

impl AdvState {
    pub fn as_str(self) -> &'static str {
        match self {
            AdvState::Advertising => "advertising",
            AdvState::LinkDown => "link down",
            AdvState::NoLinkLocal => "no link-local address",
            AdvState::Stopped => "stopped",
        }
    }
}

/// One prefix as `v6ctl show ra` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixStatus {
    pub prefix: Ipv6Prefix,
    pub source: PrefixSource,
    pub stale: bool,
    pub on_link: bool,
    pub autonomous: bool,
    pub valid_lifetime: u32,
    pub preferred_lifetime: u32,
}

/// A snapshot for `v6ctl show ra`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub state: AdvState,
    pub forwarding: bool,
    /// Router lifetime being advertised now (0 while forwarding is off).
    pub router_lifetime: u16,
    pub next_ra_in: Option<Duration>,
    pub last_ra_ago: Option<Duration>,
    pub initial_left: u32,
    pub prefixes: Vec<PrefixStatus>,
    pub counters: Counters,
}

/// The advertiser of one interface.
#[derive(Debug)]
pub struct Advertiser {
    params: Params,
    link: LinkInput,
    rng: fastrand::Rng,
    stopped: bool,
    /// Initial fast RAs still to come (RFC 4861 §6.2.4).
    initial_left: u32,
    next_multicast: Option<Instant>,
    /// The next multicast RA answers a solicitation.
    solicited_pending: bool,
    last_multicast: Option<Instant>,
    pending_unicast: Vec<(Instant, Ipv6Addr)>,
    prefixes: BTreeMap<Ipv6Prefix, PrefixEntry>,
    forwarding_warned: bool,
    size_warned: bool,
    /// Address facts (preferred, valid) whose valid lifetime ran out: the
    /// same fact reported again before the kernel removes the address must
    /// not bring the prefix back. Forgotten once the fact is gone.
    expired_facts: BTreeMap<Ipv6Prefix, (u32, u32)>,
    counters: Counters,
}

impl Advertiser {
    /// A new advertiser; it starts sending once the link is usable and has a
    /// link-local address ([`Advertiser::update_link`]).
    pub fn new(now: Instant, params: Params, seed: u64) -> Advertiser {
        let mut a = Advertiser {
            params,
            link: LinkInput::default(),
            rng: fastrand::Rng::with_seed(seed),
            stopped: false,
            initial_left: 0,
            next_multicast: None,
            solicited_pending: false,
            last_multicast: None,
            pending_unicast: Vec::new(),
            prefixes: BTreeMap::new(),
            forwarding_warned: false,
            size_warned: false,
            expired_facts: BTreeMap::new(),
            counters: Counters::default(),
        };
        a.refresh_prefixes(now);
        a
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn counters_mut(&mut self) -> &mut Counters {
        &mut self.counters
    }

    pub fn state(&self) -> AdvState {
        if self.stopped {
            AdvState::Stopped
        } else if !self.link.usable {
            AdvState::LinkDown
        } else if self.link.link_local.is_none() {
            AdvState::NoLinkLocal
        } else {
            AdvState::Advertising
        }
    }

    fn advertising(&self) -> bool {
        self.state() == AdvState::Advertising
    }

    /// When [`Advertiser::on_timer`] wants to run next.
    pub fn next_timer(&self) -> Option<Instant> {
        let mut t = if self.advertising() {
            self.next_multicast
        } else {
            None
        };
        let mut take = |x: Instant| t = Some(t.map_or(x, |y| y.min(x)));
        if self.advertising() {
            self.pending_unicast.iter().for_each(|(at, _)| take(*at));
        }
        for e in self.prefixes.values() {
            match &e.state {
                PrefixState::Stale { valid_until, .. } => take(*valid_until),
                PrefixState::Active {
                    addr_valid_until: Some(v),
                    ..
                } => take(*v),
                _ => {}
            }
        }
        t
    }

    /// Random interval in [MinRtrAdvInterval, MaxRtrAdvInterval] (§6.2.4),
    /// capped at MAX_INITIAL_RTR_ADVERT_INTERVAL for the initial RAs.
    fn next_interval(&mut self) -> Duration {
        let min = self.params.min_interval.as_millis() as u64;
        let max = (self.params.max_interval.as_millis() as u64).max(min);
        let mut iv = Duration::from_millis(self.rng.u64(min..=max));
        if self.initial_left > 0 {
            self.initial_left -= 1;
            iv = iv.min(MAX_INITIAL_RTR_ADVERT_INTERVAL);
        }
        iv
    }

    /// The earliest a multicast RA may go out (MIN_DELAY_BETWEEN_RAS, §6.2.4/§6.2.6).
    fn earliest_multicast(&self, now: Instant) -> Instant {
        self.last_multicast
            .map_or(now, |l| (l + MIN_DELAY_BETWEEN_RAS).max(now))
    }

    /// Start (or restart) the initial fast RAs: on becoming an advertising
    /// interface and when what we advertise changes (§6.2.4).
    fn start_fast(&mut self, now: Instant) {
        self.initial_left = MAX_INITIAL_RTR_ADVERTISEMENTS;
        self.next_multicast = Some(self.earliest_multicast(now));
    }

    /// Timer tick.
    pub fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.expire_prefixes(now) {
            out.push(Action::PersistHistory);
        }
        // Addresses whose valid lifetime ran out become stale even before the
        // kernel's event arrives.
        if self.refresh_prefixes(now) {
            out.push(Action::PersistHistory);
        }
        if !self.advertising() {
            return out;
        }
        if self.next_multicast.is_some_and(|t| t <= now) {
            let parts = self.encode(now, false, &mut out);
            if !parts.is_empty() && std::mem::take(&mut self.solicited_pending) {
                self.counters.ra_sent_solicited += 1;
            }
            for b in parts {
                out.push(Action::SendMulticast(b));
                self.counters.ra_sent_multicast += 1;
            }
            self.last_multicast = Some(now);
            // §6.2.6: a multicast answer resets the interval timer as if it
            // were unsolicited.
            let iv = self.next_interval();
            self.next_multicast = Some(now + iv);
            // Hosts answered by this multicast RA need no unicast copy.
            self.pending_unicast.clear();
        }
        let (due, later): (Vec<_>, Vec<_>) =
            self.pending_unicast.drain(..).partition(|(t, _)| *t <= now);
        self.pending_unicast = later;
        if !due.is_empty() {
            let parts = self.encode(now, false, &mut out);
            for (_, dst) in due {
                for b in &parts {
                    out.push(Action::SendUnicast {
                        dst,
                        bytes: b.clone(),
                    });
                    self.counters.ra_sent_unicast += 1;
                }
                self.counters.ra_sent_solicited += 1;
            }
        }
        out
    }

    /// A valid Router Solicitation from `src` (§6.2.6).
    pub fn on_rs(&mut self, now: Instant, src: Ipv6Addr, rs: &RouterSolicitation) -> Vec<Action> {
        self.counters.rs_received += 1;
        if !self.advertising() {
            return Vec::new();
        }
        // "In all cases, Router Advertisements sent in response to a Router
        // Solicitation MUST be delayed by a random time between 0 and
        // MAX_RA_DELAY_TIME seconds."
        let delay = Duration::from_millis(self.rng.u64(0..=MAX_RA_DELAY_TIME.as_millis() as u64));
        // radvd's AdvRASolicitedUnicast (RFC 7772 §5.1 recommends unicast
        // answers to save hosts' battery): unicast when the RS carries the
        // host's link-layer address (no Neighbor Solicitation needed).
        if self.params.unicast_solicited
            && !src.is_unspecified()
            && rs.source_lladdr().is_some()
            && self.pending_unicast.len() < MAX_PENDING_UNICAST
        {
            if !self.pending_unicast.iter().any(|(_, d)| *d == src) {
                self.pending_unicast.push((now + delay, src));
            }
            return Vec::new();
        }
        // Multicast: no more than one per MIN_DELAY_BETWEEN_RAS; a multicast
        // RA already due sooner answers this RS too.
        let at = match self.last_multicast {
            Some(l) if now < l + MIN_DELAY_BETWEEN_RAS => l + MIN_DELAY_BETWEEN_RAS + delay,
            _ => now + delay,
        };
        if self.next_multicast.is_none_or(|t| t > at) {
            self.next_multicast = Some(at);
            self.solicited_pending = true;
        }
        Vec::new()
    }

    /// An RA from another router on the link: check it against ours (§6.2.7)
    /// and report each difference.
    pub fn on_ra(&mut self, now: Instant, src: Ipv6Addr, ra: &RouterAdvertisement) -> Vec<Action> {
        if Some(src) == self.link.link_local {
            return Vec::new();
        }
        self.counters.ra_received += 1;
        let p = &self.params;
        let mut diffs: Vec<String> = Vec::new();
        if ra.cur_hop_limit != 0 && p.cur_hop_limit != 0 && ra.cur_hop_limit != p.cur_hop_limit {
            diffs.push(format!(
                "cur hop limit {} (ours {})",
                ra.cur_hop_limit, p.cur_hop_limit
            ));
        }
        if ra.managed != p.managed {
            diffs.push(format!(
                "M flag {} (ours {})",
                ra.managed as u8, p.managed as u8
            ));
        }
        if ra.other_config != p.other_config {
            diffs.push(format!(
                "O flag {} (ours {})",
                ra.other_config as u8, p.other_config as u8
            ));
        }
        if ra.reachable_time != 0 && p.reachable_time != 0 && ra.reachable_time != p.reachable_time
        {
            diffs.push(format!(
                "reachable time {} ms (ours {})",
                ra.reachable_time, p.reachable_time
            ));
        }
        if ra.retrans_timer != 0 && p.retrans_timer != 0 && ra.retrans_timer != p.retrans_timer {
            diffs.push(format!(
                "retrans timer {} ms (ours {})",
                ra.retrans_timer, p.retrans_timer
            ));
        }
        if let (Some(theirs), Some(ours)) = (ra.mtu(), p.mtu) {
            if theirs != ours {
                diffs.push(format!("MTU {theirs} (ours {ours})"));
            }
        }
        // Prefix lifetimes: only where ours are fixed values; lifetimes that
        // decrement in real time cannot be compared without a common clock.
        for pi in ra.prefixes() {
            let key = Ipv6Prefix::new(pi.prefix, pi.prefix_len);
            let Some(e) = self.prefixes.get(&key) else {
                continue;
            };
            let fixed = !p.decrement_lifetimes
                && matches!(
                    e.state,
                    PrefixState::Active {
                        addr_valid_until: None,
                        addr_preferred_until: None,
                        ..
                    }
                );
            if !fixed {
                continue;
            }
            let (vl, pl) = e.lifetimes(now, false);
            if pi.valid_lifetime != vl {
                diffs.push(format!(
                    "{key} valid lifetime {} (ours {vl})",
                    pi.valid_lifetime
                ));
            }
            if pi.preferred_lifetime != pl {
                diffs.push(format!(
                    "{key} preferred lifetime {} (ours {pl})",
                    pi.preferred_lifetime
                ));
            }
        }
        if diffs.is_empty() {
            return Vec::new();
        }
        self.counters.ra_inconsistent += 1;
        vec![log(
            LogLevel::Warn,
            format!(
                "RA from {src} is inconsistent with ours (RFC 4861 §6.2.7): {}",
                diffs.join(", ")
            ),
        )]
    }

    /// New parameters (reload). Identical parameters change nothing: no timer
    /// is reset and hosts see the same RAs.
    pub fn update_params(&mut self, now: Instant, params: Params) -> Vec<Action> {
        if params == self.params {
            return Vec::new();
        }
        self.params = params;
        let mut out = Vec::new();
        if self.refresh_prefixes(now) {
            out.push(Action::PersistHistory);
        }
        out.extend(self.forwarding_check());
        if self.advertising() {
            // §6.2.4: changed information MAY be sent with up to
            // MAX_INITIAL_RTR_ADVERTISEMENTS fast RAs.
            self.start_fast(now);
        }
        out
    }

    /// New kernel facts about the link.
    pub fn update_link(&mut self, now: Instant, link: LinkInput) -> Vec<Action> {
        if link == self.link {
            return Vec::new();
        }
        let was = self.advertising();
        let old = std::mem::replace(&mut self.link, link);
        let mut out = Vec::new();
        let prefixes_changed = self.refresh_prefixes(now);
        if prefixes_changed {
            out.push(Action::PersistHistory);
        }
        out.extend(self.forwarding_check());
        let now_adv = self.advertising();
        if now_adv && !was {
            // Becoming an advertising interface (start, link up, link-local
            // ready): the initial RAs, the first one at once (§6.2.4).
            out.push(log(
                LogLevel::Info,
                "link usable, starting initial advertisements".into(),
            ));
            self.start_fast(now);
        } else if !now_adv && was {
            out.push(log(
                LogLevel::Info,
                format!("stopped advertising: {}", self.state().as_str()),
            ));
            self.next_multicast = None;
            self.pending_unicast.clear();
            self.solicited_pending = false;
        } else if now_adv
            && self.params.require_default_route
            && old.default_route != self.link.default_route
        {
            // RFC 7084 G-5: losing the default route is told to hosts by
            // RAs with router lifetime 0 at once; getting one back as well.
            out.push(log(
                LogLevel::Info,
                if self.link.default_route {
                    "default route back: advertising router lifetime again (RFC 7084 G-4)".into()
                } else {
                    "no default route: advertising router lifetime 0 (RFC 7084 G-5)".into()
                },
            ));
            self.start_fast(now);
        } else if now_adv
            && (prefixes_changed
                || old.forwarding != self.link.forwarding
                || old.link_local != self.link.link_local
                || (self.params.source_lladdr && old.lladdr != self.link.lladdr))
        {
            // §6.2.8: a new link-local address is a new router to hosts;
            // make it known quickly. (The old address is usually gone by
            // now, so no final RA can be sent from it.)
            self.start_fast(now);
        }
        out
    }

    /// The router lifetime of our RAs (but the final one): AdvDefaultLifetime,
    /// or 0 while forwarding is off (RFC 4861 §6.2.2: a host would send us
    /// packets we drop) or, with `require_default_route`, while we have no
    /// default route (RFC 7084 G-4).
    pub fn router_lifetime(&self) -> u16 {
        if !self.link.forwarding || self.lacks_default_route() {
            0
        } else {
            self.params.router_lifetime
        }
    }

    fn lacks_default_route(&self) -> bool {
        self.params.require_default_route && !self.link.default_route
    }

    /// Router lifetime 0 while forwarding is off; say so once per transition.
    fn forwarding_check(&mut self) -> Vec<Action> {
        if !self.link.forwarding && self.params.router_lifetime > 0 {
            if !self.forwarding_warned {
                self.forwarding_warned = true;
                return vec![log(
                    LogLevel::Warn,
                    "IPv6 forwarding is off (net.ipv6.conf.all.forwarding=0): advertising router lifetime 0, hosts will not use us as default router".into(),
                )];
            }
        } else {
            self.forwarding_warned = false;
        }
        Vec::new()
    }

    /// Cease advertising (daemon shutdown, or RA removed from the interface):
    /// one final RA with router lifetime 0 (§6.2.5). Never call on reload.
    pub fn shutdown(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.advertising() {
            for b in self.encode(now, true, &mut out) {
                out.push(Action::SendMulticast(b));
                self.counters.ra_sent_final += 1;
                self.counters.ra_sent_multicast += 1;
            }
        }
        self.stopped = true;
        self.next_multicast = None;
        self.pending_unicast.clear();
        out.push(Action::PersistHistory);
        out
    }

    /// Drop stale prefixes whose valid lifetime is over. True when any went.
    fn expire_prefixes(&mut self, now: Instant) -> bool {
        let before = self.prefixes.len();
        self.prefixes.retain(
            |_, e| !matches!(e.state, PrefixState::Stale { valid_until, .. } if valid_until <= now),
        );
        before != self.prefixes.len()
    }

    /// Bring the prefix table in line with params and link facts. True when
    /// the set of advertised prefixes or their flags/configured lifetimes changed.
    fn refresh_prefixes(&mut self, now: Instant) -> bool {
        // What should be advertised now: (prefix, params, source, address lifetimes).
        let mut want: BTreeMap<Ipv6Prefix, Wanted<'_>> = BTreeMap::new();
        for pp in &self.params.prefixes {
            if pp.is_template() {
                for a in &self.link.addrs {
                    if a.prefix.len() != pp.prefix.len() || a.deprecated || a.prefix.is_link_local()
                    {
                        continue;
                    }
                    // An address whose valid lifetime has run out (we track
                    // its deadline) counts as gone.
                    let fact = (a.preferred_lft, a.valid_lft);
                    let expired = match self.prefixes.get(&a.prefix).map(|e| &e.state) {
                        Some(PrefixState::Active {
                            addr_lft: Some(l),
                            addr_valid_until: Some(v),
                            ..
                        }) => *l == fact && *v <= now,
                        _ => self.expired_facts.get(&a.prefix) == Some(&fact),
                    };
                    if expired {
                        continue;
                    }
                    want.entry(a.prefix).or_insert((
                        pp,
                        PrefixSource::Interface,
                        Some((a.preferred_lft, a.valid_lft)),
                    ));
                }
            } else {
                want.entry(pp.prefix)
                    .or_insert((pp, PrefixSource::Config, None));
            }
        }
        let addrs = &self.link.addrs;
        self.expired_facts.retain(|p, f| {
            addrs
                .iter()
                .any(|a| a.prefix == *p && (a.preferred_lft, a.valid_lft) == *f)
        });
        let mut changed = false;
        let decrement = self.params.decrement_lifetimes;
        // Withdraw what is no longer wanted (RFC 9096 §3, L-13): PL 0 and VL
        // min(what hosts were told, 2 h), counting down from now.
        for (p, e) in self.prefixes.iter_mut() {
            if want.contains_key(p) || e.is_stale() {
                continue;
            }
            let (vl, _) = e.lifetimes(now, decrement);
            let vl = vl.min(STALE_VALID_LIFETIME_CAP);
            if let PrefixState::Active {
                addr_lft: Some(fact),
                addr_valid_until: Some(v),
                ..
            } = &e.state
            {
                if *v <= now {
                    self.expired_facts.insert(*p, *fact);
                }
            }
            e.state = PrefixState::Stale {
                valid_until: now + Duration::from_secs(u64::from(vl)),
            };
            changed = true;
        }
        for (p, (pp, source, addr_lft)) in want {
            let entry = self.prefixes.get_mut(&p);
            match entry {
                Some(PrefixEntry {
                    on_link,
                    autonomous,
                    source: src,
                    state:
                        PrefixState::Active {
                            valid_lifetime,
                            preferred_lifetime,
                            addr_lft: old_lft,
                            addr_preferred_until,
                            addr_valid_until,
                            ..
                        },
                }) => {
                    if (
                        *on_link,
                        *autonomous,
                        *valid_lifetime,
                        *preferred_lifetime,
                        *src,
                    ) != (
                        pp.on_link,
                        pp.autonomous,
                        pp.valid_lifetime,
                        pp.preferred_lifetime,
                        source,
                    ) {
                        changed = true;
                    }
                    *on_link = pp.on_link;
                    *autonomous = pp.autonomous;
                    *valid_lifetime = pp.valid_lifetime;
                    *preferred_lifetime = pp.preferred_lifetime;
                    *src = source;
                    // Same fact again: keep the deadlines we computed when it
                    // was first reported; a new fact restarts them.
                    if *old_lft != addr_lft {
                        *old_lft = addr_lft;
                        *addr_preferred_until = addr_lft.and_then(|(pl, _)| deadline(now, pl));
                        *addr_valid_until = addr_lft.and_then(|(_, vl)| deadline(now, vl));
                    }
                }
                _ => {
                    changed = true;
                    self.prefixes.insert(
                        p,
                        PrefixEntry {
                            on_link: pp.on_link,
                            autonomous: pp.autonomous,
                            source,
                            state: PrefixState::Active {
                                valid_lifetime: pp.valid_lifetime,
                                preferred_lifetime: pp.preferred_lifetime,
                                first_advertised: now,
                                addr_lft,
                                addr_preferred_until: addr_lft
                                    .and_then(|(pl, _)| deadline(now, pl)),
                                addr_valid_until: addr_lft.and_then(|(_, vl)| deadline(now, vl)),
                            },
                        },
                    );
                }
            }
        }
        changed
    }

    /// The RA of [`Self::build`] as bytes, split into several RAs when it
    /// does not fit the link MTU. RFC 4861 §6.2.3: "If including all options
    /// causes the size of an advertisement to exceed the link MTU, multiple
    /// advertisements can be sent, each containing a subset of the options."
    /// A fragmented RA would be no help: hosts drop fragmented ND messages
    /// (RFC 6980 §5). Every part carries the header fields and the Source
    /// Link-layer Address and MTU options; the prefixes, routes, DNS and the
    /// rest are packed in order, so the parts together say what one RA would.
    /// An option too big for any RA (say, hundreds of DNS servers) is sent
    /// anyway, with a warning once.
    pub fn encode_parts(
        &self,
        now: Instant,
        final_ra: bool,
    ) -> Result<(Vec<Vec<u8>>, bool), EmitError> {
        let full = self.build(now, final_ra);
        let whole = full.to_bytes()?;
        // The IPv6 header takes 40 bytes of the MTU; never below IPv6's minimum.
        let room = self.link.mtu.max(1280) as usize - 40;
        if whole.len() <= room {
            return Ok((vec![whole], false));
        }
        let is_common =
            |o: &NdOption| matches!(o, NdOption::SourceLinkLayerAddress(_) | NdOption::Mtu(_));
        let (common, rest): (Vec<NdOption>, Vec<NdOption>) =
            full.options.iter().cloned().partition(is_common);
        let mut parts = Vec::new();
        let mut oversized = false;
        let mut part = RouterAdvertisement {
            options: common.clone(),
            ..full.clone()
        };
        let mut part_bytes = part.to_bytes()?;
        let mut has_own = false;
        for o in rest {
            part.options.push(o.clone());
            let b = part.to_bytes()?;
            if b.len() <= room || !has_own {
                oversized |= b.len() > room;
                part_bytes = b;
                has_own = true;
                continue;
            }
            // Full: close this part without the option, start the next with it.
            parts.push(std::mem::take(&mut part_bytes));
            part.options.truncate(common.len());
            part.options.push(o);
            part_bytes = part.to_bytes()?;
            oversized |= part_bytes.len() > room;
        }
        parts.push(part_bytes);
        Ok((parts, oversized))
    }

    /// [`Self::encode_parts`] for the timers: encoding errors and an option
    /// too big for the link are logged (the latter once).
    fn encode(&mut self, now: Instant, final_ra: bool, out: &mut Vec<Action>) -> Vec<Vec<u8>> {
        match self.encode_parts(now, final_ra) {
            Ok((parts, oversized)) => {
                if oversized && !self.size_warned {
                    self.size_warned = true;
                    out.push(log(
                        LogLevel::Warn,
                        format!(
                            "an RA option does not fit the link MTU {} even alone; it is sent anyway and hosts may drop it",
                            self.link.mtu
                        ),
                    ));
                }
                parts
            }
            Err(e) => {
                out.push(log(LogLevel::Warn, format!("cannot encode RA: {e}")));
                Vec::new()
            }
        }
    }

    /// The RA we would send at `now`; `final_ra` for the §6.2.5 final one.
    pub fn build(&self, now: Instant, final_ra: bool) -> RouterAdvertisement {
        let p = &self.params;
        let router_lifetime = if final_ra { 0 } else { self.router_lifetime() };
        let mut options = Vec::new();
        if p.source_lladdr {
            if let Some(ll) = &self.link.lladdr {
                options.push(NdOption::SourceLinkLayerAddress(ll.clone()));
            }
        }
        if let Some(mtu) = p.mtu {
            options.push(NdOption::Mtu(mtu));
        }
        // Active prefixes first, then the stale ones.
        for stale in [false, true] {
            for (prefix, e) in self.prefixes.iter().filter(|(_, e)| e.is_stale() == stale) {
                let (valid_lifetime, preferred_lifetime) = e.lifetimes(now, p.decrement_lifetimes);
                options.push(NdOption::PrefixInformation(PrefixInformation {
                    prefix_len: prefix.len(),
                    on_link: e.on_link,
                    autonomous: e.autonomous,
                    router_address: false,
                    valid_lifetime,
                    preferred_lifetime,
                    prefix: prefix.addr(),
                }));
            }
        }
        // On the final RA, routes and DNS go with the router (as radvd does).
        let lt = |l: u32| if final_ra { 0 } else { l };
        for r in &p.routes {
            options.push(NdOption::RouteInformation(RouteInformation {
                prefix_len: r.prefix.len(),
                preference: r.preference,
                route_lifetime: lt(r.lifetime),
                prefix: r.prefix.addr(),
            }));
        }
        if !p.rdnss.is_empty() {
            options.push(NdOption::Rdnss(Rdnss {
                lifetime: lt(p.dns_lifetime),
                servers: p.rdnss.clone(),
            }));
        }
        if !p.dnssl.is_empty() {
            options.push(NdOption::Dnssl(Dnssl {
                lifetime: lt(p.dns_lifetime),
                domains: p.dnssl.clone(),
            }));
        }
        if let Some((prefix, lifetime)) = p.pref64 {
            options.push(NdOption::Pref64(Pref64 {
                lifetime: if final_ra {
                    0
                } else {
                    lifetime.min(Pref64::MAX_LIFETIME)
                },
                prefix_len: prefix.len(),
                prefix: prefix.addr(),
            }));
        }
        if let Some(uri) = &p.captive_portal {
            options.push(NdOption::CaptivePortal(uri.clone()));
        }
        RouterAdvertisement {
            cur_hop_limit: p.cur_hop_limit,
            managed: p.managed,
            other_config: p.other_config,
            home_agent: false,
            preference: p.preference,
            proxy: false,
            router_lifetime,
            reachable_time: p.reachable_time,
            retrans_timer: p.retrans_timer,
            options,
        }
    }

    /// Snapshot for `v6ctl show ra`.
    pub fn status(&self, now: Instant) -> Status {
        let adv = self.advertising();
        let prefixes = self
            .prefixes
            .iter()
            .map(|(prefix, e)| {
                let (valid_lifetime, preferred_lifetime) =
                    e.lifetimes(now, self.params.decrement_lifetimes);
                PrefixStatus {
                    prefix: *prefix,
                    source: e.source,
                    stale: e.is_stale(),
                    on_link: e.on_link,
                    autonomous: e.autonomous,
                    valid_lifetime,
                    preferred_lifetime,
                }
            })
            .collect();
        Status {
            state: self.state(),
            forwarding: self.link.forwarding,
            router_lifetime: self.router_lifetime(),
            next_ra_in: if adv {
                self.next_multicast
                    .map(|t| t.saturating_duration_since(now))
            } else {
                None
            },
            last_ra_ago: self
                .last_multicast
                .map(|t| now.saturating_duration_since(t)),
            initial_left: self.initial_left,
            prefixes,
            counters: self.counters.clone(),
        }
    }

    /// The prefix history to save; `wall` is the wall-clock time matching `now`.
    pub fn export_history(&self, now: Instant, wall: SystemTime) -> PrefixHistory {
        let unix_now = wall
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        PrefixHistory {
            prefixes: self
                .prefixes
                .iter()
                .map(|(prefix, e)| {
                    let (vl, _) = e.lifetimes(now, self.params.decrement_lifetimes);
                    HistoryEntry {
                        prefix: *prefix,
                        on_link: e.on_link,
                        autonomous: e.autonomous,
                        stale: e.is_stale(),
                        valid_until: (vl != INFINITY).then(|| unix_now + u64::from(vl)),
                    }
                })
                .collect(),
        }
    }

    /// Load a saved history: every prefix in it that we do not advertise now
    /// is withdrawn as RFC 9096 §3 says, with what is left of its valid
    /// lifetime (at most 2 h). Returns the log/persist actions.
    pub fn import_history(
        &mut self,
        now: Instant,
        wall: SystemTime,
        h: &PrefixHistory,
    ) -> Vec<Action> {
        let unix_now = wall
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut out = Vec::new();
        for he in &h.prefixes {
            if self.prefixes.contains_key(&he.prefix) {
                continue;
            }
            let left = match he.valid_until {
                None => u64::from(STALE_VALID_LIFETIME_CAP),
                Some(t) => t
                    .saturating_sub(unix_now)
                    .min(u64::from(STALE_VALID_LIFETIME_CAP)),
            };
            if left == 0 {
                continue;
            }
            self.prefixes.insert(
                he.prefix,
                PrefixEntry {
                    on_link: he.on_link,
                    autonomous: he.autonomous,
                    source: PrefixSource::History,
                    state: PrefixState::Stale {
                        valid_until: now + Duration::from_secs(left),
                    },
                },
            );
            out.push(log(
                LogLevel::Info,
                format!("{} advertised before the restart is gone: deprecating it for {left} s (RFC 9096)", he.prefix),
            ));
        }
        if !out.is_empty() {
            out.push(Action::PersistHistory);
            if self.advertising() {
                self.start_fast(now);
            }
        }
        out
    }
}

fn log(level: LogLevel, message: String) -> Action {
    Action::Log { level, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{parse_ra, NdOption};

    const LL: &str = "fe80::1";

    fn p64(s: &str) -> Ipv6Prefix {
        s.parse().unwrap()
    }

    /// The issue's radvd.conf: M on, MTU 1280, Max 300, 2001:db8:1::/64 L+A.
    fn issue_params() -> Params {
        let mut p = Params::with_max_interval(Duration::from_secs(300));
        p.managed = true;
        p.mtu = Some(1280);
        p.prefixes.push(PrefixParams {
            prefix: p64("2001:db8:1::/64"),
            on_link: true,
            autonomous: true,
            valid_lifetime: 86400,
            preferred_lifetime: 14400,
        });
        p
    }

    fn up_link() -> LinkInput {
        LinkInput {
            usable: true,
            lladdr: Some(vec![2, 0, 0, 0, 0, 1]),
            link_local: Some(LL.parse().unwrap()),
            mtu: 1500,
            addrs: vec![],
            forwarding: true,
            default_route: false,
        }
    }

    fn sends(actions: &[Action]) -> Vec<RouterAdvertisement> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::SendMulticast(b) | Action::SendUnicast { bytes: b, .. } => {
                    Some(parse_ra(b, LL.parse().unwrap()).unwrap())
                }
                _ => None,
            })
            .collect()
    }

    /// Run timers from `from` until `until`, collecting (time, action).
    fn run(a: &mut Advertiser, until: Instant) -> Vec<(Instant, Action)> {
        let mut out = Vec::new();
        while let Some(t) = a.next_timer() {
            if t > until {
                break;
            }
            for act in a.on_timer(t) {
                out.push((t, act));
            }
        }
        out
    }

    fn multicast_times(v: &[(Instant, Action)]) -> Vec<Instant> {
        v.iter()
            .filter(|(_, a)| matches!(a, Action::SendMulticast(_)))
            .map(|(t, _)| *t)
            .collect()
    }

    /// RFC 4861 §6.2.3: what does not fit one RA goes out as several, each
    /// within the link MTU, together carrying every option once; SLLA and
    /// MTU ride in each.
    #[test]
    fn too_many_options_for_the_mtu_are_split_over_several_ras() {
        let t0 = Instant::now();
        let mut p = issue_params();
        p.routes = (0..250u16)
            .map(|i| RouteParams {
                prefix: Ipv6Prefix::new(Ipv6Addr::new(0x2001, 0xdb8, 0x100, i, 0, 0, 0, 0), 64),
                preference: RouterPreference::Medium,
                lifetime: 1800,
            })
            .collect();
        let mut a = Advertiser::new(t0, p, 7);
        a.update_link(t0, up_link());
        let out = run(&mut a, t0 + Duration::from_secs(1));
        let msgs: Vec<Vec<u8>> = out
            .iter()
            .filter_map(|(_, x)| match x {
                Action::SendMulticast(b) => Some(b.clone()),
                _ => None,
            })
            .collect();
        assert!(
            msgs.len() >= 3,
            "150 routes of 24 bytes need 3 RAs: {}",
            msgs.len()
        );
        let mut routes = std::collections::BTreeSet::new();
        let mut prefixes = 0;
        for b in &msgs {
            assert!(b.len() + 40 <= 1500, "part of {} bytes", b.len());
            let ra = parse_ra(b, LL.parse().unwrap()).unwrap();
            assert_eq!(ra.mtu(), Some(1280), "MTU option in every part");
            assert!(ra
                .options
                .iter()
                .any(|o| matches!(o, NdOption::SourceLinkLayerAddress(_))));
            assert!(ra.managed, "header fields in every part");
            prefixes += ra.prefixes().count();
            for o in &ra.options {
                if let NdOption::RouteInformation(r) = o {
                    assert!(routes.insert(r.prefix), "route {} twice", r.prefix);
                }
            }
        }
        assert_eq!(routes.len(), 250);
        assert_eq!(prefixes, 1, "the prefix once");
        assert!(
            !out.iter().any(|(_, x)| matches!(x, Action::Log { .. })),
            "nothing to warn about: {out:?}"
        );
        // A small RA stays one message.
        let (parts, oversized) = Advertiser::new(t0, issue_params(), 1)
            .encode_parts(t0, false)
            .unwrap();
        assert_eq!((parts.len(), oversized), (1, false));
    }

    fn started(seed: u64) -> (Instant, Advertiser) {
        let t0 = Instant::now();
        let mut a = Advertiser::new(t0, issue_params(), seed);
        a.update_link(t0, up_link());
        (t0, a)
    }

    #[test]
    fn defaults_follow_rfc_and_radvd() {
        let p = Params::with_max_interval(Duration::from_secs(600));
        assert_eq!(p.min_interval, Duration::from_secs(198));
        assert_eq!(p.router_lifetime, 1800);
        let p = Params::with_max_interval(Duration::from_secs(4));
        assert_eq!(p.min_interval, Duration::from_secs(4));
        assert_eq!(
            Params::default_router_lifetime(Duration::from_secs(1800)),
            5400
        );
        assert_eq!(
            Params::default_router_lifetime(Duration::from_secs(4000)),
            9000
        );
    }

    #[test]
    fn first_ra_at_once_then_fast_then_slow() {
        for seed in 0..50 {
            let (t0, mut a) = started(seed);
            assert_eq!(a.next_timer(), Some(t0));
            let v = run(&mut a, t0 + Duration::from_secs(3600));
            let times = multicast_times(&v);
            assert_eq!(times[0], t0);
            // §6.2.4: the intervals after the first 3 RAs are at most 16 s,
            // the rest in [Min, Max] = [99, 300].
            for w in times.windows(2).take(3) {
                let d = w[1] - w[0];
                assert!(
                    d >= Duration::from_secs(3) && d <= MAX_INITIAL_RTR_ADVERT_INTERVAL,
                    "{d:?}"
                );
            }
            for w in times.windows(2).skip(3) {
                let d = w[1] - w[0];
                assert!(
                    d >= Duration::from_secs(99) && d <= Duration::from_secs(300),
                    "seed {seed}: {d:?}"
                );
            }
            assert!(times.len() >= 4 + 3000 / 300);
            let ra = sends(&[v[0].1.clone()]).remove(0);
            assert!(ra.managed);
            assert_eq!(ra.mtu(), Some(1280));
            assert_eq!(ra.router_lifetime, 900);
            assert_eq!(ra.source_lladdr(), Some(&[2, 0, 0, 0, 0, 1][..]));
            let pi = ra.prefixes().next().unwrap();
            assert_eq!(
                (
                    pi.valid_lifetime,
                    pi.preferred_lifetime,
                    pi.on_link,
                    pi.autonomous
                ),
                (86400, 14400, true, true)
            );
        }
    }

    #[test]
    fn intervals_are_random_and_cover_the_range() {
        let (t0, mut a) = started(7);
        let v = run(&mut a, t0 + Duration::from_secs(300 * 400));
        let times = multicast_times(&v);
        let gaps: Vec<Duration> = times.windows(2).skip(3).map(|w| w[1] - w[0]).collect();
        let lo = gaps.iter().min().unwrap();
        let hi = gaps.iter().max().unwrap();
        assert!(
            *lo < Duration::from_secs(120) && *hi > Duration::from_secs(280),
            "{lo:?} {hi:?}"
        );
    }

    #[test]
    fn no_ra_without_link_local_or_link() {
        let t0 = Instant::now();
        let mut a = Advertiser::new(t0, issue_params(), 1);
        assert_eq!(a.next_timer(), None);
        let mut l = up_link();
        l.link_local = None;
        a.update_link(t0, l);
        assert_eq!(a.state(), AdvState::NoLinkLocal);
        assert_eq!(a.next_timer(), None);
        a.update_link(t0 + Duration::from_secs(2), up_link());
        assert_eq!(a.next_timer(), Some(t0 + Duration::from_secs(2)));
    }

    #[test]
    fn link_down_stops_and_link_up_restarts_fast() {
        let (t0, mut a) = started(3);
        run(&mut a, t0 + Duration::from_secs(100));
        let down = t0 + Duration::from_secs(100);
        let mut l = up_link();
        l.usable = false;
        a.update_link(down, l);
        assert_eq!(a.state(), AdvState::LinkDown);
        assert!(multicast_times(&run(&mut a, down + Duration::from_secs(1000))).is_empty());
        let up = down + Duration::from_secs(1000);
        a.update_link(up, up_link());
        // First RA at once on link up, then fast ones again.
        let v = run(&mut a, up + Duration::from_secs(60));
        let times = multicast_times(&v);
        assert_eq!(times[0], up);
        assert!(times.len() >= 4, "{}", times.len());
    }

    #[test]
    fn without_a_default_route_the_router_lifetime_is_zero_when_required() {
        // Off (radvd): the default route does not matter.
        let (t0, mut a) = started(5);
        let first = sends(&a.on_timer(t0));
        assert_eq!(first[0].router_lifetime, 900);
        // On (RFC 7084 G-4): none yet, so lifetime 0 from the first RA.
        let mut p = issue_params();
        p.require_default_route = true;
        let t0 = Instant::now();
        let mut a = Advertiser::new(t0, p, 5);
        a.update_link(t0, up_link());
        let ras = sends(&a.on_timer(t0));
        assert_eq!(ras[0].router_lifetime, 0);
        assert_eq!(a.status(t0).router_lifetime, 0);
        // The uplink's default route appears: fast RAs with the lifetime.
        let t1 = t0 + Duration::from_secs(20);
        run(&mut a, t1);
        let routed = LinkInput {
            default_route: true,
            ..up_link()
        };
        let acts = a.update_link(t1, routed.clone());
        assert!(acts
            .iter()
            .any(|x| matches!(x, Action::Log { message, .. } if message.contains("G-4"))));
        assert_eq!(
            a.next_timer(),
            Some(t1),
            "an RA at once (last one > 3 s ago)"
        );
        let ras = sends(&a.on_timer(t1));
        assert_eq!(ras[0].router_lifetime, 900);
        // G-5: it goes away again: RAs with lifetime 0, as soon as
        // MIN_DELAY_BETWEEN_RAS allows.
        let t2 = t1 + Duration::from_secs(1);
        a.update_link(t2, up_link());
        assert_eq!(a.next_timer(), Some(t1 + MIN_DELAY_BETWEEN_RAS));
        let ras = sends(&a.on_timer(t1 + MIN_DELAY_BETWEEN_RAS));
        assert_eq!(ras[0].router_lifetime, 0);
        // The final RA is 0 either way; forwarding off wins too.
        a.update_link(
            t2,
            LinkInput {
                forwarding: false,
                ..routed
            },
        );
        assert_eq!(a.status(t2).router_lifetime, 0);
    }

    #[test]
    fn a_default_route_counts_unless_it_leaves_through_the_lan() {
        use v6common::{RouteFact, RouteKind};
        let mut v = KernelView::default();
        let route = |oif, table| RouteFact {
            dst: "::/0".parse().unwrap(),
            gateway: Some("fe80::1".parse().unwrap()),
            oif: Some(oif),
            protocol: v6common::kernel::rtprot::RA,
            metric: 1024,
            table,
            kind: RouteKind::Unicast,
        };
        assert!(!has_default_route(&v, 2));
        v.routes.push(route(2, 254));
        assert!(!has_default_route(&v, 2), "through the LAN itself");
        v.routes.push(route(3, 100));
        assert!(!has_default_route(&v, 2), "another table");
        v.routes.push(route(3, 254));
        assert!(has_default_route(&v, 2));
    }

    #[test]
    fn link_flap_respects_min_delay_between_ras() {
        let (t0, mut a) = started(3);
        run(&mut a, t0);
        let mut l = up_link();
        l.usable = false;
        a.update_link(t0 + Duration::from_secs(1), l);
        a.update_link(t0 + Duration::from_secs(2), up_link());
        assert_eq!(a.next_timer(), Some(t0 + MIN_DELAY_BETWEEN_RAS));
    }

    #[test]
    fn rs_with_slla_gets_delayed_unicast() {
        let (t0, mut a) = started(5);
        let t = t0 + Duration::from_secs(500);
        run(&mut a, t);
        let rs = RouterSolicitation {
            options: vec![NdOption::SourceLinkLayerAddress(vec![2, 0, 0, 0, 0, 9])],
        };
        let host: Ipv6Addr = "fe80::9".parse().unwrap();
        assert!(a.on_rs(t, host, &rs).is_empty());
        assert!(a.on_rs(t, host, &rs).is_empty());
        let due = a.next_timer().unwrap();
        assert!(due >= t && due <= t + MAX_RA_DELAY_TIME);
        let out = a.on_timer(due);
        let uni: Vec<_> = out
            .iter()
            .filter(|x| matches!(x, Action::SendUnicast { dst, .. } if *dst == host))
            .collect();
        assert_eq!(uni.len(), 1, "one answer for two RSs from the same host");
        assert_eq!(a.status(due).counters.rs_received, 2);
    }

    #[test]
    fn rs_without_slla_gets_rate_limited_multicast() {
        let (t0, mut a) = started(9);
        let t1 = t0 + Duration::from_secs(60);
        run(&mut a, t1);
        let rs = RouterSolicitation::default();
        let last = a.last_multicast.unwrap();
        let t = t1 + Duration::from_secs(1000);
        run(&mut a, t);
        let last2 = a.last_multicast.unwrap();
        assert!(last2 > last);
        // An RS 1 s after a multicast RA waits for MIN_DELAY_BETWEEN_RAS.
        let t_rs = last2 + Duration::from_secs(1);
        a.on_rs(t_rs, Ipv6Addr::UNSPECIFIED, &rs);
        let due = a.next_timer().unwrap();
        assert!(
            due >= last2 + MIN_DELAY_BETWEEN_RAS
                && due <= last2 + MIN_DELAY_BETWEEN_RAS + MAX_RA_DELAY_TIME
        );
        // A burst of RSs gives one multicast RA.
        for i in 0..20 {
            a.on_rs(
                t_rs + Duration::from_millis(i * 10),
                Ipv6Addr::UNSPECIFIED,
                &rs,
            );
        }
        let v = run(&mut a, last2 + Duration::from_secs(10));
        assert_eq!(multicast_times(&v).len(), 1);
        assert_eq!(a.status(due).counters.ra_sent_solicited, 1);
        // Unicast disabled: an RS with SLLA is answered by multicast.
        let mut p = issue_params();
        p.unicast_solicited = false;
        let (t0, mut b) = (Instant::now(), Advertiser::new(Instant::now(), p, 1));
        b.update_link(t0, up_link());
        run(&mut b, t0 + Duration::from_secs(200));
        let rs = RouterSolicitation {
            options: vec![NdOption::SourceLinkLayerAddress(vec![2, 0, 0, 0, 0, 9])],
        };
        let t = t0 + Duration::from_secs(200);
        b.on_rs(t, "fe80::9".parse().unwrap(), &rs);
        let out = b.on_timer(b.next_timer().unwrap());
        assert!(matches!(out[..], [Action::SendMulticast(_)]), "{out:?}");
    }

    #[test]
    fn forwarding_off_gives_lifetime_zero_and_one_warning() {
        let t0 = Instant::now();
        let mut a = Advertiser::new(t0, issue_params(), 1);
        let mut l = up_link();
        l.forwarding = false;
        let out = a.update_link(t0, l.clone());
        assert_eq!(
            out.iter()
                .filter(|x| matches!(
                    x,
                    Action::Log {
                        level: LogLevel::Warn,
                        ..
                    }
                ))
                .count(),
            1
        );
        let ra = sends(&a.on_timer(t0)).remove(0);
        assert_eq!(ra.router_lifetime, 0);
        // Turning it on restores the lifetime with fast RAs.
        let t1 = t0 + Duration::from_secs(20);
        run(&mut a, t1);
        l.forwarding = true;
        a.update_link(t1, l);
        let ra = sends(&a.on_timer(a.next_timer().unwrap())).remove(0);
        assert_eq!(ra.router_lifetime, 900);
    }

    #[test]
    fn shutdown_sends_final_ra_with_zero_lifetime() {
        let (t0, mut a) = started(2);
        let mut p = issue_params();
        p.rdnss = vec!["2001:db8::53".parse().unwrap()];
        a.update_params(t0, p);
        run(&mut a, t0 + Duration::from_secs(30));
        let out = a.shutdown(t0 + Duration::from_secs(30));
        let ras = sends(&out);
        assert_eq!(ras.len(), 1);
        assert_eq!(ras[0].router_lifetime, 0);
        assert_eq!(ras[0].rdnss().next().unwrap().lifetime, 0);
        assert_eq!(a.state(), AdvState::Stopped);
        assert_eq!(a.next_timer(), None);
        assert!(out.contains(&Action::PersistHistory));
    }

    #[test]
    fn identical_reload_changes_nothing() {
        let (t0, mut a) = started(4);
        run(&mut a, t0 + Duration::from_secs(200));
        let before = a.next_timer();
        let init = a.initial_left;
        assert!(a
            .update_params(t0 + Duration::from_secs(200), issue_params())
            .is_empty());
        assert_eq!(a.next_timer(), before);
        assert_eq!(a.initial_left, init);
        // The same link facts again change nothing either.
        assert!(a
            .update_link(t0 + Duration::from_secs(200), up_link())
            .is_empty());
        assert_eq!(a.next_timer(), before);
    }

    #[test]
    fn changed_reload_sends_fast_ras() {
        let (t0, mut a) = started(4);
        let t = t0 + Duration::from_secs(200);
        run(&mut a, t);
        let mut p = issue_params();
        p.other_config = true;
        a.update_params(t, p);
        assert_eq!(a.next_timer(), Some(t));
        let ra = sends(&a.on_timer(t)).remove(0);
        assert!(ra.other_config);
    }

    #[test]
    fn removed_prefix_is_deprecated_then_dropped() {
        let (t0, mut a) = started(6);
        let t = t0 + Duration::from_secs(200);
        run(&mut a, t);
        let mut p = issue_params();
        p.prefixes.clear();
        let out = a.update_params(t, p);
        assert!(out.contains(&Action::PersistHistory));
        let ra = sends(&a.on_timer(a.next_timer().unwrap())).remove(0);
        let pi = ra.prefixes().next().unwrap();
        // RFC 9096 §3: PL 0, VL min(86400, 2h).
        assert_eq!((pi.preferred_lifetime, pi.valid_lifetime), (0, 7200));
        // Counting down.
        let later = t + Duration::from_secs(3600);
        run(&mut a, later);
        let ra = a.build(later, false);
        assert_eq!(ra.prefixes().next().unwrap().valid_lifetime, 3600);
        let st = a.status(later);
        assert!(st.prefixes[0].stale);
        // Gone after 2 h.
        let end = t + Duration::from_secs(7201);
        run(&mut a, end);
        assert_eq!(a.build(end, false).prefixes().count(), 0);
        // A prefix that comes back is advertised normally again.
        a.update_params(end, issue_params());
        let pi = a.build(end, false).prefixes().next().unwrap().clone();
        assert_eq!((pi.valid_lifetime, pi.preferred_lifetime), (86400, 14400));
    }

    #[test]
    fn template_follows_interface_addresses() {
        let t0 = Instant::now();
        let mut p = issue_params();
        p.prefixes[0].prefix = p64("::/64");
        let mut a = Advertiser::new(t0, p, 1);
        let mut l = up_link();
        let addr = |s: &str, dep: bool, pl: u32, vl: u32| LinkAddr {
            prefix: p64(s),
            deprecated: dep,
            preferred_lft: pl,
            valid_lft: vl,
        };
        l.addrs = vec![
            addr("2001:db8:1::/64", false, INFINITY, INFINITY),
            addr("2001:db8:2::/64", true, 0, 5000),
            addr("2001:db8:3::/56", false, INFINITY, INFINITY),
            addr("2001:db8:4::/64", false, 1000, 2000),
        ];
        a.update_link(t0, l.clone());
        let ra = a.build(t0, false);
        let got: Vec<_> = ra
            .prefixes()
            .map(|p| (p.prefix.to_string(), p.valid_lifetime, p.preferred_lifetime))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2001:db8:1::".into(), 86400, 14400),
                ("2001:db8:4::".into(), 2000, 1000)
            ],
            "deprecated and non-/64 excluded; lifetimes capped by the address's"
        );
        // The same facts reported again later do not restart the address deadlines.
        let t1 = t0 + Duration::from_secs(500);
        a.update_link(t1, l.clone());
        let ra = a.build(t1, false);
        assert_eq!(ra.prefixes().nth(1).unwrap().valid_lifetime, 1500);
        // Renumbering: 2001:db8:1::/64 goes, 2001:db8:5::/64 comes.
        l.addrs.remove(0);
        l.addrs
            .push(addr("2001:db8:5::/64", false, INFINITY, INFINITY));
        let out = a.update_link(t1, l);
        assert!(out.contains(&Action::PersistHistory));
        // Renumbering restarts the fast RAs, the first one now.
        assert_eq!(a.next_timer(), Some(t1));
        let ra = a.build(t1, false);
        let got: Vec<_> = ra
            .prefixes()
            .map(|p| (p.prefix.to_string(), p.valid_lifetime, p.preferred_lifetime))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2001:db8:4::".into(), 1500, 500),
                ("2001:db8:5::".into(), 86400, 14400),
                ("2001:db8:1::".into(), 7200, 0),
            ]
        );
        // When 2001:db8:4::/64's address runs out, it goes stale by itself.
        let t2 = t0 + Duration::from_secs(2000);
        a.on_timer(t2);
        let st = a.status(t2);
        let four = st
            .prefixes
            .iter()
            .find(|p| p.prefix == p64("2001:db8:4::/64"))
            .unwrap();
        assert!(four.stale);
        assert_eq!(four.valid_lifetime, 0);
        // ... and stays so while the same (expired) fact is still reported.
        a.on_timer(t2 + Duration::from_secs(1));
        let mut l2 = up_link();
        l2.addrs = vec![
            addr("2001:db8:4::/64", false, 1000, 2000),
            addr("2001:db8:5::/64", false, INFINITY, INFINITY),
        ];
        a.update_link(t2 + Duration::from_secs(2), l2);
        let st = a.status(t2 + Duration::from_secs(2));
        // Its valid lifetime is over: gone from the RA, not advertised anew.
        let four = st
            .prefixes
            .iter()
            .find(|p| p.prefix == p64("2001:db8:4::/64"));
        assert!(four.is_none(), "revived by a stale fact: {four:?}");
        assert!(a
            .build(t2 + Duration::from_secs(2), false)
            .prefixes()
            .all(|p| p.prefix != p64("2001:db8:4::/64").addr()));
        // A fresh fact (new lifetimes, e.g. the ISP renewed) brings it back.
        let mut l3 = up_link();
        l3.addrs = vec![addr("2001:db8:4::/64", false, 3000, 6000)];
        a.update_link(t2 + Duration::from_secs(3), l3);
        let st = a.status(t2 + Duration::from_secs(3));
        let four = st
            .prefixes
            .iter()
            .find(|p| p.prefix == p64("2001:db8:4::/64"))
            .unwrap();
        assert!(!four.stale);
        assert_eq!((four.valid_lifetime, four.preferred_lifetime), (6000, 3000));
    }

    #[test]
    fn decrementing_lifetimes() {
        let t0 = Instant::now();
        let mut p = issue_params();
        p.decrement_lifetimes = true;
        let mut a = Advertiser::new(t0, p, 1);
        a.update_link(t0, up_link());
        let t = t0 + Duration::from_secs(1000);
        let pi = a.build(t, false).prefixes().next().unwrap().clone();
        assert_eq!((pi.valid_lifetime, pi.preferred_lifetime), (85400, 13400));
        let t = t0 + Duration::from_secs(20000);
        let pi = a.build(t, false).prefixes().next().unwrap().clone();
        assert_eq!((pi.valid_lifetime, pi.preferred_lifetime), (66400, 0));
    }

    #[test]
    fn history_survives_restart() {
        let (t0, a) = started(1);
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let h = a.export_history(t0, wall);
        assert_eq!(h.prefixes.len(), 1);
        assert_eq!(h.prefixes[0].valid_until, Some(1_800_000_000 + 86400));
        let json = serde_json::to_string(&h).unwrap();
        assert!(json.contains("\"2001:db8:1::/64\""), "{json}");
        let h: PrefixHistory = serde_json::from_str(&json).unwrap();
        // Restart 10 minutes later with the prefix gone from the config.
        let t1 = Instant::now();
        let mut p = issue_params();
        p.prefixes.clear();
        let mut b = Advertiser::new(t1, p, 2);
        b.update_link(t1, up_link());
        let out = b.import_history(t1, wall + Duration::from_secs(600), &h);
        assert!(out.contains(&Action::PersistHistory));
        let pi = b.build(t1, false).prefixes().next().unwrap().clone();
        assert_eq!((pi.preferred_lifetime, pi.valid_lifetime), (0, 7200));
        assert_eq!(b.status(t1).prefixes[0].source, PrefixSource::History);
        // A history entry whose valid lifetime already ended is ignored.
        let mut c = Advertiser::new(t1, Params::with_max_interval(Duration::from_secs(300)), 3);
        assert!(c
            .import_history(t1, wall + Duration::from_secs(90000), &h)
            .is_empty());
        // A prefix still configured is not touched.
        let mut d = Advertiser::new(t1, issue_params(), 3);
        assert!(d.import_history(t1, wall, &h).is_empty());
    }

    #[test]
    fn consistency_checks_report_differences() {
        let (t0, mut a) = started(1);
        let other: Ipv6Addr = "fe80::2".parse().unwrap();
        let mut ra = a.build(t0, false);
        assert!(
            a.on_ra(t0, other, &ra).is_empty(),
            "identical RA is consistent"
        );
        ra.managed = false;
        ra.cur_hop_limit = 255;
        ra.options.retain(|o| !matches!(o, NdOption::Mtu(_)));
        ra.options.push(NdOption::Mtu(1500));
        if let Some(NdOption::PrefixInformation(pi)) = ra
            .options
            .iter_mut()
            .find(|o| matches!(o, NdOption::PrefixInformation(_)))
        {
            pi.valid_lifetime = 3600;
        }
        let out = a.on_ra(t0, other, &ra);
        let Action::Log { message, .. } = &out[0] else {
            panic!("{out:?}")
        };
        for needle in [
            "M flag 0",
            "cur hop limit 255",
            "MTU 1500",
            "valid lifetime 3600",
        ] {
            assert!(message.contains(needle), "{needle} in {message}");
        }
        // Unspecified values (0) are not compared; our own RA is ignored.
        ra = a.build(t0, false);
        ra.cur_hop_limit = 0;
        assert!(a.on_ra(t0, other, &ra).is_empty());
        assert!(a
            .on_ra(t0, LL.parse().unwrap(), &RouterAdvertisement::default())
            .is_empty());
        let c = a.status(t0).counters;
        assert_eq!((c.ra_received, c.ra_inconsistent), (3, 1));
    }

    #[test]
    fn new_link_local_restarts_fast_ras() {
        let (t0, mut a) = started(8);
        let t = t0 + Duration::from_secs(400);
        run(&mut a, t);
        let mut l = up_link();
        l.link_local = Some("fe80::99".parse().unwrap());
        a.update_link(t, l);
        assert_eq!(a.next_timer(), Some(t));
        assert_eq!(a.initial_left, MAX_INITIAL_RTR_ADVERTISEMENTS);
    }

    #[test]
    fn an_option_too_big_for_any_ra_is_sent_and_reported_once() {
        let t0 = Instant::now();
        let mut p = issue_params();
        // One RDNSS option of 8 + 100 * 16 bytes: more than a 1500-byte
        // link holds even alone.
        p.rdnss = (0..100u16)
            .map(|i| Ipv6Addr::new(0x2001, 0xdb8, 0, 0x53, 0, 0, 0, i))
            .collect();
        let mut a = Advertiser::new(t0, p, 1);
        a.update_link(t0, up_link());
        let out = a.on_timer(t0);
        let warns = |o: &[Action]| {
            o.iter().filter(|x| matches!(x, Action::Log { level: LogLevel::Warn, message } if message.contains("does not fit"))).count()
        };
        assert_eq!(warns(&out), 1);
        // The prefix goes in the first RA, the RDNSS option alone in a second.
        let ras = sends(&out);
        assert_eq!(ras.len(), 2);
        assert_eq!(ras[0].prefixes().count(), 1);
        let out = a.on_timer(a.next_timer().unwrap());
        assert_eq!(warns(&out), 0);
        assert_eq!(sends(&out).len(), 2);
    }

    #[test]
    fn options_in_ra() {
        let t0 = Instant::now();
        let mut p = issue_params();
        p.rdnss = vec!["2001:db8::53".parse().unwrap()];
        p.dnssl = vec!["home.arpa".into()];
        p.routes = vec![RouteParams {
            prefix: p64("2001:db8:8::/48"),
            preference: RouterPreference::High,
            lifetime: 900,
        }];
        p.pref64 = Some((p64("64:ff9b::/96"), 1800));
        p.captive_portal = Some("https://cp.example/api".into());
        p.preference = RouterPreference::Low;
        let mut a = Advertiser::new(t0, p, 1);
        a.update_link(t0, up_link());
        let ra = sends(&a.on_timer(t0)).remove(0);
        assert_eq!(ra.preference, RouterPreference::Low);
        assert_eq!(ra.rdnss().next().unwrap().lifetime, 900);
        assert_eq!(
            ra.dnssl().next().unwrap().domains,
            vec!["home.arpa".to_string()]
        );
        assert_eq!(ra.routes().next().unwrap().route_lifetime, 900);
        assert!(ra
            .options
            .iter()
            .any(|o| matches!(o, NdOption::Pref64(x) if x.lifetime == 1800)));
        assert!(ra
            .options
            .contains(&NdOption::CaptivePortal("https://cp.example/api".into())));
    }
}
