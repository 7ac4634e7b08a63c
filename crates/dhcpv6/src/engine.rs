//! The DHCPv6 server (RFC 8415 §16, §18.3), sans-IO.
//!
//! Input: a received datagram with its interface, source and whether it was
//! sent to a multicast address; a timer tick. Output: [`Action`]s. A reply
//! that grants or extends a lease always follows the `Persist` action that
//! records it: the glue makes the records durable (fsync) and only then
//! sends the replies that follow; if that fails the replies are dropped
//! (never a lease granted but not stored) and it calls
//! [`Server::note_persist_failed`].
//!
//! Inside, one client message is an `Exchange` (time, link, source,
//! message, client DUID) and its answer a `Reply`: the message being built
//! (IDs first, then one IA per IA asked for, then the link's options) and
//! the records and route changes it commits to. Each handler below, one per
//! message type and named by its §18.3 subsection, appends to that one
//! `Reply`; `Reply::into_actions` orders the result. Choosing a lease for an
//! IA (`assign_ia`) tries, in order, a static binding, what the IA holds,
//! what it was offered, what it hinted at, then the pools. A static
//! binding by `hostid` is one address in each /64 the link serves, so it
//! follows renumbering: a Renew or Rebind after the prefix changed gets
//! the new one, and the old at lifetime 0 (`extend_ia`).
//!
//! Under a Solicit flood: offers (`crate::offers`) never hold more than a
//! share of a link's free leases and never refuse a lease to a Request;
//! each link answers a budget of Solicits per second (`crate::budget`).

use crate::budget::SolicitBudget;
use crate::lease::{Lease, LeaseKey, LeaseKind, LeaseRecord, LeaseState, ReconfigureKey};
use crate::offers::OfferTable;
use crate::reconfigure::ReconfigureQueue;
use crate::table::LeaseTable;
use crate::wire::{
    code, no_update_flags, sign_reconfigure, Auth, ClientFqdn, ClientServerMessage, DhcpOption,
    Duid, IaAddr, IaNa, IaPd, IaPrefix, Message, MessageType, NtpSuboption, RelayMessage,
    StatusCode, CLIENT_PORT, HOP_COUNT_LIMIT, SERVER_PORT,
};
use std::collections::{BTreeMap, HashSet};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::sync::Arc;
use std::time::{Duration, Instant};
use v6common::kernel::{rtprot, RT_TABLE_MAIN};
use v6common::{Ipv6Prefix, RouteFact, RouteKind};

/// The current time, twice: monotonic for timers, wall clock (unix seconds)
/// for lease expiry that must survive a restart.
#[derive(Clone, Copy, Debug)]
pub struct Now {
    pub mono: Instant,
    pub unix: u64,
}

/// A range of addresses handed out from (inclusive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressPool {
    pub first: Ipv6Addr,
    pub last: Ipv6Addr,
}

/// Delegated prefixes of `delegated_len` carved out of `prefix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixPool {
    pub prefix: Ipv6Prefix,
    pub delegated_len: u8,
}

/// How a static binding recognises its client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostId {
    /// ISC `host-identifier option dhcp6.client-id`, WIDE `duid`.
    Duid(Duid),
    /// One IA of one client.
    DuidIaid(Duid, u32),
    /// The client's Ethernet address: inside its DUID-LL or DUID-LLT, else
    /// from a relay's Client Link-Layer Address option (RFC 6939), else
    /// from the kernel's neighbour cache (`Received::client_lladdr`).
    Mac([u8; 6]),
}

/// A static binding (ISC `fixed-address6`/`fixed-prefix6`, WIDE `host`,
/// odhcpd `config host`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub id: HostId,
    /// The client's host name, recorded with its leases.
    pub name: Option<Arc<str>>,
    pub address: Option<Ipv6Addr>,
    /// An interface identifier (odhcpd's `hostid`): the client gets this
    /// identifier in each of the link's `served_prefixes`.
    pub hostid: Option<u64>,
    pub prefix: Option<Ipv6Prefix>,
    pub preferred: Option<u32>,
    pub valid: Option<u32>,
}

/// What the server does on one link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkConfig {
    pub name: String,
    pub ifindex: u32,
    pub address_pools: Vec<AddressPool>,
    pub prefix_pools: Vec<PrefixPool>,
    pub hosts: Vec<Host>,
    pub dns_servers: Vec<Ipv6Addr>,
    pub domain_list: Vec<String>,
    pub preferred: u32,
    pub valid: u32,
    /// None: 0.5 × preferred (RFC 8415 §21.4).
    pub t1: Option<u32>,
    /// None: 0.8 × preferred.
    pub t2: Option<u32>,
    /// Preference option (§21.8); None: not sent.
    pub preference: Option<u8>,
    /// Answer a Solicit with Rapid Commit by a Reply (§18.3.1).
    pub rapid_commit: bool,
    /// Server Unicast option (§21.12); None: clients must use multicast.
    pub unicast: Option<Ipv6Addr>,
    pub information_refresh_time: Option<u32>,
    /// SOL_MAX_RT (§21.24) and INF_MAX_RT (§21.25) to send; None: not sent.
    pub sol_max_rt: Option<u32>,
    pub inf_max_rt: Option<u32>,
    /// NTP servers (RFC 5908 §4); empty: no option 56.
    pub ntp_servers: Vec<NtpSuboption>,
    /// Prefixes on the link, for Confirm (§18.3.3) and for recognising the
    /// link of a relayed message (§13.1). Pools' /64s are added.
    pub on_link: Vec<Ipv6Prefix>,
    /// The /64s addresses are served from now (not those being
    /// deprecated): a host's `hostid` is placed in each. Pools' /64s are
    /// added.
    pub served_prefixes: Vec<Ipv6Prefix>,
    /// A remote link, served only through relay agents (§19) whose
    /// Relay-forward messages arrive on `ifindex`; never to clients there.
    pub relayed: bool,
    /// The relay's Interface-ID (§21.18) naming this link, for relays that
    /// leave link-address unspecified.
    pub interface_id: Option<Vec<u8>>,
    /// Give clients that send Reconfigure Accept a Reconfigure Key, and
    /// send them Reconfigure (Renew) when what the link serves changes
    /// (§18.3.11, §20.4).
    pub reconfigure: bool,
}

impl LinkConfig {
    pub fn new(name: &str, ifindex: u32) -> LinkConfig {
        LinkConfig {
            name: name.to_string(),
            ifindex,
            address_pools: vec![],
            prefix_pools: vec![],
            hosts: vec![],
            dns_servers: vec![],
            domain_list: vec![],
            preferred: 3600,
            valid: 7200,
            t1: None,
            t2: None,
            preference: None,
            rapid_commit: false,
            unicast: None,
            information_refresh_time: None,
            sol_max_rt: None,
            inf_max_rt: None,
            ntp_servers: vec![],
            on_link: vec![],
            served_prefixes: vec![],
            relayed: false,
            interface_id: None,
            reconfigure: true,
        }
    }
}

/// Per-client limits (a client asking for thousands of IAs cannot drain a pool).
#[derive(Clone, Debug)]
pub struct Limits {
    pub addresses_per_client: usize,
    pub prefixes_per_client: usize,
    /// How long an address offered in an Advertise is held for the client.
    pub offer_hold: u64,
    /// Most offers one link holds, per kind (besides half its free leases).
    pub offers_per_link: usize,
    /// Solicits one link answers per second (see `crate::budget`).
    pub solicits_per_second: u32,
    /// How long a declined address stays out of the pool (§18.3.8).
    pub decline_hold: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            addresses_per_client: 8,
            prefixes_per_client: 4,
            offer_hold: 60,
            offers_per_link: 1024,
            solicits_per_second: 2000,
            decline_hold: 86_400,
        }
    }
}

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub server_duid: Duid,
    pub links: Vec<LinkConfig>,
    pub limits: Limits,
}

/// A datagram as the socket delivered it.
#[derive(Clone, Copy, Debug)]
pub struct Received<'a> {
    pub data: &'a [u8],
    pub src: SocketAddrV6,
    pub ifindex: u32,
    /// Sent to ff02::1:2 (or ff05::1:3) rather than to one of our addresses.
    pub multicast: bool,
    /// The sender's Ethernet address in the kernel's neighbour cache, when
    /// the glue looked it up ([`Server::wants_client_lladdr`]).
    pub client_lladdr: Option<[u8; 6]>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Make these records durable before sending the replies that follow.
    Persist(Vec<LeaseRecord>),
    Send {
        data: Vec<u8>,
        dst: SocketAddrV6,
        ifindex: u32,
    },
    AddRoute(RouteFact),
    DelRoute(RouteFact),
}

/// What a link serves, compared across `set_links` (a change is what
/// triggers Reconfigure).
#[derive(PartialEq, Eq)]
struct Served {
    address_pools: Vec<AddressPool>,
    prefix_pools: Vec<PrefixPool>,
    served_prefixes: Vec<Ipv6Prefix>,
}

impl Served {
    fn of(cfg: &LinkConfig) -> Served {
        Served {
            address_pools: cfg.address_pools.clone(),
            prefix_pools: cfg.prefix_pools.clone(),
            served_prefixes: cfg.served_prefixes.clone(),
        }
    }

    /// Whether a binding of `kind` can be answered differently after the
    /// change from `self` to `now`: addresses follow the address pools and
    /// the served /64s (`hostid` bindings), prefixes the prefix pools.
    fn changed_for(&self, now: &Served, kind: LeaseKind) -> bool {
        match kind {
            LeaseKind::Address => {
                self.address_pools != now.address_pools
                    || self.served_prefixes != now.served_prefixes
            }
            LeaseKind::Prefix => self.prefix_pools != now.prefix_pools,
        }
    }
}

