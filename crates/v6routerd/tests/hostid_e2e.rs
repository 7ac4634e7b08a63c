//! Host entries that follow renumbering, and names (issue 17), end to end:
//! Kea delegates a /56 on the WAN (radvd gives the WAN its default route,
//! as in uplink_e2e.rs), the router serves DHCPv6 on the LAN from its /64
//! of it, and ISC `dhclient -6` on the LAN host sends the Client FQDN
//! `laptop` with a DUID-EN, so its host entry (by MAC, `hostid = "::10"`)
//! can only match through the router's neighbour cache. Kea is restarted
//! with another pool: the client's next Renew gets `<new /64>::10`.

use std::time::Duration;
use testlab::{need, wait_for, Daemon, Dhclient, Home, Netns};

/// The LAN host's Ethernet address, which the host entry names.
const HOST_MAC: &str = "02:00:5e:00:53:10";
/// A DUID-EN (enterprise 43793, id 01:02:03) in dhclient's lease-file
/// notation: no MAC inside, so the binding by MAC needs the neighbour cache.
const DUID_EN_ESCAPED: &str = r"\000\002\000\000\253\021\001\002\003";
const DUID_EN: &str = "00:02:00:00:ab:11:01:02:03";

const ROUTER: &str = concat!(
    testlab::router_toml!("fd00:db8:5::/48"),
    testlab::wan_uplink!(56),
    testlab::lan_from_wan!("lan0", 1),
    r#"managed = true
other_config = true
[[interface.ra.prefix]]
prefix = "::/64"
autonomous = false
[interface.dhcpv6]
pool = "::1000-::1fff"
[[interface.dhcpv6.host]]
mac = "MAC"
hostid = "::10"
"#
);

fn home() -> Home {
    need(
        &["kea-dhcp6", "radvd", "dhclient"],
        "kea-dhcp6, radvd and dhclient (RECIPES.md)",
    );
    let h = Home::new("hid", "lan0");
    h.host.sh(&format!("ip link set eth0 address {HOST_MAC}"));
    h
}

/// What this file does with its home.
trait HostidHome {
    fn start_isp(&self, pool: &str) -> u32;
    fn hostid_router(&self) -> Daemon;
    fn laptop(&self) -> Dhclient;
}

impl HostidHome for Home {
    /// Kea delegating /56s of `pool`; its pid.
    fn start_isp(&self, pool: &str) -> u32 {
        self.kea(pool, "[]")
    }

    fn hostid_router(&self) -> Daemon {
        Home::router(self, "r", &ROUTER.replace("MAC", HOST_MAC))
    }

    /// dhclient -6 sending the FQDN `laptop` and asking for the option
    /// back, with a DUID-EN from its lease file.
    fn laptop(&self) -> Dhclient {
        let dir = self.lab.dir();
        let conf = dir.join("laptop.conf");
        std::fs::write(
            &conf,
            "send fqdn.fqdn \"laptop\";\nalso request dhcp6.fqdn;\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("laptop.leases"),
            format!("default-duid \"{DUID_EN_ESCAPED}\";\n"),
        )
        .unwrap();
        let cf = conf.display().to_string();
        self.lab
            .dhclient(&self.host, "laptop", &["-cf", &cf], "eth0")
    }
}

/// The router's leases, as `v6ctl --json show leases` gives them.
fn leases(d: &Daemon) -> Vec<serde_json::Value> {
    let j = d.ctl(&["--json", "show", "leases"]);
    let v: serde_json::Value = serde_json::from_str(&j).unwrap_or_default();
    v["data"]["leases"].as_array().cloned().unwrap_or_default()
}

/// The lease of `addr` while it is bound with a valid lifetime left.
fn bound(d: &Daemon, addr: &str) -> Option<serde_json::Value> {
    leases(d)
        .into_iter()
        .find(|l| l["lease"] == addr && l["state"] == "bound" && l["remaining"].as_u64() > Some(0))
}

