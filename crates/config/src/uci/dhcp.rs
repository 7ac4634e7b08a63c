//! `/etc/config/dhcp`, odhcpd's part: `config dhcp` per interface (RA,
//! DHCPv6), `config host` reservations, `config odhcpd`, and dnsmasq's
//! `domain` as the default search domain. Option names, defaults and
//! meanings are odhcpd's (README.md and src/config.c of openwrt/odhcpd).

use super::emit::{arr, entry, s, Entry};
use super::network::{Facts, Lan};
use super::parse::{Package, Section};
use super::{boolean, duration, origin, report_rest, Ctx, Rest};
use std::net::Ipv6Addr;
use v6common::Ipv6Prefix;

/// RFC 9096 §4 (ND_PREFERRED_LIMIT, ND_VALID_LIMIT), which odhcpd 25.12
/// applies as `max_preferred_lifetime 45m` and `max_valid_lifetime 90m`.
const PREFERRED_LIMIT: u32 = 2700;
const VALID_LIMIT: u32 = 5400;
/// odhcpd's `leasetime` default, 12h.
const LEASETIME: u32 = 43200;

const RELAY_HELP: &str = "`relay = { from = \"<uplink>\" }` relays RA, NDP and DHCPv6 (docs/relay-mode.md); write it by hand with the `master` interface as `from`";

pub(crate) fn translate(cx: &mut Ctx, pkg: &Package, facts: &Facts) {
    let search = pkg
        .of_type("dnsmasq")
        .find_map(|(_, sec)| sec.str("domain"))
        .map(|d| d.trim_end_matches('.').to_string());
    for (i, sec) in pkg.of_type("odhcpd") {
        odhcpd(cx, pkg, sec, &sec.label(i));
    }
    for (i, sec) in pkg.of_type("dhcp") {
        interface(cx, pkg, sec, &sec.label(i), facts, search.as_deref());
    }
    for (i, sec) in pkg.of_type("host") {
        host(cx, pkg, sec, &sec.label(i));
    }
    for (i, sec) in pkg.of_type("boot6") {
        cx.section_not_carried(
            pkg,
            sec,
            &sec.label(i),
            "v6router sends no DHCPv6 boot file URLs (RFC 5970)",
            None,
        );
    }
}

/// `config odhcpd`: daemon-wide settings.
fn odhcpd(cx: &mut Ctx, pkg: &Package, sec: &Section, label: &str) {
    if let Some(o) = sec.get("loglevel") {
        // syslog priorities 0-7 (odhcpd's default 6) -> our levels.
        match sec.str("loglevel").unwrap_or_default().parse::<u8>() {
            Ok(n) => {
                let l = match n {
                    0..=3 => "error",
                    4 => "warn",
                    5 | 6 => "info",
                    _ => "debug",
                };
                cx.doc.log.push(entry("level", s(l), &origin(pkg, o.line)));
            }
            Err(_) => cx.bad_value(pkg, label, o, "a syslog priority 0-7"),
        }
    }
    if sec.str("maindhcp").and_then(boolean) == Some(true) {
        if let Some(o) = sec.get("maindhcp") {
            cx.not_carried(pkg, label, o, "odhcpd is the DHCPv4 server here and v6router does no DHCPv4", Some("keep odhcpd for DHCPv4 with `ra`/`dhcpv6` disabled, and use `option source 'toml'` in /etc/config/v6router"));
        }
    }
    let done = lease_state(cx, pkg, sec);
    let mut done_all = vec!["loglevel", "maindhcp"];
    done_all.extend(done);
    report_rest(cx, pkg, sec, label, &done_all, &|n| {
        match n {
        "leasetrigger" => Some(Rest::NotCarried("odhcpd runs it only after writing `leasefile`, which is not set", None)),
        "hostsfile" | "hostsdir" => Some(Rest::NotCarried("the hosts lines go into the lease file (`leasefile`), in odhcpd 24.10's format, which dnsmasq reads from /tmp/hosts", None)),
        // RFC 9096 prefix history: v6router keeps it in state_dir (ra-IFACE.json).
        "piofolder" | "piodir" => Some(Rest::Theirs),
        "legacy" => Some(Rest::Theirs),
        _ => None,
    }
    });
}

