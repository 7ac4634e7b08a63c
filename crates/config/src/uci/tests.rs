//! The translation, checked on OpenWrt's default files (fixtures/README.md
//! says where they come from) and on broken ones. Every generated file is
//! loaded back with the config loader that `v6routerd check` uses.

use super::*;
use crate::schema::{Config, Subnet};
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/uci/fixtures")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn run(network: &str, dhcp: Option<&str>) -> Output {
    let n = PathBuf::from("/etc/config/network");
    let d = PathBuf::from("/etc/config/dhcp");
    import(&Input {
        network: (&n, network),
        dhcp: dhcp.map(|t| (d.as_path(), t)),
        v6router: None,
    })
}

/// The generated TOML as `v6routerd check` loads it: no errors, no warnings.
fn checked(o: &Output) -> Config {
    assert!(!o.has_errors(), "{}", crate::Diagnostics(o.diags.clone()));
    let l = crate::parse(&o.toml, std::path::Path::new("/var/etc/v6router.toml"))
        .unwrap_or_else(|e| panic!("{e}\n{}", o.toml));
    assert!(l.warnings.is_empty(), "{:?}\n{}", l.warnings, o.toml);
    l.config
}

fn keys(o: &Output) -> Vec<String> {
    o.diags.iter().filter_map(|d| d.key.clone()).collect()
}

#[test]
fn openwrt_24_10_default() {
    let o = run(
        &fixture("openwrt-24.10-network"),
        Some(&fixture("openwrt-24.10-dhcp")),
    );
    let c = checked(&o);
    // Everything is carried over.
    assert!(o.diags.is_empty(), "{:?}", keys(&o));
    assert_eq!(c.log.level, "warn");
    // odhcpd's lease file, which LuCI and dnsmasq read, and its trigger.
    let st = c.dhcpv6_state.as_ref().expect("[dhcpv6_state]");
    assert_eq!(st.lease_file, std::path::Path::new("/tmp/hosts/odhcpd"));
    assert_eq!(st.lease_trigger.as_deref(), Some("/usr/sbin/odhcpd-update"));
    assert!(o
        .toml
        .contains("\n[dhcpv6_state]\nlease_file = \"/tmp/hosts/odhcpd\" "));
    assert!(o.toml.contains("\"/usr/sbin/odhcpd-update\"  # dhcp:43\n"));
    // wan6 (proto dhcpv6 on device wan) is the uplink.
    let wan = c.interface("wan").expect("wan");
    let up = wan.uplink.as_ref().expect("uplink");
    assert_eq!(up.prefix_length, None, "reqprefix auto");
    assert!(up.request_address && up.release_on_stop);
    // lan (device br-lan, ip6assign 60): a /64 of it, the first subnet.
    let lan = c.interface("br-lan").expect("br-lan");
    let a = lan.assign.as_ref().expect("assign");
    assert_eq!(
        (a.from.as_str(), a.length, &a.subnet),
        ("wan", 64, &Subnet::Index(0))
    );
    let ra = lan.ra.as_ref().expect("ra server");
    assert!(
        ra.managed && ra.other_config,
        "ra_flags managed-config other-config"
    );
    assert!(ra.require_default_route, "odhcpd ra_default 0");
    let p: Vec<String> = ra.prefixes.iter().map(|p| p.prefix.to_string()).collect();
    assert_eq!(p, ["::/64", "fd5e:2b4c:97a1::/64"]);
    assert!(ra.prefixes.iter().all(|p| p.autonomous && p.on_link));
    assert_eq!(
        (
            ra.prefixes[0].preferred_lifetime,
            ra.prefixes[0].valid_lifetime
        ),
        (2700, 5400)
    );
    // odhcpd announces itself (dns_service) and dnsmasq's domain.
    assert_eq!(ra.dns, ["self"]);
    assert_eq!(ra.search, ["lan"]);
    let d = lan.dhcpv6.as_ref().expect("dhcpv6 server");
    assert_eq!(d.pool.as_deref(), Some("::100-::fff"));
    let pd = d.pd_pool.as_ref().expect("room for PD in the /60");
    assert_eq!((pd.from.as_deref(), pd.delegated_length), (Some("wan"), 62));
    assert_eq!((d.preferred_lifetime, d.valid_lifetime), (2700, 5400));
    assert_eq!(d.dns, ["self"]);
    // dhcp 'wan' has ignore 1: nothing served there.
    assert!(wan.ra.is_none() && wan.dhcpv6.is_none());
    assert!(c.tunnels.is_empty());
    assert!(
        o.toml.contains("\n# netifd interfaces: wan6 lan\n"),
        "{}",
        o.toml
    );
    // Every key says where it came from.
    assert!(
        o.toml
            .contains("assign = { from = \"wan\", length = 64, subnet = 0 }  # network:25"),
        "{}",
        o.toml
    );
}

