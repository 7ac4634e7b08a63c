//! Semantic checks after parsing: ranges the RFCs set, references between
//! sections, and lints for combinations that parse but will not work.

use crate::diag::{Diagnostic, Locator, Severity};
use crate::schema::*;
use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;
use v6common::Ipv6Prefix;

/// An address range for a DHCPv6 pool. `relative` ranges (`::1000-::1fff`)
/// take their upper 64 bits from the interface's /64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolRange {
    pub first: Ipv6Addr,
    pub last: Ipv6Addr,
    pub relative: bool,
}

impl PoolRange {
    pub fn parse(s: &str) -> Result<PoolRange, String> {
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| format!("`{s}` is not a range FIRST-LAST"))?;
        let first: Ipv6Addr = a
            .trim()
            .parse()
            .map_err(|_| format!("`{}` is not an IPv6 address", a.trim()))?;
        let last: Ipv6Addr = b
            .trim()
            .parse()
            .map_err(|_| format!("`{}` is not an IPv6 address", b.trim()))?;
        if u128::from(first) > u128::from(last) {
            return Err(format!("the range starts after it ends ({first} > {last})"));
        }
        let hi = |x: Ipv6Addr| u128::from(x) >> 64;
        let relative = hi(first) == 0 && hi(last) == 0;
        if !relative && hi(first) != hi(last) {
            return Err("a pool must stay inside one /64".into());
        }
        Ok(PoolRange {
            first,
            last,
            relative,
        })
    }

    /// The absolute range on an interface whose /64 is `net`.
    pub fn on(&self, net: Ipv6Prefix) -> PoolRange {
        if !self.relative {
            return *self;
        }
        let base = u128::from(net.addr()) & (u128::MAX << 64);
        let low = |x: Ipv6Addr| u128::from(x) & u128::from(u64::MAX);
        PoolRange {
            first: Ipv6Addr::from(base | low(self.first)),
            last: Ipv6Addr::from(base | low(self.last)),
            relative: false,
        }
    }
}

/// Hex bytes, `:`/`-` separated or not (a DUID as ISC and WIDE write it).
pub fn parse_hex_bytes(s: &str) -> Result<Vec<u8>, String> {
    if s.contains([':', '-']) {
        // Separated groups of one or two digits each: 00:01:0a or 0:1:a.
        return s
            .split([':', '-'])
            .map(|g| match g.len() {
                1 | 2 => u8::from_str_radix(g, 16).map_err(|_| format!("`{s}` is not hex")),
                _ => Err(format!("`{s}`: each `:`-separated group is one byte")),
            })
            .collect();
    }
    let clean: String = s.chars().filter(|c| *c != ' ').collect();
    if clean.is_empty() || !clean.len().is_multiple_of(2) {
        return Err(format!("`{s}` is not an even number of hex digits"));
    }
    (0..clean.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&clean[i..i + 2], 16).map_err(|_| format!("`{s}` is not hex")))
        .collect()
}

pub fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let b = parse_hex_bytes(s)?;
    b.try_into()
        .map_err(|_| format!("`{s}` is not a MAC address (6 bytes)"))
}

fn is_domain(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
        })
}

struct V<'a> {
    file: &'a Path,
    loc: &'a Locator<'a>,
    out: Vec<Diagnostic>,
}

impl V<'_> {
    fn err(&mut self, path: &str, msg: impl Into<String>, help: Option<&str>) {
        let d = self.loc.diag(
            self.file,
            Severity::Error,
            path,
            msg.into(),
            help.map(String::from),
        );
        self.out.push(d);
    }
    fn warn(&mut self, path: &str, msg: impl Into<String>, help: Option<&str>) {
        let d = self.loc.diag(
            self.file,
            Severity::Warning,
            path,
            msg.into(),
            help.map(String::from),
        );
        self.out.push(d);
    }
}

const IFNAMSIZ: usize = 16;

