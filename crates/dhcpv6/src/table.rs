//! The server's lease table, laid out for memory: 100,000 leases must cost a
//! home router a few megabytes, not tens of them.
//!
//! - A slab (`Vec` of fixed-size slots addressed by `u32` ids, freed slots
//!   chained into a free list). A slot holds the DUID inline (the `Duid`
//!   type keeps up to 22 bytes without a heap block), times as `u32` unix
//!   seconds (good until 2106), the link as an index into a small interned
//!   table of names. The `via` address of a delegated prefix and the
//!   client's host name live in side maps, since most leases have none;
//!   except the usual via, a requesting router's link-local (fe80::/64),
//!   of a prefix no longer than /64: its interface id goes in the slot,
//!   in the prefix's bits past 64, which are zero (`F_VIA_LL`).
//! - Two hash tables of bare `u32` ids (hashbrown's `HashTable`, hashing
//!   through the slab): by what is leased, and by client (the entry points
//!   at the client's first lease; a client's leases are chained through the
//!   slots).
//! - Expiry as a binary heap of `(expires, id)` pairs with lazy deletion: a
//!   renewed or removed lease leaves its old entry behind, which is skipped
//!   when it surfaces because it no longer matches the slot; the heap is
//!   rebuilt when such entries outnumber the live ones.

use crate::lease::{Lease, LeaseKey, LeaseKind, LeaseState, ReconfigureKey};
use crate::wire::Duid;
use hashbrown::HashTable;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::net::Ipv6Addr;
use std::sync::Arc;
use v6common::Ipv6Prefix;

const NONE: u32 = u32::MAX;

const F_LIVE: u8 = 1;
const F_PREFIX: u8 = 2;
const F_DECLINED: u8 = 4;
const F_STATIC: u8 = 8;
/// The via is fe80::/64 with the interface id in `addr[8..]` (a prefix
/// of length 64 or less has zeros there). A side-map entry cost 34 bytes
/// a delegated prefix (hash map slack included), for 20,000 requesting
/// routers 0.7 MB.
const F_VIA_LL: u8 = 16;
const LINK_LOCAL_64: [u8; 8] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0];

struct Slot {
    addr: [u8; 16],
    plen: u8,
    flags: u8,
    link: u16,
    iaid: u32,
    cltt: u32,
    preferred: u32,
    valid: u32,
    /// Next lease of the same client, or the next free slot.
    next: u32,
    duid: Duid,
}

impl Slot {
    fn live(&self) -> bool {
        self.flags & F_LIVE != 0
    }
    fn kind(&self) -> LeaseKind {
        if self.flags & F_PREFIX != 0 {
            LeaseKind::Prefix
        } else {
            LeaseKind::Address
        }
    }
    fn key(&self) -> LeaseKey {
        (
            self.kind(),
            Ipv6Prefix::new(Ipv6Addr::from(self.addr), self.plen),
        )
    }
    /// The leased address or prefix's bits, without an inline via.
    fn prefix_bits(&self) -> [u8; 16] {
        let mut a = self.addr;
        if self.flags & F_VIA_LL != 0 {
            a[8..].fill(0);
        }
        a
    }
    /// The via kept in the slot, if it is there (`F_VIA_LL`).
    fn via_inline(&self) -> Option<Ipv6Addr> {
        (self.flags & F_VIA_LL != 0).then(|| {
            let mut a = [0u8; 16];
            a[..8].copy_from_slice(&LINK_LOCAL_64);
            a[8..].copy_from_slice(&self.addr[8..]);
            Ipv6Addr::from(a)
        })
    }
    /// Unix second at which the valid lifetime ends (u32::MAX: never).
    fn expires(&self) -> u32 {
        if self.valid == u32::MAX {
            return u32::MAX;
        }
        self.cltt.saturating_add(self.valid)
    }
}

fn key_bits(k: &LeaseKey) -> (u8, [u8; 16], u8) {
    (k.0 as u8, k.1.addr().octets(), k.1.len())
}

#[derive(Default)]
pub(crate) struct LeaseTable {
    slots: Vec<Slot>,
    free: Option<u32>,
    live: usize,
    by_key: HashTable<u32>,
    /// The first lease of each client.
    by_client: HashTable<u32>,
    expiry: BinaryHeap<Reverse<(u32, u32)>>,
    links: Vec<Arc<str>>,
    link_ids: HashMap<Arc<str>, u16>,
    /// Leases per link and kind (how full a link's pools are).
    per_link: HashMap<(u16, LeaseKind), usize>,
    via: HashMap<u32, Ipv6Addr>,
    names: HashMap<u32, Arc<str>>,
    /// Reconfigure Keys of clients that accepted Reconfigure (few do).
    reconf: HashMap<u32, ReconfigureKey>,
    hasher: RandomState,
}

