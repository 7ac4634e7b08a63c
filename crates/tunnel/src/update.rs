//! Telling the broker about a new local address: when the tunnel's local
//! IPv4 endpoint changes (the ISP gave the WAN another address), the broker
//! must learn it too, or it keeps sending protocol 41 to the old one.
//! Brokers take that as an authenticated HTTP GET (Hurricane Electric's
//! Dyn-compatible `/nic/update`), which the user's `update_command` makes
//! (curl, uclient-fetch); this decides when to run it. Pure: time is passed
//! in, the caller runs the command and reports how it went.
//!
//! - The command runs once the tunnel exists with a local address that no
//!   run has yet succeeded for: at start (the address may have changed
//!   while v6routerd was down; a broker answers "nochg" to a repeat) and at
//!   every change after that.
//! - One run at a time per tunnel. A failed run is retried after 30 s,
//!   doubling to 15 min, so a broker that is down or refuses (wrong key) is
//!   not hammered; a new address is tried at once.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// First retry after a failed run.
pub const RETRY_FIRST: Duration = Duration::from_secs(30);
/// Retries never wait longer than this.
pub const RETRY_MAX: Duration = Duration::from_secs(15 * 60);

/// A run to start now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub local: Ipv4Addr,
    /// The address the last successful run announced, if any.
    pub previous: Option<Ipv4Addr>,
}

/// How the last finished run went, for `show tunnels`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub local: Ipv4Addr,
    pub ok: bool,
    /// The command's first line of output, or why it failed.
    pub detail: String,
    /// When it finished (the caller's clock).
    pub at: Instant,
}

/// The update state of one tunnel.
#[derive(Debug, Default, Clone)]
pub struct BrokerUpdate {
    /// The address the broker was last told, successfully.
    done_for: Option<Ipv4Addr>,
    /// A run in progress, for this address.
    running: Option<Ipv4Addr>,
    /// Failed runs in a row for `failed_for`.
    failures: u32,
    failed_for: Option<Ipv4Addr>,
    retry_at: Option<Instant>,
    last: Option<Outcome>,
}

impl BrokerUpdate {
    /// Called whenever the tunnel's local address may have changed or a
    /// timer fired: `local` is the address the kernel's tunnel has now
    /// (None while there is no tunnel). Answers the run to start, if any.
    pub fn poll(&mut self, now: Instant, local: Option<Ipv4Addr>) -> Option<Run> {
        let local = local?;
        if self.running.is_some() || self.done_for == Some(local) {
            return None;
        }
        if self.failed_for == Some(local) && self.retry_at.is_some_and(|t| now < t) {
            return None;
        }
        self.running = Some(local);
        Some(Run {
            local,
            previous: self.done_for,
        })
    }

    /// The run for `local` ended: `Ok(first line of output)` or `Err(why)`.
    pub fn finished(&mut self, now: Instant, local: Ipv4Addr, result: Result<String, String>) {
        self.running = None;
        let ok = result.is_ok();
        if ok {
            self.done_for = Some(local);
            self.failures = 0;
            self.failed_for = None;
            self.retry_at = None;
        } else {
            if self.failed_for != Some(local) {
                self.failures = 0;
            }
            self.failures = self.failures.saturating_add(1);
            self.failed_for = Some(local);
            self.retry_at = Some(now + retry_after(self.failures));
        }
        self.last = Some(Outcome {
            local,
            ok,
            detail: result.unwrap_or_else(|e| e),
            at: now,
        });
    }

    /// When `poll` should be called again for a retry, if one is pending
    /// and still ahead: a retry already due waits for the tunnel (the
    /// caller polls on every change of it), so it never asks for a timer in
    /// the past, which would wake the caller at once, again and again.
    pub fn next_wakeup(&self, now: Instant) -> Option<Instant> {
        if self.running.is_some() {
            return None;
        }
        self.retry_at.filter(|t| *t > now)
    }

    pub fn last(&self) -> Option<&Outcome> {
        self.last.as_ref()
    }

    /// The address the broker was last told successfully.
    pub fn announced(&self) -> Option<Ipv4Addr> {
        self.done_for
    }
}

/// 30 s, 60 s, 120 s, ... up to 15 min after the n-th failure in a row.
pub fn retry_after(failures: u32) -> Duration {
    RETRY_FIRST
        .saturating_mul(1u32 << failures.saturating_sub(1).min(10))
        .min(RETRY_MAX)
}

#[cfg(test)]
mod tests;
