//! The prefix manager's planning, pure: from the prefixes delegated on the
//! uplinks (with their lifetimes), the ULA and the `assign` entries of the
//! configuration, which address each LAN gets, with which lifetimes, and which
//! unreachable aggregates the router installs (RFC 7084 WPD-5).
//!
//! Everything downstream follows the kernel: RA's `::/64` templates, DHCPv6
//! pools relative to the interface's /64, RIPng's connected export. So
//! renumbering is one change of plan, and a stale prefix is deprecated by
//! giving its LAN address preferred lifetime 0 and letting its valid lifetime
//! run out (RFC 9096 §3).

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};
use v6common::Ipv6Prefix;
use v6config::{Config, Subnet};

/// A lease the DHCPv6 client of `uplink` holds, with its lifetimes' ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UplinkLease<T> {
    pub uplink: String,
    pub value: T,
    pub preferred_until: Instant,
    pub valid_until: Instant,
}

impl<T: Copy> UplinkLease<T> {
    /// `lease` as the client of `uplink` bound it.
    pub fn of(uplink: &str, lease: &v6dhcp::client::Lease<T>) -> UplinkLease<T> {
        UplinkLease {
            uplink: uplink.to_string(),
            value: lease.value,
            preferred_until: lease.preferred_until,
            valid_until: lease.valid_until,
        }
    }
}

/// A prefix the ISP delegated on an uplink.
pub type Delegation = UplinkLease<Ipv6Prefix>;

/// One address the router gives itself on a LAN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedAddr {
    pub iface: String,
    pub addr: Ipv6Addr,
    pub prefix_len: u8,
    /// Seconds, u32::MAX = forever (the ULA).
    pub preferred: u32,
    pub valid: u32,
    /// The delegated (or ULA) prefix it was carved from.
    pub from: Ipv6Prefix,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub addrs: Vec<PlannedAddr>,
    /// Unreachable routes for each delegated prefix, so parts no LAN uses do
    /// not loop back to the ISP (RFC 7084 WPD-5).
    pub unreachable: Vec<Ipv6Prefix>,
    /// `subnet = "auto"` choices, to be kept in state_dir so they stay stable.
    pub auto_subnets: BTreeMap<String, u32>,
    /// Problems worth a log line (a subnet that does not fit, ...).
    pub problems: Vec<String>,
}

fn secs(d: Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX - 1)
}

/// Plan the LAN addresses. `auto` holds earlier `subnet = "auto"` choices.
pub fn plan(
    cfg: &Config,
    delegations: &[Delegation],
    ula: Option<Ipv6Prefix>,
    auto: &BTreeMap<String, u32>,
    now: Instant,
) -> Plan {
    let mut p = Plan::default();
    let index_of = subnet_indices(cfg, auto, &mut p.auto_subnets);
    for d in delegations {
        if d.valid_until <= now {
            continue;
        }
        // RFC 7084 WPD-5: the whole delegation is unreachable but for
        // the LAN subnets carved from it.
        p.unreachable.push(d.value);
        delegated_addrs(cfg, d, &index_of, now, &mut p);
    }
    if let Some(u) = ula {
        ula_addrs(cfg, u, &index_of, &mut p);
    }
    p
}

/// The subnet index of each LAN with an `assign`: explicit ones first,
/// then stable "auto" ones (kept from `auto`), then new ones in the
/// lowest free indices. The "auto" choices are written to `chosen`.
fn subnet_indices(
    cfg: &Config,
    auto: &BTreeMap<String, u32>,
    chosen: &mut BTreeMap<String, u32>,
) -> BTreeMap<String, u32> {
    let explicit: Vec<u32> = cfg
        .interfaces
        .iter()
        .filter_map(|i| match i.assign.as_ref().map(|a| &a.subnet) {
            Some(Subnet::Index(n)) => Some(*n),
            _ => None,
        })
        .collect();
    let mut taken: Vec<u32> = explicit.clone();
    let mut index_of: BTreeMap<String, u32> = BTreeMap::new();
    for i in &cfg.interfaces {
        match i.assign.as_ref().map(|a| &a.subnet) {
            Some(Subnet::Index(n)) => {
                index_of.insert(i.name.clone(), *n);
            }
            Some(Subnet::Auto) => {
                if let Some(n) = auto.get(&i.name).filter(|n| !explicit.contains(n)) {
                    index_of.insert(i.name.clone(), *n);
                    taken.push(*n);
                }
            }
            None => {}
        }
    }
    for i in &cfg.interfaces {
        if !matches!(i.assign.as_ref().map(|a| &a.subnet), Some(Subnet::Auto)) {
            continue;
        }
        let n = match index_of.get(&i.name) {
            Some(n) => *n,
            None => {
                let n = (0..).find(|n| !taken.contains(n)).unwrap_or(0);
                taken.push(n);
                index_of.insert(i.name.clone(), n);
                n
            }
        };
        chosen.insert(i.name.clone(), n);
    }
    index_of
}

