//! `v6routerd import-uci` end to end: OpenWrt's `network` and `dhcp` as a
//! default install writes them (with this lab's device names), imported,
//! checked, and run: Kea as the ISP delegates a /56 on the WAN (radvd gives
//! the WAN its default route, as in uplink_e2e.rs), br-lan gets its /64 of
//! it, and the LAN host's own kernel autoconfigures from the RA.

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use testlab::{bin, have, need, wait_for, Lab, Netns};

/// /etc/config/network of a default install (config_generate, OpenWrt
/// 24.10), with the lab's devices: the WAN is wan0, the LAN bridge's port lan1.
const NETWORK: &str = "
config interface 'loopback'
	option device 'lo'
	option proto 'static'
	option ipaddr '127.0.0.1'
	option netmask '255.0.0.0'

config globals 'globals'
	option ula_prefix 'fd00:db8:5::/48'

config device
	option name 'br-lan'
	option type 'bridge'
	list ports 'lan1'

config interface 'lan'
	option device 'br-lan'
	option proto 'static'
	option ipaddr '192.0.2.1'
	option netmask '255.255.255.0'
	option ip6assign '60'

config interface 'wan'
	option device 'wan0'
	option proto 'dhcp'

config interface 'wan6'
	option device 'wan0'
	option proto 'dhcpv6'
";

/// /etc/config/dhcp after dnsmasq's dhcp.conf and odhcpd.defaults.
const DHCP: &str = "
config dnsmasq
	option domain 'lan'
	option local '/lan/'

config dhcp 'lan'
	option interface 'lan'
	option start '100'
	option limit '150'
	option leasetime '12h'
	option dhcpv4 'server'
	option dhcpv6 'server'
	option ra 'server'
	option ra_slaac '1'
	list ra_flags 'managed-config'
	list ra_flags 'other-config'

config dhcp 'wan'
	option interface 'wan'
	option ignore '1'

config odhcpd 'odhcpd'
	option maindhcp '0'
	option leasefile '/tmp/hosts/odhcpd'
	option leasetrigger '/usr/sbin/odhcpd-update'
	option loglevel '4'
	option piofolder '/tmp/odhcpd-piofolder'
";

/// ISP -- wan0 [rtr: br-lan(lan1)] lan1 -- eth0 [host]
fn lab() -> (Lab, Netns, Netns, Netns) {
    let h = testlab::Home::new("uci", "lan1");
    // What netifd does on OpenWrt: the bridge, and the ULA /60 of ip6assign.
    h.rtr.sh("ip link add br-lan type bridge mcast_snooping 0 && ip link set lan1 master br-lan && ip link set br-lan up");
    h.rtr.sh("ip addr add fd00:db8:5::1/60 dev br-lan nodad");
    (h.lab, h.isp, h.rtr, h.host)
}

/// Kea delegating /56s of 2001:db8:100::/40 with DNS, short timers
/// (RECIPES.md), and radvd for the WAN's default route.
fn start_isp(lab: &Lab, isp: &Netns) {
    let dns = r#"[ { "name": "dns-servers", "data": "2001:db8:ff::53" } ]"#;
    lab.kea_isp(isp, "isp0", "2001:db8:100::", dns);
}

/// The UCI directory: network, dhcp, and the package's own file pointing
/// state_dir and the control socket into the lab.
fn uci_dir(lab: &Lab) -> std::path::PathBuf {
    let dir = lab.dir().join("config");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("network"), NETWORK).unwrap();
    // The lease file and the trigger's marker in the lab, not the host's
    // /tmp; an NTP server (carried over) and the Mobile IPv6 router
    // address flag (not carried over).
    let lab_dir = lab.dir().display().to_string();
    let dhcp = DHCP
        .replace("'/tmp/hosts/odhcpd'", &format!("'{lab_dir}/hosts/odhcpd'"))
        .replace(
            "'/usr/sbin/odhcpd-update'",
            &format!("'touch {lab_dir}/triggered'"),
        )
        .replace(
            "\tlist ra_flags 'managed-config'",
            "\tlist ntp '2001:db8::123'\n\toption ra_advrouter '1'\n\tlist ra_flags 'managed-config'",
        );
    std::fs::write(dir.join("dhcp"), dhcp).unwrap();
    let own = format!(
        "config v6router 'main'\n\toption source 'uci'\n\toption state_dir '{}'\n\toption socket '{}'\n",
        lab.dir().join("r-state").display(),
        lab.dir().join("r.sock").display()
    );
    std::fs::write(dir.join("v6router"), own).unwrap();
    dir
}

fn v6routerd(ns: &Netns, args: &[&str]) -> std::process::Output {
    Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(bin("v6routerd"))
        .args(args)
        .output()
        .expect("run v6routerd")
}

