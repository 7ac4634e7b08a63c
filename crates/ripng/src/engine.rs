//! The RIPng routing engine (RFC 2080 §2.3–2.5), pure and driven with
//! virtual time.
//!
//! Inputs: the kernel view ([`Engine::set_kernel`]), received datagrams
//! ([`Engine::handle_packet`]) and timer ticks ([`Engine::on_timer`], to be
//! called at [`Engine::next_timer`]). Output: [`Action`]s — datagrams to send
//! (already paced) and batched kernel route installs and removals.
//!
//! The table holds one route per destination (§2.3): either one we
//! originate (a connected prefix or a kernel route, "local") or the best
//! one learned from a neighbour. Local routes win over learned ones, as
//! BIRD's direct/static preferences win over RIP.

use crate::wire::{self, Command, RawRte, Repr, Rte, ALL_RIP_ROUTERS, RIPNG_PORT};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::str::FromStr;
use std::time::{Duration, Instant};
use v6common::kernel::ifname_matches;
use v6common::kernel::{rtprot, RT_TABLE_MAIN};
use v6common::{Ipv6Prefix, KernelView, RouteFact, RouteKind};

/// The table's hash: a multiply-rotate over 64-bit words, keyed by a seed
/// from the engine's `Rng` (so a run iterates the same way for the same
/// seed: tests, fuzzing). SipHash took a tenth of the sender's CPU at
/// 10,000 routes; keys come only from on-link neighbours (§2.4.2: link-local
/// source, hop limit 255) and their number is bounded by the import limit.
#[derive(Clone, Copy, Debug)]
pub struct SeededHash(u64);

impl BuildHasher for SeededHash {
    type Hasher = WordHasher;
    fn build_hasher(&self) -> WordHasher {
        WordHasher(self.0)
    }
}

pub struct WordHasher(u64);

impl WordHasher {
    #[inline]
    fn mix(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(23) ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
    fn finish(&self) -> u64 {
        // Final avalanche (MurmurHash3's fmix64): hashbrown takes the
        // bucket from the low bits and the tag from the top 7.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// Paced datagrams leave in groups of up to this many (within `pace_burst`,
/// so never more back to back than the config allows): the same rate with
/// an eighth of the wakeups, each of which cost a sender holding 10,000
/// routes more than the datagrams it sent (epoll and scheduling were 15 %
/// of its CPU with groups of 4).
const TX_GROUP: u32 = 8;

/// Refused installs are retried after this, doubling up to `RETRY_MAX`.
const RETRY_MIN: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(60);

/// Longest duration accepted from the config, so `Instant + d` cannot overflow.
const MAX_DURATION: Duration = Duration::from_secs(86_400);

/// BIRD-style prefix pattern: `2001:db8::/32` (exactly), `2001:db8::/32+`
/// (it and everything inside), `2001:db8::/32{48,64}` (inside, length 48..=64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefixFilter {
    pub prefix: Ipv6Prefix,
    pub min_len: u8,
    pub max_len: u8,
}

impl PrefixFilter {
    pub fn matches(&self, p: &Ipv6Prefix) -> bool {
        self.prefix.covers(p) && p.len() >= self.min_len && p.len() <= self.max_len
    }
}

impl FromStr for PrefixFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let err = |m: &str| format!("`{s}`: {m} (expected P, P+ or P{{min,max}})");
        if let Some(p) = s.strip_suffix('+') {
            let prefix: Ipv6Prefix = p.parse().map_err(|e| err(&format!("{e}")))?;
            return Ok(PrefixFilter {
                prefix,
                min_len: prefix.len(),
                max_len: 128,
            });
        }
        if let Some((p, range)) = s.split_once('{') {
            let prefix: Ipv6Prefix = p.parse().map_err(|e| err(&format!("{e}")))?;
            let range = range.strip_suffix('}').ok_or_else(|| err("missing `}`"))?;
            let (a, b) = range.split_once(',').ok_or_else(|| err("missing `,`"))?;
            let min_len: u8 = a.trim().parse().map_err(|_| err("bad minimum length"))?;
            let max_len: u8 = b.trim().parse().map_err(|_| err("bad maximum length"))?;
            if min_len < prefix.len() || max_len > 128 || min_len > max_len {
                return Err(err("length range must lie within len..=128"));
            }
            return Ok(PrefixFilter {
                prefix,
                min_len,
                max_len,
            });
        }
        let prefix: Ipv6Prefix = s.parse().map_err(|e| err(&format!("{e}")))?;
        Ok(PrefixFilter {
            prefix,
            min_len: prefix.len(),
            max_len: prefix.len(),
        })
    }
}

impl fmt::Display for PrefixFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min_len == self.prefix.len() && self.max_len == self.prefix.len() {
            write!(f, "{}", self.prefix)
        } else if self.min_len == self.prefix.len() && self.max_len == 128 {
            write!(f, "{}+", self.prefix)
        } else {
            write!(f, "{}{{{},{}}}", self.prefix, self.min_len, self.max_len)
        }
    }
}

