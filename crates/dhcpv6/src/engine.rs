//! The DHCPv6 server (RFC 8415 §16, §18.3), sans-IO.
//!
//! Input: a received datagram with its interface, source and whether it was
//! sent to a multicast address; a timer tick. Output: [`Action`]s. A reply
//! that grants or extends a lease always follows the `Persist` action that
//! records it: the glue makes the records durable (fsync) and only then
//! sends the replies that follow; if that fails the replies are dropped
//! (never a lease granted but not stored) and it calls
//! [`Server::note_persist_failed`].

use crate::lease::{Lease, LeaseKey, LeaseKind, LeaseRecord, LeaseState};
use crate::table::LeaseTable;
use crate::wire::{
    code, ClientServerMessage, DhcpOption, Duid, IaAddr, IaNa, IaPd, IaPrefix, Message,
    MessageType, RelayMessage, StatusCode, HOP_COUNT_LIMIT, SERVER_PORT,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::sync::Arc;
use std::time::{Duration, Instant};
use v6common::kernel::rtprot;
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
    /// The Ethernet address inside a DUID-LL or DUID-LLT.
    Mac([u8; 6]),
}

/// A static binding (ISC `fixed-address6`/`fixed-prefix6`, WIDE `host`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub id: HostId,
    pub address: Option<Ipv6Addr>,
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
    /// Prefixes on the link, for Confirm (§18.3.3) and for recognising the
    /// link of a relayed message (§13.1). Pools' /64s are added.
    pub on_link: Vec<Ipv6Prefix>,
    /// A remote link, served only through relay agents (§19) whose
    /// Relay-forward messages arrive on `ifindex`; never to clients there.
    pub relayed: bool,
    /// The relay's Interface-ID (§21.18) naming this link, for relays that
    /// leave link-address unspecified.
    pub interface_id: Option<Vec<u8>>,
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
            on_link: vec![],
            relayed: false,
            interface_id: None,
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
    /// How long a declined address stays out of the pool (§18.3.8).
    pub decline_hold: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            addresses_per_client: 8,
            prefixes_per_client: 4,
            offer_hold: 60,
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
}

/// Counters per message type and per drop reason.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub received: [u64; 14],
    pub sent: [u64; 14],
    pub drops: BTreeMap<&'static str, u64>,
    pub use_multicast: u64,
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

struct Offer {
    kind: LeaseKind,
    prefix: Ipv6Prefix,
}

/// What one IA of one client was offered, and until when.
struct Offers {
    list: Vec<Offer>,
    until: u64,
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
}

pub struct Server {
    duid: Duid,
    links: Vec<Link>,
    limits: Limits,
    /// The leases, indexed by what is leased, by client and by expiry.
    leases: LeaseTable,
    /// Addresses offered in an Advertise, held for a while (per client).
    offers: HashMap<(Duid, u32), Offers>,
    offered: HashSet<LeaseKey>,
    offers_by_time: BTreeSet<(u64, Duid, u32)>,
    stats: Stats,
    rng: fastrand::Rng,
}

/// Outcome of handling one IA.
struct IaOutcome {
    option: DhcpOption,
    granted: bool,
}

impl Server {
    pub fn new(cfg: ServerConfig, seed: u64) -> Server {
        let mut s = Server {
            duid: cfg.server_duid,
            links: vec![],
            limits: cfg.limits,
            leases: LeaseTable::default(),
            offers: HashMap::new(),
            offered: HashSet::new(),
            offers_by_time: BTreeSet::new(),
            stats: Stats::default(),
            rng: fastrand::Rng::with_seed(seed),
        };
        s.set_links(cfg.links);
        s
    }

