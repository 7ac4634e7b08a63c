//! The supervisor's one view of the kernel: links (with the parameters of
//! SIT tunnels), IPv6 and IPv4 addresses and IPv6 routes, as plain data. Built from netlink dumps and kept current by
//! netlink events (see the `v6netlink` crate); engines receive snapshots.

use crate::prefix::{is_link_local, Ipv6Prefix};
use hashbrown::HashTable;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::net::{Ipv4Addr, Ipv6Addr};

/// One network interface.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkFact {
    pub index: u32,
    pub name: String,
    /// Link-layer address (Ethernet MAC, or 4 bytes for SIT, ...).
    pub lladdr: Option<Vec<u8>>,
    pub mtu: u32,
    /// IFF_UP: the admin wants it up.
    pub admin_up: bool,
    /// IFF_RUNNING / carrier: frames can actually flow.
    pub running: bool,
    /// `veth`, `bridge`, `sit`, ... when the kernel says.
    pub kind: Option<String>,
    /// IFLA_IFALIAS (`ip link set NAME alias TEXT`): how v6routerd marks the
    /// tunnels it made.
    #[serde(default)]
    pub alias: Option<String>,
    /// The tunnel parameters, for a link of kind `sit`.
    #[serde(default)]
    pub sit: Option<SitFact>,
}

/// The parameters of a SIT (6in4) link (IFLA_IPTUN_*), with the kernel's
/// defaults where an attribute is absent (sit.c, ipip6_netlink_parms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SitFact {
    /// None = any (0.0.0.0).
    pub remote: Option<Ipv4Addr>,
    pub local: Option<Ipv4Addr>,
    /// 0 = inherit.
    pub ttl: u8,
    pub pmtudisc: bool,
    /// IPPROTO_IPV6 (41) for `mode sit`.
    pub proto: u8,
}

/// Everything needed to create a SIT link: the equivalent of
/// `ip tunnel add NAME mode sit remote R local L ttl T [no]pmtudisc` + `mtu M`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SitLink {
    pub name: String,
    pub remote: Ipv4Addr,
    pub local: Ipv4Addr,
    pub ttl: u8,
    pub pmtudisc: bool,
    pub mtu: u32,
}

/// The link as `ip tunnel add` would be told it, without the name.
impl fmt::Display for SitLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sit remote {} local {} ttl {}{} mtu {}",
            self.remote,
            self.local,
            self.ttl,
            if self.pmtudisc { "" } else { " nopmtudisc" },
            self.mtu
        )
    }
}

/// One IPv4 address on a link (what a tunnel's `local = "auto"` follows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addr4Fact {
    pub index: u32,
    pub addr: Ipv4Addr,
    pub prefix_len: u8,
    /// IFA_F_SECONDARY: not the primary address of its subnet (the primary
    /// is the one the kernel uses as source; RFC 1122).
    pub secondary: bool,
}

impl LinkFact {
    /// Usable for sending: up and with carrier.
    pub fn is_usable(&self) -> bool {
        self.admin_up && self.running
    }
}

/// One IPv6 address on a link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddrFact {
    pub index: u32,
    pub addr: Ipv6Addr,
    pub prefix_len: u8,
    /// Preferred lifetime in seconds (u32::MAX = forever) at the time of the event.
    pub preferred_lft: u32,
    /// Valid lifetime in seconds (u32::MAX = forever) at the time of the event.
    pub valid_lft: u32,
    pub tentative: bool,
    pub deprecated: bool,
    pub dad_failed: bool,
    pub permanent: bool,
}

impl AddrFact {
    /// An address as `ip -6 addr add A/L dev X` makes it: no lifetimes,
    /// usable at once (tests and tools build their views with it).
    pub fn permanent(index: u32, addr: Ipv6Addr, prefix_len: u8) -> AddrFact {
        AddrFact {
            index,
            addr,
            prefix_len,
            preferred_lft: u32::MAX,
            valid_lft: u32::MAX,
            tentative: false,
            deprecated: false,
            dad_failed: false,
            permanent: true,
        }
    }