/// Why a datagram was dropped without an answer (counter names).
pub mod drop_reason {
    pub const UNKNOWN_INTERFACE: &str = "unknown-interface";
    pub const NOT_FOR_SERVER: &str = "not-for-server";
    pub const RELAY_NOT_SERVED: &str = "relay-not-served";
    pub const RELAY_UNKNOWN_LINK: &str = "relay-unknown-link";
    pub const RELAY_WITHOUT_MESSAGE: &str = "relay-without-message";
    pub const RELAY_TOO_MANY_HOPS: &str = "relay-too-many-hops";
    pub const NO_CLIENT_ID: &str = "no-client-id";
    pub const UNEXPECTED_SERVER_ID: &str = "unexpected-server-id";
    pub const NO_SERVER_ID: &str = "no-server-id";
    pub const OTHER_SERVER_ID: &str = "other-server-id";
    pub const DUPLICATE_OPTION: &str = "duplicate-option";
    pub const IA_IN_INFORMATION_REQUEST: &str = "ia-in-information-request";
    pub const CONFIRM_WITHOUT_ADDRESSES: &str = "confirm-without-addresses";
    pub const PERSIST_FAILED: &str = "persist-failed";
    /// A Solicit past its link's budget (`crate::budget`).
    pub const SOLICIT_BUDGET: &str = "solicit-budget";
}

/// Counters per message type and per drop reason.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub received: [u64; 14],
    pub sent: [u64; 14],
    pub drops: BTreeMap<&'static str, u64>,
    pub use_multicast: u64,
    /// Client FQDN options (RFC 4704) that were malformed or named no
    /// host: ignored, the message answered without them.
    pub bad_client_fqdn: u64,
    /// Clients queued for a Reconfigure that never answered its
    /// REC_MAX_RC transmissions (§18.3.11), and those still pending.
    pub reconfigures_unanswered: u64,
    pub reconfigures_pending: u64,
}

impl Stats {
    fn drop(&mut self, reason: &'static str) {
        *self.drops.entry(reason).or_default() += 1;
    }
    pub fn received_by_type(&self) -> Vec<(&'static str, u64)> {
        MessageType::ALL
            .iter()
            .map(|t| (t.name(), self.received[*t as usize]))
            .collect()
    }
    pub fn sent_by_type(&self) -> Vec<(&'static str, u64)> {
        MessageType::ALL
            .iter()
            .map(|t| (t.name(), self.sent[*t as usize]))
            .collect()
    }
    pub fn dropped_total(&self) -> u64 {
        self.drops.values().sum()
    }
}

/// Per-link run-time state.
struct Link {
    cfg: LinkConfig,
    name: Arc<str>,
    /// Next candidate per address pool (offset from `first`).
    addr_cursor: Vec<u128>,
    /// Next candidate per prefix pool (index of the sub-prefix).
    pd_cursor: Vec<u128>,
    /// Addresses and prefixes of static bindings: never handed out dynamically.
    reserved: HashSet<LeaseKey>,
    budget: SolicitBudget,
}

pub struct Server {
    duid: Duid,
    links: Vec<Link>,
    limits: Limits,
    /// The leases, indexed by what is leased, by client and by expiry.
    leases: LeaseTable,
    /// Leases offered in an Advertise, held for a while.
    offers: OfferTable,
    stats: Stats,
    rng: fastrand::Rng,
    /// Clients to send a Reconfigure to (§18.3.11).
    reconf: ReconfigureQueue,
    /// The last replay detection value sent (§20.2, RDM 0: monotonic;
    /// seeded from the wall clock so it keeps rising across restarts).
    replay: u64,
}

/// One client message being answered: when, on which link, from where,
/// and from whom (our own DUID for an Information-request without Client
/// ID, which needs none, §16.12), with the client's Ethernet address if
/// known and the Client FQDN it sent, if well-formed.
struct Exchange<'a> {
    now: Now,
    li: usize,
    rx: Received<'a>,
    m: &'a ClientServerMessage,
    client: Duid,
    mac: Option<[u8; 6]>,
    fqdn: Option<&'a ClientFqdn>,
    /// The client sent Reconfigure Accept on a link that reconfigures: the
    /// key it holds (or is given now) and its address (§20.4.2).
    reconf: Option<ReconfigureKey>,
}

/// The reply being built for one exchange, and what it commits the glue to
/// before it may be sent: lease records to make durable and route changes
/// (see the module doc). Handlers append to it; [`Reply::into_actions`]
/// orders them.
struct Reply {
    msg: ClientServerMessage,
    records: Vec<LeaseRecord>,
    routes: Vec<Action>,
}

impl Reply {
    fn push(&mut self, o: DhcpOption) {
        self.msg.options.push(o);
    }

    fn status(&mut self, s: StatusCode, text: &str) {
        self.push(DhcpOption::StatusCode(s, text.into()));
    }

    /// Records first, then routes, then the datagram: never a grant sent
    /// before it is stored.
    fn into_actions(self, rx: &Received<'_>) -> Vec<Action> {
        let Reply {
            msg,
            records,
            routes,
        } = self;
        let mut out = Vec::with_capacity(routes.len() + 2);
        if !records.is_empty() {
            out.push(Action::Persist(records));
        }
        out.extend(routes);
        out.push(Action::Send {
            data: msg.to_bytes(),
            dst: rx.src,
            ifindex: rx.ifindex,
        });
        out
    }
}

/// The lease chosen for one IA, with its lifetimes.
struct Grant {
    prefix: Ipv6Prefix,
    is_static: bool,
    preferred: u32,
    valid: u32,
}

impl Grant {
    /// A lease from the pools, with the link's lifetimes.
    fn dynamic(prefix: Ipv6Prefix, cfg: &LinkConfig) -> Grant {
        Grant {
            prefix,
            is_static: false,
            preferred: cfg.preferred,
            valid: cfg.valid,
        }
    }
}

/// What the IAs of a Solicit or Request came to (§18.3.1 answers "nothing
/// available" for the message as a whole).
struct IaSummary {
    any: bool,
    granted: bool,
    only_pd: bool,
}

/// What renewing one lease an IA holds came to.
enum Renewed {
    /// Gone from the table meanwhile: nothing to say about it.
    Gone,
    /// Outside every pool now: lifetimes 0.
    Withdrawn(Ipv6Prefix),
    /// Extended, with these lifetimes.
    Extended {
        prefix: Ipv6Prefix,
        preferred: u32,
        valid: u32,
    },
}

/// Release (§18.3.7) and Decline (§18.3.8) differ only in what becomes of
/// a lease the client gives back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum GiveBack {
    /// Free it at once.
    Release,
    /// Keep it out of the pool for a while (the address is in use by
    /// someone else, says the client's DAD).
    Decline,
}

impl Server {
    pub fn new(cfg: ServerConfig, seed: u64) -> Server {
        let mut s = Server {
            duid: cfg.server_duid,
            links: vec![],
            limits: cfg.limits,
            leases: LeaseTable::default(),
            offers: OfferTable::default(),
            stats: Stats::default(),
            rng: fastrand::Rng::with_seed(seed),
            reconf: ReconfigureQueue::default(),
            replay: 0,
        };
        s.set_links(cfg.links);
        s
    }

    /// Replace the link configuration (reload). Leases stay; those outside
    /// every pool simply are not renewed (the client gets lifetimes 0).
    pub fn set_links(&mut self, links: Vec<LinkConfig>) {
        let before: Vec<(String, Served)> = self
            .links
            .iter()
            .map(|l| (l.cfg.name.clone(), Served::of(&l.cfg)))
            .collect();
        self.links = links
            .into_iter()
            .map(|mut cfg| {
                for p in &cfg.address_pools {
                    let l = Ipv6Prefix::new(p.first, 64);
                    if !cfg.on_link.contains(&l) {
                        cfg.on_link.push(l);
                    }
                    if !cfg.served_prefixes.contains(&l) {
                        cfg.served_prefixes.push(l);
                    }
                }
                let reserved = reserved_by_hosts(&cfg);
                // Start at a random place in each pool (as Kea's random allocator
                // does) so two servers or a restart do not walk the same order.
                let addr_cursor = cfg
                    .address_pools
                    .iter()
                    .map(|p| {
                        let size = u128::from(p.last).saturating_sub(u128::from(p.first));
                        if size == 0 {
                            0
                        } else {
                            u128::from(self.rng.u64(..)) % size.min(u128::from(u64::MAX))
                        }
                    })
                    .collect();
                let pd_cursor = vec![0; cfg.prefix_pools.len()];
                Link {
                    name: Arc::from(cfg.name.as_str()),
                    cfg,
                    addr_cursor,
                    pd_cursor,
                    reserved,
                    budget: SolicitBudget::new(self.limits.solicits_per_second),
                }
            })
            .collect();
        // §18.3.11: what a link serves changed (renumbering, a reload):
        // its clients that accepted Reconfigure, and whose bindings the
        // change touches, are told to Renew now rather than at T1. A link
        // that is new is no change. Only those whose bindings it touches:
        // a renumbering reaches us in steps (the delegation, then the
        // LAN's new /64), and a client that already renewed after the
        // first need not be woken again for a change of the other kind.
        let changed: Vec<(Arc<str>, u32, &Served, Served)> = self
            .links
            .iter()
            .filter(|l| l.cfg.reconfigure && !l.cfg.relayed)
            .filter_map(|l| {
                let (_, old) = before.iter().find(|(n, _)| *n == l.cfg.name)?;
                let now = Served::of(&l.cfg);
                (*old != now).then(|| (l.name.clone(), l.cfg.ifindex, old, now))
            })
            .collect();
        if changed.is_empty() {
            return;
        }
        let mut queued = HashSet::new();
        for l in self.leases.reconfigurable() {
            let Some((_, ifindex, old, now)) = changed.iter().find(|(n, ..)| *n == l.link) else {
                continue;
            };
            let (Some(to), LeaseState::Bound) = (l.reconfigure, l.state) else {
                continue;
            };
            if !old.changed_for(now, l.kind) {
                continue;
            }
            if queued.insert(l.duid.clone()) {
                self.reconf.add(l.duid, *ifindex, to);
            }
        }
    }

    pub fn server_duid(&self) -> &Duid {
        &self.duid
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Every lease (built from the compact table, hence by value).
    pub fn leases(&self) -> impl Iterator<Item = Lease> + '_ {
        self.leases.iter()
    }

    /// Offers held for clients that have not sent their Request yet.
    /// Clients waiting for (or answering) a Reconfigure.
    pub fn pending_reconfigures(&self) -> usize {
        self.reconf.len()
    }