    /// Replace the link configuration (reload). Leases stay; those outside
    /// every pool simply are not renewed (the client gets lifetimes 0).
    pub fn set_links(&mut self, links: Vec<LinkConfig>) {
        self.links = links
            .into_iter()
            .map(|mut cfg| {
                for p in &cfg.address_pools {
                    let l = Ipv6Prefix::new(p.first, 64);
                    if !cfg.on_link.contains(&l) {
                        cfg.on_link.push(l);
                    }
                }
                let mut reserved = HashSet::new();
                for h in &cfg.hosts {
                    if let Some(a) = h.address {
                        reserved.insert((LeaseKind::Address, Ipv6Prefix::new(a, 128)));
                    }
                    if let Some(p) = h.prefix {
                        reserved.insert((LeaseKind::Prefix, p));
                    }
                }
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
                }
            })
            .collect();
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
    pub fn pending_offers(&self) -> usize {
        debug_assert_eq!(self.offers.len(), self.offers_by_time.len());
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
        let offer = self.offers_by_time.iter().next().map(|(t, _, _)| *t);
        let t = match (lease, offer) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(now.mono + Duration::from_secs(t.saturating_sub(now.unix)))
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
        while let Some((t, d, i)) = self.offers_by_time.iter().next().cloned() {
            if t > now.unix {
                break;
            }
            self.offers_by_time.remove(&(t, d.clone(), i));
            if let Some(o) = self.offers.remove(&(d, i)) {
                for x in o.list {
                    self.offered.remove(&(x.kind, x.prefix));
                }
            }
        }
        if !records.is_empty() {
            out.insert(0, Action::Persist(records));
        }
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

    /// §19.2: a Relay-forward (possibly nested, one level per relay agent).
    /// The client's message inside is served on the link the relays name,
    /// and each reply goes back wrapped in one Relay-reply per level (§19.3),
    /// each repeating its level's hop count, link and peer address and
    /// Interface-ID (§21.18), to the relay it came from, port 547 (§7.2).
    fn relay_forward(&mut self, now: Now, rx: &Received<'_>, outer: RelayMessage) -> Vec<Action> {
        if outer.msg_type != MessageType::RelayForw {
            self.stats.drop(drop_reason::NOT_FOR_SERVER);
            return vec![];
        }
        // Outermost first; the last is the relay closest to the client.
        let mut hops: Vec<RelayMessage> = vec![];
        let mut cur = outer;
        let inner = loop {
            if hops.len() > usize::from(HOP_COUNT_LIMIT) {
                self.stats.drop(drop_reason::RELAY_TOO_MANY_HOPS);
                return vec![];
            }
            let parsed = match cur.relay_msg() {
                Some(data) => Message::parse(data),
                None => {
                    self.stats.drop(drop_reason::RELAY_WITHOUT_MESSAGE);
                    return vec![];
                }
            };
            // Only what the Relay-reply repeats is kept of this level.
            cur.options
                .retain(|o| matches!(o, DhcpOption::InterfaceId(_)));
            hops.push(cur);
            match parsed {
                Ok(Message::Relay(r)) if r.msg_type == MessageType::RelayForw => cur = r,
                Ok(Message::ClientServer(m)) => break m,
                Ok(Message::Relay(_)) => {
                    self.stats.drop(drop_reason::NOT_FOR_SERVER);
                    return vec![];
                }
                Err(e) => {
                    self.stats.drop(e.reason());
                    return vec![];
                }
            }
        };
        let Some(li) = self.relayed_link(rx.ifindex, &hops) else {
            self.stats.drop(drop_reason::RELAY_UNKNOWN_LINK);
            return vec![];
        };
        self.stats.received[inner.msg_type as usize] += 1;
        // The relay next to us is the way to the client (and the gateway
        // for a prefix delegated to it); a relayed message counts as sent
        // to the multicast address (§18.4 is about clients unicasting to us).
        let relay = SocketAddrV6::new(*rx.src.ip(), SERVER_PORT, 0, rx.src.scope_id());
        let irx = Received {
            data: &[],
            src: relay,
            ifindex: rx.ifindex,
            multicast: true,
        };
        let out = self.dispatch(now, li, &irx, &inner);
        out.into_iter()
            .map(|a| match a {
                Action::Send { data, .. } => {
                    let mut data = data;
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
                    Action::Send {
                        data,
                        dst: relay,
                        ifindex: rx.ifindex,
                    }
                }
                a => a,
            })
            .collect()
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
        if matches!(m.msg_type, T::Advertise | T::Reply | T::Reconfigure) {
            self.stats.drop(drop_reason::NOT_FOR_SERVER);
            return vec![];
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
                self.stats.drop(drop_reason::DUPLICATE_OPTION);
                return vec![];
            }
        }
        // §16: which messages need or forbid Client ID / Server ID.
        let client_id = m.client_id().cloned();
        let server_id = m.server_id();
        let (need_client, server_rule) = match m.msg_type {
            T::Solicit | T::Confirm | T::Rebind => (true, ServerIdRule::Forbidden),
            T::Request | T::Renew | T::Release | T::Decline => (true, ServerIdRule::MustMatch),
            T::InformationRequest => (false, ServerIdRule::MatchIfPresent),
            _ => {
                self.stats.drop(drop_reason::NOT_FOR_SERVER);
                return vec![];
            }
        };
        if need_client && client_id.is_none() {
            self.stats.drop(drop_reason::NO_CLIENT_ID);
            return vec![];
        }
        match (server_rule, server_id) {
            (ServerIdRule::Forbidden, Some(_)) => {
                self.stats.drop(drop_reason::UNEXPECTED_SERVER_ID);
                return vec![];
            }
            (ServerIdRule::MustMatch, None) => {
                self.stats.drop(drop_reason::NO_SERVER_ID);
                return vec![];
            }
            (ServerIdRule::MustMatch | ServerIdRule::MatchIfPresent, Some(s))
                if *s != self.duid =>
            {
                self.stats.drop(drop_reason::OTHER_SERVER_ID);
                return vec![];
            }
            _ => {}
        }
        // §18.4: a client may unicast only when we gave it a Server Unicast option.
        if !rx.multicast
            && self.links[li].cfg.unicast.is_none()
            && matches!(m.msg_type, T::Request | T::Renew | T::Release | T::Decline)
        {
            self.stats.use_multicast += 1;
            let reply = self.reply_header(
                m,
                vec![DhcpOption::StatusCode(
                    StatusCode::UseMulticast,
                    "use multicast".into(),
                )],
            );
            return vec![self.send(reply, rx)];
        }
        let client = client_id.unwrap_or_else(|| self.duid.clone());
        match m.msg_type {
            T::Solicit => self.solicit(now, li, rx, m, client),
            T::Request => self.request(now, li, rx, m, client),
            T::Renew | T::Rebind => self.renew(now, li, rx, m, client),
            T::Release => self.release(li, rx, m, client),
            T::Decline => self.decline(now, li, rx, m, client),
            T::Confirm => self.confirm(li, rx, m),
            T::InformationRequest => self.information_request(li, rx, m),
            _ => vec![],
        }
    }

