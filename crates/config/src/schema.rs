//! The TOML schema of /etc/v6router.toml. One table per interface, one part per
//! protocol inside it; a section that is absent is off. Durations are seconds.
//!
//! Every struct denies unknown fields so that a misspelt key is an error with a
//! suggestion, never a silently ignored setting.

use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use v6common::Ipv6Prefix;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub router: Router,
    #[serde(default)]
    pub control: Control,
    #[serde(default)]
    pub log: Log,
    #[serde(default, rename = "interface")]
    pub interfaces: Vec<Interface>,
    pub dhcpv6_state: Option<Dhcpv6State>,
    pub ripng: Option<Ripng>,
    #[serde(default, rename = "tunnel")]
    pub tunnels: Vec<Tunnel>,
    pub metrics: Option<Metrics>,
}

impl Config {
    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }
    /// True when the daemon routes packets (anything but watching the kernel).
    pub fn routes_packets(&self) -> bool {
        self.interfaces
            .iter()
            .any(|i| i.ra.is_some() || i.dhcpv6.is_some() || i.assign.is_some())
            || self.ripng.is_some()
            || !self.tunnels.is_empty()
    }
}

fn default_state_dir() -> PathBuf {
    PathBuf::from("/var/lib/v6router")
}
fn default_socket() -> PathBuf {
    PathBuf::from("/run/v6router/v6routerd.sock")
}
fn yes() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Router {
    /// Leases, the server DUID, prefix history.
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    /// "auto" (a stable fd00::/48 made once, RFC 4193), "off", or a ULA /48.
    #[serde(default)]
    pub ula: Option<String>,
    /// Turn net.ipv6.conf.all.forwarding on when routing is configured.
    #[serde(default = "yes")]
    pub forwarding: bool,
    /// Run as this user once started, keeping only CAP_NET_ADMIN, CAP_NET_RAW
    /// and CAP_NET_BIND_SERVICE; none = stay uid 0 with only those three.
    #[serde(default)]
    pub user: Option<String>,
}

impl Default for Router {
    fn default() -> Self {
        Router {
            state_dir: default_state_dir(),
            ula: None,
            forwarding: true,
            user: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    #[serde(default = "default_socket")]
    pub socket: PathBuf,
    /// Group allowed to use the socket (mode becomes 0660); none = root only (0600).
    #[serde(default)]
    pub group: Option<String>,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            socket: default_socket(),
            group: None,
        }
    }
}

/// `[metrics]`: `show metrics` over HTTP for Prometheus (`GET /metrics`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// Address and port to listen on; loopback unless you mean otherwise.
    #[serde(default = "default_metrics_listen")]
    pub listen: std::net::SocketAddr,
}

fn default_metrics_listen() -> std::net::SocketAddr {
    std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 9430))
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    /// error, warn, info, debug or trace.
    #[serde(default = "default_level")]
    pub level: String,
}

fn default_level() -> String {
    "info".into()
}