    pub fn pending_offers(&self) -> usize {
        self.offers.len()
    }

    pub fn lease_count(&self) -> usize {
        self.leases.len()
    }

    /// Every lease as an `Upsert` record: the content of a compacted journal.
    pub fn snapshot(&self) -> Vec<LeaseRecord> {
        self.leases.iter().map(LeaseRecord::Upsert).collect()
    }

    /// The glue could not make records durable: the replies were dropped.
    /// The glue could not make these records durable (disk full, I/O
    /// error) and dropped the replies behind them: forget the grants they
    /// recorded, so that nothing in memory (or in `show leases`) claims a
    /// lease that is not on disk. A lease changed again since is kept.
    /// Returns the routes to withdraw.
    pub fn rollback(&mut self, records: &[LeaseRecord]) -> Vec<Action> {
        let mut out = vec![];
        for r in records {
            if let LeaseRecord::Upsert(l) = r {
                if self.leases.get(&l.key()).as_ref() == Some(l) {
                    if let Some(old) = self.remove_lease(&l.key()) {
                        out.extend(self.route_for(&old).map(Action::DelRoute));
                    }
                }
            }
        }
        out
    }

    pub fn note_persist_failed(&mut self, replies_dropped: u64) {
        *self
            .stats
            .drops
            .entry(drop_reason::PERSIST_FAILED)
            .or_default() += replies_dropped;
    }

    /// Load leases from the store at start. Returns the routes to (re)install
    /// for delegated prefixes that are still valid; expired ones are left
    /// for `on_timer` to reclaim (and journal).
    pub fn restore(&mut self, leases: impl IntoIterator<Item = Lease>) -> Vec<Action> {
        let mut out = vec![];
        for l in leases {
            if let Some(r) = self.route_for(&l) {
                out.push(Action::AddRoute(r));
            }
            self.insert_lease(l);
        }
        out
    }

    /// Earliest time `on_timer` has work to do.
    pub fn next_deadline(&self, now: Now) -> Option<Instant> {
        let lease = self.leases.next_expiry();
        let offer = self.offers.next_expiry();
        let t = match (lease, offer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let t = t.map(|t| now.mono + Duration::from_secs(t.saturating_sub(now.unix)));
        match (t, self.reconf.next_deadline(now.mono)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next replay detection value (§20.2, §20.4: RDM 0, monotonic):
    /// above every one sent, and above wall-clock seconds × 2^32, so a
    /// restarted server's values are above those it sent before.
    fn next_replay(&mut self, now: Now) -> u64 {
        self.replay = (self.replay + 1).max(now.unix << 32);
        self.replay
    }

    /// Send the Reconfigures that are due (§18.3.11): Server ID, Client
    /// ID, Reconfigure Message (Renew: the client holds a binding with us)
    /// and the Authentication option signed with the client's key
    /// (§20.4.3); transaction-id 0; to the client's address, port 546.
    fn send_reconfigures(&mut self, now: Now, out: &mut Vec<Action>) {
        let mut gave_up = 0;
        let rng = &mut self.rng;
        let due = self.reconf.due(
            now.mono,
            |d| Duration::from_secs_f64(d.as_secs_f64() * (0.9 + rng.f64() * 0.2)),
            &mut gave_up,
        );
        self.stats.reconfigures_unanswered += gave_up;
        for d in due {
            let replay = self.next_replay(now);
            let mut data = ClientServerMessage {
                msg_type: MessageType::Reconfigure,
                transaction_id: 0,
                options: vec![
                    DhcpOption::ServerId(self.duid.clone()),
                    DhcpOption::ClientId(d.client),
                    DhcpOption::ReconfMsg(MessageType::Renew),
                    DhcpOption::Auth(Auth::reconfigure_hmac_placeholder(replay)),
                ],
            }
            .to_bytes();
            if sign_reconfigure(&mut data, &d.to.key).is_err() {
                continue;
            }
            self.stats.sent[MessageType::Reconfigure as usize] += 1;
            out.push(Action::Send {
                data,
                dst: SocketAddrV6::new(d.to.client_addr, CLIENT_PORT, 0, d.ifindex),
                ifindex: d.ifindex,
            });
        }
        self.stats.reconfigures_pending = self.reconf.len() as u64;
    }

    /// Reclaim expired leases (RFC 8415 §18.3: a binding ends with its valid
    /// lifetime) and forget stale offers.
    pub fn on_timer(&mut self, now: Now) -> Vec<Action> {
        let mut records = vec![];
        let mut out = vec![];
        while let Some(l) = self.leases.pop_expired(now.unix) {
            if let Some(r) = self.route_for(&l) {
                out.push(Action::DelRoute(r));
            }
            records.push(LeaseRecord::Remove(l.key()));
        }
        self.offers.expire(now.unix);
        if !records.is_empty() {
            out.insert(0, Action::Persist(records));
        }
        self.send_reconfigures(now, &mut out);
        out
    }

    /// Handle one datagram received on the server port.
    pub fn handle(&mut self, now: Now, rx: Received<'_>) -> Vec<Action> {
        if !self.links.iter().any(|l| l.cfg.ifindex == rx.ifindex) {
            self.stats.drop(drop_reason::UNKNOWN_INTERFACE);
            return vec![];
        }
        let out = match Message::parse(rx.data) {
            Ok(Message::ClientServer(msg)) => {
                let Some(li) = self
                    .links
                    .iter()
                    .position(|l| l.cfg.ifindex == rx.ifindex && !l.cfg.relayed)
                else {
                    // Only relayed links behind this interface: its own
                    // clients are not served.
                    self.stats.drop(drop_reason::UNKNOWN_INTERFACE);
                    return vec![];
                };
                self.stats.received[msg.msg_type as usize] += 1;
                if self.over_budget(now, li, &msg, *rx.src.ip()) {
                    return vec![];
                }
                self.dispatch(now, li, &rx, &msg)
            }
            Ok(Message::Relay(r)) => {
                self.stats.received[r.msg_type as usize] += 1;
                self.relay_forward(now, &rx, r)
            }
            Err(e) => {
                self.stats.drop(e.reason());
                return vec![];
            }
        };
        for a in &out {
            if let Action::Send { data, .. } = a {
                if let Some(t) = data.first().and_then(|t| MessageType::from_u8(*t)) {
                    self.stats.sent[t as usize] += 1;
                }
            }
        }
        out
    }

    /// Whether the glue should look the sender up in the kernel's
    /// neighbour cache (`Received::client_lladdr`) before `handle`: a
    /// client itself (a relay's RFC 6939 option tells about relayed ones),
    /// from its link-local address, on a link with a binding by MAC.
    pub fn wants_client_lladdr(&self, rx: &Received<'_>) -> bool {
        let from_client = rx
            .data
            .first()
            .is_some_and(|t| *t != MessageType::RelayForw as u8);
        let link_local = (rx.src.ip().segments()[0] & 0xffc0) == 0xfe80;
        from_client
            && link_local
            && self.links.iter().any(|l| {
                l.cfg.ifindex == rx.ifindex
                    && !l.cfg.relayed
                    && l.cfg.hosts.iter().any(|h| matches!(h.id, HostId::Mac(_)))
            })
    }

    /// The Client FQDN (RFC 4704 §5: sent in a Solicit, Request, Renew or
    /// Rebind); a malformed one is counted and ignored, the message still
    /// answered.
    fn client_fqdn<'m>(&mut self, m: &'m ClientServerMessage) -> Option<&'m ClientFqdn> {
        use MessageType as T;
        if !matches!(m.msg_type, T::Solicit | T::Request | T::Renew | T::Rebind) {
            return None;
        }
        match m.option(code::CLIENT_FQDN)? {
            DhcpOption::ClientFqdn(f) => Some(f),
            _ => {
                self.stats.bad_client_fqdn += 1;
                None
            }
        }
    }

    /// §19.2: a Relay-forward (possibly nested, one level per relay agent).
    /// The client's message inside is served on the link the relays name,
    /// and each reply goes back wrapped in one Relay-reply per level (§19.3)
    /// to the relay it came from, port 547 (§7.2).
    fn relay_forward(&mut self, now: Now, rx: &Received<'_>, outer: RelayMessage) -> Vec<Action> {
        let Unwrapped {
            hops,
            inner,
            client_lladdr,
        } = match unwrap_relays(outer) {
            Ok(v) => v,
            Err(reason) => {
                self.stats.drop(reason);
                return vec![];
            }
        };
        let Some(li) = self.relayed_link(rx.ifindex, &hops) else {
            self.stats.drop(drop_reason::RELAY_UNKNOWN_LINK);
            return vec![];
        };
        self.stats.received[inner.msg_type as usize] += 1;
        // The budget's source is the client, as the relay closest to it saw it.
        let peer = hops.last().map_or(*rx.src.ip(), |h| h.peer_address);
        if self.over_budget(now, li, &inner, peer) {
            return vec![];
        }
        // The relay next to us is the way to the client (and the gateway
        // for a prefix delegated to it); a relayed message counts as sent
        // to the multicast address (§18.4 is about clients unicasting to us).
        let relay = SocketAddrV6::new(*rx.src.ip(), SERVER_PORT, 0, rx.src.scope_id());
        let irx = Received {
            data: &[],
            src: relay,
            ifindex: rx.ifindex,
            multicast: true,
            client_lladdr,
        };
        let out = self.dispatch(now, li, &irx, &inner);
        out.into_iter()
            .map(|a| match a {
                Action::Send { data, .. } => Action::Send {
                    data: relay_reply(&hops, data),
                    dst: relay,
                    ifindex: rx.ifindex,
                },
                a => a,
            })
            .collect()
    }

    /// A Solicit past its link's budget (`crate::budget`) is dropped and
    /// counted, before any allocation or Advertise is made for it.
    fn over_budget(
        &mut self,
        now: Now,
        li: usize,
        m: &ClientServerMessage,
        peer: Ipv6Addr,
    ) -> bool {
        if m.msg_type != MessageType::Solicit || self.links[li].budget.admit(now.mono, peer) {
            return false;
        }
        self.stats.drop(drop_reason::SOLICIT_BUDGET);
        true
    }

    /// §13.1: the link of a relayed client is the one holding the
    /// link-address of the relay closest to the client (a Lightweight DHCPv6
    /// Relay Agent, RFC 6221, leaves it unspecified: then the next relay
    /// out); else the one its relays' Interface-ID names. Only links served
    /// on the interface the Relay-forward arrived on.
    fn relayed_link(&self, ifindex: u32, hops: &[RelayMessage]) -> Option<usize> {
        let here = |l: &&Link| l.cfg.ifindex == ifindex;
        let by_addr = hops
            .iter()
            .rev()
            .map(|h| h.link_address)
            .find(|a| !a.is_unspecified())
            .and_then(|a| {
                self.links
                    .iter()
                    .position(|l| here(&l) && l.cfg.on_link.iter().any(|p| p.contains(a)))
            });
        by_addr.or_else(|| {
            hops.iter()
                .rev()
                .filter_map(|h| h.interface_id())
                .find_map(|id| {
                    self.links
                        .iter()
                        .position(|l| here(&l) && l.cfg.interface_id.as_deref() == Some(id))
                })
        })
    }

    fn dispatch(
        &mut self,
        now: Now,
        li: usize,
        rx: &Received<'_>,
        m: &ClientServerMessage,
    ) -> Vec<Action> {
        use MessageType as T;
        if let Err(reason) = self.admissible(m) {
            self.stats.drop(reason);
            return vec![];
        }
        // §18.4: a client may unicast only when we gave it a Server Unicast option.
        if !rx.multicast
            && self.links[li].cfg.unicast.is_none()
            && matches!(m.msg_type, T::Request | T::Renew | T::Release | T::Decline)
        {
            self.stats.use_multicast += 1;
            let mut reply = self.reply(m);
            reply.status(StatusCode::UseMulticast, "use multicast");
            return reply.into_actions(rx);
        }
        let client = m.client_id().cloned().unwrap_or_else(|| self.duid.clone());
        // §18.3.11: a Renew, Rebind or Information-request ends the
        // client's Reconfigure retransmissions.
        if matches!(m.msg_type, T::Renew | T::Rebind | T::InformationRequest)
            && self.reconf.answered(&client)
        {
            self.stats.reconfigures_pending = self.reconf.len() as u64;
        }
        let reconf = self.reconfigure_key(li, rx, m, &client);
        let x = Exchange {
            now,
            li,
            rx: *rx,
            m,
            mac: client.mac().or(rx.client_lladdr),
            client,
            fqdn: self.client_fqdn(m),
            reconf,
        };
        match m.msg_type {
            T::Solicit => self.solicit(&x),
            T::Request => self.request(&x),
            T::Renew | T::Rebind => self.renew(&x),
            T::Release => self.give_back(&x, GiveBack::Release),
            T::Decline => self.give_back(&x, GiveBack::Decline),
            T::Confirm => self.confirm(&x),
            T::InformationRequest => self.information_request(&x),
            _ => vec![],
        }
    }

    /// §20.4.2: a client that sent Reconfigure Accept in a message that
    /// binds (Solicit, Request, Renew, Rebind) on a link that reconfigures
    /// keeps the key it holds, or gets a new one. Only clients on the link
    /// itself: a relayed client would need the Reconfigure relayed too.
    fn reconfigure_key(
        &mut self,
        li: usize,
        rx: &Received<'_>,
        m: &ClientServerMessage,
        client: &Duid,
    ) -> Option<ReconfigureKey> {
        use MessageType as T;
        let cfg = &self.links[li].cfg;
        if !cfg.reconfigure
            || cfg.relayed
            || rx.ifindex != cfg.ifindex
            || !m.has(code::RECONF_ACCEPT)
            || !matches!(m.msg_type, T::Solicit | T::Request | T::Renew | T::Rebind)
        {
            return None;
        }
        let held = self
            .leases
            .client_keys(client)
            .iter()
            .find_map(|k| self.leases.get(k)?.reconfigure.map(|r| r.key));
        let key = held.unwrap_or_else(|| std::array::from_fn(|_| self.rng.u8(..)));
        Some(ReconfigureKey {
            key,
            client_addr: *rx.src.ip(),
        })
    }

    /// Whether a client message may be answered at all; else why not.
    fn admissible(&self, m: &ClientServerMessage) -> Result<(), &'static str> {
        use MessageType as T;
        if matches!(m.msg_type, T::Advertise | T::Reply | T::Reconfigure) {
            return Err(drop_reason::NOT_FOR_SERVER);
        }
        // Options that may appear at most once in a message (§21).
        for c in [
            code::CLIENTID,
            code::SERVERID,
            code::ELAPSED_TIME,
            code::ORO,
            code::RAPID_COMMIT,
        ] {
            if m.count(c) > 1 {
                return Err(drop_reason::DUPLICATE_OPTION);
            }
        }
        // §16: which messages need or forbid Client ID / Server ID.
        let (need_client, server_rule) = match m.msg_type {
            T::Solicit | T::Confirm | T::Rebind => (true, ServerIdRule::Forbidden),
            T::Request | T::Renew | T::Release | T::Decline => (true, ServerIdRule::MustMatch),
            T::InformationRequest => (false, ServerIdRule::MatchIfPresent),
            _ => return Err(drop_reason::NOT_FOR_SERVER),
        };
        if need_client && m.client_id().is_none() {
            return Err(drop_reason::NO_CLIENT_ID);
        }
        match (server_rule, m.server_id()) {
            (ServerIdRule::Forbidden, Some(_)) => Err(drop_reason::UNEXPECTED_SERVER_ID),
            (ServerIdRule::MustMatch, None) => Err(drop_reason::NO_SERVER_ID),
            (ServerIdRule::MustMatch | ServerIdRule::MatchIfPresent, Some(s))
                if *s != self.duid =>
            {
                Err(drop_reason::OTHER_SERVER_ID)
            }
            _ => Ok(()),
        }
    }