/// Empty list = everything passes.
fn passes(filters: &[PrefixFilter], p: &Ipv6Prefix) -> bool {
    filters.is_empty() || filters.iter().any(|f| f.matches(p))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfaceConfig {
    /// Interface name or `*` pattern.
    pub name: String,
    /// Added to every metric received on this interface (§2.4.2), 1..=15.
    pub cost: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportConfig {
    /// Interfaces whose connected (global) prefixes we originate; `*` patterns.
    pub connected: Vec<String>,
    /// Originate kernel routes of protocols static, boot and v6router
    /// (BIRD's `protocol kernel { learn; }`), never our own RIP ones.
    pub kernel: bool,
    /// Originate `::/0` when the kernel has one (off by default).
    pub default_route: bool,
    /// Only prefixes matching one of these leave (empty = all).
    pub prefixes: Vec<PrefixFilter>,
    /// Metric we advertise our own routes with (BIRD: 1).
    pub metric: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportConfig {
    /// Only prefixes matching one of these are accepted (empty = all).
    pub prefixes: Vec<PrefixFilter>,
    /// Accept `::/0` from neighbours.
    pub default_route: bool,
    /// At most this many learned routes (BIRD's `import limit`); None = no limit.
    pub limit: Option<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub interfaces: Vec<IfaceConfig>,
    /// §2.1: 16. Metrics at or above are unreachable. 2..=16.
    pub infinity: u8,
    /// §2.3: regular update every 30 s, jittered by ±`update_jitter` of it.
    pub update_interval: Duration,
    /// Fraction of `update_interval` (0.0..=0.5): RFC 2080 §2.3 offsets the
    /// 30 s timer by up to ±15 s, i.e. 0.5; BIRD does less. Default 0.5.
    pub update_jitter: f64,
    /// §2.3: 180 s without refresh and a route becomes unreachable.
    pub timeout: Duration,
    /// §2.3: 120 s of advertising it at infinity before it is deleted.
    pub garbage: Duration,
    /// §2.5.1: hold after a triggered update, random in [min, max] (1–5 s).
    pub triggered_min: Duration,
    pub triggered_max: Duration,
    /// §2.5: split horizon, and with it poisoned reverse (default both on).
    pub split_horizon: bool,
    pub poisoned_reverse: bool,
    pub export: ExportConfig,
    pub import: ImportConfig,
    /// Metric (priority) of the routes we put in the kernel.
    pub kernel_metric: u32,
    /// Pacing of our datagrams: at most `pace_burst` back to back, then one
    /// per `pace_gap`, so a receiver with a default socket buffer keeps up.
    pub pace_gap: Duration,
    pub pace_burst: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            interfaces: Vec::new(),
            infinity: 16,
            update_interval: Duration::from_secs(30),
            update_jitter: 0.5,
            timeout: Duration::from_secs(180),
            garbage: Duration::from_secs(120),
            triggered_min: Duration::from_secs(1),
            triggered_max: Duration::from_secs(5),
            split_horizon: true,
            poisoned_reverse: true,
            export: ExportConfig {
                connected: Vec::new(),
                kernel: false,
                default_route: false,
                prefixes: Vec::new(),
                metric: 1,
            },
            import: ImportConfig {
                prefixes: Vec::new(),
                default_route: true,
                limit: None,
            },
            kernel_metric: 20,
            // Measured with BIRD 2.0.12 as the receiver (tests/bench/ripng.sh)
            // on a loaded 2-core machine: 0.5 ms / 32 overflows its socket
            // buffer; 2 ms / 16 mostly not, but did once when BIRD had just
            // restarted; 3 ms / 8 delivers 10,000 routes whole in ~0.5 s,
            // but a just-restarted BIRD lost 86-355 of 700 datagrams of a
            // 50,000-route answer at load 8; 5 ms / 8: 50,000 in 3.5 s.
            pace_gap: Duration::from_millis(5),
            pace_burst: 8,
        }
    }
}

impl Config {
    /// Clamp values into their legal ranges (the config crate reports
    /// errors; the engine must still never panic on odd values).
    fn sanitize(mut self) -> Self {
        self.infinity = self.infinity.clamp(2, 16);
        let clamp = |d: Duration, min: Duration| d.clamp(min, MAX_DURATION);
        self.update_interval = clamp(self.update_interval, Duration::from_millis(100));
        self.timeout = clamp(self.timeout, Duration::from_millis(100));
        self.garbage = clamp(self.garbage, Duration::from_millis(100));
        self.triggered_min = clamp(self.triggered_min, Duration::ZERO);
        self.triggered_max = clamp(self.triggered_max, self.triggered_min);
        if !(0.0..=0.5).contains(&self.update_jitter) {
            self.update_jitter = 0.5;
        }
        self.pace_gap = self.pace_gap.min(Duration::from_secs(1));
        self.pace_burst = self.pace_burst.max(1);
        self.export.metric = self.export.metric.clamp(1, self.infinity - 1);
        for i in &mut self.interfaces {
            i.cost = i.cost.clamp(1, self.infinity - 1);
        }
        self
    }
}

/// Where a route comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A global prefix on one of our interfaces.
    Connected { ifindex: u32 },
    /// A kernel route we originate (its RTPROT).
    Kernel { protocol: u8 },
    /// Learned from a neighbour (its link-local) on an interface; `nexthop`
    /// is where packets go (§2.1.1, usually the neighbour itself).
    Learned {
        from: Ipv6Addr,
        nexthop: Ipv6Addr,
        ifindex: u32,
    },
}

impl Origin {
    pub fn is_local(&self) -> bool {
        !matches!(self, Origin::Learned { .. })
    }
}

/// One entry of the RIPng routing table (§2.3), as the engine shows it
/// (built on demand from the compact [`Entry`] the table holds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub prefix: Ipv6Prefix,
    pub metric: u8,
    pub tag: u16,
    pub origin: Origin,
    /// When the route last changed (for `show route`).
    pub since: Instant,
    /// Learned routes: when it becomes unreachable unless refreshed.
    pub timeout_at: Option<Instant>,
    /// Unreachable routes: when they are deleted (§2.3 garbage collection).
    pub gc_at: Option<Instant>,
    /// We asked the kernel to hold it (learned and reachable).
    pub installed: bool,
    /// The kernel refused the last install; it is retried.
    pub install_failed: bool,
}

/// Where a learned route comes from and goes to, shared by all the routes
/// of one neighbour and next hop (a table entry holds its index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Source {
    from: Ipv6Addr,
    nexthop: Ipv6Addr,
    ifindex: u32,
}

/// `Entry::flags`: the kind of origin (low two bits) and state.
const K_MASK: u8 = 0b11;
const K_LEARNED: u8 = 0;
const K_CONNECTED: u8 = 1;
const K_KERNEL: u8 = 2;
/// In the §2.3 deletion process: `deadline` is the garbage-collection time.
const F_GARBAGE: u8 = 1 << 2;
/// We asked the kernel to hold it.
const F_INSTALLED: u8 = 1 << 3;
/// The kernel refused it; retried at `Engine::retry_at`.
const F_FAILED: u8 = 1 << 4;
/// Installed again by a retry (a refusal now is not a passing one).
const F_RETRIED: u8 = 1 << 5;

/// A table entry, 24 bytes (the prefix is the map's key): times are
/// milliseconds after the engine's epoch, the origin an index or number.
/// A 50,000-route table is a third of what it was with `Route` (120 bytes).
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// Learned and reachable: the timeout (§2.3); garbage: the deletion.
    deadline: u64,
    /// When the route last changed.
    since: u64,
    /// Learned: index into `Engine::sources`; connected: the ifindex;
    /// kernel: the route's protocol.
    src: u32,
    tag: u16,
    metric: u8,
    flags: u8,
}

impl Entry {
    fn kind(&self) -> u8 {
        self.flags & K_MASK
    }
    fn is_local(&self) -> bool {
        self.kind() != K_LEARNED
    }
    fn garbage(&self) -> bool {
        self.flags & F_GARBAGE != 0
    }
    fn installed(&self) -> bool {
        self.flags & F_INSTALLED != 0
    }
    fn set(&mut self, flag: u8, on: bool) {
        if on {
            self.flags |= flag;
        } else {
            self.flags &= !flag;
        }
    }
}

impl Route {
    pub fn is_reachable(&self, infinity: u8) -> bool {
        self.metric < infinity
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neighbour {
    pub addr: Ipv6Addr,
    pub ifindex: u32,
    pub last_seen: Instant,
    pub packets: u64,
    pub bad_packets: u64,
    pub bad_routes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub ifindex: u32,
    pub name: String,
    pub cost: u8,
    pub mtu: u32,
    pub link_local: Option<Ipv6Addr>,
    pub up: bool,
    /// Next regular update.
    pub next_update: Instant,
}

impl Interface {
    pub fn is_active(&self) -> bool {
        self.up && self.link_local.is_some()
    }
}

/// Packet and route counters (shown by `show protocols all`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub rx_packets: u64,
    pub rx_requests: u64,
    pub rx_responses: u64,
    /// Whole packets dropped, by reason.
    pub rx_malformed: u64,
    pub rx_not_port_521: u64,
    pub rx_not_link_local: u64,
    pub rx_bad_hop_limit: u64,
    pub rx_own: u64,
    pub rx_unknown_interface: u64,
    /// Single entries ignored (§2.4.2 checks).
    pub rx_bad_rtes: u64,
    pub rx_filtered: u64,
    pub rx_over_limit: u64,
    pub tx_packets: u64,
    pub tx_triggered: u64,
    pub tx_regular: u64,
    pub routes_installed: u64,
    pub routes_removed: u64,
    /// Installs the kernel refused (each is retried).
    pub install_failures: u64,
}

/// A datagram received on the RIPng socket.
#[derive(Clone, Copy, Debug)]
pub struct Received<'a> {
    pub src: Ipv6Addr,
    pub src_port: u16,
    pub ifindex: u32,
    /// From IPV6_HOPLIMIT ancillary data; None when the kernel gave none.
    pub hop_limit: Option<u8>,
    pub payload: &'a [u8],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send `bytes` (a whole RIPng datagram) to `dst` out of `ifindex`,
    /// from that interface's link-local address, hop limit 255.
    Send {
        bytes: Vec<u8>,
        dst: SocketAddrV6,
        ifindex: u32,
    },
    /// Add or replace these routes in the kernel (one batch).
    InstallRoutes(Vec<RouteFact>),
    /// Delete these routes from the kernel (one batch).
    RemoveRoutes(Vec<RouteFact>),
}

