//! Relay mode (issue 19 §1): real radvd as an ISP that advertises one /64
//! and delegates nothing; v6routerd relays its RA onto the LAN; the LAN
//! host's own kernel is the SLAAC client, rdisc6 reads the RA it gets.
//! With Kea as the ISP's DHCPv6 server (and radvd's M flag), dhclient -6
//! on the LAN is served through our DHCPv6 relay agent.

use std::time::Duration;
use testlab::{lease_field, wait_for, Daemon, Netns};

/// ISP -- wan0 [rtr] lan0 -- eth0 [host], with this file's helpers.
struct Home(testlab::Home);

impl std::ops::Deref for Home {
    type Target = testlab::Home;
    fn deref(&self) -> &testlab::Home {
        &self.0
    }
}

fn home(tag: &str) -> Home {
    let h = testlab::Home::new(tag, "lan0");
    h.rtr.sh("sysctl -qw net.ipv6.conf.all.forwarding=1");
    Home(h)
}

/// The home relaying: the router `r` with [`ROUTER`], and radvd as the
/// ISP advertising its /64 valid 1 h, preferred 30 min (its pid last).
fn relaying(tag: &str) -> (Home, Daemon, u32) {
    let h = home(tag);
    let d = h.router("r");
    let radvd = h.start_radvd((3600, 1800));
    (h, d, radvd)
}

const ROUTER: &str = concat!(
    testlab::router_toml!("off"),
    r#"
[[interface]]
name = "wan0"

[[interface]]
name = "lan0"
relay = { from = "wan0" }
[interface.ra]
max_interval = 4
"#
);

impl Home {
    fn router(&self, name: &str) -> Daemon {
        self.0.router(name, ROUTER)
    }

    /// radvd as the ISP: one /64 with `lifetimes` (valid, preferred),
    /// RDNSS and an MTU; no DHCPv6 server, nothing delegated.
    fn start_radvd(&self, lifetimes: (u32, u32)) -> u32 {
        self.start_radvd_every(lifetimes, (3, 4))
    }

    /// As `start_radvd`, advertising every `interval` (min, max) seconds.
    fn start_radvd_every(&self, lifetimes: (u32, u32), interval: (u32, u32)) -> u32 {
        let conf = format!(
            "interface isp0 {{ AdvSendAdvert on; MinRtrAdvInterval {}; MaxRtrAdvInterval {}; AdvLinkMTU 1480;\n\
             prefix 2001:db8:ff::/64 {{ AdvOnLink on; AdvAutonomous on; AdvValidLifetime {}; AdvPreferredLifetime {}; }};\n\
             RDNSS 2001:db8:ff::53 {{ }};\n}};\n",
            interval.0, interval.1, lifetimes.0, lifetimes.1
        );
        self.lab.radvd(&self.isp, &conf)
    }

    /// The host's global address in `prefix`, with its `ip addr` line.
    fn host_line(&self, prefix: &str) -> Option<String> {
        let out = self.host.sh("ip -6 -o addr show dev eth0 scope global");
        out.lines()
            .find(|l| l.contains(&format!("inet6 {prefix}")))
            .map(String::from)
    }

    /// The host's address line in the ISP's 2001:db8:ff::/64 once `ok`
    /// holds for it, waiting up to `secs` seconds.
    fn wait_isp_line(&self, secs: u64, ok: impl Fn(&str) -> bool) -> Option<String> {
        wait_for(Duration::from_secs(secs), || {
            self.host_line("2001:db8:ff:").filter(|l| ok(l))
        })
    }
}

