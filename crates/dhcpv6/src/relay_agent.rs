//! The DHCPv6 relay agent of relay mode (RFC 8415 §19.1, §19.2), pure:
//! bytes and time in, actions out, no sockets.
//!
//! A client's message heard on a relaying LAN becomes a Relay-forward for
//! the servers upstream, carrying the client's address (peer-address), an
//! address naming the client's link (link-address), an Interface-ID naming
//! the LAN (§21.18) and, when the glue knows it, the client's MAC (RFC
//! 6939). A Relay-reply from upstream is checked (our Interface-ID, a hop
//! count that fits what it carries) and its message handed to the LAN
//! peer it names. Prefixes delegated to LAN routers are read from the
//! Replies that pass (as odhcpd and dhcrelay with `-r` do), so the glue can
//! route them towards the router that holds each, and take the route out
//! after a Release, a lifetime of 0 or the valid lifetime's end.

use crate::wire::{
    ClientLinkLayerAddr, ClientServerMessage, DhcpOption, IaPrefix, Message, MessageType,
    RelayMessage, WireError, CLIENT_PORT, HOP_COUNT_LIMIT, HWTYPE_ETHERNET, SERVER_PORT,
};
use std::collections::BTreeMap;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::{Duration, Instant};
use v6common::prefix::is_link_local;
use v6common::{Ipv6Prefix, RouteFact};

/// Why a datagram was not relayed (counter names).
pub mod drop_reason {
    /// Heard on an interface that does not relay.
    pub const UNKNOWN_INTERFACE: &str = "unknown-interface";
    /// A server's message (Advertise, Reply, ...) or a Relay-reply on a LAN.
    pub const NOT_FROM_CLIENT: &str = "not-from-client";
    /// A Relay-forward that already went through HOP_COUNT_LIMIT relays
    /// (§19.1.2).
    pub const TOO_MANY_HOPS: &str = "too-many-hops";
    /// Upstream sent something other than a Relay-reply.
    pub const NOT_RELAY_REPLY: &str = "not-relay-reply";
    /// A Relay-reply whose Interface-ID (or link-address) names no LAN of ours.
    pub const UNKNOWN_LINK: &str = "unknown-link";
    /// A Relay-reply without a Relay Message option (§21.10).
    pub const WITHOUT_MESSAGE: &str = "without-message";
    /// Hop count 0 with a Relay-reply inside, or more than 0 with a
    /// client's message: not a reply to what we sent.
    pub const HOP_MISMATCH: &str = "hop-count-mismatch";
    /// The relayed message is not one a server sends.
    pub const NOT_FOR_CLIENT: &str = "not-for-client";
    /// A peer-address that is unspecified or multicast.
    pub const BAD_PEER: &str = "bad-peer-address";
}

/// The shortest delegated prefix whose route is installed: a server
/// handing out ::/0 or a /8 is not routed by a home router.
const SHORTEST_ROUTED: u8 = 16;

/// A relaying LAN as the glue describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lan {
    pub ifindex: u32,
    /// The Interface-ID option's content (§21.18): the interface's name.
    pub interface_id: Vec<u8>,
    /// What goes into link-address for its clients (§19.1.1): an address
    /// of ours in the prefix relayed onto it, else ::.
    pub link_address: Ipv6Addr,
}

/// A datagram heard on a LAN, port 547.
#[derive(Clone, Copy, Debug)]
pub struct FromLan<'a> {
    pub data: &'a [u8],
    pub src: Ipv6Addr,
    pub ifindex: u32,
    /// The sender's MAC, from the neighbour cache (RFC 6939).
    pub client_lladdr: Option<[u8; 6]>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// A Relay-forward for the servers upstream of LAN `lan` (§19.1).
    Forward {
        lan: u32,
        data: Vec<u8>,
    },
    /// A message for a LAN peer (§19.2).
    Deliver {
        ifindex: u32,
        dst: SocketAddrV6,
        data: Vec<u8>,
    },
    /// A prefix delegated to a LAN router: its route.
    AddRoute(RouteFact),
    DelRoute(RouteFact),
}

