//! Offers: the lease an Advertise named for one IA of one client (RFC 8415
//! §18.3.1), held for a while so that the client's Request gets the same
//! one.
//!
//! An offer binds nothing: the binding is made by the Request (§18.3.2),
//! and the server assigns what it has then. So an offer only steers the
//! allocator away from a lease; it never refuses that lease to a client
//! that asks for it (the client offered it may have vanished, as every
//! client of a Solicit flood does). The server bounds how many offers a
//! link holds (`Server::offer_room`); past that it moves the oldest one.
//!
//! The table is indexed by client IA, by lease, and per link and kind in
//! the order offers were made (refreshed), which is also their expiry
//! order as every offer is held equally long from `now`.

use crate::lease::{LeaseKey, LeaseKind};
use crate::wire::Duid;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use v6common::Ipv6Prefix;

/// Who an offer is for: one IA (by IAID and kind) of one client.
pub(crate) type OfferKey = (Duid, u32, LeaseKind);

struct Held {
    link: Arc<str>,
    prefix: Ipv6Prefix,
    seq: u64,
}

/// Held offers of one link and kind, oldest first (by sequence number).
type Queue = BTreeMap<u64, (OfferKey, u64)>;

#[derive(Default)]
pub(crate) struct OfferTable {
    by_client: HashMap<OfferKey, Held>,
    by_lease: HashMap<LeaseKey, OfferKey>,
    by_age: HashMap<(Arc<str>, LeaseKind), Queue>,
    seq: u64,
}

impl OfferTable {
    pub fn len(&self) -> usize {
        self.by_client.len()
    }

    /// How many offers of `kind` the link holds.
    pub fn held(&self, link: &Arc<str>, kind: LeaseKind) -> usize {
        self.by_age
            .get(&(link.clone(), kind))
            .map_or(0, |q| q.len())
    }

    /// What this IA was offered.
    pub fn get(&self, client: &Duid, iaid: u32, kind: LeaseKind) -> Option<Ipv6Prefix> {
        let k = (client.clone(), iaid, kind);
        self.by_client.get(&k).map(|h| h.prefix)
    }

    pub fn is_offered(&self, key: &LeaseKey) -> bool {
        self.by_lease.contains_key(key)
    }

    /// The oldest offer of `kind` on the link: who it is for and what it
    /// holds.
    pub fn oldest(&self, link: &Arc<str>, kind: LeaseKind) -> Option<(OfferKey, Ipv6Prefix)> {
        let q = self.by_age.get(&(link.clone(), kind))?;
        let (_, (k, _)) = q.first_key_value()?;
        self.by_client.get(k).map(|h| (k.clone(), h.prefix))
    }

    /// Hold `prefix` for this IA until `until`: it replaces what the IA
    /// was offered of this kind, and any offer of `prefix` to another IA.
    pub fn offer(&mut self, link: &Arc<str>, key: OfferKey, prefix: Ipv6Prefix, until: u64) {
        self.forget_ia(&key);
        self.forget_lease(&(key.2, prefix));
        self.seq += 1;
        let seq = self.seq;
        self.by_age
            .entry((link.clone(), key.2))
            .or_default()
            .insert(seq, (key.clone(), until));
        self.by_lease.insert((key.2, prefix), key.clone());
        let held = Held {
            link: link.clone(),
            prefix,
            seq,
        };
        self.by_client.insert(key, held);
    }

    /// Forget whatever this IA was offered.
    pub fn forget_ia(&mut self, key: &OfferKey) {
        let Some(h) = self.by_client.remove(key) else {
            return;
        };
        self.by_lease.remove(&(key.2, h.prefix));
        let qk = (h.link, key.2);
        if let Some(q) = self.by_age.get_mut(&qk) {
            q.remove(&h.seq);
            if q.is_empty() {
                self.by_age.remove(&qk);
            }
        }
    }

    /// Forget the offer of this lease, whoever it was for.
    pub fn forget_lease(&mut self, lease: &LeaseKey) {
        if let Some(k) = self.by_lease.get(lease).cloned() {
            self.forget_ia(&k);
        }
    }

    /// When the first held offer ends.
    pub fn next_expiry(&self) -> Option<u64> {
        self.by_age
            .values()
            .filter_map(|q| q.first_key_value().map(|(_, (_, until))| *until))
            .min()
    }

    /// Forget offers held until `now` or earlier.
    pub fn expire(&mut self, now: u64) {
        let mut stale = vec![];
        for q in self.by_age.values() {
            stale.extend(
                q.values()
                    .take_while(|(_, until)| *until <= now)
                    .map(|(k, _)| k.clone()),
            );
        }
        for k in &stale {
            self.forget_ia(k);
        }
    }
}