    fn send(&self, msg: ClientServerMessage, rx: &Received<'_>) -> Action {
        Action::Send {
            data: msg.to_bytes(),
            dst: rx.src,
            ifindex: rx.ifindex,
        }
    }

    /// A reply of the right type with Server ID, Client ID (when the client sent one) and `extra`.
    fn reply_header(&self, m: &ClientServerMessage, extra: Vec<DhcpOption>) -> ClientServerMessage {
        let t = if m.msg_type == MessageType::Solicit {
            MessageType::Advertise
        } else {
            MessageType::Reply
        };
        let mut options = Vec::with_capacity(extra.len() + 6);
        options.push(DhcpOption::ServerId(self.duid.clone()));
        if let Some(c) = m.client_id() {
            options.push(DhcpOption::ClientId(c.clone()));
        }
        options.extend(extra);
        ClientServerMessage {
            msg_type: t,
            transaction_id: m.transaction_id,
            options,
        }
    }

    /// Options the client asked for in its ORO that this link has (§18.3, §21.7).
    fn requested_options(
        &self,
        li: usize,
        m: &ClientServerMessage,
        info_request: bool,
    ) -> Vec<DhcpOption> {
        let cfg = &self.links[li].cfg;
        let oro = m.oro();
        let mut v = vec![];
        if oro.contains(&code::DNS_SERVERS) && !cfg.dns_servers.is_empty() {
            v.push(DhcpOption::DnsServers(cfg.dns_servers.clone()));
        }
        if oro.contains(&code::DOMAIN_LIST) && !cfg.domain_list.is_empty() {
            v.push(DhcpOption::DomainList(cfg.domain_list.clone()));
        }
        if info_request {
            if let Some(t) = cfg.information_refresh_time {
                // §21.23: only in replies to Information-request.
                v.push(DhcpOption::InformationRefreshTime(t));
            }
        }
        v
    }

    fn common_options(&self, li: usize, m: &ClientServerMessage) -> Vec<DhcpOption> {
        let cfg = &self.links[li].cfg;
        let mut v = vec![];
        // §21.8: the Preference option belongs in an Advertise.
        if let (Some(p), MessageType::Solicit) = (cfg.preference, m.msg_type) {
            v.push(DhcpOption::Preference(p));
        }
        if let Some(u) = cfg.unicast {
            v.push(DhcpOption::Unicast(u));
        }
        v.extend(self.requested_options(li, m, false));
        v
    }

    // ----- §18.3.1 Solicit -----
    fn solicit(
        &mut self,
        now: Now,
        li: usize,
        rx: &Received<'_>,
        m: &ClientServerMessage,
        client: Duid,
    ) -> Vec<Action> {
        let rapid = m.has(code::RAPID_COMMIT) && self.links[li].cfg.rapid_commit;
        let (ias, records, routes, any_ia, any_granted, only_pd) =
            self.process_ias(now, li, rx, m, &client, !rapid);
        let mut extra = vec![];
        if any_ia && !any_granted {
            // §18.3.1: nothing to give: only a status code (plus the IDs).
            let s = if only_pd {
                StatusCode::NoPrefixAvail
            } else {
                StatusCode::NoAddrsAvail
            };
            extra.push(DhcpOption::StatusCode(
                s,
                "no addresses or prefixes available".into(),
            ));
            extra.extend(self.common_options(li, m));
            return vec![self.send(self.reply_header(m, extra), rx)];
        }
        extra.extend(ias);
        if rapid {
            extra.push(DhcpOption::RapidCommit);
        }
        extra.extend(self.common_options(li, m));
        let mut reply = self.reply_header(m, extra);
        if rapid {
            reply.msg_type = MessageType::Reply;
        }
        let mut out = vec![];
        if !records.is_empty() {
            out.push(Action::Persist(records));
        }
        out.extend(routes);
        out.push(self.send(reply, rx));
        out
    }