#[test]
#[ignore = "needs root, network namespaces and radvd"]
fn the_isps_slash64_and_dns_reach_the_lan_host_from_our_link_local() {
    let (h, d, _radvd) = relaying("relay-ra");
    // The host autoconfigures in the ISP's /64 (kernel SLAAC).
    let line = wait_for(Duration::from_secs(20), || h.host_line("2001:db8:ff:"));
    assert!(
        line.is_some(),
        "host never autoconfigured in 2001:db8:ff::/64; host addrs:\n{}\nlog:\n{}",
        h.host.sh("ip -6 addr show dev eth0"),
        d.log_text()
    );
    // rdisc6 solicits: our RS answer carries the relayed content and comes
    // from the router's own link-local on the LAN, not the ISP's.
    let out = h.host.sh("rdisc6 -1 -w 3000 eth0 2>&1");
    let ours = h.rtr.link_local("lan0");
    let isp = h.isp.link_local("isp0");
    assert!(
        out.contains("2001:db8:ff::/64"),
        "no relayed prefix:\n{out}"
    );
    assert!(out.contains("2001:db8:ff::53"), "no relayed RDNSS:\n{out}");
    assert!(out.contains("1480"), "no relayed MTU:\n{out}");
    assert!(
        out.contains(&format!("from {ours}")),
        "not from {ours}:\n{out}"
    );
    assert!(!out.contains(&isp), "the ISP's RA leaked through:\n{out}");
    // The host's default route points at us.
    let routes = h.host.sh("ip -6 route show default");
    assert!(routes.contains(&ours), "host default route: {routes}");
}