#[test]
fn openwrt_25_12_x86_default() {
    let o = run(
        &fixture("openwrt-25.12-x86-network"),
        Some(&fixture("openwrt-25.12-x86-dhcp")),
    );
    let c = checked(&o);
    let names: Vec<&str> = c.interfaces.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["eth1", "br-lan"]);
    assert_eq!(
        c.interfaces[1].assign.as_ref().map(|a| a.from.as_str()),
        Some("eth1")
    );
}

#[test]
fn dnsmasq_file_as_shipped_reads_like_libuci() {
    let (pkg, d) = parse::parse(
        &fixture("dhcp.conf-as-shipped"),
        std::path::Path::new("dhcp"),
    );
    assert!(d.is_empty(), "{d:?}");
    let dm = &pkg.sections[0];
    assert_eq!(
        dm.str("filterwin2k"),
        Some("0"),
        "a trailing comment is not part of the value"
    );
    assert_eq!(dm.str("domain"), Some("lan"));
    assert!(dm.get("rebind_domain").is_none(), "commented out");
    // Before odhcpd.defaults ran: no ra/dhcpv6, so only the uplink.
    let o = run(
        &fixture("openwrt-24.10-network"),
        Some(&fixture("dhcp.conf-as-shipped")),
    );
    let c = checked(&o);
    assert!(c
        .interface("br-lan")
        .is_some_and(|i| i.ra.is_none() && i.assign.is_some()));
    assert!(o.diags.is_empty(), "{:?}", keys(&o));
}

#[test]
fn custom_file_every_kind_of_option() {
    let o = run(&fixture("custom-network"), Some(&fixture("custom-dhcp")));
    let c = checked(&o);
    assert_eq!(
        keys(&o),
        [
            "dhcp.guest.ndp",
            "network.guest.ip6ifaceid",
            "network.henet.ip6prefix",
        ]
    );
    assert_eq!(c.log.level, "debug", "loglevel 7");
    // odhcpd's `ntp` is option 56 (RFC 5908) here too.
    let lan = c.interface("br-lan").and_then(|i| i.dhcpv6.as_ref());
    assert_eq!(
        lan.map(|d| d.ntp.clone()),
        Some(vec!["2001:db8:123::1".to_string()])
    );
    // config host: by DUID and by MAC (odhcpd matches either), hostid '10'
    // is ::10; the printer (mac, name, an IPv4 `ip`) gets its name.
    let hosts = &c
        .interface("br-lan")
        .and_then(|i| i.dhcpv6.as_ref())
        .expect("dhcpv6")
        .hosts;
    let nas: Vec<_> = hosts
        .iter()
        .filter(|h| h.name.as_deref() == Some("nas"))
        .collect();
    assert_eq!(nas.len(), 2, "{hosts:?}");
    assert!(nas
        .iter()
        .all(|h| h.hostid == Some("::10".parse().unwrap())));
    assert!(nas[0].duid.as_deref() == Some("000100012f8a1c3d02005e100001") && nas[0].mac.is_none());
    assert_eq!(nas[1].mac.as_deref(), Some("02:00:5e:10:00:01"));
    let printer: Vec<_> = hosts
        .iter()
        .filter(|h| h.name.as_deref() == Some("printer"))
        .collect();
    assert!(printer.len() == 1 && printer[0].hostid.is_none() && printer[0].address.is_none());
    assert!(o.toml.contains("hostid = \"::10\""), "{}", o.toml);
    // PPPoE: wan6 on @wan runs on netifd's pppoe-wan.
    let up = c
        .interface("pppoe-wan")
        .and_then(|i| i.uplink.as_ref())
        .expect("uplink");
    assert_eq!(up.prefix_length, Some(56));
    assert!(
        up.request_address && !up.release_on_stop,
        "reqaddress force, norelease 1"
    );
    let lan = c.interface("br-lan").expect("lan");
    let ra = lan.ra.as_ref().expect("ra");
    assert!(!ra.require_default_route, "ra_default 2");
    assert_eq!(
        (ra.max_interval, ra.min_interval, ra.router_lifetime, ra.mtu),
        (300, Some(100), Some(900), Some(1280))
    );
    assert_eq!(
        (ra.reachable_time, ra.retrans_timer, ra.hop_limit),
        (30000, 1000, 64)
    );
    assert_eq!(ra.router_preference, crate::schema::Preference::High);
    assert_eq!(
        ra.pref64.map(|p| p.to_string()).as_deref(),
        Some("64:ff9b::/96")
    );
    assert_eq!(
        ra.dns,
        ["2001:db8:53::53"],
        "the IPv4 DNS server is for DHCPv4"
    );
    assert_eq!(ra.search, ["lan.home.arpa"]);
    // ra_useleasetime with leasetime 1h bounds the valid lifetime.
    assert_eq!(
        (
            ra.prefixes[0].preferred_lifetime,
            ra.prefixes[0].valid_lifetime
        ),
        (2700, 3600)
    );
    let d = lan.dhcpv6.as_ref().expect("dhcpv6");
    assert_eq!(d.pd_pool.as_ref().map(|p| p.delegated_length), Some(62));
    // The guest LAN: ip6hint 20 with ip6assign 64, O flag only (ra_management 0).
    let g = c.interface("lan3").expect("guest");
    assert_eq!(
        g.assign.as_ref().map(|a| a.subnet.clone()),
        Some(Subnet::Index(0x20))
    );
    let gra = g.ra.as_ref().expect("guest ra");
    assert!(!gra.managed && gra.other_config && g.dhcpv6.is_none());
    assert_eq!(gra.prefixes[1].prefix.to_string(), "fd00:db8:77:20::/64");
    // 6in4 with HE's update: netifd's MTU and TTL, the update as a command.
    let t = &c.tunnels[0];
    assert_eq!(
        (t.name.as_str(), t.local.as_str(), t.wan.as_deref()),
        ("6in4-henet", "auto", Some("pppoe-wan"))
    );
    assert_eq!((t.mtu, t.ttl, t.default_route), (1424, 64, true));
    let cmd = t.update_command.as_deref().unwrap_or_default();
    assert!(
        cmd.contains("username=heuser&password=k3y&hostname=123456"),
        "{cmd}"
    );
}