/// The LAN addresses carved from delegation `d`, into `p`.
fn delegated_addrs(
    cfg: &Config,
    d: &Delegation,
    index_of: &BTreeMap<String, u32>,
    now: Instant,
    p: &mut Plan,
) {
    for i in &cfg.interfaces {
        let Some(a) = i.assign.as_ref().filter(|a| a.from == d.uplink) else {
            continue;
        };
        let Some(&n) = index_of.get(&i.name) else {
            continue;
        };
        match d.value.subnet(a.length, u128::from(n)) {
            Some(net) => p.addrs.push(PlannedAddr {
                iface: i.name.clone(),
                addr: router_addr(net),
                prefix_len: a.length,
                // Never beyond what remains of the delegation (RFC 9096 §3, RFC 7084 L-13).
                preferred: secs(d.preferred_until.saturating_duration_since(now)),
                valid: secs(d.valid_until.saturating_duration_since(now)),
                from: d.value,
            }),
            None => p.problems.push(format!(
                "{}: subnet {n} of length {} does not fit in the delegated {}",
                i.name, a.length, d.value
            )),
        }
    }
}

/// Every assigned LAN's permanent subnet of the ULA (RFC 4193), into `p`.
fn ula_addrs(cfg: &Config, u: Ipv6Prefix, index_of: &BTreeMap<String, u32>, p: &mut Plan) {
    for i in &cfg.interfaces {
        let Some(a) = &i.assign else { continue };
        let Some(&n) = index_of.get(&i.name) else {
            continue;
        };
        if let Some(net) = u.subnet(64.max(a.length), u128::from(n)) {
            p.addrs.push(PlannedAddr {
                iface: i.name.clone(),
                addr: router_addr(net),
                prefix_len: net.len(),
                preferred: u32::MAX,
                valid: u32::MAX,
                from: u,
            });
        }
    }
}

/// An address the ISP gave an uplink itself (IA_NA).
pub type WanLease = UplinkLease<Ipv6Addr>;

/// The uplinks' own addresses to configure: each IA_NA address still valid,
/// as a /128 (RFC 8415 §18.2.10.1: the lease says nothing of the link's
/// prefix; the on-link prefix comes from the ISP's RA, RFC 4861 §6.3.4)
/// with what is left of its lifetimes, so the kernel deprecates and
/// removes it on time even if we are gone.
pub fn wan_addrs(leases: &[WanLease], now: Instant) -> Vec<PlannedAddr> {
    leases
        .iter()
        .filter(|l| l.valid_until > now)
        .map(|l| PlannedAddr {
            iface: l.uplink.clone(),
            addr: l.value,
            prefix_len: 128,
            preferred: secs(l.preferred_until.saturating_duration_since(now)),
            valid: secs(l.valid_until.saturating_duration_since(now)),
            from: Ipv6Prefix::new(l.value, 128),
        })
        .collect()
}

/// The router's own address in a subnet: `<subnet>::1`.
pub fn router_addr(net: Ipv6Prefix) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(net.addr()) | 1)
}

/// A random ULA /48 (RFC 4193 §3.2: fd00::/8 and a 40-bit random Global ID).
pub fn new_ula(rng: &mut fastrand::Rng) -> Ipv6Prefix {
    let gid = rng.u64(..) & 0xff_ffff_ffff;
    let hi = (0xfdu128 << 120) | (u128::from(gid) << 80);
    Ipv6Prefix::new(Ipv6Addr::from(hi), 48)
}

#[cfg(test)]
mod tests;
