//! RIPng against FRR's ripngd (with its zebra), the other RIPng that
//! Debian ships besides BIRD (ripng_e2e.rs): FRR users moving to v6router
//! run one next to the other while they migrate. Both directions, the
//! metrics per hop (RFC 2080 §2.4.2), the neighbour list, our final
//! update at stop (routes poisoned at once, not left to time out) and
//! FRR vanishing without a word (timeout, then garbage collection).

use std::time::Duration;
use testlab::{have, wait_for, Daemon, Lab, Netns};

/// FRR in `ns`: zebra and ripngd, each under its own path space (`-N`:
/// sockets in /var/run/frr/<space>/, removed when the test ends) so that
/// nothing touches a system FRR. The lab stops both processes by pid.
struct Frr {
    space: String,
    ripngd: u32,
}

impl Frr {
    fn start(lab: &Lab, ns: &Netns, ripngd_conf: &str) -> Frr {
        // A path space name unique to this lab (its directory's name).
        let space = lab
            .dir()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let run = format!("/var/run/frr/{space}");
        ns.sh(&format!(
            "mkdir -p {run} && chown frr:frr /var/run/frr {run}"
        ));
        let z = lab.dir().join("zebra.conf");
        std::fs::write(&z, "hostname z\n").expect("zebra.conf");
        let r = lab.dir().join("ripngd.conf");
        std::fs::write(&r, ripngd_conf).expect("ripngd.conf");
        lab.spawn(
            ns,
            &[
                "/usr/lib/frr/zebra",
                "-N",
                &space,
                "-f",
                &z.display().to_string(),
                "--log",
                "stdout",
            ],
            "zebra.log",
        );
        let up = wait_for(Duration::from_secs(10), || {
            std::path::Path::new(&format!("{run}/zserv.api"))
                .exists()
                .then_some(())
        });
        assert!(up.is_some(), "zebra did not start");
        let ripngd = lab.spawn(
            ns,
            &[
                "/usr/lib/frr/ripngd",
                "-N",
                &space,
                "-f",
                &r.display().to_string(),
                "--log",
                "stdout",
            ],
            "ripngd.log",
        );
        Frr { space, ripngd }
    }

    fn vtysh(&self, ns: &Netns, cmd: &str) -> String {
        ns.sh(&format!("vtysh -N {} -c '{cmd}' 2>/dev/null", self.space))
    }

    /// FRR's metric for `prefix` in `show ipv6 ripng` (the entry's second
    /// line: next hop, via, metric).
    fn metric(&self, ns: &Netns, prefix: &str) -> Option<u32> {
        let out = self.vtysh(ns, "show ipv6 ripng");
        let mut lines = out.lines();
        lines.find(|l| l.contains(prefix))?;
        lines.next()?.split_whitespace().nth(2)?.parse().ok()
    }
}

impl Drop for Frr {
    fn drop(&mut self) {
        // The lab kills the processes; their socket directory is ours.
        let _ = std::fs::remove_dir_all(format!("/var/run/frr/{}", self.space));
    }
}

struct Setup {
    lab: Lab,
    rtr: Netns,
    frr_ns: Netns,
    d: Daemon,
    frr: Frr,
}

/// v6routerd (`rtr`, exporting its lan1 2001:db8:a::/64) and FRR
/// (`frr`, redistributing its connected lan2 2001:db8:f00:1::/64), on one
/// link (eth0). FRR updates every 5 s, times out after 15 s.
fn setup(tag: &str, timeout: u32, garbage: u32) -> Setup {
    assert!(
        std::path::Path::new("/usr/lib/frr/ripngd").exists() && have("vtysh"),
        "FRR (apt install frr) is needed"
    );
    let (lab, rtr, frr_ns) = Lab::pair(tag, ("rtr", "eth0"), ("frr", "eth0"));
    for (ns, dev, addr) in [
        (&rtr, "lan1", "2001:db8:a::1/64"),
        (&frr_ns, "lan2", "2001:db8:f00:1::1/64"),
    ] {
        ns.sh(&format!(
            "ip link add {dev} type veth peer name {dev}p && ip link set {dev} up && ip link set {dev}p up && ip -6 addr add {addr} dev {dev} nodad && sysctl -qw net.ipv6.conf.all.forwarding=1"
        ));
    }
    let frr = Frr::start(
        &lab,
        &frr_ns,
        "hostname f\nrouter ripng\n network eth0\n redistribute connected\n timers basic 5 15 10\n!\n",
    );
    let d = lab.daemon(
        &rtr,
        "r",
        &format!(
            "[ripng]\ninterfaces = [\"eth*\"]\nupdate_time = 5\ntimeout_time = {timeout}\ngarbage_time = {garbage}\n\n[ripng.export]\nconnected = true\nconnected_interfaces = [\"lan1\"]\n"
        ),
    );
    Setup {
        lab,
        rtr,
        frr_ns,
        d,
        frr,
    }
}