/// Why a received datagram was dropped whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Drop {
    Malformed(wire::ParseError),
    NotFromPort521(u16),
    NotLinkLocal(Ipv6Addr),
    HopLimit(Option<u8>),
    Own,
    UnknownInterface(u32),
}

impl fmt::Display for Drop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drop::Malformed(e) => write!(f, "malformed: {e}"),
            Drop::NotFromPort521(p) => write!(f, "response from port {p}, not 521"),
            Drop::NotLinkLocal(a) => write!(f, "response from non-link-local {a}"),
            Drop::HopLimit(h) => write!(f, "response with hop limit {h:?}, not 255"),
            Drop::Own => write!(f, "our own datagram"),
            Drop::UnknownInterface(i) => write!(f, "arrived on ifindex {i}, not a RIPng interface"),
        }
    }
}

struct Queued {
    bytes: Vec<u8>,
    dst: SocketAddrV6,
    ifindex: u32,
}

/// Collects kernel changes of one call into single batches.
#[derive(Default)]
struct Batch {
    install: Vec<RouteFact>,
    remove: Vec<RouteFact>,
}

/// One Response being processed: its times and the import limit's count.
struct Rx {
    now: Instant,
    /// `now` and the route timeout in the table's milliseconds.
    t: u64,
    tmo: u64,
    /// Learned routes in the table (counted only near the limit).
    learned: usize,
}

/// One route entry of a Response, its metric with the link's cost added.
#[derive(Clone, Copy)]
struct Heard {
    prefix: Ipv6Prefix,
    tag: u16,
    metric: u8,
    from: Source,
}

pub struct Engine {
    cfg: Config,
    rng: fastrand::Rng,
    /// Hashed, not ordered: a 50,000-route table is looked up once per
    /// received entry, and a B-tree walk costs several cache misses each.
    table: HashMap<Ipv6Prefix, Entry, SeededHash>,
    /// Sources of learned routes, with how many entries use each; a free
    /// slot has no users and is listed in `free_sources`.
    sources: Vec<(Source, u32)>,
    source_ids: HashMap<Source, u32, SeededHash>,
    free_sources: Vec<u32>,
    /// Entries' times are milliseconds after this (the first call's `now`).
    epoch: Option<Instant>,
    /// Next retry of installs the kernel refused.
    retry_at: Option<Instant>,
    retry_gap: Duration,
    ifaces: BTreeMap<u32, Interface>,
    neighbours: BTreeMap<(Ipv6Addr, u32), Neighbour>,
    /// Prefixes whose route changed since the last triggered update (§2.5.1).
    changed: BTreeSet<Ipv6Prefix>,
    /// No triggered update before this (the 1–5 s hold).
    triggered_hold_until: Option<Instant>,
    triggered_pending: bool,
    /// Next scan of route timeouts / garbage collection.
    next_expiry: Option<Instant>,
    tx_queue: VecDeque<Queued>,
    /// Token-bucket pacing: the earliest time the next datagram may go.
    tx_next: Option<Instant>,
    /// Routes of protocol rip in the kernel that are not ours, to remove.
    stale_seen: bool,
    limit_warned: bool,
    pub stats: Stats,
    started: Option<Instant>,
}