/// `leasefile` and `leasetrigger` -> `[dhcpv6_state]`; odhcpd runs the
/// trigger only after writing a lease file, so a trigger alone is not
/// carried over. Returns the options taken.
fn lease_state(cx: &mut Ctx, pkg: &Package, sec: &Section) -> Vec<&'static str> {
    let Some(file) = sec.get("leasefile") else {
        return vec![];
    };
    let path = sec.str("leasefile").unwrap_or_default();
    cx.doc
        .dhcpv6_state
        .push(entry("lease_file", s(path), &origin(pkg, file.line)));
    if let Some(t) = sec.get("leasetrigger") {
        let cmd = sec.str("leasetrigger").unwrap_or_default();
        cx.doc
            .dhcpv6_state
            .push(entry("lease_trigger", s(cmd), &origin(pkg, t.line)));
    }
    vec!["leasefile", "leasetrigger"]
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Disabled,
    Server,
    Relay,
}

fn mode(cx: &mut Ctx, pkg: &Package, sec: &Section, label: &str, name: &str, ignore: bool) -> Mode {
    let Some(o) = sec.get(name) else {
        // odhcpd: disabled unless set; `ignore` only matters then.
        let _ = ignore;
        return Mode::Disabled;
    };
    match sec.str(name).unwrap_or_default() {
        "disabled" => Mode::Disabled,
        "server" => Mode::Server,
        "relay" | "hybrid" => {
            cx.not_carried(
                pkg,
                label,
                o,
                "relay mode is not carried over (which interface is the master)",
                Some(RELAY_HELP),
            );
            Mode::Relay
        }
        _ => {
            cx.bad_value(pkg, label, o, "disabled, server, relay or hybrid");
            Mode::Disabled
        }
    }
}

/// One `config dhcp` section: what odhcpd serves on one interface.
fn interface(
    cx: &mut Ctx,
    pkg: &Package,
    sec: &Section,
    label: &str,
    facts: &Facts,
    search: Option<&str>,
) {
    let ignore = sec.str("ignore").and_then(boolean).unwrap_or(false);
    let ra = mode(cx, pkg, sec, label, "ra", ignore);
    let dhcpv6 = mode(cx, pkg, sec, label, "dhcpv6", ignore);
    let _ndp = mode(cx, pkg, sec, label, "ndp", ignore);
    if ra != Mode::Server && dhcpv6 != Mode::Server {
        return;
    }
    let logical = sec.str("interface").unwrap_or(label);
    let device = sec
        .str("ifname")
        .or_else(|| sec.str("networkid"))
        .map(str::to_string)
        .or_else(|| facts.devices.get(logical).cloned());
    let Some(device) = device else {
        cx.section_not_carried(
            pkg,
            sec,
            label,
            &format!("no interface `{logical}` in the network configuration"),
            None,
        );
        return;
    };
    let lan = facts.lans.get(logical).cloned().unwrap_or_default();
    let p = Params::read(cx, pkg, sec, label, search);
    let at = origin(pkg, sec.line);
    if ra == Mode::Server {
        let (e, prefixes) = ra_entries(cx, pkg, sec, label, &p, &lan);
        let i = cx.doc.iface(&device, &at);
        i.ra = Some(e);
        i.ra_prefixes = prefixes;
    }
    if dhcpv6 == Mode::Server {
        let e = dhcpv6_entries(pkg, sec, &p, &lan, ra == Mode::Server);
        cx.doc.iface(&device, &at).dhcpv6 = Some(e);
    }
    cx.doc.uses(logical);
    report_rest(cx, pkg, sec, label, DONE, &dhcp_rest);
}

const DONE: &[&str] = &[
    "interface",
    "ifname",
    "networkid",
    "ignore",
    "ra",
    "dhcpv6",
    "ndp",
    "ra_flags",
    "ra_management",
    "ra_slaac",
    "ra_default",
    "ra_lifetime",
    "ra_maxinterval",
    "ra_mininterval",
    "ra_mtu",
    "ra_hoplimit",
    "ra_reachabletime",
    "ra_retranstime",
    "ra_preference",
    "ra_pref64",
    "ra_offlink",
    "ra_dns",
    "dns",
    "dns_service",
    "domain",
    "leasetime",
    "ra_useleasetime",
    "preferred_lifetime",
    "max_preferred_lifetime",
    "max_valid_lifetime",
    "dhcpv6_na",
    "dhcpv6_pd",
    "dhcpv6_pd_min_len",
    "dhcpv6_hostidlength",
    "dynamicdhcp",
];

