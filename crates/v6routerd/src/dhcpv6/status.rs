//! The answers to `v6ctl show leases` and `show dhcpv6`.

use super::Dhcpv6;
use v6control::dhcpv6::{Counter, Dhcpv6Stats, JournalStats, LeaseFilter, LeaseRow, Leases};
use v6dhcp::lease::{Lease, LeaseKind, LeaseState};

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
