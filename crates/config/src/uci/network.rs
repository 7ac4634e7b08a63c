//! `/etc/config/network`: netifd's interfaces. The DHCPv6 client interfaces
//! (`proto dhcpv6`, odhcp6c) become uplinks, `ip6assign` on a LAN becomes an
//! `assign` from the uplink, `proto 6in4` becomes a `[[tunnel]]`. netifd
//! keeps running for everything else (IPv4, bridges, the ULA addresses it
//! gives LANs from `ula_prefix`), so those options are left to it.

use super::emit::{entry, s};
use super::parse::{Package, Section};
use super::{boolean, origin, report_rest, Ctx, Rest};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use v6common::Ipv6Prefix;

/// What the dhcp translation needs to know about the network.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    /// Logical interface name -> kernel device.
    pub devices: BTreeMap<String, String>,
    /// Logical interface -> its LAN facts (those with `ip6assign`).
    pub lans: BTreeMap<String, Lan>,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Lan {
    /// The /64 netifd gives this LAN from `ula_prefix` (odhcpd advertises it).
    pub ula64: Option<Ipv6Prefix>,
    /// The uplink device this LAN's /64 comes from (v6router's `assign`).
    pub from: Option<String>,
    /// `ip6assign` is shorter than /64: room for prefix delegation.
    pub pd_room: bool,
}

struct Uplink {
    logical: String,
    device: String,
    delegate: bool,
}

pub(crate) fn translate(cx: &mut Ctx, pkg: &Package) -> Facts {
    let ifaces: Vec<(usize, &Section)> = pkg
        .of_type("interface")
        .filter(|(_, s)| s.str("disabled").and_then(boolean) != Some(true))
        .collect();
    let mut facts = Facts::default();
    for (i, sec) in &ifaces {
        let name = sec.label(*i);
        if let Some(dev) = l3_device(pkg, &name, 0) {
            facts.devices.insert(name, dev);
        }
    }
    let ula = ula_prefix(cx, pkg);
    let mut uplinks = Vec::new();
    for (i, sec) in &ifaces {
        let label = sec.label(*i);
        match sec.str("proto").unwrap_or("none") {
            "dhcpv6" => uplinks.extend(uplink(cx, pkg, sec, &label, &facts)),
            "6in4" => tunnel(cx, pkg, sec, &label, &facts),
            p if THEIRS_PROTOS.contains(&p) => {}
            p if V6_TUNNELS.contains(&p) => cx.section_not_carried(pkg, sec, &label, &format!("v6router has no `{p}` tunnels (only 6in4)"), Some("netifd can keep running it: leave the interface as it is")),
            p => cx.section_not_carried(pkg, sec, &label, &format!("unknown proto `{p}`"), Some("import-uci knows static, dhcpv6 and 6in4 (and leaves IPv4 protocols to netifd)")),
        }
    }
    let mut alloc = Alloc::default();
    for (i, sec) in &ifaces {
        if sec.get("ip6assign").is_some() && sec.str("proto") != Some("dhcpv6") {
            let label = sec.label(*i);
            if let Some(lan) = lan(cx, pkg, sec, &label, &facts, &uplinks, ula, &mut alloc) {
                facts.lans.insert(label, lan);
            }
        }
    }
    facts
}

/// netifd protocols that carry no IPv6 service of ours: netifd keeps them.
const THEIRS_PROTOS: &[&str] = &[
    "static",
    "dhcp",
    "none",
    "pppoe",
    "pppoa",
    "pptp",
    "l2tp",
    "3g",
    "qmi",
    "ncm",
    "mbim",
    "wwan",
    "modemmanager",
    "wireguard",
    "openvpn",
    "vpnc",
    "openconnect",
    "gre",
    "gretap",
    "ipip",
    "vxlan",
    "relay",
    "batadv",
    "batadv_hardif",
    "directip",
    "hnet",
];

/// IPv6 transition protocols v6router does not run.
const V6_TUNNELS: &[&str] = &[
    "6rd", "6to4", "dslite", "map", "464xlat", "grev6", "grev6tap", "ipip6", "vxlan6",
];