pub fn validate(c: &Config, file: &Path, loc: &Locator<'_>) -> Vec<Diagnostic> {
    let mut v = V {
        file,
        loc,
        out: Vec::new(),
    };
    check_router(&mut v, c);
    let mut names = HashSet::new();
    for (i, ifc) in c.interfaces.iter().enumerate() {
        let p = format!("interface[{i}]");
        check_ifname(&mut v, &format!("{p}.name"), &ifc.name);
        if !names.insert(ifc.name.as_str()) {
            v.err(
                &format!("{p}.name"),
                format!("interface `{}` is configured twice", ifc.name),
                Some("merge the two [[interface]] tables"),
            );
        }
        check_interface(&mut v, c, &p, ifc);
    }
    if let Some(st) = &c.dhcpv6_state {
        check_dhcpv6_state(&mut v, c, st);
    }
    if let Some(r) = &c.ripng {
        check_ripng(&mut v, r);
    }
    let mut tnames = HashSet::new();
    for (i, t) in c.tunnels.iter().enumerate() {
        let p = format!("tunnel[{i}]");
        check_ifname(&mut v, &format!("{p}.name"), &t.name);
        if !tnames.insert(t.name.as_str()) || names.contains(t.name.as_str()) {
            v.err(
                &format!("{p}.name"),
                format!("the name `{}` is used twice", t.name),
                None,
            );
        }
        check_tunnel(&mut v, &p, t);
    }
    v.out
}

/// `[log]` and `[router]`.
fn check_router(v: &mut V<'_>, c: &Config) {
    if !matches!(
        c.log.level.as_str(),
        "error" | "warn" | "info" | "debug" | "trace"
    ) {
        v.err(
            "log.level",
            format!("unknown log level `{}`", c.log.level),
            Some("one of error, warn, info, debug, trace"),
        );
    }
    match c.router.ula.as_deref() {
        None | Some("auto") | Some("off") => {}
        Some(s) => match s.parse::<Ipv6Prefix>() {
            Ok(p) if p.len() == 48 && (p.addr().segments()[0] & 0xfe00) == 0xfc00 => {}
            _ => v.err(
                "router.ula",
                format!("`{s}` is not a ULA /48"),
                Some("\"auto\", \"off\" or e.g. \"fd12:3456:789a::/48\" (RFC 4193)"),
            ),
        },
    }
}

/// One `[[interface]]` past its name: each of its tables.
fn check_interface(v: &mut V<'_>, c: &Config, p: &str, ifc: &Interface) {
    if let Some(a) = &ifc.assign {
        check_assign(v, c, p, a);
    }
    if let Some(r) = &ifc.relay {
        check_relay(v, c, p, ifc, r);
    }
    if let Some(u) = &ifc.uplink {
        check_uplink(v, p, u);
    }
    if let Some(ra) = &ifc.ra {
        check_ra(v, &format!("{p}.ra"), ra);
    }
    if let Some(d) = &ifc.dhcpv6 {
        check_dhcpv6(v, c, &format!("{p}.dhcpv6"), d);
        check_ra_flags_for_dhcpv6(v, p, ifc, d);
    }
}

fn check_assign(v: &mut V<'_>, c: &Config, p: &str, a: &Assign) {
    match c.interface(&a.from) {
        Some(up) if up.uplink.is_some() => {}
        Some(_) => v.err(
            &format!("{p}.assign.from"),
            format!(
                "`{}` has no [interface.uplink] to delegate a prefix",
                a.from
            ),
            None,
        ),
        None => v.err(
            &format!("{p}.assign.from"),
            format!("no interface named `{}` is configured", a.from),
            None,
        ),
    }
    if !(1..=128).contains(&a.length) {
        v.err(
            &format!("{p}.assign.length"),
            "a prefix length is 1..=128",
            None,
        );
    } else if a.length != 64 {
        v.warn(
            &format!("{p}.assign.length"),
            format!(
                "a /{} on a LAN breaks SLAAC, which needs a /64 (RFC 4862 §5.5.3)",
                a.length
            ),
            None,
        );
    }
}

fn check_relay(v: &mut V<'_>, c: &Config, p: &str, ifc: &Interface, r: &Relay) {
    if r.from == ifc.name {
        v.err(
            &format!("{p}.relay.from"),
            "an interface cannot relay from itself",
            Some("name the uplink interface, e.g. relay = { from = \"wan0\" }"),
        );
    } else if c.interface(&r.from).is_none() {
        v.err(
            &format!("{p}.relay.from"),
            format!("no interface named `{}` is configured", r.from),
            Some("add an [[interface]] for the uplink"),
        );
    }
    if ifc.assign.is_some() && !r.fallback {
        v.err(
            &format!("{p}.relay"),
            "relay and a routed `assign` on the same interface conflict",
            Some(
                "relay = { from = \"…\", fallback = true } relays only while nothing is delegated",
            ),
        );
    }
}

