//! `v6ctl show uplink`: the prefix delegated by the ISP and what each LAN got.

use crate::table::{duration, table};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UplinkStatus {
    pub uplinks: Vec<UplinkInfo>,
    /// The ULA /48, when `ula` is on.
    pub ula: Option<String>,
    pub assignments: Vec<Assignment>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UplinkInfo {
    pub name: String,
    /// stopped, soliciting, requesting, bound, renewing, rebinding, releasing
    pub state: String,
    pub server_duid: Option<String>,
    pub server_addr: Option<String>,
    pub prefixes: Vec<LeaseInfo>,
    pub addresses: Vec<LeaseInfo>,
    /// Seconds until Renew (T1) and Rebind (T2).
    pub t1_in: Option<u64>,
    pub t2_in: Option<u64>,
    /// Seconds until the client's next timer (retransmission, T1, expiry).
    pub next_event_in: Option<u64>,
    pub dns: Vec<String>,
    pub search: Vec<String>,
    pub sent: u64,
    pub received: u64,
    pub dropped: u64,
    /// Reconfigures acted on, and refused (RFC 8415 §18.2.11, §20.4.4).
    #[serde(default)]
    pub reconfigures: u64,
    #[serde(default)]
    pub reconfigures_refused: u64,
    pub last_status: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LeaseInfo {
    pub prefix: String,
    pub preferred_left: u64,
    pub valid_left: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub iface: String,
    /// ADDRESS/LENGTH the router has there.
    pub address: String,
    pub from: String,
    /// Seconds left; None = forever.
    pub preferred_left: Option<u64>,
    pub valid_left: Option<u64>,
    /// Deprecated: its delegation went away and it is running out.
    pub stale: bool,
}

fn life(x: Option<u64>) -> String {
    x.map(duration).unwrap_or_else(|| "forever".into())
}

pub fn render(data: &serde_json::Value) -> Result<String, String> {
    let s: UplinkStatus =
        serde_json::from_value(data.clone()).map_err(|e| format!("unexpected answer: {e}"))?;
    let mut o = String::new();
    if s.uplinks.is_empty() {
        o.push_str("No uplink is configured ([interface.uplink]).\n");
    }
    for u in &s.uplinks {
        o.push_str(&format!("{} {}\n", u.name, u.state));
        if let Some(d) = &u.server_duid {
            o.push_str(&format!(
                "\tServer DUID {} at {}\n",
                d,
                u.server_addr.as_deref().unwrap_or("?")
            ));
        }
        let leased = u.prefixes.iter().map(|p| ("Delegated", p));
        for (what, p) in leased.chain(u.addresses.iter().map(|a| ("Address", a))) {
            o.push_str(&format!(
                "\t{what} {} preferred {} valid {}\n",
                p.prefix,
                duration(p.preferred_left),
                duration(p.valid_left)
            ));
        }
        if let (Some(t1), Some(t2)) = (u.t1_in, u.t2_in) {
            o.push_str(&format!(
                "\tRenew in {}, rebind in {}\n",
                duration(t1),
                duration(t2)
            ));
        }
        if let Some(n) = u.next_event_in {
            o.push_str(&format!("\tNext event in {}\n", duration(n)));
        }
        if !u.dns.is_empty() || !u.search.is_empty() {
            o.push_str(&format!(
                "\tDNS {} search {}\n",
                u.dns.join(" "),
                u.search.join(" ")
            ));
        }
        if let Some(st) = &u.last_status {
            o.push_str(&format!("\tLast status: {st}\n"));
        }
        o.push_str(&format!(
            "\tMessages sent {} received {} dropped {}\n",
            u.sent, u.received, u.dropped
        ));
        if u.reconfigures + u.reconfigures_refused > 0 {
            o.push_str(&format!(
                "\tReconfigures accepted {} refused {}\n",
                u.reconfigures, u.reconfigures_refused
            ));
        }
    }
    if let Some(u) = &s.ula {
        o.push_str(&format!("ULA {u}\n"));
    }
    if !s.assignments.is_empty() {
        let rows = s
            .assignments
            .iter()
            .map(|a| {
                vec![
                    a.iface.clone(),
                    a.address.clone(),
                    a.from.clone(),
                    life(a.preferred_left),
                    life(a.valid_left),
                    if a.stale {
                        "stale".into()
                    } else {
                        "active".into()
                    },
                ]
            })
            .collect();
        o.push_str(&table(
            &[
                "Interface",
                "Address",
                "From",
                "Preferred",
                "Valid",
                "State",
            ],
            rows,
        ));
    }
    Ok(o)
}

#[cfg(test)]
mod tests;
