//! `show metrics` and `[metrics] listen` end to end: the counters a real
//! host's RS and a real dhclient -6 cause show up in v6ctl's exposition,
//! promtool (Prometheus' own linter) accepts the text, and a real
//! Prometheus server scraping `GET /metrics` stores the same figures.

use std::time::Duration;
use testlab::{need, stdout_of, wait_for, Setup};

/// The served LAN, with metrics on loopback.
fn config() -> String {
    format!(
        "[metrics]\nlisten = \"[::1]:9430\"\n{}",
        testlab::DHCPV6_LAN
    )
}

/// The value of the first sample of `series` (a name with its labels, as
/// printed) in an exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

#[test]
#[ignore = "needs root and network namespaces (prometheus, promtool, curl, rdisc6, dhclient)"]
fn counters_reach_v6ctl_promtool_and_a_real_prometheus() {
    need(
        &["prometheus", "promtool", "curl", "rdisc6", "dhclient"],
        "prometheus, promtool, curl, rdisc6 and dhclient (tests/setup.sh installs them)",
    );
    let Setup { lab, rtr, host, d } = Setup::dhcpv6("met", "eth0", &config(), |_, _| {});

    let rs = host.run("rdisc6 -1 -w 2000 eth0");
    assert!(
        rs.status.success(),
        "rdisc6: {}\n{}\n{}",
        String::from_utf8_lossy(&rs.stdout),
        d.ctl(&["show", "ra"]),
        d.log_text()
    );
    let c = lab.dhclient(&host, "na", &[], "eth0");
    let leased = c.wait_lease(Duration::from_secs(15), |t| {
        t.contains("iaaddr 2001:db8:1::")
    });
    assert!(leased.is_some(), "{}\n{}", c.log_text(), d.log_text());

    // v6ctl: the RS and the lease are counted.
    let text = wait_for(Duration::from_secs(5), || {
        let t = d.ctl(&["show", "metrics"]);
        (sample(&t, "v6router_dhcpv6_leases{kind=\"address\"}") == Some(1.0)).then_some(t)
    })
    .unwrap_or_else(|| d.ctl(&["show", "metrics"]));
    let rs = sample(&text, "v6router_ra_rs_received_total{interface=\"lan0\"}");
    assert!(rs.is_some_and(|n| n >= 1.0), "{text}");
    assert_eq!(
        sample(&text, "v6router_dhcpv6_leases{kind=\"address\"}"),
        Some(1.0),
        "{text}"
    );
    assert!(sample(&text, "process_resident_memory_bytes").is_some_and(|b| b > 1e6));
    for p in ["ra", "dhcpv6"] {
        let up = format!("v6router_protocol_up{{protocol=\"{p}\"}}");
        assert_eq!(sample(&text, &up), Some(1.0), "{text}");
    }

    // promtool lints the exposition as Prometheus reads it.
    let f = lab.dir().join("metrics.txt");
    std::fs::write(&f, &text).expect("write");
    let lint = rtr.run(&format!("promtool check metrics < {}", f.display()));
    stdout_of(&lint, "promtool");

    // HTTP: only GET /metrics answers.
    let code = |path: &str| {
        rtr.sh(&format!(
            "curl -s -o /dev/null -w '%{{http_code}}' 'http://[::1]:9430{path}'"
        ))
    };
    assert_eq!(code("/metrics"), "200");
    assert_eq!(code("/"), "404");

    // A real Prometheus scraping every second stores what v6ctl showed.
    let prom = lab.dir().join("prometheus.yml");
    std::fs::write(
        &prom,
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: v6router\n    static_configs:\n      - targets: ['[::1]:9430']\n",
    )
    .expect("write");
    let tsdb = lab.dir().join("tsdb").display().to_string();
    lab.spawn(
        &rtr,
        &[
            "prometheus",
            &format!("--config.file={}", prom.display()),
            &format!("--storage.tsdb.path={tsdb}"),
            "--web.listen-address=127.0.0.1:9090",
        ],
        "prometheus.log",
    );
    let query =
        "http://127.0.0.1:9090/api/v1/query?query=v6router_dhcpv6_leases%7Bkind%3D%22address%22%7D";
    let stored = wait_for(Duration::from_secs(30), || {
        let out = rtr.run(&format!("curl -s '{query}'"));
        let body = String::from_utf8_lossy(&out.stdout).into_owned();
        body.contains("\"v6router\"").then_some(body)
    });
    let body = stored.unwrap_or_else(|| {
        panic!(
            "prometheus stored nothing:\n{}",
            std::fs::read_to_string(lab.dir().join("prometheus.log")).unwrap_or_default()
        )
    });
    assert!(body.contains(",\"1\"]"), "the stored value is 1: {body}");
    let up = rtr.run("curl -s 'http://127.0.0.1:9090/api/v1/query?query=up'");
    assert!(
        String::from_utf8_lossy(&up.stdout).contains(",\"1\"]"),
        "the scrape target is up: {}",
        String::from_utf8_lossy(&up.stdout)
    );
}