    // ----- §18.3.2 Request -----
    fn request(
        &mut self,
        now: Now,
        li: usize,
        rx: &Received<'_>,
        m: &ClientServerMessage,
        client: Duid,
    ) -> Vec<Action> {
        let (ias, records, routes, ..) = self.process_ias(now, li, rx, m, &client, false);
        let mut extra = ias;
        extra.extend(self.common_options(li, m));
        let mut out = vec![];
        if !records.is_empty() {
            out.push(Action::Persist(records));
        }
        out.extend(routes);
        out.push(self.send(self.reply_header(m, extra), rx));
        out
    }

    /// Assign (offer when `advertise_only`) for every IA_NA / IA_TA / IA_PD.
    #[allow(clippy::type_complexity)]
    fn process_ias(
        &mut self,
        now: Now,
        li: usize,
        rx: &Received<'_>,
        m: &ClientServerMessage,
        client: &Duid,
        advertise_only: bool,
    ) -> (
        Vec<DhcpOption>,
        Vec<LeaseRecord>,
        Vec<Action>,
        bool,
        bool,
        bool,
    ) {
        let mut ias = vec![];
        let mut records = vec![];
        let mut routes = vec![];
        let (mut any_ia, mut any_granted, mut only_pd) = (false, false, true);
        for o in &m.options {
            let (kind, iaid, t_opts) = match o {
                DhcpOption::IaNa(ia) => (LeaseKind::Address, ia.iaid, &ia.options),
                DhcpOption::IaPd(ia) => (LeaseKind::Prefix, ia.iaid, &ia.options),
                DhcpOption::IaTa(ta) => {
                    // Temporary addresses are not served (§21.5): say so in the IA.
                    any_ia = true;
                    only_pd = false;
                    ias.push(DhcpOption::IaTa(crate::wire::IaTa {
                        iaid: ta.iaid,
                        options: vec![DhcpOption::StatusCode(
                            StatusCode::NoAddrsAvail,
                            "no temporary addresses".into(),
                        )],
                    }));
                    continue;
                }
                _ => continue,
            };
            any_ia = true;
            if kind == LeaseKind::Address {
                only_pd = false;
            }
            let hints = hints_of(kind, t_opts);
            let r = self.assign_ia(
                now,
                li,
                rx,
                client,
                kind,
                iaid,
                &hints,
                advertise_only,
                &mut records,
                &mut routes,
            );
            any_granted |= r.granted;
            ias.push(r.option);
        }
        (ias, records, routes, any_ia, any_granted, only_pd)
    }