    pub fn is_link_local(&self) -> bool {
        is_link_local(self.addr)
    }
    pub fn prefix(&self) -> Ipv6Prefix {
        Ipv6Prefix::new(self.addr, self.prefix_len)
    }
    /// A global (non link-local, non multicast, non loopback) address.
    pub fn is_global(&self) -> bool {
        !self.is_link_local() && !self.addr.is_multicast() && !self.addr.is_loopback()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteKind {
    Unicast,
    Unreachable,
    Blackhole,
    Prohibit,
    Other,
}

/// One IPv6 route of the main table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteFact {
    pub dst: Ipv6Prefix,
    pub gateway: Option<Ipv6Addr>,
    pub oif: Option<u32>,
    /// RTPROT_* (2 kernel, 3 boot, 4 static, 9 ra, 189 rip, ...).
    pub protocol: u8,
    pub metric: u32,
    pub table: u32,
    pub kind: RouteKind,
}

/// The main routing table (linux/rtnetlink.h): the one the kernel view holds.
pub const RT_TABLE_MAIN: u32 = 254;

/// Interface name pattern with `*` wildcards anywhere, as BIRD's
/// `interface "eth*"` (`e*0` matches `eth0`). The one pattern syntax of
/// every config key that names interfaces.
pub fn ifname_matches(pattern: &str, name: &str) -> bool {
    fn m(p: &[u8], n: &[u8]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some((b'*', rest)) => (0..=n.len()).any(|i| m(rest, &n[i..])),
            Some((c, rest)) => n.first() == Some(c) && m(rest, &n[1..]),
        }
    }
    m(pattern.as_bytes(), name.as_bytes())
}

/// Route protocol numbers (linux/rtnetlink.h).
pub mod rtprot {
    pub const KERNEL: u8 = 2;
    pub const BOOT: u8 = 3;
    pub const STATIC: u8 = 4;
    pub const RA: u8 = 9;
    pub const DHCP: u8 = 16;
    /// RTPROT_RIP: routes learned by our RIPng engine.
    pub const RIP: u8 = 189;
    /// Routes v6routerd installs for its own reasons (delegated prefixes,
    /// tunnels, unreachable aggregates): a private id so we can find and clean them.
    pub const V6ROUTER: u8 = 201;

    pub fn name(p: u8) -> String {
        match p {
            0 => "unspec".into(),
            1 => "redirect".into(),
            KERNEL => "kernel".into(),
            BOOT => "boot".into(),
            STATIC => "static".into(),
            RA => "ra".into(),
            DHCP => "dhcp".into(),
            RIP => "rip".into(),
            V6ROUTER => "v6router".into(),
            n => n.to_string(),
        }
    }
}

/// One change reported by the kernel (an RTM_NEW*/RTM_DEL* message).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KernelEvent {
    NewLink(LinkFact),
    DelLink(u32),
    NewAddr(AddrFact),
    DelAddr {
        index: u32,
        addr: Ipv6Addr,
    },
    NewAddr4(Addr4Fact),
    DelAddr4 {
        index: u32,
        addr: Ipv4Addr,
    },
    NewRoute(RouteFact),
    DelRoute(RouteFact),
    /// net.ipv6.conf.all.forwarding changed (read from /proc by the supervisor).
    Forwarding(bool),
}

type RouteKey = (Ipv6Prefix, u32, u32, Option<u32>, Option<Ipv6Addr>);

fn route_key(r: &RouteFact) -> RouteKey {
    (r.dst, r.table, r.metric, r.oif, r.gateway)
}

/// Where each route is in `KernelView::routes`: bare `u32` positions in a
/// hash table keyed by the route they point at, 4 bytes a route where a
/// map from the key (52 bytes) and a `usize` took 64. Every delegated
/// prefix is a route here, and the view is copied whenever the supervisor
/// changes it while a service holds the last snapshot.
#[derive(Clone, Default)]
struct RouteIndex {
    table: HashTable<u32>,
    hasher: RandomState,
}

impl fmt::Debug for RouteIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RouteIndex({} routes)", self.table.len())
    }
}

impl RouteIndex {
    fn len(&self) -> usize {
        self.table.len()
    }

    fn hash(&self, k: &RouteKey) -> u64 {
        self.hasher.hash_one(k)
    }

    /// The position of the route with key `k`.
    fn get(&self, routes: &[RouteFact], k: &RouteKey) -> Option<usize> {
        self.table
            .find(self.hash(k), |&i| route_key(&routes[i as usize]) == *k)
            .map(|&i| i as usize)
    }

    /// Index `routes[i]` (not indexed yet).
    fn insert(&mut self, routes: &[RouteFact], i: usize) {
        let h = self.hash(&route_key(&routes[i]));
        let hasher = &self.hasher;
        self.table.insert_unique(h, i as u32, |&x| {
            hasher.hash_one(route_key(&routes[x as usize]))
        });
    }