impl Engine {
    pub fn new(cfg: Config, seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let hash = SeededHash(rng.u64(..));
        Engine {
            cfg: cfg.sanitize(),
            rng,
            table: HashMap::with_hasher(hash),
            sources: Vec::new(),
            source_ids: HashMap::with_hasher(hash),
            free_sources: Vec::new(),
            epoch: None,
            retry_at: None,
            retry_gap: RETRY_MIN,
            ifaces: BTreeMap::new(),
            neighbours: BTreeMap::new(),
            changed: BTreeSet::new(),
            triggered_hold_until: None,
            triggered_pending: false,
            next_expiry: None,
            tx_queue: VecDeque::new(),
            tx_next: None,
            stale_seen: false,
            limit_warned: false,
            stats: Stats::default(),
            started: None,
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Replace the configuration (SIGHUP). Interfaces and exports are
    /// recomputed at the next `set_kernel`.
    pub fn set_config(&mut self, cfg: Config) {
        self.cfg = cfg.sanitize();
        for i in self.ifaces.values_mut() {
            if let Some(c) = self
                .cfg
                .interfaces
                .iter()
                .find(|c| ifname_matches(&c.name, &i.name))
            {
                i.cost = c.cost;
            }
        }
    }

    /// The table, in no particular order.
    pub fn routes(&self) -> impl Iterator<Item = Route> + '_ {
        self.table.iter().map(|(p, e)| self.view(p, e))
    }

    pub fn route(&self, p: &Ipv6Prefix) -> Option<Route> {
        self.table.get(p).map(|e| self.view(p, e))
    }

    /// Entries in the table (reachable or not).
    pub fn route_count(&self) -> usize {
        self.table.len()
    }

    // ----- the compact table ---------------------------------------------

    /// Start the clock at the first call.
    fn begin(&mut self, now: Instant) {
        self.epoch.get_or_insert(now);
        self.started.get_or_insert(now);
    }

    /// `now` as milliseconds after the epoch (rounded down: a deadline
    /// fires at most 1 ms early).
    fn ms(&self, now: Instant) -> u64 {
        self.epoch
            .map_or(0, |e| now.saturating_duration_since(e).as_millis() as u64)
    }

    fn at(&self, ms: u64) -> Instant {
        let e = self.epoch.unwrap_or_else(Instant::now);
        e.checked_add(Duration::from_millis(ms)).unwrap_or(e)
    }

    fn dur_ms(d: Duration) -> u64 {
        d.as_millis() as u64
    }

    fn origin_of(&self, e: &Entry) -> Origin {
        match e.kind() {
            K_CONNECTED => Origin::Connected { ifindex: e.src },
            K_KERNEL => Origin::Kernel {
                protocol: e.src as u8,
            },
            _ => {
                let s = self.sources.get(e.src as usize).map(|s| s.0);
                Origin::Learned {
                    from: s.map_or(Ipv6Addr::UNSPECIFIED, |s| s.from),
                    nexthop: s.map_or(Ipv6Addr::UNSPECIFIED, |s| s.nexthop),
                    ifindex: s.map_or(0, |s| s.ifindex),
                }
            }
        }
    }

    fn source_of(&self, e: &Entry) -> Option<Source> {
        (e.kind() == K_LEARNED)
            .then(|| self.sources.get(e.src as usize).map(|s| s.0))
            .flatten()
    }

    fn view(&self, p: &Ipv6Prefix, e: &Entry) -> Route {
        let learned = e.kind() == K_LEARNED;
        Route {
            prefix: *p,
            metric: e.metric,
            tag: e.tag,
            origin: self.origin_of(e),
            since: self.at(e.since),
            timeout_at: (learned && !e.garbage()).then(|| self.at(e.deadline)),
            gc_at: e.garbage().then(|| self.at(e.deadline)),
            installed: e.installed(),
            install_failed: e.flags & F_FAILED != 0,
        }
    }

    /// A user more of `s`'s slot (made if new).
    fn acquire(&mut self, s: Source) -> u32 {
        if let Some(&i) = self.source_ids.get(&s) {
            self.sources[i as usize].1 += 1;
            return i;
        }
        let i = match self.free_sources.pop() {
            Some(i) => {
                self.sources[i as usize] = (s, 1);
                i
            }
            None => {
                self.sources.push((s, 1));
                (self.sources.len() - 1) as u32
            }
        };
        self.source_ids.insert(s, i);
        i
    }

    /// An entry stops using source slot `i`.
    fn release(&mut self, i: u32) {
        let Some(slot) = self.sources.get_mut(i as usize) else {
            return;
        };
        slot.1 = slot.1.saturating_sub(1);
        if slot.1 == 0 {
            let s = slot.0;
            self.source_ids.remove(&s);
            self.free_sources.push(i);
        }
    }

    /// Drop the entry for `p`, releasing its source.
    fn remove_entry(&mut self, p: &Ipv6Prefix) -> Option<Entry> {
        let e = self.table.remove(p)?;
        if e.kind() == K_LEARNED {
            self.release(e.src);
        }
        Some(e)
    }

    /// The kernel route for a learned entry.
    fn fact(&self, p: &Ipv6Prefix, e: &Entry) -> RouteFact {
        let (gateway, oif) = match self.source_of(e) {
            Some(s) => (Some(s.nexthop), Some(s.ifindex)),
            None => (None, None),
        };
        RouteFact {
            dst: *p,
            gateway,
            oif,
            protocol: rtprot::RIP,
            metric: self.cfg.kernel_metric,
            table: RT_TABLE_MAIN,
            kind: RouteKind::Unicast,
        }
    }

    pub fn interfaces(&self) -> impl Iterator<Item = &Interface> {
        self.ifaces.values()
    }

    pub fn neighbours(&self) -> impl Iterator<Item = &Neighbour> {
        self.neighbours.values()
    }

    /// Reachable routes learned from this neighbour.
    pub fn neighbour_routes(&self, addr: Ipv6Addr, ifindex: u32) -> usize {
        let inf = self.cfg.infinity;
        self.table
            .values()
            .filter(|e| e.metric < inf)
            .filter_map(|e| self.source_of(e))
            .filter(|s| s.from == addr && s.ifindex == ifindex)
            .count()
    }

    /// Neighbours seen per interface.
    pub fn neighbour_count(&self, ifindex: u32) -> usize {
        self.neighbours
            .values()
            .filter(|n| n.ifindex == ifindex)
            .count()
    }

    pub fn started(&self) -> Option<Instant> {
        self.started
    }

    fn jittered_interval(&mut self) -> Duration {
        let j = self.cfg.update_jitter;
        let f = 1.0 - j + 2.0 * j * self.rng.f64();
        self.cfg.update_interval.mul_f64(f)
    }

    fn triggered_hold(&mut self) -> Duration {
        let (a, b) = (self.cfg.triggered_min, self.cfg.triggered_max);
        a + (b - a).mul_f64(self.rng.f64())
    }

    // ----- kernel view --------------------------------------------------

    /// A new snapshot of the kernel: interfaces, addresses and routes. Call
    /// on every change (debounced by the caller).
    pub fn set_kernel(&mut self, now: Instant, kv: &KernelView) -> Vec<Action> {
        self.begin(now);
        let mut out = Vec::new();
        let mut batch = Batch::default();
        self.update_interfaces(now, kv, &mut batch);
        self.update_local_routes(now, kv, &mut batch);
        self.after_changes(now);
        self.finish(now, batch, &mut out);
        out
    }

    fn update_interfaces(&mut self, now: Instant, kv: &KernelView, batch: &mut Batch) {
        let mut seen = HashSet::new();
        for link in kv.links.values() {
            let Some(ic) = self
                .cfg
                .interfaces
                .iter()
                .find(|c| ifname_matches(&c.name, &link.name))
            else {
                continue;
            };
            let cost = ic.cost;
            seen.insert(link.index);
            let ll = kv.link_local(link.index);
            let up = link.is_usable();
            let first_update = now + self.cfg.update_interval.mul_f64(self.rng.f64() * 0.1);
            let iface = self.ifaces.entry(link.index).or_insert_with(|| Interface {
                ifindex: link.index,
                name: link.name.clone(),
                cost,
                mtu: link.mtu,
                link_local: None,
                up: false,
                next_update: first_update,
            });
            let was_active = iface.is_active();
            iface.name = link.name.clone();
            iface.mtu = link.mtu;
            iface.cost = cost;
            iface.up = up;
            iface.link_local = ll;
            let active = iface.is_active();
            if active && !was_active {
                // §2.4.1: a router coming up asks its neighbours for their
                // whole table; our first regular update follows shortly.
                iface.next_update = first_update;
                let req = Repr::whole_table_request();
                let dst = SocketAddrV6::new(ALL_RIP_ROUTERS, RIPNG_PORT, 0, link.index);
                self.tx_queue.push_back(Queued {
                    bytes: req.to_bytes(),
                    dst,
                    ifindex: link.index,
                });
            } else if was_active && !active {
                self.interface_down(now, link.index, batch);
            }
        }
        let gone: Vec<u32> = self
            .ifaces
            .keys()
            .copied()
            .filter(|i| !seen.contains(i))
            .collect();
        for i in gone {
            self.interface_down(now, i, batch);
            self.ifaces.remove(&i);
        }
    }

    /// Routes learned through a dead interface are unreachable at once.
    fn interface_down(&mut self, now: Instant, ifindex: u32, batch: &mut Batch) {
        let inf = self.cfg.infinity;
        let victims: Vec<Ipv6Prefix> = self
            .table
            .iter()
            .filter(|(_, e)| e.metric < inf)
            .filter(|(_, e)| self.source_of(e).is_some_and(|s| s.ifindex == ifindex))
            .map(|(p, _)| *p)
            .collect();
        for p in victims {
            self.start_deletion(now, p, batch);
        }
        self.neighbours.retain(|_, n| n.ifindex != ifindex);
        self.tx_queue.retain(|q| q.ifindex != ifindex);
    }

    /// The routes we originate, from the kernel view.
    fn desired_local(&self, kv: &KernelView) -> BTreeMap<Ipv6Prefix, Origin> {
        let mut want = BTreeMap::new();
        let ok = |p: &Ipv6Prefix| {
            !p.is_link_local()
                && !p.addr().is_multicast()
                && !p.addr().is_loopback()
                && (!p.is_default() || self.cfg.export.default_route)
                && passes(&self.cfg.export.prefixes, p)
        };
        for link in kv.links.values() {
            if !link.is_usable()
                || !self
                    .cfg
                    .export
                    .connected
                    .iter()
                    .any(|pat| ifname_matches(pat, &link.name))
            {
                continue;
            }
            for a in kv.globals(link.index) {
                if a.tentative {
                    continue;
                }
                let p = a.prefix();
                if ok(&p) {
                    want.entry(p).or_insert(Origin::Connected {
                        ifindex: link.index,
                    });
                }
            }
        }
        if self.cfg.export.kernel {
            for r in &kv.routes {
                let learnable =
                    matches!(r.protocol, rtprot::STATIC | rtprot::BOOT | rtprot::V6ROUTER);
                if learnable && r.table == RT_TABLE_MAIN && ok(&r.dst) {
                    want.entry(r.dst).or_insert(Origin::Kernel {
                        protocol: r.protocol,
                    });
                }
            }
        }
        want
    }

    fn update_local_routes(&mut self, now: Instant, kv: &KernelView, batch: &mut Batch) {
        let want = self.desired_local(kv);
        let metric = self.cfg.export.metric;
        let t = self.ms(now);
        for (p, origin) in &want {
            let (kind, src) = match *origin {
                Origin::Connected { ifindex } => (K_CONNECTED, ifindex),
                Origin::Kernel { protocol } => (K_KERNEL, u32::from(protocol)),
                Origin::Learned { .. } => continue,
            };
            match self.table.get_mut(p) {
                Some(e) if e.is_local() && e.metric == metric && !e.garbage() => {
                    e.flags = (e.flags & !K_MASK) | kind;
                    e.src = src;
                }
                existing => {
                    if let Some(e) = existing.copied() {
                        if e.installed() {
                            batch.remove.push(self.fact(p, &e));
                        }
                        self.remove_entry(p);
                    }
                    self.table.insert(
                        *p,
                        Entry {
                            deadline: 0,
                            since: t,
                            src,
                            tag: 0,
                            metric,
                            flags: kind,
                        },
                    );
                    self.changed.insert(*p);
                }
            }
        }
        let withdrawn: Vec<Ipv6Prefix> = self
            .table
            .iter()
            .filter(|(p, e)| e.is_local() && !e.garbage() && !want.contains_key(p))
            .map(|(p, _)| *p)
            .collect();
        for p in withdrawn {
            self.start_deletion(now, p, batch);
        }
    }

    /// The kernel's routes of protocol rip (main table), as a dump shows
    /// them: at start, and again whenever notifications may have been lost.
    /// Routes that are not ours (left by a crash, or by someone else) are
    /// removed; ours that are missing are put back.
    pub fn kernel_rip_routes(&mut self, now: Instant, routes: &[RouteFact]) -> Vec<Action> {
        self.begin(now);
        let mut batch = Batch::default();
        let mut present: HashSet<Ipv6Prefix> = HashSet::with_capacity(routes.len());
        for r in routes.iter().filter(|r| r.table == RT_TABLE_MAIN) {
            match self.table.get(&r.dst) {
                Some(e) if e.installed() && same_kernel_route(&self.fact(&r.dst, e), r) => {
                    present.insert(r.dst);
                }
                _ => batch.remove.push(r.clone()),
            }
        }
        for (p, e) in self.table.iter().filter(|(_, e)| e.installed()) {
            if !present.contains(p) {
                batch.install.push(self.fact(p, e));
            }
        }
        self.reconciled(now, batch)
    }

    /// Someone else (never our own requests: the caller filters them out)
    /// added or replaced a route of protocol rip: if it is not exactly
    /// ours it goes, and ours for that prefix is put back.
    pub fn kernel_rip_added(&mut self, now: Instant, r: &RouteFact) -> Vec<Action> {
        self.begin(now);
        let mut batch = Batch::default();
        if r.table == RT_TABLE_MAIN {
            let ours = self
                .table
                .get(&r.dst)
                .filter(|e| e.installed())
                .map(|e| self.fact(&r.dst, e));
            match ours {
                Some(ours) if same_kernel_route(&ours, r) => {}
                Some(ours) => {
                    batch.remove.push(r.clone());
                    batch.install.push(ours);
                }
                None => batch.remove.push(r.clone()),
            }
        }
        self.reconciled(now, batch)
    }

    /// Someone else deleted a route of protocol rip: if it was one of ours
    /// (an admin's `ip -6 route del`), it is put back at once.
    pub fn kernel_rip_deleted(&mut self, now: Instant, r: &RouteFact) -> Vec<Action> {
        self.begin(now);
        let mut batch = Batch::default();
        if let Some(e) = self.table.get(&r.dst).filter(|e| e.installed()) {
            let ours = self.fact(&r.dst, e);
            if r.table == RT_TABLE_MAIN && same_kernel_route(&ours, r) {
                batch.install.push(ours);
            }
        }
        self.reconciled(now, batch)
    }

    /// The kernel refused these installs (the route writer reports them):
    /// the routes stay ours and wanted, are marked (`show route`, the
    /// `install_failures` counter) and are tried again, after 1 s and then
    /// at doubling intervals up to a minute while refusals go on.
    ///
    /// Returns how many of them were refused again after a retry: a
    /// refusal that lasts, worth a warning. A first one is often passing
    /// (a link going down deletes our routes through it, we put them back
    /// before its state reaches us, the kernel says no; a moment later
    /// the routes are withdrawn and nothing is retried).
    pub fn kernel_install_failed(&mut self, now: Instant, failed: &[RouteFact]) -> usize {
        self.begin(now);
        let mut n = 0u64;
        let mut lasting = 0;
        for r in failed {
            let Some(e) = self.table.get(&r.dst) else {
                continue;
            };
            // Only if it is still what we asked for (not replaced or
            // withdrawn meanwhile).
            if e.installed() && same_kernel_route(&self.fact(&r.dst, e), r) {
                if let Some(e) = self.table.get_mut(&r.dst) {
                    e.set(F_FAILED, true);
                    if e.flags & F_RETRIED != 0 {
                        lasting += 1;
                    }
                }
                n += 1;
            }
        }
        if n == 0 {
            return 0;
        }
        self.stats.install_failures += n;
        if self.retry_at.is_none() {
            self.retry_at = Some(now + self.retry_gap);
            self.retry_gap = (self.retry_gap * 2).min(RETRY_MAX);
        }
        lasting
    }

    /// Routes whose install the kernel refused, still wanted.
    pub fn failed_installs(&self) -> usize {
        self.table
            .values()
            .filter(|e| e.installed() && e.flags & F_FAILED != 0)
            .count()
    }

    /// Put the refused installs in `batch` again.
    fn retry_failed(&mut self, batch: &mut Batch) {
        let mut again = Vec::new();
        for (p, e) in self.table.iter_mut() {
            if e.flags & F_FAILED != 0 {
                e.set(F_FAILED, false);
                if e.installed() {
                    e.set(F_RETRIED, true);
                    again.push(*p);
                }
            }
        }
        if again.is_empty() {
            self.retry_gap = RETRY_MIN;
        }
        for p in again {
            if let Some(e) = self.table.get(&p) {
                batch.install.push(self.fact(&p, e));
            }
        }
    }

    /// Finish a batch that puts the kernel back in line with our table,
    /// counting what was put back and what was removed.
    fn reconciled(&mut self, now: Instant, batch: Batch) -> Vec<Action> {
        self.note_reconciled(batch.install.len(), batch.remove.len());
        let mut out = Vec::new();
        self.finish(now, batch, &mut out);
        out
    }

    fn note_reconciled(&mut self, put_back: usize, foreign: usize) {
        if foreign > 0 {
            self.stale_seen = true;
        }
        if put_back > 0 || foreign > 0 {
            tracing::info!(
                put_back,
                foreign_removed = foreign,
                "RIPng routes reconciled with the kernel"
            );
        }
    }

    // ----- received datagrams -------------------------------------------

    /// A datagram from the RIPng socket.
    pub fn handle_packet(&mut self, now: Instant, rx: Received<'_>) -> Result<Vec<Action>, Drop> {
        self.begin(now);
        self.stats.rx_packets += 1;
        let res = self.handle_inner(now, rx);
        if let Err(e) = &res {
            let s = &mut self.stats;
            match e {
                Drop::Malformed(_) => s.rx_malformed += 1,
                Drop::NotFromPort521(_) => s.rx_not_port_521 += 1,
                Drop::NotLinkLocal(_) => s.rx_not_link_local += 1,
                Drop::HopLimit(_) => s.rx_bad_hop_limit += 1,
                Drop::Own => s.rx_own += 1,
                Drop::UnknownInterface(_) => s.rx_unknown_interface += 1,
            }
            if let Some(n) = self.neighbours.get_mut(&(rx.src, rx.ifindex)) {
                if !matches!(e, Drop::Own) {
                    n.bad_packets += 1;
                }
            }
        }
        res
    }

    fn handle_inner(&mut self, now: Instant, rx: Received<'_>) -> Result<Vec<Action>, Drop> {
        let Some(iface) = self.ifaces.get(&rx.ifindex).filter(|i| i.is_active()) else {
            return Err(Drop::UnknownInterface(rx.ifindex));
        };
        if self.ifaces.values().any(|i| i.link_local == Some(rx.src)) {
            return Err(Drop::Own);
        }
        let cost = iface.cost;
        let mtu = iface.mtu;
        let repr = Repr::parse_bytes(rx.payload).map_err(Drop::Malformed)?;
        let mut out = Vec::new();
        match repr.command {
            Command::Request => {
                // The whole table only to on-link routers: a spoofed
                // off-link request must not turn one small datagram into
                // hundreds of large ones. Specific-entry requests (answers
                // the size of the question) stay open for diagnostics.
                let whole = repr.rtes.len() == 1 && repr.rtes[0].is_whole_table_request();
                if whole && !v6common::prefix::is_link_local(rx.src) {
                    return Err(Drop::NotLinkLocal(rx.src));
                }
                self.stats.rx_requests += 1;
                self.answer_request(&repr, rx, mtu);
            }
            Command::Response => {
                // §2.4.2: only from the RIPng port, a link-local source and
                // hop limit 255 (so it came from an on-link neighbour).
                if rx.src_port != RIPNG_PORT {
                    return Err(Drop::NotFromPort521(rx.src_port));
                }
                if !v6common::prefix::is_link_local(rx.src) {
                    return Err(Drop::NotLinkLocal(rx.src));
                }
                if rx.hop_limit != Some(255) {
                    return Err(Drop::HopLimit(rx.hop_limit));
                }
                self.stats.rx_responses += 1;
                let mut batch = Batch::default();
                self.process_response(now, &repr, rx.src, rx.ifindex, cost, &mut batch);
                self.after_changes(now);
                self.finish(now, batch, &mut out);
                return Ok(out);
            }
        }
        self.flush_tx(now, &mut out);
        Ok(out)
    }

    /// §2.4.1 Request processing; the answer goes to the requester's
    /// address and port, from whichever port it used.
    fn answer_request(&mut self, repr: &Repr, rx: Received<'_>, mtu: u32) {
        let dst = SocketAddrV6::new(rx.src, rx.src_port, 0, rx.ifindex);
        let rtes: Vec<RawRte> = if repr.rtes.len() == 1 && repr.rtes[0].is_whole_table_request() {
            // The whole table, with the normal output processing
            // (split horizon) of that interface.
            self.table_rtes(rx.ifindex, None)
        } else {
            // Specific entries: our metric or infinity, no split horizon,
            // "an exact copy ... with metrics filled in".
            repr.rtes
                .iter()
                .map(|q| {
                    let p = Ipv6Prefix::new(q.prefix, q.prefix_len.min(128));
                    let metric = match self.table.get(&p) {
                        Some(e) if p.addr() == q.prefix && q.prefix_len <= 128 => e.metric,
                        _ => self.cfg.infinity,
                    };
                    RawRte { metric, ..*q }
                })
                .collect()
        };
        self.queue_responses(&rtes, mtu, dst, rx.ifindex);
        if rtes.is_empty() {
            // An empty table still answers, so the requester knows we exist.
            let bytes = Repr {
                command: Command::Response,
                rtes: vec![],
            }
            .to_bytes();
            self.tx_queue.push_back(Queued {
                bytes,
                dst,
                ifindex: rx.ifindex,
            });
        }
    }

    /// §2.4.2 Response processing.
    fn process_response(
        &mut self,
        now: Instant,
        repr: &Repr,
        src: Ipv6Addr,
        ifindex: u32,
        cost: u8,
        batch: &mut Batch,
    ) {
        let inf = self.cfg.infinity;
        let nb = self.neighbours.entry((src, ifindex)).or_insert(Neighbour {
            addr: src,
            ifindex,
            last_seen: now,
            packets: 0,
            bad_packets: 0,
            bad_routes: 0,
        });
        nb.last_seen = now;
        nb.packets += 1;
        let mut nexthop = src;
        let mut bad = 0u64;
        let mut rx = Rx {
            now,
            t: self.ms(now),
            tmo: Self::dur_ms(self.cfg.timeout),
            // Counting is O(table): only when the limit could be near.
            learned: match self.cfg.import.limit {
                Some(l) if self.table.len() + repr.rtes.len() >= l => self.learned_count(),
                _ => 0,
            },
        };
        for raw in &repr.rtes {
            let (prefix, tag, metric) = match raw.check() {
                Ok(Rte::NextHop(a)) => {
                    // §2.1.1: a next hop that is not link-local is
                    // treated as 0, the originator of the packet.
                    nexthop = if v6common::prefix::is_link_local(a) {
                        a
                    } else {
                        src
                    };
                    continue;
                }
                Ok(Rte::Route {
                    prefix,
                    tag,
                    metric,
                }) => (prefix, tag, metric),
                Err(_) => {
                    bad += 1;
                    continue;
                }
            };
            if !passes(&self.cfg.import.prefixes, &prefix)
                || (prefix.is_default() && !self.cfg.import.default_route)
            {
                self.stats.rx_filtered += 1;
                continue;
            }
            let heard = Heard {
                prefix,
                tag,
                metric: metric.saturating_add(cost).min(inf),
                from: Source {
                    from: src,
                    nexthop,
                    ifindex,
                },
            };
            self.process_rte(&mut rx, heard, batch);
        }
        if bad > 0 {
            self.stats.rx_bad_rtes += bad;
            if let Some(n) = self.neighbours.get_mut(&(src, ifindex)) {
                n.bad_routes += bad;
            }
        }
        if self.limit_warned && self.cfg.import.limit.is_some_and(|l| rx.learned < l) {
            self.limit_warned = false;
        }
        self.schedule_expiry(now);
    }

    /// Whether the import limit lets one more learned route in; counts the
    /// refusal (and warns once) when it does not.
    fn under_limit(&mut self, rx: &mut Rx) -> bool {
        if self.cfg.import.limit.is_some_and(|l| rx.learned >= l) {
            self.stats.rx_over_limit += 1;
            return false;
        }
        rx.learned += 1;
        true
    }

    /// A route to a prefix not in the table: learned if reachable and
    /// under the import limit.
    fn learn_new(&mut self, rx: &mut Rx, h: Heard, batch: &mut Batch) {
        if h.metric >= self.cfg.infinity {
            return;
        }
        if !self.under_limit(rx) {
            if !self.limit_warned {
                self.limit_warned = true;
                tracing::warn!(limit = ?self.cfg.import.limit, "RIPng import limit reached, new routes are dropped");
            }
            return;
        }
        let e = Entry {
            deadline: rx.t + rx.tmo,
            since: rx.t,
            src: self.acquire(h.from),
            tag: h.tag,
            metric: h.metric,
            flags: K_LEARNED | F_INSTALLED,
        };
        batch.install.push(self.fact(&h.prefix, &e));
        self.table.insert(h.prefix, e);
        self.changed.insert(h.prefix);
    }

    /// One route entry against the table (one lookup: this runs for each
    /// of tens of thousands of entries every 30 s): refresh, adopt or
    /// start the deletion of the current route (§2.4.2), or learn a new one.
    fn process_rte(&mut self, rx: &mut Rx, h: Heard, batch: &mut Batch) {
        let inf = self.cfg.infinity;
        let Some(e) = self.table.get_mut(&h.prefix) else {
            return self.learn_new(rx, h, batch);
        };
        if e.is_local() && !e.garbage() {
            return; // ours wins
        }
        let cur = if e.kind() == K_LEARNED {
            self.sources.get(e.src as usize).map(|s| s.0)
        } else {
            None
        };
        let (t, tmo, metric) = (rx.t, rx.tmo, h.metric);
        let same_router = cur.is_some_and(|c| c.from == h.from.from && c.ifindex == h.from.ifindex);
        let same_origin = cur == Some(h.from);
        let reachable = e.metric < inf;
        if same_router && metric < inf && !e.garbage() {
            e.deadline = t + tmo;
        }
        // Switch to an equally good route when ours is halfway to timing
        // out (the heuristic §2.4.2 allows).
        let aging = e.kind() == K_LEARNED && !e.garbage() && e.deadline < t + tmo / 2;
        let adopt = (same_router && (metric != e.metric || !same_origin || h.tag != e.tag))
            || metric < e.metric
            || (!same_router && metric == e.metric && metric < inf && aging);
        if !adopt {
            return;
        }
        if metric >= inf {
            if reachable {
                self.start_deletion(rx.now, h.prefix, batch);
            }
            return;
        }
        let mut ne = *e;
        if !reachable && !self.under_limit(rx) {
            return;
        }
        let route_changed = ne.metric != metric || !same_origin || !reachable;
        let kernel_changed = !same_origin || !ne.installed();
        ne.metric = metric;
        ne.tag = h.tag;
        ne.deadline = t + tmo;
        ne.set(F_GARBAGE, false);
        if !same_origin {
            if ne.kind() == K_LEARNED {
                self.release(ne.src);
            }
            ne.src = self.acquire(h.from);
            ne.flags = (ne.flags & !K_MASK) | K_LEARNED;
        }
        if kernel_changed {
            ne.set(F_INSTALLED, true);
            ne.set(F_FAILED | F_RETRIED, false);
            batch.install.push(self.fact(&h.prefix, &ne));
        }
        if route_changed {
            ne.since = t;
            self.changed.insert(h.prefix);
        }
        self.table.insert(h.prefix, ne);
    }

    fn learned_count(&self) -> usize {
        let inf = self.cfg.infinity;
        self.table
            .values()
            .filter(|e| !e.is_local() && e.metric < inf)
            .count()
    }

    /// §2.3 deletion process: metric to infinity, garbage timer, change flag,
    /// out of the kernel.
    fn start_deletion(&mut self, now: Instant, p: Ipv6Prefix, batch: &mut Batch) {
        let t = self.ms(now);
        let gc = t + Self::dur_ms(self.cfg.garbage);
        if let Some(mut e) = self.table.get(&p).copied() {
            if e.garbage() {
                return;
            }
            e.metric = self.cfg.infinity;
            e.deadline = gc;
            e.set(F_GARBAGE, true);
            e.since = t;
            if e.installed() {
                batch.remove.push(self.fact(&p, &e));
                e.set(F_INSTALLED, false);
            }
            e.set(F_FAILED | F_RETRIED, false);
            self.table.insert(p, e);
            self.changed.insert(p);
        }
        self.schedule_expiry(now);
    }

    fn schedule_expiry(&mut self, now: Instant) {
        // Granularity: a tenth of the shortest timer, at most a second.
        let g = (self.cfg.timeout.min(self.cfg.garbage) / 10).min(Duration::from_secs(1));
        if self.next_expiry.is_none() {
            self.next_expiry = Some(now + g);
        }
    }

    // ----- timers ---------------------------------------------------------

    /// Datagrams of ours waiting for their pacing slot.
    pub fn tx_pending(&self) -> usize {
        self.tx_queue.len()
    }

    /// When `on_timer` must next be called.
    pub fn next_timer(&self) -> Option<Instant> {
        let mut t = self.next_expiry;
        let mut take = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        for i in self.ifaces.values().filter(|i| i.is_active()) {
            take(Some(i.next_update));
        }
        if self.triggered_pending {
            take(self.triggered_hold_until);
        }
        take(self.retry_at);
        if let Some(next) = self.tx_next.filter(|_| !self.tx_queue.is_empty()) {
            // Wake for a few datagrams at a time, not each one: the same
            // rate with fewer wakeups (a 50,000-route update is 700
            // datagrams every 30 s).
            let group = (self.tx_queue.len() as u32)
                .min(TX_GROUP)
                .min(self.cfg.pace_burst);
            take(Some(next + self.cfg.pace_gap * group.saturating_sub(1)));
        }
        t
    }

    pub fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        let mut batch = Batch::default();
        self.begin(now);
        if self.next_expiry.is_some_and(|t| now >= t) {
            self.next_expiry = None;
            self.expire(now, &mut batch);
        }
        if self.retry_at.is_some_and(|t| now >= t) {
            self.retry_at = None;
            self.retry_failed(&mut batch);
        }
        // Regular updates (§2.3), per interface.
        let due: Vec<u32> = self
            .ifaces
            .values()
            .filter(|i| i.is_active() && now >= i.next_update)
            .map(|i| i.ifindex)
            .collect();
        for ifindex in due {
            let next = now + self.jittered_interval();
            if let Some(i) = self.ifaces.get_mut(&ifindex) {
                i.next_update = next;
            }
            self.stats.tx_regular += 1;
            self.send_table(ifindex, None);
        }
        self.after_changes(now);
        self.finish(now, batch, &mut out);
        out
    }