    #[allow(clippy::too_many_arguments)]
    fn assign_ia(
        &mut self,
        now: Now,
        li: usize,
        rx: &Received<'_>,
        client: &Duid,
        kind: LeaseKind,
        iaid: u32,
        hints: &[Ipv6Prefix],
        advertise_only: bool,
        records: &mut Vec<LeaseRecord>,
        routes: &mut Vec<Action>,
    ) -> IaOutcome {
        let link_name = self.links[li].name.clone();
        // 1. A static binding for this client (by DUID+IAID, DUID, then MAC).
        let host = self.find_host(li, client, iaid, kind);
        let chosen: Option<(Ipv6Prefix, bool, u32, u32)> = if let Some(h) = host {
            let p = match kind {
                LeaseKind::Address => h.address.map(|a| Ipv6Prefix::new(a, 128)),
                LeaseKind::Prefix => h.prefix,
            };
            let cfg = &self.links[li].cfg;
            p.map(|p| {
                (
                    p,
                    true,
                    h.preferred.unwrap_or(cfg.preferred),
                    h.valid.unwrap_or(cfg.valid),
                )
            })
        } else {
            None
        };
        let chosen = chosen.or_else(|| {
            let cfg = &self.links[li].cfg;
            let (pref, valid) = (cfg.preferred, cfg.valid);
            // 2. What this IA already holds on this link and is still in a pool.
            let held = self
                .leases
                .client_leases(client)
                .find(|l| {
                    l.kind == kind
                        && l.iaid == iaid
                        && l.state == LeaseState::Bound
                        && *l.link == *link_name
                        && self.in_pool(li, kind, l.prefix)
                })
                .map(|l| l.prefix);
            // 3. What we offered it in an Advertise (on this link: a client
            // that moved, or one behind relays of several links, may have
            // been offered elsewhere).
            let offered = || {
                self.offers.get(&(client.clone(), iaid)).and_then(|v| {
                    v.list
                        .iter()
                        .find(|o| o.kind == kind && self.in_pool(li, kind, o.prefix))
                        .map(|o| o.prefix)
                })
            };
            // 4. A free address the client hinted at.
            let hinted = || {
                hints.iter().copied().find(|p| {
                    self.in_pool(li, kind, *p) && self.is_free(li, kind, *p, client, iaid)
                })
            };
            held.or_else(offered)
                .or_else(hinted)
                .map(|p| (p, false, pref, valid))
        });
        let chosen = match chosen {
            Some(c) => Some(c),
            None => {
                // 5. A new one from the pools, within the per-client limit.
                let held = self
                    .leases
                    .client_keys(client)
                    .iter()
                    .filter(|k| k.0 == kind)
                    .count();
                let limit = match kind {
                    LeaseKind::Address => self.limits.addresses_per_client,
                    LeaseKind::Prefix => self.limits.prefixes_per_client,
                };
                if held >= limit {
                    None
                } else {
                    let cfg = &self.links[li].cfg;
                    let (pref, valid) = (cfg.preferred, cfg.valid);
                    self.allocate(li, kind, client, iaid)
                        .map(|p| (p, false, pref, valid))
                }
            }
        };
        let Some((prefix, is_static, preferred, valid)) = chosen else {
            let (status, text) = match kind {
                LeaseKind::Address => (StatusCode::NoAddrsAvail, "no addresses available"),
                LeaseKind::Prefix => (StatusCode::NoPrefixAvail, "no prefixes available"),
            };
            return IaOutcome {
                option: ia_option(
                    kind,
                    iaid,
                    0,
                    0,
                    vec![DhcpOption::StatusCode(status, text.into())],
                ),
                granted: false,
            };
        };
        let (t1, t2) = self.timers(li, preferred);
        if advertise_only {
            self.remember_offer(now, client, iaid, kind, prefix);
        } else {
            let via = (kind == LeaseKind::Prefix).then_some(*rx.src.ip());
            let lease = Lease {
                kind,
                prefix,
                duid: client.clone(),
                iaid,
                link: link_name,
                cltt: now.unix,
                preferred,
                valid,
                state: LeaseState::Bound,
                is_static,
                via,
            };
            self.forget_offer(client, iaid, kind, prefix);
            let old = self.leases.get(&lease.key());
            if let Some(old) = &old {
                if let Some(r) = self.route_for(old) {
                    if old.via != lease.via {
                        routes.push(Action::DelRoute(r));
                    }
                }
            }
            let new_route = self.route_for(&lease);
            if old.as_ref().map(|o| o.via) != Some(lease.via) {
                routes.extend(new_route.map(Action::AddRoute));
            }
            records.push(LeaseRecord::Upsert(lease.clone()));
            self.insert_lease(lease);
        }
        IaOutcome {
            option: ia_option(
                kind,
                iaid,
                t1,
                t2,
                vec![lease_option(kind, prefix, preferred, valid)],
            ),
            granted: true,
        }
    }

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

    fn find_host(&self, li: usize, client: &Duid, iaid: u32, kind: LeaseKind) -> Option<&Host> {
        let hosts = &self.links[li].cfg.hosts;
        let fits = |h: &&Host| match kind {
            LeaseKind::Address => h.address.is_some(),
            LeaseKind::Prefix => h.prefix.is_some(),
        };
        let mac = client.mac();
        hosts
            .iter()
            .filter(fits)
            .find(|h| matches!(&h.id, HostId::DuidIaid(d, i) if d == client && *i == iaid))
            .or_else(|| {
                hosts
                    .iter()
                    .filter(fits)
                    .find(|h| matches!(&h.id, HostId::Duid(d) if d == client))
            })
            .or_else(|| {
                hosts
                    .iter()
                    .filter(fits)
                    .find(|h| matches!(&h.id, HostId::Mac(m) if Some(*m) == mac))
            })
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
        if self.offered.contains(&key) {
            return self
                .offers
                .get(&(client.clone(), iaid))
                .is_some_and(|v| v.list.iter().any(|o| o.prefix == p));
        }
        // Prefix pools: a delegated prefix must not overlap one of another length.
        true
    }