fn dhcp_rest(name: &str) -> Option<Rest> {
    match name {
        // DHCPv4 (dnsmasq's, or odhcpd's with maindhcp) and relay details.
        "start" | "limit" | "dhcpv4" | "dhcp_option" | "dhcp_option_force" | "force" | "netmask" | "instance" | "tag" | "router"
        | "dhcpv4_forcereconf" | "master" | "upstream" | "ndproxy_routing" | "ndproxy_slave" | "ndp_from_link_local" | "ra_holdoff" => {
            Some(Rest::Theirs)
        }
        "ntp" => Some(Rest::NotCarried("v6router sends no NTP server option (RFC 5908)", None)),
        "dnr" => Some(Rest::NotCarried("v6router sends no encrypted DNS (DNR, RFC 9463) options", None)),
        "prefix_filter" => Some(Rest::NotCarried("v6router advertises every /64 of the interface; list them as `[[interface.ra.prefix]]` by hand to filter", None)),
        "ra_advrouter" => Some(Rest::NotCarried("v6router sends no router-address flag (RFC 6275)", None)),
        "dhcpv6_raw" | "filter_class" | "pd_manager" | "pd_cer" | "dhcpv6_assignall" => Some(Rest::NotCarried("v6router's DHCPv6 server has no such setting", None)),
        _ => None,
    }
}

/// Values shared by the RA and DHCPv6 parts of one section.
struct Params {
    managed: bool,
    other: bool,
    flags_at: String,
    dns: Vec<String>,
    dns_at: String,
    search: Vec<String>,
    search_at: String,
    ra_dns: bool,
    preferred: u32,
    valid: u32,
    lifetimes_at: String,
    /// DHCPv6 lifetimes: leasetime bounded by the prefix's.
    ia: (u32, u32),
}

impl Params {
    fn read(
        cx: &mut Ctx,
        pkg: &Package,
        sec: &Section,
        label: &str,
        search: Option<&str>,
    ) -> Params {
        let at = |n: &str| sec.get(n).map(|o| origin(pkg, o.line));
        let (managed, other) = flags(cx, pkg, sec, label);
        let (dns, dns_at) = dns(cx, pkg, sec, label);
        let (search, search_at) = match sec.get("domain") {
            Some(o) => (
                o.value
                    .items()
                    .iter()
                    .map(|d| d.trim_end_matches('.').to_string())
                    .collect(),
                origin(pkg, o.line),
            ),
            None => (
                search.map(|d| vec![d.to_string()]).unwrap_or_default(),
                "dnsmasq's domain".into(),
            ),
        };
        let secs = |cx: &mut Ctx, n: &str| -> Option<u32> {
            let o = sec.get(n)?;
            let v = duration(sec.str(n).unwrap_or_default());
            if v.is_none() {
                cx.bad_value(pkg, label, o, "a time (e.g. 45m, 12h)");
            }
            v
        };
        let leasetime = secs(cx, "leasetime").unwrap_or(LEASETIME);
        let use_lease = sec
            .str("ra_useleasetime")
            .and_then(boolean)
            .unwrap_or(false);
        let mut preferred = secs(cx, "max_preferred_lifetime")
            .or(secs(cx, "preferred_lifetime"))
            .unwrap_or(PREFERRED_LIMIT);
        let mut valid = secs(cx, "max_valid_lifetime").unwrap_or(VALID_LIMIT);
        if use_lease {
            preferred = preferred.min(leasetime);
            valid = valid.min(leasetime);
        }
        preferred = preferred.min(valid);
        let lifetimes_at = [
            "max_preferred_lifetime",
            "preferred_lifetime",
            "max_valid_lifetime",
            "ra_useleasetime",
        ]
        .iter()
        .find_map(|n| at(n))
        .unwrap_or_else(|| "odhcpd 25.12's max_preferred/valid_lifetime, RFC 9096 §4".into());
        Params {
            managed,
            other,
            flags_at: at("ra_flags")
                .or(at("ra_management"))
                .unwrap_or_else(|| "odhcpd's default ra_flags 'other-config'".into()),
            dns,
            dns_at,
            search,
            search_at,
            ra_dns: sec.str("ra_dns").and_then(boolean).unwrap_or(true),
            preferred,
            valid,
            lifetimes_at,
            ia: (leasetime.min(preferred), leasetime.min(valid)),
        }
    }
}