    /// §18.3: a reply of the right type (an Advertise to a Solicit) with
    /// Server ID and, when the client sent one, Client ID; handlers add the
    /// rest.
    fn reply(&self, m: &ClientServerMessage) -> Reply {
        let msg_type = if m.msg_type == MessageType::Solicit {
            MessageType::Advertise
        } else {
            MessageType::Reply
        };
        // Room for the IDs, one IA per IA asked for and the usual options.
        let mut options = Vec::with_capacity(m.options.len() + 4);
        options.push(DhcpOption::ServerId(self.duid.clone()));
        if let Some(c) = m.client_id() {
            options.push(DhcpOption::ClientId(c.clone()));
        }
        Reply {
            msg: ClientServerMessage {
                msg_type,
                transaction_id: m.transaction_id,
                options,
            },
            records: vec![],
            routes: vec![],
        }
    }

    /// Options the client asked for in its ORO that this link has (§18.3, §21.7).
    fn requested_options(
        &self,
        li: usize,
        m: &ClientServerMessage,
        info_request: bool,
        reply: &mut Reply,
    ) {
        let cfg = &self.links[li].cfg;
        let oro = m.oro();
        if oro.contains(&code::DNS_SERVERS) && !cfg.dns_servers.is_empty() {
            reply.push(DhcpOption::DnsServers(cfg.dns_servers.clone()));
        }
        if oro.contains(&code::DOMAIN_LIST) && !cfg.domain_list.is_empty() {
            reply.push(DhcpOption::DomainList(cfg.domain_list.clone()));
        }
        if info_request {
            if let Some(t) = cfg.information_refresh_time {
                // §21.23: only in replies to Information-request.
                reply.push(DhcpOption::InformationRefreshTime(t));
            }
        }
        max_rt_and_ntp_options(cfg, oro, reply);
    }

    /// What follows the IAs in a reply about leases.
    fn common_options(&mut self, x: &Exchange<'_>, reply: &mut Reply) {
        let cfg = &self.links[x.li].cfg;
        // §21.8: the Preference option belongs in an Advertise.
        if let (Some(p), MessageType::Solicit) = (cfg.preference, x.m.msg_type) {
            reply.push(DhcpOption::Preference(p));
        }
        // §21.12, §18.4: the client may unicast to us from now on.
        if let Some(u) = cfg.unicast {
            reply.push(DhcpOption::Unicast(u));
        }
        self.requested_options(x.li, x.m, false, reply);
        if let Some(f) = self.fqdn_answer(x) {
            reply.push(f);
        }
        // §20.4.2: the Reply that binds carries the client's Reconfigure Key
        // (every such Reply does: a client that lost it gets it again).
        if let (Some(r), MessageType::Reply) = (x.reconf, reply.msg.msg_type) {
            if !reply.records.is_empty() {
                let replay = self.next_replay(x.now);
                reply.push(DhcpOption::Auth(Auth::reconfigure_key(replay, &r.key)));
            }
        }
    }

    /// RFC 4704 §6: "Servers MUST only include a Client FQDN option in
    /// ADVERTISE and REPLY messages if the client included a Client FQDN
    /// option and the Client FQDN option is requested by the Option Request
    /// option". We update no DNS ourselves (names reach a local resolver
    /// through the lease), so the flags say so (§4.1, `no_update_flags`);
    /// the name is the static binding's, else the client's.
    fn fqdn_answer(&self, x: &Exchange<'_>) -> Option<DhcpOption> {
        let f = x.fqdn?;
        if !x.m.oro().contains(&code::CLIENT_FQDN) {
            return None;
        }
        let iaid = x.m.options.iter().find_map(ia_of).map_or(0, |(_, i, _)| i);
        let host = self.host_name(x, iaid);
        Some(DhcpOption::ClientFqdn(ClientFqdn {
            flags: no_update_flags(f.flags),
            fully_qualified: host.is_none() && f.fully_qualified,
            name: host.map_or_else(|| f.name.clone(), |h| h.to_string()),
        }))
    }

    /// The name of the static binding for this client, if it has one.
    fn host_name(&self, x: &Exchange<'_>, iaid: u32) -> Option<Arc<str>> {
        self.find_host(x, iaid, |h| h.name.is_some())?.name.clone()
    }

