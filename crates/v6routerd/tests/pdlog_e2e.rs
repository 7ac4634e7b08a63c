//! Prefix delegation under load with the log a router needs (issues 20
//! and 21): perfdhcp asks for an address and a prefix per client at
//! 2,000 exchanges a second; the daemon at its default level (INFO) logs a
//! few lines a second at most, and every delegated prefix it leased has
//! its kernel route (installed in batches off the reply path).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use testlab::{bin, need, wait_for, Daemon, Lab, Netns};

const CONFIG: &str = r#"
[[interface]]
name = "lan0"

[interface.dhcpv6]
pool = "2001:db8:1::1000-2001:db8:1::ffff"
pd_pool = { prefix = "2001:db8:100::/44", delegated_length = 60 }
"#;

/// perfdhcp's run, seconds.
const LOAD_SECS: u64 = 5;
/// "A few lines a second", the most the issue allows.
const LINES_PER_SEC: f64 = 3.0;

/// v6routerd at its default level (the lab's `daemon` adds -v).
fn quiet_daemon(lab: &Lab, ns: &Netns) -> Daemon {
    let state_dir = lab.dir().join("r-state");
    let socket = lab.dir().join("r.sock");
    let config = lab.dir().join("r.toml");
    let text = format!(
        "[router]\nstate_dir = \"{}\"\n\n[control]\nsocket = \"{}\"\n{CONFIG}",
        state_dir.display(),
        socket.display()
    );
    std::fs::write(&config, text).unwrap();
    let exe = bin("v6routerd").display().to_string();
    let cfg = config.display().to_string();
    let pid = lab.spawn(ns, &[&exe, "-c", &cfg], "r.log");
    Daemon {
        pid,
        socket,
        log: lab.dir().join("r.log"),
        config,
        state_dir,
        ns: ns.clone(),
    }
}

fn log_lines(d: &Daemon) -> Vec<String> {
    d.log_text().lines().map(str::to_string).collect()
}

/// The delegated prefixes `show leases` lists.
fn leased_prefixes(d: &Daemon) -> BTreeSet<String> {
    let j = d.ctl(&["--json", "show", "leases"]);
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    v["data"]["leases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["lease"].as_str())
        .filter(|l| l.ends_with("/60"))
        .map(str::to_string)
        .collect()
}

/// The routes of protocol v6router via a gateway on the router.
fn pd_routes(rtr: &Netns) -> BTreeSet<String> {
    rtr.sh("ip -6 route show proto 201")
        .lines()
        .filter(|l| l.contains(" via "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
#[ignore = "needs root and network namespaces"]
fn delegation_load_logs_a_few_lines_and_routes_every_prefix() {
    need(&["perfdhcp"], "perfdhcp (kea-admin)");
    let (lab, rtr, host) = Lab::pair("pdl", ("rtr", "lan0"), ("host", "eth0"));
    rtr.sh("ip -6 addr add 2001:db8:1::1/64 dev lan0 nodad");
    let d = quiet_daemon(&lab, &rtr);
    let serving = wait_for(Duration::from_secs(5), || {
        let s = d.try_ctl(&["show", "dhcpv6"]).unwrap_or_default();
        s.contains("lan0 (").then_some(())
    });
    assert!(
        serving.is_some(),
        "not serving:\n{}",
        d.report(&["show", "dhcpv6"])
    );
    let before = log_lines(&d).len();
    let t0 = Instant::now();
    let secs = LOAD_SECS.to_string();
    let pd = lab.spawn(
        &host,
        &[
            "perfdhcp",
            "-6",
            "-l",
            "eth0",
            "-r",
            "2000",
            "-R",
            "1000000",
            "-p",
            &secs,
            "-e",
            "address-and-prefix",
        ],
        "perfdhcp.log",
    );
    // perfdhcp stops by itself; then one summary period more, so the
    // INFO summary of the load is in the window counted.
    std::thread::sleep(Duration::from_secs(LOAD_SECS + 1));
    let _ = lab.stop(pd, Duration::from_secs(5));
    std::thread::sleep(Duration::from_secs(10));
    let window = t0.elapsed().as_secs_f64();
    let lines = log_lines(&d);
    let during = &lines[before.min(lines.len())..];
    let perf = std::fs::read_to_string(lab.dir().join("perfdhcp.log")).unwrap_or_default();

    let prefixes = leased_prefixes(&d);
    assert!(
        prefixes.len() >= 1000,
        "too little load to prove anything: {} prefixes leased\nperfdhcp:\n{perf}",
        prefixes.len()
    );
    let allowed = (LINES_PER_SEC * window) as usize;
    assert!(
        during.len() <= allowed,
        "{} log lines in {window:.1} s (at most {allowed}):\n{}",
        during.len(),
        during.join("\n")
    );
    assert!(
        during
            .iter()
            .any(|l| l.contains("in the last 10 s: received")),
        "no INFO summary of the load:\n{}",
        during.join("\n")
    );
    // Every leased prefix is routed, and no route is left without a lease.
    let routed = wait_for(Duration::from_secs(5), || {
        (pd_routes(&rtr) == leased_prefixes(&d)).then_some(())
    });
    let routes = pd_routes(&rtr);
    let now = leased_prefixes(&d);
    assert!(
        routed.is_some(),
        "{} prefixes leased, {} routed; leased without route e.g. {:?}; routed without lease e.g. {:?}",
        now.len(),
        routes.len(),
        now.difference(&routes).take(5).collect::<Vec<_>>(),
        routes.difference(&now).take(5).collect::<Vec<_>>()
    );
    // A clean stop takes every delegated-prefix route out (in one batch)
    // before the process ends.
    let _ = lab.stop(d.pid, Duration::from_secs(10));
    let left = pd_routes(&rtr);
    assert!(
        left.is_empty(),
        "{} prefix routes left after stop",
        left.len()
    );
    eprintln!(
        "{} prefixes leased and routed; {} log lines in {window:.1} s:\n{}",
        now.len(),
        during.len(),
        during.join("\n")
    );
}
