//! What the configuration asks for: one SIT (6in4, RFC 4213) tunnel per
//! `[[tunnel]]` table, with its defaults and validation.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use v6common::Ipv6Prefix;

/// `ip tunnel add ... ttl 255`: what tunnel brokers ask for (a fixed TTL
/// also requires path-MTU discovery, see [`TunnelSpec::validate`]).
pub const DEFAULT_TTL: u8 = 255;
/// 1500-byte IPv4 path minus the 20-byte IPv4 header (RFC 4213 §3.2 allows
/// 1280..=1480 by default; 1280 is the conservative choice).
pub const DEFAULT_MTU: u32 = 1480;
/// The kernel's own metric for IPv6 routes added without one (IP6_RT_PRIO_USER).
pub const DEFAULT_METRIC: u32 = 1024;
/// The minimum IPv6 link MTU (RFC 8200 §5).
pub const MIN_MTU: u32 = 1280;
/// 65535 (IP_MAX_MTU) minus the 20-byte IPv4 header.
pub const MAX_MTU: u32 = 65515;
/// IFNAMSIZ - 1.
pub const MAX_NAME_LEN: usize = 15;
/// The fallback device the sit module creates in every namespace; it can be
/// neither configured as a tunnel of ours nor deleted.
pub const FALLBACK_DEVICE: &str = "sit0";

/// Where the tunnel's local IPv4 endpoint comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocalEndpoint {
    /// A fixed address (`local = "192.0.2.2"`).
    Fixed(Ipv4Addr),
    /// The primary IPv4 address of the named WAN interface, followed when the
    /// ISP changes it (`local = "auto"`, `wan = "eth0"`).
    Auto { wan: String },
}

impl fmt::Display for LocalEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalEndpoint::Fixed(a) => write!(f, "{a}"),
            LocalEndpoint::Auto { wan } => write!(f, "auto ({wan})"),
        }
    }
}

/// An address with its prefix length as configured on the tunnel
/// (`2001:db8:f::2/64`); unlike [`Ipv6Prefix`] the host bits are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TunnelAddress {
    pub addr: Ipv6Addr,
    pub prefix_len: u8,
}

impl fmt::Display for TunnelAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl FromStr for TunnelAddress {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        let bad = || SpecError::BadAddress(s.to_string());
        let (a, l) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv6Addr = a.parse().map_err(|_| bad())?;
        let prefix_len: u8 = l.parse().map_err(|_| bad())?;
        if prefix_len > 128 || addr.is_unspecified() || addr.is_multicast() || addr.is_loopback() {
            return Err(bad());
        }
        Ok(TunnelAddress { addr, prefix_len })
    }
}

/// The desired state of one tunnel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TunnelSpec {
    pub name: String,
    /// The broker's tunnel server (`remote`).
    pub remote: Ipv4Addr,
    pub local: LocalEndpoint,
    /// Outer TTL; 0 means "inherit" from the inner hop limit.
    pub ttl: u8,
    pub mtu: u32,
    /// Set DF on the outer header so path-MTU discovery works (RFC 4213 §3.2).
    pub pmtudisc: bool,
    /// Our IPv6 address on the tunnel (the broker's "Client IPv6 Address").
    pub address: Option<TunnelAddress>,
    /// Route ::/0 over the tunnel.
    pub default_route: bool,
    /// More prefixes routed over the tunnel.
    pub routes: Vec<Ipv6Prefix>,
    /// Metric of the routes we add.
    pub metric: u32,
    /// Leave the tunnel in place when v6routerd stops.
    pub keep_on_stop: bool,
    /// Shell command that tells the broker our new local address (see
    /// [`crate::update`]).
    pub update_command: Option<String>,
}

impl TunnelSpec {
    /// A spec with the defaults of `ip tunnel add NAME mode sit remote R local L ttl 255`.
    pub fn new(name: impl Into<String>, remote: Ipv4Addr, local: LocalEndpoint) -> Self {
        TunnelSpec {
            name: name.into(),
            remote,
            local,
            ttl: DEFAULT_TTL,
            mtu: DEFAULT_MTU,
            pmtudisc: true,
            address: None,
            default_route: false,
            routes: Vec::new(),
            metric: DEFAULT_METRIC,
            keep_on_stop: false,
            update_command: None,
        }
    }

    /// Every prefix that must be routed over the tunnel, the default route first.
    pub fn wanted_routes(&self) -> Vec<Ipv6Prefix> {
        let mut v = Vec::new();
        if self.default_route {
            v.push(Ipv6Prefix::new(Ipv6Addr::UNSPECIFIED, 0));
        }
        for r in &self.routes {
            if !v.contains(r) {
                v.push(*r);
            }
        }
        v
    }

