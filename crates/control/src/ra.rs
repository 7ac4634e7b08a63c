//! v6ctl types and renderers for ra (owned by the ra helper).
//!
//! CONTRACT with lib.rs (keep these signatures): `render` turns the JSON the
//! daemon's RA service answers to `show ra` (a `Vec<RaInterfaceStatus>`) into
//! birdc-style text: one summary table, then a block per interface.

use serde::{Deserialize, Serialize};

use crate::table::{duration, table};

/// Lifetime value meaning infinity (RFC 4861 §4.6.2).
pub const INFINITY: u32 = u32::MAX;

/// One advertising interface as `v6ctl show ra` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaInterfaceStatus {
    pub name: String,
    pub index: Option<u32>,
    /// "advertising", "link down", "no link-local address", "absent", "stopped".
    pub state: String,
    pub managed: bool,
    pub other_config: bool,
    /// "high", "medium" or "low" (RFC 4191).
    pub preference: String,
    pub cur_hop_limit: u8,
    pub mtu: Option<u32>,
    /// Milliseconds, 0 = unspecified.
    pub reachable_time: u32,
    /// Milliseconds, 0 = unspecified.
    pub retrans_timer: u32,
    pub min_interval_ms: u64,
    pub max_interval_ms: u64,
    /// Router lifetime in the RAs now (0 while forwarding is off).
    pub router_lifetime: u16,
    /// Router lifetime configured.
    pub configured_router_lifetime: u16,
    pub forwarding: bool,
    pub next_ra_ms: Option<u64>,
    pub last_ra_ms: Option<u64>,
    /// Initial fast RAs still to come (RFC 4861 §6.2.4).
    pub initial_left: u32,
    pub counters: RaCounters,
    pub prefixes: Vec<RaPrefixStatus>,
    pub routes: Vec<RaRouteStatus>,
    pub rdnss: Vec<String>,
    pub dnssl: Vec<String>,
    pub dns_lifetime: u32,
    pub pref64: Option<String>,
    pub captive_portal: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaCounters {
    pub ra_sent_multicast: u64,
    pub ra_sent_unicast: u64,
    pub ra_sent_solicited: u64,
    pub ra_sent_final: u64,
    pub rs_received: u64,
    pub ra_received: u64,
    pub ra_inconsistent: u64,
    pub rx_invalid: u64,
    pub tx_errors: u64,
    /// The invalid messages by reason (RFC 4861 §6.1 checks), busiest first.
    #[serde(default)]
    pub rx_invalid_by_reason: Vec<crate::dhcpv6::Counter>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaPrefixStatus {
    pub prefix: String,
    pub on_link: bool,
    pub autonomous: bool,
    /// Seconds as advertised now (INFINITY = forever).
    pub valid_lifetime: u32,
    pub preferred_lifetime: u32,
    /// "advertised" or "deprecated" (withdrawn, RFC 9096).
    pub state: String,
    /// "config", "interface" (a ::/64 template matched) or "history".
    pub source: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaRouteStatus {
    pub prefix: String,
    pub preference: String,
    pub lifetime: u32,
}

fn lifetime(s: u32) -> String {
    if s == INFINITY {
        "infinity".into()
    } else {
        s.to_string()
    }
}

fn ms(v: u64) -> String {
    if v / 1000 * 1000 == v {
        format!("{}", v / 1000)
    } else {
        format!("{:.1}", v as f64 / 1000.0)
    }
}

fn flags(i: &RaInterfaceStatus) -> String {
    let mut f = String::new();
    if i.managed {
        f.push('M');
    }
    if i.other_config {
        f.push('O');
    }
    if f.is_empty() {
        f.push('-');
    }
    f
}

/// Text for `show ra` from the daemon's answer.
pub fn render(data: &serde_json::Value) -> Result<String, String> {
    let list: Vec<RaInterfaceStatus> = serde_json::from_value(data.clone())
        .map_err(|e| format!("unexpected answer from the daemon: {e}"))?;
    Ok(render_status(&list))
}

pub fn render_status(list: &[RaInterfaceStatus]) -> String {
    if list.is_empty() {
        return "No interface sends router advertisements\n".into();
    }
    let rows = list
        .iter()
        .map(|i| {
            vec![
                i.name.clone(),
                i.state.clone(),
                flags(i),
                i.router_lifetime.to_string(),
                i.mtu.map_or_else(|| "-".into(), |m| m.to_string()),
                format!("{}-{}", ms(i.min_interval_ms), ms(i.max_interval_ms)),
                i.next_ra_ms
                    .map_or_else(|| "-".into(), |n| duration(n.div_ceil(1000))),
                (i.counters.ra_sent_multicast + i.counters.ra_sent_unicast).to_string(),
                i.counters.rs_received.to_string(),
            ]
        })
        .collect();
    let mut o = table(
        &[
            "Interface",
            "State",
            "Flags",
            "Lifetime",
            "MTU",
            "Interval",
            "Next RA",
            "RA sent",
            "RS recv",
        ],
        rows,
    );
    for i in list {
        o.push_str(&format!("\n{}:\n", i.name));
        detail_router(&mut o, i);
        detail_counters(&mut o, i);
        detail_options(&mut o, i);
        detail_prefixes(&mut o, i);
    }
    o
}

/// Router lifetime and flags' companions, then the RA timing.
fn detail_router(o: &mut String, i: &RaInterfaceStatus) {
    let fwd = if i.forwarding {
        String::new()
    } else {
        format!(
            " (configured {}, IPv6 forwarding is off)",
            i.configured_router_lifetime
        )
    };
    o.push_str(&format!(
        "  Router:     lifetime {} s{fwd}, preference {}, hop limit {}, reachable {} ms, retrans {} ms\n",
        i.router_lifetime, i.preference, i.cur_hop_limit, i.reachable_time, i.retrans_timer
    ));
    let mut timing = format!(
        "min {} s, max {} s",
        ms(i.min_interval_ms),
        ms(i.max_interval_ms)
    );
    if let Some(n) = i.next_ra_ms {
        timing.push_str(&format!(", next RA in {}", duration(n.div_ceil(1000))));
    }
    if i.initial_left > 0 {
        timing.push_str(&format!(" ({} initial left)", i.initial_left));
    }
    if let Some(l) = i.last_ra_ms {
        timing.push_str(&format!(", last {} ago", duration(l / 1000)));
    }
    o.push_str(&format!("  Intervals:  {timing}\n"));
}

fn detail_counters(o: &mut String, i: &RaInterfaceStatus) {
    let c = &i.counters;
    o.push_str(&format!(
        "  Sent:       {} multicast, {} unicast ({} solicited, {} final), {} errors\n",
        c.ra_sent_multicast, c.ra_sent_unicast, c.ra_sent_solicited, c.ra_sent_final, c.tx_errors
    ));
    o.push_str(&format!(
        "  Received:   {} RS, {} RA from other routers ({} inconsistent), {} invalid\n",
        c.rs_received, c.ra_received, c.ra_inconsistent, c.rx_invalid
    ));
    if !c.rx_invalid_by_reason.is_empty() {
        let why: Vec<String> = c
            .rx_invalid_by_reason
            .iter()
            .map(|r| format!("{} {}", r.count, r.name))
            .collect();
        o.push_str(&format!("  Invalid:    {}\n", why.join(", ")));
    }
}

/// RDNSS, DNSSL, PREF64, captive portal and routes, as advertised.
fn detail_options(o: &mut String, i: &RaInterfaceStatus) {
    if !i.rdnss.is_empty() {
        o.push_str(&format!(
            "  RDNSS:      {} (lifetime {})\n",
            i.rdnss.join(", "),
            lifetime(i.dns_lifetime)
        ));
    }
    if !i.dnssl.is_empty() {
        o.push_str(&format!(
            "  DNSSL:      {} (lifetime {})\n",
            i.dnssl.join(", "),
            lifetime(i.dns_lifetime)
        ));
    }
    if let Some(p) = &i.pref64 {
        o.push_str(&format!("  PREF64:     {p}\n"));
    }
    if let Some(u) = &i.captive_portal {
        o.push_str(&format!("  Captive:    {u}\n"));
    }
    for r in &i.routes {
        o.push_str(&format!(
            "  Route:      {} preference {} lifetime {}\n",
            r.prefix,
            r.preference,
            lifetime(r.lifetime)
        ));
    }
}

fn detail_prefixes(o: &mut String, i: &RaInterfaceStatus) {
    if i.prefixes.is_empty() {
        o.push_str("  Prefixes:   none\n");
    } else {
        let rows = i
            .prefixes
            .iter()
            .map(|p| {
                let mut f = String::new();
                f.push(if p.on_link { 'L' } else { '-' });
                f.push(if p.autonomous { 'A' } else { '-' });
                vec![
                    format!("  {}", p.prefix),
                    f,
                    lifetime(p.valid_lifetime),
                    lifetime(p.preferred_lifetime),
                    p.state.clone(),
                    p.source.clone(),
                ]
            })
            .collect();
        o.push_str(&table(
            &["  Prefix", "Flags", "Valid", "Preferred", "State", "Source"],
            rows,
        ));
    }
}

#[cfg(test)]
mod tests;