/// What the agent counts (`show protocols`, metrics).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Relay-forwards sent upstream.
    pub forwarded: u64,
    /// Messages from upstream handed to LAN peers.
    pub delivered: u64,
    /// Datagrams dropped, by `drop_reason`.
    pub drops: BTreeMap<&'static str, u64>,
}

impl RelayStats {
    fn drop(&mut self, reason: &'static str) {
        *self.drops.entry(reason).or_default() += 1;
    }
    pub fn dropped(&self) -> u64 {
        self.drops.values().sum()
    }
}

/// A delegated prefix we route: its route, when its valid lifetime ends
/// (None: infinite) and when a Reply last confirmed it.
#[derive(Clone, Debug)]
struct Delegation {
    route: RouteFact,
    until: Option<Instant>,
    seen: Instant,
}

#[derive(Debug, Default)]
pub struct RelayAgent {
    lans: Vec<Lan>,
    delegated: BTreeMap<Ipv6Prefix, Delegation>,
    pub stats: RelayStats,
}

impl RelayAgent {
    /// The LANs that relay now. Routes towards a LAN that no longer relays
    /// are taken out.
    pub fn set_lans(&mut self, lans: Vec<Lan>) -> Vec<Action> {
        self.lans = lans;
        let gone: Vec<Ipv6Prefix> = self
            .delegated
            .iter()
            .filter(|(_, d)| !self.lans.iter().any(|l| d.route.oif == Some(l.ifindex)))
            .map(|(p, _)| *p)
            .collect();
        self.remove(&gone)
    }

    pub fn lans(&self) -> &[Lan] {
        &self.lans
    }

    /// The routes installed for delegated prefixes now.
    pub fn routes(&self) -> impl Iterator<Item = &RouteFact> {
        self.delegated.values().map(|d| &d.route)
    }

    /// The routes installed for delegated prefixes now, each with when a
    /// Reply last confirmed it (`show route`'s time).
    pub fn routes_seen(&self) -> impl Iterator<Item = (&RouteFact, Instant)> {
        self.delegated.values().map(|d| (&d.route, d.seen))
    }

    /// §19.1: a client's message (or a cascaded relay's Relay-forward)
    /// heard on a LAN becomes a Relay-forward for upstream.
    pub fn from_lan(&mut self, rx: FromLan<'_>) -> Vec<Action> {
        let Some(lan) = self.lans.iter().find(|l| l.ifindex == rx.ifindex).cloned() else {
            self.stats.drop(drop_reason::UNKNOWN_INTERFACE);
            return vec![];
        };
        let fwd = match forward(&lan, &rx) {
            Ok(f) => f,
            Err(reason) => {
                self.stats.drop(reason);
                return vec![];
            }
        };
        // RFC 8415 §18.2.7: a Release gives the prefixes up at once.
        let mut out = match innermost(rx.data) {
            Some(m) if m.msg_type == MessageType::Release => {
                let released: Vec<Ipv6Prefix> = ia_prefixes(&m).map(prefix_of).collect();
                self.remove(&released)
            }
            _ => vec![],
        };
        self.stats.forwarded += 1;
        out.push(Action::Forward {
            lan: lan.ifindex,
            data: Message::Relay(fwd).to_bytes(),
        });
        out
    }

    /// §19.2: a Relay-reply from upstream; its message goes to the LAN
    /// peer it names, port 546 for a client, 547 for a relay (§7.2).
    pub fn from_wan(&mut self, now: Instant, data: &[u8]) -> Vec<Action> {
        match self.unwrap_reply(data) {
            Ok((lan, peer, inner)) => {
                let mut out = self.snoop_reply(now, lan, peer, &inner);
                let port = if inner.first() == Some(&(MessageType::RelayRepl as u8)) {
                    SERVER_PORT
                } else {
                    CLIENT_PORT
                };
                let scope = if is_link_local(peer) { lan } else { 0 };
                self.stats.delivered += 1;
                out.push(Action::Deliver {
                    ifindex: lan,
                    dst: SocketAddrV6::new(peer, port, 0, scope),
                    data: inner,
                });
                out
            }
            Err(reason) => {
                self.stats.drop(reason);
                vec![]
            }
        }
    }

