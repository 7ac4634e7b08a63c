//! Lease events for `v6ctl monitor` (events.rs), from the one place every
//! lease change passes: the engine's Persist records.
//!
//! A record says what a lease is now, not what it was: whether an Upsert
//! is a grant or a renewal, and whose lease a Remove ended, come from a
//! shadow of who holds what, kept only while someone monitors (it costs
//! a few dozen bytes per lease) and built before the batch it describes.

use crate::events::Bus;
use std::collections::HashMap;
use std::sync::Arc;
use v6control::monitor::Event;
use v6dhcp::engine::Server;
use v6dhcp::lease::{Lease, LeaseKey, LeaseKind, LeaseRecord, LeaseState};

#[derive(Clone)]
struct Holder {
    duid: String,
    iaid: u32,
    link: Arc<str>,
    name: Option<Arc<str>>,
}

impl Holder {
    fn of(l: &Lease) -> Holder {
        Holder {
            duid: l.duid.to_hex(),
            iaid: l.iaid,
            link: l.link.clone(),
            name: l.name.clone(),
        }
    }
}

#[derive(Default)]
pub(super) struct Announcer {
    /// Who holds each lease; None while nobody monitors.
    holders: Option<HashMap<LeaseKey, Holder>>,
}

impl Announcer {
    /// Before a batch: start or drop the shadow as monitors come and go.
    pub(super) fn sync(&mut self, bus: &Bus, server: &Server) {
        if bus.receiver_count() == 0 {
            self.holders = None;
        } else if self.holders.is_none() {
            self.holders = Some(server.leases().map(|l| (l.key(), Holder::of(&l))).collect());
        }
    }

    /// Publish `recs`; a Remove is `ended` (released, expired).
    pub(super) fn announce(&mut self, bus: &Bus, recs: &[LeaseRecord], ended: &str) {
        let Some(holders) = &mut self.holders else {
            return;
        };
        for r in recs {
            let (key, action, h) = match r {
                LeaseRecord::Upsert(l) => {
                    let h = Holder::of(l);
                    let action = match (l.state, holders.insert(l.key(), h.clone())) {
                        (LeaseState::Declined, _) => "declined",
                        (_, Some(old)) if old.duid == h.duid && old.iaid == h.iaid => "renewed",
                        _ => "granted",
                    };
                    (l.key(), action, h)
                }
                LeaseRecord::Remove(key) => match holders.remove(key) {
                    Some(h) => (*key, ended, h),
                    None => continue,
                },
            };
            crate::events::publish(bus, event(key, action, h));
        }
    }
}

fn event((kind, prefix): LeaseKey, action: &str, h: Holder) -> Event {
    Event {
        version: v6control::API_VERSION,
        time_ms: crate::service::unix_ms(),
        topic: "leases".into(),
        action: action.into(),
        lease: match kind {
            LeaseKind::Address => prefix.addr().to_string(),
            LeaseKind::Prefix => prefix.to_string(),
        },
        kind: kind.name().into(),
        interface: h.link.to_string(),
        duid: h.duid,
        iaid: h.iaid,
        name: h.name.map(|n| n.to_string()),
    }
}
