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
mod tests {
    use super::*;

    #[test]
    fn three_solicitations_four_seconds_apart_after_the_delay() {
        let t0 = Instant::now();
        let mut s = Solicitor::new(t0, Duration::from_millis(300));
        assert!(!s.due(t0));
        let mut sent = Vec::new();
        let mut t = t0;
        while let Some(d) = s.deadline() {
            t = d;
            assert!(s.due(t));
            sent.push(t - t0);
        }
        assert_eq!(sent, [300, 4300, 8300].map(Duration::from_millis).to_vec());
        assert!(!s.due(t + Duration::from_secs(60)));
        // The delay is bounded by MAX_RTR_SOLICITATION_DELAY.
        let s = Solicitor::new(t0, Duration::from_secs(5));
        assert_eq!(s.deadline(), Some(t0 + MAX_RTR_SOLICITATION_DELAY));
    }

    #[test]
    fn rs_bytes_carry_the_source_lladdr() {
        let mac = [2, 0, 0, 0, 0, 1];
        let rs = router_solicitation(Some(&mac)).unwrap();
        assert_eq!(rs, [133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 0, 0, 0, 0, 1]);
        assert_eq!(
            router_solicitation(None).unwrap(),
            [133, 0, 0, 0, 0, 0, 0, 0]
        );
        // What we send is what our own parser accepts (RFC 4861 §6.1.1).
        let parsed = crate::wire::parse_rs(&rs, "fe80::1".parse().unwrap()).unwrap();
        assert_eq!(parsed.source_lladdr(), Some(&mac[..]));
    }
}
