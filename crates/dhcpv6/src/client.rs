//! The DHCPv6 client that asks the ISP for a delegated prefix (IA_PD) and,
//! optionally, an address for the WAN (IA_NA): RFC 8415 §18.2, sans-IO.
//!
//! Time comes in as `Instant` (timers) and as wall-clock Unix seconds (only to
//! persist the binding so that a restart can ask for the same prefix). The
//! client owns a seeded RNG for the §15 retransmission jitter. Output is a list
//! of [`ClientAction`]s: send these bytes to All_DHCP_Relay_Agents_and_Servers,
//! or "the binding changed" (the glue persists it and re-plans the LANs).

use crate::wire::{
    code, verify_reconfigure, ClientServerMessage, DhcpOption, Duid, IaAddr, IaNa, IaPd, IaPrefix,
    Message, MessageType, StatusCode,
};
use serde::{Deserialize, Serialize};
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};
use v6common::Ipv6Prefix;

/// RFC 8415 §7.6 transmission and retransmission parameters.
pub mod timing {
    use std::time::Duration;
    pub const SOL_MAX_DELAY: Duration = Duration::from_secs(1);
    pub const SOL_TIMEOUT: Duration = Duration::from_secs(1);
    pub const SOL_MAX_RT: Duration = Duration::from_secs(3600);
    pub const REQ_TIMEOUT: Duration = Duration::from_secs(1);
    pub const REQ_MAX_RT: Duration = Duration::from_secs(30);
    pub const REQ_MAX_RC: u32 = 10;
    pub const REN_TIMEOUT: Duration = Duration::from_secs(10);
    pub const REN_MAX_RT: Duration = Duration::from_secs(600);
    pub const REB_TIMEOUT: Duration = Duration::from_secs(10);
    pub const REB_MAX_RT: Duration = Duration::from_secs(600);
    pub const REL_TIMEOUT: Duration = Duration::from_secs(1);
    pub const REL_MAX_RC: u32 = 4;
}

/// What the client asks for.
#[derive(Clone, Debug)]
pub struct ClientParams {
    pub duid: Duid,
    /// IAID of our IA_PD (and IA_NA): one per uplink interface.
    pub iaid: u32,
    /// Prefix length hint (§18.2.1: an IA Prefix option with prefix ::).
    pub prefix_length: Option<u8>,
    pub request_pd: bool,
    pub request_address: bool,
    /// Ask the server to answer a Solicit with a Reply (§18.2.1).
    pub rapid_commit: bool,
    /// Upper bound of the Solicit back-off (SOL_MAX_RT, §7.6; a server's
    /// SOL_MAX_RT option overrides it).
    pub sol_max_rt: Duration,
    /// Offer to accept Reconfigure (Reconfigure Accept, §21.20) and act on
    /// one authenticated with the server's Reconfigure Key (§18.2.11, §20.4).
    pub reconfigure: bool,
}

/// A delegated prefix or an address with its lifetimes as deadlines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease<T> {
    pub value: T,
    pub preferred_until: Instant,
    pub valid_until: Instant,
}

impl<T> Lease<T> {
    pub fn preferred_left(&self, now: Instant) -> Duration {
        self.preferred_until.saturating_duration_since(now)
    }
    pub fn valid_left(&self, now: Instant) -> Duration {
        self.valid_until.saturating_duration_since(now)
    }
}

/// What the server granted us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub server_id: Duid,
    pub server_addr: Ipv6Addr,
    pub prefixes: Vec<Lease<Ipv6Prefix>>,
    pub addresses: Vec<Lease<Ipv6Addr>>,
    /// When Renew (T1) and Rebind (T2) start.
    pub t1_at: Instant,
    pub t2_at: Instant,
    pub dns: Vec<Ipv6Addr>,
    pub search: Vec<String>,
    pub obtained: Instant,
    /// The Reconfigure Key the server gave us (§20.4.2), and the replay
    /// counter of the last Reconfigure it authenticated (§20.4.4).
    pub reconfigure_key: Option<[u8; 16]>,
    pub reconfigure_replay: Option<u64>,
}

impl Binding {
    /// When the last of its leases runs out.
    pub fn expires(&self) -> Option<Instant> {
        self.prefixes
            .iter()
            .map(|p| p.valid_until)
            .chain(self.addresses.iter().map(|a| a.valid_until))
            .max()
    }
}

impl Binding {
    fn empty(server_id: Duid, server_addr: Ipv6Addr, now: Instant) -> Binding {
        Binding {
            server_id,
            server_addr,
            prefixes: vec![],
            addresses: vec![],
            t1_at: now,
            t2_at: now,
            dns: vec![],
            search: vec![],
            obtained: now,
            reconfigure_key: None,
            reconfigure_replay: None,
        }
    }

    /// §14.2, §21.4, §21.21: T1/T2 from the server, or (0 leaves the choice
    /// to us) 0.5 and 0.8 of the shortest preferred lifetime.
    fn set_timers(&mut self, now: Instant, t1: Option<u32>, t2: Option<u32>) {
        let shortest = self
            .prefixes
            .iter()
            .map(|p| p.preferred_left(now))
            .chain(self.addresses.iter().map(|a| a.preferred_left(now)))
            .min()
            .unwrap_or(Duration::ZERO);
        let t1 = t1
            .map(|s| Duration::from_secs(u64::from(s)))
            .unwrap_or(shortest / 2);
        let t2 = t2
            .map(|s| Duration::from_secs(u64::from(s)))
            .unwrap_or(shortest * 4 / 5)
            .max(t1);
        // T1 = 0xffffffff means never (§14.2).
        self.t1_at = now + t1.min(Duration::from_secs(u64::from(u32::MAX / 2)));
        self.t2_at = now + t2.min(Duration::from_secs(u64::from(u32::MAX / 2)));
    }
}