/// M and O flags: `ra_flags`, else the older `ra_management`, else
/// odhcpd's default (O only).
fn flags(cx: &mut Ctx, pkg: &Package, sec: &Section, label: &str) -> (bool, bool) {
    if let Some(o) = sec.get("ra_flags") {
        let items = o.value.items();
        for f in &items {
            if !matches!(
                *f,
                "managed-config" | "other-config" | "none" | "home-agent"
            ) {
                cx.bad_value(
                    pkg,
                    label,
                    o,
                    "managed-config, other-config, home-agent or none",
                );
            }
        }
        if items.contains(&"home-agent") {
            cx.not_carried(
                pkg,
                label,
                o,
                "v6router sends no home-agent flag (RFC 6275)",
                None,
            );
        }
        return (
            items.contains(&"managed-config"),
            items.contains(&"other-config"),
        );
    }
    match sec.str("ra_management") {
        // 0: no M, A; 1: M and A; 2: M, no A (A is handled with ra_slaac).
        Some("0") => (false, true),
        Some("1") | Some("2") => (true, true),
        Some(_) => {
            if let Some(o) = sec.get("ra_management") {
                cx.bad_value(pkg, label, o, "0, 1 or 2");
            }
            (false, true)
        }
        None => (false, true),
    }
}

/// DNS servers: the IPv6 ones of `dns`; without any, odhcpd announces the
/// router itself (`dns_service`), which is `"self"` here.
fn dns(cx: &mut Ctx, pkg: &Package, sec: &Section, label: &str) -> (Vec<String>, String) {
    if let Some(o) = sec.get("dns") {
        let v6: Vec<String> = o
            .value
            .items()
            .iter()
            .filter(|a| a.parse::<Ipv6Addr>().is_ok())
            .map(|a| a.to_string())
            .collect();
        // IPv4 entries are for DHCPv4; anything else odhcpd refuses too.
        if o.value
            .items()
            .iter()
            .any(|a| a.parse::<std::net::IpAddr>().is_err())
        {
            cx.bad_value(pkg, label, o, "a list of IP addresses");
        }
        if !v6.is_empty() {
            return (v6, origin(pkg, o.line));
        }
    }
    if sec.str("dns_service").and_then(boolean) == Some(false) {
        return (vec![], String::new());
    }
    // odhcpd's default: the router itself, as `"self"` (its ULA there
    // when it has one, so the server survives renumbering).
    (
        vec!["self".to_string()],
        format!(
            "{} (odhcpd's dns_service: the router's own address)",
            origin(pkg, sec.line)
        ),
    )
}

fn ra_entries(
    cx: &mut Ctx,
    pkg: &Package,
    sec: &Section,
    label: &str,
    p: &Params,
    lan: &Lan,
) -> (Vec<Entry>, Vec<Vec<Entry>>) {
    let at = |n: &str| sec.get(n).map(|o| origin(pkg, o.line));
    let mut e = vec![
        entry("managed", p.managed.to_string(), &p.flags_at),
        entry("other_config", p.other.to_string(), &p.flags_at),
    ];
    // odhcpd's ra_default 0 (the default) and 1 withhold the default route
    // while the router has none itself (RFC 7084 G-4); 2 always announces it.
    let always = sec.str("ra_default") == Some("2");
    e.push(entry(
        "require_default_route",
        (!always).to_string(),
        &at("ra_default").unwrap_or_else(|| "odhcpd's default ra_default 0".into()),
    ));
    for (uci, key, min) in [
        ("ra_maxinterval", "max_interval", 0),
        ("ra_mininterval", "min_interval", 0),
        ("ra_lifetime", "router_lifetime", 0),
        ("ra_mtu", "mtu", 1),
        ("ra_hoplimit", "hop_limit", 1),
        ("ra_reachabletime", "reachable_time", 0),
        ("ra_retranstime", "retrans_timer", 0),
    ] {
        if let Some(o) = sec.get(uci) {
            match sec.str(uci).unwrap_or_default().parse::<u32>() {
                // odhcpd: 0 for mtu and hoplimit means "not set".
                Ok(v) if v >= min => e.push(entry(key, v.to_string(), &origin(pkg, o.line))),
                Ok(_) => {}
                Err(_) => cx.bad_value(pkg, label, o, "a number"),
            }
        }
    }
    if let Some(o) = sec.get("ra_preference") {
        match sec.str("ra_preference").unwrap_or_default() {
            v @ ("low" | "medium" | "high") => {
                e.push(entry("router_preference", s(v), &origin(pkg, o.line)))
            }
            _ => cx.bad_value(pkg, label, o, "low, medium or high"),
        }
    }
    if p.ra_dns && !p.dns.is_empty() {
        e.push(entry("dns", arr(&p.dns), &p.dns_at));
    }
    if p.ra_dns && !p.search.is_empty() {
        e.push(entry("search", arr(&p.search), &p.search_at));
    }
    if let Some(o) = sec.get("ra_pref64") {
        match sec
            .str("ra_pref64")
            .unwrap_or_default()
            .parse::<Ipv6Prefix>()
        {
            Ok(x) => e.push(entry("pref64", s(&x.to_string()), &origin(pkg, o.line))),
            Err(_) => cx.bad_value(pkg, label, o, "an IPv6 prefix"),
        }
    }
    (e, prefixes(pkg, sec, p, lan))
}

