//! The uplink: real Kea 2.2 delegating prefixes and real radvd as the ISP,
//! v6routerd as the home router, the LAN host's own kernel as SLAAC client.

use std::time::{Duration, Instant};
use testlab::{wait_for, Daemon, Netns};

/// ISP -- wan0 [rtr] lan0 -- eth0 [host], with this file's helpers.
struct Home(testlab::Home);

impl std::ops::Deref for Home {
    type Target = testlab::Home;
    fn deref(&self) -> &testlab::Home {
        &self.0
    }
}

fn home(tag: &str) -> Home {
    Home(testlab::Home::new(tag, "lan0"))
}

const ROUTER: &str = concat!(
    testlab::router_toml!("auto"),
    testlab::wan_uplink!(56),
    "solicit_max_rt = 60\n",
    testlab::lan_from_wan!("lan0", 1),
    r#"dns = ["uplink"]
[[interface.ra.prefix]]
prefix = "::/64"
"#
);

impl Home {
    /// Kea delegating /56s out of `pool` (a /40) with DNS, with the short
    /// timers of RECIPES.md, plus radvd for the WAN's default route.
    fn start_isp(&self, pool: &str) -> u32 {
        self.kea(
            pool,
            r#"[ { "name": "dns-servers", "data": "2001:db8:ff::53" } ]"#,
        )
    }

    fn router(&self, name: &str) -> Daemon {
        self.router_with(name, ROUTER)
    }

    /// The router with `config` (STATE and SOCK filled in).
    fn router_with(&self, name: &str, config: &str) -> Daemon {
        self.0.router(name, config)
    }

    /// The ISP routes what it delegated to the router (as real ISPs do).
    fn isp_routes_to_router(&self, pool: &str) {
        let ll = self.rtr.link_local("wan0");
        self.isp
            .sh(&format!("ip -6 route replace {pool} via {ll} dev isp0"));
    }

    /// Wait up to 10 s for `addr` on the router's lan0; fail with the log.
    fn wait_lan(&self, addr: &str, d: &Daemon) {
        self.wait_lan_within(addr, d, 10, "", "");
    }

    /// Wait up to `secs` for `addr` on lan0; fail with our log and the ISP
    /// server's (`ctx` names the run).
    fn wait_lan_within(&self, addr: &str, d: &Daemon, secs: u64, ctx: &str, isp_log: &str) {
        let got = wait_for(Duration::from_secs(secs), || {
            self.lan_has(addr).then_some(())
        });
        assert!(
            got.is_some(),
            "{ctx}lan0 never got {addr}: {}\nlog:\n{}\nISP server:\n{isp_log}",
            self.rtr.sh("ip -6 addr show dev lan0"),
            d.log_text()
        );
    }

    /// The first global address of `ns`'s eth0 that starts with `prefix`.
    fn first_addr(ns: &Netns, prefix: &str) -> Option<String> {
        let out = ns.sh("ip -6 -o addr show dev eth0 scope global");
        out.lines()
            .filter_map(|l| l.split_whitespace().nth(3))
            .filter_map(|a| a.split('/').next())
            .find(|a| a.starts_with(prefix))
            .map(String::from)
    }

    fn lan_has(&self, addr: &str) -> bool {
        self.rtr.sh("ip -6 addr show dev lan0").contains(addr)
    }

    fn host_addr_line(&self, prefix: &str) -> Option<String> {
        let out = self.host.sh("ip -6 addr show dev eth0 scope global");
        let lines: Vec<&str> = out.lines().collect();
        lines
            .iter()
            .position(|l| l.contains(&format!("inet6 {prefix}")))
            .map(|i| format!("{}\n{}", lines[i], lines.get(i + 1).unwrap_or(&"")))
    }

    fn kea_log(&self) -> String {
        std::fs::read_to_string(self.lab.dir().join("kea.log")).unwrap_or_default()
    }

    /// `show uplink` says wan0 is bound with the ISP's /56 and DNS server,
    /// and the host's kernel autoconfigures in lan0's /64 (`ctx` names the
    /// run).
    fn assert_bound_and_host_numbered(&self, d: &Daemon, ctx: &str) {
        let up = d.ctl(&["show", "uplink"]);
        assert_bound_56(&up, ctx);
        assert!(up.contains("DNS 2001:db8:ff::53"), "{ctx}{up}");
        let slaac = wait_for(Duration::from_secs(10), || {
            self.host_addr_line("2001:db8:100:1:")
        });
        assert!(slaac.is_some(), "{ctx}{}", self.host.sh("ip -6 addr"));
    }
}

