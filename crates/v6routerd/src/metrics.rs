//! `show metrics` and `[metrics] listen`: what the services already count,
//! in Prometheus' text exposition format (version 0.0.4).
//!
//! Like `show route`, this lives in the nest: the supervisor asks every
//! running service the question it already answers for v6ctl (`show ra`,
//! `show dhcpv6`, ...) and `render` turns the typed answers into metric
//! families. Names follow Prometheus' conventions: a `v6router_` prefix,
//! `_total` on counters, base units (`_seconds`, `_bytes`); the process
//! metrics use the names every Prometheus client library uses.

use crate::service::Query;
use std::fmt::Write as _;
use tokio::sync::mpsc;
use v6control::dhcpv6::Dhcpv6Stats;
use v6control::ra::RaInterfaceStatus;
use v6control::rip::NeighborRow;
use v6control::tunnel::TunnelStatus;
use v6control::uplink::UplinkStatus;
use v6control::{ProtocolInfo, Request};

/// What the supervisor itself contributes to a scrape; the services add
/// their own families (`Service::metrics`).
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub version: String,
    pub protocols: Vec<ProtocolInfo>,
    pub process: Process,
}

/// The process collector's figures (from /proc/self).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Process {
    pub resident_bytes: u64,
    /// In milliseconds; printed as seconds.
    pub cpu_ms: u64,
    pub start_time_ms: u64,
}

type Labels = Vec<(&'static str, String)>;

/// A sample's value: a count, or milliseconds printed as seconds. Integers
/// only: formatting floats would link the float printer into the binary
/// for two samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    N(u64),
    Ms(u64),
}

impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Val::N(n) => write!(f, "{n}"),
            Val::Ms(ms) => write!(f, "{}.{:03}", ms / 1000, ms % 1000),
        }
    }
}

fn n(x: impl Into<u64>) -> Val {
    Val::N(x.into())
}

/// The exposition being written: one HELP and TYPE per family, then its
/// samples. A family without samples is left out.
#[derive(Default)]
struct Exposition {
    out: String,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str, samples: Vec<(Labels, Val)>) {
        if samples.is_empty() {
            return;
        }
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            self.out.push_str(name);
            if !labels.is_empty() {
                let l: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                    .collect();
                let _ = write!(self.out, "{{{}}}", l.join(","));
            }
            let _ = writeln!(self.out, " {value}");
        }
    }
}

/// A label value as the format wants it: backslash, quote and newline
/// escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn one(k: &'static str, v: &str) -> Labels {
    vec![(k, v.to_string())]
}

fn flag(b: bool) -> Val {
    Val::N(u64::from(b))
}

/// The supervisor's families: build, protocols, process.
pub fn render(i: &Inputs) -> String {
    let mut e = Exposition::default();
    e.family(
        "v6router_build_info",
        "gauge",
        "The running v6routerd's version (always 1).",
        vec![(one("version", &i.version), n(1u8))],
    );
    let up = i
        .protocols
        .iter()
        .map(|p| (one("protocol", &p.name), flag(p.state == "up")))
        .collect();
    e.family(
        "v6router_protocol_up",
        "gauge",
        "1 when the protocol's state in show protocols is up.",
        up,
    );
    process_families(&mut e, &i.process);
    e.out
}

/// The tunnel service's families.
pub fn tunnels(t: &[TunnelStatus]) -> String {
    let mut e = Exposition::default();
    let up = t
        .iter()
        .map(|t| (one("tunnel", &t.name), flag(t.state == "up")))
        .collect();
    e.family(
        "v6router_tunnel_up",
        "gauge",
        "1 when the tunnel's link is up.",
        up,
    );
    e.out
}