fn check_uplink(v: &mut V<'_>, p: &str, u: &Uplink) {
    if !(60..=86400).contains(&u.solicit_max_rt) {
        v.err(
            &format!("{p}.uplink.solicit_max_rt"),
            "solicit_max_rt is 60..=86400 s (RFC 8415 §21.24)",
            None,
        );
    }
    if let Some(l) = u.prefix_length {
        if !(1..=64).contains(&l) {
            v.err(
                &format!("{p}.uplink.prefix_length"),
                "a delegated prefix hint is 1..=64",
                Some("ISPs delegate /48, /56 or /60"),
            );
        }
    }
}

/// The RA flags a DHCPv6 server needs on its link.
fn check_ra_flags_for_dhcpv6(v: &mut V<'_>, p: &str, ifc: &Interface, d: &Dhcpv6) {
    // RFC 4861 §4.2: hosts use DHCPv6 for addresses only when M is set.
    let serves_addrs = d.pool.is_some()
        || d.hosts
            .iter()
            .any(|h| h.address.is_some() || h.hostid.is_some());
    match &ifc.ra {
        Some(ra) if serves_addrs && !ra.managed => v.warn(
            &format!("{p}.ra"),
            format!(
                "DHCPv6 hands out addresses on `{}` but its RAs do not set the M flag",
                ifc.name
            ),
            Some("add `managed = true` to [interface.ra]: DHCPv6 clients only ask when M is set"),
        ),
        Some(ra)
            if !serves_addrs
                && !ra.managed
                && !ra.other_config
                && (!d.dns.is_empty() || !d.search.is_empty()) =>
        {
            v.warn(
                &format!("{p}.ra"),
                format!(
                    "DHCPv6 serves DNS on `{}` but its RAs set neither M nor O",
                    ifc.name
                ),
                Some("add `other_config = true` to [interface.ra]"),
            )
        }
        None if serves_addrs => v.warn(
            &format!("{p}.dhcpv6"),
            format!(
                "DHCPv6 serves `{}` but no RAs are sent there, so hosts will not ask",
                ifc.name
            ),
            Some("add an [interface.ra] table with `managed = true`"),
        ),
        _ => {}
    }
}

/// One `[[tunnel]]` past its name.
fn check_tunnel(v: &mut V<'_>, p: &str, t: &Tunnel) {
    if t.local == "auto" {
        if t.wan.is_none() {
            v.err(
                &format!("{p}.local"),
                "`local = \"auto\"` needs `wan`, the interface to take the IPv4 address from",
                Some("add `wan = \"eth0\"` or give the address"),
            );
        }
    } else if t.local.parse::<Ipv4Addr>().is_err() {
        v.err(
            &format!("{p}.local"),
            format!("`{}` is neither \"auto\" nor an IPv4 address", t.local),
            None,
        );
    }
    if !(1280..=1480).contains(&t.mtu) {
        v.err(
            &format!("{p}.mtu"),
            format!(
                "MTU {} is outside 1280..=1480 (IPv6 minimum; 1500 minus the 20-byte IPv4 header)",
                t.mtu
            ),
            None,
        );
    }
    // iproute2 (ip/link_iptnl.c) and the kernel refuse a fixed TTL without
    // path-MTU discovery: the DF bit must be set when the TTL is not inherited.
    if t.ttl != 0 && !t.pmtudisc {
        v.err(
            &format!("{p}.pmtudisc"),
            "a fixed ttl needs path-MTU discovery (`ip tunnel` refuses ttl with nopmtudisc)",
            Some("keep pmtudisc = true, or set ttl = 0 (inherit) to turn it off"),
        );
    }
    if let Some(a) = &t.address {
        if a.parse::<Ipv6Prefix>().is_err() {
            v.err(
                &format!("{p}.address"),
                format!("`{a}` is not ADDRESS/LENGTH"),
                Some("e.g. \"2001:db8:f::2/64\" as the broker gives it"),
            );
        }
    }
}

fn check_ifname(v: &mut V<'_>, path: &str, name: &str) {
    if name.is_empty() || name.len() >= IFNAMSIZ || name.contains(['/', ' ']) {
        v.err(
            path,
            format!("`{name}` is not a Linux interface name (1..=15 characters, no `/` or space)"),
            None,
        );
    }
}