/// Interface identifier `id` in the /64 `net` ("2001:db8:100:1" style), as
/// `ip` and dhclient print it.
fn in_net(net: &str, id: u128) -> String {
    let base: std::net::Ipv6Addr = format!("{net}::").parse().expect("a /64");
    std::net::Ipv6Addr::from(u128::from(base) | id).to_string()
}

/// What both tests check, once the router runs: `net` (the LAN's /64 of
/// the first delegation, "2001:db8:100:1" style) appears on lan0; the
/// laptop gets `<net>::10` and the ULA's ::10, named `name`, answered with
/// the Client FQDN `name`; Kea (`kea`) renumbers to 2001:db8:200::/40 and
/// the laptop renews to `<new net>::10` (`new_net`).
fn follows_renumbering(h: &Home, d: &Daemon, kea: u32, net: &str, new_net: &str, name: &str) {
    let lan = wait_for(Duration::from_secs(15), || {
        h.rtr
            .sh("ip -6 addr show dev lan0")
            .contains(&format!("{}/64", in_net(net, 1)))
            .then_some(())
    });
    assert!(
        lan.is_some(),
        "lan0 never got {net}::/64:\n{}",
        d.log_text()
    );

    // The host entry's client gets ::10 in each /64 served: the delegated
    // one and the ULA's, found by its MAC in the neighbour cache.
    let c = h.laptop();
    let fail = |what: &str, c: &Dhclient| -> ! {
        panic!(
            "{what}\nlease file:\n{}\nclient log:\n{}\nleases:\n{}\n{}\nrouter log:\n{}",
            c.lease_text(),
            c.log_text(),
            d.ctl(&["show", "leases"]),
            d.ctl(&["show", "dhcpv6"]),
            d.log_text()
        )
    };
    let ten = in_net(net, 0x10);
    if c.wait_lease(Duration::from_secs(20), |t| {
        t.contains(&format!("iaaddr {ten} "))
    })
    .is_none()
    {
        fail(&format!("no {ten} for the host entry"), &c);
    }
    // RFC 4704 §6: asked for in the ORO, the option comes back with the
    // flags of a server that does no DNS updates: N (4), S and O clear
    // (dhclient sent S clear), and the name. dhclient writes it as
    // colon-separated hex bytes.
    let hex: Vec<String> = name.bytes().map(|b| format!("{b:x}")).collect();
    let answer = format!("option dhcp6.fqdn 4:{:x}:{}", name.len(), hex.join(":"));
    let text = c.lease_text();
    assert!(text.contains(&answer), "{answer} in\n{text}");
    let Some(l) = bound(d, &ten) else {
        fail("the router has no such lease", &c)
    };
    assert_eq!(l["static"], true, "{l}");
    assert_eq!(l["duid"], DUID_EN, "matched by MAC, not by DUID: {l}");
    assert_eq!(l["name"], name, "{l}");
    let ula10 = |a: &str| a.starts_with("fd00:db8:5:") && a.ends_with("::10");
    assert!(
        leases(d)
            .iter()
            .any(|l| l["lease"].as_str().is_some_and(ula10) && l["static"] == true),
        "{:?}",
        leases(d)
    );
    let text = d.ctl(&["show", "leases"]);
    assert!(
        text.lines()
            .any(|r| r.starts_with(&format!("{ten} ")) && r.contains(&format!(" {name} "))),
        "{text}"
    );

    // The ISP renumbers: Kea restarted with another pool. The next Renew
    // gets <new /64>::10 and the old one at lifetime 0 (RFC 8415 §18.3.4).
    h.lab.stop(kea, Duration::from_secs(3));
    h.start_isp("2001:db8:200::");
    let new_ten = in_net(new_net, 0x10);
    let moved = c.wait_lease(Duration::from_secs(40), |t| {
        t.contains(&format!("iaaddr {new_ten} "))
    });
    if moved.is_none() {
        fail(&format!("no {new_ten} after the ISP renumbered"), &c);
    }
    let Some(l) = bound(d, &new_ten) else {
        fail("the router has no lease of the new ::10", &c)
    };
    assert_eq!(
        (&l["name"], &l["static"]),
        (&name.into(), &true.into()),
        "{l}"
    );
    // Nobody else got ::10 from the pool, here or before.
    assert!(
        leases(d)
            .iter()
            .filter(|l| l["lease"].as_str().is_some_and(|a| a.ends_with("::10")))
            .all(|l| l["duid"] == DUID_EN),
        "{:?}",
        leases(d)
    );
}

