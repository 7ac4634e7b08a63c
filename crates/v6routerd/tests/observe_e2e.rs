//! Observing the daemon end to end: `v6ctl monitor --json` sees a real
//! `dhclient -6` lease granted and released, each within a second, and
//! `show leases` filters select it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use testlab::{bin, wait_for, Lab};

use testlab::laptop::DUID as DUID_HEX;

/// The served LAN with the laptop's host entry.
fn config() -> String {
    format!("{}{}", testlab::DHCPV6_LAN, testlab::laptop::HOST)
}

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
    let (lab, rtr, host) = Lab::pair("ob", ("rtr", "lan0"), ("host", "eth0"));
    rtr.sh("ip -6 addr add 2001:db8:1::1/64 dev lan0 nodad");
    let d = lab.daemon(&rtr, "r", &config());
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

    let (c, leased) = testlab::laptop::lease(&lab, &host);
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
    let lfs = c.leases.display().to_string();
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

/// `v6ctl monitor routes --json` sees the route of a prefix delegated to
/// dhclient -6 -P installed in the kernel, and removed at its Release.
#[test]
#[ignore = "needs root and network namespaces"]
fn monitor_sees_a_delegated_prefix_route_installed_and_removed() {
    let (lab, rtr, host) = Lab::pair("obr", ("rtr", "lan0"), ("host", "eth0"));
    rtr.sh("ip -6 addr add 2001:db8:1::1/64 dev lan0 nodad");
    let cfg = format!(
        "{}pd_pool = {{ prefix = \"2001:db8:8::/48\", delegated_length = 60 }}\n",
        testlab::DHCPV6_LAN
    );
    let d = lab.daemon(&rtr, "r", &cfg);
    let sock = lab.dir().join("r.sock").display().to_string();
    let v6ctl = bin("v6ctl").display().to_string();
    lab.spawn(
        &rtr,
        &[&v6ctl, "-s", &sock, "monitor", "routes", "--json"],
        "routes.log",
    );
    let mon = lab.dir().join("routes.log");
    std::thread::sleep(Duration::from_millis(300));
    let route = |action: &str| {
        std::fs::read_to_string(&mon)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|e| {
                e["action"] == action
                    && e["lease"]
                        .as_str()
                        .is_some_and(|p| p.starts_with("2001:db8:8:"))
            })
    };
    let c = lab.dhclient(&host, "c", &["-P"], "eth0");
    let leased = c.wait_lease(Duration::from_secs(15), |t| t.contains("iaprefix"));
    assert!(leased.is_some(), "{}\n{}", c.log_text(), d.log_text());
    let installed = wait_for(Duration::from_secs(2), || route("installed"));
    let installed = installed.unwrap_or_else(|| {
        panic!(
            "no route event:\n{}\n{}",
            std::fs::read_to_string(&mon).unwrap_or_default(),
            rtr.sh("ip -6 route")
        )
    });
    assert_eq!(installed["interface"], "lan0", "{installed}");
    let prefix = installed["lease"].as_str().unwrap_or_default().to_string();
    assert!(rtr.sh("ip -6 route show proto 201").contains(&prefix));
    let pf = lab.dir().join("c.pid").display().to_string();
    let lf = lab.dir().join("c.leases").display().to_string();
    host.sh(&format!(
        "dhclient -6 -P -r -sf /bin/true -lf {lf} -pf {pf} eth0"
    ));
    let removed = wait_for(Duration::from_secs(2), || route("removed"));
    assert_eq!(
        removed.map(|e| e["lease"].as_str().unwrap_or_default().to_string()),
        Some(prefix),
        "{}",
        std::fs::read_to_string(&mon).unwrap_or_default()
    );
}

/// v6ctl without a command reads commands from a pipe (`v6ctl -s SOCK` <
/// `printf ...`), answering each as birdc would.
fn session(sock: &str, input: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new(bin("v6ctl"))
        .args(["-s", sock])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("v6ctl");
    if let Some(mut i) = child.stdin.take() {
        i.write_all(input.as_bytes()).expect("stdin");
    }
    let o = child.wait_with_output().expect("v6ctl output");
    testlab::stdout_of(&o, "v6ctl session")
}

/// BIRD 2 sends 2001:db8:bb::/48 over RIPng every second.
fn start_bird(lab: &Lab, ns: &testlab::Netns) {
    assert!(testlab::have("bird"), "bird2 is needed");
    let dir = lab.dir();
    let conf = dir.join("bird.conf");
    let ctl = dir.join("bird.ctl").display().to_string();
    std::fs::write(
        &conf,
        "router id 10.0.0.9;\nprotocol device { scan time 1; }\n\
         protocol static { ipv6; route 2001:db8:bb::/48 unreachable; }\n\
         protocol rip ng { ipv6 { import all; export all; };\n\
         interface \"eth0\" { mode multicast; update time 1; }; }\n",
    )
    .expect("bird.conf");
    lab.spawn(
        ns,
        &["bird", "-f", "-c", &conf.display().to_string(), "-s", &ctl],
        "bird.out",
    );
}

#[test]
#[ignore = "needs root and network namespaces"]
fn a_piped_session_disables_and_enables_rip1_with_bird_as_peer() {
    let (lab, bird, rtr) = Lab::pair("obs", ("bird", "eth0"), ("rtr", "eth0"));
    start_bird(&lab, &bird);
    let d = lab.daemon(
        &rtr,
        "r",
        "[ripng]\ninterfaces = [\"eth0\"]\nupdate_time = 2\ntimeout_time = 12\ngarbage_time = 8\n",
    );
    let learned = || {
        let t = rtr.sh("ip -6 route show proto rip");
        t.contains("2001:db8:bb::/48").then_some(t)
    };
    assert!(
        wait_for(Duration::from_secs(15), learned).is_some(),
        "{}",
        d.log_text()
    );
    let sock = lab.dir().join("r.sock").display().to_string();
    let out = session(&sock, "show route count\ndisable rip1\nshow protocols\n");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].ends_with("networks in table master6") && lines[0].contains(" of "),
        "{out}"
    );
    assert_eq!(lines[1], "rip1: disabled", "{out}");
    assert!(lines[2].starts_with("Name       Proto      Table"), "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("rip1 ") && l.contains(" down ")),
        "{out}"
    );
    // Disabled: its routes leave the kernel.
    let gone = wait_for(Duration::from_secs(5), || learned().is_none().then_some(()));
    assert!(gone.is_some(), "{}", rtr.sh("ip -6 route"));

    // `enable rip1` brings them back; ?, comments and quit as birdc.
    let out = session(&sock, "# back on\nenable rip1\n?\nquit\nshow status\n");
    assert!(out.starts_with("rip1: enabled\ncommands:\n"), "{out}");
    assert!(
        !out.contains("Daemon is up"),
        "quit ends the session: {out}"
    );
    assert!(
        wait_for(Duration::from_secs(15), learned).is_some(),
        "{}",
        d.log_text()
    );
    let out = session(
        &sock,
        "show route for 2001:db8:bb::1\nshow route all for 2001:db8:bb::1\n",
    );
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("2001:db8:bb::/48") && l.contains("[rip1 "))
            .count(),
        2,
        "{out}"
    );
    // `all`: birdc's attribute lines (once: only the second command).
    assert_eq!(
        out.matches("\tType: RIP univ\n\trip_metric: ").count(),
        1,
        "{out}"
    );
}