/// The ra service's families.
pub fn ra(ra: &[RaInterfaceStatus]) -> String {
    let e = &mut Exposition::default();
    let per = |f: fn(&RaInterfaceStatus) -> u64| -> Vec<(Labels, Val)> {
        ra.iter()
            .map(|r| (one("interface", &r.name), n(f(r))))
            .collect()
    };
    let mut sent = Vec::new();
    for r in ra {
        let c = &r.counters;
        for (kind, n) in [
            ("multicast", c.ra_sent_multicast),
            ("unicast", c.ra_sent_unicast),
            ("solicited", c.ra_sent_solicited),
            ("final", c.ra_sent_final),
        ] {
            sent.push((
                vec![("interface", r.name.clone()), ("kind", kind.into())],
                Val::N(n),
            ));
        }
    }
    e.family(
        "v6router_ra_sent_total",
        "counter",
        "Router Advertisements sent, by kind (periodic multicast, unicast answer, multicast answer to an RS, final with lifetime 0).",
        sent,
    );
    e.family(
        "v6router_ra_rs_received_total",
        "counter",
        "Router Solicitations received.",
        per(|r| r.counters.rs_received),
    );
    e.family(
        "v6router_ra_received_total",
        "counter",
        "Router Advertisements received from other routers.",
        per(|r| r.counters.ra_received),
    );
    e.family(
        "v6router_ra_inconsistent_total",
        "counter",
        "Other routers' RAs that disagree with ours (RFC 4861 section 6.2.7).",
        per(|r| r.counters.ra_inconsistent),
    );
    let mut invalid = Vec::new();
    for r in ra {
        for c in &r.counters.rx_invalid_by_reason {
            let l = vec![("interface", r.name.clone()), ("reason", c.name.clone())];
            invalid.push((l, n(c.count)));
        }
    }
    e.family(
        "v6router_ra_dropped_total",
        "counter",
        "Received RS/RA messages dropped by the validity checks of RFC 4861 section 6.1, by reason.",
        invalid,
    );
    e.family(
        "v6router_ra_send_errors_total",
        "counter",
        "Sends the kernel refused.",
        per(|r| r.counters.tx_errors),
    );
    e.family(
        "v6router_ra_router_lifetime_seconds",
        "gauge",
        "The router lifetime advertised now (0: not a default router).",
        per(|r| u64::from(r.router_lifetime)),
    );
    let mut valid = Vec::new();
    for r in ra {
        for p in &r.prefixes {
            let l = vec![("interface", r.name.clone()), ("prefix", p.prefix.clone())];
            valid.push((l, n(p.valid_lifetime)));
        }
    }
    e.family(
        "v6router_ra_prefix_valid_lifetime_seconds",
        "gauge",
        "The valid lifetime each advertised prefix carries now (4294967295: forever).",
        valid,
    );
    std::mem::take(&mut e.out)
}

/// The DHCPv6 relay agent's families (relay mode, dhcp_relay.rs).
pub fn dhcpv6_relay(lan: &str, st: &v6dhcp::relay_agent::RelayStats, routes: usize) -> String {
    let e = &mut Exposition::default();
    let on = || one("interface", lan);
    e.family(
        "v6router_dhcpv6_relay_forwarded_total",
        "counter",
        "Relay-forward messages sent upstream (RFC 8415 section 19.1).",
        vec![(on(), n(st.forwarded))],
    );
    e.family(
        "v6router_dhcpv6_relay_delivered_total",
        "counter",
        "Messages from upstream Relay-replies delivered to LAN clients and relays.",
        vec![(on(), n(st.delivered))],
    );
    let dropped = st
        .drops
        .iter()
        .map(|(r, c)| {
            (
                vec![("interface", lan.to_string()), ("reason", r.to_string())],
                n(*c),
            )
        })
        .collect();
    e.family(
        "v6router_dhcpv6_relay_dropped_total",
        "counter",
        "Datagrams the relay agent dropped, by reason.",
        dropped,
    );
    e.family(
        "v6router_dhcpv6_relay_prefix_routes",
        "gauge",
        "Routes for prefixes delegated to LAN routers through the relay.",
        vec![(on(), n(routes as u64))],
    );
    std::mem::take(&mut e.out)
}

fn counters(c: &[v6control::dhcpv6::Counter], label: &'static str) -> Vec<(Labels, Val)> {
    c.iter()
        .map(|c| (one(label, &c.name), n(c.count)))
        .collect()
}

/// The dhcpv6 service's families.
pub fn dhcpv6(d: &Dhcpv6Stats) -> String {
    let e = &mut Exposition::default();
    e.family(
        "v6router_dhcpv6_received_total",
        "counter",
        "DHCPv6 messages received, by message type.",
        counters(&d.received, "type"),
    );
    e.family(
        "v6router_dhcpv6_sent_total",
        "counter",
        "DHCPv6 messages sent, by message type.",
        counters(&d.sent, "type"),
    );
    e.family(
        "v6router_dhcpv6_dropped_total",
        "counter",
        "DHCPv6 messages dropped, by reason.",
        counters(&d.drops, "reason"),
    );
    e.family(
        "v6router_dhcpv6_leases",
        "gauge",
        "Live bindings: addresses (IA_NA) and delegated prefixes (IA_PD).",
        vec![
            (one("kind", "address"), n(d.addresses)),
            (one("kind", "prefix"), n(d.prefixes)),
        ],
    );
    e.family(
        "v6router_dhcpv6_reconfigure_clients",
        "gauge",
        "Clients being sent Reconfigure (RFC 8415 section 18.3.11).",
        vec![(vec![], n(d.reconfigures_pending))],
    );
    e.family(
        "v6router_dhcpv6_reconfigure_unanswered_total",
        "counter",
        "Clients that never answered REC_MAX_RC Reconfigure messages.",
        vec![(vec![], n(d.reconfigures_unanswered))],
    );
    let j = &d.journal;
    e.family(
        "v6router_dhcpv6_journal_commits_total",
        "counter",
        "Lease journal group commits (each one fsync before the Replies it holds).",
        vec![(vec![], n(j.commits))],
    );
    e.family(
        "v6router_dhcpv6_journal_records_total",
        "counter",
        "Lease records written to the journal.",
        vec![(vec![], n(j.records_written))],
    );
    e.family(
        "v6router_dhcpv6_journal_commit_failures_total",
        "counter",
        "Journal commits that failed (their Replies were not sent).",
        vec![(vec![], n(j.commit_failures))],
    );
    e.family(
        "v6router_dhcpv6_journal_size_bytes",
        "gauge",
        "The lease journal's size on disk.",
        vec![(vec![], n(j.size))],
    );
    std::mem::take(&mut e.out)
}