/// The kernel device an interface's IPv6 runs on: `device` (or the older
/// `ifname`), an `@wan` alias resolved to that interface's device, and the
/// devices netifd makes for PPP and tunnels (`pppoe-wan`, `6in4-henet`).
fn l3_device(pkg: &Package, logical: &str, depth: u8) -> Option<String> {
    let sec = pkg
        .sections
        .iter()
        .find(|s| s.stype == "interface" && s.name.as_deref() == Some(logical))?;
    let proto = sec.str("proto").unwrap_or("none");
    if matches!(
        proto,
        "pppoe" | "pppoa" | "pptp" | "l2tp" | "6in4" | "6rd" | "6to4" | "wireguard"
    ) {
        return Some(ifname(&format!("{proto}-{logical}")));
    }
    let dev = sec.str("device").or_else(|| sec.str("ifname"))?;
    if let Some(target) = dev.strip_prefix('@') {
        return if depth < 8 {
            l3_device(pkg, target, depth + 1)
        } else {
            None
        };
    }
    // Before OpenWrt 21.02 a bridge was `option type 'bridge'` on the interface.
    if sec.str("type") == Some("bridge") {
        return Some(ifname(&format!("br-{logical}")));
    }
    dev.split_whitespace().next().map(str::to_string)
}

/// Linux interface names are at most 15 bytes (IFNAMSIZ - 1); netifd cuts too.
fn ifname(s: &str) -> String {
    s.chars().take(15).collect()
}

fn ula_prefix(cx: &mut Ctx, pkg: &Package) -> Option<Ipv6Prefix> {
    let (i, sec) = pkg.of_type("globals").next()?;
    let o = sec.get("ula_prefix")?;
    let v = sec.str("ula_prefix").unwrap_or_default();
    if v == "auto" {
        // netifd has not made one yet; it will, and keeps giving it to LANs.
        return None;
    }
    match v.parse::<Ipv6Prefix>() {
        Ok(p) if p.len() <= 64 => Some(p),
        _ => {
            cx.bad_value(pkg, &sec.label(i), o, "an IPv6 prefix");
            None
        }
    }
}

/// `proto dhcpv6` (odhcp6c): the uplink's DHCPv6-PD client.
fn uplink(
    cx: &mut Ctx,
    pkg: &Package,
    sec: &Section,
    label: &str,
    facts: &Facts,
) -> Option<Uplink> {
    let at = origin(pkg, sec.line);
    let Some(device) = facts.devices.get(label).cloned() else {
        cx.section_not_carried(
            pkg,
            sec,
            label,
            "its device cannot be found",
            Some("give it `option device`, or `@wan` for the IPv4 WAN's"),
        );
        return None;
    };
    let mut e = Vec::new();
    let reqprefix = sec.get("reqprefix");
    match sec.str("reqprefix").unwrap_or("auto") {
        "auto" => {}
        "no" => {
            if let Some(o) = reqprefix {
                cx.not_carried(
                    pkg,
                    label,
                    o,
                    "v6router's DHCPv6 client always asks for a prefix",
                    Some("leave this interface to netifd (do not switch it over)"),
                );
            }
            return None;
        }
        v => match v.parse::<u8>() {
            Ok(n) if (1..=64).contains(&n) => {
                let o = reqprefix.map(|o| o.line).unwrap_or(sec.line);
                e.push(entry("prefix_length", n.to_string(), &origin(pkg, o)));
            }
            _ => {
                if let Some(o) = reqprefix {
                    cx.bad_value(pkg, label, o, "auto, no or a prefix length 1..=64");
                }
            }
        },
    }
    // netifd's default is `reqaddress try`: ask for an address, go on without.
    let ra = sec
        .get("reqaddress")
        .map(|o| origin(pkg, o.line))
        .unwrap_or_else(|| format!("{at} (reqaddress 'try', the default)"));
    let want = !matches!(sec.str("reqaddress"), Some("none"));
    e.push(entry("request_address", want.to_string(), &ra));
    // odhcp6c sends a Release when netifd stops it unless `norelease 1`.
    let norelease = sec.str("norelease").and_then(boolean).unwrap_or(false);
    let nr = sec
        .get("norelease")
        .map(|o| origin(pkg, o.line))
        .unwrap_or_else(|| format!("{at} (odhcp6c releases on stop)"));
    e.push(entry("release_on_stop", (!norelease).to_string(), &nr));
    cx.doc.iface(&device, &at).uplink = Some(e);
    cx.doc.uses(label);
    report_rest(
        cx,
        pkg,
        sec,
        label,
        &["proto", "reqprefix", "reqaddress", "norelease", "delegate"],
        &dhcpv6_rest,
    );
    Some(Uplink {
        logical: label.to_string(),
        device,
        delegate: sec.str("delegate").and_then(boolean).unwrap_or(true),
    })
}