fn our_rip_route(s: &Setup) -> Option<String> {
    let r = s.rtr.sh("ip -6 route show proto rip");
    r.lines()
        .find(|l| l.starts_with("2001:db8:f00:1::/64"))
        .map(str::to_string)
}

/// Each learns the other's prefix: FRR's in our kernel (proto rip, via its
/// link-local) and in `v6ctl show route` at metric 2, ours in FRR's RIPng
/// table at metric 2 and in its kernel (via zebra); `show rip neighbors`
/// lists FRR with one route. When we stop, our final update poisons our
/// route (metric 16) in FRR at once, without waiting for its timeout.
#[test]
#[ignore = "needs root and network namespaces"]
fn frr_ripngd_and_v6routerd_learn_each_others_prefixes() {
    let s = setup("frr", 15, 10);
    let frr_ll = s.frr_ns.link_local("eth0");
    let route = wait_for(Duration::from_secs(20), || our_rip_route(&s)).unwrap_or_else(|| {
        panic!(
            "FRR's prefix not in our kernel\n{}\n{}",
            s.rtr.sh("ip -6 route"),
            s.d.ctl(&["show", "rip", "neighbors"])
        )
    });
    assert!(route.contains(&format!("via {frr_ll} dev eth0")), "{route}");
    let shown = s.d.ctl(&["show", "route", "for", "2001:db8:f00:1::/64"]);
    assert!(
        shown.contains("(120/2)") && shown.contains(&frr_ll),
        "{shown}"
    );
    let nb = s.d.ctl(&["show", "rip", "neighbors"]);
    let row = nb
        .lines()
        .find(|l| l.starts_with(&frr_ll))
        .unwrap_or_else(|| panic!("FRR not a neighbour:\n{nb}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols.get(1), Some(&"eth0"), "{row}");
    assert_eq!(cols.get(3), Some(&"1"), "one route from FRR: {row}");
    // Ours in FRR: RIPng table at metric 2, kernel via zebra.
    let m = wait_for(Duration::from_secs(20), || {
        s.frr.metric(&s.frr_ns, "2001:db8:a::/64")
    });
    assert_eq!(m, Some(2), "{}", s.frr.vtysh(&s.frr_ns, "show ipv6 ripng"));
    let k = s.frr_ns.sh("ip -6 route show 2001:db8:a::/64");
    assert!(k.contains("proto ripng"), "{k}");
    // Stop: the final update poisons our route in FRR at once (FRR's own
    // timeout is 15 s).
    s.lab.stop(s.d.pid, Duration::from_secs(5));
    let poisoned = wait_for(Duration::from_secs(3), || {
        (s.frr.metric(&s.frr_ns, "2001:db8:a::/64") == Some(16)).then_some(())
    });
    assert!(
        poisoned.is_some(),
        "{}",
        s.frr.vtysh(&s.frr_ns, "show ipv6 ripng")
    );
}

/// FRR's ripngd killed (no last word): its route shows at metric 16 once
/// our timeout passes and leaves our kernel after the garbage time
/// (RFC 2080 §2.3), and is not learned back from anywhere meanwhile.
#[test]
#[ignore = "needs root and network namespaces"]
fn frr_ripngd_vanishing_times_out_then_is_collected() {
    let s = setup("frv", 12, 4);
    assert!(
        wait_for(Duration::from_secs(20), || our_rip_route(&s)).is_some(),
        "{}",
        s.rtr.sh("ip -6 route")
    );
    s.lab.kill9(s.frr.ripngd);
    let t0 = std::time::Instant::now();
    let sixteen = wait_for(Duration::from_secs(20), || {
        s.d.ctl(&["show", "route", "for", "2001:db8:f00:1::/64"])
            .contains("(120/16)")
            .then_some(())
    });
    assert!(sixteen.is_some(), "{}", s.d.ctl(&["show", "route"]));
    let gone = wait_for(Duration::from_secs(10), || {
        our_rip_route(&s).is_none().then_some(())
    });
    assert!(gone.is_some(), "{}", s.rtr.sh("ip -6 route"));
    // Not before the timeout: at least 12 s minus one update interval.
    assert!(
        t0.elapsed() >= Duration::from_secs(7),
        "gone after {:?}",
        t0.elapsed()
    );
}
