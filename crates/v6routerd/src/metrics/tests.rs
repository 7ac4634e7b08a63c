use super::*;
use v6control::dhcpv6::Counter;

fn counter(name: &str, count: u64) -> Counter {
    Counter {
        name: name.into(),
        count,
    }
}

#[test]
fn families_have_help_type_and_labelled_samples() {
    let mut ra_status = RaInterfaceStatus {
        name: "lan0".into(),
        router_lifetime: 1800,
        ..Default::default()
    };
    ra_status.counters.ra_sent_multicast = 7;
    ra_status.counters.rs_received = 2;
    ra_status.counters.rx_invalid_by_reason = vec![counter("hop limit not 255", 3)];
    let dhcpv6_stats = Dhcpv6Stats {
        addresses: 5,
        prefixes: 1,
        received: vec![counter("Solicit", 9)],
        drops: vec![counter("no usable client identifier", 4)],
        ..Default::default()
    };
    let i = Inputs {
        version: "0.1.0".into(),
        process: Process {
            resident_bytes: 4096,
            cpu_ms: 500,
            start_time_ms: 1_000_000_000_250,
        },
        ..Default::default()
    };
    // A scrape: the supervisor's families, then each service's.
    let t = render(&i) + &ra(&[ra_status]) + &dhcpv6(&dhcpv6_stats) + &rip(&[]);
    for want in [
        "# HELP v6router_build_info ",
        "# TYPE v6router_build_info gauge\nv6router_build_info{version=\"0.1.0\"} 1\n",
        "# TYPE v6router_ra_sent_total counter\n",
        "v6router_ra_sent_total{interface=\"lan0\",kind=\"multicast\"} 7\n",
        "v6router_ra_rs_received_total{interface=\"lan0\"} 2\n",
        "v6router_ra_dropped_total{interface=\"lan0\",reason=\"hop limit not 255\"} 3\n",
        "v6router_ra_router_lifetime_seconds{interface=\"lan0\"} 1800\n",
        "v6router_dhcpv6_received_total{type=\"Solicit\"} 9\n",
        "v6router_dhcpv6_dropped_total{reason=\"no usable client identifier\"} 4\n",
        "v6router_dhcpv6_leases{kind=\"address\"} 5\n",
        "v6router_dhcpv6_journal_commits_total 0\n",
        "process_resident_memory_bytes 4096\n",
        "process_cpu_seconds_total 0.500\n",
        "process_start_time_seconds 1000000000.250\n",
    ] {
        assert!(t.contains(want), "missing {want:?} in\n{t}");
    }
    // Families without samples are left out (no neighbours, no prefixes
    // advertised); a service that does not run contributes nothing.
    assert!(!t.contains("v6router_rip_"), "{t}");
    assert!(!t.contains("v6router_ra_prefix_valid"), "{t}");
    // Every family is declared once.
    let types = t.lines().filter(|l| l.starts_with("# TYPE")).count();
    let helps = t.lines().filter(|l| l.starts_with("# HELP")).count();
    assert_eq!(types, helps);
    let mut names: Vec<&str> = t
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    names.sort_unstable();
    let n = names.len();
    names.dedup();
    assert_eq!(n, names.len(), "a family declared twice");
}

#[test]
fn label_values_are_escaped() {
    assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

#[test]
fn process_figures_from_proc_text() {
    // A comm with a space and a parenthesis, as the kernel prints it.
    let stat = "42 (v6 (x)) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1000 12345678 300 18446744073709551615";
    let p = process_from(stat, "cpu 1 2 3\nbtime 1700000000\n", 100, 4096);
    assert_eq!(p.resident_bytes, 300 * 4096);
    assert_eq!(p.cpu_ms, 3000);
    assert_eq!(p.start_time_ms, 1_700_000_010_000);
    assert_eq!(process_from("", "", 100, 4096), Process::default());
}