    /// The checks of a Relay-reply: (LAN ifindex, peer, relayed message).
    fn unwrap_reply(&self, data: &[u8]) -> Result<(u32, Ipv6Addr, Vec<u8>), &'static str> {
        let r = match Message::parse(data).map_err(|e| e.reason())? {
            Message::Relay(r) if r.msg_type == MessageType::RelayRepl => r,
            _ => return Err(drop_reason::NOT_RELAY_REPLY),
        };
        let lan = self.lan_of(&r).ok_or(drop_reason::UNKNOWN_LINK)?;
        let inner = r.relay_msg().ok_or(drop_reason::WITHOUT_MESSAGE)?;
        let kind = inner
            .first()
            .and_then(|t| MessageType::from_u8(*t))
            .ok_or(drop_reason::NOT_FOR_CLIENT)?;
        // We sent hop count 0 for a client's message and more for a
        // relay's (§19.1.2): the reply must carry the same kind back.
        match (kind, r.hop_count) {
            (MessageType::RelayRepl, 0) => return Err(drop_reason::HOP_MISMATCH),
            (MessageType::RelayRepl, _) => {}
            (MessageType::Advertise | MessageType::Reply | MessageType::Reconfigure, 0) => {}
            (MessageType::Advertise | MessageType::Reply | MessageType::Reconfigure, _) => {
                return Err(drop_reason::HOP_MISMATCH)
            }
            _ => return Err(drop_reason::NOT_FOR_CLIENT),
        }
        let peer = r.peer_address;
        if peer.is_unspecified() || peer.is_multicast() {
            return Err(drop_reason::BAD_PEER);
        }
        Ok((lan, peer, inner.to_vec()))
    }

    /// §19.2: the LAN the Interface-ID names, else the one whose
    /// link-address the reply repeats.
    fn lan_of(&self, r: &RelayMessage) -> Option<u32> {
        let found = match r.interface_id() {
            Some(id) => self.lans.iter().find(|l| l.interface_id == id),
            None if !r.link_address.is_unspecified() => {
                self.lans.iter().find(|l| l.link_address == r.link_address)
            }
            None => None,
        };
        found.map(|l| l.ifindex)
    }

    /// Prefixes a Reply delegates to `peer` get a route via it; those it
    /// gives lifetime 0 lose theirs (RFC 8415 §18.3.4, §21.22).
    fn snoop_reply(&mut self, now: Instant, lan: u32, peer: Ipv6Addr, inner: &[u8]) -> Vec<Action> {
        let Some(m) = innermost(inner).filter(|m| m.msg_type == MessageType::Reply) else {
            return vec![];
        };
        let mut out = vec![];
        let mut ended = vec![];
        for p in ia_prefixes(&m) {
            let prefix = prefix_of(p);
            if p.valid == 0 {
                ended.push(prefix);
                continue;
            }
            if prefix.len() < SHORTEST_ROUTED {
                continue;
            }
            let route = crate::engine::delegated_route(prefix, peer, lan);
            let until = (p.valid != u32::MAX).then(|| now + Duration::from_secs(p.valid.into()));
            let new = Delegation {
                route: route.clone(),
                until,
                seen: now,
            };
            // A Renew's Reply moves the end; another router or LAN moves the route.
            match self.delegated.insert(prefix, new) {
                Some(o) if o.route == route => {}
                Some(o) => out.extend([Action::DelRoute(o.route), Action::AddRoute(route)]),
                None => out.push(Action::AddRoute(route)),
            }
        }
        out.extend(self.remove(&ended));
        out
    }

    fn remove(&mut self, prefixes: &[Ipv6Prefix]) -> Vec<Action> {
        prefixes
            .iter()
            .filter_map(|p| self.delegated.remove(p))
            .map(|d| Action::DelRoute(d.route))
            .collect()
    }

    /// Delegations whose valid lifetime ran out lose their route.
    pub fn on_timer(&mut self, now: Instant) -> Vec<Action> {
        let ended: Vec<Ipv6Prefix> = self
            .delegated
            .iter()
            .filter(|(_, d)| d.until.is_some_and(|t| t <= now))
            .map(|(p, _)| *p)
            .collect();
        self.remove(&ended)
    }

    pub fn next_timer(&self) -> Option<Instant> {
        self.delegated.values().filter_map(|d| d.until).min()
    }
}

