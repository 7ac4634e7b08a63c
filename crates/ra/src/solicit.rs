//! Router Solicitations from the router's WAN, as a host sends them (RFC
//! 4861 §6.3.7; a CE router is a host on its WAN, RFC 7084 W-1). Linux
//! solicits by itself only when an interface comes up; v6routerd usually
//! starts, and sets accept_ra=2 on the WAN, after that, and an ISP sends
//! unsolicited RAs only every few minutes (MaxRtrAdvInterval up to 1800 s),
//! so without this the router would wait that long for its default route
//! and its LANs, under RFC 7084 G-4, for theirs. Pure: time passed in.

use crate::wire::{EmitError, NdOption, RouterSolicitation};
use std::time::{Duration, Instant};

/// RFC 4861 §10 host constants.
pub const MAX_RTR_SOLICITATION_DELAY: Duration = Duration::from_secs(1);
pub const RTR_SOLICITATION_INTERVAL: Duration = Duration::from_secs(4);
pub const MAX_RTR_SOLICITATIONS: u8 = 3;

/// The solicitations still to send on one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Solicitor {
    next: Instant,
    left: u8,
}

impl Solicitor {
    /// Start soliciting at `now`: the first RS after `delay` (a random
    /// 0..MAX_RTR_SOLICITATION_DELAY, so routers that boot together do not
    /// solicit together).
    pub fn new(now: Instant, delay: Duration) -> Solicitor {
        Solicitor {
            next: now + delay.min(MAX_RTR_SOLICITATION_DELAY),
            left: MAX_RTR_SOLICITATIONS,
        }
    }

    /// When the next RS is due; None once MAX_RTR_SOLICITATIONS were sent.
    pub fn deadline(&self) -> Option<Instant> {
        (self.left > 0).then_some(self.next)
    }

    /// Whether an RS is to be sent at `now` (then the next is scheduled).
    /// The caller stops soliciting once an RA gave it a default router.
    pub fn due(&mut self, now: Instant) -> bool {
        if self.left == 0 || now < self.next {
            return false;
        }
        self.left -= 1;
        self.next = now + RTR_SOLICITATION_INTERVAL;
        true
    }
}

/// An RS with the Source Link-Layer Address option (§4.1: SHOULD be
/// included when the source address is not unspecified; ours is the
/// link-local).
pub fn router_solicitation(lladdr: Option<&[u8]>) -> Result<Vec<u8>, EmitError> {
    let options = lladdr
        .map(|l| NdOption::SourceLinkLayerAddress(l.to_vec()))
        .into_iter()
        .collect();
    RouterSolicitation { options }.to_bytes()
}

#[cfg(test)]
mod tests;