    /// The host name to record with a lease: the static binding's `name`,
    /// else the first label of the client's FQDN (as odhcpd records it).
    fn lease_name(&self, x: &Exchange<'_>, iaid: u32) -> Option<Arc<str>> {
        self.host_name(x, iaid)
            .or_else(|| x.fqdn.and_then(|f| f.host_label()).map(Arc::from))
    }

    // ----- §18.3.1 Solicit -----
    fn solicit(&mut self, x: &Exchange<'_>) -> Vec<Action> {
        // §18.3.1, §21.14: with Rapid Commit (when the link allows it) the
        // answer is a Reply that commits the leases, else an Advertise.
        let rapid = x.m.has(code::RAPID_COMMIT) && self.links[x.li].cfg.rapid_commit;
        let mut reply = self.reply(x.m);
        let ids = reply.msg.options.len();
        let ias = self.process_ias(x, !rapid, &mut reply);
        if ias.any && !ias.granted {
            // §18.3.1: nothing to give: only a status code (plus the IDs).
            // Nothing was bound either, so there is nothing to persist.
            debug_assert!(reply.records.is_empty() && reply.routes.is_empty());
            reply.msg.options.truncate(ids);
            let s = if ias.only_pd {
                StatusCode::NoPrefixAvail
            } else {
                StatusCode::NoAddrsAvail
            };
            reply.status(s, "no addresses or prefixes available");
            self.common_options(x, &mut reply);
            return reply.into_actions(&x.rx);
        }
        if rapid {
            reply.push(DhcpOption::RapidCommit);
            reply.msg.msg_type = MessageType::Reply;
        }
        self.common_options(x, &mut reply);
        reply.into_actions(&x.rx)
    }

    // ----- §18.3.2 Request -----
    fn request(&mut self, x: &Exchange<'_>) -> Vec<Action> {
        let mut reply = self.reply(x.m);
        self.process_ias(x, false, &mut reply);
        self.common_options(x, &mut reply);
        reply.into_actions(&x.rx)
    }

    /// Assign (offer when `advertise_only`) for every IA_NA / IA_TA / IA_PD:
    /// one IA in the reply for each, in the client's order.
    fn process_ias(
        &mut self,
        x: &Exchange<'_>,
        advertise_only: bool,
        reply: &mut Reply,
    ) -> IaSummary {
        let mut sum = IaSummary {
            any: false,
            granted: false,
            only_pd: true,
        };
        for o in &x.m.options {
            if let DhcpOption::IaTa(ta) = o {
                // Temporary addresses are not served (§21.5): say so in the IA.
                sum.any = true;
                sum.only_pd = false;
                reply.push(DhcpOption::IaTa(crate::wire::IaTa {
                    iaid: ta.iaid,
                    options: vec![DhcpOption::StatusCode(
                        StatusCode::NoAddrsAvail,
                        "no temporary addresses".into(),
                    )],
                }));
                continue;
            }
            let Some((kind, iaid, opts)) = ia_of(o) else {
                continue;
            };
            sum.any = true;
            sum.only_pd &= kind == LeaseKind::Prefix;
            let hints = hints_of(kind, opts);
            let grants = self.assign_ia(x, kind, iaid, &hints, advertise_only, reply);
            sum.granted |= !grants.is_empty();
            reply.push(self.ia_for(x.li, kind, iaid, &grants));
        }
        sum
    }

    /// Choose the leases for one IA (one, or a static binding's address in
    /// each served /64) and offer them (`advertise_only`, §18.3.1) or bind
    /// them (§18.3.2). Empty when there is none to give.
    fn assign_ia(
        &mut self,
        x: &Exchange<'_>,
        kind: LeaseKind,
        iaid: u32,
        hints: &[Ipv6Prefix],
        advertise_only: bool,
        reply: &mut Reply,
    ) -> Vec<Grant> {
        let mut grants = self.static_grants(x, kind, iaid);
        if grants.is_empty() {
            let dynamic = self
                .kept_lease(x, kind, iaid, hints)
                .or_else(|| self.new_lease(x, kind, iaid, advertise_only));
            grants.extend(dynamic);
        }
        for g in &grants {
            if advertise_only {
                self.remember_offer(x, iaid, kind, g.prefix);
            } else {
                self.bind(x, kind, iaid, g, reply);
            }
        }
        grants
    }

    /// First choice: a static binding for this client (by DUID+IAID, DUID,
    /// then MAC), with its own lifetimes where it sets them: its fixed
    /// address or prefix, or its `hostid` in each /64 served now.
    fn static_grants(&self, x: &Exchange<'_>, kind: LeaseKind, iaid: u32) -> Vec<Grant> {
        let Some(h) = self.find_host(x, iaid, |h| binds(h, kind)) else {
            return vec![];
        };
        let cfg = &self.links[x.li].cfg;
        let prefixes: Vec<Ipv6Prefix> = match kind {
            LeaseKind::Address => h
                .address
                .into_iter()
                .chain(hostid_addresses(h, &cfg.served_prefixes))
                .map(|a| Ipv6Prefix::new(a, 128))
                .collect(),
            LeaseKind::Prefix => h.prefix.into_iter().collect(),
        };
        prefixes
            .into_iter()
            .map(|prefix| Grant {
                prefix,
                is_static: true,
                preferred: h.preferred.unwrap_or(cfg.preferred),
                valid: h.valid.unwrap_or(cfg.valid),
            })
            .collect()
    }

    /// Next choices, in this order: what this IA already holds on this link
    /// and is still in a pool; what we offered it in an Advertise (on this
    /// link: a client that moved, or one behind relays of several links,
    /// may have been offered elsewhere); a free address or prefix it hinted
    /// at (§18.3.1, §18.3.2: the server may take the client's hints into
    /// account), even one offered to another client: an Advertise binds
    /// nothing (§18.3.2 makes the binding), and that client may be gone.
    fn kept_lease(
        &self,
        x: &Exchange<'_>,
        kind: LeaseKind,
        iaid: u32,
        hints: &[Ipv6Prefix],
    ) -> Option<Grant> {
        let (li, client) = (x.li, &x.client);
        let link = &self.links[li].name;
        let held = || {
            self.leases
                .client_leases(client)
                .find(|l| {
                    l.kind == kind
                        && l.iaid == iaid
                        && l.state == LeaseState::Bound
                        && *l.link == **link
                        && self.in_pool(li, kind, l.prefix)
                })
                .map(|l| l.prefix)
        };
        let offered = || {
            self.offers
                .get(client, iaid, kind)
                .filter(|p| self.in_pool(li, kind, *p))
        };
        let hinted = || {
            hints
                .iter()
                .copied()
                .find(|p| self.in_pool(li, kind, *p) && self.is_free(li, kind, *p, client, iaid))
        };
        let prefix = held().or_else(offered).or_else(hinted)?;
        Some(Grant::dynamic(prefix, &self.links[li].cfg))
    }

    /// Last choice: a new one from the pools, within the per-client limit
    /// (a client asking for thousands of IAs cannot drain a pool). One
    /// nobody was offered, else the link's oldest offer; for an Advertise
    /// when the link holds all the offers it may, that oldest offer at
    /// once (so a flood of Solicits churns the same few leases).
    fn new_lease(
        &mut self,
        x: &Exchange<'_>,
        kind: LeaseKind,
        iaid: u32,
        advertise_only: bool,
    ) -> Option<Grant> {
        let held = self
            .leases
            .client_keys(&x.client)
            .iter()
            .filter(|k| k.0 == kind)
            .count();
        let limit = match kind {
            LeaseKind::Address => self.limits.addresses_per_client,
            LeaseKind::Prefix => self.limits.prefixes_per_client,
        };
        if held >= limit {
            return None;
        }
        let full = advertise_only && !self.offer_room(x.li, kind);
        let prefix = if full {
            self.oldest_offer(x.li, kind)
                .or_else(|| self.allocate(x.li, kind, &x.client, iaid))
        } else {
            self.allocate(x.li, kind, &x.client, iaid)
                .or_else(|| self.oldest_offer(x.li, kind))
        }?;
        Some(Grant::dynamic(prefix, &self.links[x.li].cfg))
    }

    /// Bind the lease (§18.3.2): it is no longer an offer; a delegated
    /// prefix is routed via the router that asked for it, and its route
    /// changes only when that router does (a re-Request from the same one
    /// leaves it alone).
    fn bind(&mut self, x: &Exchange<'_>, kind: LeaseKind, iaid: u32, g: &Grant, reply: &mut Reply) {
        let old = self.leases.get(&(kind, g.prefix));
        // A client that sends no name this time keeps the one it had.
        let kept_name = old
            .as_ref()
            .filter(|o| o.duid == x.client)
            .and_then(|o| o.name.clone());
        let lease = Lease {
            kind,
            prefix: g.prefix,
            duid: x.client.clone(),
            iaid,
            link: self.links[x.li].name.clone(),
            cltt: x.now.unix,
            preferred: g.preferred,
            valid: g.valid,
            state: LeaseState::Bound,
            is_static: g.is_static,
            via: (kind == LeaseKind::Prefix).then_some(*x.rx.src.ip()),
            name: self.lease_name(x, iaid).or(kept_name),
            reconfigure: x.reconf,
        };
        // The IA's offer, and any other client's of this lease, are done.
        self.offers.forget_ia(&(x.client.clone(), iaid, kind));
        self.offers.forget_lease(&(kind, g.prefix));
        if old.as_ref().map(|o| o.via) != Some(lease.via) {
            let gone = old.as_ref().and_then(|o| self.route_for(o));
            reply.routes.extend(gone.map(Action::DelRoute));
            reply
                .routes
                .extend(self.route_for(&lease).map(Action::AddRoute));
        }
        self.store(lease, reply);
    }

    /// Keep a lease, and journal it behind this reply.
    fn store(&mut self, l: Lease, reply: &mut Reply) {
        reply.records.push(LeaseRecord::Upsert(l.clone()));
        self.insert_lease(l);
    }