/// The Relay-forward for what `rx` heard on `lan` (§19.1.1, §19.1.2).
fn forward(lan: &Lan, rx: &FromLan<'_>) -> Result<RelayMessage, &'static str> {
    let kind = match rx.data.first() {
        None => return Err(WireError::Truncated.reason()),
        Some(t) => MessageType::from_u8(*t).ok_or(WireError::UnknownMessageType(*t).reason())?,
    };
    use MessageType as T;
    let (hop_count, link_address, lladdr) = match kind {
        T::Solicit
        | T::Request
        | T::Confirm
        | T::Renew
        | T::Rebind
        | T::Release
        | T::Decline
        | T::InformationRequest => {
            if rx.data.len() < 4 {
                return Err(WireError::Truncated.reason());
            }
            (0, lan.link_address, rx.client_lladdr)
        }
        T::RelayForw => {
            let hops = *rx.data.get(1).ok_or(WireError::Truncated.reason())?;
            if rx.data.len() < 34 {
                return Err(WireError::Truncated.reason());
            }
            if hops >= HOP_COUNT_LIMIT {
                return Err(drop_reason::TOO_MANY_HOPS);
            }
            // §19.1.2: a relay with a global address names its link itself.
            let global = !is_link_local(rx.src) && !rx.src.is_unspecified();
            let la = if global {
                Ipv6Addr::UNSPECIFIED
            } else {
                lan.link_address
            };
            (hops + 1, la, None)
        }
        _ => return Err(drop_reason::NOT_FROM_CLIENT),
    };
    let mut options = vec![
        DhcpOption::InterfaceId(lan.interface_id.clone()),
        DhcpOption::RelayMsg(rx.data.to_vec()),
    ];
    // RFC 6939 §4: only the relay next to the client adds it.
    options.extend(lladdr.map(|mac| {
        DhcpOption::ClientLinkLayerAddr(ClientLinkLayerAddr {
            hw_type: HWTYPE_ETHERNET,
            addr: mac.to_vec(),
        })
    }));
    Ok(RelayMessage {
        msg_type: MessageType::RelayForw,
        hop_count,
        link_address,
        peer_address: rx.src,
        options,
    })
}

/// The client/server message inside any number of relay levels (at most
/// HOP_COUNT_LIMIT), if it parses.
fn innermost(data: &[u8]) -> Option<ClientServerMessage> {
    let mut m = Message::parse(data).ok()?;
    for _ in 0..=HOP_COUNT_LIMIT {
        match m {
            Message::ClientServer(c) => return Some(c),
            Message::Relay(r) => m = Message::parse(r.relay_msg()?).ok()?,
        }
    }
    None
}

/// The IA Prefix options of every IA_PD in `m`.
fn ia_prefixes(m: &ClientServerMessage) -> impl Iterator<Item = &IaPrefix> {
    m.options
        .iter()
        .filter_map(|o| match o {
            DhcpOption::IaPd(pd) => Some(&pd.options),
            _ => None,
        })
        .flatten()
        .filter_map(|o| match o {
            DhcpOption::IaPrefix(p) => Some(p),
            _ => None,
        })
}

fn prefix_of(p: &IaPrefix) -> Ipv6Prefix {
    Ipv6Prefix::new(p.prefix, p.prefix_len)
}

#[cfg(test)]
mod tests;