#[test]
#[ignore = "needs root and network namespaces"]
fn hostid_binding_follows_renumbering_and_the_fqdn_names_the_lease() {
    let h = home();
    let kea = h.start_isp("2001:db8:100::");
    let d = h.hostid_router();
    follows_renumbering(&h, &d, kea, "2001:db8:100:1", "2001:db8:200:1", "laptop");
}

/// OpenWrt's files for this lab: `lan` on lan0 with ip6assign 64, `wan6`
/// on wan0, odhcpd serving RA and DHCPv6 on `lan`, and a `config host` by
/// MAC with hostid '10' (hex, as odhcpd reads it) and a name.
const UCI_NETWORK: &str = "
config globals 'globals'
\toption ula_prefix 'fd00:db8:5::/48'

config interface 'lan'
\toption device 'lan0'
\toption proto 'static'
\toption ip6assign '64'

config interface 'wan6'
\toption device 'wan0'
\toption proto 'dhcpv6'
";

const UCI_DHCP: &str = "
config dnsmasq
\toption domain 'lan'

config dhcp 'lan'
\toption interface 'lan'
\toption dhcpv6 'server'
\toption ra 'server'
\tlist ra_flags 'managed-config'
\tlist ra_flags 'other-config'

config host
\toption name 'nas'
\toption mac 'MAC'
\toption hostid '10'
";

fn v6routerd(ns: &Netns, args: &[&str]) -> std::process::Output {
    std::process::Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(testlab::bin("v6routerd"))
        .args(args)
        .output()
        .expect("run v6routerd")
}

#[test]
#[ignore = "needs root and network namespaces"]
fn uci_config_host_with_hostid_is_imported_and_follows_renumbering() {
    let h = home();
    // netifd's part: the ULA /64 of ip6assign on the LAN.
    h.rtr.sh("ip addr add fd00:db8:5::1/64 dev lan0 nodad");
    let dir = h.lab.dir();
    let uci = dir.join("config");
    std::fs::create_dir_all(&uci).unwrap();
    std::fs::write(uci.join("network"), UCI_NETWORK).unwrap();
    std::fs::write(uci.join("dhcp"), UCI_DHCP.replace("MAC", HOST_MAC)).unwrap();
    let (state, sock) = (dir.join("r-state"), dir.join("r.sock"));
    let own = format!(
        "config v6router 'main'\n\toption source 'uci'\n\toption state_dir '{}'\n\toption socket '{}'\n",
        state.display(),
        sock.display()
    );
    std::fs::write(uci.join("v6router"), own).unwrap();
    let out = v6routerd(
        &h.rtr,
        &[
            "import-uci",
            "--strict",
            "--dir",
            &uci.display().to_string(),
        ],
    );
    let toml = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && toml.contains("hostid = \"::10\""),
        "import-uci:\n{}\n{toml}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cfg = dir.join("v6router.toml");
    std::fs::write(&cfg, &toml).unwrap();
    let check = v6routerd(&h.rtr, &["check", "-c", &cfg.display().to_string()]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let kea = h.start_isp("2001:db8:100::");
    let d = h.lab.start_daemon(&h.rtr, "r", &cfg, sock, state);
    // ip6assign 64: the first /64 of the /56; the host entry's name wins
    // over the client's.
    follows_renumbering(&h, &d, kea, "2001:db8:100:0", "2001:db8:200:0", "nas");
}