    /// The IA for what `assign_ia` came to: with the lease, or with only a
    /// status code (§18.3.1, §18.3.2: NoAddrsAvail / NoPrefixAvail in the IA).
    fn ia_for(&self, li: usize, kind: LeaseKind, iaid: u32, grants: &[Grant]) -> DhcpOption {
        if !grants.is_empty() {
            return self.ia_with(li, kind, iaid, grants, Vec::with_capacity(grants.len()));
        }
        let (status, text) = match kind {
            LeaseKind::Address => (StatusCode::NoAddrsAvail, "no addresses available"),
            LeaseKind::Prefix => (StatusCode::NoPrefixAvail, "no prefixes available"),
        };
        let s = DhcpOption::StatusCode(status, text.into());
        ia_option(kind, iaid, 0, 0, vec![s])
    }

    /// An IA holding `leases` and the granted ones, with T1/T2 for the
    /// shortest granted preferred lifetime (§21.4, §21.21).
    fn ia_with(
        &self,
        li: usize,
        kind: LeaseKind,
        iaid: u32,
        grants: &[Grant],
        mut leases: Vec<DhcpOption>,
    ) -> DhcpOption {
        let granted = grants
            .iter()
            .map(|g| lease_option(kind, g.prefix, g.preferred, g.valid));
        leases.extend(granted);
        let preferred = grants.iter().map(|g| g.preferred).min().unwrap_or(0);
        let (t1, t2) = self.timers(li, preferred);
        ia_option(kind, iaid, t1, t2, leases)
    }

    /// T1 and T2 of an IA (§21.4, §21.21): the link's, else 0.5 and 0.8
    /// times the preferred lifetime (§21.4's recommendation), never past
    /// it (§21.4: T1 <= T2 <= preferred); an infinite lifetime keeps
    /// infinite timers unless the link sets them (§7.7).
    fn timers(&self, li: usize, preferred: u32) -> (u32, u32) {
        let cfg = &self.links[li].cfg;
        if preferred == u32::MAX {
            return (cfg.t1.unwrap_or(u32::MAX), cfg.t2.unwrap_or(u32::MAX));
        }
        let t1 = cfg.t1.unwrap_or(preferred / 2).min(preferred);
        let t2 = cfg
            .t2
            .unwrap_or((u64::from(preferred) * 4 / 5) as u32)
            .max(t1)
            .min(preferred);
        (t1, t2)
    }

    /// The static binding of this client among those `fits` accepts: by
    /// DUID and IAID, else by DUID, else by MAC.
    fn find_host(
        &self,
        x: &Exchange<'_>,
        iaid: u32,
        fits: impl Fn(&Host) -> bool,
    ) -> Option<&Host> {
        let hosts = &self.links[x.li].cfg.hosts;
        let by = |id: &dyn Fn(&HostId) -> bool| hosts.iter().find(|h| fits(h) && id(&h.id));
        by(&|id| matches!(id, HostId::DuidIaid(d, i) if *d == x.client && *i == iaid))
            .or_else(|| by(&|id| matches!(id, HostId::Duid(d) if *d == x.client)))
            .or_else(|| by(&|id| matches!(id, HostId::Mac(m) if Some(*m) == x.mac)))
    }

    fn in_pool(&self, li: usize, kind: LeaseKind, p: Ipv6Prefix) -> bool {
        let l = &self.links[li];
        match kind {
            LeaseKind::Address => {
                let a = u128::from(p.addr());
                p.len() == 128
                    && l.cfg
                        .address_pools
                        .iter()
                        .any(|pool| u128::from(pool.first) <= a && a <= u128::from(pool.last))
            }
            LeaseKind::Prefix => l
                .cfg
                .prefix_pools
                .iter()
                .any(|pool| pool.delegated_len == p.len() && pool.prefix.covers(&p)),
        }
    }

    fn is_free(&self, li: usize, kind: LeaseKind, p: Ipv6Prefix, client: &Duid, iaid: u32) -> bool {
        let key = (kind, p);
        if self.links[li].reserved.contains(&key) {
            return false;
        }
        if let Some(l) = self.leases.get(&key) {
            return l.state == LeaseState::Bound && l.duid == *client && l.iaid == iaid;
        }
        // An offer to another client does not make it taken (see
        // `crate::offers`). Prefix pools: a delegated prefix must not overlap one of another length.
        true
    }

    /// Walk the pools from their cursors for a free address or prefix
    /// nobody was offered.
    fn allocate(
        &mut self,
        li: usize,
        kind: LeaseKind,
        client: &Duid,
        iaid: u32,
    ) -> Option<Ipv6Prefix> {
        // A full or nearly full pool is not walked end to end on every
        // message: a client that finds nothing in 4096 probes gets
        // NoAddrsAvail / NoPrefixAvail and asks again later.
        const MAX_PROBES: u128 = 4096;
        let npools = match kind {
            LeaseKind::Address => self.links[li].cfg.address_pools.len(),
            LeaseKind::Prefix => self.links[li].cfg.prefix_pools.len(),
        };
        for pi in 0..npools {
            let Some((size, cursor)) = self.pool_span(li, kind, pi) else {
                continue;
            };
            let probes = size.min(MAX_PROBES);
            for i in 0..probes {
                let off = (cursor.wrapping_add(i)) % size;
                let Some(cand) = self.pool_member(li, kind, pi, off) else {
                    continue;
                };
                let key = (kind, cand);
                if self.is_free(li, kind, cand, client, iaid)
                    && !self.leases.contains(&key)
                    && !self.offers.is_offered(&key)
                {
                    self.set_cursor(li, kind, pi, (off + 1) % size);
                    return Some(cand);
                }
            }
            // Nothing free in this window: the next message looks at the
            // next one. Without this a restart (cursor back at the pool's
            // start) in front of more than MAX_PROBES leases in a row left
            // every new client with NoAddrsAvail in a pool with room.
            self.set_cursor(li, kind, pi, cursor.wrapping_add(probes) % size);
        }
        None
    }

    fn set_cursor(&mut self, li: usize, kind: LeaseKind, pi: usize, to: u128) {
        match kind {
            LeaseKind::Address => self.links[li].addr_cursor[pi] = to,
            LeaseKind::Prefix => self.links[li].pd_cursor[pi] = to,
        }
    }

    /// How many addresses or prefixes pool `pi` holds, and its cursor; None
    /// for a pool that holds none (a config the validator should have
    /// refused).
    fn pool_span(&self, li: usize, kind: LeaseKind, pi: usize) -> Option<(u128, u128)> {
        let link = &self.links[li];
        match kind {
            LeaseKind::Address => {
                let p = &link.cfg.address_pools[pi];
                let (f, l) = (u128::from(p.first), u128::from(p.last));
                let size = l.checked_sub(f)?.saturating_add(1);
                Some((size, link.addr_cursor[pi]))
            }
            LeaseKind::Prefix => {
                let p = &link.cfg.prefix_pools[pi];
                if p.delegated_len < p.prefix.len() || p.delegated_len > 128 {
                    return None;
                }
                let bits = u32::from(p.delegated_len - p.prefix.len());
                let size = if bits >= 128 {
                    u128::MAX
                } else {
                    1u128 << bits
                };
                Some((size, link.pd_cursor[pi]))
            }
        }
    }

    /// The `off`-th address or prefix of pool `pi`.
    fn pool_member(&self, li: usize, kind: LeaseKind, pi: usize, off: u128) -> Option<Ipv6Prefix> {
        let cfg = &self.links[li].cfg;
        match kind {
            LeaseKind::Address => {
                let first = u128::from(cfg.address_pools[pi].first);
                Some(Ipv6Prefix::new(Ipv6Addr::from(first + off), 128))
            }
            LeaseKind::Prefix => {
                let p = &cfg.prefix_pools[pi];
                p.prefix.subnet(p.delegated_len, off)
            }
        }
    }

    /// Whether the link may hold one more offer of `kind`: fewer than
    /// half its free leases (so that as many stay free for clients that
    /// Request without one), and than `Limits::offers_per_link` (so that a
    /// flood from ever new DUIDs costs bounded memory).
    fn offer_room(&self, li: usize, kind: LeaseKind) -> bool {
        let link = &self.links[li];
        let pools = match kind {
            LeaseKind::Address => link.cfg.address_pools.len(),
            LeaseKind::Prefix => link.cfg.prefix_pools.len(),
        };
        let size = (0..pools)
            .filter_map(|pi| self.pool_span(li, kind, pi))
            .fold(0u128, |n, (size, _)| n.saturating_add(size));
        let free = size.saturating_sub(self.leases.count(&link.name, kind) as u128);
        let held = self.offers.held(&link.name, kind);
        (held as u128) < (free / 2).min(self.limits.offers_per_link as u128)
    }

    /// The lease of the link's oldest offer still in a pool and not leased
    /// meanwhile; offers that are neither any more are forgotten on the way.
    fn oldest_offer(&mut self, li: usize, kind: LeaseKind) -> Option<Ipv6Prefix> {
        let name = self.links[li].name.clone();
        while let Some((who, p)) = self.offers.oldest(&name, kind) {
            let key = (kind, p);
            if self.in_pool(li, kind, p)
                && !self.leases.contains(&key)
                && !self.links[li].reserved.contains(&key)
            {
                return Some(p);
            }
            self.offers.forget_ia(&who);
        }
        None
    }

    /// Hold what an Advertise names for this IA (§18.3.1), when the link
    /// has room for the offer or it replaces one (the IA's own, or another
    /// client's of the same lease); else it is advertised unheld, and the
    /// first Request for it gets it. What the IA holds already, or a static
    /// binding's lease, needs no holding: nobody else gets it.
    fn remember_offer(&mut self, x: &Exchange<'_>, iaid: u32, kind: LeaseKind, p: Ipv6Prefix) {
        let key = (x.client.clone(), iaid, kind);
        if self.leases.contains(&(kind, p)) || self.links[x.li].reserved.contains(&(kind, p)) {
            return;
        }
        let replaces =
            self.offers.get(&x.client, iaid, kind).is_some() || self.offers.is_offered(&(kind, p));
        if replaces || self.offer_room(x.li, kind) {
            let until = x.now.unix + self.limits.offer_hold;
            let link = self.links[x.li].name.clone();
            self.offers.offer(&link, key, p, until);
        }
    }

