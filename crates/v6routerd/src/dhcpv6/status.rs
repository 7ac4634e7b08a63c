//! The answers to `v6ctl show leases` and `show dhcpv6`.

use super::Dhcpv6;
use std::collections::BinaryHeap;
use v6control::dhcpv6::{Counter, Dhcpv6Stats, JournalStats, LeaseFilter, LeaseRow, Leases};
use v6dhcp::lease::{Lease, LeaseKey, LeaseKind, LeaseState};

impl Dhcpv6 {
    /// The leases `filter` selects (`LeaseFilter::matches`).
    pub(super) fn leases(&self, filter: &LeaseFilter) -> Leases {
        let unix = super::now().unix;
        let mut v: Vec<Lease> = self.server.leases().collect();
        v.sort_by_key(|l| (l.kind, l.prefix));
        Leases {
            leases: v
                .into_iter()
                .map(|l| lease_row(l, unix))
                .filter(|r| filter.matches(r))
                .collect(),
            next: None,
        }
    }

    /// One page: the `limit` smallest leases after `after` (in the order
    /// `leases` sorts), those `filter` selects. One pass over the table
    /// keeping a bounded heap of keys, so a page costs memory by its
    /// size, never by the table's.
    pub(super) fn leases_page(
        &self,
        filter: &LeaseFilter,
        after: Option<LeaseKey>,
        limit: u32,
    ) -> Leases {
        let limit = limit.clamp(1, 10_000) as usize;
        let mut heap: BinaryHeap<ByKey> = BinaryHeap::with_capacity(limit + 1);
        for l in self.server.leases() {
            let k = l.key();
            if after.is_some_and(|a| k <= a) {
                continue;
            }
            if heap.len() < limit {
                heap.push(ByKey(l));
            } else if heap.peek().is_some_and(|top| k < top.0.key()) {
                heap.pop();
                heap.push(ByKey(l));
            }
        }
        let full = heap.len() == limit;
        let page = heap.into_sorted_vec();
        let next = page.last().filter(|_| full).map(|l| key_text(l.0.key()));
        let unix = super::now().unix;
        Leases {
            leases: page
                .into_iter()
                .map(|l| lease_row(l.0, unix))
                .filter(|r| filter.matches(r))
                .collect(),
            next,
        }
    }

    pub(super) fn stats(&self) -> Dhcpv6Stats {
        let s = self.server.stats();
        let counters = |v: Vec<(&'static str, u64)>| {
            v.into_iter()
                .map(|(n, c)| Counter {
                    name: n.into(),
                    count: c,
                })
                .collect()
        };
        let count = |kind| self.server.leases().filter(|l| l.kind == kind).count() as u64;
        Dhcpv6Stats {
            server_duid: self.server.server_duid().to_hex(),
            interfaces: self.notes.clone(),
            addresses: count(LeaseKind::Address),
            prefixes: count(LeaseKind::Prefix),
            received: counters(s.received_by_type()),
            sent: counters(s.sent_by_type()),
            drops: s
                .drops
                .iter()
                .map(|(n, c)| Counter {
                    name: n.to_string(),
                    count: *c,
                })
                .collect(),
            use_multicast: s.use_multicast,
            bad_client_fqdn: s.bad_client_fqdn,
            reconfigures_pending: s.reconfigures_pending,
            reconfigures_unanswered: s.reconfigures_unanswered,
            journal: self.journal_stats(),
        }
    }

    fn journal_stats(&self) -> JournalStats {
        let st = &self.store;
        let c = st.counters.get();
        JournalStats {
            path: st.journal_path.display().to_string(),
            size: c.size,
            records_written: c.records,
            commits: c.commits,
            commit_failures: c.commit_failures,
            compactions: c.compactions,
            load_corrupt_records: st.load_corrupt,
            load_torn_bytes: st.load_torn,
        }
    }
}

fn lease_row(l: Lease, unix: u64) -> LeaseRow {
    LeaseRow {
        lease: match l.kind {
            LeaseKind::Address => l.prefix.addr().to_string(),
            LeaseKind::Prefix => l.prefix.to_string(),
        },
        kind: l.kind.name().into(),
        duid: l.duid.to_hex(),
        iaid: l.iaid,
        interface: l.link.to_string(),
        expires: l.expires(),
        remaining: l.expires().saturating_sub(unix),
        state: match l.state {
            LeaseState::Bound => "bound".into(),
            LeaseState::Declined => "declined".into(),
        },
        is_static: l.is_static,
        via: l.via.map(|a| a.to_string()),
        name: l.name.map(|n| n.to_string()),
    }
}

/// A lease's `lease` text: the address, or PREFIX/LENGTH.
fn key_text((kind, prefix): LeaseKey) -> String {
    match kind {
        LeaseKind::Address => prefix.addr().to_string(),
        LeaseKind::Prefix => prefix.to_string(),
    }
}

/// A page cursor back to its key (`key_text`'s inverse).
pub(super) fn cursor(after: Option<&str>) -> Result<Option<LeaseKey>, String> {
    let Some(t) = after else { return Ok(None) };
    let bad = || format!("bad page cursor `{t}`");
    if t.contains('/') {
        let p = t.parse().map_err(|_| bad())?;
        Ok(Some((LeaseKind::Prefix, p)))
    } else {
        let a: std::net::Ipv6Addr = t.parse().map_err(|_| bad())?;
        Ok(Some((
            LeaseKind::Address,
            v6common::Ipv6Prefix::new(a, 128),
        )))
    }
}

/// A lease ordered by its key alone (for the page's heap).
struct ByKey(Lease);

impl PartialEq for ByKey {
    fn eq(&self, o: &Self) -> bool {
        self.0.key() == o.0.key()
    }
}
impl Eq for ByKey {}
impl PartialOrd for ByKey {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for ByKey {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.key().cmp(&o.0.key())
    }
}