#[test]
fn malformed_files_give_places_never_a_panic() {
    let net = "config interface 'lan'\n\toption device 'br-lan\noption proto static\n";
    let o = run(&format!("option early '1'\n{net}"), None);
    assert!(o.has_errors() && o.toml.is_empty());
    let at: Vec<(usize, String)> = o
        .diags
        .iter()
        .map(|d| (d.line, d.message.clone()))
        .collect();
    assert_eq!(at[0], (1, "`option` outside a section".to_string()));
    assert_eq!(at[1], (3, "unterminated '".to_string()));
    assert!(o
        .diags
        .iter()
        .all(|d| d.file == std::path::Path::new("/etc/config/network")));
    let shown = crate::Diagnostics(o.diags.clone()).to_string();
    assert!(shown.contains("--> /etc/config/network:3:16"), "{shown}");
}

#[test]
fn unknown_proto_and_bad_values() {
    let net = "config interface 'wan6'\n\toption device 'eth1'\n\toption proto 'dhcpv7'\n\nconfig interface 'x'\n\toption device 'eth2'\n\toption proto 'dhcpv6'\n\toption reqprefix 'big'\n";
    let o = run(net, None);
    let d: Vec<(usize, bool, &str)> = o
        .diags
        .iter()
        .map(|d| (d.line, d.is_error(), d.message.as_str()))
        .collect();
    assert_eq!(d[0].0, 1);
    assert!(
        !d[0].1 && d[0].2.contains("unknown proto `dhcpv7`"),
        "{d:?}"
    );
    assert_eq!((d[1].0, d[1].1), (8, true));
    assert!(d[1].2.contains("`reqprefix`: `big` is not"), "{d:?}");
}

#[test]
fn relay_and_absent_files() {
    let o = run(&fixture("openwrt-24.10-network"), None);
    let c = checked(&o);
    assert!(c.interface("br-lan").is_some_and(|i| i.ra.is_none()));
    // Relayed, but from nothing: odhcpd needs a master as well.
    let dhcp = "config dhcp 'lan'\n\toption interface 'lan'\n\toption ra 'relay'\n\toption dhcpv6 'relay'\n\toption ndp 'relay'\n";
    let o = run(&fixture("openwrt-24.10-network"), Some(dhcp));
    checked(&o);
    assert_eq!(keys(&o), ["dhcp.lan.ra"]);
    assert!(o.diags[0].message.contains("master"), "{:?}", o.diags);
}