/// `show uplink` says wan0 is bound with the ISP's /56 (`ctx` names the run).
fn assert_bound_56(up: &str, ctx: &str) {
    assert!(
        up.contains("wan0 bound") && up.contains("Delegated 2001:db8:100::/56"),
        "{ctx}{up}"
    );
}

#[test]
#[ignore = "needs root and network namespaces"]
fn delegated_prefix_reaches_the_lan_host() {
    let h = home("upd");
    h.start_isp("2001:db8:100::");
    let t0 = Instant::now();
    let d = h.router("r");
    h.wait_lan_within("2001:db8:100:1::1/64", &d, 10, "", &h.kea_log());
    eprintln!(
        "lan0 has 2001:db8:100:1::1/64 {:?} after start",
        t0.elapsed()
    );
    let routes = h.rtr.sh("ip -6 route show");
    assert!(routes.contains("unreachable 2001:db8:100::/56"), "{routes}");
    // The ULA as well, so local traffic works without the ISP.
    let lan = h.rtr.sh("ip -6 addr show dev lan0");
    assert!(lan.contains("inet6 fd"), "{lan}");

    // The host's own kernel autoconfigures in the LAN /64 and reaches the ISP.
    h.assert_bound_and_host_numbered(&d, "");
    h.isp_routes_to_router("2001:db8:100::/40");
    let ping = h
        .host
        .pings_within("2001:db8:ff::1", Duration::from_secs(6));
    assert!(
        ping,
        "host cannot reach the ISP:\n{}\n{}",
        h.host.sh("ip -6 route"),
        h.rtr.sh("ip -6 route")
    );
    // dns = ["uplink"]: the ISP's DNS server, learned by DHCPv6, in our RAs.
    let rd = h.host.sh("rdisc6 -1 -w 1500 eth0");
    assert!(rd.contains("2001:db8:ff::53"), "{rd}");
}