    /// Walk the pools from their cursors for a free address or prefix.
    fn allocate(
        &mut self,
        li: usize,
        kind: LeaseKind,
        client: &Duid,
        iaid: u32,
    ) -> Option<Ipv6Prefix> {
        const MAX_PROBES: u128 = 4096;
        let npools = match kind {
            LeaseKind::Address => self.links[li].cfg.address_pools.len(),
            LeaseKind::Prefix => self.links[li].cfg.prefix_pools.len(),
        };
        for pi in 0..npools {
            let (base, size, cursor) = match kind {
                LeaseKind::Address => {
                    let p = &self.links[li].cfg.address_pools[pi];
                    let (f, l) = (u128::from(p.first), u128::from(p.last));
                    if l < f {
                        continue;
                    }
                    (f, (l - f).saturating_add(1), self.links[li].addr_cursor[pi])
                }
                LeaseKind::Prefix => {
                    let p = &self.links[li].cfg.prefix_pools[pi];
                    if p.delegated_len < p.prefix.len() || p.delegated_len > 128 {
                        continue;
                    }
                    let bits = u32::from(p.delegated_len - p.prefix.len());
                    let size = if bits >= 128 {
                        u128::MAX
                    } else {
                        1u128 << bits
                    };
                    (0, size, self.links[li].pd_cursor[pi])
                }
            };
            for i in 0..size.min(MAX_PROBES) {
                let off = (cursor.wrapping_add(i)) % size;
                let cand = match kind {
                    LeaseKind::Address => Ipv6Prefix::new(Ipv6Addr::from(base + off), 128),
                    LeaseKind::Prefix => {
                        let p = &self.links[li].cfg.prefix_pools[pi];
                        match p.prefix.subnet(p.delegated_len, off) {
                            Some(s) => s,
                            None => continue,
                        }
                    }
                };
                if self.is_free(li, kind, cand, client, iaid)
                    && !self.leases.contains(&(kind, cand))
                {
                    let next = (off + 1) % size;
                    match kind {
                        LeaseKind::Address => self.links[li].addr_cursor[pi] = next,
                        LeaseKind::Prefix => self.links[li].pd_cursor[pi] = next,
                    }
                    return Some(cand);
                }
            }
        }
        None
    }

    fn remember_offer(
        &mut self,
        now: Now,
        client: &Duid,
        iaid: u32,
        kind: LeaseKind,
        prefix: Ipv6Prefix,
    ) {
        let until = now.unix + self.limits.offer_hold;
        let key = (client.clone(), iaid);
        let o = self.offers.entry(key).or_insert_with(|| Offers {
            list: vec![],
            until: 0,
        });
        if o.until != 0 {
            self.offers_by_time.remove(&(o.until, client.clone(), iaid));
        }
        o.until = until;
        for x in o
            .list
            .iter()
            .filter(|x| x.kind == kind && x.prefix != prefix)
        {
            self.offered.remove(&(x.kind, x.prefix));
        }
        o.list.retain(|x| x.kind != kind || x.prefix == prefix);
        if !o.list.iter().any(|x| x.kind == kind) {
            o.list.push(Offer { kind, prefix });
        }
        self.offered.insert((kind, prefix));
        self.offers_by_time.insert((until, client.clone(), iaid));
    }

    fn forget_offer(&mut self, client: &Duid, iaid: u32, kind: LeaseKind, prefix: Ipv6Prefix) {
        let k = (client.clone(), iaid);
        if let Some(o) = self.offers.get_mut(&k) {
            o.list.retain(|x| !(x.kind == kind && x.prefix == prefix));
            if o.list.is_empty() {
                let until = o.until;
                self.offers.remove(&k);
                self.offers_by_time.remove(&(until, k.0, k.1));
            }
        }
        self.offered.remove(&(kind, prefix));
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
        Some(RouteFact {
            dst: l.prefix,
            gateway: Some(via),
            oif: Some(link.cfg.ifindex),
            protocol: rtprot::V6ROUTER,
            metric: 1024,
            table: 254,
            kind: RouteKind::Unicast,
        })
    }

    /// Bound leases of one IA of a client.
    fn ia_leases(&self, client: &Duid, iaid: u32, kind: LeaseKind) -> Vec<LeaseKey> {
        self.leases
            .client_leases(client)
            .filter(|l| l.kind == kind && l.iaid == iaid && l.state == LeaseState::Bound)
            .map(|l| l.key())
            .collect()
    }

