//! Observing the daemon end to end: `v6ctl monitor --json` sees a real
//! `dhclient -6` lease granted and released, each within a second, and
//! `show leases` filters select it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use testlab::{bin, wait_for, Lab};

/// DUID-LL 02:00:00:00:00:77 in dhclient's lease-file notation, and as hex.
const DUID_ESCAPED: &str = r"\000\003\000\001\002\000\000\000\000\167";
const DUID_HEX: &str = "00:03:00:01:02:00:00:00:00:77";

const CONFIG: &str = r#"
[[interface]]
name = "lan0"

[interface.ra]
managed = true

[interface.dhcpv6]
pool = "2001:db8:1::1000-2001:db8:1::1fff"

[[interface.dhcpv6.host]]
name = "laptop"
duid = "00:03:00:01:02:00:00:00:00:77"
address = "2001:db8:1::500"
"#;

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The monitor's events so far with `action` for the laptop's address.
fn event(path: &std::path::Path, action: &str) -> Option<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["action"] == action && e["lease"] == "2001:db8:1::500")
}

#[test]
#[ignore = "needs root and network namespaces"]
fn monitor_sees_a_dhclient_lease_granted_and_released_and_filters_select_it() {
    let lab = Lab::new("ob");
    let rtr = lab.netns("rtr");
    let host = lab.netns("host");
    lab.veth(&rtr, "lan0", &host, "eth0");
    rtr.sh("ip -6 addr add 2001:db8:1::1/64 dev lan0 nodad");
    let d = lab.daemon(&rtr, "r", CONFIG);
    assert!(
        wait_for(Duration::from_secs(5), || d
            .try_ctl(&["show", "leases"])
            .ok())
        .is_some(),
        "{}",
        d.log_text()
    );
    let dir = lab.dir().to_path_buf();
    let sock = dir.join("r.sock").display().to_string();
    let v6ctl = bin("v6ctl").display().to_string();
    lab.spawn(
        &rtr,
        &[&v6ctl, "-s", &sock, "monitor", "leases", "--json"],
        "monitor.log",
    );
    let mon = dir.join("monitor.log");
    // Subscribed once the daemon holds the connection's slot; give it a moment.
    std::thread::sleep(Duration::from_millis(300));

    let lf = dir.join("laptop.leases");
    std::fs::write(&lf, format!("default-duid \"{DUID_ESCAPED}\";\n")).unwrap();
    let c = lab.dhclient(&host, "laptop", &[], "eth0");
    let leased = c.wait_lease(Duration::from_secs(15), |t| {
        t.contains("iaaddr 2001:db8:1::500")
    });
    assert!(leased.is_some(), "{}\n{}", c.log_text(), d.log_text());
    let seen = unix_ms();
    let granted =
        wait_for(Duration::from_secs(1), || event(&mon, "granted")).unwrap_or_else(|| {
            panic!(
                "no grant within 1 s:\n{}\n{}",
                std::fs::read_to_string(&mon).unwrap_or_default(),
                d.log_text()
            )
        });
    assert_eq!(granted["duid"], DUID_HEX, "{granted}");
    assert_eq!(granted["interface"], "lan0", "{granted}");
    assert_eq!(granted["name"], "laptop", "{granted}");
    assert_eq!(granted["version"], 1, "{granted}");
    let t = granted["time_ms"].as_u64().unwrap_or(0);
    assert!(
        t <= seen + 1000 && seen <= t + 2000,
        "event at {t}, lease seen at {seen}"
    );

    // Filters, applied by the daemon.
    let has = |args: &[&str]| d.ctl(args).contains("2001:db8:1::500");
    assert!(has(&["show", "leases", "name", "LAPTOP"]));
    assert!(has(&["show", "leases", "duid", "00030001020000000077"]));
    assert!(has(&["show", "leases", "address", "2001:db8:1::500"]));
    assert!(has(&[
        "show",
        "leases",
        "interface",
        "lan0",
        "name",
        "laptop"
    ]));
    assert_eq!(
        d.ctl(&["show", "leases", "interface", "lan9"]),
        "No leases\n"
    );
    assert_eq!(d.ctl(&["show", "leases", "name", "desktop"]), "No leases\n");
    let bad = d
        .try_ctl(&["show", "leases", "address", "banana"])
        .unwrap_err();
    assert!(bad.contains("not an IPv6 address"), "{bad}");

    // dhclient -6 -r: the running client is stopped and sends a Release.
    let pf = dir.join("laptop.pid").display().to_string();
    let lfs = lf.display().to_string();
    host.sh(&format!(
        "dhclient -6 -r -sf /bin/true -lf {lfs} -pf {pf} eth0"
    ));
    let released = wait_for(Duration::from_secs(1), || event(&mon, "released"));
    let released = released.unwrap_or_else(|| {
        panic!(
            "no release within 1 s:\n{}\n{}",
            std::fs::read_to_string(&mon).unwrap_or_default(),
            d.log_text()
        )
    });
    assert_eq!(released["duid"], DUID_HEX, "{released}");
    assert_eq!(d.ctl(&["show", "leases"]), "No leases\n");
}