/// A router started long after its WAN came up solicits the ISP's RA
/// (RFC 4861 §6.3.7) instead of relaying nothing until the next unsolicited
/// one: radvd advertises every 10-30 min after its initial RAs (16 s
/// apart), so the host would get the /64 about 14 s after the start.
#[test]
#[ignore = "needs root, network namespaces and radvd"]
fn a_relay_started_late_solicits_the_isps_ra() {
    let h = home("relay-rs");
    // The kernel's own RSs at link-up are over long before a router starts.
    h.rtr
        .sh("sysctl -qw net.ipv6.conf.wan0.router_solicitations=0");
    h.start_radvd_every((3600, 1800), (600, 1800));
    std::thread::sleep(Duration::from_secs(2));
    let t0 = std::time::Instant::now();
    let d = h.router("r");
    let got = wait_for(Duration::from_secs(8), || {
        h.host_line("2001:db8:ff:").map(|_| t0.elapsed())
    });
    let Some(took) = got else {
        panic!(
            "nothing relayed 8 s after the start; log:\n{}",
            d.log_text()
        );
    };
    eprintln!("FIGURE relayed_prefix_after_start_ms {}", took.as_millis());
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
#[ignore = "needs root, network namespaces and radvd"]
fn a_withdrawal_upstream_is_relayed() {
    let (h, d, radvd) = relaying("relay-wd");
    let got = wait_for(Duration::from_secs(20), || h.host_line("2001:db8:ff:"));
    assert!(got.is_some(), "no address; log:\n{}", d.log_text());
    // The ISP withdraws the prefix: preferred 0 (RFC 4862 §5.5.3 e keeps
    // the valid lifetime at 2 h, but the address is deprecated at once).
    h.isp.sh(&format!("kill {radvd}"));
    std::thread::sleep(Duration::from_millis(300));
    h.start_radvd((0, 0));
    let dep = h.wait_isp_line(15, |l| l.contains("deprecated"));
    assert!(
        dep.is_some(),
        "the host's address was not deprecated: {:?}\nlog:\n{}",
        h.host_line("2001:db8:ff:"),
        d.log_text()
    );
}

const FALLBACK: &str = concat!(
    testlab::router_toml!("off"),
    testlab::wan_uplink!(56),
    "solicit_max_rt = 60\n",
    r#"
[[interface]]
name = "lan0"
assign = { from = "wan0", length = 64, subnet = 1 }
relay = { from = "wan0", fallback = true }
[interface.ra]
max_interval = 4
[[interface.ra.prefix]]
prefix = "::/64"
"#
);

#[test]
#[ignore = "needs root, network namespaces, radvd and kea-dhcp6"]
fn fallback_relays_until_a_prefix_is_delegated_then_routes() {
    let h = home("relay-fb");
    let d = h.0.router("r", FALLBACK);
    h.start_radvd((3600, 1800));
    // Nothing delegated: relayed.
    let relayed = wait_for(Duration::from_secs(20), || h.host_line("2001:db8:ff:"));
    assert!(relayed.is_some(), "not relayed; log:\n{}", d.log_text());
    // Kea starts delegating: the LAN gets a /64 of the /56 (routed mode).
    h.lab.kea6(&h.isp, "isp0", "2001:db8:100::", "[]");
    let lan = wait_for(Duration::from_secs(75), || {
        let out = h.rtr.sh("ip -6 -o addr show dev lan0 scope global");
        out.lines()
            .filter_map(|l| l.split_whitespace().nth(3))
            .find(|a| a.starts_with("2001:db8:1"))
            .map(|a| a.split('/').next().unwrap_or_default().to_string())
    });
    let Some(lan) = lan else {
        panic!("nothing delegated; log:\n{}", d.log_text());
    };
    let t_lan = std::time::Instant::now();
    let prefix: String = lan.split("::").next().unwrap_or_default().to_string();
    // The host is in it soon after. Our RA engine advertises the new /64
    // as soon as lan0 has it (tentative or not: no wait for DAD), but RFC
    // 4861 §6.2.4 MIN_DELAY_BETWEEN_RAS keeps 3 s between multicast RAs,
    // so the RA waits for what is left of 3 s since the last one: between
    // 0 and 3 s (measured 1.9 to 2.6 s over 9 runs, since the delegation
    // comes 0.5 to 1.1 s after the relayed RA's resync). Issue 19 asks for
    // 2 s; that rule makes 3 s the honest bound, plus 0.5 s for the host.
    let host = wait_for(Duration::from_millis(3500), || {
        h.host_line(&format!("{prefix}:"))
    });
    eprintln!(
        "fallback: host in {prefix}::/64 {} ms after lan0 got {lan}",
        t_lan.elapsed().as_millis()
    );
    assert!(
        host.is_some(),
        "host not in {prefix}::/64 within 3.5 s of lan0 getting {lan}: {}\nlog:\n{}",
        h.host.sh("ip -6 addr show dev eth0"),
        d.log_text()
    );
    // And the relayed /64 is withdrawn (deprecated on the host).
    let dep = h.wait_isp_line(10, |l| l.contains("deprecated"));
    assert!(
        dep.is_some(),
        "relayed /64 not withdrawn: {:?}",
        h.host_line("2001:db8:ff:")
    );
}

#[test]
#[ignore = "needs root, network namespaces and radvd"]
fn the_isp_and_the_lan_host_reach_each_other_through_the_nd_proxy() {
    let (h, d, _radvd) = relaying("relay-nd");
    let line = h.wait_isp_line(20, |l| !l.contains("tentative"));
    let Some(line) = line else {
        panic!("no address; log:\n{}", d.log_text());
    };
    let addr = line
        .split_whitespace()
        .nth(3)
        .and_then(|a| a.split('/').next())
        .unwrap_or_default()
        .to_string();
    // `from` reaches `to` within 10 s, or the test fails saying `what`.
    let reaches = |from: &Netns, to: &str, what: &str| {
        assert!(
            from.pings_within(to, Duration::from_secs(10)),
            "{what}; router routes:\n{}\nlog:\n{}",
            h.rtr.sh("ip -6 route"),
            d.log_text()
        );
    };
    reaches(&h.host, "2001:db8:ff::1", "host cannot ping the ISP");
    assert!(h.isp.ping(&addr), "ISP cannot ping the host at {addr}");
    // An address the host never announced (no DAD): found by probing.
    h.host.sh("ip addr add 2001:db8:ff::beef/64 dev eth0 nodad");
    reaches(
        &h.isp,
        "2001:db8:ff::beef",
        "ISP cannot ping the nodad address",
    );
    // Never for an address that is not on the LAN: the ISP learns no
    // link-layer address for it (ours would be a lie).
    assert!(!h.isp.ping("2001:db8:ff::dead"));
    let neigh = h.isp.sh("ip -6 neigh show 2001:db8:ff::dead dev isp0");
    assert!(!neigh.contains("lladdr"), "answered for ::dead: {neigh}");
}

/// Kea on the ISP link as a real ISP runs it: one subnet per customer link,
/// the /64 its radvd advertises there (Lab::kea6: pool ::1000-::10ff, /56s
/// of 2001:db8:100::/40), known by its prefix, not by an interface of the
/// server (a real ISP's server sits behind its own relays) and with
/// nothing that knows our LAN: an ISP cannot know what its customers call
/// their LANs, so no interface-id or `relay` entry. Kea then places a
/// relayed client by the relay's link-address alone (with a subnet bound
/// to isp0 it would take that subnet whatever the link-address: tried,
/// it leased with link-address ::). Ours is our WAN address in that /64,
/// which in relay mode spans the LAN too, so the LAN client gets an
/// address of the ISP's /64 that the ND proxy makes reachable.
fn isp_with_kea(h: &Home) {
    h.lab
        .kea6_subnet(&h.isp, "isp0", "2001:db8:100::", "[]", false);
    h.lab.isp_radvd(&h.isp, "isp0");
}

/// A dhclient script that puts the leased address on the interface (the
/// lab's default, /bin/true, touches nothing).
/// The home relaying to Kea: the router `r` with [`ROUTER`] and
/// [`isp_with_kea`].
fn relaying_to_kea(tag: &str) -> (Home, Daemon) {
    let h = home(tag);
    let d = h.router("r");
    isp_with_kea(&h);
    (h, d)
}

fn address_script(h: &Home) -> String {
    let path = h.lab.dir().join("add-address.sh");
    std::fs::write(
        &path,
        "#!/bin/sh\ncase \"$reason\" in BOUND6|RENEW6|REBIND6|REBOOT6)\n\
         [ -n \"$new_ip6_address\" ] && ip -6 addr replace \"$new_ip6_address/128\" dev \"$interface\";;\nesac\nexit 0\n",
    )
    .unwrap();
    h.lab.dir().join("add-address.sh").display().to_string()
}

/// The relay's part of `show protocols`: "N forwarded".
fn forwarded(d: &Daemon) -> u64 {
    let p = d.ctl(&["show", "protocols"]);
    p.split("DHCPv6 relay on lan0: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// dhclient -6 on the host, with the address it leases put on eth0: that
/// address, after checking it is in Kea's pool and was relayed by us.
fn lease_through_the_relay(h: &Home, d: &Daemon) -> std::net::Ipv6Addr {
    let script = address_script(h);
    std::process::Command::new("chmod")
        .args(["+x", &script])
        .status()
        .unwrap();
    let c = h.lab.dhclient(&h.host, "c", &["-sf", &script], "eth0");
    let lease = c.wait_lease(Duration::from_secs(30), |t| t.contains("iaaddr"));
    let Some(lease) = lease else {
        panic!(
            "no lease through the relay\ndhclient:\n{}\nkea:\n{}\nlog:\n{}",
            c.log_text(),
            std::fs::read_to_string(h.lab.dir().join("kea.log")).unwrap_or_default(),
            d.log_text()
        );
    };
    let addr = lease_field(&lease, "iaaddr").unwrap_or_default();
    let a: std::net::Ipv6Addr = addr.parse().expect("an address");
    let (first, last): (std::net::Ipv6Addr, std::net::Ipv6Addr) = (
        "2001:db8:ff::1000".parse().unwrap(),
        "2001:db8:ff::10ff".parse().unwrap(),
    );
    assert!(first <= a && a <= last, "{a} not in Kea's pool:\n{lease}");
    let on_host = wait_for(Duration::from_secs(5), || h.host_line(&addr));
    assert!(on_host.is_some(), "{a} not on the host");
    assert!(forwarded(d) >= 2, "{}", d.ctl(&["show", "protocols"]));
    a
}

#[test]
#[ignore = "needs root, network namespaces, radvd, kea-dhcp6 and dhclient"]
fn a_lan_client_gets_an_address_from_the_isps_kea_through_the_relay() {
    let (h, d) = relaying_to_kea("relay-dh");
    let a = lease_through_the_relay(&h, &d);
    // The ND proxy learned it from its DAD: the ISP reaches it.
    let ok = h.isp.pings_within(&a.to_string(), Duration::from_secs(10));
    assert!(ok, "the ISP cannot ping {a}");
}

/// `dhcpv6_servers`: Relay-forwards unicast to the server named (Kea
/// listens on isp0's link-local too), not to ff02::1:2.
#[test]
#[ignore = "needs root, network namespaces, radvd, kea-dhcp6 and dhclient"]
fn relay_forwards_go_to_the_configured_server() {
    let h = home("relay-us");
    let kea = h.isp.link_local("isp0");
    let cfg = ROUTER.replace(
        "relay = { from = \"wan0\" }",
        &format!("relay = {{ from = \"wan0\", dhcpv6_servers = [\"{kea}\"] }}"),
    );
    let d = h.0.router("r", &cfg);
    isp_with_kea(&h);
    let (ts, pcap) = h.lab.capture(&h.isp, "isp0", "udp port 547", "wan");
    lease_through_the_relay(&h, &d);
    let _ = h.lab.stop(ts, Duration::from_secs(5));
    let dsts = h.isp.sh(&format!(
        "tshark -r {pcap} -Y dhcpv6.msgtype==12 -T fields -e ipv6.dst 2>/dev/null"
    ));
    assert!(
        !dsts.is_empty() && dsts.lines().all(|l| l.trim() == kea),
        "Relay-forwards not (all) to {kea}: {dsts}"
    );
}

/// A LAN with a DHCPv6 server section of its own that relays: the server
/// leaves it to the relay (Kea's address, not one of our pool), and does
/// not count the clients' multicast it also hears as strays.
#[test]
#[ignore = "needs root, network namespaces, radvd, kea-dhcp6 and dhclient"]
fn a_relaying_lan_is_not_served_by_our_dhcpv6_server() {
    let h = home("relay-sv");
    let cfg = format!("{ROUTER}[interface.dhcpv6]\npool = \"2001:db8:1::1000-2001:db8:1::1fff\"\n");
    let d = h.0.router("r", &cfg);
    isp_with_kea(&h);
    lease_through_the_relay(&h, &d);
    let st = d.ctl(&["show", "dhcpv6"]);
    assert!(st.contains("lan0 (relayed)"), "{st}");
    let js = d.ctl(&["--json", "show", "dhcpv6"]);
    assert!(!js.contains("unknown-interface"), "{js}");
    assert_eq!(d.dhcpv6_received("SOLICIT"), 0, "{js}");
}

/// Our routes of protocol v6router via a gateway.
fn pd_routes(rtr: &Netns) -> String {
    rtr.sh("ip -6 route show proto 201")
        .lines()
        .filter(|l| l.contains(" via "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
#[ignore = "needs root, network namespaces, radvd, kea-dhcp6 and dhclient"]
fn a_prefix_delegated_to_a_lan_router_through_the_relay_is_routed_until_released() {
    let (h, d) = relaying_to_kea("relay-pd");
    let c = h.lab.dhclient(&h.host, "c", &["-P"], "eth0");
    let lease = c.wait_lease(Duration::from_secs(30), |t| t.contains("iaprefix"));
    let Some(lease) = lease else {
        panic!("no prefix\n{}\nlog:\n{}", c.log_text(), d.log_text());
    };
    let prefix = lease_field(&lease, "iaprefix").unwrap_or_default();
    assert!(prefix.starts_with("2001:db8:1"), "{prefix}");
    let host_ll = h.host.link_local("eth0");
    let route = wait_for(Duration::from_secs(3), || {
        let r = pd_routes(&h.rtr);
        r.contains(&prefix).then_some(r)
    });
    let Some(route) = route else {
        panic!(
            "no route for {prefix}:\n{}\nlog:\n{}",
            h.rtr.sh("ip -6 route"),
            d.log_text()
        );
    };
    assert!(
        route.contains(&format!("via {host_ll} dev lan0")),
        "{route}"
    );
    let pf = h.lab.dir().join("c.pid").display().to_string();
    let lf = h.lab.dir().join("c.leases").display().to_string();
    h.host.sh(&format!(
        "dhclient -6 -P -r -sf /bin/true -lf {lf} -pf {pf} eth0"
    ));
    let gone = wait_for(Duration::from_secs(3), || {
        (!pd_routes(&h.rtr).contains(&prefix)).then_some(())
    });
    assert!(
        gone.is_some(),
        "route stayed after the Release:\n{}",
        pd_routes(&h.rtr)
    );
}