/// The rip service's families.
pub fn rip(r: &[NeighborRow]) -> String {
    let e = &mut Exposition::default();
    let per = |f: fn(&NeighborRow) -> u64| -> Vec<(Labels, Val)> {
        r.iter()
            .map(|n| {
                let l = vec![("neighbor", n.addr.clone()), ("interface", n.iface.clone())];
                (l, Val::N(f(n)))
            })
            .collect()
    };
    e.family(
        "v6router_rip_neighbor_routes",
        "gauge",
        "Routes learned from each RIPng neighbour.",
        per(|r| r.routes as u64),
    );
    e.family(
        "v6router_rip_neighbor_bad_packets_total",
        "counter",
        "Packets from the neighbour dropped by the checks of RFC 2080 section 2.4.2.",
        per(|r| r.bad_packets),
    );
    e.family(
        "v6router_rip_neighbor_bad_routes_total",
        "counter",
        "Route entries from the neighbour ignored as invalid.",
        per(|r| r.bad_routes),
    );
    std::mem::take(&mut e.out)
}

/// The uplink service's families.
pub fn uplink(u: &UplinkStatus) -> String {
    let e = &mut Exposition::default();
    let bound = u
        .uplinks
        .iter()
        .map(|l| (one("uplink", &l.name), flag(l.state == "bound")))
        .collect();
    e.family(
        "v6router_uplink_bound",
        "gauge",
        "1 while the uplink holds a binding from the ISP's DHCPv6 server.",
        bound,
    );
    let mut valid = Vec::new();
    for l in &u.uplinks {
        for p in l.prefixes.iter().chain(&l.addresses) {
            let labels = vec![("uplink", l.name.clone()), ("prefix", p.prefix.clone())];
            valid.push((labels, n(p.valid_left)));
        }
    }
    e.family(
        "v6router_uplink_valid_seconds",
        "gauge",
        "Seconds left of the valid lifetime of each delegated prefix and address.",
        valid,
    );
    let mut reconf = Vec::new();
    for l in &u.uplinks {
        for (result, v) in [
            ("accepted", l.reconfigures),
            ("refused", l.reconfigures_refused),
        ] {
            let labels = vec![("uplink", l.name.clone()), ("result", result.into())];
            reconf.push((labels, n(v)));
        }
    }
    e.family(
        "v6router_uplink_reconfigures_total",
        "counter",
        "Reconfigure messages from the server acted on, and refused (no or a wrong Reconfigure Key, replayed, RFC 8415 section 20.4.4).",
        reconf,
    );
    std::mem::take(&mut e.out)
}

fn process_families(e: &mut Exposition, p: &Process) {
    e.family(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        vec![(vec![], n(p.resident_bytes))],
    );
    e.family(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        vec![(vec![], Val::Ms(p.cpu_ms))],
    );
    e.family(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
        vec![(vec![], Val::Ms(p.start_time_ms))],
    );
}

/// This process's figures from /proc/self/stat (fields 14, 15 utime and
/// stime and 22 starttime, in clock ticks; 24 rss in pages) and the boot
/// time from /proc/stat. Zeros where /proc cannot be read.
pub fn process_now() -> Process {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let boot = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    // SAFETY: sysconf has no preconditions.
    let (tick, page) = unsafe {
        (
            libc::sysconf(libc::_SC_CLK_TCK),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    process_from(&stat, &boot, tick.max(1) as u64, page.max(1) as u64)
}

fn process_from(stat: &str, proc_stat: &str, tick: u64, page: u64) -> Process {
    // The command name (field 2) may hold spaces and parentheses: count
    // fields from after its closing parenthesis (field 3 onwards).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| {
        f.get(n - 3)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let btime = proc_stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0);
    Process {
        resident_bytes: field(24) * page,
        cpu_ms: (field(14) + field(15)) * 1000 / tick,
        start_time_ms: btime * 1000 + field(22) * 1000 / tick,
    }
}

/// What one scrape asks: the `show protocols` rows (taken when the scrape
/// starts) and each running service's query channel.
pub struct Gatherer {
    pub protocols: Vec<ProtocolInfo>,
    pub services: Vec<(&'static str, mpsc::Sender<Query>)>,
}

impl Gatherer {
    /// Ask every service for its families, one after the other (each at
    /// most 2 s), after the supervisor's own.
    pub async fn scrape(self) -> String {
        let mut out = render(&Inputs {
            version: crate::VERSION.to_string(),
            protocols: self.protocols,
            process: process_now(),
        });
        for (name, q) in &self.services {
            let r = crate::supervisor::ask(q, name, Request::ShowMetrics).await;
            if let Ok(text) = serde_json::from_str::<String>(r.data.get()) {
                out.push_str(&text);
            }
        }
        out
    }
}

pub mod http;

#[cfg(test)]
mod tests;
