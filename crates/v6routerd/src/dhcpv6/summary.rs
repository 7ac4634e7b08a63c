//! The server's INFO log: one summary line per period at most, never a
//! line per lease (2,000 delegations a second would be 2,000 lines; each
//! lease and route is at DEBUG). Counts come from the engine's statistics,
//! so the line agrees with `v6ctl show dhcpv6`.

use std::time::{Duration, Instant};
use tracing::info;
use v6dhcp::engine::Stats;

/// How often the summary may be logged.
pub(super) const PERIOD: Duration = Duration::from_secs(10);

/// The counts last logged, and when the next line may come.
pub(super) struct Summary {
    next: Instant,
    received: Vec<u64>,
    sent: Vec<u64>,
    dropped: u64,
    refused: u64,
}

impl Summary {
    pub(super) fn new(now: Instant) -> Summary {
        Summary {
            next: now + PERIOD,
            received: Vec::new(),
            sent: Vec::new(),
            dropped: 0,
            refused: 0,
        }
    }

    pub(super) fn due(&self) -> Instant {
        self.next
    }

    /// Log the change since the last line, if the period is over and
    /// anything happened.
    pub(super) fn maybe_log(&mut self, now: Instant, stats: &Stats, refused: u64) {
        if now < self.next {
            return;
        }
        self.next = now + PERIOD;
        if let Some(line) = self.line(stats, refused) {
            info!("{line}");
        }
    }

    /// "in the last 10 s: received 1987 SOLICIT, …; sent …; 3 dropped"
    /// (pure: the period's differences, `None` when there were none).
    pub(super) fn line(&mut self, stats: &Stats, refused: u64) -> Option<String> {
        let rx = delta(&mut self.received, stats.received_by_type());
        let tx = delta(&mut self.sent, stats.sent_by_type());
        let dropped = stats.dropped_total();
        let d = dropped.saturating_sub(std::mem::replace(&mut self.dropped, dropped));
        let f = refused.saturating_sub(std::mem::replace(&mut self.refused, refused));
        if rx.is_empty() && tx.is_empty() && d == 0 && f == 0 {
            return None;
        }
        let mut parts = Vec::new();
        if !rx.is_empty() {
            parts.push(format!("received {rx}"));
        }
        if !tx.is_empty() {
            parts.push(format!("sent {tx}"));
        }
        if d > 0 {
            parts.push(format!("{d} dropped (reasons: v6ctl show dhcpv6)"));
        }
        if f > 0 {
            parts.push(format!("{f} prefix route installs refused (retried)"));
        }
        Some(format!(
            "in the last {} s: {}",
            PERIOD.as_secs(),
            parts.join("; ")
        ))
    }
}

/// "12 SOLICIT, 12 REQUEST" for the counters that grew since `last`
/// (which becomes `now`).
fn delta(last: &mut Vec<u64>, now: Vec<(&'static str, u64)>) -> String {
    last.resize(now.len(), 0);
    let grew: Vec<String> = now
        .iter()
        .zip(last.iter())
        .filter(|((_, n), l)| n > l)
        .map(|((name, n), l)| format!("{} {name}", n - l))
        .collect();
    *last = now.into_iter().map(|(_, n)| n).collect();
    grew.join(", ")
}

#[cfg(test)]
mod tests;