fn dhcpv6_rest(name: &str) -> Option<Rest> {
    match name {
        "clientid" | "reqopts" | "defaultreqopts" | "sendopts" | "noslaaconly" | "forceprefix"
        | "extendprefix" | "noserverunicast" | "noclientfqdn" | "noacceptreconfig"
        | "userclass" | "vendorclass" | "soltimeout" | "fakeroutes" | "ra_holdoff"
        | "skpriority" | "iface_dslite" | "iface_map" | "iface_464xlat" | "zone_dslite"
        | "zone_map" | "zone_464xlat" => Some(Rest::NotCarried(
            "v6router's DHCPv6 client has no such setting",
            None,
        )),
        "ip6prefix" => Some(Rest::NotCarried(
            "an extra routed prefix is not handed out to LANs by v6router",
            None,
        )),
        _ => common_rest(name),
    }
}

/// Interface options that stay netifd's business.
fn common_rest(name: &str) -> Option<Rest> {
    match name {
        "device" | "ifname" | "type" | "proto" | "auto" | "disabled" | "force_link" | "peerdns"
        | "dns" | "dns_search" | "dns_metric" | "metric" | "ip4table" | "ip6table"
        | "defaultroute" | "mtu" | "macaddr" | "ipaddr" | "netmask" | "gateway" | "broadcast"
        | "ip6addr" | "ip6gw" | "ip6ifaceid" | "ip6weight" | "ip6deprecated" | "ipv6"
        | "delegate" | "sourcefilter" | "username" | "password" | "hostname" | "clientid6"
        | "zone" | "multipath" | "igmp_snooping" | "stp" | "keepalive" | "service" | "apn"
        | "pincode" | "pdptype" | "ac" | "host_uniq" | "ip6assign" | "ip6hint" | "ip6class"
        | "packet_steering" => Some(Rest::Theirs),
        _ => None,
    }
}

/// Subnet blocks already given, in /64 units (start, size).
#[derive(Default)]
struct Alloc(Vec<(u64, u64)>);

impl Alloc {
    /// netifd's ip6hint, aligned to the block; else the lowest free block.
    fn take(&mut self, size: u64, hint: Option<u64>) -> u64 {
        let free = |a: &Self, s: u64| a.0.iter().all(|(b, n)| s + size <= *b || b + n <= s);
        let start = match hint.map(|h| h & !(size - 1)) {
            Some(h) if free(self, h) => h,
            _ => (0..)
                .map(|k: u64| k * size)
                .find(|s| free(self, *s))
                .unwrap_or(0),
        };
        self.0.push((start, size));
        start
    }
}

