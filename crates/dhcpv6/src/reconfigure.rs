//! The server's Reconfigure queue (RFC 8415 §18.3.11): clients to be told
//! to Renew because what their link serves changed, each retransmitted
//! from REC_TIMEOUT doubling, at most REC_MAX_RC times (§7.6, §15), until
//! the client sends a Renew, Rebind or Information-request. Paced: at most
//! `BURST` transmissions per `PACE`, so renumbering a link of a thousand
//! clients is a few seconds of a trickle, not one burst.

use crate::lease::ReconfigureKey;
use crate::wire::Duid;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// §7.6.
pub const REC_TIMEOUT: Duration = Duration::from_secs(2);
pub const REC_MAX_RC: u32 = 8;
/// Transmissions per pacing interval.
pub const BURST: usize = 20;
pub const PACE: Duration = Duration::from_millis(100);

/// One client being reconfigured.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    pub ifindex: u32,
    pub to: ReconfigureKey,
    /// Transmissions so far.
    pub sent: u32,
    /// Retransmission timeout after the last transmission.
    pub rt: Duration,
    /// When to send next; None: not sent yet (waits for pacing).
    pub next: Option<Instant>,
}

#[derive(Default)]
pub(crate) struct ReconfigureQueue {
    pending: BTreeMap<Duid, Pending>,
    /// No transmission before this (pacing).
    paced_until: Option<Instant>,
}

/// What `due` hands the engine to send now.
pub(crate) struct Due {
    pub client: Duid,
    pub ifindex: u32,
    pub to: ReconfigureKey,
}

impl ReconfigureQueue {
    /// Queue `client` (a client already queued keeps its place and count).
    pub fn add(&mut self, client: Duid, ifindex: u32, to: ReconfigureKey) {
        self.pending.entry(client).or_insert(Pending {
            ifindex,
            to,
            sent: 0,
            rt: REC_TIMEOUT,
            next: None,
        });
    }

    /// The client answered (Renew, Rebind or Information-request): done.
    pub fn answered(&mut self, client: &Duid) -> bool {
        self.pending.remove(client).is_some()
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// When `due` has something to do.
    pub fn next_deadline(&self, now: Instant) -> Option<Instant> {
        let t = self.pending.values().map(|p| p.next.unwrap_or(now)).min()?;
        Some(self.paced_until.map_or(t, |p| t.max(p)))
    }

    /// Those to send at `now` (at most `BURST`), with their retransmission
    /// scheduled; `gave_up` counts those past REC_MAX_RC, dropped.
    /// `jitter` maps a timeout to one with §15's RAND applied.
    pub fn due(
        &mut self,
        now: Instant,
        mut jitter: impl FnMut(Duration) -> Duration,
        gave_up: &mut u64,
    ) -> Vec<Due> {
        if self.paced_until.is_some_and(|p| now < p) {
            return vec![];
        }
        let mut out = vec![];
        let mut done = vec![];
        // Retransmissions first (oldest promises), then first sends.
        let mut order: Vec<(&Duid, &mut Pending)> = self
            .pending
            .iter_mut()
            .filter(|(_, p)| p.next.is_none_or(|t| t <= now))
            .collect();
        order.sort_by_key(|(_, p)| p.next.is_none());
        for (d, p) in order {
            if out.len() == BURST {
                break;
            }
            if p.sent >= REC_MAX_RC {
                done.push(d.clone());
                *gave_up += 1;
                continue;
            }
            // §15: RT = IRT + RAND*IRT, then 2*RTprev + RAND*RTprev.
            p.rt = if p.sent == 0 {
                jitter(REC_TIMEOUT)
            } else {
                jitter(p.rt * 2)
            };
            p.sent += 1;
            p.next = Some(now + p.rt);
            out.push(Due {
                client: d.clone(),
                ifindex: p.ifindex,
                to: p.to,
            });
        }
        for d in done {
            self.pending.remove(&d);
        }
        if !out.is_empty() {
            self.paced_until = Some(now + PACE);
        }
        out
    }
}
