//! v6ctl types and renderers for the DHCPv6 server: `show leases` and
//! `show dhcpv6`.
//!
//! CONTRACT with lib.rs (keep these signatures): `render_leases` for `show
//! leases`, `render_stats` for `show dhcpv6`.

use crate::table::{duration, table};
use serde::{Deserialize, Serialize};

/// One lease in `show leases`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRow {
    /// The address, or the delegated prefix ADDRESS/LENGTH.
    pub lease: String,
    /// "address" (IA_NA) or "prefix" (IA_PD).
    pub kind: String,
    /// Client DUID, colon-separated hex.
    pub duid: String,
    pub iaid: u32,
    pub interface: String,
    /// Unix time the valid lifetime ends.
    pub expires: u64,
    /// Seconds left when the answer was made.
    pub remaining: u64,
    /// "bound" or "declined".
    pub state: String,
    /// From a static binding (host reservation).
    #[serde(rename = "static")]
    pub is_static: bool,
    /// Delegated prefixes: the router the prefix is routed via.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The client's host name: its host entry's `name`, else what it sent
    /// in a Client FQDN option (RFC 4704). Absent when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `show leases interface X | duid D | address A | name N`: the daemon
/// answers only the leases every given field matches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// Hex, with or without separators, any case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duid: Option<String>,
    /// An address: the lease of that address, or the delegated prefix
    /// holding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The client's host name, any case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl LeaseFilter {
    /// A filter the daemon can apply: the address must be one.
    pub fn check(&self) -> Result<(), String> {
        match &self.address {
            Some(a) if a.parse::<std::net::Ipv6Addr>().is_err() => {
                Err(format!("`{a}` is not an IPv6 address"))
            }
            _ => Ok(()),
        }
    }

    pub fn matches(&self, r: &LeaseRow) -> bool {
        let hex = |s: &str| -> String {
            s.chars()
                .filter(char::is_ascii_hexdigit)
                .map(|c| c.to_ascii_lowercase())
                .collect()
        };
        self.interface.as_ref().is_none_or(|i| *i == r.interface)
            && self.duid.as_ref().is_none_or(|d| hex(d) == hex(&r.duid))
            && self
                .name
                .as_ref()
                .is_none_or(|n| r.name.as_ref().is_some_and(|m| m.eq_ignore_ascii_case(n)))
            && self.address.as_ref().is_none_or(|a| holds(&r.lease, a))
    }
}

/// Whether a lease (ADDRESS, or PREFIX/LENGTH) is or holds address `a`.
fn holds(lease: &str, a: &str) -> bool {
    let Ok(a) = a.parse::<std::net::Ipv6Addr>() else {
        return false;
    };
    let (net, len) = lease.split_once('/').unwrap_or((lease, "128"));
    match (net.parse::<std::net::Ipv6Addr>(), len.parse::<u32>()) {
        (Ok(net), Ok(len)) if len <= 128 => {
            let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            u128::from(net) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// A page of `show leases`: up to `limit` leases in order (addresses,
/// then prefixes, each by value), those after the lease `after` (the
/// `lease` text of the previous page's `next`). Keyset pages: a lease
/// granted or ended between pages neither repeats nor shifts the rest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeasePage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    pub limit: u32,
}

/// The answer to `show leases`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leases {
    pub leases: Vec<LeaseRow>,
    /// Paged: where the next page starts (`LeasePage::after`); None at
    /// the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    pub name: String,
    pub count: u64,
}

/// The answer to `show dhcpv6`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dhcpv6Stats {
    pub server_duid: String,
    /// Interfaces served, with their index ("lan0 (3)"), or why not.
    pub interfaces: Vec<String>,
    pub addresses: u64,
    pub prefixes: u64,
    /// Per message type (RFC 8415 §7.3 names).
    pub received: Vec<Counter>,
    pub sent: Vec<Counter>,
    /// Per drop reason.
    pub drops: Vec<Counter>,
    /// Replies answered with UseMulticast (§18.4).
    pub use_multicast: u64,
    /// Malformed Client FQDN options (RFC 4704), ignored.
    #[serde(default)]
    pub bad_client_fqdn: u64,
    /// Clients being sent Reconfigure (RFC 8415 §18.3.11), and those that
    /// never answered REC_MAX_RC of them.
    #[serde(default)]
    pub reconfigures_pending: u64,
    #[serde(default)]
    pub reconfigures_unanswered: u64,
    pub journal: JournalStats,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalStats {
    pub path: String,
    pub size: u64,
    pub records_written: u64,
    /// fsyncs (one per group commit).
    pub commits: u64,
    pub commit_failures: u64,
    pub compactions: u64,
    /// Found at start: records skipped for a bad checksum and bytes of a torn tail.
    pub load_corrupt_records: u64,
    pub load_torn_bytes: u64,
}

fn de<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("unexpected answer from the daemon: {e}"))
}