impl Default for Log {
    fn default() -> Self {
        Log {
            level: default_level(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    pub name: String,
    /// Give this interface a subnet of a prefix delegated on another interface.
    pub assign: Option<Assign>,
    /// DHCPv6-PD client towards the ISP on this interface.
    pub uplink: Option<Uplink>,
    pub ra: Option<Ra>,
    pub dhcpv6: Option<Dhcpv6>,
    /// Relay mode for an uplink that gives one /64 and delegates nothing
    /// (RFC 7278, odhcpd's `ra relay`, `ndp relay`, `dhcpv6 relay`): the
    /// `from` interface's RAs are re-advertised here, its hosts proxied
    /// and its DHCPv6 servers reached through our relay agent.
    pub relay: Option<Relay>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relay {
    /// The uplink interface whose RAs are relayed to this one.
    pub from: String,
    /// Relay only while this interface has no address from `assign`
    /// (routed mode while a prefix is delegated).
    #[serde(default)]
    pub fallback: bool,
    /// Where the DHCPv6 relay agent sends Relay-forwards (RFC 8415
    /// §19.1.1); empty: All_DHCP_Relay_Agents_and_Servers on `from`.
    #[serde(default)]
    pub dhcpv6_servers: Vec<std::net::Ipv6Addr>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    /// The interface whose delegated prefix is carved.
    pub from: String,
    #[serde(default = "default_assign_len")]
    pub length: u8,
    /// Subnet index inside the delegated prefix, or "auto".
    #[serde(default)]
    pub subnet: Subnet,
}

fn default_assign_len() -> u8 {
    64
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Subnet {
    Index(u32),
    #[default]
    #[serde(with = "auto_str")]
    Auto,
}

mod auto_str {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("auto")
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
        let s = String::deserialize(d)?;
        if s == "auto" {
            Ok(())
        } else {
            Err(serde::de::Error::custom(format!(
                "expected a number or \"auto\", found \"{s}\""
            )))
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uplink {
    /// Prefix length hint sent to the ISP (IA_PD).
    pub prefix_length: Option<u8>,
    /// Also ask for an address for the WAN itself (IA_NA).
    #[serde(default)]
    pub request_address: bool,
    /// Send a Release on an ordinary stop (off: a restart keeps the prefix).
    #[serde(default)]
    pub release_on_stop: bool,
    /// Upper bound of the Solicit back-off, seconds (SOL_MAX_RT, RFC 8415 §7.6).
    #[serde(default = "default_sol_max_rt")]
    pub solicit_max_rt: u32,
    /// Offer Reconfigure Accept and renew at once on a Reconfigure
    /// authenticated with the server's Reconfigure Key (RFC 8415 §18.2.11,
    /// §20.4), so the ISP's renumbering reaches us in seconds, not at T1.
    #[serde(default = "yes")]
    pub reconfigure: bool,
}

fn default_sol_max_rt() -> u32 {
    3600
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preference {
    Low,
    #[default]
    Medium,
    High,
}

/// Router Advertisements on this interface (radvd's `interface X { ... }`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ra {
    /// AdvManagedFlag: addresses via DHCPv6 (clients only ask when set).
    #[serde(default)]
    pub managed: bool,
    /// AdvOtherConfigFlag: other configuration (DNS) via DHCPv6.
    #[serde(default)]
    pub other_config: bool,
    /// AdvLinkMTU (0 or absent: no MTU option).
    pub mtu: Option<u32>,
    /// MaxRtrAdvInterval, 4..=1800 (RFC 4861 §6.2.1).
    #[serde(default = "default_max_interval")]
    pub max_interval: u32,
    /// MinRtrAdvInterval, 3..=0.75*max; default 0.33*max (radvd).
    pub min_interval: Option<u32>,
    /// AdvDefaultLifetime; 0 = not a default router; default 3*max.
    pub router_lifetime: Option<u32>,
    /// RFC 7084 G-4/G-5 (and ULA-5, §4.3): router lifetime 0 while this
    /// router has no default route of its own (odhcpd's behaviour). On by
    /// default; `false` is radvd's fixed AdvDefaultLifetime.
    #[serde(default = "yes")]
    pub require_default_route: bool,
    /// RFC 7084 L-3 (RFC 4191 §2.3): a Route Information option for the
    /// ULA /48 and each delegated prefix, so hosts reach every LAN of the
    /// home even while this router is not their default router.
    #[serde(default = "yes")]
    pub home_routes: bool,
    /// AdvDefaultPreference (RFC 4191).
    #[serde(default)]
    pub router_preference: Preference,
    /// AdvCurHopLimit.
    #[serde(default = "default_hop_limit")]
    pub hop_limit: u8,
    /// AdvReachableTime, milliseconds (0 = unspecified).
    #[serde(default)]
    pub reachable_time: u32,
    /// AdvRetransTimer, milliseconds (0 = unspecified).
    #[serde(default)]
    pub retrans_timer: u32,
    /// AdvSourceLLAddress.
    #[serde(default = "yes")]
    pub source_lladdr: bool,
    /// AdvRASolicitedUnicast: answer an RS with a source link-layer option by unicast.
    #[serde(default = "yes")]
    pub unicast_solicited: bool,
    /// radvd DecrementLifetimes.
    #[serde(default)]
    pub decrement_lifetimes: bool,
    /// RDNSS (RFC 8106). "uplink" = what the ISP gave; "self" = the
    /// router's own address on this LAN (its ULA when it has one).
    #[serde(default)]
    pub dns: Vec<String>,
    /// DNSSL (RFC 8106).
    #[serde(default)]
    pub search: Vec<String>,
    /// RDNSS/DNSSL lifetime; default 3*max (radvd).
    pub dns_lifetime: Option<u32>,
    /// PREF64 (RFC 8781) NAT64 prefix.
    pub pref64: Option<Ipv6Prefix>,
    /// Captive portal URI (RFC 8910).
    pub captive_portal: Option<String>,
    #[serde(default, rename = "prefix")]
    pub prefixes: Vec<RaPrefix>,
    #[serde(default, rename = "route")]
    pub routes: Vec<RaRoute>,
}

fn default_max_interval() -> u32 {
    600
}
fn default_hop_limit() -> u8 {
    64
}

/// radvd's defaults; equal to an empty `[interface.ra]` table (a unit test checks).
impl Default for Ra {
    fn default() -> Self {
        Ra {
            managed: false,
            other_config: false,
            mtu: None,
            max_interval: default_max_interval(),
            min_interval: None,
            router_lifetime: None,
            require_default_route: true,
            home_routes: true,
            router_preference: Preference::Medium,
            hop_limit: default_hop_limit(),
            reachable_time: 0,
            retrans_timer: 0,
            source_lladdr: true,
            unicast_solicited: true,
            decrement_lifetimes: false,
            dns: vec![],
            search: vec![],
            dns_lifetime: None,
            pref64: None,
            captive_portal: None,
            prefixes: vec![],
            routes: vec![],
        }
    }
}

/// radvd's `prefix X/64 { ... }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaPrefix {
    /// A prefix, or `::/64` for whatever /64s the interface has.
    pub prefix: Ipv6Prefix,
    /// AdvOnLink.
    #[serde(default = "yes")]
    pub on_link: bool,
    /// AdvAutonomous.
    #[serde(default = "yes")]
    pub autonomous: bool,
    /// AdvValidLifetime.
    #[serde(default = "default_valid")]
    pub valid_lifetime: u32,
    /// AdvPreferredLifetime.
    #[serde(default = "default_preferred")]
    pub preferred_lifetime: u32,
}

/// RFC 9096 §3: ND_VALID_LIMIT, the recommended PIO Valid Lifetime
/// (radvd's AdvValidLifetime default is 86400).
fn default_valid() -> u32 {
    5400
}
/// RFC 9096 §3: ND_PREFERRED_LIMIT, the recommended PIO Preferred Lifetime
/// (radvd's AdvPreferredLifetime default is 14400).
fn default_preferred() -> u32 {
    2700
}

/// Route Information option (RFC 4191), radvd's `route X { ... }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaRoute {
    pub prefix: Ipv6Prefix,
    #[serde(default)]
    pub preference: Preference,
    /// AdvRouteLifetime; default 3*max.
    pub lifetime: Option<u32>,
}

/// DHCPv6 server on this interface.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dhcpv6 {
    /// Address range "FIRST-LAST"; with `::1000-::1fff` relative to the interface /64.
    pub pool: Option<String>,
    /// Prefix delegation pool.
    pub pd_pool: Option<PdPool>,
    /// DNS servers (option 23); "uplink" = what the ISP gave; "self" =
    /// the router's own address on this LAN (its ULA when it has one).
    #[serde(default)]
    pub dns: Vec<String>,
    /// Domain search list (option 24).
    #[serde(default)]
    pub search: Vec<String>,
    #[serde(default = "default_dhcp_preferred")]
    pub preferred_lifetime: u32,
    #[serde(default = "default_dhcp_valid")]
    pub valid_lifetime: u32,
    /// T1; default 0.5 * preferred (RFC 8415 §21.4).
    pub renew_time: Option<u32>,
    /// T2; default 0.8 * preferred.
    pub rebind_time: Option<u32>,
    /// Answer a Solicit carrying Rapid Commit with a Reply (RFC 8415 §18.3.1).
    #[serde(default)]
    pub rapid_commit: bool,
    /// Give clients that send Reconfigure Accept a Reconfigure Key, and
    /// send them a Reconfigure (Renew) when the prefixes served here change,
    /// so they renumber in seconds rather than at T1 (RFC 8415 §18.3.11,
    /// §20.4).
    #[serde(default = "yes")]
    pub reconfigure: bool,
    /// Preference option value (0-255).
    #[serde(default)]
    pub preference: u8,
    /// Most addresses one client (DUID) may hold.
    #[serde(default = "default_max_leases")]
    pub max_leases_per_client: u32,
    /// Most prefixes one client (DUID) may hold.
    #[serde(default = "default_max_prefixes")]
    pub max_prefixes_per_client: u32,
    /// Solicits this interface answers per second (each costs an
    /// allocation and an Advertise); past it, a device that has sent few
    /// is still answered, the rest are dropped (counted as
    /// `solicit-budget`), so a flood cannot delay Requests and Renews.
    #[serde(default = "default_max_solicits")]
    pub max_solicits_per_second: u32,
    /// Server Unicast option (RFC 8415 §21.12): one of our addresses on this
    /// interface that clients may send Request, Renew, Release and Decline
    /// to; without it such unicasts get UseMulticast (§18.4).
    pub unicast: Option<Ipv6Addr>,
    /// Information Refresh Time (RFC 8415 §21.23), seconds, in replies to
    /// Information-request. Absent: not sent (as Kea and ISC dhcpd), and
    /// clients use IRT_DEFAULT, 86400 s; below IRT_MINIMUM (600) clients
    /// use 600.
    pub information_refresh_time: Option<u32>,
    /// SOL_MAX_RT option (RFC 8415 §21.24), seconds, 60..=86400: the
    /// longest a client waits between Solicits. Absent: not sent.
    pub sol_max_rt: Option<u32>,
    /// INF_MAX_RT option (RFC 8415 §21.25), seconds, 60..=86400: the
    /// longest a client waits between Information-requests. Absent: not sent.
    pub inf_max_rt: Option<u32>,
    /// NTP servers (option 56, RFC 5908): unicast or multicast addresses,
    /// or names.
    #[serde(default)]
    pub ntp: Vec<String>,
    #[serde(default, rename = "host")]
    pub hosts: Vec<Host>,
    /// Remote links whose DHCPv6 relay agents (RFC 8415 §19) send their
    /// Relay-forward messages to us over this interface.
    #[serde(default, rename = "relayed")]
    pub relayed: Vec<Dhcpv6Relayed>,
}

/// A remote link served through relay agents (ISC dhcpd's `subnet6` that is
/// not on a local interface, Kea's relayed `subnet6`). Lifetimes, DNS
/// servers, search list and hosts come from the enclosing section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dhcpv6Relayed {
    /// The remote link's prefix: a relay's link-address inside it selects
    /// this link (RFC 8415 §13.1).
    pub link: Ipv6Prefix,
    /// Name in `show leases` and in the journal; default the prefix.
    pub name: Option<String>,
    /// The Interface-ID (option 18) the relay puts in for this link, for
    /// relays that leave link-address unspecified (RFC 6221 LDRA).
    pub interface_id: Option<String>,
    /// Address range "FIRST-LAST" (absolute).
    pub pool: Option<String>,
    /// Prefix delegation pool (a fixed `prefix` only).
    pub pd_pool: Option<PdPool>,
}

fn default_dhcp_preferred() -> u32 {
    3600
}
fn default_dhcp_valid() -> u32 {
    7200
}
fn default_max_leases() -> u32 {
    8
}
fn default_max_prefixes() -> u32 {
    4
}
fn default_max_solicits() -> u32 {
    2000
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PdPool {
    /// A fixed prefix to delegate from ...
    pub prefix: Option<Ipv6Prefix>,
    /// ... or the unused part of the prefix delegated on this uplink interface.
    pub from: Option<String>,
    pub delegated_length: u8,
}

/// A static binding (ISC `host { fixed-address6 }`, WIDE `host { duid }`,
/// odhcpd `config host`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// The client's host name, recorded with its leases (`show leases`)
    /// and answered in the Client FQDN option (RFC 4704). A host with only
    /// a name is served from the pool under that name.
    pub name: Option<String>,
    /// Client DUID as hex bytes, `:`-separated or not.
    pub duid: Option<String>,
    /// Only this IAID of that DUID.
    pub iaid: Option<u32>,
    /// MAC address, matched against DUID-LL / DUID-LLT, else a relay's
    /// Client Link-Layer Address option (RFC 6939), else the neighbour cache.
    pub mac: Option<String>,
    pub address: Option<Ipv6Addr>,
    /// An interface identifier (odhcpd's `hostid`), e.g. "::10": the
    /// client gets it in each /64 the interface serves, and keeps it
    /// when the prefix is renumbered.
    pub hostid: Option<Ipv6Addr>,
    pub prefix: Option<Ipv6Prefix>,
    pub preferred_lifetime: Option<u32>,
    pub valid_lifetime: Option<u32>,
}

/// The DHCPv6 leases as odhcpd publishes them (`dhcp.odhcpd.leasefile`,
/// `leasetrigger`): LuCI's lease table and dnsmasq's local names read them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dhcpv6State {
    /// odhcpd's lease file: a `#` line per binding and a hosts line per
    /// named address, rewritten (renamed into place) within 1 s of a change.
    pub lease_file: PathBuf,
    /// Run with `/bin/sh -c` after the named addresses in the file changed
    /// (odhcpd's rule); never two at once, killed after 10 s.
    pub lease_trigger: Option<String>,
}

/// RIPng (RFC 2080), BIRD's `protocol rip`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ripng {
    /// Interfaces to run on; a trailing `*` matches a prefix of the name.
    #[serde(default)]
    pub interfaces: Vec<String>,
    /// Interfaces with settings of their own (BIRD's `interface "eth1" {
    /// metric 2; }`); RIPng runs on these too. The first entry whose name
    /// matches wins over `interfaces`.
    #[serde(default, rename = "interface")]
    pub interface_settings: Vec<RipInterface>,
    /// Metric added when a route is received on an interface (BIRD `metric`).
    #[serde(default = "one")]
    pub metric: u8,
    /// BIRD `infinity`.
    #[serde(default = "default_infinity")]
    pub infinity: u8,
    /// Regular update interval (RFC 2080 §2.4.2).
    #[serde(default = "default_update")]
    pub update_time: u32,
    /// Route timeout.
    #[serde(default = "default_timeout")]
    pub timeout_time: u32,
    /// Garbage-collection time.
    #[serde(default = "default_garbage")]
    pub garbage_time: u32,
    #[serde(default = "yes")]
    pub split_horizon: bool,
    #[serde(default = "yes")]
    pub poison_reverse: bool,
    /// Most routes accepted from neighbours.
    #[serde(default = "default_route_limit")]
    pub route_limit: u32,
    /// Pacing of our datagrams: at most `tx_burst` back to back, then one
    /// every `tx_gap_us` microseconds, so that a neighbour with a default
    /// socket buffer (BIRD: 208 KiB) takes a large table whole.
    #[serde(default = "default_tx_gap_us")]
    pub tx_gap_us: u32,
    #[serde(default = "default_tx_burst")]
    pub tx_burst: u32,
    #[serde(default)]
    pub export: RipExport,
    #[serde(default)]
    pub import: RipImport,
}

/// One `[[ripng.interface]]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RipInterface {
    /// Interface name; a trailing `*` matches a prefix of the name.
    pub name: String,
    /// Added to routes received here; default the section's `metric`.
    pub metric: Option<u8>,
}

