//! Other DHCPv6 clients than ISC dhclient (dhcpv6_e2e.rs) against the real
//! v6routerd: dhcpcd 9 (Roy Marples', the client of many distributions and
//! of cascaded routers) and WIDE dhcp6c (the one WIDE dhcp6s users pair
//! with it). Each runs as a cascaded router's upstream client: an address
//! (IA_NA) on its uplink and a prefix (IA_PD) carved onto its LAN, so the
//! test also sees that our router routes the delegated prefix via the
//! client's link-local address (RFC 8415 §6.3). tshark judges the wire.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use testlab::{need, wait_for, Netns, Setup};

const SERVER: &str = r#"
[interface.dhcpv6]
pool = "2001:db8:1::1000-2001:db8:1::ffff"
pd_pool = { prefix = "2001:db8:8::/48", delegated_length = 60 }
dns = ["2001:db8:1::1"]
search = ["home.arpa"]
"#;

/// Files a client keeps in a system directory (its DUID, its leases): the
/// ones a test run created are removed when it ends, what was there before
/// is left alone.
struct SystemFiles {
    dir: PathBuf,
    before: BTreeSet<PathBuf>,
}

impl SystemFiles {
    fn watch(dir: &str) -> SystemFiles {
        let dir = PathBuf::from(dir);
        let before = list(&dir);
        SystemFiles { dir, before }
    }
}