    fn expire(&mut self, now: Instant, batch: &mut Batch) {
        let t = self.ms(now);
        let mut to_delete = Vec::new();
        let mut to_gc = Vec::new();
        let mut earliest: Option<u64> = None;
        for (p, e) in &self.table {
            if e.garbage() || e.kind() == K_LEARNED {
                // Garbage: the deletion time; learned: the timeout.
                if t >= e.deadline {
                    if e.garbage() {
                        to_gc.push(*p);
                    } else {
                        to_delete.push(*p);
                    }
                } else {
                    earliest = Some(earliest.map_or(e.deadline, |x| x.min(e.deadline)));
                }
            }
        }
        let gc = t + Self::dur_ms(self.cfg.garbage);
        for p in to_delete {
            self.start_deletion(now, p, batch);
            earliest = Some(earliest.map_or(gc, |x| x.min(gc)));
        }
        for p in to_gc {
            self.remove_entry(&p);
            self.changed.remove(&p);
        }
        let mut earliest = earliest.map(|ms| self.at(ms));
        // Neighbours silent for timeout + garbage and holding nothing go
        // (what they hold is theirs in `sources`, with its users).
        let forget = self.cfg.timeout + self.cfg.garbage;
        let live: HashSet<(Ipv6Addr, u32)> = self
            .sources
            .iter()
            .filter(|(_, users)| *users > 0)
            .map(|(s, _)| (s.from, s.ifindex))
            .collect();
        self.neighbours
            .retain(|k, n| live.contains(k) || now < n.last_seen + forget);
        if let Some(n) = self.neighbours.values().map(|n| n.last_seen + forget).min() {
            earliest = Some(earliest.map_or(n, |e| e.min(n)));
        }
        let g = (self.cfg.timeout.min(self.cfg.garbage) / 10).min(Duration::from_secs(1));
        self.next_expiry = earliest.map(|e| e.max(now + g));
    }