fn default_tx_gap_us() -> u32 {
    5000
}
fn default_tx_burst() -> u32 {
    8
}

fn one() -> u8 {
    1
}
fn default_infinity() -> u8 {
    16
}
fn default_update() -> u32 {
    30
}
fn default_timeout() -> u32 {
    180
}
fn default_garbage() -> u32 {
    120
}
fn default_route_limit() -> u32 {
    100_000
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RipExport {
    /// Prefixes of the RIPng interfaces and of `connected_interfaces`.
    #[serde(default)]
    pub connected: bool,
    /// Extra interfaces whose connected prefixes are exported.
    #[serde(default)]
    pub connected_interfaces: Vec<String>,
    /// Kernel routes (static, boot, delegated), as BIRD's `learn`.
    #[serde(default)]
    pub kernel: bool,
    /// Export a default route when we have one.
    #[serde(default)]
    pub default_route: bool,
    /// Only prefixes inside one of these (empty: all).
    #[serde(default)]
    pub filter: Vec<Ipv6Prefix>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RipImport {
    /// Only prefixes inside one of these (empty: all).
    #[serde(default)]
    pub filter: Vec<Ipv6Prefix>,
    /// Accept a default route from neighbours.
    #[serde(default = "yes")]
    pub default_route: bool,
}

/// A 6in4 (SIT) tunnel: `ip tunnel add NAME mode sit remote R local L ttl 255`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tunnel {
    pub name: String,
    pub remote: Ipv4Addr,
    /// An IPv4 address, or "auto" (taken from `wan` and followed).
    #[serde(default = "auto")]
    pub local: String,
    /// Where "auto" takes the local IPv4 address from.
    pub wan: Option<String>,
    #[serde(default = "default_ttl")]
    pub ttl: u8,
    #[serde(default = "default_tunnel_mtu")]
    pub mtu: u32,
    /// Path-MTU discovery on the tunnel (`ip tunnel ... pmtudisc`).
    #[serde(default = "yes")]
    pub pmtudisc: bool,
    /// Our IPv6 address on the tunnel, ADDRESS/LENGTH.
    pub address: Option<String>,
    /// Route ::/0 over the tunnel.
    #[serde(default)]
    pub default_route: bool,
    /// More prefixes routed over the tunnel.
    #[serde(default)]
    pub routes: Vec<Ipv6Prefix>,
    /// Leave the tunnel in place when v6routerd stops.
    #[serde(default)]
    pub keep_on_stop: bool,
    /// Run (with /bin/sh -c) when the tunnel's local address is new to the
    /// broker: at start and whenever it changes.
    pub update_command: Option<String>,
}

fn auto() -> String {
    "auto".into()
}
fn default_ttl() -> u8 {
    255
}
fn default_tunnel_mtu() -> u32 {
    1480
}