    /// Forget the entry for position `i`, whose route has key `k`.
    fn remove(&mut self, k: &RouteKey, i: usize) {
        if let Ok(e) = self.table.find_entry(self.hash(k), |&x| x as usize == i) {
            e.remove();
        }
    }

    /// The entry for position `from` (key `k`) now says `to`.
    fn moved(&mut self, k: &RouteKey, from: usize, to: usize) {
        if let Some(x) = self.table.find_mut(self.hash(k), |&x| x as usize == from) {
            *x = to as u32;
        }
    }

    fn rebuild(&mut self, routes: &[RouteFact]) {
        self.table.clear();
        for i in 0..routes.len() {
            self.insert(routes, i);
        }
    }
}

/// What the supervisor knows of the kernel at one moment.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct KernelView {
    pub links: BTreeMap<u32, LinkFact>,
    pub addrs: Vec<AddrFact>,
    #[serde(default)]
    pub addrs4: Vec<Addr4Fact>,
    pub routes: Vec<RouteFact>,
    /// Where each route is in `routes`, by the fields that make a route
    /// unique in the kernel: keeps a 50,000-route table's updates O(1).
    /// Rebuilt when `routes` was changed directly.
    #[serde(skip)]
    route_index: RouteIndex,
    /// net.ipv6.conf.all.forwarding
    pub forwarding: bool,
}

/// Equal when they hold the same facts; the order of routes does not matter.
impl PartialEq for KernelView {
    fn eq(&self, o: &Self) -> bool {
        self.links == o.links
            && self.addrs == o.addrs
            && self.addrs4 == o.addrs4
            && self.forwarding == o.forwarding
            && self.routes.len() == o.routes.len()
            && self.routes.iter().all(|r| o.find_route(r) == Some(r))
    }
}

impl Eq for KernelView {}

impl KernelView {
    pub fn link_by_name(&self, name: &str) -> Option<&LinkFact> {
        self.links.values().find(|l| l.name == name)
    }

    pub fn addrs_of(&self, index: u32) -> impl Iterator<Item = &AddrFact> {
        self.addrs.iter().filter(move |a| a.index == index)
    }

    /// Unicast default routes of the main table (an RA's, a static one):
    /// where the router itself sends what it has no better route for.
    pub fn default_routes(&self) -> impl Iterator<Item = &RouteFact> {
        self.routes.iter().filter(|r| {
            r.dst.len() == 0 && r.table == RT_TABLE_MAIN && r.kind == RouteKind::Unicast
        })
    }

    /// The first usable (not tentative, not DAD-failed) link-local address of a link.
    pub fn link_local(&self, index: u32) -> Option<Ipv6Addr> {
        self.addrs_of(index)
            .find(|a| a.is_link_local() && !a.tentative && !a.dad_failed)
            .map(|a| a.addr)
    }

    /// Global addresses of a link that did not fail DAD, tentative ones
    /// included: the RA engine advertises a new prefix at once, not after
    /// our address in it passed DAD (RFC 4861 §6.2.3 does not tie a PIO to
    /// the router's own address); callers that need a usable source filter
    /// `tentative` themselves (`own_dns_address`).
    pub fn globals(&self, index: u32) -> impl Iterator<Item = &AddrFact> {
        self.addrs_of(index)
            .filter(|a| a.is_global() && !a.dad_failed)
    }

    /// The router's own address to name as DNS server on a link (`dns =
    /// ["self"]`, odhcpd's `dns_service`): a ULA first, as it survives the
    /// ISP renumbering (RFC 4193: local addresses, not the ISP's), else a
    /// global one; never a tentative or deprecated address (RFC 4862 §5.5.4:
    /// a deprecated address must not start new communication).
    pub fn own_dns_address(&self, index: u32) -> Option<Ipv6Addr> {
        let usable = || {
            self.globals(index)
                .filter(|a| !a.tentative && !a.deprecated)
                .map(|a| a.addr)
        };
        let is_ula = |a: &Ipv6Addr| a.segments()[0] & 0xfe00 == 0xfc00;
        usable().filter(is_ula).min().or_else(|| usable().min())
    }

    /// Insert or replace an address (matched by link and address).
    pub fn upsert_addr(&mut self, a: AddrFact) {
        upsert(&mut self.addrs, a, |x, a| {
            x.index == a.index && x.addr == a.addr
        });
    }

    pub fn remove_addr(&mut self, index: u32, addr: Ipv6Addr) {
        self.addrs.retain(|x| !(x.index == index && x.addr == addr));
    }