    // ----- §18.3.4 Renew, §18.3.5 Rebind -----
    fn renew(
        &mut self,
        now: Now,
        li: usize,
        rx: &Received<'_>,
        m: &ClientServerMessage,
        client: Duid,
    ) -> Vec<Action> {
        let rebind = m.msg_type == MessageType::Rebind;
        let mut records = vec![];
        let mut routes = vec![];
        let mut ias = vec![];
        let link_name = self.links[li].name.clone();
        for o in &m.options {
            let (kind, iaid, t_opts) = match o {
                DhcpOption::IaNa(ia) => (LeaseKind::Address, ia.iaid, &ia.options),
                DhcpOption::IaPd(ia) => (LeaseKind::Prefix, ia.iaid, &ia.options),
                _ => continue,
            };
            let hints = hints_of(kind, t_opts);
            let held: Vec<LeaseKey> = self
                .ia_leases(&client, iaid, kind)
                .into_iter()
                .filter(|k| self.leases.get(k).is_some_and(|l| *l.link == *link_name))
                .collect();
            if held.is_empty() {
                // No binding. Rebind (§18.3.5) may re-create it when the client's
                // addresses are appropriate for the link and free; Renew reports
                // NoBinding (§18.3.4) so the client starts over with a Request.
                let usable: Vec<Ipv6Prefix> = hints
                    .iter()
                    .copied()
                    .filter(|p| {
                        self.in_pool(li, kind, *p) && self.is_free(li, kind, *p, &client, iaid)
                    })
                    .collect();
                if rebind && !usable.is_empty() {
                    let r = self.assign_ia(
                        now,
                        li,
                        rx,
                        &client,
                        kind,
                        iaid,
                        &usable,
                        false,
                        &mut records,
                        &mut routes,
                    );
                    ias.push(r.option);
                } else if rebind {
                    // Not appropriate for this link: lifetimes 0 (§18.3.5).
                    let opts = hints.iter().map(|p| lease_option(kind, *p, 0, 0)).collect();
                    ias.push(ia_option(kind, iaid, 0, 0, opts));
                } else {
                    ias.push(ia_option(
                        kind,
                        iaid,
                        0,
                        0,
                        vec![DhcpOption::StatusCode(
                            StatusCode::NoBinding,
                            "no binding for this IA".into(),
                        )],
                    ));
                }
                continue;
            }
            let mut inner = vec![];
            let mut min_pref = u32::MAX;
            let mut any_valid = false;
            for key in &held {
                let Some(mut l) = self.leases.get(key) else {
                    continue;
                };
                if !l.is_static && !self.in_pool(li, kind, l.prefix) {
                    // The pool changed: tell the client to stop using it (§18.3.4).
                    inner.push(lease_option(kind, l.prefix, 0, 0));
                    continue;
                }
                if !l.is_static {
                    let cfg = &self.links[li].cfg;
                    l.preferred = cfg.preferred;
                    l.valid = cfg.valid;
                } else if let Some(h) = self.find_host(li, &client, iaid, kind) {
                    let cfg = &self.links[li].cfg;
                    l.preferred = h.preferred.unwrap_or(cfg.preferred);
                    l.valid = h.valid.unwrap_or(cfg.valid);
                }
                l.cltt = now.unix;
                if kind == LeaseKind::Prefix {
                    let via = Some(*rx.src.ip());
                    if l.via != via {
                        routes.extend(self.route_for(&l).map(Action::DelRoute));
                        l.via = via;
                        routes.extend(self.route_for(&l).map(Action::AddRoute));
                    }
                }
                min_pref = min_pref.min(l.preferred);
                any_valid |= l.valid > 0;
                inner.push(lease_option(kind, l.prefix, l.preferred, l.valid));
                records.push(LeaseRecord::Upsert(l.clone()));
                self.insert_lease(l);
            }
            if !any_valid {
                // Renumbered: everything the IA held left the pools. Besides the
                // old leases at lifetime 0, hand out a new one from the current
                // pools in the same Reply (RFC 8415 §18.3.4 lets the server add
                // leases to an IA), so the client moves at this Renew.
                let r = self.assign_ia(
                    now,
                    li,
                    rx,
                    &client,
                    kind,
                    iaid,
                    &[],
                    false,
                    &mut records,
                    &mut routes,
                );
                if r.granted {
                    if let DhcpOption::IaNa(IaNa {
                        options, t1, t2, ..
                    })
                    | DhcpOption::IaPd(IaPd {
                        options, t1, t2, ..
                    }) = r.option
                    {
                        inner.extend(options);
                        ias.push(ia_option(kind, iaid, t1, t2, inner));
                        continue;
                    }
                }
            }
            // Addresses the client listed that are not (any longer) its own: lifetimes 0.
            for h in &hints {
                if !held.iter().any(|k| k.1 == *h) {
                    inner.push(lease_option(kind, *h, 0, 0));
                }
            }
            let (t1, t2) = if min_pref == u32::MAX {
                (0, 0)
            } else {
                self.timers(li, min_pref)
            };
            ias.push(ia_option(kind, iaid, t1, t2, inner));
        }
        let mut extra = ias;
        extra.extend(self.common_options(li, m));
        let mut out = vec![];
        if !records.is_empty() {
            out.push(Action::Persist(records));
        }
        out.extend(routes);
        out.push(self.send(self.reply_header(m, extra), rx));
        out
    }