    fn insert_lease(&mut self, l: Lease) {
        self.leases.insert(l);
    }

    fn remove_lease(&mut self, key: &LeaseKey) -> Option<Lease> {
        self.leases.remove(key)
    }

    /// The route for a delegated prefix: via the requesting router's
    /// (link-local) address on the link it asked from.
    fn route_for(&self, l: &Lease) -> Option<RouteFact> {
        if l.kind != LeaseKind::Prefix || l.state != LeaseState::Bound {
            return None;
        }
        let via = l.via?;
        let link = self.links.iter().find(|k| *k.name == *l.link)?;
        Some(delegated_route(l.prefix, via, link.cfg.ifindex))
    }

    /// Bound leases of one IA of a client (on one link when `link` says).
    fn ia_leases(
        &self,
        client: &Duid,
        iaid: u32,
        kind: LeaseKind,
        link: Option<&str>,
    ) -> Vec<LeaseKey> {
        self.leases
            .client_leases(client)
            .filter(|l| l.kind == kind && l.iaid == iaid && l.state == LeaseState::Bound)
            .filter(|l| link.is_none_or(|n| *l.link == *n))
            .map(|l| l.key())
            .collect()
    }

    // ----- §18.3.4 Renew, §18.3.5 Rebind -----
    fn renew(&mut self, x: &Exchange<'_>) -> Vec<Action> {
        let mut reply = self.reply(x.m);
        for o in &x.m.options {
            let Some((kind, iaid, opts)) = ia_of(o) else {
                continue;
            };
            let hints = hints_of(kind, opts);
            let link = Some(&*self.links[x.li].name);
            let held = self.ia_leases(&x.client, iaid, kind, link);
            let ia = if held.is_empty() {
                self.unbound_ia(x, kind, iaid, &hints, &mut reply)
            } else {
                self.extend_ia(x, kind, iaid, &held, &hints, &mut reply)
            };
            reply.push(ia);
        }
        self.common_options(x, &mut reply);
        reply.into_actions(&x.rx)
    }

    /// An IA the client renews but holds nothing in on this link. A Rebind
    /// may re-create the binding when the client's addresses are
    /// appropriate for the link and free, else they get lifetimes 0
    /// (§18.3.5); a Renew gets NoBinding, so that the client starts over
    /// with a Request (§18.3.4).
    fn unbound_ia(
        &mut self,
        x: &Exchange<'_>,
        kind: LeaseKind,
        iaid: u32,
        hints: &[Ipv6Prefix],
        reply: &mut Reply,
    ) -> DhcpOption {
        if x.m.msg_type != MessageType::Rebind {
            return no_binding(kind, iaid);
        }
        let usable: Vec<Ipv6Prefix> = hints
            .iter()
            .copied()
            .filter(|p| {
                self.in_pool(x.li, kind, *p) && self.is_free(x.li, kind, *p, &x.client, iaid)
            })
            .collect();
        let is_static = !self.static_grants(x, kind, iaid).is_empty();
        if usable.is_empty() && !is_static {
            let opts = hints.iter().map(|p| lease_option(kind, *p, 0, 0)).collect();
            return ia_option(kind, iaid, 0, 0, opts);
        }
        // A static binding is re-created as it is now (its hostid in
        // today's /64s); what else the client listed gets lifetimes 0.
        let grants = self.assign_ia(x, kind, iaid, &usable, false, reply);
        if grants.is_empty() {
            return self.ia_for(x.li, kind, iaid, &grants);
        }
        let gone = hints
            .iter()
            .filter(|h| !usable.contains(h) && !grants.iter().any(|g| g.prefix == **h))
            .map(|h| lease_option(kind, *h, 0, 0))
            .collect();
        self.ia_with(x.li, kind, iaid, &grants, gone)
    }

    /// Extend what an IA holds on this link (§18.3.4, §18.3.5): T1/T2 for
    /// the shortest preferred lifetime, lifetimes 0 for what the client
    /// listed but does not hold (any longer).
    fn extend_ia(
        &mut self,
        x: &Exchange<'_>,
        kind: LeaseKind,
        iaid: u32,
        held: &[LeaseKey],
        hints: &[Ipv6Prefix],
        reply: &mut Reply,
    ) -> DhcpOption {
        let mut leases = vec![];
        let mut min_pref = u32::MAX;
        let mut any_valid = false;
        let statics = self.static_grants(x, kind, iaid);
        for key in held {
            match self.extend_lease(x, iaid, key, &statics, reply) {
                Renewed::Gone => {}
                Renewed::Withdrawn(p) => leases.push(lease_option(kind, p, 0, 0)),
                Renewed::Extended {
                    prefix,
                    preferred,
                    valid,
                } => {
                    min_pref = min_pref.min(preferred);
                    any_valid |= valid > 0;
                    leases.push(lease_option(kind, prefix, preferred, valid));
                }
            }
        }
        // A static binding's addresses the IA does not hold yet: its hostid
        // in a /64 that appeared (the ISP renumbered; §18.3.4 lets the
        // server add leases to an IA).
        for g in statics
            .iter()
            .filter(|g| !held.iter().any(|k| k.1 == g.prefix))
        {
            self.bind(x, kind, iaid, g, reply);
            min_pref = min_pref.min(g.preferred);
            any_valid |= g.valid > 0;
            leases.push(lease_option(kind, g.prefix, g.preferred, g.valid));
        }
        if !any_valid {
            // Renumbered: everything the IA held left the pools. Besides the
            // old leases at lifetime 0, hand out a new one from the current
            // pools in the same Reply (§18.3.4 lets the server add leases to
            // an IA), so the client moves at this Renew.
            let grants = self.assign_ia(x, kind, iaid, &[], false, reply);
            if !grants.is_empty() {
                return self.ia_with(x.li, kind, iaid, &grants, leases);
            }
        }
        for h in hints {
            if !held.iter().any(|k| k.1 == *h) {
                leases.push(lease_option(kind, *h, 0, 0));
            }
        }
        let (t1, t2) = if min_pref == u32::MAX {
            (0, 0)
        } else {
            self.timers(x.li, min_pref)
        };
        ia_option(kind, iaid, t1, t2, leases)
    }

    /// Extend one lease: the link's lifetimes now (a static binding's own,
    /// `statics` being what the client's binding gives now), from now; a
    /// delegated prefix is routed via the router renewing it (it may have
    /// moved behind another relay or changed its address).
    fn extend_lease(
        &mut self,
        x: &Exchange<'_>,
        iaid: u32,
        key: &LeaseKey,
        statics: &[Grant],
        reply: &mut Reply,
    ) -> Renewed {
        let Some(mut l) = self.leases.get(key) else {
            return Renewed::Gone;
        };
        let cfg = &self.links[x.li].cfg;
        if l.is_static {
            // The binding changed, or its hostid's /64 is no longer served:
            // tell the client to stop using it (§18.3.4).
            let Some(g) = statics.iter().find(|g| g.prefix == l.prefix) else {
                return Renewed::Withdrawn(l.prefix);
            };
            l.preferred = g.preferred;
            l.valid = g.valid;
        } else if self.in_pool(x.li, l.kind, l.prefix) {
            l.preferred = cfg.preferred;
            l.valid = cfg.valid;
        } else {
            // The pool changed: tell the client to stop using it (§18.3.4).
            return Renewed::Withdrawn(l.prefix);
        }
        l.name = self.lease_name(x, iaid).or(l.name);
        l.cltt = x.now.unix;
        // The client says again whether it accepts Reconfigure (§18.2.4).
        l.reconfigure = x.reconf;
        let via = Some(*x.rx.src.ip());
        if l.kind == LeaseKind::Prefix && l.via != via {
            reply
                .routes
                .extend(self.route_for(&l).map(Action::DelRoute));
            l.via = via;
            reply
                .routes
                .extend(self.route_for(&l).map(Action::AddRoute));
        }
        let renewed = Renewed::Extended {
            prefix: l.prefix,
            preferred: l.preferred,
            valid: l.valid,
        };
        self.store(l, reply);
        renewed
    }

    // ----- §18.3.7 Release, §18.3.8 Decline -----
    /// The client gives back the leases it lists; an IA in which it lists
    /// none that it holds gets NoBinding (§18.3.7, §18.3.8). A Decline is
    /// about addresses only (§18.2.8).
    fn give_back(&mut self, x: &Exchange<'_>, how: GiveBack) -> Vec<Action> {
        let mut reply = self.reply(x.m);
        match how {
            GiveBack::Release => reply.status(StatusCode::Success, "released"),
            GiveBack::Decline => reply.status(StatusCode::Success, "declined"),
        }
        for o in &x.m.options {
            let Some((kind, iaid, opts)) = ia_of(o) else {
                continue;
            };
            if how == GiveBack::Decline && kind != LeaseKind::Address {
                continue;
            }
            let held = self.ia_leases(&x.client, iaid, kind, None);
            let mut found = false;
            for p in hints_of(kind, opts) {
                if held.contains(&(kind, p)) {
                    found = true;
                    self.give_back_lease(x.now, (kind, p), how, &mut reply);
                }
            }
            if !found {
                reply.push(no_binding(kind, iaid));
            }
        }
        reply.into_actions(&x.rx)
    }

    fn give_back_lease(&mut self, now: Now, key: LeaseKey, how: GiveBack, reply: &mut Reply) {
        let Some(mut l) = self.remove_lease(&key) else {
            return;
        };
        match how {
            GiveBack::Release => {
                reply
                    .routes
                    .extend(self.route_for(&l).map(Action::DelRoute));
                reply.records.push(LeaseRecord::Remove(key));
            }
            GiveBack::Decline => {
                // §18.3.8: keep it out of the pool for a while, owned by nobody.
                l.state = LeaseState::Declined;
                l.duid = self.duid.clone();
                l.cltt = now.unix;
                l.preferred = 0;
                l.valid = self.limits.decline_hold;
                self.store(l, reply);
            }
        }
    }

