//! The Solicit budget of one link: how many Solicits per second it answers
//! (each costs an allocation and an Advertise), so that a flood of them
//! cannot take the time Requests, Renews and Rebinds of real clients need.
//!
//! A token bucket (burst: one second's worth) for the link. Past it, a
//! Solicit is still answered when its source has sent few lately (a small
//! bucket per source address: a real client soliciting from its own
//! link-local address), so one device flooding from its address, however
//! many DUIDs it invents, does not lock out the others. The table of
//! sources is bounded: a flood from ever new source addresses is then
//! held to the link's budget plus at most `MAX_SOURCES * SOURCE_BURST`
//! per `SOURCE_BURST / SOURCE_RATE` seconds.

use std::collections::HashMap;
use std::net::Ipv6Addr;
use std::time::Instant;

/// Solicits per second one source is answered past the link's budget.
const SOURCE_RATE: f64 = 1.0;
/// A real client's first Solicit and a few retransmissions (RFC 8415
/// §15: SOL_TIMEOUT 1 s, doubling).
const SOURCE_BURST: f64 = 4.0;
const MAX_SOURCES: usize = 1024;

struct Bucket {
    tokens: f64,
    /// When it was last refilled; None: never used (full).
    last: Option<Instant>,
}

impl Bucket {
    fn full(burst: f64) -> Bucket {
        Bucket {
            tokens: burst,
            last: None,
        }
    }

    fn refill(&mut self, now: Instant, rate: f64, burst: f64) {
        let last = *self.last.get_or_insert(now);
        let dt = now.saturating_duration_since(last).as_secs_f64();
        self.last = Some(last.max(now));
        self.tokens = (self.tokens + dt * rate).min(burst);
    }

    /// Take one token if there is one.
    fn take(&mut self, now: Instant, rate: f64, burst: f64) -> bool {
        self.refill(now, rate, burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub(crate) struct SolicitBudget {
    rate: f64,
    link: Bucket,
    sources: HashMap<Ipv6Addr, Bucket>,
}

impl SolicitBudget {
    /// `per_second` Solicits a second (0: the link answers none past the
    /// sources' own allowance).
    pub fn new(per_second: u32) -> SolicitBudget {
        let rate = f64::from(per_second);
        SolicitBudget {
            rate,
            link: Bucket::full(rate),
            sources: HashMap::new(),
        }
    }

    /// Whether a Solicit from `src` may be answered at `now`.
    pub fn admit(&mut self, now: Instant, src: Ipv6Addr) -> bool {
        if self.link.take(now, self.rate, self.rate) {
            return true;
        }
        if !self.sources.contains_key(&src) && !self.make_room(now) {
            return false;
        }
        self.sources
            .entry(src)
            .or_insert_with(|| Bucket::full(SOURCE_BURST))
            .take(now, SOURCE_RATE, SOURCE_BURST)
    }

    /// Room for one more source: forget those whose bucket has refilled
    /// (they have been quiet long enough to start afresh).
    fn make_room(&mut self, now: Instant) -> bool {
        if self.sources.len() < MAX_SOURCES {
            return true;
        }
        self.sources.retain(|_, b| {
            b.refill(now, SOURCE_RATE, SOURCE_BURST);
            b.tokens < SOURCE_BURST
        });
        self.sources.len() < MAX_SOURCES
    }
}

#[cfg(test)]
mod tests;