/// A router started while its WAN is already up solicits the ISP's RA
/// (RFC 4861 §6.3.7 as a host, RFC 7084 W-1) instead of waiting for the
/// next unsolicited one: radvd here advertises every 10-30 min after its
/// initial RAs (16 s apart), so without the RS the default route comes
/// ~14 s after the start, with it within about a second. The hosts on the
/// LAN get a default route from us only then (RFC 7084 G-4).
#[test]
#[ignore = "needs root and network namespaces"]
fn the_wan_solicits_the_isps_router_advertisement_at_start() {
    let h = home("uprs");
    // The kernel's own RSs at link-up are over long before a router starts.
    h.rtr
        .sh("sysctl -qw net.ipv6.conf.wan0.router_solicitations=0");
    h.lab.radvd(
        &h.isp,
        "interface isp0 { AdvSendAdvert on; MinRtrAdvInterval 600; MaxRtrAdvInterval 1800;\n\
         prefix 2001:db8:ff::/64 { AdvOnLink on; AdvAutonomous on; }; };\n",
    );
    // Let radvd's first initial RA go by before the router listens.
    std::thread::sleep(Duration::from_secs(2));
    let t0 = std::time::Instant::now();
    let d = h.router("r");
    let default = wait_for(Duration::from_secs(8), || {
        let r = h.rtr.sh("ip -6 route show default dev wan0");
        r.contains("via fe80::").then_some(t0.elapsed())
    });
    let Some(took) = default else {
        panic!(
            "no default route via wan0 8 s after the start\nradvd:\n{}\nlog:\n{}",
            std::fs::read_to_string(h.lab.dir().join("radvd.log")).unwrap_or_default(),
            d.log_text()
        );
    };
    eprintln!(
        "FIGURE wan_default_route_after_start_ms {}",
        took.as_millis()
    );
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[test]
#[ignore = "needs root and network namespaces"]
fn a_restart_keeps_the_delegated_prefix() {
    let h = home("upr");
    h.start_isp("2001:db8:100::");
    let d = h.router("r");
    h.wait_lan("2001:db8:100:1::1/64", &d);
    assert_eq!(h.lab.stop(d.pid, Duration::from_secs(3)), Some(0));
    let d2 = h.lab.restart(&d, "r");
    let log = d2.log_text();
    assert!(
        log.contains("kept the delegation across the restart: 2001:db8:100::/56"),
        "{log}"
    );
    let up = wait_for(Duration::from_secs(10), || {
        let s = d2.ctl(&["show", "uplink"]);
        s.contains("wan0 bound").then_some(s)
    });
    let up = up.unwrap_or_else(|| d2.ctl(&["show", "uplink"]));
    assert_bound_56(&up, "");
    assert!(h.lan_has("2001:db8:100:1::1/64"));
}

#[test]
#[ignore = "needs root and network namespaces"]
fn isp_renumbering_moves_the_lan_and_hosts_follow() {
    let h = home("upn");
    let kea = h.start_isp("2001:db8:100::");
    let d = h.router("r");
    h.wait_lan("2001:db8:100:1::1/64", &d);
    assert!(wait_for(Duration::from_secs(10), || h
        .host_addr_line("2001:db8:100:1:"))
    .is_some());
    h.isp_routes_to_router("2001:db8:100::/40");
    h.isp_routes_to_router("2001:db8:200::/40");

    // The ISP renumbers: Kea restarted with another pool.
    h.lab.stop(kea, Duration::from_secs(3));
    let leases = h.lab.dir().join("isp-leases.csv");
    assert!(leases.exists());
    h.start_isp("2001:db8:200::");
    let t = Instant::now();
    let moved = wait_for(Duration::from_secs(20), || {
        h.lan_has("2001:db8:200:1::1/64").then_some(())
    });
    assert!(
        moved.is_some(),
        "log:\n{}\nkea:\n{}",
        d.log_text(),
        h.kea_log()
    );
    eprintln!("LAN renumbered {:?} after Kea came back", t.elapsed());
    // The old LAN address is deprecated, not dropped (by the same plan
    // that added the new one, a netlink request or two later: polled).
    let deprecated = wait_for(Duration::from_secs(2), || {
        let lan = h.rtr.sh("ip -6 addr show dev lan0");
        let old = lan
            .lines()
            .skip_while(|l| !l.contains("2001:db8:100:1::1/64"))
            .take(2)
            .collect::<Vec<_>>()
            .join("\n");
        (old.contains("preferred_lft 0sec") || old.contains("deprecated") || old.is_empty())
            .then_some(())
    });
    assert!(
        deprecated.is_some(),
        "{}\n{}\nkea:\n{}",
        h.rtr.sh("ip -6 addr show dev lan0"),
        d.log_text(),
        h.kea_log()
    );

    // The host: old address deprecated, a preferred one in the new prefix.
    let host_old = wait_for(Duration::from_secs(10), || {
        h.host_addr_line("2001:db8:100:1:")
            .filter(|l| l.contains("preferred_lft 0sec") || l.contains("deprecated"))
    });
    assert!(
        host_old.is_some(),
        "{}",
        h.host.sh("ip -6 addr show dev eth0")
    );
    let host_new = wait_for(Duration::from_secs(10), || {
        h.host_addr_line("2001:db8:200:1:")
            .filter(|l| !l.contains("preferred_lft 0sec"))
    });
    assert!(
        host_new.is_some(),
        "{}",
        h.host.sh("ip -6 addr show dev eth0")
    );
    let ping = h
        .host
        .pings_within("2001:db8:ff::1", Duration::from_secs(6));
    assert!(ping, "{}", h.host.sh("ip -6 addr; ip -6 route"));
    // And the old one disappears when its valid lifetime (bounded by the old
    // delegation, 40 s at most) runs out.
    let gone = wait_for(Duration::from_secs(45), || {
        h.host_addr_line("2001:db8:100:1:").is_none().then_some(())
    });
    assert!(gone.is_some(), "{}", h.host.sh("ip -6 addr show dev eth0"));
    // The old aggregate goes once nothing of the old delegation is valid.
    let routes = wait_for(Duration::from_secs(45), || {
        let r = h.rtr.sh("ip -6 route show");
        (!r.contains("unreachable 2001:db8:100::/56")).then_some(r)
    });
    let routes = routes.unwrap_or_else(|| h.rtr.sh("ip -6 route show"));
    assert!(
        routes.contains("unreachable 2001:db8:200::/56")
            && !routes.contains("unreachable 2001:db8:100::/56"),
        "{routes}\n{}",
        d.log_text()
    );
}

#[test]
#[ignore = "needs root and network namespaces"]
fn kea_absent_at_start_the_ula_works_and_the_prefix_comes_later() {
    let h = home("upa");
    let d = h.router("r");
    // ULA at once.
    assert!(wait_for(Duration::from_secs(5), || h
        .rtr
        .sh("ip -6 addr show dev lan0")
        .contains("inet6 fd")
        .then_some(()))
    .is_some());
    let ula = wait_for(Duration::from_secs(10), || h.host_addr_line("fd"));
    assert!(ula.is_some(), "{}", h.host.sh("ip -6 addr"));
    std::thread::sleep(Duration::from_secs(4));
    let up = d.ctl(&["show", "uplink"]);
    assert!(up.contains("wan0 soliciting"), "{up}");
    let t = Instant::now();
    h.start_isp("2001:db8:100::");
    let got = wait_for(Duration::from_secs(40), || {
        h.lan_has("2001:db8:100:1::1/64").then_some(())
    });
    assert!(got.is_some(), "{}", d.log_text());
    eprintln!("prefix arrived {:?} after Kea started", t.elapsed());
}

#[test]
#[ignore = "needs root and network namespaces"]
fn tshark_finds_our_client_messages_well_formed() {
    let h = home("upt");
    let (tshark, cap) = h.lab.tcpdump(&h.isp, "isp0", "udp port 547", "wan.pcap");
    std::thread::sleep(Duration::from_millis(500));
    h.start_isp("2001:db8:100::");
    let d = h.router("r");
    h.wait_lan("2001:db8:100:1::1/64", &d);
    // Renew at T1 = 4 s, then a Release.
    std::thread::sleep(Duration::from_secs(6));
    d.ctl(&["uplink", "release"]);
    // Wait until the Release (and Kea's Reply to it) is on disk.
    let seen = wait_for(Duration::from_secs(8), || {
        let o = h.isp.run(&format!(
            "tshark -r {cap} -Y 'dhcpv6.msgtype == 8' 2>/dev/null"
        ));
        (!String::from_utf8_lossy(&o.stdout).trim().is_empty()).then_some(())
    });
    assert!(
        seen.is_some(),
        "no Release captured; log:\n{}",
        d.log_text()
    );
    std::thread::sleep(Duration::from_millis(300));
    h.lab.stop(tshark, Duration::from_secs(2));
    let out = h.isp.sh(&format!("tshark -r {cap} -V -Y dhcpv6 2>&1"));
    for kind in ["Solicit", "Request", "Renew", "Release"] {
        assert!(
            out.contains(&format!("Message type: {kind}")),
            "no {kind} in the capture:\n{out}"
        );
    }
    assert!(
        !out.contains("Malformed") && !out.contains("[Expert Info (Error"),
        "{out}"
    );
}

/// Not a timed test: measures, and prints, how long the new prefix takes from
/// the ISP's Reply (seen on wan0) to the first RA carrying it on lan0, both
/// captured in the router's namespace (one clock). tests/bench/renumber.sh
/// runs it and reports the figure.
#[test]
#[ignore = "needs root and network namespaces"]
fn renumbering_latency_reply_to_lan_ra() {
    let h = home("upl");
    let kea = h.start_isp("2001:db8:100::");
    let d = h.router("r");
    h.wait_lan("2001:db8:100:1::1/64", &d);
    let (w, wan) = h.lab.tcpdump(&h.rtr, "wan0", "udp port 546", "wan.pcap");
    let (l, lan) = h.lab.tcpdump(&h.rtr, "lan0", "icmp6", "lan.pcap");
    std::thread::sleep(Duration::from_millis(700));
    h.lab.stop(kea, Duration::from_secs(3));
    h.start_isp("2001:db8:200::");
    assert!(
        wait_for(Duration::from_secs(20), || h
            .lan_has("2001:db8:200:1::1/64")
            .then_some(()))
        .is_some(),
        "{}",
        d.log_text()
    );
    std::thread::sleep(Duration::from_secs(2));
    h.lab.stop(w, Duration::from_secs(2));
    h.lab.stop(l, Duration::from_secs(2));
    let first = |file: &str, filter: &str| -> Option<f64> {
        let out = h.rtr.sh(&format!(
            "tshark -r {file} -Y '{filter}' -T fields -e frame.time_epoch 2>/dev/null | head -1"
        ));
        out.trim().parse().ok()
    };
    let reply = first(
        &wan,
        "dhcpv6.msgtype == 7 && dhcpv6.iaprefix.pref_addr == 2001:db8:200::",
    );
    let ra = first(
        &lan,
        "icmpv6.type == 134 && icmpv6.opt.prefix == 2001:db8:200:1::",
    );
    let (reply, ra) = (
        reply.expect("no Reply with the new prefix captured"),
        ra.expect("no RA with the new prefix captured"),
    );
    assert!(ra >= reply);
    // RFC 4861 §6.2.4: multicast RAs at most one per MIN_DELAY_BETWEEN_RAS
    // (3 s). Report how much of the wait that rule imposed.
    let all_ras = h.rtr.sh(&format!(
        "tshark -r {lan} -Y 'icmpv6.type == 134' -T fields -e frame.time_epoch 2>/dev/null"
    ));
    let prev = all_ras
        .lines()
        .filter_map(|l| l.trim().parse::<f64>().ok())
        .filter(|t| *t <= reply)
        .fold(f64::MIN, f64::max);
    let imposed = if prev > f64::MIN {
        (prev + 3.0 - reply).max(0.0)
    } else {
        0.0
    };
    println!(
        "FIGURE renumber_reply_to_lan_ra_ms {:.1}",
        (ra - reply) * 1000.0
    );
    println!(
        "FIGURE of_which_min_delay_between_ras_ms {:.1}",
        imposed * 1000.0
    );
    println!(
        "FIGURE beyond_the_rfc_rate_limit_ms {:.1}",
        ((ra - reply) - imposed).max(0.0) * 1000.0
    );
}

/// The cascade's RIPng, after a LAN's `[interface.ra]`: that LAN's /64
/// advertised, RIPng on `on` with short timers (update 2 s, timeout 10 s,
/// garbage 5 s), exporting the connected routes of `lan`.
macro_rules! cascade_ripng {
    ($on:literal, $lan:literal) => {
        concat!(
            r#"[[interface.ra.prefix]]
prefix = "::/64"

[ripng]
interfaces = [""#,
            $on,
            r#""]
update_time = 2
timeout_time = 10
garbage_time = 5
[ripng.export]
connected = true
connected_interfaces = [""#,
            $lan,
            r#""]
"#
        )
    };
}

// lan0 is towards the cascaded router R2; lan1 is a second LAN of R1, with
// a host.
const R1: &str = concat!(
    testlab::router_toml!("off"),
    testlab::wan_uplink!(56),
    testlab::cascade_lan!(20, 40, 4, 6),
    testlab::lan_from_wan!("lan1", 2),
    cascade_ripng!("lan0", "lan1")
);

const R2: &str = concat!(
    testlab::router_toml!("off"),
    testlab::wan_uplink!(60),
    "solicit_max_rt = 60\n",
    testlab::lan_from_wan!("lan0", 1),
    cascade_ripng!("wan0", "lan0")
);

/// ISP -- [R1] lan0 -- wan0 [R2] lan0 -- host2, and R1 lan1 -- host1.
#[test]
#[ignore = "needs root and network namespaces"]
fn cascaded_router_gets_a_sub_delegation_and_both_follow_renumbering() {
    let h = home("upc");
    // home() made isp -- rtr (R1) -- host; the `host` namespace becomes R2,
    // its link to R1 renamed to wan0.
    let r2 = &h.host;
    let host1 = h.lab.netns("h1");
    let host2 = h.lab.netns("h2");
    h.lab.veth(&h.rtr, "lan1", &host1, "eth0");
    r2.sh("ip link set eth0 down && ip link set eth0 name wan0 && ip link set wan0 up");
    h.lab.veth(r2, "lan0", &host2, "eth0");
    for hn in [&host1, &host2] {
        hn.sh("sysctl -qw net.ipv6.conf.eth0.accept_ra=2");
    }
    let kea = h.start_isp("2001:db8:100::");
    let d1 = h.lab.daemon(&h.rtr, "r1", R1);
    let d2 = h.lab.daemon(r2, "r2", R2);
    h.isp_routes_to_router("2001:db8:100::/40");
    h.isp_routes_to_router("2001:db8:200::/40");

    // R2 gets a /60 out of what R1 does not use, and serves its LAN from it.
    let up2 = wait_for(Duration::from_secs(20), || {
        let s = d2.ctl(&["show", "uplink"]);
        (s.contains("wan0 bound") && s.contains("Delegated 2001:db8:100:")).then_some(s)
    });
    let up2 = up2.unwrap_or_else(|| {
        panic!(
            "R2 got no prefix:\n{}\nR1:\n{}\nR2:\n{}",
            d2.ctl(&["show", "uplink"]),
            d1.log_text(),
            d2.log_text()
        )
    });
    assert!(up2.contains("/60"), "{up2}");
    let host2_addr = wait_for(Duration::from_secs(15), || {
        Home::first_addr(&host2, "2001:db8:100:")
    });
    let host2_addr = host2_addr.unwrap_or_else(|| panic!("host2: {}", host2.sh("ip -6 addr")));
    // The sub-delegated /60 must not overlap R1's own LANs (subnets 1 and 2).
    assert!(
        !host2_addr.starts_with("2001:db8:100:1:") && !host2_addr.starts_with("2001:db8:100:2:"),
        "{host2_addr}"
    );
    // host1 on R1's other LAN.
    let host1_addr = wait_for(Duration::from_secs(15), || {
        Home::first_addr(&host1, "2001:db8:100:2:")
    });
    let host1_addr = host1_addr.unwrap_or_else(|| panic!("host1: {}", host1.sh("ip -6 addr")));
    // A host behind R2 reaches a host on another LAN of R1.
    let ping = host2.pings_within(&host1_addr, Duration::from_secs(20));
    assert!(
        ping,
        "host2 -> host1 failed\nR1 routes:\n{}\nR2 routes:\n{}",
        h.rtr.sh("ip -6 route"),
        r2.sh("ip -6 route")
    );

    // The ISP renumbers: both routers move.
    h.lab.stop(kea, Duration::from_secs(3));
    h.start_isp("2001:db8:200::");
    let r1_moved = wait_for(Duration::from_secs(20), || {
        h.lan_has("2001:db8:200:1::1/64").then_some(())
    });
    assert!(r1_moved.is_some(), "R1 did not move:\n{}", d1.log_text());
    let r2_moved = wait_for(Duration::from_secs(30), || {
        let s = d2.ctl(&["show", "uplink"]);
        s.contains("Delegated 2001:db8:200:").then_some(s)
    });
    assert!(
        r2_moved.is_some(),
        "R2 did not move:\n{}\nR1 log:\n{}\nR2 log:\n{}",
        d2.ctl(&["show", "uplink"]),
        d1.log_text(),
        d2.log_text()
    );
    let host2_new = wait_for(Duration::from_secs(15), || {
        let out = host2.sh("ip -6 addr show dev eth0 scope global");
        out.contains("inet6 2001:db8:200:").then_some(())
    });
    assert!(host2_new.is_some(), "{}", host2.sh("ip -6 addr"));
}

/// The other ISP servers Debian ships, besides Kea: the uplink's PD client
/// is written to RFC 8415, not to one server.
#[derive(Clone, Copy, Debug)]
enum IspServer {
    /// ISC dhcpd 4.4 -6 with a `prefix6` range.
    IscDhcpd,
    /// WIDE dhcp6s, which delegates only to hosts it knows by DUID.
    WideDhcp6s,
}

impl Home {
    /// radvd alone on the ISP side (the WAN's default route).
    fn start_isp_radvd(&self) -> u32 {
        self.lab.isp_radvd(&self.isp, "isp0")
    }

    /// `server` delegating 2001:db8:100::/56 first (preferred 20 s, valid
    /// 40 s, so the client renews within the test) and DNS 2001:db8:ff::53;
    /// `client_duid` is what WIDE dhcp6s needs to know the router by.
    fn start_other_isp(&self, server: IspServer, client_duid: &str) -> u32 {
        let dir = self.lab.dir();
        let path = |n: &str| dir.join(n).display().to_string();
        match server {
            IspServer::IscDhcpd => {
                self.lab
                    .isc_dhcpd6(
                        &self.isp,
                        "default-lease-time 40;\nmax-lease-time 40;\npreferred-lifetime 20;\n\
                         option dhcp6.name-servers 2001:db8:ff::53;\n\
                         subnet6 2001:db8:ff::/64 {\n  prefix6 2001:db8:100:: 2001:db8:100:: /56;\n}\n",
                        "isp0",
                        "isp-server.log",
                    )
                    .0
            }
            IspServer::WideDhcp6s => {
                std::fs::write(
                    path("dhcp6s.conf"),
                    format!(
                        "option domain-name-servers 2001:db8:ff::53;\n\
                         host rtr {{\n\tduid {client_duid};\n\tprefix 2001:db8:100::/56 20 40;\n}};\n"
                    ),
                )
                .unwrap();
                self.lab.spawn(
                    &self.isp,
                    &[
                        "dhcp6s",
                        "-f",
                        "-d",
                        "-c",
                        &path("dhcp6s.conf"),
                        "-k",
                        &path("no-ctl-key"),
                        "-P",
                        &path("dhcp6s.pid"),
                        "isp0",
                    ],
                    "isp-server.log",
                )
            }
        }
    }
}

/// WIDE dhcp6s keeps its server DUID in /var/lib/dhcpv6; a test that made
/// the file removes it again.
struct Dhcp6sDuidFile(bool);

impl Drop for Dhcp6sDuidFile {
    fn drop(&mut self) {
        if !self.0 {
            let _ = std::fs::remove_file("/var/lib/dhcpv6/dhcp6s_duid");
        }
    }
}

fn uplink_json(d: &Daemon) -> Option<serde_json::Value> {
    let j = d.try_ctl(&["--json", "show", "uplink"]).ok()?;
    let v: serde_json::Value = serde_json::from_str(&j).ok()?;
    Some(v["data"]["uplinks"][0].clone())
}

fn pd_from(tag: &str, server: IspServer) {
    let _duid_file = Dhcp6sDuidFile(std::path::Path::new("/var/lib/dhcpv6/dhcp6s_duid").exists());
    let h = home(tag);
    h.start_isp_radvd();
    let d = h.router("r");
    // Our client's DUID-LL from wan0's MAC (crates/v6routerd/src/uplink.rs).
    let mac = h.rtr.sh("cat /sys/class/net/wan0/address");
    let duid = format!("00:03:00:01:{}", mac.trim());
    let t0 = Instant::now();
    h.start_other_isp(server, &duid);
    let log = || std::fs::read_to_string(h.lab.dir().join("isp-server.log")).unwrap_or_default();
    let ctx = format!("{server:?}: ");
    h.wait_lan_within("2001:db8:100:1::1/64", &d, 20, &ctx, &log());
    eprintln!(
        "{server:?}: lan0 numbered {:.2} s after the server started",
        t0.elapsed().as_secs_f64()
    );
    h.assert_bound_and_host_numbered(&d, &ctx);
    // Renew at T1 (the server's, or 0.5 x preferred when it sends 0,
    // RFC 8415 §21.4): one more exchange, still bound, same prefix.
    let before = uplink_json(&d).expect("show uplink --json");
    let (sent0, recv0) = (
        before["sent"].as_u64().unwrap_or(0),
        before["received"].as_u64().unwrap_or(0),
    );
    let renewed = wait_for(Duration::from_secs(25), || {
        let u = uplink_json(&d)?;
        (u["sent"].as_u64()? > sent0 && u["received"].as_u64()? > recv0 && u["state"] == "bound")
            .then_some(u)
    });
    let u = renewed.unwrap_or_else(|| {
        panic!(
            "{server:?}: no renewal\n{}\nlog:\n{}\nserver:\n{}",
            d.ctl(&["show", "uplink"]),
            d.log_text(),
            log()
        )
    });
    assert_eq!(u["prefixes"][0]["prefix"], "2001:db8:100::/56", "{u}");
    assert!(
        u["last_status"].is_null() || u["last_status"] == "Success",
        "{u}"
    );
    assert!(h.lan_has("2001:db8:100:1::1/64"));
    eprintln!(
        "{server:?}: renewed {:.1} s after the server started",
        t0.elapsed().as_secs_f64()
    );
}

#[test]
#[ignore = "needs root and network namespaces"]
fn isc_dhcpd_as_the_isp_delegates_and_renews() {
    pd_from("upisc", IspServer::IscDhcpd);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn wide_dhcp6s_as_the_isp_delegates_and_renews() {
    pd_from("upwide", IspServer::WideDhcp6s);
}

/// The smallest CE-router config (RFC 7084 defaults, radvd's 600 s
/// MaxRtrAdvInterval): `ROUTER` without its uplink keys, subnet index and
/// RA keys: the ULA, a WAN, a LAN.
fn minimal() -> String {
    let cfg = ROUTER
        .replace("prefix_length = 56\nsolicit_max_rt = 60\n", "")
        .replace(", length = 64, subnet = 1", "")
        .replace("max_interval = 4\ndns = [\"uplink\"]\n", "");
    assert!(
        !cfg.contains("prefix_length") && !cfg.contains("max_interval"),
        "{cfg}"
    );
    cfg
}

/// The host's default route through eth0, "" when it has none.
fn host_default(h: &Home) -> String {
    h.host
        .sh("ip -6 route show default dev eth0")
        .trim()
        .to_string()
}

/// RFC 7084 by default, with a WAN nobody answers: the host gets its ULA
/// address and a route to the whole ULA /48 (L-3, a Route Information
/// option) but no default route (G-4); a default route appearing upstream
/// gives it one within 5 s (fast RAs), and its loss takes it away within
/// 5 s (G-5), while the /48 route stays. Peers: the host's own kernel.
#[test]
#[ignore = "needs root and network namespaces"]
fn ce_defaults_ula_route_and_a_default_router_only_with_an_upstream_default() {
    let h = home("uce");
    // Linux takes Route Information up to this length (default 0: none).
    h.host
        .sh("sysctl -qw net.ipv6.conf.eth0.accept_ra_rt_info_max_plen=64");
    let d = h.router_with("r", &minimal());
    let ula = wait_for(Duration::from_secs(10), || h.host_addr_line("fd"));
    assert!(
        ula.is_some(),
        "{}\n{}",
        h.host.sh("ip -6 addr"),
        d.log_text()
    );
    let up = d.ctl(&["show", "uplink"]);
    let ula48 = up
        .lines()
        .find_map(|l| l.trim().strip_prefix("ULA "))
        .unwrap_or_else(|| panic!("no ULA in {up}"))
        .trim()
        .to_string();
    assert!(ula48.ends_with("::/48"), "{ula48}");
    let rio = wait_for(Duration::from_secs(5), || {
        let r = h.host.sh("ip -6 route show proto ra");
        r.lines()
            .find(|l| l.starts_with(&format!("{ula48} via fe80::")))
            .map(String::from)
    });
    assert!(
        rio.is_some(),
        "no route to {ula48}: {}\n{}",
        h.host.sh("ip -6 route"),
        d.ctl(&["show", "ra"])
    );
    eprintln!("host route: {}", rio.unwrap_or_default());
    assert_eq!(
        host_default(&h),
        "",
        "a default route without an uplink one"
    );
    // The uplink gets a default route (veth: no gateway needed).
    let t = Instant::now();
    h.rtr.sh("ip -6 route add default dev wan0 metric 1024");
    let got = wait_for(Duration::from_secs(5), || {
        host_default(&h).contains("via fe80::").then_some(())
    });
    assert!(
        got.is_some(),
        "no default route on the host within 5 s\n{}",
        d.log_text()
    );
    eprintln!(
        "host default route {:.2} s after the router's",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    h.rtr.sh("ip -6 route del default dev wan0");
    let gone = wait_for(Duration::from_secs(5), || {
        host_default(&h).is_empty().then_some(())
    });
    assert!(
        gone.is_some(),
        "host still routes via us: {}",
        host_default(&h)
    );
    eprintln!(
        "host default route gone {:.2} s after the router's",
        t.elapsed().as_secs_f64()
    );
    // The home's routes do not depend on the uplink (L-3).
    let r = h.host.sh("ip -6 route show proto ra");
    assert!(r.contains(&format!("{ula48} via fe80::")), "{r}");
}

/// `request_address = true` with Kea as the ISP giving an IA_NA: the WAN
/// carries the address as a /128 with Kea's finite lifetimes (20/40 s),
/// refreshed by each Renew, and loses it at once on a Release (RFC 8415
/// §18.2.7).
#[test]
#[ignore = "needs root and network namespaces"]
fn request_address_puts_the_isp_given_address_on_the_wan() {
    let h = home("una");
    h.start_isp("2001:db8:100::");
    let cfg = ROUTER.replace(
        "solicit_max_rt = 60\n",
        "solicit_max_rt = 60\nrequest_address = true\n",
    );
    let d = h.router_with("r", &cfg);
    // "inet6 2001:db8:ff::10xx/128 scope global dynamic" and its lifetimes.
    let wan_addr = || {
        let out = h.rtr.sh("ip -6 addr show dev wan0 scope global");
        let lines: Vec<&str> = out.lines().collect();
        let i = lines
            .iter()
            .position(|l| l.contains("inet6 2001:db8:ff::10") && l.contains("/128"))?;
        Some(format!("{}\n{}", lines[i].trim(), lines.get(i + 1)?.trim()))
    };
    let got = wait_for(Duration::from_secs(15), wan_addr);
    let got = got.unwrap_or_else(|| {
        panic!(
            "wan0: {}\nlog:\n{}\nkea:\n{}",
            h.rtr.sh("ip -6 addr show dev wan0"),
            d.log_text(),
            h.kea_log()
        )
    });
    eprintln!("{got}");
    let secs = |key: &str, text: &str| -> u32 {
        text.split_whitespace()
            .skip_while(|w| *w != key)
            .nth(1)
            .and_then(|v| v.strip_suffix("sec"))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no finite {key} in {text}"))
    };
    assert!(secs("valid_lft", &got) <= 40, "{got}");
    assert!(secs("preferred_lft", &got) <= 20, "{got}");
    let up = d.ctl(&["show", "uplink"]);
    assert!(up.contains("2001:db8:ff::10"), "{up}");
    // Renewed every 4 s (Kea's T1): the lifetimes start again, never run down.
    std::thread::sleep(Duration::from_secs(8));
    let later = wan_addr().unwrap_or_else(|| panic!("address gone\n{}", d.log_text()));
    assert!(secs("valid_lft", &later) >= 30, "not refreshed: {later}");
    // Released: gone from the interface at once.
    assert!(d.ctl(&["uplink", "release"]).contains("released"));
    let gone = wait_for(Duration::from_secs(2), || {
        wan_addr().is_none().then_some(())
    });
    assert!(
        gone.is_some(),
        "{}\n{}",
        h.rtr.sh("ip -6 addr show dev wan0"),
        d.log_text()
    );
}
