//! v6ctl types and renderers for RIPng (owned by the rip helper).
//!
//! CONTRACT with lib.rs (keep these signatures): `render_routes` (`show
//! route`), `render_neighbors` (`show rip neighbors`), `render_interfaces`
//! (`show rip interfaces`). `show protocols` is answered by the core with
//! `ProtocolInfo` rows; the RIPng service contributes its row through the
//! supervisor (see crates/v6routerd/src/service.rs).
//!
//! The layouts copy BIRD 2.0.12's `birdc` output byte for byte (captured in
//! a namespace, see the tests), so users coming from BIRD read them at once.

use serde::{Deserialize, Serialize};

/// Name of our RIPng instance in `show protocols` / `show route` (BIRD
/// names its first `protocol rip` "rip1").
pub const PROTOCOL_NAME: &str = "rip1";
/// Instance names of the other route sources `show route` lists.
pub const DIRECT_NAME: &str = "direct1";
pub const KERNEL_NAME: &str = "kernel1";

/// One route of `show route`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteRow {
    /// PREFIX/LENGTH
    pub prefix: String,
    /// unicast, unreachable, blackhole, prohibit
    pub kind: String,
    /// Source instance: rip1, direct1, kernel1.
    pub proto: String,
    /// When the route last changed, milliseconds since the Unix epoch.
    pub since_ms: u64,
    /// The route in use for this prefix (BIRD's `*`).
    pub primary: bool,
    /// BIRD's preference: rip 120, direct 240, kernel 10.
    pub preference: u32,
    /// RIP metric (shown as `(120/2)`), None for other sources.
    pub metric: Option<u8>,
    pub via: Option<String>,
    pub iface: Option<String>,
    /// RIP route tag.
    #[serde(default)]
    pub tag: Option<u16>,
    /// The kernel refused to install it; retried (not in birdc: BIRD has
    /// no such state; the row gets a line of its own).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kernel_refused: bool,
}

/// One neighbour of `show rip neighbors`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NeighborRow {
    pub addr: String,
    pub iface: String,
    /// The cost added to routes from this interface.
    pub metric: u8,
    /// Reachable routes we hold from this neighbour.
    pub routes: usize,
    /// Seconds since its last Response.
    pub seen_secs: f64,
    #[serde(default)]
    pub bad_packets: u64,
    #[serde(default)]
    pub bad_routes: u64,
}

/// One interface of `show rip interfaces`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InterfaceRow {
    pub iface: String,
    /// Up or Down.
    pub state: String,
    pub metric: u8,
    pub neighbors: usize,
    /// Seconds until the next regular update.
    pub timer_secs: f64,
}

/// The answer to `show route`, or to `show rip ...`: the instance name and
/// its rows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RipAnswer<T> {
    pub protocol: String,
    pub rows: Vec<T>,
}

fn de<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("unexpected answer from the daemon: {e}"))
}