/// import-uci prints a TOML that `check` accepts in the router's namespace.
fn import_and_check(lab: &Lab, rtr: &Netns, uci: &Path) -> std::path::PathBuf {
    let out = v6routerd(rtr, &["import-uci", "--dir", &uci.display().to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "import-uci failed:\n{stderr}");
    // What is not carried over is named, with file:line.
    assert!(
        stderr.contains(&format!("{}:", uci.join("dhcp").display())),
        "{stderr}"
    );
    assert!(stderr.contains("`ra_advrouter '1'`"), "{stderr}");
    let toml = String::from_utf8_lossy(&out.stdout);
    assert!(toml.contains("ntp = [\"2001:db8::123\"]"), "{toml}");
    assert!(!stderr.contains("leasefile"), "carried over: {stderr}");
    let strict = v6routerd(
        rtr,
        &[
            "import-uci",
            "--dir",
            &uci.display().to_string(),
            "--strict",
        ],
    );
    assert!(
        !strict.status.success() && strict.stdout.is_empty(),
        "--strict must fail on what is not carried over"
    );
    let cfg = lab.dir().join("v6router.toml");
    std::fs::write(&cfg, &out.stdout).unwrap();
    let check = v6routerd(rtr, &["check", "-c", &cfg.display().to_string()]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        check.status.success(),
        "check failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(text.contains("OK (0 warnings)"), "{text}");
    cfg
}

#[test]
#[ignore = "needs root and network namespaces"]
fn default_openwrt_config_runs_the_home_network() {
    need(&["kea-dhcp6", "radvd"], "kea-dhcp6 and radvd (RECIPES.md)");
    let (lab, isp, rtr, host) = lab();
    let uci = uci_dir(&lab);
    let cfg = import_and_check(&lab, &rtr, &uci);
    start_isp(&lab, &isp);
    let d = lab.start_daemon(
        &rtr,
        "r",
        &cfg,
        lab.dir().join("r.sock"),
        lab.dir().join("r-state"),
    );

    // br-lan: ::1 in the first /64 of the delegated /56 (ip6assign, subnet 0).
    let got = wait_for(Duration::from_secs(15), || {
        rtr.sh("ip -6 addr show dev br-lan")
            .contains("2001:db8:100::1/64")
            .then_some(())
    });
    assert!(
        got.is_some(),
        "br-lan: {}\nlog:\n{}",
        rtr.sh("ip -6 addr show dev br-lan"),
        d.log_text()
    );
    let up = d.ctl(&["show", "uplink"]);
    assert!(up.contains("Delegated 2001:db8:100::/56"), "{up}");
    // odhcpd's leasefile and leasetrigger, carried over: written at start.
    let lease_file = wait_for(Duration::from_secs(5), || {
        (lab.dir().join("hosts/odhcpd").exists() && lab.dir().join("triggered").exists())
            .then_some(())
    });
    assert!(
        lease_file.is_some(),
        "no lease file or trigger\n{}",
        d.log_text()
    );

    // The host's kernel: SLAAC in the delegated /64 and in the ULA /64
    // netifd gives the LAN, and the router as default router (it has a
    // default route from the ISP's RA: odhcpd's ra_default 0 rule).
    let slaac = wait_for(Duration::from_secs(15), || {
        let a = host.sh("ip -6 addr show dev eth0 scope global");
        (a.contains("inet6 2001:db8:100:0:") && a.contains("inet6 fd00:db8:5:0:")).then_some(a)
    });
    assert!(
        slaac.is_some(),
        "host: {}\nrouter log:\n{}",
        host.sh("ip -6 addr"),
        d.log_text()
    );
    let routes = wait_for(Duration::from_secs(10), || {
        let r = host.sh("ip -6 route show default");
        r.contains("via fe80::").then_some(r)
    });
    assert!(
        routes.is_some(),
        "host routes: {}\n{}",
        host.sh("ip -6 route"),
        d.ctl(&["show", "ra"])
    );
    // M and O as ra_flags says, the router's ULA address as DNS server
    // (odhcpd's dns_service) and dnsmasq's domain as search list.
    if have("rdisc6") {
        let ra = host.sh("rdisc6 -1 -w 2000 eth0");
        let flag = |name: &str| {
            ra.lines()
                .any(|l| l.contains(name) && l.trim_end().ends_with("Yes"))
        };
        assert!(
            flag("Stateful address conf.") && flag("Stateful other conf."),
            "{ra}"
        );
        assert!(ra.contains("fd00:db8:5::1"), "{ra}");
        assert!(ra.contains("DNS search list") && ra.contains("lan"), "{ra}");
    }
}
