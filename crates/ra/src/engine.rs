//! The per-interface advertiser of RFC 4861 §6.2, sans-IO.
//!
//! One [`Advertiser`] per advertising interface. Inputs are method calls with
//! the current time passed in (`now`): a timer tick, a received RS or RA, new
//! parameters (reload), new kernel facts about the link, shutdown. Outputs are
//! [`Action`]s the glue executes (send bytes, log, persist the prefix history).
//! Randomness comes from a `fastrand::Rng` seeded by the constructor, so tests
//! replay exactly.
//!
//! The prefix table is brought in line by `refresh_prefixes` on every timer
//! tick, reload and link change, in four steps: what is wanted (configured prefixes, and templates matched
//! against the interface's addresses; RFC 4861 §6.2.1), forgetting address
//! facts the kernel no longer reports, withdrawing what is no longer wanted
//! (Preferred Lifetime 0, Valid Lifetime at most 2 h: RFC 9096 L-13) and
//! advertising what is, never with lifetimes beyond the address's (RFC 9096
//! §3). What was advertised survives restarts through
//! [`Advertiser::export_history`] and [`Advertiser::import_history`]. The RA
//! is built from it and the parameters ([`Advertiser::build`]) and split when
//! it does not fit the link MTU (RFC 4861 §6.2.3, [`Advertiser::encode_parts`]).
//!
//! As a CE router (RFC 7084) it advertises router lifetime 0 while the
//! router has no default route of its own (G-4/G-5, `require_default_route`,
//! a fact of [`LinkInput`]), and a Route Information option for the ULA and
//! each delegated prefix (L-3, `home_routes`), withdrawn with lifetime 0
//! when the prefix goes.
//!
//! Tests, with virtual time: `engine/tests.rs`.

use crate::wire::{
    Dnssl, EmitError, NdOption, Pref64, PrefixInformation, Rdnss, RouteInformation,
    RouterAdvertisement, RouterPreference, RouterSolicitation,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
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
    /// RFC 7084 L-3: a Route Information option for each of the home's
    /// prefixes (`LinkInput::home_prefixes`), with lifetime 3 *
    /// MaxRtrAdvInterval (radvd's AdvRouteLifetime default) bounded by the
    /// prefix's own.
    pub home_routes: bool,
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
            home_routes: false,
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
    /// The prefixes the home's LANs are carved from: the ULA /48 and each
    /// delegated prefix (only looked at with `Params::home_routes`). Not a
    /// kernel fact: the glue adds it from the uplink's.
    pub home_prefixes: Vec<HomePrefix>,
}

/// A prefix of the home (RFC 7084 L-3) and when it ends (None: never, as
/// the ULA).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HomePrefix {
    pub prefix: Ipv6Prefix,
    pub valid_until: Option<Instant>,
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
            home_prefixes: Vec::new(),
        }
    }
}