/// `show leases`: one line per lease, birdc-style columns.
pub fn render_leases(data: &serde_json::Value) -> Result<String, String> {
    let l: Leases = de(data)?;
    Ok(leases_text(&l))
}

pub fn leases_text(l: &Leases) -> String {
    if l.leases.is_empty() {
        return "No leases\n".into();
    }
    let rows = l
        .leases
        .iter()
        .map(|r| {
            let mut kind = r.kind.clone();
            if r.state != "bound" {
                kind = format!("{kind} ({})", r.state);
            }
            vec![
                r.lease.clone(),
                kind,
                r.interface.clone(),
                r.name.clone().unwrap_or_else(|| "-".into()),
                format!("{:08x}", r.iaid),
                format!("in {}", duration(r.remaining)),
                if r.is_static { "static" } else { "dynamic" }.to_string(),
                r.duid.clone(),
            ]
        })
        .collect();
    table(
        &[
            "Lease",
            "Kind",
            "Interface",
            "Name",
            "IAID",
            "Expires",
            "Binding",
            "DUID",
        ],
        rows,
    )
}

/// `show dhcpv6`: identity, lease totals, then counters per message type and
/// per drop reason.
pub fn render_stats(data: &serde_json::Value) -> Result<String, String> {
    let s: Dhcpv6Stats = de(data)?;
    Ok(stats_text(&s))
}

pub fn stats_text(s: &Dhcpv6Stats) -> String {
    let mut o = format!("DHCPv6 server, DUID {}\n", s.server_duid);
    o.push_str(&format!(
        "Interfaces: {}\n",
        if s.interfaces.is_empty() {
            "none".into()
        } else {
            s.interfaces.join(", ")
        }
    ));
    o.push_str(&format!(
        "Leases: {} addresses, {} prefixes\n",
        s.addresses, s.prefixes
    ));
    let j = &s.journal;
    o.push_str(&format!(
        "Journal {}: {} bytes, {} records in {} commits, {} failed commits, {} compactions\n",
        j.path, j.size, j.records_written, j.commits, j.commit_failures, j.compactions
    ));
    if j.load_corrupt_records > 0 || j.load_torn_bytes > 0 {
        o.push_str(&format!(
            "At start: {} corrupt records skipped, {} bytes of torn tail cut\n",
            j.load_corrupt_records, j.load_torn_bytes
        ));
    }
    let mut names: Vec<&str> = s.received.iter().map(|c| c.name.as_str()).collect();
    for c in &s.sent {
        if !names.contains(&c.name.as_str()) {
            names.push(&c.name);
        }
    }
    let count = |v: &[Counter], n: &str| v.iter().find(|x| x.name == n).map_or(0, |x| x.count);
    let rows = names
        .iter()
        .map(|n| (n, count(&s.received, n), count(&s.sent, n)))
        .filter(|(_, r, t)| *r != 0 || *t != 0)
        .map(|(n, r, t)| vec![n.to_string(), r.to_string(), t.to_string()])
        .collect::<Vec<_>>();
    o.push('\n');
    if rows.is_empty() {
        o.push_str("No messages yet\n");
    } else {
        o.push_str(&table(&["Message", "Received", "Sent"], rows));
    }
    o.push('\n');
    let mut drops: Vec<Vec<String>> = s
        .drops
        .iter()
        .filter(|d| d.count > 0)
        .map(|d| vec![d.name.clone(), d.count.to_string()])
        .collect();
    if s.use_multicast > 0 {
        drops.push(vec![
            "answered UseMulticast".into(),
            s.use_multicast.to_string(),
        ]);
    }
    if s.bad_client_fqdn > 0 {
        drops.push(vec![
            "Client FQDN ignored (malformed)".into(),
            s.bad_client_fqdn.to_string(),
        ]);
    }
    if s.reconfigures_unanswered > 0 {
        drops.push(vec![
            "Reconfigure unanswered".into(),
            s.reconfigures_unanswered.to_string(),
        ]);
    }
    if s.reconfigures_pending > 0 {
        o.push_str(&format!(
            "Reconfigure pending for {} clients\n",
            s.reconfigures_pending
        ));
    }
    if drops.is_empty() {
        o.push_str("No drops\n");
    } else {
        o.push_str(&table(&["Dropped", "Count"], drops));
    }
    o
}

#[cfg(test)]
mod tests;