fn list(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

impl Drop for SystemFiles {
    fn drop(&mut self) {
        for f in list(&self.dir).difference(&self.before) {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// Router `lan0` — host `up0`; the host also has `sub0` (one end of a veth
/// pair standing for its LAN) to put a delegated /64 on. `ra` is the
/// [interface.ra] body: the M and O flags decide what a client asks for.
fn setup(tag: &str, ra: &str) -> Setup {
    let config = format!(
        "[[interface]]\nname = \"lan0\"\n\n[interface.ra]\n{ra}\n\n[[interface.ra.prefix]]\nprefix = \"2001:db8:1::/64\"\n{SERVER}"
    );
    Setup::dhcpv6(tag, "up0", &config, |rtr, host| {
        host.sh(
            "ip link add sub0 type veth peer name sub0p && ip link set sub0 up && ip link set sub0p up",
        );
        rtr.sh("sysctl -qw net.ipv6.conf.all.forwarding=1");
    })
}

/// A global address of `dev` in `ns` inside `within` (text prefix), with
/// its length: "2001:db8:1::1234/128".
fn global_addr(ns: &Netns, dev: &str, within: &str) -> Option<String> {
    ns.run(&format!("ip -6 -o addr show dev {dev} scope global"))
        .stdout
        .split(|&b| b == b'\n')
        .filter_map(|l| {
            let l = String::from_utf8_lossy(l);
            let a = l.split_whitespace().skip_while(|w| *w != "inet6").nth(1)?;
            a.starts_with(within).then(|| a.to_string())
        })
        .next()
}

/// The router's route for the delegated prefix: "2001:db8:8::/60 via fe80::... dev lan0".
fn pd_route(rtr: &Netns) -> Option<String> {
    let r = rtr.sh("ip -6 route show root 2001:db8:8::/48");
    r.lines()
        .find(|l| l.starts_with("2001:db8:8:") && l.contains(" via "))
        .map(str::to_string)
}

fn capture(s: &Setup, name: &str) -> (u32, String) {
    s.lab.capture(&s.rtr, "lan0", "udp port 547", name)
}

/// The start of the M-flag tests: `client` and tshark present, the
/// client's system state directory `state` watched (put back after the
/// test), the LAN with M set, and tshark capturing into `<cap>.pcap`.
fn managed(tag: &str, client: &str, state: &str, cap: &str) -> (SystemFiles, Setup, u32, String) {
    need(&[client, "tshark"], &format!("{client} and tshark"));
    let files = SystemFiles::watch(state);
    let s = setup(tag, "managed = true");
    let (ts, pcap) = capture(&s, cap);
    (files, s, ts, pcap)
}

/// Every DHCPv6 message in the capture, dissected: no malformed field in
/// ours (tshark -V, as in dhcpv6_e2e), and the message types in order.
fn wire_types(s: &Setup, pcap: &str) -> Vec<String> {
    let v = s.rtr.sh(&format!("tshark -r {pcap} -V 2>&1"));
    assert!(
        !v.contains("Malformed") && !v.contains("Expert Info (Error"),
        "tshark found malformed fields:\n{v}"
    );
    s.rtr
        .sh(&format!(
            "tshark -r {pcap} -T fields -e dhcpv6.msgtype 2>/dev/null"
        ))
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The capture shows a whole exchange and a release (Solicit, Advertise,
/// Request, Reply, Release) and our Replies carry the DNS server and the
/// search list.
fn check_wire(s: &Setup, pcap: &str) {
    let types = wire_types(s, pcap);
    for t in ["1", "2", "3", "7", "8"] {
        assert!(
            types.iter().any(|x| x == t),
            "message type {t} not on the wire: {types:?}"
        );
    }
    let opts = s.rtr.sh(&format!(
        "tshark -r {pcap} -Y 'dhcpv6.msgtype == 7' -T fields -e dhcpv6.dns_server -e dhcpv6.search_list_entry 2>/dev/null"
    ));
    assert!(
        opts.contains("2001:db8:1::1") && opts.contains("home.arpa"),
        "{opts}"
    );
}

fn log(s: &Setup, name: &str) -> String {
    std::fs::read_to_string(s.lab.dir().join(name)).unwrap_or_default()
}

/// What a client got, checked on both sides: an address from the pool on
/// its uplink, a /64 of the delegated prefix on its LAN, our route for the
/// prefix via its link-local address, and both in `show leases`. Returns
/// (address, delegated prefix).
fn check_bound(s: &Setup, client_log: &str) -> (String, String) {
    let na = wait_for(Duration::from_secs(20), || {
        global_addr(&s.host, "up0", "2001:db8:1::")
    })
    .unwrap_or_else(|| {
        panic!(
            "no address from the pool on up0\n{}\ndaemon:\n{}",
            log(s, client_log),
            s.d.ctl(&["show", "dhcpv6"])
        )
    });
    let lan = wait_for(Duration::from_secs(10), || {
        global_addr(&s.host, "sub0", "2001:db8:8:")
    })
    .unwrap_or_else(|| panic!("no delegated /64 on sub0\n{}", log(s, client_log)));
    assert!(lan.ends_with("/64"), "{lan}");
    let ll = s.host.link_local("up0");
    let route = wait_for(Duration::from_secs(5), || pd_route(&s.rtr)).unwrap_or_else(|| {
        panic!(
            "no route for the delegated prefix\n{}",
            s.rtr.sh("ip -6 route")
        )
    });
    assert!(route.contains(&format!("via {ll} dev lan0")), "{route}");
    let delegated = route
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(delegated.ends_with("/60"), "{route}");
    let addr = na.split('/').next().unwrap_or_default().to_string();
    let leases = s.d.ctl(&["show", "leases"]);
    for (what, kind) in [(&addr, " address "), (&delegated, " prefix ")] {
        assert!(
            leases
                .lines()
                .any(|l| l.starts_with(&format!("{what} ")) && l.contains(kind)),
            "{what} not in\n{leases}"
        );
    }
    (addr, delegated)
}

/// After the client stopped: it released (RFC 8415 §18.2.7), the lease is
/// gone from `show leases` and our route for its prefix with it.
fn check_released(s: &Setup, addr: &str, client_log: &str) {
    let gone = wait_for(Duration::from_secs(10), || {
        (s.d.dhcpv6_received("RELEASE") > 0 && pd_route(&s.rtr).is_none()).then_some(())
    });
    assert!(
        gone.is_some(),
        "no Release, or the route stayed: {:?}\n{}\n{}",
        pd_route(&s.rtr),
        s.d.ctl(&["show", "dhcpv6"]),
        log(s, client_log)
    );
    let leases = s.d.ctl(&["show", "leases"]);
    assert!(
        !leases.contains(&format!("{addr} ")),
        "lease kept after Release:\n{leases}"
    );
}

const DHCPCD_CONF: &str = "\
# dhcpcd 9 as a cascaded router's upstream client.
noipv4
noipv6rs
allowinterfaces up0 sub0
script /bin/true
# Release the leases when stopping (dhcpcd.conf(5), release).
release
option domain_name_servers, domain_search
interface up0
    ipv6rs
    ia_na 1
    ia_pd 2 sub0/1/64
";

/// dhcpcd runs in manager mode (no interface on the command line: with
/// one, it will not put a delegated prefix on another interface), in the
/// foreground, privilege-separated as Debian builds it.
fn start_dhcpcd(s: &Setup, conf: &str) -> u32 {
    let cf = s.lab.dir().join("dhcpcd.conf");
    std::fs::write(&cf, conf).expect("dhcpcd.conf");
    let cfs = cf.display().to_string();
    s.lab.spawn(
        &s.host,
        &["dhcpcd", "-6", "-B", "-d", "-f", &cfs],
        "dhcpcd.log",
    )
}

/// dhcpcd learns from our RA that addresses are managed (M, RFC 4861
/// §4.2), asks for an address and a prefix, gets both, puts the address
/// on its uplink and a /64 of the prefix on its LAN; our kernel routes
/// the prefix via its link-local address. Stopped, it releases them.
#[test]
#[ignore = "needs root and network namespaces"]
fn dhcpcd_follows_the_m_flag_and_gets_an_address_and_a_prefix() {
    let (_files, s, ts, pcap) = managed("dcd", "dhcpcd", "/var/lib/dhcpcd", "m");
    let pid = start_dhcpcd(&s, DHCPCD_CONF);
    let (addr, _) = check_bound(&s, "dhcpcd.log");
    // An IA_NA address is a /128 on the link (RFC 8415 §21.6 carries no
    // prefix length; the /64 comes from the RA's prefix).
    let on_link = global_addr(&s.host, "up0", &format!("{addr}/"));
    assert_eq!(on_link.as_deref(), Some(&*format!("{addr}/128")));
    // SIGTERM: with `release` in its config dhcpcd releases its leases
    // before it exits; the route goes with the lease.
    s.lab.stop(pid, Duration::from_secs(10));
    check_released(&s, &addr, "dhcpcd.log");
    std::thread::sleep(Duration::from_millis(300));
    s.lab.stop(ts, Duration::from_secs(3));
    check_wire(&s, &pcap);
}

/// With only O set (RFC 4861 §4.2: other configuration by DHCPv6, no
/// managed addresses), dhcpcd asks only for information (RFC 8415 §18.2.6):
/// an Information-request, never a Solicit, and it gets the DNS server.
#[test]
#[ignore = "needs root and network namespaces"]
fn dhcpcd_asks_only_for_information_when_only_o_is_set() {
    need(&["dhcpcd"], "dhcpcd");
    let _files = SystemFiles::watch("/var/lib/dhcpcd");
    let s = setup("dco", "other_config = true");
    // No ia_na / ia_pd: what dhcpcd asks for is left to the RA's flags.
    let conf = "noipv4\nallowinterfaces up0\nscript /bin/true\noption domain_name_servers, domain_search\n";
    let pid = start_dhcpcd(&s, conf);
    let asked = wait_for(Duration::from_secs(20), || {
        (s.d.dhcpv6_received("INFORMATION-REQUEST") > 0).then_some(())
    });
    assert!(
        asked.is_some(),
        "no Information-request\n{}\n{}",
        s.d.ctl(&["show", "dhcpv6"]),
        log(&s, "dhcpcd.log")
    );
    // Give it time to (wrongly) solicit as well.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        s.d.dhcpv6_received("SOLICIT"),
        0,
        "{}",
        s.d.ctl(&["show", "dhcpv6"])
    );
    s.lab.stop(pid, Duration::from_secs(5));
    let l = log(&s, "dhcpcd.log");
    assert!(l.contains("REPLY6 received"), "{l}");
}

const DHCP6C_CONF: &str = r#"
interface up0 {
    send ia-na 1;
    send ia-pd 2;
    request domain-name-servers;
    request domain-name;
    script "/bin/true";
};
id-assoc na 1 { };
id-assoc pd 2 {
    prefix-interface sub0 {
        sla-id 1;
        sla-len 4;
    };
};
"#;

/// WIDE dhcp6c: an address and a prefix (a /64 of it on sub0, SLA 1 in
/// 4 bits: the /60 we delegate), the route on our side; on SIGTERM it
/// releases both (RFC 8415 §18.2.7) and we take the route away.
#[test]
#[ignore = "needs root and network namespaces"]
fn wide_dhcp6c_gets_an_address_and_a_prefix_and_releases_them() {
    let (_files, s, ts, pcap) = managed("w6c", "dhcp6c", "/var/lib/dhcpv6", "w");
    let cf = s.lab.dir().join("dhcp6c.conf");
    std::fs::write(&cf, DHCP6C_CONF).expect("dhcp6c.conf");
    let pf = s.lab.dir().join("dhcp6c.pid");
    let (cfs, pfs) = (cf.display().to_string(), pf.display().to_string());
    let pid = s.lab.spawn(
        &s.host,
        &["dhcp6c", "-f", "-D", "-c", &cfs, "-p", &pfs, "up0"],
        "dhcp6c.log",
    );
    let (addr, _) = check_bound(&s, "dhcp6c.log");
    let dlog = log(&s, "dhcp6c.log");
    assert!(
        dlog.contains("2001:db8:1::1"),
        "DNS server not in dhcp6c's log:\n{dlog}"
    );
    // SIGTERM: dhcp6c releases what it has, then exits.
    s.lab.stop(pid, Duration::from_secs(10));
    check_released(&s, &addr, "dhcp6c.log");
    std::thread::sleep(Duration::from_millis(300));
    s.lab.stop(ts, Duration::from_secs(3));
    check_wire(&s, &pcap);
}