    /// The IPv4 addresses of a link, primary ones first.
    pub fn addrs4_of(&self, index: u32) -> Vec<Ipv4Addr> {
        let mut v: Vec<&Addr4Fact> = self.addrs4.iter().filter(|a| a.index == index).collect();
        v.sort_by_key(|a| a.secondary);
        v.into_iter().map(|a| a.addr).collect()
    }

    /// Insert or replace an IPv4 address (matched by link and address).
    pub fn upsert_addr4(&mut self, a: Addr4Fact) {
        upsert(&mut self.addrs4, a, |x, a| {
            x.index == a.index && x.addr == a.addr
        });
    }

    fn ensure_index(&mut self) {
        if self.route_index.len() != self.routes.len() {
            self.route_index.rebuild(&self.routes);
        }
    }

    /// The route the kernel would consider the same as `r` (same destination,
    /// table, metric, device and gateway).
    pub fn find_route(&self, r: &RouteFact) -> Option<&RouteFact> {
        let k = route_key(r);
        if self.route_index.len() == self.routes.len() {
            self.route_index
                .get(&self.routes, &k)
                .and_then(|i| self.routes.get(i))
        } else {
            self.routes.iter().find(|x| route_key(x) == k)
        }
    }

    pub fn upsert_route(&mut self, r: RouteFact) {
        self.ensure_index();
        match self.route_index.get(&self.routes, &route_key(&r)) {
            Some(i) => self.routes[i] = r,
            None => {
                self.routes.push(r);
                self.route_index.insert(&self.routes, self.routes.len() - 1);
            }
        }
    }

    pub fn remove_route(&mut self, r: &RouteFact) {
        self.ensure_index();
        let k = route_key(r);
        if let Some(i) = self.route_index.get(&self.routes, &k) {
            self.route_index.remove(&k, i);
            let last = self.routes.len() - 1;
            if i != last {
                let moved = route_key(&self.routes[last]);
                self.route_index.moved(&moved, last, i);
            }
            self.routes.swap_remove(i);
        }
    }

    /// Apply one kernel event; returns false when it changed nothing.
    pub fn apply(&mut self, ev: &KernelEvent) -> bool {
        let before_len = self.sizes();
        match ev {
            KernelEvent::NewLink(l) => {
                if self.links.get(&l.index) == Some(l) {
                    return false;
                }
                self.links.insert(l.index, l.clone());
            }
            KernelEvent::DelLink(i) => self.remove_link(*i),
            KernelEvent::NewAddr(a) => {
                if self.addrs.contains(a) {
                    return false;
                }
                self.upsert_addr(a.clone());
            }
            KernelEvent::DelAddr { index, addr } => self.remove_addr(*index, *addr),
            KernelEvent::NewAddr4(a) => {
                if self.addrs4.contains(a) {
                    return false;
                }
                self.upsert_addr4(*a);
            }
            KernelEvent::DelAddr4 { index, addr } => self
                .addrs4
                .retain(|x| !(x.index == *index && x.addr == *addr)),
            KernelEvent::NewRoute(r) => {
                if self.find_route(r) == Some(r) {
                    return false;
                }
                self.upsert_route(r.clone());
            }
            KernelEvent::DelRoute(r) => self.remove_route(r),
            KernelEvent::Forwarding(f) => {
                if self.forwarding == *f {
                    return false;
                }
                self.forwarding = *f;
            }
        }
        !matches!(
            ev,
            KernelEvent::DelLink(_)
                | KernelEvent::DelAddr { .. }
                | KernelEvent::DelAddr4 { .. }
                | KernelEvent::DelRoute(_)
        ) || before_len != self.sizes()
    }

    fn sizes(&self) -> [usize; 4] {
        [
            self.links.len(),
            self.addrs.len(),
            self.addrs4.len(),
            self.routes.len(),
        ]
    }

    /// Forget a link and everything on it (RTM_DELLINK).
    pub fn remove_link(&mut self, index: u32) {
        self.links.remove(&index);
        self.addrs.retain(|a| a.index != index);
        self.addrs4.retain(|a| a.index != index);
        self.routes.retain(|r| r.oif != Some(index));
        self.route_index.rebuild(&self.routes);
    }
}

/// Replace the element of `v` that is `same` as `a` with `a`, or add `a`.
fn upsert<T>(v: &mut Vec<T>, a: T, same: impl Fn(&T, &T) -> bool) {
    match v.iter_mut().find(|x| same(x, &a)) {
        Some(x) => *x = a,
        None => v.push(a),
    }
}

#[cfg(test)]
mod tests;
