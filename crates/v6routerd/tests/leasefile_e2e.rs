//! odhcpd's lease file end to end: the real v6routerd serves DHCPv6 in a
//! namespace, ISC `dhclient -6` gets leases, the file `[dhcpv6_state]
//! lease_file` names has odhcpd's lines for them, a real dnsmasq reading
//! the file's directory (`--hostsdir`, as OpenWrt's dnsmasq reads
//! /tmp/hosts) answers an AAAA query for the named client (`dig`), and
//! the `lease_trigger` ran.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use testlab::{have, wait_for, Lab};

/// The laptop's DUID as odhcpd's lease file writes it.
const DUID_HEX: &str = "00030001020000000077";
const VALID: u64 = 600;

fn config(dir: &Path) -> String {
    format!(
        r#"{lan}search = ["lan"]
preferred_lifetime = 300
valid_lifetime = {VALID}
{host}
[dhcpv6_state]
lease_file = "{0}/hosts/odhcpd"
lease_trigger = "echo ran >> {0}/trigger.log"
"#,
        dir.display(),
        lan = testlab::DHCPV6_LAN,
        host = testlab::laptop::HOST,
    )
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[test]
#[ignore = "needs root and network namespaces"]
fn dhclient_lease_in_odhcpd_format_and_dnsmasq_answers_its_name() {
    assert!(
        have("dnsmasq"),
        "dnsmasq is needed (apt-get install dnsmasq-base)"
    );
    assert!(
        have("dig"),
        "dig is needed (apt-get install bind9-dnsutils)"
    );
    let (lab, rtr, host) = Lab::pair("lf", ("rtr", "lan0"), ("host", "eth0"));
    rtr.sh("ip -6 addr add 2001:db8:1::1/64 dev lan0 nodad");
    let dir = lab.dir().to_path_buf();
    let file = dir.join("hosts/odhcpd");
    let d = lab.daemon(&rtr, "r", &config(&dir));

    // Written at start (empty: nothing is leased), then the trigger ran once.
    let started = wait_for(Duration::from_secs(5), || file.exists().then_some(()));
    assert!(started.is_some(), "no {}\n{}", file.display(), d.log_text());
    let trigger_log = dir.join("trigger.log");
    let runs = || {
        std::fs::read_to_string(&trigger_log)
            .unwrap_or_default()
            .lines()
            .count()
    };
    assert!(wait_for(Duration::from_secs(3), || (runs() == 1).then_some(())).is_some());

    // dnsmasq reads the directory, as OpenWrt's reads /tmp/hosts.
    let dns_log = dir.join("dnsmasq.log");
    lab.spawn(
        &rtr,
        &[
            "dnsmasq",
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--port=5353",
            "--listen-address=::1",
            "--bind-interfaces",
            "--user=root",
            &format!("--pid-file={}/dnsmasq.pid", dir.display()),
            &format!("--hostsdir={}/hosts", dir.display()),
            "--log-facility=-",
        ],
        "dnsmasq.log",
    );
    let up = wait_for(Duration::from_secs(5), || {
        let l = std::fs::read_to_string(&dns_log).unwrap_or_default();
        l.contains("started").then_some(())
    });
    assert!(
        up.is_some(),
        "{}",
        std::fs::read_to_string(&dns_log).unwrap_or_default()
    );

    // The named client: its DUID has a host entry.
    let (c, lease) = testlab::laptop::lease(&lab, &host);
    assert!(lease.is_some(), "{}\n{}", c.log_text(), d.log_text());
    let granted = unix_now();

    // Within a second of the grant (a little more for a loaded machine).
    let hosts_line = "2001:db8:1::500\tlaptop.lan\tlaptop\n";
    let text = wait_for(Duration::from_millis(1500), || {
        let t = std::fs::read_to_string(&file).unwrap_or_default();
        t.contains(hosts_line).then_some(t)
    })
    .unwrap_or_else(|| {
        panic!(
            "no hosts line in\n{}\n{}",
            std::fs::read_to_string(&file).unwrap_or_default(),
            d.log_text()
        )
    });
    // `# IFNAME DUID IAID NAME VALID_UNTIL HOSTID LENGTH ADDR/LEN`, after
    // the hosts line, as odhcpd writes it.
    let line = text
        .lines()
        .find(|l| l.starts_with("# lan0 "))
        .unwrap_or_else(|| panic!("{text}"));
    let f: Vec<&str> = line.split(' ').collect();
    assert_eq!(f.len(), 9, "{line}");
    assert_eq!((f[1], f[2], f[4]), ("lan0", DUID_HEX, "laptop"), "{line}");
    assert!(u32::from_str_radix(f[3], 16).is_ok(), "IAID in hex: {line}");
    let until: u64 = f[5].parse().unwrap_or_else(|_| panic!("{line}"));
    assert!(
        until.abs_diff(granted + VALID) <= 5,
        "valid until {until}, granted {granted} + {VALID}: {line}"
    );
    assert_eq!(
        (f[6], f[7], f[8]),
        ("500", "128", "2001:db8:1::500/128"),
        "{line}"
    );
    assert!(text.find(hosts_line) < text.find("# lan0 "), "{text}");

    // dnsmasq answers for the name, from the file as renamed into place.
    let aaaa = wait_for(Duration::from_secs(5), || {
        let a = rtr.sh("dig -p 5353 @::1 laptop.lan AAAA +short +time=1 +tries=1");
        (a.trim() == "2001:db8:1::500").then_some(a)
    });
    assert!(
        aaaa.is_some(),
        "dig: {}\ndnsmasq:\n{}",
        rtr.sh("dig -p 5353 @::1 laptop.lan AAAA +time=1 +tries=1"),
        std::fs::read_to_string(&dns_log).unwrap_or_default()
    );
    // The names changed: the trigger ran again.
    assert!(
        wait_for(Duration::from_secs(3), || (runs() == 2).then_some(())).is_some(),
        "{} runs\n{}",
        runs(),
        d.log_text()
    );

    // A client without a name: a `-` binding, no hosts line, no trigger.
    // (The first client goes quietly: SIGTERM sends no Release.)
    lab.stop(c.pid, Duration::from_secs(2));
    let other = lab.dhclient(&host, "other", &[], "eth0");
    let lease = other.wait_lease(Duration::from_secs(15), |t| {
        t.contains("iaaddr 2001:db8:1::1")
    });
    let lease = lease.unwrap_or_else(|| panic!("{}\n{}", other.log_text(), d.log_text()));
    let addr = testlab::lease_field(&lease, "iaaddr").unwrap_or_default();
    let tail = format!(" 128 {addr}/128");
    let text = wait_for(Duration::from_millis(1500), || {
        let t = std::fs::read_to_string(&file).unwrap_or_default();
        t.lines().any(|l| l.ends_with(&tail)).then_some(t)
    })
    .unwrap_or_else(|| {
        panic!(
            "no {addr} in\n{}",
            std::fs::read_to_string(&file).unwrap_or_default()
        )
    });
    let line = text
        .lines()
        .find(|l| l.ends_with(&tail))
        .unwrap_or_default();
    assert_eq!(line.split(' ').nth(4), Some("-"), "{line}");
    assert_eq!(
        text.lines().filter(|l| !l.starts_with('#')).count(),
        1,
        "{text}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(runs(), 2, "no trigger for a change without names");
    // No temporary is left beside the file.
    let names: Vec<String> = std::fs::read_dir(dir.join("hosts"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["odhcpd"]);

    // A client naming itself (Client FQDN, RFC 4704) with no host entry:
    // its name reaches the hosts line, dnsmasq and the trigger.
    let conf = lab.dir().join("tablet.conf");
    std::fs::write(&conf, "send fqdn.fqdn \"tablet\";\n").expect("write");
    let tablet = lab.dhclient(
        &host,
        "tablet",
        &["-cf", &conf.display().to_string()],
        "eth0",
    );
    let lease = tablet.wait_lease(Duration::from_secs(15), |t| {
        t.contains("iaaddr 2001:db8:1::")
    });
    let lease = lease.unwrap_or_else(|| panic!("{}\n{}", tablet.log_text(), d.log_text()));
    let addr = testlab::lease_field(&lease, "iaaddr").unwrap_or_default();
    let answered = wait_for(Duration::from_secs(5), || {
        let a = rtr.sh("dig -p 5353 @::1 tablet.lan AAAA +short +time=1 +tries=1");
        (a.trim() == addr).then_some(())
    });
    assert!(
        answered.is_some(),
        "tablet.lan is not {addr}:\n{}",
        std::fs::read_to_string(&file).unwrap_or_default()
    );
    assert!(
        wait_for(Duration::from_secs(3), || (runs() == 3).then_some(())).is_some(),
        "the trigger ran {} times",
        runs()
    );
}
