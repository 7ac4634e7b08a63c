//! v6ctl types and renderers for tunnels (owned by the tunnel helper).
//!
//! CONTRACT with lib.rs (keep this signature): `render` for `show tunnels`.
//! The daemon answers `show tunnels` with a `Vec<TunnelStatus>`.

use serde::{Deserialize, Serialize};

use crate::table::table;

/// One configured tunnel as `v6ctl show tunnels` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TunnelStatus {
    pub name: String,
    /// "up", "down" (exists, not up), "missing", "waiting" (see `last_reason`).
    pub state: String,
    pub index: Option<u32>,
    /// The local IPv4 endpoint in use (or wanted), if known.
    pub local: Option<String>,
    /// "static" or "auto from IFNAME".
    pub local_source: String,
    pub remote: String,
    pub ttl: u8,
    pub mtu: u32,
    pub pmtudisc: bool,
    /// ADDRESS/LENGTH of the global addresses on the tunnel.
    pub addresses: Vec<String>,
    /// "PREFIX metric M proto P" of the routes through the tunnel.
    pub routes: Vec<String>,
    /// Unix time (seconds) of the last change v6routerd made, if any.
    pub since: Option<u64>,
    /// What that change was and why ("re-created: remote is ..., want ...").
    pub last_change: String,
    /// Made by v6routerd (tagged with the owner alias).
    pub ours: bool,
    pub keep_on_stop: bool,
    /// With `update_command`: what the broker was last told, or the last
    /// failure and when the next try is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker_update: Option<String>,
}

/// `2026-11-24 22:10:03` (UTC) from Unix seconds.
pub fn utc(secs: u64) -> String {
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let days = (secs / 86400) as i64;
    let tod = secs % 86400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        tod / 3600,
        (tod / 60) % 60,
        tod % 60
    )
}

/// Text for `show tunnels`: one table row per tunnel (birdc's `show
/// protocols` shape), then its addresses and routes indented below.
pub fn render_status(tunnels: &[TunnelStatus]) -> String {
    if tunnels.is_empty() {
        return "No tunnels configured\n".into();
    }
    let rows = tunnels
        .iter()
        .map(|t| {
            vec![
                t.name.clone(),
                t.state.clone(),
                t.local.clone().unwrap_or_else(|| "-".into()),
                t.remote.clone(),
                if t.ttl == 0 {
                    "inherit".into()
                } else {
                    t.ttl.to_string()
                },
                t.mtu.to_string(),
                t.since.map_or_else(|| "-".into(), utc),
                t.last_change.clone(),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "Name",
            "State",
            "Local",
            "Remote",
            "TTL",
            "MTU",
            "Since",
            "Last change",
        ],
        rows,
    );
    for t in tunnels {
        out.push_str(&format!("\n{}:\n", t.name));
        let mut flags = vec![format!("local {}", t.local_source)];
        flags.push(if t.pmtudisc {
            "pmtudisc".into()
        } else {
            "nopmtudisc".into()
        });
        if t.ours {
            flags.push("created by v6routerd".into());
        }
        if t.keep_on_stop {
            flags.push("kept on stop".into());
        }
        out.push_str(&format!("  Options:   {}\n", flags.join(", ")));
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        out.push_str(&format!("  Addresses: {}\n", list(&t.addresses)));
        out.push_str(&format!("  Routes:    {}\n", list(&t.routes)));
        if let Some(b) = &t.broker_update {
            out.push_str(&format!("  Broker:    {b}\n"));
        }
    }
    out
}

/// The renderer v6ctl calls with the daemon's answer.
pub fn render(data: &serde_json::Value) -> Result<String, String> {
    let tunnels: Vec<TunnelStatus> = serde_json::from_value(data.clone())
        .map_err(|e| format!("unexpected answer for show tunnels: {e}"))?;
    Ok(render_status(&tunnels))
}

#[cfg(test)]
mod tests;