    /// Triggered updates (§2.5.1): send the changed routes now if no hold
    /// is running, else once when it ends.
    fn after_changes(&mut self, now: Instant) {
        if self.changed.is_empty() {
            return;
        }
        if self.triggered_hold_until.is_some_and(|t| now < t) {
            self.triggered_pending = true;
            return;
        }
        let changed = std::mem::take(&mut self.changed);
        let active: Vec<u32> = self
            .ifaces
            .values()
            .filter(|i| i.is_active())
            .map(|i| i.ifindex)
            .collect();
        for ifindex in active {
            self.send_table(ifindex, Some(&changed));
        }
        self.stats.tx_triggered += 1;
        self.triggered_pending = false;
        let hold = self.triggered_hold();
        self.triggered_hold_until = Some(now + hold);
    }

    /// The RTEs for an update on `ifindex`: the whole table or only `only`,
    /// after split horizon / poisoned reverse (§2.5).
    fn table_rtes(&self, ifindex: u32, only: Option<&BTreeSet<Ipv6Prefix>>) -> Vec<RawRte> {
        let inf = self.cfg.infinity;
        let mut v = Vec::with_capacity(only.map_or(self.table.len(), |o| o.len()));
        let mut push = |p: &Ipv6Prefix, e: &Entry| {
            let mut metric = e.metric.min(inf);
            if e.kind() == K_LEARNED
                && self.cfg.split_horizon
                && metric < inf
                && self
                    .sources
                    .get(e.src as usize)
                    .is_some_and(|s| s.0.ifindex == ifindex)
            {
                if self.cfg.poisoned_reverse {
                    metric = inf;
                } else {
                    return;
                }
            }
            if e.is_local() && !passes(&self.cfg.export.prefixes, p) {
                return;
            }
            // The wire metric is 16 for "unreachable" whatever our infinity.
            let wire_metric = if metric >= inf { 16 } else { metric };
            v.push(RawRte {
                prefix: p.addr(),
                tag: e.tag,
                prefix_len: p.len(),
                metric: wire_metric,
            });
        };
        match only {
            Some(set) => set
                .iter()
                .filter_map(|p| self.table.get_key_value(p))
                .for_each(|(p, e)| push(p, e)),
            None => self.table.iter().for_each(|(p, e)| push(p, e)),
        }
        v
    }