/// What a Reply says about our IAs (§18.2.10.1).
struct Granted {
    pd_status: Option<StatusCode>,
    prefixes: Vec<IaPrefix>,
    addrs: Vec<IaAddr>,
    t1: Option<u32>,
    t2: Option<u32>,
}

impl Granted {
    fn of(msg: &ClientServerMessage, iaid: u32) -> Granted {
        let mut g = Granted {
            pd_status: None,
            prefixes: vec![],
            addrs: vec![],
            t1: None,
            t2: None,
        };
        for o in &msg.options {
            match o {
                DhcpOption::IaPd(pd) if pd.iaid == iaid => {
                    g.pd_status = status_of(&pd.options).map(|s| s.0);
                    if pd.t1 > 0 {
                        g.t1 = Some(pd.t1);
                    }
                    if pd.t2 > 0 {
                        g.t2 = Some(pd.t2);
                    }
                    g.prefixes.extend(pd.options.iter().filter_map(|x| match x {
                        // §21.22: drop a prefix whose preferred exceeds valid.
                        DhcpOption::IaPrefix(p)
                            if p.preferred <= p.valid && p.prefix_len <= 128 =>
                        {
                            Some(p.clone())
                        }
                        _ => None,
                    }));
                }
                DhcpOption::IaNa(na) if na.iaid == iaid => {
                    if na.t1 > 0 {
                        g.t1 = Some(g.t1.map_or(na.t1, |x| x.min(na.t1)));
                    }
                    if na.t2 > 0 {
                        g.t2 = Some(g.t2.map_or(na.t2, |x| x.min(na.t2)));
                    }
                    g.addrs.extend(na.options.iter().filter_map(|x| match x {
                        // §21.6: likewise for an address.
                        DhcpOption::IaAddr(a) if a.preferred <= a.valid => Some(a.clone()),
                        _ => None,
                    }));
                }
                _ => {}
            }
        }
        g
    }

    /// Lifetimes 0 remove a lease (§18.2.10.1); new ones are added; a lease
    /// we hold that the server no longer lists keeps its lifetimes.
    fn merge_into(&self, b: &mut Binding, now: Instant, out: &mut Vec<ClientAction>) {
        let until = |s: u32| now + Duration::from_secs(u64::from(s));
        for p in &self.prefixes {
            let pfx = Ipv6Prefix::new(p.prefix, p.prefix_len);
            b.prefixes.retain(|x| x.value != pfx);
            if p.valid == 0 {
                out.push(ClientAction::Log(format!("the server withdrew {pfx}")));
                continue;
            }
            b.prefixes.push(Lease {
                value: pfx,
                preferred_until: until(p.preferred),
                valid_until: until(p.valid),
            });
        }
        for a in &self.addrs {
            b.addresses.retain(|x| x.value != a.addr);
            if a.valid == 0 {
                continue;
            }
            b.addresses.push(Lease {
                value: a.addr,
                preferred_until: until(a.preferred),
                valid_until: until(a.valid),
            });
        }
    }
}

/// The binding as stored in state_dir (wall-clock Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBinding {
    pub server_id: String,
    pub server_addr: Ipv6Addr,
    pub prefixes: Vec<StoredLease>,
    #[serde(default)]
    pub addresses: Vec<StoredLease>,
    #[serde(default)]
    pub dns: Vec<Ipv6Addr>,
    #[serde(default)]
    pub search: Vec<String>,
    /// The server's Reconfigure Key (hex), so a restarted client still
    /// follows its Reconfigures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconfigure_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconfigure_replay: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLease {
    /// A prefix (`2001:db8:100::/56`) or an address (`2001:db8::5/128`).
    pub prefix: Ipv6Prefix,
    pub preferred_until: u64,
    pub valid_until: u64,
}

fn to_wall(now: Instant, wall: u64, t: Instant) -> u64 {
    wall + t.saturating_duration_since(now).as_secs()
}

fn from_wall(now: Instant, wall: u64, t: u64) -> Instant {
    now + Duration::from_secs(t.saturating_sub(wall))
}

impl Binding {
    pub fn store(&self, now: Instant, wall: u64) -> StoredBinding {
        StoredBinding {
            server_id: self.server_id.to_hex(),
            server_addr: self.server_addr,
            prefixes: self
                .prefixes
                .iter()
                .map(|p| StoredLease {
                    prefix: p.value,
                    preferred_until: to_wall(now, wall, p.preferred_until),
                    valid_until: to_wall(now, wall, p.valid_until),
                })
                .collect(),
            addresses: self
                .addresses
                .iter()
                .map(|a| StoredLease {
                    prefix: Ipv6Prefix::new(a.value, 128),
                    preferred_until: to_wall(now, wall, a.preferred_until),
                    valid_until: to_wall(now, wall, a.valid_until),
                })
                .collect(),
            dns: self.dns.clone(),
            search: self.search.clone(),
            reconfigure_key: self.reconfigure_key.map(|k| crate::wire::hex_colon(&k)),
            reconfigure_replay: self.reconfigure_replay,
        }
    }