fn check_ra(v: &mut V<'_>, p: &str, ra: &Ra) {
    // RFC 4861 §6.2.1 ranges.
    if !(4..=1800).contains(&ra.max_interval) {
        v.err(
            &format!("{p}.max_interval"),
            format!(
                "{} is outside 4..=1800 s (RFC 4861 §6.2.1)",
                ra.max_interval
            ),
            None,
        );
    }
    if let Some(min) = ra.min_interval {
        let top = (ra.max_interval * 3) / 4;
        if min < 3 || min > top {
            v.err(
                &format!("{p}.min_interval"),
                format!("{min} is outside 3..={top} s (0.75 × max_interval, RFC 4861 §6.2.1)"),
                None,
            );
        }
    }
    if let Some(lt) = ra.router_lifetime {
        if lt != 0 && !(ra.max_interval..=9000).contains(&lt) {
            v.err(
                &format!("{p}.router_lifetime"),
                format!("{lt} must be 0 or between max_interval and 9000 s (RFC 4861 §6.2.1)"),
                None,
            );
        }
    }
    if let Some(mtu) = ra.mtu {
        if mtu != 0 && mtu < 1280 {
            v.err(
                &format!("{p}.mtu"),
                format!("MTU {mtu} is below the IPv6 minimum of 1280 (RFC 8200 §5)"),
                None,
            );
        }
    }
    if ra.reachable_time > 3_600_000 {
        v.err(
            &format!("{p}.reachable_time"),
            "reachable_time is at most 3600000 ms (RFC 4861 §6.2.1)",
            None,
        );
    }
    check_dns_and_search(v, p, &ra.dns, &ra.search);
    if let Some(u) = &ra.captive_portal {
        if !u.starts_with("https://") && !u.starts_with("http://") {
            v.err(
                &format!("{p}.captive_portal"),
                "the captive portal API is a URI (RFC 8910 §2)",
                None,
            );
        }
    }
    if let Some(p64) = ra.pref64 {
        if ![32, 40, 48, 56, 64, 96].contains(&p64.len()) {
            v.err(
                &format!("{p}.pref64"),
                "PREF64 lengths are 32, 40, 48, 56, 64 or 96 (RFC 8781 §4)",
                None,
            );
        }
    }
    for (j, pf) in ra.prefixes.iter().enumerate() {
        check_ra_prefix(v, &format!("{p}.prefix[{j}]"), pf);
    }
}

/// `dns` (addresses, "uplink" or "self") and `search` (domains), the same
/// in `[interface.ra]` and `[interface.dhcpv6]`.
fn check_dns_and_search(v: &mut V<'_>, p: &str, dns: &[String], search: &[String]) {
    for (j, d) in dns.iter().enumerate() {
        if !is_dns_entry(d) {
            v.err(
                &format!("{p}.dns"),
                format!("dns[{j}] `{d}` is not an IPv6 address, \"uplink\" or \"self\""),
                None,
            );
        }
    }
    for s in search {
        if !is_domain(s) {
            v.err(
                &format!("{p}.search"),
                format!("`{s}` is not a domain name"),
                None,
            );
        }
    }
}

/// One `[[interface.ra.prefix]]`.
fn check_ra_prefix(v: &mut V<'_>, q: &str, pf: &RaPrefix) {
    if pf.preferred_lifetime > pf.valid_lifetime {
        v.err(
            &format!("{q}.preferred_lifetime"),
            "the preferred lifetime exceeds the valid lifetime (RFC 4861 §4.6.2)",
            None,
        );
    }
    if pf.prefix.is_link_local() {
        v.err(
            &format!("{q}.prefix"),
            "a link-local prefix is never advertised (RFC 4861 §6.2.1)",
            None,
        );
    }
    if pf.autonomous && pf.prefix.len() != 64 {
        v.warn(
            &format!("{q}.prefix"),
            format!(
                "SLAAC ignores /{} prefixes; hosts need a /64 (RFC 4862 §5.5.3)",
                pf.prefix.len()
            ),
            None,
        );
    }
}