    fn send_table(&mut self, ifindex: u32, only: Option<&BTreeSet<Ipv6Prefix>>) {
        let Some(iface) = self.ifaces.get(&ifindex) else {
            return;
        };
        let mtu = iface.mtu;
        let rtes = self.table_rtes(ifindex, only);
        let dst = SocketAddrV6::new(ALL_RIP_ROUTERS, RIPNG_PORT, 0, ifindex);
        self.queue_responses(&rtes, mtu, dst, ifindex);
    }

    /// `rtes` as Responses of at most `mtu` bytes each (§2.1) to `dst`
    /// through `ifindex`.
    fn queue_responses(&mut self, rtes: &[RawRte], mtu: u32, dst: SocketAddrV6, ifindex: u32) {
        for bytes in wire::emit_responses(rtes, mtu) {
            self.tx_queue.push_back(Queued {
                bytes,
                dst,
                ifindex,
            });
        }
    }

    /// Release queued datagrams as the pacing allows.
    fn flush_tx(&mut self, now: Instant, out: &mut Vec<Action>) {
        let gap = self.cfg.pace_gap;
        let burst_floor = now
            .checked_sub(gap * (self.cfg.pace_burst - 1))
            .unwrap_or(now);
        let mut next = self.tx_next.map_or(burst_floor, |t| t.max(burst_floor));
        while next <= now {
            let Some(q) = self.tx_queue.pop_front() else {
                break;
            };
            self.stats.tx_packets += 1;
            out.push(Action::Send {
                bytes: q.bytes,
                dst: q.dst,
                ifindex: q.ifindex,
            });
            next += gap;
        }
        self.tx_next = Some(next);
    }