/// Every /64 of the interface (the delegated ones v6router assigns), and
/// the ULA /64 netifd gives the LAN (its address there is a /60 or so, which
/// `::/64` does not match).
fn prefixes(pkg: &Package, sec: &Section, p: &Params, lan: &Lan) -> Vec<Vec<Entry>> {
    let at = |n: &str| sec.get(n).map(|o| origin(pkg, o.line)).unwrap_or_default();
    let on_link = sec.str("ra_offlink").and_then(boolean) != Some(true);
    let slaac = sec.str("ra_slaac").and_then(boolean).unwrap_or(true)
        && sec.str("ra_management") != Some("2");
    let one = |prefix: String, why: String| {
        vec![
            entry("prefix", s(&prefix), &why),
            entry("on_link", on_link.to_string(), &at("ra_offlink")),
            entry("autonomous", slaac.to_string(), &at("ra_slaac")),
            entry(
                "preferred_lifetime",
                p.preferred.to_string(),
                &p.lifetimes_at,
            ),
            entry("valid_lifetime", p.valid.to_string(), &p.lifetimes_at),
        ]
    };
    let mut out = vec![one(
        "::/64".into(),
        format!(
            "{} (odhcpd: every prefix of the interface)",
            origin(pkg, sec.line)
        ),
    )];
    if let Some(u) = lan.ula64 {
        out.push(one(
            u.to_string(),
            "network.globals.ula_prefix, given to this LAN by netifd".into(),
        ));
    }
    out
}

fn dhcpv6_entries(
    pkg: &Package,
    sec: &Section,
    p: &Params,
    lan: &Lan,
    ra_served: bool,
) -> Vec<Entry> {
    let at = |n: &str| {
        sec.get(n)
            .map(|o| origin(pkg, o.line))
            .unwrap_or_else(|| origin(pkg, sec.line))
    };
    let mut e = Vec::new();
    let na = sec.str("dhcpv6_na").and_then(boolean).unwrap_or(true)
        && sec.str("dynamicdhcp").and_then(boolean).unwrap_or(true);
    // Clients ask for addresses only when M is set (RFC 4861 §4.2).
    if na && (p.managed || !ra_served) {
        e.push(entry(
            "pool",
            s(&pool(sec.str("dhcpv6_hostidlength"))),
            &format!(
                "{} (odhcpd: random host ids of dhcpv6_hostidlength bits)",
                at("dhcpv6_hostidlength")
            ),
        ));
    }
    let pd = sec.str("dhcpv6_pd").and_then(boolean).unwrap_or(true);
    if let (true, true, Some(from)) = (pd, lan.pd_room, &lan.from) {
        let len = sec
            .str("dhcpv6_pd_min_len")
            .and_then(|v| v.parse::<u8>().ok())
            .filter(|l| (48..=64).contains(l))
            .unwrap_or(62);
        e.push(entry(
            "pd_pool",
            format!("{{ from = {}, delegated_length = {len} }}", s(from)),
            &at("dhcpv6_pd_min_len"),
        ));
    }
    if !p.dns.is_empty() {
        e.push(entry("dns", arr(&p.dns), &p.dns_at));
    }
    if !p.search.is_empty() {
        e.push(entry("search", arr(&p.search), &p.search_at));
    }
    e.push(entry(
        "preferred_lifetime",
        p.ia.0.to_string(),
        &format!("{} (leasetime, at most the prefix's)", at("leasetime")),
    ));
    e.push(entry(
        "valid_lifetime",
        p.ia.1.to_string(),
        &format!("{} (leasetime, at most the prefix's)", at("leasetime")),
    ));
    e
}

/// A relative pool of `bits`-bit host ids above ::100 (odhcpd's
/// dhcpv6_hostidlength, default 12), leaving low ids for fixed addresses.
fn pool(bits: Option<&str>) -> String {
    let bits = bits
        .and_then(|b| b.parse::<u32>().ok())
        .filter(|b| (12..=64).contains(b))
        .unwrap_or(12);
    let last = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    format!(
        "{}-{}",
        Ipv6Addr::from(0x100u128),
        Ipv6Addr::from(u128::from(last))
    )
}