/// birdc's route time: `22:08:32.546` today, the date otherwise (UTC).
pub fn format_since(ms: u64, now_ms: u64) -> String {
    let day = |t: u64| t / 86_400_000;
    if day(ms) == day(now_ms) {
        let s = (ms / 1000) % 86_400;
        format!(
            "{:02}:{:02}:{:02}.{:03}",
            s / 3600,
            (s / 60) % 60,
            s % 60,
            ms % 1000
        )
    } else {
        let (y, m, d) = civil_from_days((ms / 86_400_000) as i64);
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// The local time zone's offset from UTC at `ms` (ms since the epoch),
/// in ms, as localtime(3) says (TZ, /etc/localtime); 0 when it cannot.
pub fn local_offset_ms(ms: u64) -> i64 {
    // The libc crate deprecates time_t on musl because it will follow musl
    // 1.2's 64-bit time_t; today localtime_r binds musl's 32-bit compat
    // symbol on the 32-bit routers, which only display times with this.
    #[allow(deprecated)]
    let t = (ms / 1000) as libc::time_t;
    // SAFETY: localtime_r writes only into `tm`, which we own; a null
    // return (an unrepresentable time) leaves the offset at 0.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if ok {
        // tm_gmtoff is a C long: 32 bits on the 32-bit routers (armv7,
        // MIPS), where a bare `* 1000` did not type-check as i64.
        #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
        let off = i64::from(tm.tm_gmtoff);
        off * 1000
    } else {
        0
    }
}

/// birdc's time in local time (text only: JSON keeps UTC).
pub fn local_since(ms: u64, now_ms: u64) -> String {
    let off = local_offset_ms(now_ms);
    let shift = |t: u64| t.saturating_add_signed(off);
    format_since(shift(ms), shift(now_ms))
}

/// `show protocols` as birdc prints it: fixed columns (BIRD 2.0.12,
/// nest/proto.c: `"%-10s %-10s %-10s %-6s %-12s  %s"`), a longer name
/// pushing the rest of its row right, trailing spaces kept when there is
/// no Info.
pub fn render_protocols(list: &[crate::ProtocolInfo]) -> String {
    let row = |n: &str, p: &str, t: &str, st: &str, since: &str, info: &str| {
        format!("{n:<10} {p:<10} {t:<10} {st:<6} {since:<12}  {info}\n")
    };
    let mut o = row("Name", "Proto", "Table", "State", "Since", "Info");
    for p in list {
        o.push_str(&row(
            &p.name, &p.proto, &p.table, &p.state, &p.since, &p.info,
        ));
    }
    o
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `show route` as birdc prints it:
///
/// ```text
/// Table master6:
/// 2001:db8:aa::/48     unicast [rip1 22:08:32.546] * (120/2)
///     via fe80::2486:70ff:fe20:34ca on eth0  (a tab, not spaces)
/// ```
pub fn render_routes(data: &serde_json::Value) -> Result<String, String> {
    routes_local(data, false)
}

/// `show route all`: birdc's attribute lines under each route.
pub fn render_routes_all(data: &serde_json::Value) -> Result<String, String> {
    routes_local(data, true)
}

fn routes_local(data: &serde_json::Value, all: bool) -> Result<String, String> {
    let rows: Vec<RouteRow> = de(data)?;
    let now = now_ms();
    Ok(routes_text_at(&rows, now, local_offset_ms(now), all))
}

/// The answer to `show route ... count`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteCount {
    /// Routes that match the selection.
    pub routes: usize,
    /// Routes in the table.
    pub total: usize,
    /// Distinct prefixes among the matching routes.
    pub networks: usize,
}

/// As birdc prints it: `12 of 40 routes for 10 networks in table master6`.
pub fn render_route_count(c: &RouteCount) -> String {
    format!(
        "{} of {} routes for {} networks in table master6\n",
        c.routes, c.total, c.networks
    )
}

/// `show route` in UTC (the tests' form).
pub fn routes_text(rows: &[RouteRow], now_ms: u64) -> String {
    routes_text_at(rows, now_ms, 0, false)
}

/// `show route [all]` with times `offset_ms` from UTC.
pub fn routes_text_at(rows: &[RouteRow], now_ms: u64, offset_ms: i64, all: bool) -> String {
    let shift = |t: u64| t.saturating_add_signed(offset_ms);
    if rows.is_empty() {
        return "Network not found\n".to_string();
    }
    let mut o = String::from("Table master6:\n");
    let mut last_prefix: Option<&str> = None;
    for r in rows {
        // BIRD prints the network once, further routes for it indented.
        let net = if last_prefix == Some(r.prefix.as_str()) {
            ""
        } else {
            r.prefix.as_str()
        };
        last_prefix = Some(r.prefix.as_str());
        let star = if r.primary { " *" } else { "" };
        let pref = match r.metric {
            Some(m) => format!("({}/{})", r.preference, m),
            None => format!("({})", r.preference),
        };
        o.push_str(&format!(
            "{:<20} {} [{} {}]{} {}\n",
            net,
            r.kind,
            r.proto,
            format_since(shift(r.since_ms), shift(now_ms)),
            star,
            pref
        ));
        match (&r.via, &r.iface) {
            (Some(v), Some(i)) => o.push_str(&format!("\tvia {v} on {i}\n")),
            (Some(v), None) => o.push_str(&format!("\tvia {v}\n")),
            (None, Some(i)) if r.kind == "unicast" => o.push_str(&format!("\tdev {i}\n")),
            _ => {}
        }
        if r.kernel_refused {
            o.push_str("\tnot in the kernel table: install refused, retrying\n");
        }
        if all {
            o.push_str(&attributes(r));
        }
    }
    o
}

/// birdc's `show route all` lines: the route's type, then its protocol's
/// attributes.
fn attributes(r: &RouteRow) -> String {
    let source = match r.proto.as_str() {
        PROTOCOL_NAME => "RIP",
        DIRECT_NAME => "device",
        KERNEL_NAME => "inherit",
        _ => "static",
    };
    let mut o = format!("\tType: {source} univ\n");
    if let Some(m) = r.metric {
        o.push_str(&format!("\trip_metric: {m}\n"));
    }
    if let Some(t) = r.tag {
        o.push_str(&format!("\trip_tag: {t:04x}\n"));
    }
    o
}

/// `show rip neighbors` as birdc prints it.
pub fn render_neighbors(data: &serde_json::Value) -> Result<String, String> {
    let a: RipAnswer<NeighborRow> = de(data)?;
    Ok(neighbors_text(&a))
}

pub fn neighbors_text(a: &RipAnswer<NeighborRow>) -> String {
    let mut o = format!("{}:\n", a.protocol);
    o.push_str(&format!(
        "{:<25} {:<10} {:>6} {:>6} {:>7}\n",
        "IP address", "Interface", "Metric", "Routes", "Seen"
    ));
    for n in &a.rows {
        o.push_str(&format!(
            "{:<25} {:<10} {:>6} {:>6} {:>7.3}\n",
            n.addr, n.iface, n.metric, n.routes, n.seen_secs
        ));
    }
    o
}

/// `show rip interfaces` as birdc prints it.
pub fn render_interfaces(data: &serde_json::Value) -> Result<String, String> {
    let a: RipAnswer<InterfaceRow> = de(data)?;
    Ok(interfaces_text(&a))
}

pub fn interfaces_text(a: &RipAnswer<InterfaceRow>) -> String {
    let mut o = format!("{}:\n", a.protocol);
    o.push_str(&format!(
        "{:<10} {:<6} {:>6} {:>6} {:>7}\n",
        "Interface", "State", "Metric", "Nbrs", "Timer"
    ));
    for i in &a.rows {
        o.push_str(&format!(
            "{:<10} {:<6} {:>6} {:>6} {:>7.3}\n",
            i.iface, i.state, i.metric, i.neighbors, i.timer_secs
        ));
    }
    o
}

#[cfg(test)]
mod tests;