fn check_dhcpv6_state(v: &mut V<'_>, c: &Config, st: &Dhcpv6State) {
    // Renamed into place from a temporary beside it: a file in a directory.
    if !st.lease_file.is_absolute() || st.lease_file.file_name().is_none() {
        v.err(
            "dhcpv6_state.lease_file",
            format!("`{}` is not an absolute file path", st.lease_file.display()),
            Some("e.g. \"/tmp/hosts/odhcpd\", where OpenWrt's dnsmasq reads hosts files"),
        );
    }
    if st
        .lease_trigger
        .as_deref()
        .is_some_and(|t| t.trim().is_empty())
    {
        v.err(
            "dhcpv6_state.lease_trigger",
            "the trigger command is empty",
            None,
        );
    }
    if !c.interfaces.iter().any(|i| i.dhcpv6.is_some()) {
        v.warn(
            "dhcpv6_state",
            "no [interface.dhcpv6] is configured, so the lease file stays empty",
            None,
        );
    }
}

fn check_dhcpv6(v: &mut V<'_>, c: &Config, p: &str, d: &Dhcpv6) {
    if let Some(pool) = &d.pool {
        if let Err(e) = PoolRange::parse(pool) {
            v.err(&format!("{p}.pool"), e, Some("e.g. \"2001:db8:1::1000-2001:db8:1::1fff\" or \"::1000-::1fff\" (relative to the interface's /64)"));
        }
    }
    if let Some(pd) = &d.pd_pool {
        check_pd_pool(v, c, p, pd);
    }
    if d.preferred_lifetime > d.valid_lifetime {
        v.err(
            &format!("{p}.preferred_lifetime"),
            "the preferred lifetime exceeds the valid lifetime (RFC 8415 §21.6)",
            None,
        );
    }
    let t1 = d.renew_time.unwrap_or(d.preferred_lifetime / 2);
    let t2 = d.rebind_time.unwrap_or(d.preferred_lifetime * 4 / 5);
    if t1 > t2 {
        v.err(
            &format!("{p}.renew_time"),
            format!("renew_time ({t1}) is after rebind_time ({t2}) (RFC 8415 §21.4)"),
            None,
        );
    }
    check_dns_and_search(v, p, &d.dns, &d.search);
    check_dhcpv6_timing_and_ntp(v, p, d);
    for (j, h) in d.hosts.iter().enumerate() {
        check_host(v, &format!("{p}.host[{j}]"), h);
    }
}

fn check_pd_pool(v: &mut V<'_>, c: &Config, p: &str, pd: &PdPool) {
    match (&pd.prefix, &pd.from) {
        (Some(_), Some(_)) | (None, None) => v.err(
            &format!("{p}.pd_pool"),
            "give exactly one of `prefix` and `from`",
            None,
        ),
        (Some(pf), None) if pd.delegated_length < pf.len() || pd.delegated_length > 64 => v.err(
            &format!("{p}.pd_pool.delegated_length"),
            format!(
                "delegated_length must be between the pool's /{} and 64",
                pf.len()
            ),
            None,
        ),
        (None, Some(f)) if c.interface(f).is_none_or(|i| i.uplink.is_none()) => v.err(
            &format!("{p}.pd_pool.from"),
            format!("`{f}` is not an interface with [interface.uplink]"),
            None,
        ),
        _ => {}
    }
}

/// One `[[interface.dhcpv6.host]]` reservation.
fn check_host(v: &mut V<'_>, q: &str, h: &Host) {
    if h.duid.is_none() && h.mac.is_none() {
        v.err(q, "a host needs `duid` or `mac` to be recognised", None);
    }
    if let Some(x) = &h.duid {
        if let Err(e) = parse_hex_bytes(x) {
            v.err(
                &format!("{q}.duid"),
                e,
                Some("e.g. \"00:01:00:01:11:f9:4b:5a:08:00:27:c5:40:c7\""),
            );
        }
    }
    if let Some(m) = &h.mac {
        if let Err(e) = parse_mac(m) {
            v.err(&format!("{q}.mac"), e, None);
        }
    }
    if h.address.is_none() && h.hostid.is_none() && h.prefix.is_none() && h.name.is_none() {
        v.err(
            q,
            "a host needs `address`, `hostid`, `prefix` or at least a `name`",
            None,
        );
    }
    if h.address.is_some() && h.hostid.is_some() {
        v.err(
            &format!("{q}.hostid"),
            "give `address` (one fixed address) or `hostid` (the same interface identifier in each served /64), not both",
            None,
        );
    }
    if let Some(id) = h.hostid {
        check_hostid(v, &format!("{q}.hostid"), id);
    }
    if let Some(n) = &h.name {
        // A warning: before names went with leases, any text was fine.
        if !v6common::hostname::is_host_label(n) {
            v.warn(
                &format!("{q}.name"),
                format!(
                    "`{n}` is not a host name (letters, digits and inner hyphens, at most 63), so leases are not named by it"
                ),
                Some("e.g. name = \"laptop\""),
            );
        }
    }
    if h.iaid.is_some() && h.duid.is_none() {
        v.err(
            &format!("{q}.iaid"),
            "`iaid` only narrows a `duid` binding",
            None,
        );
    }
}