    // ----- §18.3.7 Release -----
    fn release(
        &mut self,
        li: usize,
        rx: &Received<'_>,
        m: &ClientServerMessage,
        client: Duid,
    ) -> Vec<Action> {
        let mut records = vec![];
        let mut routes = vec![];
        let mut ias = vec![];
        for o in &m.options {
            let (kind, iaid, t_opts) = match o {
                DhcpOption::IaNa(ia) => (LeaseKind::Address, ia.iaid, &ia.options),
                DhcpOption::IaPd(ia) => (LeaseKind::Prefix, ia.iaid, &ia.options),
                _ => continue,
            };
            let held = self.ia_leases(&client, iaid, kind);
            let mut found = false;
            for p in hints_of(kind, t_opts) {
                if held.contains(&(kind, p)) {
                    found = true;
                    if let Some(l) = self.remove_lease(&(kind, p)) {
                        routes.extend(self.route_for(&l).map(Action::DelRoute));
                        records.push(LeaseRecord::Remove((kind, p)));
                    }
                }
            }
            if !found {
                // §18.3.7: IAs with no binding get NoBinding.
                ias.push(ia_option(
                    kind,
                    iaid,
                    0,
                    0,
                    vec![DhcpOption::StatusCode(
                        StatusCode::NoBinding,
                        "no binding for this IA".into(),
                    )],
                ));
            }
        }
        let mut extra = vec![DhcpOption::StatusCode(
            StatusCode::Success,
            "released".into(),
        )];
        extra.extend(ias);
        let _ = li;
        let mut out = vec![];
        if !records.is_empty() {
            out.push(Action::Persist(records));
        }
        out.extend(routes);
        out.push(self.send(self.reply_header(m, extra), rx));
        out
    }

    // ----- §18.3.8 Decline -----
    fn decline(
        &mut self,
        now: Now,
        li: usize,
        rx: &Received<'_>,
        m: &ClientServerMessage,
        client: Duid,
    ) -> Vec<Action> {
        let mut records = vec![];
        let mut ias = vec![];
        for o in &m.options {
            let DhcpOption::IaNa(ia) = o else { continue };
            let held = self.ia_leases(&client, ia.iaid, LeaseKind::Address);
            let mut found = false;
            for p in hints_of(LeaseKind::Address, &ia.options) {
                let key = (LeaseKind::Address, p);
                if held.contains(&key) {
                    found = true;
                    if let Some(mut l) = self.remove_lease(&key) {
                        // Keep it out of the pool for a while, owned by nobody.
                        l.state = LeaseState::Declined;
                        l.duid = self.duid.clone();
                        l.cltt = now.unix;
                        l.preferred = 0;
                        l.valid = self.limits.decline_hold;
                        records.push(LeaseRecord::Upsert(l.clone()));
                        self.insert_lease(l);
                    }
                }
            }
            if !found {
                ias.push(ia_option(
                    LeaseKind::Address,
                    ia.iaid,
                    0,
                    0,
                    vec![DhcpOption::StatusCode(
                        StatusCode::NoBinding,
                        "no binding for this IA".into(),
                    )],
                ));
            }
        }
        let mut extra = vec![DhcpOption::StatusCode(
            StatusCode::Success,
            "declined".into(),
        )];
        extra.extend(ias);
        let _ = li;
        let mut out = vec![];
        if !records.is_empty() {
            out.push(Action::Persist(records));
        }
        out.push(self.send(self.reply_header(m, extra), rx));
        out
    }

    // ----- §18.3.3 Confirm -----
    fn confirm(&mut self, li: usize, rx: &Received<'_>, m: &ClientServerMessage) -> Vec<Action> {
        let mut addrs = vec![];
        for o in &m.options {
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
        let on_link = &self.links[li].cfg.on_link;
        let all = addrs.iter().all(|a| on_link.iter().any(|p| p.contains(*a)));
        let status = if all {
            DhcpOption::StatusCode(StatusCode::Success, "all addresses on link".into())
        } else {
            DhcpOption::StatusCode(StatusCode::NotOnLink, "not on link".into())
        };
        vec![self.send(self.reply_header(m, vec![status]), rx)]
    }

    // ----- §18.3.6 Information-request -----
    fn information_request(
        &mut self,
        li: usize,
        rx: &Received<'_>,
        m: &ClientServerMessage,
    ) -> Vec<Action> {
        if m.has(code::IA_NA) || m.has(code::IA_TA) || m.has(code::IA_PD) {
            // §16.12: discard an Information-request that carries an IA.
            self.stats.drop(drop_reason::IA_IN_INFORMATION_REQUEST);
            return vec![];
        }
        let extra = self.requested_options(li, m, true);
        vec![self.send(self.reply_header(m, extra), rx)]
    }
}

#[derive(Clone, Copy)]
enum ServerIdRule {
    Forbidden,
    MustMatch,
    MatchIfPresent,
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

#[cfg(test)]
mod tests;