    /// The stored binding, with what is still valid at `wall`; None if nothing is.
    pub fn restore(s: &StoredBinding, now: Instant, wall: u64) -> Option<Binding> {
        let server_id = Duid::from_hex(&s.server_id)?;
        let prefixes: Vec<_> = s
            .prefixes
            .iter()
            .filter(|p| p.valid_until > wall)
            .map(|p| Lease {
                value: p.prefix,
                preferred_until: from_wall(now, wall, p.preferred_until),
                valid_until: from_wall(now, wall, p.valid_until),
            })
            .collect();
        let addresses: Vec<_> = s
            .addresses
            .iter()
            .filter(|p| p.valid_until > wall)
            .map(|p| Lease {
                value: p.prefix.addr(),
                preferred_until: from_wall(now, wall, p.preferred_until),
                valid_until: from_wall(now, wall, p.valid_until),
            })
            .collect();
        if prefixes.is_empty() && addresses.is_empty() {
            return None;
        }
        // Renew at once: the server may have changed its mind while we were away.
        Some(Binding {
            server_id,
            server_addr: s.server_addr,
            prefixes,
            addresses,
            t1_at: now,
            t2_at: now,
            dns: s.dns.clone(),
            search: s.search.clone(),
            obtained: now,
            reconfigure_key: s
                .reconfigure_key
                .as_deref()
                .and_then(crate::wire::parse_hex)
                .and_then(|v| <[u8; 16]>::try_from(v.as_slice()).ok()),
            reconfigure_replay: s.reconfigure_replay,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientState {
    /// The link is down (or the client not started).
    Stopped,
    Soliciting,
    Requesting,
    Bound,
    Renewing,
    Rebinding,
    Releasing,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientAction {
    /// Send to All_DHCP_Relay_Agents_and_Servers (ff02::1:2) port 547 from the
    /// uplink's link-local address.
    Send(Vec<u8>),
    /// The binding changed (granted, renewed, renumbered, expired): persist it
    /// and re-plan the prefixes handed to the LANs.
    BindingChanged,
    /// A line for the log.
    Log(String),
}

/// An exchange in progress (§15).
#[derive(Clone, Debug)]
struct Exchange {
    kind: MessageType,
    xid: u32,
    started: Instant,
    /// The current retransmission timeout.
    rt: Duration,
    next_send: Instant,
    count: u32,
    /// Maximum retransmission duration: give up at this instant.
    deadline: Option<Instant>,
    /// Request/Release: the server we talk to and the IAs it offered.
    target: Option<Advertised>,
    /// Solicit: the best Advertise so far, and when the first RT ends.
    best: Option<Advertised>,
    first_rt_end: Instant,
}

#[derive(Clone, Debug)]
struct Advertised {
    server_id: Duid,
    preference: u8,
    msg: ClientServerMessage,
}

/// Counters for `v6ctl show uplink`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClientCounters {
    pub sent: u64,
    pub received: u64,
    pub dropped: u64,
    pub advertises_ignored: u64,
    pub no_prefix_avail: u64,
    /// Reconfigures acted on, and refused (no or wrong authentication,
    /// replayed, not from our server, during an exchange).
    pub reconfigures: u64,
    pub reconfigures_refused: u64,
}

pub struct Client {
    params: ClientParams,
    rng: fastrand::Rng,
    state: ClientState,
    binding: Option<Binding>,
    ex: Option<Exchange>,
    /// SOL_MAX_RT in force (the server may lower it, §21.24).
    sol_max_rt: Duration,
    pub counters: ClientCounters,
    last_status: Option<String>,
}

impl Client {
    pub fn new(params: ClientParams, seed: u64, restored: Option<Binding>) -> Client {
        let sol_max_rt = params.sol_max_rt;
        Client {
            params,
            rng: fastrand::Rng::with_seed(seed),
            state: ClientState::Stopped,
            binding: restored,
            ex: None,
            sol_max_rt,
            counters: ClientCounters::default(),
            last_status: None,
        }
    }

    pub fn state(&self) -> ClientState {
        self.state
    }

    pub fn binding(&self) -> Option<&Binding> {
        self.binding.as_ref()
    }

    /// The last status message a server sent us (for `show uplink`).
    pub fn last_status(&self) -> Option<&str> {
        self.last_status.as_deref()
    }

    /// When `on_timer` wants to run next.
    pub fn next_timer(&self) -> Option<Instant> {
        let ex = self.ex.as_ref().map(|e| match e.kind {
            MessageType::Solicit if e.best.is_some() => e.next_send.min(e.first_rt_end),
            _ => e.next_send,
        });
        let b = self.binding.as_ref().map(|b| {
            let mut t = b.expires().unwrap_or(b.t1_at);
            for p in &b.prefixes {
                t = t.min(p.valid_until);
            }
            for a in &b.addresses {
                t = t.min(a.valid_until);
            }
            if self.state == ClientState::Bound {
                t = t.min(b.t1_at);
            }
            if self.state == ClientState::Renewing {
                t = t.min(b.t2_at);
            }
            t
        });
        match (ex, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The link came up (or the daemon started): with a binding that is still
    /// valid, confirm it with a Rebind (§18.2.12: the link may have changed);
    /// otherwise Solicit.
    pub fn start(&mut self, now: Instant) -> Vec<ClientAction> {
        let mut out = Vec::new();
        self.expire(now, &mut out);
        if self.binding.is_some() {
            self.begin(now, MessageType::Rebind, &mut out);
        } else {
            self.begin(now, MessageType::Solicit, &mut out);
        }
        out
    }

    /// The link went down: stop talking, keep the binding until it expires.
    pub fn stop(&mut self) {
        self.ex = None;
        self.state = ClientState::Stopped;
    }

    /// `v6ctl uplink renew`.
    pub fn renew_now(&mut self, now: Instant) -> Vec<ClientAction> {
        let mut out = Vec::new();
        if self.binding.is_some() {
            self.begin(now, MessageType::Renew, &mut out);
        } else {
            self.begin(now, MessageType::Solicit, &mut out);
        }
        out
    }

    /// Give everything back (§18.2.7); the binding is dropped at once.
    pub fn release(&mut self, now: Instant) -> Vec<ClientAction> {
        let mut out = Vec::new();
        if self.binding.is_some() {
            self.begin(now, MessageType::Release, &mut out);
            self.binding = None;
            out.push(ClientAction::BindingChanged);
        }
        out
    }

    fn jitter(&mut self, d: Duration) -> Duration {
        // RAND uniformly in [-0.1, +0.1] (§15).
        let r = (self.rng.f64() * 0.2) - 0.1;
        Duration::from_secs_f64((d.as_secs_f64() * (1.0 + r)).max(0.0))
    }

    fn begin(&mut self, now: Instant, kind: MessageType, out: &mut Vec<ClientAction>) {
        let (irt, delay) = match kind {
            MessageType::Solicit => {
                // §18.2.1: delay the first Solicit by a random 0..SOL_MAX_DELAY;
                // the first RT is IRT + RAND*IRT with RAND strictly positive.
                let delay =
                    Duration::from_secs_f64(self.rng.f64() * timing::SOL_MAX_DELAY.as_secs_f64());
                let r = 0.001 + self.rng.f64() * 0.099;
                (
                    Duration::from_secs_f64(timing::SOL_TIMEOUT.as_secs_f64() * (1.0 + r)),
                    delay,
                )
            }
            MessageType::Request => (self.jitter(timing::REQ_TIMEOUT), Duration::ZERO),
            MessageType::Renew => (self.jitter(timing::REN_TIMEOUT), Duration::ZERO),
            MessageType::Rebind => (self.jitter(timing::REB_TIMEOUT), Duration::ZERO),
            _ => (self.jitter(timing::REL_TIMEOUT), Duration::ZERO),
        };
        let deadline = match kind {
            // Renew until T2, Rebind until the leases expire (§18.2.4, §18.2.5).
            MessageType::Renew => self.binding.as_ref().map(|b| b.t2_at.max(now)),
            MessageType::Rebind => self.binding.as_ref().and_then(|b| b.expires()),
            _ => None,
        };
        let target = match kind {
            MessageType::Request => self.ex.as_ref().and_then(|e| e.best.clone()),
            _ => None,
        };
        self.state = match kind {
            MessageType::Solicit => ClientState::Soliciting,
            MessageType::Request => ClientState::Requesting,
            MessageType::Renew => ClientState::Renewing,
            MessageType::Rebind => ClientState::Rebinding,
            _ => ClientState::Releasing,
        };
        let xid = self.rng.u32(..) & 0x00ff_ffff;
        let first = now + delay;
        self.ex = Some(Exchange {
            kind,
            xid,
            started: first,
            rt: irt,
            next_send: first,
            count: 0,
            deadline,
            target,
            best: None,
            first_rt_end: first + irt,
        });
        if delay.is_zero() {
            self.transmit(now, out);
        }
    }

    /// Send (or resend) the current exchange's message and schedule the next
    /// retransmission (§15).
    fn transmit(&mut self, now: Instant, out: &mut Vec<ClientAction>) {
        let Some(ex) = self.ex.clone() else { return };
        let msg = self.build(&ex, now);
        out.push(ClientAction::Send(msg.to_bytes()));
        self.counters.sent += 1;
        let (mrt, _) = self.limits(ex.kind);
        let next_rt = if ex.count == 0 {
            ex.rt
        } else {
            // RT = 2*RTprev + RAND*RTprev, capped at MRT + RAND*MRT.
            let doubled = self.jitter(ex.rt * 2);
            if let Some(m) = mrt.filter(|m| doubled > *m) {
                self.jitter(m)
            } else {
                doubled
            }
        };
        if let Some(e) = self.ex.as_mut() {
            e.count += 1;
            e.rt = next_rt;
            e.next_send = now + next_rt;
        }
    }

    fn limits(&self, kind: MessageType) -> (Option<Duration>, Option<u32>) {
        match kind {
            MessageType::Solicit => (Some(self.sol_max_rt), None),
            MessageType::Request => (Some(timing::REQ_MAX_RT), Some(timing::REQ_MAX_RC)),
            MessageType::Renew => (Some(timing::REN_MAX_RT), None),
            MessageType::Rebind => (Some(timing::REB_MAX_RT), None),
            _ => (None, Some(timing::REL_MAX_RC)),
        }
    }

    /// The current exchange's message (§18.2.1–§18.2.7): our Client ID, the
    /// server's ID where it is addressed, the elapsed time and our IAs.
    fn build(&self, ex: &Exchange, now: Instant) -> ClientServerMessage {
        let mut opts = vec![DhcpOption::ClientId(self.params.duid.clone())];
        let server = match ex.kind {
            MessageType::Request => ex.target.as_ref().map(|t| t.server_id.clone()),
            MessageType::Renew | MessageType::Release => {
                self.binding.as_ref().map(|b| b.server_id.clone())
            }
            _ => None,
        };
        if let Some(s) = server {
            opts.push(DhcpOption::ServerId(s));
        }
        // §21.9: hundredths of a second since the exchange began, 0xffff at most.
        let cs = now.saturating_duration_since(ex.started).as_millis() / 10;
        opts.push(DhcpOption::ElapsedTime(
            u16::try_from(cs).unwrap_or(u16::MAX),
        ));
        if ex.kind == MessageType::Solicit && self.params.rapid_commit {
            opts.push(DhcpOption::RapidCommit);
        }
        // §18.2.1/.2/.4/.5: a client willing to be reconfigured says so.
        if self.params.reconfigure
            && matches!(
                ex.kind,
                MessageType::Solicit
                    | MessageType::Request
                    | MessageType::Renew
                    | MessageType::Rebind
            )
        {
            opts.push(DhcpOption::ReconfAccept);
        }
        let (held_pfx, held_addr) = self.ia_contents(ex, now);
        if self.params.request_pd {
            opts.extend(self.ia_pd(ex.kind, held_pfx));
        }
        if self.params.request_address {
            opts.extend(self.ia_na(ex.kind, held_addr));
        }
        if ex.kind != MessageType::Release {
            opts.push(DhcpOption::Oro(vec![
                code::DNS_SERVERS,
                code::DOMAIN_LIST,
                code::SOL_MAX_RT,
            ]));
        }
        ClientServerMessage {
            msg_type: ex.kind,
            transaction_id: ex.xid,
            options: opts,
        }
    }

    /// What our IAs list: what we hold (Renew/Rebind/Release), what we were
    /// offered (Request), else nothing (Solicit).
    fn ia_contents(&self, ex: &Exchange, now: Instant) -> (Vec<IaPrefix>, Vec<IaAddr>) {
        let iaid = self.params.iaid;
        match (ex.kind, &ex.target, &self.binding) {
            (MessageType::Request, Some(t), _) => {
                (offered_prefixes(&t.msg, iaid), offered_addrs(&t.msg, iaid))
            }
            (MessageType::Renew | MessageType::Rebind | MessageType::Release, _, Some(b)) => (
                b.prefixes.iter().map(|p| ia_prefix(p, now)).collect(),
                b.addresses.iter().map(|a| ia_addr(a, now)).collect(),
            ),
            _ => (vec![], vec![]),
        }
    }

    /// Our IA_PD (§21.21); a Release carries one only to give something back.
    fn ia_pd(&self, kind: MessageType, held: Vec<IaPrefix>) -> Option<DhcpOption> {
        let mut prefixes: Vec<DhcpOption> = held
            .into_iter()
            .map(|mut p| {
                if lifetimes_are_hints(kind) {
                    p.preferred = 0;
                    p.valid = 0;
                }
                DhcpOption::IaPrefix(p)
            })
            .collect();
        if prefixes.is_empty() {
            // §18.2.1: a hint for the length we would like, prefix ::.
            if let Some(len) = self.params.prefix_length {
                prefixes.push(DhcpOption::IaPrefix(IaPrefix {
                    preferred: 0,
                    valid: 0,
                    prefix_len: len,
                    prefix: Ipv6Addr::UNSPECIFIED,
                    options: vec![],
                }));
            }
        }
        (kind != MessageType::Release || !prefixes.is_empty()).then_some(DhcpOption::IaPd(IaPd {
            iaid: self.params.iaid,
            t1: 0,
            t2: 0,
            options: prefixes,
        }))
    }

    /// Our IA_NA (§21.4); a Release carries one only to give something back.
    fn ia_na(&self, kind: MessageType, held: Vec<IaAddr>) -> Option<DhcpOption> {
        let addrs: Vec<DhcpOption> = held
            .into_iter()
            .map(|mut a| {
                if lifetimes_are_hints(kind) {
                    a.preferred = 0;
                    a.valid = 0;
                }
                DhcpOption::IaAddr(a)
            })
            .collect();
        (kind != MessageType::Release || !addrs.is_empty()).then_some(DhcpOption::IaNa(IaNa {
            iaid: self.params.iaid,
            t1: 0,
            t2: 0,
            options: addrs,
        }))
    }

    /// Timers: retransmissions, the end of the Advertise collection window, T1,
    /// T2 and lease expiry.
    pub fn on_timer(&mut self, now: Instant) -> Vec<ClientAction> {
        let mut out = Vec::new();
        self.expire(now, &mut out);
        if self.state == ClientState::Stopped {
            return out;
        }
        if let Some(b) = &self.binding {
            // Already past T2 while bound (T1 = T2 from the server, or the
            // timer ran late): Rebind at once, not a Renew that the next tick
            // would abandon (§18.2.5). Found by the dhcpv6_client fuzz target.
            if self.state == ClientState::Bound && now >= b.t2_at {
                self.begin(now, MessageType::Rebind, &mut out);
                return out;
            }
            if self.state == ClientState::Bound && now >= b.t1_at {
                self.begin(now, MessageType::Renew, &mut out);
                return out;
            }
            if self.state == ClientState::Renewing && now >= b.t2_at {
                out.push(ClientAction::Log(
                    "no answer to Renew by T2: rebinding with any server".into(),
                ));
                self.begin(now, MessageType::Rebind, &mut out);
                return out;
            }
        }
        let Some(ex) = self.ex.clone() else {
            return out;
        };
        // §18.2.1: once the first RT has passed, take the best Advertise.
        if ex.kind == MessageType::Solicit && ex.best.is_some() && now >= ex.first_rt_end {
            self.begin(now, MessageType::Request, &mut out);
            return out;
        }
        if now < ex.next_send {
            return out;
        }
        let (_, mrc) = self.limits(ex.kind);
        let over_count = mrc.is_some_and(|m| ex.count >= m);
        let over_time = ex.deadline.is_some_and(|d| now >= d);
        if over_count || over_time {
            self.give_up(now, ex.kind, &mut out);
            return out;
        }
        self.transmit(now, &mut out);
        out
    }

    /// An exchange ran out of retransmissions (§15: MRC, MRD).
    fn give_up(&mut self, now: Instant, kind: MessageType, out: &mut Vec<ClientAction>) {
        match kind {
            MessageType::Request => {
                out.push(ClientAction::Log(
                    "no Reply to Request: soliciting again".into(),
                ));
                self.begin(now, MessageType::Solicit, out);
            }
            MessageType::Release => {
                self.ex = None;
                self.state = ClientState::Stopped;
            }
            // Renew ends at T2 (handled by the caller); Rebind ends when the
            // leases expire, which `expire` turns into a new Solicit.
            _ => {
                self.begin(now, MessageType::Solicit, out);
            }
        }
    }

    /// Drop leases whose valid lifetime ran out; with none left, solicit.
    fn expire(&mut self, now: Instant, out: &mut Vec<ClientAction>) {
        let Some(b) = self.binding.as_mut() else {
            return;
        };
        let before = (b.prefixes.len(), b.addresses.len());
        for p in b.prefixes.iter().filter(|p| p.valid_until <= now) {
            out.push(ClientAction::Log(format!(
                "delegated prefix {} expired",
                p.value
            )));
        }
        b.prefixes.retain(|p| p.valid_until > now);
        b.addresses.retain(|a| a.valid_until > now);
        if (b.prefixes.len(), b.addresses.len()) != before {
            out.push(ClientAction::BindingChanged);
        }
        if b.prefixes.is_empty() && b.addresses.is_empty() {
            self.binding = None;
            if self.state != ClientState::Stopped && self.state != ClientState::Soliciting {
                self.begin(now, MessageType::Solicit, out);
            }
        }
    }

    /// A datagram from port 547 on the uplink.
    pub fn handle(&mut self, now: Instant, src: Ipv6Addr, data: &[u8]) -> Vec<ClientAction> {
        let mut out = Vec::new();
        self.counters.received += 1;
        let msg = match Message::parse(data) {
            Ok(Message::ClientServer(m)) => m,
            Ok(Message::Relay(_)) => {
                return self.drop_msg(&mut out, "relay message sent to a client")
            }
            Err(e) => return self.drop_msg(&mut out, &format!("malformed: {e}")),
        };
        if msg.msg_type == MessageType::Reconfigure {
            if let Err(why) = self.on_reconfigure(now, data, &msg, &mut out) {
                self.counters.reconfigures_refused += 1;
                return self.drop_msg(&mut out, why);
            }
            return out;
        }
        let Some(ex) = self.ex.clone() else {
            return self.drop_msg(&mut out, "no exchange in progress");
        };
        // §16.10/§16.11: the transaction ID must match and the client ID be ours.
        if msg.transaction_id & 0x00ff_ffff != ex.xid {
            return self.drop_msg(&mut out, "transaction ID does not match");
        }
        if msg.client_id() != Some(&self.params.duid) {
            return self.drop_msg(&mut out, "Client Identifier is not ours");
        }
        let Some(server_id) = msg.server_id().cloned() else {
            return self.drop_msg(&mut out, "no Server Identifier");
        };
        if let Some(DhcpOption::SolMaxRt(v)) = msg.option(code::SOL_MAX_RT) {
            // §21.24: accept 60..=86400.
            if (60..=86400).contains(v) {
                self.sol_max_rt = Duration::from_secs(u64::from(*v));
            }
        }
        match (msg.msg_type, ex.kind) {
            (MessageType::Advertise, MessageType::Solicit) => {
                self.on_advertise(now, server_id, msg, &mut out)
            }
            (MessageType::Reply, MessageType::Solicit)
                if msg.has(code::RAPID_COMMIT) && self.params.rapid_commit =>
            {
                self.on_reply(now, src, server_id, &msg, ex.kind, &mut out)
            }
            (
                MessageType::Reply,
                MessageType::Request
                | MessageType::Renew
                | MessageType::Rebind
                | MessageType::Release,
            ) => {
                if ex.kind == MessageType::Request
                    && ex.target.as_ref().is_some_and(|t| t.server_id != server_id)
                {
                    return self.drop_msg(&mut out, "Reply from a server we did not ask");
                }
                self.on_reply(now, src, server_id, &msg, ex.kind, &mut out)
            }
            _ => return self.drop_msg(&mut out, "unexpected message type"),
        }
        out
    }

    /// A Reconfigure (§18.2.11): from the server of our binding, for us,
    /// authenticated with its Reconfigure Key and a fresh replay counter
    /// (§20.4.4), while no exchange is in progress; then the message it
    /// asks for, at once. Information-request (we are not a stateless
    /// client) is answered with a Renew, which refreshes the same options.
    fn on_reconfigure(
        &mut self,
        now: Instant,
        data: &[u8],
        msg: &ClientServerMessage,
        out: &mut Vec<ClientAction>,
    ) -> Result<(), &'static str> {
        if !self.params.reconfigure {
            return Err("Reconfigure not accepted (reconfigure = false)");
        }
        let Some(b) = self.binding.as_ref() else {
            return Err("Reconfigure without a binding");
        };
        if msg.client_id() != Some(&self.params.duid) {
            return Err("Reconfigure: Client Identifier is not ours");
        }
        if msg.server_id() != Some(&b.server_id) {
            return Err("Reconfigure: not from the server of our binding");
        }
        let Some(key) = b.reconfigure_key else {
            return Err("Reconfigure: the server gave us no Reconfigure Key");
        };
        let replay = verify_reconfigure(data, &key, b.reconfigure_replay)?;
        let kind = match msg.option(code::RECONF_MSG) {
            Some(DhcpOption::ReconfMsg(MessageType::Rebind)) => MessageType::Rebind,
            Some(DhcpOption::ReconfMsg(MessageType::Renew | MessageType::InformationRequest)) => {
                MessageType::Renew
            }
            _ => return Err("Reconfigure: no or a bad Reconfigure Message option"),
        };
        // §18.2.11: one in the middle of an exchange is ignored. Checked
        // after the digest, so the counter only moves for authentic ones.
        if self.ex.is_some() {
            return Err("Reconfigure during an exchange");
        }
        if let Some(b) = self.binding.as_mut() {
            b.reconfigure_replay = Some(replay);
        }
        self.counters.reconfigures += 1;
        out.push(ClientAction::Log(format!(
            "Reconfigure from the server: {}",
            kind.name()
        )));
        self.begin(now, kind, out);
        // The replay counter is part of the stored binding.
        out.push(ClientAction::BindingChanged);
        Ok(())
    }

    fn drop_msg(&mut self, out: &mut Vec<ClientAction>, why: &str) -> Vec<ClientAction> {
        self.counters.dropped += 1;
        out.push(ClientAction::Log(format!(
            "dropped a server message: {why}"
        )));
        std::mem::take(out)
    }

    fn on_advertise(
        &mut self,
        now: Instant,
        server_id: Duid,
        msg: ClientServerMessage,
        out: &mut Vec<ClientAction>,
    ) {
        // §18.2.9: ignore an Advertise whose top-level status is NoAddrsAvail,
        // and one that offers nothing we asked for.
        let offers_pd = !offered_prefixes(&msg, self.params.iaid).is_empty();
        let offers_na = !offered_addrs(&msg, self.params.iaid).is_empty();
        let status = status_of(&msg.options);
        if let Some((StatusCode::NoAddrsAvail, _)) = status {
            self.counters.advertises_ignored += 1;
            return;
        }
        if (self.params.request_pd && !offers_pd) && (!self.params.request_address || !offers_na) {
            self.counters.advertises_ignored += 1;
            if self.params.request_pd {
                self.counters.no_prefix_avail += 1;
                self.last_status = Some("Advertise without a prefix (NoPrefixAvail)".into());
            }
            return;
        }
        let preference = match msg.option(code::PREFERENCE) {
            Some(DhcpOption::Preference(p)) => *p,
            _ => 0,
        };
        let adv = Advertised {
            server_id,
            preference,
            msg,
        };
        let Some(ex) = self.ex.as_mut() else { return };
        let better = ex
            .best
            .as_ref()
            .is_none_or(|b| adv.preference > b.preference);
        if better {
            ex.best = Some(adv);
        }
        // §18.2.1: preference 255 is taken at once; after the first RT any
        // Advertise is taken at once.
        let take = ex.best.as_ref().is_some_and(|b| b.preference == 255) || now >= ex.first_rt_end;
        if take {
            self.begin(now, MessageType::Request, out);
        }
    }

    /// A Reply to our Request, Renew, Rebind or Release, or to a Solicit
    /// with Rapid Commit (§18.2.10): merge what it grants into the binding.
    fn on_reply(
        &mut self,
        now: Instant,
        src: Ipv6Addr,
        server_id: Duid,
        msg: &ClientServerMessage,
        kind: MessageType,
        out: &mut Vec<ClientAction>,
    ) {
        if kind == MessageType::Release {
            // §18.2.10.2: the Release is done, whatever the Reply says.
            self.ex = None;
            self.state = ClientState::Stopped;
            return;
        }
        if !self.note_status(msg) {
            return;
        }
        let g = Granted::of(msg, self.params.iaid);
        if self.params.request_pd && self.on_pd_status(now, &server_id, g.pd_status, kind, out) {
            return;
        }
        let mut b = match self.binding.take() {
            Some(b) => b,
            None => Binding::empty(server_id.clone(), src, now),
        };
        let before: Vec<_> = b.prefixes.iter().map(|p| p.value).collect();
        g.merge_into(&mut b, now, out);
        if b.prefixes.is_empty() && b.addresses.is_empty() {
            self.binding = None;
            out.push(ClientAction::BindingChanged);
            out.push(ClientAction::Log(
                "the Reply left us nothing: soliciting".into(),
            ));
            self.begin(now, MessageType::Solicit, out);
            return;
        }
        if b.server_id != server_id {
            b.reconfigure_key = None;
            b.reconfigure_replay = None;
        }
        b.server_id = server_id;
        b.server_addr = src;
        b.obtained = now;
        if let Some(DhcpOption::DnsServers(d)) = msg.option(code::DNS_SERVERS) {
            b.dns = d.clone();
        }
        if let Some(DhcpOption::DomainList(d)) = msg.option(code::DOMAIN_LIST) {
            b.search = d.clone();
        }
        b.set_timers(now, g.t1, g.t2);
        // §20.4.2: the Reply that creates the binding carries the key; a
        // new key starts a new replay sequence.
        if let Some(k) = msg.options.iter().find_map(|o| match o {
            DhcpOption::Auth(a) => a.key(),
            _ => None,
        }) {
            if b.reconfigure_key != Some(k) {
                b.reconfigure_key = Some(k);
                b.reconfigure_replay = None;
            }
        }
        for p in b.prefixes.iter().filter(|p| !before.contains(&p.value)) {
            out.push(ClientAction::Log(format!(
                "delegated prefix {} from the ISP",
                p.value
            )));
        }
        self.binding = Some(b);
        self.ex = None;
        self.state = ClientState::Bound;
        self.last_status = None;
        out.push(ClientAction::BindingChanged);
    }

    /// Note the Reply's top-level status (§21.13) for `show uplink`; false
    /// when the Reply is to be ignored (UnspecFail: retransmit as usual,
    /// §18.2.10).
    fn note_status(&mut self, msg: &ClientServerMessage) -> bool {
        match status_of(&msg.options) {
            // We always multicast, so UseMulticast needs nothing.
            None | Some((StatusCode::Success | StatusCode::UseMulticast, _)) => true,
            Some((StatusCode::UnspecFail, text)) => {
                self.last_status = Some(format!("UnspecFail: {text}"));
                false
            }
            Some((other, text)) => {
                self.last_status = Some(format!("{other:?}: {text}"));
                true
            }
        }
    }

    /// §18.2.10.1: a status in our IA_PD that sends us back a step
    /// (NoPrefixAvail to a Request: Solicit again; NoBinding to a Renew or
    /// Rebind: Request what we hold). True when it did.
    fn on_pd_status(
        &mut self,
        now: Instant,
        server_id: &Duid,
        status: Option<StatusCode>,
        kind: MessageType,
        out: &mut Vec<ClientAction>,
    ) -> bool {
        match status {
            Some(StatusCode::NoPrefixAvail)
                if kind == MessageType::Request || kind == MessageType::Solicit =>
            {
                self.counters.no_prefix_avail += 1;
                self.last_status = Some("NoPrefixAvail".into());
                out.push(ClientAction::Log(
                    "the server has no prefix for us (NoPrefixAvail): soliciting again".into(),
                ));
                self.begin(now, MessageType::Solicit, out);
                true
            }
            Some(StatusCode::NoBinding)
                if matches!(kind, MessageType::Renew | MessageType::Rebind) =>
            {
                out.push(ClientAction::Log(
                    "the server has no binding for us (NoBinding): requesting".into(),
                ));
                let best = Advertised {
                    server_id: server_id.clone(),
                    preference: 0,
                    msg: self.held_as_offer(now),
                };
                if let Some(ex) = self.ex.as_mut() {
                    ex.best = Some(best);
                }
                self.begin(now, MessageType::Request, out);
                true
            }
            _ => false,
        }
    }

    /// Our binding written as if a server had offered it (for a Request after
    /// NoBinding).
    fn held_as_offer(&self, now: Instant) -> ClientServerMessage {
        let mut opts = Vec::new();
        if let Some(b) = &self.binding {
            opts.push(DhcpOption::IaPd(IaPd {
                iaid: self.params.iaid,
                t1: 0,
                t2: 0,
                options: b
                    .prefixes
                    .iter()
                    .map(|p| DhcpOption::IaPrefix(ia_prefix(p, now)))
                    .collect(),
            }));
        }
        ClientServerMessage {
            msg_type: MessageType::Advertise,
            transaction_id: 0,
            options: opts,
        }
    }
}

fn secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

fn status_of(opts: &[DhcpOption]) -> Option<(StatusCode, String)> {
    opts.iter().find_map(|o| match o {
        DhcpOption::StatusCode(c, t) => Some((*c, t.clone())),
        _ => None,
    })
}

/// The options inside our IA_NA or IA_PD (`code`) in a message.
fn ia_options(
    msg: &ClientServerMessage,
    code: u16,
    iaid: u32,
) -> impl Iterator<Item = &DhcpOption> {
    msg.options
        .iter()
        .filter_map(move |o| match o {
            DhcpOption::IaPd(pd) if code == code::IA_PD && pd.iaid == iaid => Some(&pd.options),
            DhcpOption::IaNa(na) if code == code::IA_NA && na.iaid == iaid => Some(&na.options),
            _ => None,
        })
        .flatten()
}

fn offered_prefixes(msg: &ClientServerMessage, iaid: u32) -> Vec<IaPrefix> {
    ia_options(msg, code::IA_PD, iaid)
        .filter_map(|o| match o {
            DhcpOption::IaPrefix(p) if p.valid > 0 => Some(p.clone()),
            _ => None,
        })
        .collect()
}

fn offered_addrs(msg: &ClientServerMessage, iaid: u32) -> Vec<IaAddr> {
    ia_options(msg, code::IA_NA, iaid)
        .filter_map(|o| match o {
            DhcpOption::IaAddr(a) if a.valid > 0 => Some(a.clone()),
            _ => None,
        })
        .collect()
}

/// A prefix we hold, as an IA Prefix option with the lifetimes left.
fn ia_prefix(p: &Lease<Ipv6Prefix>, now: Instant) -> IaPrefix {
    IaPrefix {
        preferred: secs(p.preferred_left(now)),
        valid: secs(p.valid_left(now)),
        prefix_len: p.value.len(),
        prefix: p.value.addr(),
        options: vec![],
    }
}

/// An address we hold, as an IA Address option with the lifetimes left.
fn ia_addr(a: &Lease<Ipv6Addr>, now: Instant) -> IaAddr {
    IaAddr {
        addr: a.value,
        preferred: secs(a.preferred_left(now)),
        valid: secs(a.valid_left(now)),
        options: vec![],
    }
}

/// In these messages the lifetimes we list are hints the server may ignore;
/// RFC 8415 §18.2.4 says to set them to 0.
fn lifetimes_are_hints(kind: MessageType) -> bool {
    matches!(
        kind,
        MessageType::Renew | MessageType::Rebind | MessageType::Request | MessageType::Release
    )
}

#[cfg(test)]
mod tests;