/// `config host`: odhcpd applies it on every interface it serves DHCPv6
/// on, recognising the client by `duid` or by `mac` (either), giving it
/// `hostid` in each of the interface's /64s and its `name`. Each becomes
/// a `[[interface.dhcpv6.host]]` on each DHCPv6 interface: one by DUID and
/// one per MAC. `ip` and the rest are dnsmasq's (DHCPv4).
fn host(cx: &mut Ctx, pkg: &Package, sec: &Section, label: &str) {
    let Some(common) = host_common(cx, pkg, sec, label) else {
        return;
    };
    let mut ids: Vec<Entry> = vec![];
    if let Some(o) = sec.get("duid") {
        match sec.str("duid").filter(|d| is_hex_duid(d)) {
            Some(d) => ids.push(entry("duid", s(d), &origin(pkg, o.line))),
            None => cx.bad_value(
                pkg,
                label,
                o,
                "a DUID in hex (odhcpd's `%IAID` suffix is not read)",
            ),
        }
    }
    if let Some(o) = sec.get("mac") {
        for m in o.value.items().iter().flat_map(|v| v.split_whitespace()) {
            match crate::validate::parse_mac(m) {
                Ok(_) => ids.push(entry("mac", s(m), &origin(pkg, o.line))),
                Err(_) => cx.bad_value(pkg, label, o, "a MAC address"),
            }
        }
    }
    for iface in cx.doc.ifaces.iter_mut().filter(|i| i.dhcpv6.is_some()) {
        for id in &ids {
            let mut h = vec![id.clone()];
            h.extend(common.iter().cloned());
            iface.hosts.push(h);
        }
    }
}

/// What a `config host` gives its client on DHCPv6: `name`, `hostid`
/// (odhcpd reads it as hex: '10' is ::10), `leasetime`. None when it gives
/// nothing there (a DHCPv4 reservation by `ip`), or a value is unreadable.
fn host_common(cx: &mut Ctx, pkg: &Package, sec: &Section, label: &str) -> Option<Vec<Entry>> {
    let mut e = vec![];
    let mut ok = true;
    if let (Some(o), Some(n)) = (sec.get("name"), sec.str("name")) {
        if v6common::hostname::is_host_label(n) {
            e.push(entry("name", s(n), &origin(pkg, o.line)));
        } else {
            let why = "leases are named only by host names (letters, digits, inner hyphens)";
            cx.not_carried(pkg, label, o, why, None);
        }
    }
    if let (Some(o), Some(v)) = (sec.get("hostid"), sec.str("hostid")) {
        match u64::from_str_radix(v, 16).ok().filter(|id| *id != 0) {
            Some(id) => {
                let addr = Ipv6Addr::from(u128::from(id));
                e.push(entry("hostid", s(&addr.to_string()), &origin(pkg, o.line)));
            }
            None => {
                cx.bad_value(pkg, label, o, "a non-zero host id in hex (at most 64 bits)");
                ok = false;
            }
        }
    }
    if let (Some(o), Some(v)) = (sec.get("leasetime"), sec.str("leasetime")) {
        match duration(v) {
            Some(t) => {
                let at = origin(pkg, o.line);
                e.push(entry("preferred_lifetime", t.to_string(), &at));
                e.push(entry("valid_lifetime", t.to_string(), &at));
            }
            None => {
                cx.bad_value(pkg, label, o, "a time (e.g. 45m, 12h)");
                ok = false;
            }
        }
    }
    report_rest(
        cx,
        pkg,
        sec,
        label,
        &["name", "hostid", "leasetime", "duid", "mac"],
        &|n| {
            // dnsmasq's DHCPv4 reservation and its tags.
            matches!(
                n,
                "ip" | "tag" | "match_tag" | "broadcast" | "dns" | "instance" | "hostname"
            )
            .then_some(Rest::Theirs)
        },
    );
    let names_something = e.iter().any(|x| x.key == "name" || x.key == "hostid");
    (ok && names_something).then_some(e)
}

/// odhcpd's `duid`: hex digits, an even number of them (colons allowed).
fn is_hex_duid(d: &str) -> bool {
    crate::validate::parse_hex_bytes(d).is_ok_and(|b| b.len() >= 3)
}