    /// Check one tunnel on its own.
    pub fn validate(&self) -> Result<(), SpecError> {
        validate_name(&self.name)?;
        if !usable_unicast_v4(self.remote) {
            return Err(SpecError::BadRemote(self.remote));
        }
        match &self.local {
            LocalEndpoint::Fixed(a) if !usable_unicast_v4(*a) => {
                return Err(SpecError::BadLocal(*a))
            }
            LocalEndpoint::Auto { wan } if wan.is_empty() => return Err(SpecError::AutoWithoutWan),
            LocalEndpoint::Auto { wan } => validate_name(wan)?,
            LocalEndpoint::Fixed(_) => {}
        }
        // iproute2 refuses `ttl N nopmtudisc`: with DF clear the kernel lets
        // the outer TTL be inherited per packet, so a fixed TTL needs DF set.
        if self.ttl != 0 && !self.pmtudisc {
            return Err(SpecError::TtlNeedsPmtudisc(self.ttl));
        }
        if !(MIN_MTU..=MAX_MTU).contains(&self.mtu) {
            return Err(SpecError::BadMtu(self.mtu));
        }
        Ok(())
    }
}

fn usable_unicast_v4(a: Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_broadcast() || a.is_multicast() || a.is_loopback())
}

/// The kernel's `dev_valid_name()` rules.
fn validate_name(name: &str) -> Result<(), SpecError> {
    if name.is_empty()
        || name.len() > MAX_NAME_LEN
        || name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control())
    {
        return Err(SpecError::BadName(name.to_string()));
    }
    if name == FALLBACK_DEVICE {
        return Err(SpecError::FallbackDevice);
    }
    Ok(())
}

/// Check a whole set of tunnels: each one, then what the kernel would refuse
/// between them (two links of one name; two SIT tunnels with the same
/// local/remote pair, which the sit driver treats as the same tunnel).
pub fn validate_all(specs: &[TunnelSpec]) -> Result<(), SpecError> {
    let mut names = BTreeSet::new();
    let mut pairs = BTreeSet::new();
    for s in specs {
        s.validate()?;
        if !names.insert(s.name.as_str()) {
            return Err(SpecError::DuplicateName(s.name.clone()));
        }
        if !pairs.insert((s.remote, s.local.clone())) {
            return Err(SpecError::DuplicateEndpoints(s.name.clone()));
        }
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpecError {
    BadName(String),
    FallbackDevice,
    BadRemote(Ipv4Addr),
    BadLocal(Ipv4Addr),
    AutoWithoutWan,
    TtlNeedsPmtudisc(u8),
    BadMtu(u32),
    BadAddress(String),
    DuplicateName(String),
    DuplicateEndpoints(String),
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::BadName(n) => {
                write!(f, "`{n}` is not a valid interface name (1 to {MAX_NAME_LEN} characters, no '/', ':' or spaces)")
            }
            SpecError::FallbackDevice => {
                write!(f, "`{FALLBACK_DEVICE}` is the kernel's fallback SIT device; choose another name, e.g. he6")
            }
            SpecError::BadRemote(a) => write!(f, "remote {a} is not a unicast IPv4 address"),
            SpecError::BadLocal(a) => write!(f, "local {a} is not a unicast IPv4 address"),
            SpecError::AutoWithoutWan => {
                write!(f, "local = \"auto\" needs wan = \"IFNAME\" to take the IPv4 address from")
            }
            SpecError::TtlNeedsPmtudisc(t) => {
                write!(f, "ttl {t} needs pmtudisc = true (as in iproute2); use ttl = 0 (inherit) with pmtudisc = false")
            }
            SpecError::BadMtu(m) => write!(f, "mtu {m} is outside {MIN_MTU}..={MAX_MTU} (RFC 8200 §5 minimum)"),
            SpecError::BadAddress(s) => {
                write!(f, "`{s}` is not a unicast IPv6 ADDRESS/LENGTH, e.g. 2001:db8:f::2/64")
            }
            SpecError::DuplicateName(n) => write!(f, "two tunnels are named `{n}`"),
            SpecError::DuplicateEndpoints(n) => write!(
                f,
                "tunnel `{n}` has the same local and remote as an earlier one; the kernel cannot tell them apart"
            ),
        }
    }
}

impl std::error::Error for SpecError {}

#[cfg(test)]
mod tests;