impl LeaseTable {
    pub fn len(&self) -> usize {
        self.live
    }

    /// How many leases of `kind` the link holds (bound or declined).
    pub fn count(&self, link: &str, kind: LeaseKind) -> usize {
        self.link_ids
            .get(link)
            .and_then(|id| self.per_link.get(&(*id, kind)))
            .copied()
            .unwrap_or(0)
    }

    fn hash_key(h: &RandomState, k: &LeaseKey) -> u64 {
        h.hash_one(key_bits(k))
    }

    fn hash_duid(h: &RandomState, d: &Duid) -> u64 {
        h.hash_one(d.as_bytes())
    }

    fn find(&self, key: &LeaseKey) -> Option<u32> {
        let (kind, addr, plen) = key_bits(key);
        let slots = &self.slots;
        self.by_key
            .find(Self::hash_key(&self.hasher, key), |&id| {
                let s = &slots[id as usize];
                s.prefix_bits() == addr && s.plen == plen && s.kind() as u8 == kind
            })
            .copied()
    }

    fn materialize(&self, id: u32) -> Lease {
        let s = &self.slots[id as usize];
        Lease {
            kind: s.kind(),
            prefix: Ipv6Prefix::new(Ipv6Addr::from(s.addr), s.plen),
            duid: s.duid.clone(),
            iaid: s.iaid,
            link: self.links[usize::from(s.link)].clone(),
            cltt: u64::from(s.cltt),
            preferred: s.preferred,
            valid: s.valid,
            state: if s.flags & F_DECLINED != 0 {
                LeaseState::Declined
            } else {
                LeaseState::Bound
            },
            is_static: s.flags & F_STATIC != 0,
            via: s.via_inline().or_else(|| self.via.get(&id).copied()),
            name: self.names.get(&id).cloned(),
            reconfigure: self.reconf.get(&id).copied(),
        }
    }

    pub fn get(&self, key: &LeaseKey) -> Option<Lease> {
        self.find(key).map(|id| self.materialize(id))
    }

    pub fn contains(&self, key: &LeaseKey) -> bool {
        self.find(key).is_some()
    }