    fn finish(&mut self, now: Instant, batch: Batch, out: &mut Vec<Action>) {
        if !batch.remove.is_empty() {
            self.stats.routes_removed += batch.remove.len() as u64;
            out.push(Action::RemoveRoutes(batch.remove));
        }
        if !batch.install.is_empty() {
            self.stats.routes_installed += batch.install.len() as u64;
            out.push(Action::InstallRoutes(batch.install));
        }
        self.flush_tx(now, out);
    }

    /// Graceful stop: tell neighbours our routes are gone (metric 16 on
    /// every interface, unpaced beyond the usual) and take ours out of the
    /// kernel.
    pub fn shutdown(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        let mut remove = Vec::new();
        let active: Vec<(u32, u32)> = self
            .ifaces
            .values()
            .filter(|i| i.is_active())
            .map(|i| (i.ifindex, i.mtu))
            .collect();
        let rtes: Vec<RawRte> = self
            .table
            .iter()
            .filter(|(_, e)| e.metric < self.cfg.infinity)
            .map(|(p, e)| RawRte {
                prefix: p.addr(),
                tag: e.tag,
                prefix_len: p.len(),
                metric: 16,
            })
            .collect();
        for (ifindex, mtu) in active {
            let dst = SocketAddrV6::new(ALL_RIP_ROUTERS, RIPNG_PORT, 0, ifindex);
            self.queue_responses(&rtes, mtu, dst, ifindex);
        }
        for (p, e) in self.table.iter().filter(|(_, e)| e.installed()) {
            remove.push(self.fact(p, e));
        }
        for e in self.table.values_mut() {
            e.set(F_INSTALLED | F_FAILED | F_RETRIED, false);
        }
        if !remove.is_empty() {
            out.push(Action::RemoveRoutes(remove));
        }
        // Everything goes now: the daemon is about to exit.
        while let Some(q) = self.tx_queue.pop_front() {
            out.push(Action::Send {
                bytes: q.bytes,
                dst: q.dst,
                ifindex: q.ifindex,
            });
        }
        out
    }

    /// True once stale rip routes (not ours) were seen in the kernel.
    pub fn saw_stale_routes(&self) -> bool {
        self.stale_seen
    }
}

/// Equal as far as we set them (the kernel may report other fields).
fn same_kernel_route(a: &RouteFact, b: &RouteFact) -> bool {
    a.dst == b.dst && a.gateway == b.gateway && a.oif == b.oif && a.metric == b.metric
}

#[cfg(test)]
mod tests;