/// An interface identifier: the lower 64 bits of an address (RFC 4291
/// §2.5.1), not zero (that would be the subnet-router anycast address).
fn check_hostid(v: &mut V<'_>, path: &str, id: Ipv6Addr) {
    let bits = u128::from(id);
    if bits >> 64 != 0 || bits == 0 {
        v.err(
            path,
            format!("`{id}` is not an interface identifier (non-zero, within the lower 64 bits)"),
            Some("e.g. hostid = \"::10\""),
        );
    }
}

/// SOL_MAX_RT and INF_MAX_RT are 60..=86400 s (RFC 8415 §21.24, §21.25:
/// clients ignore other values); an NTP server (RFC 5908 §4) is an address
/// or a name.
fn check_dhcpv6_timing_and_ntp(v: &mut V<'_>, p: &str, d: &Dhcpv6) {
    for (key, val, rfc) in [
        ("sol_max_rt", d.sol_max_rt, "§21.24"),
        ("inf_max_rt", d.inf_max_rt, "§21.25"),
    ] {
        if val.is_some_and(|x| !(60..=86400).contains(&x)) {
            v.err(
                &format!("{p}.{key}"),
                format!("{key} is 60..=86400 s (RFC 8415 {rfc}); clients ignore other values"),
                None,
            );
        }
    }
    for (j, n) in d.ntp.iter().enumerate() {
        if n.parse::<Ipv6Addr>().is_err() && !is_domain(n) {
            v.err(
                &format!("{p}.ntp"),
                format!("ntp[{j}] `{n}` is neither an IPv6 address nor a domain name"),
                None,
            );
        }
    }
}

fn check_ripng(v: &mut V<'_>, r: &Ripng) {
    if r.interfaces.is_empty() && r.interface_settings.is_empty() {
        v.err(
            "ripng.interfaces",
            "RIPng runs on no interface",
            Some("e.g. interfaces = [\"eth1\"]"),
        );
    }
    // RFC 2080 §2.4.2: metrics on the wire are 1..=16.
    if !(2..=16).contains(&r.infinity) {
        v.err(
            "ripng.infinity",
            "infinity is 2..=16 (RIPng metrics stop at 16, RFC 2080 §2.4.2)",
            Some("RFC 2080 uses 16"),
        );
    }
    if r.metric == 0 || r.metric >= r.infinity {
        v.err(
            "ripng.metric",
            format!("the metric is 1..{} (below infinity)", r.infinity),
            None,
        );
    }
    for (i, ri) in r.interface_settings.iter().enumerate() {
        if ri.name.is_empty() {
            v.err(
                &format!("ripng.interface[{i}].name"),
                "an interface name or pattern is needed",
                None,
            );
        }
        if ri.metric.is_some_and(|m| m == 0 || m >= r.infinity) {
            v.err(
                &format!("ripng.interface[{i}].metric"),
                format!("the metric is 1..{} (below infinity)", r.infinity),
                None,
            );
        }
    }
    if r.tx_burst == 0 {
        v.err("ripng.tx_burst", "at least one datagram per burst", None);
    }
    if r.tx_gap_us > 1_000_000 {
        v.err(
            "ripng.tx_gap_us",
            "at most 1 s between datagrams (a 50,000-route table is 700 datagrams)",
            None,
        );
    }
    if r.update_time == 0 {
        v.err(
            "ripng.update_time",
            "update_time must be at least 1 s",
            None,
        );
    }
    if r.timeout_time <= r.update_time {
        v.err("ripng.timeout_time", "timeout_time must exceed update_time, or routes time out between updates (RFC 2080 §2.3: 180 vs 30)", None);
    }
}

/// A `dns` list entry: an address, `"uplink"` (the ISP's servers) or
/// `"self"` (the router's own address on that LAN).
fn is_dns_entry(d: &str) -> bool {
    matches!(d, "uplink" | "self") || d.parse::<Ipv6Addr>().is_ok()
}

#[cfg(test)]
mod tests;