    // ----- §18.3.3 Confirm -----
    fn confirm(&mut self, x: &Exchange<'_>) -> Vec<Action> {
        let mut addrs = vec![];
        for o in &x.m.options {
            let opts = match o {
                DhcpOption::IaNa(ia) => &ia.options,
                DhcpOption::IaTa(ta) => &ta.options,
                _ => continue,
            };
            addrs.extend(
                hints_of(LeaseKind::Address, opts)
                    .into_iter()
                    .map(|p| p.addr()),
            );
        }
        if addrs.is_empty() {
            // §18.3.3: no addresses, no Reply.
            self.stats.drop(drop_reason::CONFIRM_WITHOUT_ADDRESSES);
            return vec![];
        }
        let on_link = &self.links[x.li].cfg.on_link;
        let all = addrs.iter().all(|a| on_link.iter().any(|p| p.contains(*a)));
        let mut reply = self.reply(x.m);
        if all {
            reply.status(StatusCode::Success, "all addresses on link");
        } else {
            reply.status(StatusCode::NotOnLink, "not on link");
        }
        reply.into_actions(&x.rx)
    }

    // ----- §18.3.6 Information-request -----
    fn information_request(&mut self, x: &Exchange<'_>) -> Vec<Action> {
        let m = x.m;
        if m.has(code::IA_NA) || m.has(code::IA_TA) || m.has(code::IA_PD) {
            // §16.12: discard an Information-request that carries an IA.
            self.stats.drop(drop_reason::IA_IN_INFORMATION_REQUEST);
            return vec![];
        }
        let mut reply = self.reply(m);
        self.requested_options(x.li, m, true, &mut reply);
        reply.into_actions(&x.rx)
    }
}

/// Addresses and prefixes of a link's static bindings, never handed out
/// from the pools: fixed ones and each `hostid` in each served /64.
fn reserved_by_hosts(cfg: &LinkConfig) -> HashSet<LeaseKey> {
    let mut reserved = HashSet::new();
    for h in &cfg.hosts {
        let addrs = h
            .address
            .into_iter()
            .chain(hostid_addresses(h, &cfg.served_prefixes));
        for a in addrs {
            reserved.insert((LeaseKind::Address, Ipv6Prefix::new(a, 128)));
        }
        if let Some(p) = h.prefix {
            reserved.insert((LeaseKind::Prefix, p));
        }
    }
    reserved
}

/// Whether a static binding gives leases of this kind (a name alone gives
/// none: its client is served from the pools, under that name).
fn binds(h: &Host, kind: LeaseKind) -> bool {
    match kind {
        LeaseKind::Address => h.address.is_some() || h.hostid.is_some(),
        LeaseKind::Prefix => h.prefix.is_some(),
    }
}

/// A host's `hostid` in each of `served` (/64s): the prefix's upper 64
/// bits, the identifier's lower 64 (RFC 4291 §2.5.1).
fn hostid_addresses<'a>(h: &Host, served: &'a [Ipv6Prefix]) -> impl Iterator<Item = Ipv6Addr> + 'a {
    let id = h.hostid;
    served.iter().filter_map(move |p| {
        let iid = u128::from(id?);
        let upper = u128::from(p.addr()) & !u128::from(u64::MAX);
        Some(Ipv6Addr::from(upper | iid))
    })
}

/// SOL_MAX_RT and INF_MAX_RT: "A DHCP server MAY include the SOL_MAX_RT
/// [INF_MAX_RT] option in any response it sends to a client that has
/// included the SOL_MAX_RT [INF_MAX_RT] option code in an Option Request
/// option" (RFC 8415 §21.24, §21.25; a client that did not ask would not
/// know it). NTP servers likewise go to a client that asks for option 56
/// (RFC 5908 §4), all in one option.
fn max_rt_and_ntp_options(cfg: &LinkConfig, oro: &[u16], reply: &mut Reply) {
    if let Some(t) = cfg.sol_max_rt.filter(|_| oro.contains(&code::SOL_MAX_RT)) {
        reply.push(DhcpOption::SolMaxRt(t));
    }
    if let Some(t) = cfg.inf_max_rt.filter(|_| oro.contains(&code::INF_MAX_RT)) {
        reply.push(DhcpOption::InfMaxRt(t));
    }
    if !cfg.ntp_servers.is_empty() && oro.contains(&code::NTP_SERVER) {
        reply.push(DhcpOption::NtpServer(cfg.ntp_servers.clone()));
    }
}

#[derive(Clone, Copy)]
enum ServerIdRule {
    Forbidden,
    MustMatch,
    MatchIfPresent,
}

/// What leases an IA_NA (§21.4) or IA_PD (§21.21) is about, its IAID and
/// the options inside it; None for any other option.
fn ia_of(o: &DhcpOption) -> Option<(LeaseKind, u32, &[DhcpOption])> {
    match o {
        DhcpOption::IaNa(ia) => Some((LeaseKind::Address, ia.iaid, &ia.options)),
        DhcpOption::IaPd(ia) => Some((LeaseKind::Prefix, ia.iaid, &ia.options)),
        _ => None,
    }
}

/// An IA the client holds nothing in: NoBinding inside the IA (§18.3.4,
/// §18.3.7, §18.3.8).
fn no_binding(kind: LeaseKind, iaid: u32) -> DhcpOption {
    let s = DhcpOption::StatusCode(StatusCode::NoBinding, "no binding for this IA".into());
    ia_option(kind, iaid, 0, 0, vec![s])
}

/// Addresses (as /128) or prefixes the client put in an IA.
fn hints_of(kind: LeaseKind, opts: &[DhcpOption]) -> Vec<Ipv6Prefix> {
    opts.iter()
        .filter_map(|o| match (kind, o) {
            (LeaseKind::Address, DhcpOption::IaAddr(a)) => Some(Ipv6Prefix::new(a.addr, 128)),
            (LeaseKind::Prefix, DhcpOption::IaPrefix(p)) if p.prefix_len > 0 => {
                Some(Ipv6Prefix::new(p.prefix, p.prefix_len))
            }
            _ => None,
        })
        .collect()
}

fn ia_option(kind: LeaseKind, iaid: u32, t1: u32, t2: u32, options: Vec<DhcpOption>) -> DhcpOption {
    match kind {
        LeaseKind::Address => DhcpOption::IaNa(IaNa {
            iaid,
            t1,
            t2,
            options,
        }),
        LeaseKind::Prefix => DhcpOption::IaPd(IaPd {
            iaid,
            t1,
            t2,
            options,
        }),
    }
}

fn lease_option(kind: LeaseKind, p: Ipv6Prefix, preferred: u32, valid: u32) -> DhcpOption {
    match kind {
        LeaseKind::Address => DhcpOption::IaAddr(IaAddr {
            addr: p.addr(),
            preferred,
            valid,
            options: vec![],
        }),
        LeaseKind::Prefix => DhcpOption::IaPrefix(IaPrefix {
            preferred,
            valid,
            prefix_len: p.len(),
            prefix: p.addr(),
            options: vec![],
        }),
    }
}

/// The route of a prefix delegated to a router: via its address (its
/// link-local, or the relay next to it) on the interface it is behind.
/// The server's leases and the relay agent's snooped Replies both use it.
pub fn delegated_route(prefix: Ipv6Prefix, via: Ipv6Addr, ifindex: u32) -> RouteFact {
    RouteFact {
        dst: prefix,
        gateway: Some(via),
        oif: Some(ifindex),
        protocol: rtprot::V6ROUTER,
        metric: 1024,
        table: RT_TABLE_MAIN,
        kind: RouteKind::Unicast,
    }
}

/// §19.2: the levels of a Relay-forward, outermost first (the last is the
/// relay closest to the client), and the client's message inside; else a
/// drop reason. Of each level only what its Relay-reply repeats is kept.
/// What a Relay-forward came to: its levels, the client's message, and the
/// client's Ethernet address if the relay next to it said (RFC 6939 §5).
struct Unwrapped {
    hops: Vec<RelayMessage>,
    inner: ClientServerMessage,
    client_lladdr: Option<[u8; 6]>,
}

fn unwrap_relays(outer: RelayMessage) -> Result<Unwrapped, &'static str> {
    if outer.msg_type != MessageType::RelayForw {
        return Err(drop_reason::NOT_FOR_SERVER);
    }
    let mut hops: Vec<RelayMessage> = vec![];
    let mut cur = outer;
    loop {
        if hops.len() > usize::from(HOP_COUNT_LIMIT) {
            return Err(drop_reason::RELAY_TOO_MANY_HOPS);
        }
        let data = cur.relay_msg().ok_or(drop_reason::RELAY_WITHOUT_MESSAGE)?;
        let parsed = Message::parse(data);
        // RFC 6939 §5: added by the relay next to the client, the innermost.
        let lladdr = cur.options.iter().find_map(|o| match o {
            DhcpOption::ClientLinkLayerAddr(l) => l.mac(),
            _ => None,
        });
        // §19.3 repeats the Interface-ID (§21.18); the rest is not needed.
        cur.options
            .retain(|o| matches!(o, DhcpOption::InterfaceId(_)));
        hops.push(cur);
        match parsed.map_err(|e| e.reason())? {
            Message::Relay(r) if r.msg_type == MessageType::RelayForw => cur = r,
            Message::ClientServer(inner) => {
                return Ok(Unwrapped {
                    hops,
                    inner,
                    client_lladdr: lladdr,
                })
            }
            Message::Relay(_) => return Err(drop_reason::NOT_FOR_SERVER),
        }
    }
}

/// §19.3: a reply to a relayed message, wrapped in one Relay-reply per
/// level, innermost first, each repeating its level's hop count, link and
/// peer address and Interface-ID (§21.18).
fn relay_reply(hops: &[RelayMessage], mut data: Vec<u8>) -> Vec<u8> {
    for h in hops.iter().rev() {
        let mut options = vec![DhcpOption::RelayMsg(data)];
        options.extend(h.options.iter().cloned());
        data = Message::Relay(RelayMessage {
            msg_type: MessageType::RelayRepl,
            hop_count: h.hop_count,
            link_address: h.link_address,
            peer_address: h.peer_address,
            options,
        })
        .to_bytes();
    }
    data
}

#[cfg(test)]
mod tests;