/// A LAN with `ip6assign`: a /64 of the uplink's prefix (`assign`), and the
/// ULA /64 netifd keeps giving it.
#[allow(clippy::too_many_arguments)]
fn lan(
    cx: &mut Ctx,
    pkg: &Package,
    sec: &Section,
    label: &str,
    facts: &Facts,
    uplinks: &[Uplink],
    ula: Option<Ipv6Prefix>,
    alloc: &mut Alloc,
) -> Option<Lan> {
    let o = sec.get("ip6assign")?;
    let len = match sec.str("ip6assign").unwrap_or_default().parse::<u8>() {
        Ok(n) if (48..=64).contains(&n) => n,
        Ok(0) => return None,
        _ => {
            cx.bad_value(pkg, label, o, "a prefix length 48..=64");
            return None;
        }
    };
    let device = facts.devices.get(label)?.clone();
    let hint = match sec.get("ip6hint") {
        Some(h) => match u64::from_str_radix(sec.str("ip6hint").unwrap_or_default(), 16) {
            Ok(v) => Some(v),
            Err(_) => {
                cx.bad_value(pkg, label, h, "a hexadecimal subnet id");
                None
            }
        },
        None => None,
    };
    let size = 1u64 << (64 - len);
    let subnet = alloc.take(size, hint);
    let from = pick_uplink(cx, pkg, sec, label, uplinks);
    let at = origin(pkg, o.line);
    let mut l = Lan {
        pd_room: len < 64,
        ..Lan::default()
    };
    if let Some(up) = from {
        // ip6assign shorter than /64: the LAN itself gets one /64 (SLAAC needs
        // a /64, RFC 4862 §5.5.3); the rest is for prefix delegation.
        let v = format!(
            "{{ from = {}, length = 64, subnet = {subnet} }}",
            s(&up.device)
        );
        cx.doc.iface(&device, &origin(pkg, sec.line)).assign = Some(entry("assign", v, &at));
        l.from = Some(up.device.clone());
        cx.doc.uses(label);
    }
    // Anything but ::1 (or a token such as `eui64`) in a LAN whose /64 we
    // assign cannot be kept: the router's address there is always ::1.
    if let Some(io) = sec.get("ip6ifaceid") {
        let fixed_id = sec
            .str("ip6ifaceid")
            .and_then(|v| v.parse::<Ipv6Addr>().ok());
        if fixed_id.is_none() || (fixed_id != Some(Ipv6Addr::from(1u128)) && l.from.is_some()) {
            cx.not_carried(
                pkg,
                label,
                io,
                "the router's address in an assigned /64 is always ::1",
                None,
            );
        }
    }
    if let Some(u) = ula {
        l.ula64 = u.subnet(64, u128::from(subnet));
    }
    if let Some(p) = sec.get("ip6prefix") {
        cx.not_carried(
            pkg,
            label,
            p,
            "a static routed prefix is not handed out to LANs by v6router",
            None,
        );
    }
    Some(l)
}

/// The uplink a LAN takes its /64 from: the first one `ip6class` allows
/// (`local` is the ULA, which netifd keeps giving).
fn pick_uplink<'u>(
    cx: &mut Ctx,
    pkg: &Package,
    sec: &Section,
    label: &str,
    uplinks: &'u [Uplink],
) -> Option<&'u Uplink> {
    let class = sec.get("ip6class");
    let allowed: Vec<&Uplink> = uplinks
        .iter()
        .filter(|u| u.delegate)
        .filter(|u| class.is_none_or(|c| c.value.items().contains(&u.logical.as_str())))
        .collect();
    if let Some(c) = class {
        let unknown: Vec<&str> = c
            .value
            .items()
            .into_iter()
            .filter(|n| *n != "local" && !uplinks.iter().any(|u| u.logical == *n))
            .collect();
        if !unknown.is_empty() {
            let why = format!(
                "only DHCPv6 uplinks delegate to LANs in v6router, not {}",
                unknown.join(", ")
            );
            cx.not_carried(pkg, label, c, &why, None);
        }
    }
    if allowed.len() > 1 {
        if let Some(o) = sec.get("ip6assign") {
            cx.not_carried(
                pkg,
                label,
                o,
                "v6router assigns a LAN's /64 from one uplink; only the first is used",
                Some("name one uplink with `list ip6class`"),
            );
        }
    }
    allowed.first().copied()
}

