//! The foundation: config checking, the live kernel view, reload and stop.

use std::process::Command;
use std::time::{Duration, Instant};
use testlab::{bin, wait_for, Lab};

fn repo(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn check_accepts_the_reference_config() {
    let o = Command::new(env!("CARGO_BIN_EXE_v6routerd"))
        .args(["check", "-c", &repo("config/v6router.toml")])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("OK"));
}

/// `v6routerd check -c FILE` on `toml`: (success, stderr).
fn check(f: &std::path::Path, toml: &str) -> (bool, String) {
    std::fs::write(f, toml).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_v6routerd"))
        .arg("check")
        .arg("-c")
        .arg(f)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn check_rejects_wrong_case_key_with_place_and_suggestion() {
    let dir = std::env::temp_dir().join(format!("v6t-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.toml");
    let (ok, err) = check(
        &f,
        "[[interface]]\nname = \"eth1\"\n\n[interface.ra]\nManagedFlag = true\n",
    );
    assert!(!ok);
    assert!(err.contains(&format!("{}:5:1", f.display())), "{err}");
    testlab::assert_contains(&err, &["ManagedFlag", "did you mean `managed`"]);
    let (ok, err) = check(
        &f,
        "[[interface]]\nname = \"eth1\"\nfavourite_colour = \"blue\"\n",
    );
    assert!(!ok);
    testlab::assert_contains(&err, &[":3:1", "unknown key `favourite_colour`"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs the built v6ctl binary (tests/run-all.sh builds the workspace first)"]
fn v6ctl_says_when_the_daemon_is_not_running() {
    let o = Command::new(bin("v6ctl"))
        .args(["-s", "/nonexistent/v6t.sock", "show", "status"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("v6routerd is not running"));
    let o = Command::new(bin("v6ctl"))
        .args(["-s", "/nonexistent/v6t.sock", "show", "bogus"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown command `show bogus`"));
}

#[test]
#[ignore = "needs root and network namespaces"]
fn interfaces_follow_the_kernel() {
    let (lab, rtr, host) = Lab::pair("fnd", ("rtr", "lan0"), ("host", "eth0"));
    let d = lab.daemon(
        &rtr,
        "r",
        "[[interface]]\nname = \"lan0\"\n\n[[interface]]\nname = \"lan1\"\n",
    );

    // The veth with its link-local address.
    let ll = rtr.sh("ip -6 -o addr show dev lan0 scope link | awk '{print $4}'");
    let ll = ll.trim();
    assert!(ll.starts_with("fe80::"), "{ll}");
    let shown = wait_for(Duration::from_secs(2), || {
        let s = d.ctl(&["show", "interfaces"]);
        s.contains(ll).then_some(s)
    });
    assert!(shown.is_some(), "{}", d.ctl(&["show", "interfaces"]));
    let s = d.ctl(&["show", "interfaces"]);
    assert!(s.contains("lan0 up"), "{s}");
    assert!(s.contains("lan1 absent"), "{s}");

    // Down and up again, reflected within a second each.
    for state in ["down", "up"] {
        rtr.sh(&format!("ip link set lan0 {state}"));
        let t = Instant::now();
        let want = format!("lan0 {state}");
        assert!(wait_for(Duration::from_secs(1), || d
            .ctl(&["show", "interfaces"])
            .contains(&want)
            .then_some(()))
        .is_some());
        eprintln!("link {state} seen after {:?}", t.elapsed());
    }

    // A second veth created after start appears, under its configured name.
    lab.veth(&rtr, "lan1", &host, "eth1");
    let s = wait_for(Duration::from_secs(1), || {
        let s = d.ctl(&["show", "interfaces"]);
        s.contains("lan1 up").then_some(s)
    });
    assert!(s.is_some(), "{}", d.ctl(&["show", "interfaces"]));
    let j = d.ctl(&["--json", "show", "interfaces"]);
    testlab::assert_contains(&j, &["\"name\": \"lan1\"", "\"present\": true"]);
}

#[test]
#[ignore = "needs root and network namespaces"]
fn bad_reload_keeps_running_and_sigterm_stops() {
    let lab = Lab::new("rld");
    let rtr = lab.netns("rtr");
    let d = lab.daemon(&rtr, "r", "[log]\nlevel = \"info\"\n");
    let good = std::fs::read_to_string(&d.config).unwrap();
    std::fs::write(
        &d.config,
        format!("{good}\n[[interface]]\nname = \"lan0\"\nra = 5\n"),
    )
    .unwrap();

    lab.signal(d.pid, libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(300));
    let status = d.ctl(&["show", "status"]);
    assert!(status.contains("Last reload was rejected"), "{status}");
    assert!(d.log_text().contains("reload rejected"), "{}", d.log_text());

    let e = d.try_ctl(&["reload"]).unwrap_err();
    testlab::assert_contains(&e, &["r.toml:", "interface[0].ra", "reload rejected"]);
    d.ctl(&["show", "status"]);

    // A good reload clears the error.
    std::fs::write(&d.config, &good).unwrap();
    let r = d.ctl(&["reload"]);
    assert!(r.contains("Reconfigured"), "{r}");

    let t = Instant::now();
    let code = lab.stop(d.pid, Duration::from_secs(2));
    assert_eq!(code, Some(0), "log:\n{}", d.log_text());
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(!d.socket.exists(), "the control socket is removed on stop");
}

/// No silent double service: with ISC dhcpd -6 (known by name) and dnsmasq
/// (known only by the DHCPv6 port it holds) serving the LAN, `check` names
/// both with their pids, where the config serves DHCPv6 and how to switch
/// them off; the daemon's start says the same in its log.
#[test]
#[ignore = "needs root and network namespaces (ISC dhcpd, dnsmasq)"]
fn another_dhcpv6_server_on_the_router_is_named_by_check_and_at_start() {
    let lab = Lab::new("rival");
    let (r, h) = (lab.netns("r"), lab.netns("h"));
    lab.veth(&r, "lan0", &h, "h0");
    lab.veth(&r, "lan1", &h, "h1");
    r.sh("ip -6 addr add 2001:db8:1::1/64 dev lan0 && ip -6 addr add 2001:db8:2::1/64 dev lan1");
    let conf = "default-lease-time 60;\nsubnet6 2001:db8:1::/64 {\n  range6 2001:db8:1::1000 2001:db8:1::1fff;\n}\n";
    let (dhcpd, _) = lab.isc_dhcpd6(&r, conf, "lan0", "dhcpd.log");
    let leases = lab.dir().join("dnsmasq.leases").display().to_string();
    let dnsmasq = lab.spawn(
        &r,
        &[
            "dnsmasq",
            "--keep-in-foreground",
            "--port=0",
            "--interface=lan1",
            "--bind-interfaces",
            "--dhcp-range=2001:db8:2::100,2001:db8:2::1ff,64",
            &format!("--dhcp-leasefile={leases}"),
            "--pid-file=",
        ],
        "dnsmasq.log",
    );
    // Both hold UDP port 547 (0x0223) in the namespace before we look.
    let bound = wait_for(Duration::from_secs(10), || {
        let t = r.sh("cat /proc/net/udp6");
        (t.matches(":0223 ").count() >= 2).then_some(())
    });
    assert!(bound.is_some(), "dhcpd and dnsmasq did not both bind 547");

    let cfg = lab.dir().join("r.toml");
    std::fs::write(
        &cfg,
        "[[interface]]\nname = \"lan0\"\n[interface.ra]\nmanaged = true\n\
         [interface.dhcpv6]\npool = \"2001:db8:1::100-2001:db8:1::1ff\"\n",
    )
    .expect("config");
    let check = r.run(&format!(
        "{} check -c {}",
        env!("CARGO_BIN_EXE_v6routerd"),
        cfg.display()
    ));
    let err = String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success(), "a rival is a warning: {err}");
    assert!(
        err.contains(&format!("dhcpd (pid {dhcpd}) is running and serves DHCPv6")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "dnsmasq (pid {dnsmasq}) is running and serves DHCPv6"
        )),
        "{err}"
    );
    assert!(err.contains("interface[0].dhcpv6"), "{err}");
    assert!(
        err.contains("systemctl disable --now isc-dhcp-server"),
        "{err}"
    );
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(out.contains("OK (2 warnings)"), "{out}{err}");

    let d = lab.daemon(
        &r,
        "r",
        "[[interface]]\nname = \"lan0\"\n[interface.dhcpv6]\npool = \"2001:db8:1::100-2001:db8:1::1ff\"\n",
    );
    let said = wait_for(Duration::from_secs(10), || {
        d.log_text()
            .contains(&format!("dhcpd (pid {dhcpd}) is running"))
            .then_some(())
    });
    assert!(said.is_some(), "start log: {}", d.log_text());
}

/// birdc's habits in v6ctl: `disable` stops a protocol (the host's kernel
/// drops the default route at the final RA) and keeps it off across a
/// reload, `enable` brings it back, `restart` keeps DHCPv6's leases;
/// `configure check FILE` validates without loading; `show route count`
/// and `show memory` answer.
#[test]
#[ignore = "needs root and network namespaces (dhclient)"]
fn enable_disable_restart_configure_check_and_counts() {
    let (lab, r, h) = Lab::pair("adm", ("r", "lan0"), ("h", "eth0"));
    r.sh("ip -6 addr add 2001:db8:1::1/64 dev lan0 nodad");
    h.sh("sysctl -qw net.ipv6.conf.eth0.accept_ra=2");
    let d = lab.daemon(
        &r,
        "r",
        // A default router without an upstream default route (the test is
        // about the admin commands, not RFC 7084 G-4).
        "[[interface]]\nname = \"lan0\"\n[interface.ra]\nmanaged = true\n\
         require_default_route = false\n\
         [interface.dhcpv6]\npool = \"2001:db8:1::100-2001:db8:1::1ff\"\n",
    );
    let default_route = || {
        let t = h.sh("ip -6 route show default");
        t.contains("via fe80::").then_some(t)
    };
    assert!(wait_for(Duration::from_secs(10), default_route).is_some());
    let c = lab.dhclient(&h, "na", &[], "eth0");
    assert!(c
        .wait_lease(Duration::from_secs(15), |t| t
            .contains("iaaddr 2001:db8:1::"))
        .is_some());

    assert_eq!(d.ctl(&["disable", "ra"]), "ra: disabled\n");
    let gone = wait_for(Duration::from_secs(5), || {
        default_route().is_none().then_some(())
    });
    assert!(gone.is_some(), "the final RA withdrew the default route");
    let protocols = d.ctl(&["show", "protocols"]);
    assert!(
        protocols.lines().any(|l| l.starts_with("ra ")
            && l.contains(" down ")
            && l.contains("disabled by the administrator")),
        "{protocols}"
    );
    assert!(d.ctl(&["reload"]).contains("Reconfigured"));
    assert!(d
        .ctl(&["show", "protocols"])
        .contains("disabled by the administrator"));
    assert_eq!(d.ctl(&["disable", "ra"]), "ra: already disabled\n");
    assert_eq!(d.ctl(&["enable", "ra"]), "ra: enabled\n");
    assert!(wait_for(Duration::from_secs(10), default_route).is_some());

    let leases = |d: &testlab::Daemon| d.ctl(&["show", "leases"]);
    let before = leases(&d);
    assert!(before.contains("2001:db8:1::"), "{before}");
    assert_eq!(d.ctl(&["restart", "dhcpv6"]), "dhcpv6: restarted\n");
    assert_eq!(leases(&d), before, "restart keeps the leases");
    let e = d.try_ctl(&["restart", "bgp"]).unwrap_err();
    testlab::assert_contains(&e, &["no protocol `bgp`", "dhcpv6"]);

    let count = d.ctl(&["show", "route", "count"]);
    assert!(
        count.ends_with("networks in table master6\n") && count.contains(" of "),
        "{count}"
    );
    assert!(d.ctl(&["show", "memory"]).contains("Resident:"));

    let bad = lab.dir().join("bad.toml");
    std::fs::write(
        &bad,
        "[[interface]]\nname = \"lan0\"\n[interface.ra]\nmanagd = true\n",
    )
    .expect("write");
    let e = d
        .try_ctl(&["configure", "check", &bad.display().to_string()])
        .unwrap_err();
    assert!(
        e.contains(&format!("{}:4:1", bad.display())) && e.contains("managed"),
        "{e}"
    );
    let ok = d.ctl(&["configure", "check"]);
    assert!(ok.contains(": OK ("), "{ok}");
    // The running configuration was not touched by the check.
    assert!(d
        .ctl(&["show", "protocols"])
        .lines()
        .any(|l| l.starts_with("ra ") && l.contains(" up ")));
}