/// odhcpd's relay mode as OpenWrt's wiki writes it (the WAN's section is
/// the master): the LAN relays from the WAN's device. The default LAN has
/// `ip6assign`, so it is routed while a prefix is delegated.
#[test]
fn relay_mode_from_the_master() {
    let relay = "config dhcp 'lan'\n\toption interface 'lan'\n\toption ra 'relay'\n\toption dhcpv6 'relay'\n\toption ndp 'relay'\n\n\
                 config dhcp 'wan6'\n\toption interface 'wan6'\n\toption ra 'relay'\n\toption dhcpv6 'relay'\n\toption ndp 'relay'\n\toption master '1'\n";
    let o = run(&fixture("openwrt-24.10-network"), Some(relay));
    let c = checked(&o);
    assert!(o.diags.is_empty(), "{:?}", keys(&o));
    let lan = c.interface("br-lan").expect("br-lan");
    let r = lan.relay.as_ref().expect("relay");
    assert_eq!((r.from.as_str(), r.fallback), ("wan", true));
    assert!(lan.ra.is_none() && lan.dhcpv6.is_none(), "{}", o.toml);
    // A LAN without ip6assign relays only; RA served beside relayed
    // DHCPv6 is named.
    let network = fixture("openwrt-24.10-network").replace("\toption ip6assign '60'\n", "");
    let mixed = relay.replace(
        "option dhcpv6 'relay'\n\toption ndp",
        "option dhcpv6 'server'\n\toption ndp",
    );
    let o = run(&network, Some(&mixed));
    let c = checked(&o);
    let r = c
        .interface("br-lan")
        .and_then(|i| i.relay.clone())
        .expect("relay");
    assert_eq!((r.from.as_str(), r.fallback), ("wan", false));
    assert_eq!(keys(&o), ["dhcp.lan.dhcpv6"]);
    // hybrid is relay mode too.
    let o = run(&network, Some(&relay.replace("ra 'relay'", "ra 'hybrid'")));
    let c = checked(&o);
    let r = c.interface("br-lan").and_then(|i| i.relay.clone());
    assert!(r.is_some_and(|r| !r.fallback), "{}", o.toml);
}

#[test]
fn own_settings_and_odd_values() {
    let n = PathBuf::from("/etc/config/network");
    let v = PathBuf::from("/etc/config/v6router");
    let o = import(&Input {
        network: (&n, &fixture("openwrt-24.10-network")),
        dhcp: None,
        v6router: Some((&v, "config v6router 'main'\n\toption source 'uci'\n\toption state_dir '/etc/v6router'\n\toption socket '/tmp/x.sock'\n\toption colour 'blue'\n")),
    });
    let c = checked(&o);
    assert_eq!(c.router.state_dir, PathBuf::from("/etc/v6router"));
    assert_eq!(c.control.socket, PathBuf::from("/tmp/x.sock"));
    assert_eq!(keys(&o), ["v6router.main.colour"]);
    assert_eq!(duration("12h"), Some(43200));
    assert_eq!(duration("30"), Some(60), "odhcpd's minimum");
    assert_eq!(duration("infinite"), Some(u32::MAX));
    assert_eq!(duration("soon"), None);
    assert_eq!(emit::s("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
}

/// Every prefix of every fixture, cut at each character: diagnostics, never a panic.
#[test]
fn truncated_files_never_panic() {
    for (n, d) in [
        ("custom-network", "custom-dhcp"),
        ("openwrt-24.10-network", "openwrt-24.10-dhcp"),
    ] {
        let (n, d) = (fixture(n), fixture(d));
        for (i, _) in n.char_indices().step_by(7) {
            let _ = run(&n[..i], Some(&d));
        }
        for (i, _) in d.char_indices().step_by(7) {
            let _ = run(&n, Some(&d[..i]));
        }
    }
}

#[test]
fn lease_trigger_without_lease_file_is_reported() {
    let dhcp = "config odhcpd 'odhcpd'\n\toption leasetrigger '/usr/sbin/odhcpd-update'\n";
    let o = run(&fixture("openwrt-24.10-network"), Some(dhcp));
    let c = checked(&o);
    assert!(c.dhcpv6_state.is_none());
    assert_eq!(keys(&o), ["dhcp.odhcpd.leasetrigger"]);
    assert!(o.diags[0]
        .message
        .contains("only after writing `leasefile`"));
}