    /// Every lease, in slab order.
    pub fn iter(&self) -> impl Iterator<Item = Lease> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.live())
            .map(|(i, _)| self.materialize(i as u32))
    }

    /// The leases of clients that accepted Reconfigure (§20.4.2).
    pub fn reconfigurable(&self) -> impl Iterator<Item = Lease> + '_ {
        self.reconf.keys().map(|id| self.materialize(*id))
    }

    fn client_head(&self, duid: &Duid) -> Option<u32> {
        let slots = &self.slots;
        self.by_client
            .find(Self::hash_duid(&self.hasher, duid), |&id| {
                slots[id as usize].duid == *duid
            })
            .copied()
    }

    /// The leases of one client (what is leased).
    pub fn client_keys(&self, duid: &Duid) -> Vec<LeaseKey> {
        let mut out = vec![];
        let mut id = self.client_head(duid).unwrap_or(NONE);
        while id != NONE {
            let s = &self.slots[id as usize];
            out.push(s.key());
            id = s.next;
        }
        out
    }

    /// The leases of one client, materialized.
    pub fn client_leases(&self, duid: &Duid) -> impl Iterator<Item = Lease> + '_ {
        let mut id = self.client_head(duid).unwrap_or(NONE);
        std::iter::from_fn(move || {
            if id == NONE {
                return None;
            }
            let l = self.materialize(id);
            id = self.slots[id as usize].next;
            Some(l)
        })
    }

    fn intern_link(&mut self, name: &Arc<str>) -> u16 {
        if let Some(i) = self.link_ids.get(name) {
            return *i;
        }
        // Interface names come from the configuration, a handful; a damaged
        // journal could bring more than 65,535: the rest share one name
        // that no link has (such leases are never renewed, only expire).
        let Ok(id) = u16::try_from(self.links.len()) else {
            return u16::MAX;
        };
        let name = if id == u16::MAX {
            Arc::from("?")
        } else {
            name.clone()
        };
        self.links.push(name.clone());
        self.link_ids.insert(name, id);
        id
    }

    /// Insert or replace the lease of the same key.
    pub fn insert(&mut self, l: Lease) {
        let key = l.key();
        self.remove(&key);
        let link = self.intern_link(&l.link);
        let mut flags = F_LIVE;
        if l.kind == LeaseKind::Prefix {
            flags |= F_PREFIX;
        }
        if l.state == LeaseState::Declined {
            flags |= F_DECLINED;
        }
        if l.is_static {
            flags |= F_STATIC;
        }
        let mut addr = l.prefix.addr().octets();
        let mut via = l.via;
        if let Some(v) = via.filter(|v| v.octets()[..8] == LINK_LOCAL_64 && l.prefix.len() <= 64) {
            addr[8..].copy_from_slice(&v.octets()[8..]);
            flags |= F_VIA_LL;
            via = None;
        }
        let slot = Slot {
            addr,
            plen: l.prefix.len(),
            flags,
            link,
            iaid: l.iaid,
            // u32 unix seconds reach 2106; a later clock saturates.
            cltt: u32::try_from(l.cltt).unwrap_or(u32::MAX),
            preferred: l.preferred,
            valid: l.valid,
            next: NONE,
            duid: l.duid,
        };
        let id = match self.free {
            Some(id) => {
                let next = self.slots[id as usize].next;
                self.free = (next != NONE).then_some(next);
                self.slots[id as usize] = slot;
                id
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        self.live += 1;
        *self.per_link.entry((link, l.kind)).or_default() += 1;
        if let Some(v) = via {
            self.via.insert(id, v);
        }
        if let Some(n) = l.name {
            self.names.insert(id, n);
        }
        if let Some(r) = l.reconfigure {
            self.reconf.insert(id, r);
        }
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.by_key
            .insert_unique(Self::hash_key(hasher, &key), id, |&x| {
                Self::hash_key(hasher, &slots[x as usize].key())
            });
        // Chain in front of the client's other leases.
        let dh = Self::hash_duid(hasher, &slots[id as usize].duid);
        let duid = &slots[id as usize].duid;
        let mut prev_head = NONE;
        if let Some(head) = self
            .by_client
            .find_mut(dh, |&x| slots[x as usize].duid == *duid)
        {
            prev_head = *head;
            *head = id;
        } else {
            self.by_client.insert_unique(dh, id, |&x| {
                Self::hash_duid(hasher, &slots[x as usize].duid)
            });
        }
        self.slots[id as usize].next = prev_head;
        let exp = self.slots[id as usize].expires();
        self.expiry.push(Reverse((exp, id)));
        self.maybe_rebuild_expiry();
    }

    pub fn remove(&mut self, key: &LeaseKey) -> Option<Lease> {
        let id = self.find(key)?;
        let lease = self.materialize(id);
        let (slots, hasher) = (&self.slots, &self.hasher);
        if let Ok(e) = self
            .by_key
            .find_entry(Self::hash_key(hasher, key), |&x| x == id)
        {
            e.remove();
        }
        // Unlink from the client's chain.
        let s = &slots[id as usize];
        let dh = Self::hash_duid(hasher, &s.duid);
        let next = s.next;
        let mut pred = NONE;
        if let Ok(mut e) = self
            .by_client
            .find_entry(dh, |&x| slots[x as usize].duid == s.duid)
        {
            let head = *e.get();
            if head == id {
                if next == NONE {
                    e.remove();
                } else {
                    *e.get_mut() = next;
                }
            } else {
                let mut cur = head;
                while cur != NONE && slots[cur as usize].next != id {
                    cur = slots[cur as usize].next;
                }
                pred = cur;
            }
        }
        if pred != NONE {
            self.slots[pred as usize].next = next;
        }
        self.via.remove(&id);
        self.names.remove(&id);
        self.reconf.remove(&id);
        let s = &mut self.slots[id as usize];
        if let Some(n) = self.per_link.get_mut(&(s.link, lease.kind)) {
            *n = n.saturating_sub(1);
        }
        s.flags = 0;
        // A long DUID's heap block goes now, not when the slot is reused.
        s.duid = Duid::new_ll(0, &[]);
        s.next = self.free.unwrap_or(NONE);
        self.free = Some(id);
        self.live -= 1;
        Some(lease)
    }

    /// Earliest time (unix seconds) a lease may expire; may be early (an
    /// entry left by a renewed lease), never late.
    pub fn next_expiry(&self) -> Option<u64> {
        self.expiry
            .peek()
            .filter(|Reverse((t, _))| *t != u32::MAX)
            .map(|Reverse((t, _))| u64::from(*t))
    }

    /// Remove and return one lease whose valid lifetime ended at or before `unix`.
    pub fn pop_expired(&mut self, unix: u64) -> Option<Lease> {
        while let Some(&Reverse((t, id))) = self.expiry.peek() {
            if u64::from(t) > unix || t == u32::MAX {
                return None;
            }
            self.expiry.pop();
            let s = &self.slots[id as usize];
            if s.live() && s.expires() == t {
                let key = s.key();
                return self.remove(&key);
            }
        }
        None
    }

    fn maybe_rebuild_expiry(&mut self) {
        if self.expiry.len() > 2 * self.live + 1024 {
            let v: Vec<Reverse<(u32, u32)>> = self
                .slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.live())
                .map(|(i, s)| Reverse((s.expires(), i as u32)))
                .collect();
            self.expiry = BinaryHeap::from(v);
        }
    }
}

#[cfg(test)]
mod tests;