/// A unicast default route in the main table that does not leave through
/// `index` (a default route back into the LAN is not an uplink).
pub fn has_default_route(view: &KernelView, index: u32) -> bool {
    view.default_routes().any(|r| r.oif != Some(index))
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
struct Wanted {
    params: PrefixParams,
    source: PrefixSource,
    addr_lft: Option<(u32, u32)>,
}

fn secs_until(deadline: Instant, now: Instant) -> u32 {
    u32::try_from(deadline.saturating_duration_since(now).as_secs()).unwrap_or(INFINITY - 1)
}

fn deadline(now: Instant, lft: u32) -> Option<Instant> {
    (lft != INFINITY).then(|| now + Duration::from_secs(u64::from(lft)))
}

/// When an address's (preferred, valid) lifetimes, reported at `now`, end.
fn addr_deadlines(
    now: Instant,
    addr_lft: Option<(u32, u32)>,
) -> (Option<Instant>, Option<Instant>) {
    (
        addr_lft.and_then(|(pl, _)| deadline(now, pl)),
        addr_lft.and_then(|(_, vl)| deadline(now, vl)),
    )
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
                // Never promise more than the address (delegated prefix) has
                // left (RFC 9096 §3).
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

    /// A wanted prefix advertised from now on.
    fn new(now: Instant, w: Wanted) -> PrefixEntry {
        let (addr_preferred_until, addr_valid_until) = addr_deadlines(now, w.addr_lft);
        PrefixEntry {
            on_link: w.params.on_link,
            autonomous: w.params.autonomous,
            source: w.source,
            state: PrefixState::Active {
                valid_lifetime: w.params.valid_lifetime,
                preferred_lifetime: w.params.preferred_lifetime,
                first_advertised: now,
                addr_lft: w.addr_lft,
                addr_preferred_until,
                addr_valid_until,
            },
        }
    }

    /// Take what a prefix still wanted is advertised with; a withdrawn one
    /// starts afresh. True when its flags, configured lifetimes or source
    /// changed (a new address fact is none: the kernel reports lifetimes
    /// that tick down).
    fn readvertise(&mut self, now: Instant, w: Wanted) -> bool {
        let PrefixState::Active {
            valid_lifetime,
            preferred_lifetime,
            addr_lft,
            addr_preferred_until,
            addr_valid_until,
            ..
        } = &mut self.state
        else {
            *self = PrefixEntry::new(now, w);
            return true;
        };
        let pp = &w.params;
        let changed = (self.on_link, self.autonomous, self.source)
            != (pp.on_link, pp.autonomous, w.source)
            || (*valid_lifetime, *preferred_lifetime) != (pp.valid_lifetime, pp.preferred_lifetime);
        (self.on_link, self.autonomous, self.source) = (pp.on_link, pp.autonomous, w.source);
        (*valid_lifetime, *preferred_lifetime) = (pp.valid_lifetime, pp.preferred_lifetime);
        // Same fact again: keep the deadlines we computed when it was first
        // reported; a new fact restarts them.
        if *addr_lft != w.addr_lft {
            *addr_lft = w.addr_lft;
            (*addr_preferred_until, *addr_valid_until) = addr_deadlines(now, w.addr_lft);
        }
        changed
    }

    /// Lifetimes that are the configured values, not counting down with an
    /// address's (which another router cannot match).
    fn has_fixed_lifetimes(&self) -> bool {
        matches!(
            self.state,
            PrefixState::Active {
                addr_valid_until: None,
                addr_preferred_until: None,
                ..
            }
        )
    }

    /// The address fact behind an active prefix and when its valid lifetime
    /// ends, when both are known.
    fn addr_deadline(&self) -> Option<((u32, u32), Instant)> {
        match &self.state {
            PrefixState::Active {
                addr_lft: Some(fact),
                addr_valid_until: Some(valid_until),
                ..
            } => Some((*fact, *valid_until)),
            _ => None,
        }
    }

    /// RFC 9096 §3 (L-13): Preferred Lifetime 0 from now on, and a Valid
    /// Lifetime of what hosts were told, at most 2 h (the floor of RFC 4862
    /// §5.5.3 (e)), counting down.
    fn withdraw(&mut self, now: Instant, decrement: bool) {
        let (vl, _) = self.lifetimes(now, decrement);
        let vl = vl.min(STALE_VALID_LIFETIME_CAP);
        self.state = PrefixState::Stale {
            valid_until: now + Duration::from_secs(u64::from(vl)),
        };
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
    /// Home routes (RFC 7084 L-3) with the lifetime advertised now; 0 for
    /// a withdrawn one.
    pub home_routes: Vec<(Ipv6Prefix, u32)>,
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
    /// Home prefixes advertised as routes (RFC 7084 L-3).
    home_routes: BTreeSet<Ipv6Prefix>,
    /// Home routes no longer advertised: sent with Route Lifetime 0 (RFC
    /// 4191 §2.3) until what hosts were told has run out anyway.
    withdrawn_routes: BTreeMap<Ipv6Prefix, Instant>,
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
            home_routes: BTreeSet::new(),
            withdrawn_routes: BTreeMap::new(),
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
        // A home prefix that ran out goes the way of a removed one.
        if self.refresh_home_routes(now) && self.advertising() {
            self.start_fast(now);
        }
        if !self.advertising() {
            return out;
        }
        if self.next_multicast.is_some_and(|t| t <= now) {
            self.send_multicast(now, &mut out);
        }
        self.send_unicast_due(now, &mut out);
        out
    }

    /// The periodic (or solicited, §6.2.6) multicast RA, and the next one
    /// a random interval later (§6.2.4).
    fn send_multicast(&mut self, now: Instant, out: &mut Vec<Action>) {
        let parts = self.encode(now, false, out);
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

    /// The unicast answers to RSs whose random delay (§6.2.6) is over.
    fn send_unicast_due(&mut self, now: Instant, out: &mut Vec<Action>) {
        let (due, later): (Vec<_>, Vec<_>) =
            self.pending_unicast.drain(..).partition(|(t, _)| *t <= now);
        self.pending_unicast = later;
        if due.is_empty() {
            return;
        }
        let parts = self.encode(now, false, out);
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
        let mut diffs = self.header_differences(ra);
        diffs.extend(self.prefix_differences(now, ra));
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

    /// §6.2.7: Cur Hop Limit, M and O flags, Reachable Time, Retrans Timer
    /// and MTU that differ from ours. A 0 (unspecified) on either side, or
    /// an MTU option missing on either side, is no difference.
    fn header_differences(&self, ra: &RouterAdvertisement) -> Vec<String> {
        let p = &self.params;
        let specified = |what: &str, unit: &str, theirs: u32, ours: u32| {
            (theirs != 0 && ours != 0 && theirs != ours)
                .then(|| format!("{what} {theirs}{unit} (ours {ours})"))
        };
        let flag = |what: &str, theirs: bool, ours: bool| {
            (theirs != ours).then(|| format!("{what} {} (ours {})", theirs as u8, ours as u8))
        };
        let mtu = match (ra.mtu(), p.mtu) {
            (Some(theirs), Some(ours)) if theirs != ours => {
                Some(format!("MTU {theirs} (ours {ours})"))
            }
            _ => None,
        };
        [
            specified(
                "cur hop limit",
                "",
                ra.cur_hop_limit.into(),
                p.cur_hop_limit.into(),
            ),
            flag("M flag", ra.managed, p.managed),
            flag("O flag", ra.other_config, p.other_config),
            specified("reachable time", " ms", ra.reachable_time, p.reachable_time),
            specified("retrans timer", " ms", ra.retrans_timer, p.retrans_timer),
            mtu,
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// §6.2.7: the Valid and Preferred Lifetimes of prefixes we advertise
    /// too, where ours are fixed values; lifetimes that decrement in real
    /// time cannot be compared without a common clock.
    fn prefix_differences(&self, now: Instant, ra: &RouterAdvertisement) -> Vec<String> {
        let mut diffs = Vec::new();
        for pi in ra.prefixes() {
            let key = Ipv6Prefix::new(pi.prefix, pi.prefix_len);
            let Some(e) = self.prefixes.get(&key) else {
                continue;
            };
            if self.params.decrement_lifetimes || !e.has_fixed_lifetimes() {
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
        diffs
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
        self.refresh_home_routes(now);
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
        let routes_changed = self.refresh_home_routes(now);
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
                || routes_changed
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
    /// the set of advertised prefixes or their flags/configured lifetimes
    /// changed. Four steps, in this order: what is wanted is read before
    /// forgotten facts go, and withdrawing records the facts that ran out.
    fn refresh_prefixes(&mut self, now: Instant) -> bool {
        let want = self.wanted_prefixes(now);
        self.forget_expired_facts();
        let withdrawn = self.withdraw_unwanted(now, &want);
        let advertised = self.advertise_wanted(now, want);
        withdrawn || advertised
    }

    /// What should be advertised now (RFC 4861 §6.2.1 AdvPrefixList): each
    /// configured prefix, and for a template each prefix it takes from the
    /// interface's addresses (the /64 assigned to this LAN from the delegated
    /// prefix, RFC 7084 L-2). The first entry for a prefix wins.
    fn wanted_prefixes(&self, now: Instant) -> BTreeMap<Ipv6Prefix, Wanted> {
        let mut want = BTreeMap::new();
        for pp in &self.params.prefixes {
            if !pp.is_template() {
                want.entry(pp.prefix).or_insert_with(|| Wanted {
                    params: pp.clone(),
                    source: PrefixSource::Config,
                    addr_lft: None,
                });
                continue;
            }
            for a in self
                .link
                .addrs
                .iter()
                .filter(|a| self.template_takes(pp, a, now))
            {
                want.entry(a.prefix).or_insert_with(|| Wanted {
                    params: pp.clone(),
                    source: PrefixSource::Interface,
                    addr_lft: Some((a.preferred_lft, a.valid_lft)),
                });
            }
        }
        want
    }

    /// A template takes the prefix of a global address of its length that
    /// is still preferred: a deprecated address (RFC 4862 §5.5.4) is on its
    /// way out and its prefix must not be offered for new addresses.
    fn template_takes(&self, template: &PrefixParams, a: &LinkAddr, now: Instant) -> bool {
        a.prefix.len() == template.prefix.len()
            && !a.deprecated
            && !a.prefix.is_link_local()
            && !self.fact_ran_out(a, now)
    }

    /// An address whose valid lifetime has run out by our count counts as
    /// gone, though the kernel may report the same fact (preferred, valid)
    /// again before it removes the address.
    fn fact_ran_out(&self, a: &LinkAddr, now: Instant) -> bool {
        let fact = (a.preferred_lft, a.valid_lft);
        match self
            .prefixes
            .get(&a.prefix)
            .and_then(PrefixEntry::addr_deadline)
        {
            Some((tracked, valid_until)) => tracked == fact && valid_until <= now,
            None => self.expired_facts.get(&a.prefix) == Some(&fact),
        }
    }

    /// An expired fact the kernel no longer reports (the address is gone or
    /// has new lifetimes) is forgotten: the next report of it is news.
    fn forget_expired_facts(&mut self) {
        let addrs = &self.link.addrs;
        self.expired_facts.retain(|p, f| {
            addrs
                .iter()
                .any(|a| a.prefix == *p && (a.preferred_lft, a.valid_lft) == *f)
        });
    }

    /// RFC 9096 §3 (L-13): a prefix no longer wanted is not just dropped,
    /// which would leave hosts using it until what they were told runs out;
    /// it is withdrawn: Preferred Lifetime 0 and a Valid Lifetime of
    /// min(what hosts were told, 2 h) counting down from now. True when any was.
    fn withdraw_unwanted(&mut self, now: Instant, want: &BTreeMap<Ipv6Prefix, Wanted>) -> bool {
        let decrement = self.params.decrement_lifetimes;
        let mut changed = false;
        for (p, e) in self.prefixes.iter_mut() {
            if want.contains_key(p) || e.is_stale() {
                continue;
            }
            // Withdrawn because its address ran out: remember that fact, so
            // the same report does not bring the prefix back.
            if let Some((fact, valid_until)) = e.addr_deadline() {
                if valid_until <= now {
                    self.expired_facts.insert(*p, fact);
                }
            }
            e.withdraw(now, decrement);
            changed = true;
        }
        changed
    }

    /// Advertise every wanted prefix: a new one (or one withdrawn before)
    /// starts its lifetimes now; a known one takes the configured flags and
    /// lifetimes (RFC 4861 §6.2.1 AdvOnLinkFlag, AdvAutonomousFlag,
    /// AdvValidLifetime, AdvPreferredLifetime). True when any is new or changed.
    fn advertise_wanted(&mut self, now: Instant, want: BTreeMap<Ipv6Prefix, Wanted>) -> bool {
        let mut changed = false;
        for (p, w) in want {
            match self.prefixes.get_mut(&p) {
                Some(e) => changed |= e.readvertise(now, w),
                None => {
                    self.prefixes.insert(p, PrefixEntry::new(now, w));
                    changed = true;
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
        let mut options = self.link_options();
        options.extend(self.prefix_options(now));
        options.extend(self.service_options(now, final_ra));
        RouterAdvertisement {
            cur_hop_limit: p.cur_hop_limit,
            managed: p.managed,
            other_config: p.other_config,
            home_agent: false,
            preference: p.preference,
            proxy: false,
            router_lifetime: if final_ra { 0 } else { self.router_lifetime() },
            reachable_time: p.reachable_time,
            retrans_timer: p.retrans_timer,
            options,
        }
    }

    /// Source Link-layer Address (RFC 4861 §4.6.1, AdvSourceLLAddress) and
    /// MTU (§4.6.4, AdvLinkMTU): the options every part of a split RA carries.
    fn link_options(&self) -> Vec<NdOption> {
        let p = &self.params;
        let lladdr = self.link.lladdr.as_ref().filter(|_| p.source_lladdr);
        let lladdr = lladdr.map(|ll| NdOption::SourceLinkLayerAddress(ll.clone()));
        lladdr.into_iter().chain(p.mtu.map(NdOption::Mtu)).collect()
    }

    /// Prefix Information (RFC 4861 §4.6.2): the active prefixes first, then
    /// the withdrawn ones (RFC 9096 L-13), each with its lifetimes at `now`.
    fn prefix_options(&self, now: Instant) -> Vec<NdOption> {
        let mut options = Vec::new();
        for stale in [false, true] {
            for (prefix, e) in self.prefixes.iter().filter(|(_, e)| e.is_stale() == stale) {
                let (valid_lifetime, preferred_lifetime) =
                    e.lifetimes(now, self.params.decrement_lifetimes);
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
        options
    }

    /// Route Information (RFC 4191 §2.3), RDNSS and DNSSL (RFC 8106 §5),
    /// PREF64 (RFC 8781 §4) and the captive portal (RFC 8910 §2.3). On the
    /// final RA, routes and DNS go with the router (lifetime 0, as radvd does).
    fn service_options(&self, now: Instant, final_ra: bool) -> Vec<NdOption> {
        let p = &self.params;
        let lt = |l: u32| if final_ra { 0 } else { l };
        let configured = p
            .routes
            .iter()
            .map(|r| (r.prefix, r.preference, r.lifetime));
        let home = self
            .home_route_lifetimes(now)
            .into_iter()
            .map(|(prefix, l)| (prefix, p.preference, l));
        let mut options: Vec<NdOption> = configured
            .chain(home)
            .map(|(prefix, preference, lifetime)| {
                NdOption::RouteInformation(RouteInformation {
                    prefix_len: prefix.len(),
                    preference,
                    route_lifetime: lt(lifetime),
                    prefix: prefix.addr(),
                })
            })
            .collect();
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
            let lifetime = if final_ra {
                0
            } else {
                lifetime.min(Pref64::MAX_LIFETIME)
            };
            options.push(NdOption::Pref64(Pref64 {
                lifetime,
                prefix_len: prefix.len(),
                prefix: prefix.addr(),
            }));
        }
        options.extend(p.captive_portal.clone().map(NdOption::CaptivePortal));
        options
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
            home_routes: self.home_route_lifetimes(now),
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

/// RFC 7084 L-3: "The IPv6 CE router MUST advertise itself as a router for
/// the delegated prefix(es) (and ULA prefix if configured to provide ULA
/// addressing) using the Route Information Option specified in Section 2.3
/// of [RFC4191]. This advertisement is independent of having or not having
/// IPv6 connectivity on the WAN interface." Hosts thus reach every LAN of
/// the home through us while we are not their default router (G-4).
impl Advertiser {
    /// Bring the advertised home routes in line with the link's home
    /// prefixes and `Params::home_routes`: a new one is advertised, a gone
    /// one (or one that ran out) is withdrawn with Route Lifetime 0 (RFC
    /// 4191 §2.3). Withdrawals whose time is over are forgotten. A prefix
    /// also configured as a `route` is left to the configuration. True when
    /// the set of routes changed.
    fn refresh_home_routes(&mut self, now: Instant) -> bool {
        let want: BTreeSet<Ipv6Prefix> = self
            .link
            .home_prefixes
            .iter()
            .filter(|h| self.params.home_routes && h.valid_until.is_none_or(|v| v > now))
            .filter(|h| !self.params.routes.iter().any(|r| r.prefix == h.prefix))
            .map(|h| h.prefix)
            .collect();
        self.withdrawn_routes
            .retain(|p, until| *until > now && !want.contains(p));
        if want == self.home_routes {
            return false;
        }
        // Hosts were told at most 3 * MaxRtrAdvInterval: a lifetime-0
        // option for that long reaches every host that still holds the route.
        let told = self.params.max_interval.saturating_mul(3);
        for gone in self.home_routes.difference(&want) {
            self.withdrawn_routes.insert(*gone, now + told);
        }
        self.home_routes = want;
        true
    }

    /// (prefix, Route Lifetime) of every home route at `now`: 3 *
    /// MaxRtrAdvInterval, never beyond what is left of the prefix (as PIOs,
    /// RFC 9096 §3); the withdrawn ones with 0.
    fn home_route_lifetimes(&self, now: Instant) -> Vec<(Ipv6Prefix, u32)> {
        let full = u32::try_from(self.params.max_interval.as_secs().saturating_mul(3))
            .unwrap_or(INFINITY - 1);
        let left = |p: &Ipv6Prefix| {
            let until = self
                .link
                .home_prefixes
                .iter()
                .find(|h| h.prefix == *p)
                .and_then(|h| h.valid_until);
            until.map_or(full, |t| full.min(secs_until(t, now)))
        };
        let active = self.home_routes.iter().map(|p| (*p, left(p)));
        let withdrawn = self.withdrawn_routes.keys().map(|p| (*p, 0));
        active.chain(withdrawn).collect()
    }
}

fn log(level: LogLevel, message: String) -> Action {
    Action::Log { level, message }
}

#[cfg(test)]
mod tests;
