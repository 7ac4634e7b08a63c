//! What the kernel has, as far as tunnels are concerned: links by name with
//! their SIT parameters (from IFLA_INFO_DATA), their IPv6 addresses and the
//! IPv6 routes through them, and the IPv4 addresses of the WAN interfaces
//! that `local = "auto"` follows.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};
use v6common::Ipv6Prefix;

use crate::desired::TunnelAddress;

/// IPPROTO_IPV6: `mode sit` of `ip tunnel add` (shown as `ip6ip` by `ip -d link`).
pub const PROTO_IPV6: u8 = 41;
/// IPPROTO_IP: the "any" mode `ip link add type sit` picks when given no mode.
pub const PROTO_ANY: u8 = 0;
/// The IFLA_IFALIAS we put on links we create, so that ownership survives a
/// restart of the daemon (`ip link show` prints it as `alias v6routerd`).
pub const OWNER_ALIAS: &str = "v6routerd";

/// The SIT parameters the kernel reports for a link (IFLA_IPTUN_*): the
/// kernel view's own type.
pub type SitParams = v6common::SitFact;

/// One IPv6 route through a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedRoute {
    pub dst: Ipv6Prefix,
    pub metric: u32,
    pub protocol: u8,
}

/// One link of the given name as the kernel has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedLink {
    pub index: u32,
    pub name: String,
    /// IFLA_INFO_KIND (`sit`, `veth`, ...).
    pub kind: Option<String>,
    /// Present when the kernel reported SIT parameters.
    pub sit: Option<SitParams>,
    pub mtu: u32,
    pub admin_up: bool,
    pub running: bool,
    pub alias: Option<String>,
    /// IPv6 addresses (global and link-local) on the link.
    pub addrs: Vec<TunnelAddress>,
    /// IPv6 routes of the main table whose output interface is this link.
    pub routes: Vec<ObservedRoute>,
}

impl ObservedLink {
    pub fn is_sit(&self) -> bool {
        self.kind.as_deref() == Some("sit")
    }
    /// Made by v6routerd (now or in an earlier run).
    pub fn is_ours(&self) -> bool {
        self.alias.as_deref() == Some(OWNER_ALIAS)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// Links by name: every link named by a tunnel, and every link of ours.
    pub links: BTreeMap<String, ObservedLink>,
    /// IPv4 addresses of WAN interfaces by interface name, primary address
    /// first (the kernel's dump order: primaries precede secondaries). An
    /// interface that does not exist has no entry.
    pub wan_ipv4: BTreeMap<String, Vec<Ipv4Addr>>,
}

impl Observed {
    pub fn link(&self, name: &str) -> Option<&ObservedLink> {
        self.links.get(name)
    }
}