/// `proto 6in4` (netifd's 6in4.sh) -> `[[tunnel]]`; docs/openwrt.md has the
/// table of options.
fn tunnel(cx: &mut Ctx, pkg: &Package, sec: &Section, label: &str, facts: &Facts) {
    let at = |n: &str| {
        sec.get(n)
            .map(|o| origin(pkg, o.line))
            .unwrap_or_else(|| origin(pkg, sec.line))
    };
    let Some(peer) = sec.str("peeraddr") else {
        cx.section_not_carried(pkg, sec, label, "it has no `peeraddr`", None);
        return;
    };
    let Ok(peer) = peer.parse::<Ipv4Addr>() else {
        if let Some(o) = sec.get("peeraddr") {
            cx.bad_value(pkg, label, o, "an IPv4 address");
        }
        return;
    };
    let mut e = vec![
        entry(
            "name",
            s(&ifname(&format!("6in4-{label}"))),
            &origin(pkg, sec.line),
        ),
        entry("remote", s(&peer.to_string()), &at("peeraddr")),
    ];
    if let Some(local) = sec.str("ipaddr") {
        e.push(entry("local", s(local), &at("ipaddr")));
    } else {
        // 6in4.sh takes the address of `tunlink`, else of the WAN.
        let wan = sec.str("tunlink").unwrap_or("wan");
        match facts.devices.get(wan) {
            Some(dev) => {
                e.push(entry("local", s("auto"), &at("tunlink")));
                e.push(entry("wan", s(dev), &at("tunlink")));
            }
            None => {
                cx.section_not_carried(
                    pkg,
                    sec,
                    label,
                    "its local IPv4 address is unknown",
                    Some("set `option ipaddr` or `option tunlink`"),
                );
                return;
            }
        }
    }
    // netifd's defaults for SIT tunnels (6in4.sh): MTU 1280, TTL 64.
    for (n, default) in [("ttl", "64"), ("mtu", "1280")] {
        match sec.get(n) {
            Some(o) if sec.str(n).unwrap_or_default().parse::<u32>().is_err() => {
                cx.bad_value(pkg, label, o, "a number");
                return;
            }
            Some(o) => e.push(entry(
                n,
                sec.str(n).unwrap_or(default).to_string(),
                &origin(pkg, o.line),
            )),
            None => e.push(entry(
                n,
                default.to_string(),
                &format!("{} (netifd's default)", origin(pkg, sec.line)),
            )),
        }
    }
    if let Some(a) = sec.str("ip6addr") {
        e.push(entry("address", s(a), &at("ip6addr")));
    }
    let dr = sec.str("defaultroute").and_then(boolean).unwrap_or(true);
    e.push(entry("default_route", dr.to_string(), &at("defaultroute")));
    if let Some(cmd) = broker_update(cx, pkg, sec, label) {
        e.push(entry("update_command", s(&cmd), &at("tunnelid")));
    }
    report_rest(
        cx,
        pkg,
        sec,
        label,
        &[
            "proto",
            "peeraddr",
            "ipaddr",
            "tunlink",
            "ttl",
            "mtu",
            "ip6addr",
            "defaultroute",
            "tunnelid",
            "username",
            "password",
            "updatekey",
        ],
        &|n| {
            match n {
        "ip6prefix" => Some(Rest::NotCarried("a routed prefix from the broker is not handed out to LANs by v6router", Some("give br-lan an address from it and advertise ::/64 (docs/tunnel-broker.md, step 3)"))),
        "tos" | "sourcerouting" => Some(Rest::NotCarried("v6router's tunnels have no such setting", None)),
        _ => common_rest(n),
    }
        },
    );
    cx.doc.tunnels.push(e);
    cx.doc.uses(label);
}

/// Hurricane Electric's endpoint update, as 6in4.sh does it with
/// `tunnelid`, `username` and `updatekey` (or `password`).
fn broker_update(cx: &mut Ctx, pkg: &Package, sec: &Section, label: &str) -> Option<String> {
    let id = sec.get("tunnelid")?;
    let (Some(tid), Some(user), Some(key)) = (
        sec.str("tunnelid"),
        sec.str("username"),
        sec.str("updatekey").or_else(|| sec.str("password")),
    ) else {
        cx.not_carried(
            pkg,
            label,
            id,
            "the broker update needs `tunnelid`, `username` and `updatekey` (or `password`)",
            None,
        );
        return None;
    };
    let url = format!(
        "https://ipv4.tunnelbroker.net/nic/update?username={}&password={}&hostname={}",
        pct(user),
        pct(key),
        pct(tid)
    );
    Some(format!(
        "out=$(uclient-fetch -q -O - '{url}' 2>&1); echo \"$out\"; case \"$out\" in good*|nochg*) exit 0 ;; *) exit 1 ;; esac"
    ))
}

/// Percent-encoding of everything but RFC 3986 unreserved characters, which
/// also keeps the URL free of shell quotes.
fn pct(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
