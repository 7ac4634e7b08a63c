//! A lease: one address (IA_NA) or one delegated prefix (IA_PD) bound to a
//! client's IA (RFC 8415 §4.2 "binding"), with wall-clock times so it means
//! the same thing after a restart.

use crate::wire::Duid;
use std::net::Ipv6Addr;
use std::sync::Arc;
use v6common::Ipv6Prefix;

/// Which kind of IA the lease belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LeaseKind {
    /// An address of an IA_NA (the prefix has length 128).
    Address,
    /// A delegated prefix of an IA_PD.
    Prefix,
}

impl LeaseKind {
    pub fn name(self) -> &'static str {
        match self {
            LeaseKind::Address => "address",
            LeaseKind::Prefix => "prefix",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LeaseState {
    /// Granted to the client in a Reply.
    Bound,
    /// The client declined it (RFC 8415 §18.3.8): not handed out until it expires.
    Declined,
}

/// The identity of a lease: what is leased.
pub type LeaseKey = (LeaseKind, Ipv6Prefix);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub kind: LeaseKind,
    /// The address (as a /128) or the delegated prefix.
    pub prefix: Ipv6Prefix,
    pub duid: Duid,
    pub iaid: u32,
    /// Interface name (stable across restarts, unlike its index).
    pub link: Arc<str>,
    /// Client last transaction time, unix seconds.
    pub cltt: u64,
    pub preferred: u32,
    pub valid: u32,
    pub state: LeaseState,
    /// From a static binding (host reservation).
    pub is_static: bool,
    /// For delegated prefixes: the requesting router's address to route via.
    pub via: Option<Ipv6Addr>,
    /// The client's host name: its static binding's `name`, else the first
    /// label of the name it sent in a Client FQDN option (RFC 4704).
    pub name: Option<Arc<str>>,
    /// The client accepted Reconfigure (RFC 8415 §20.4.2): the key it was
    /// given and where to send a Reconfigure to.
    pub reconfigure: Option<ReconfigureKey>,
}

/// What the server needs to reconfigure a client (§18.3.11, §20.4.3):
/// its Reconfigure Key and the address it last sent from (its link-local
/// on the link).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReconfigureKey {
    pub key: [u8; 16],
    pub client_addr: Ipv6Addr,
}

impl Lease {
    pub fn key(&self) -> LeaseKey {
        (self.kind, self.prefix)
    }

    /// Unix time at which the valid lifetime ends.
    pub fn expires(&self) -> u64 {
        self.cltt.saturating_add(u64::from(self.valid))
    }

    /// Lifetime left at `unix` (seconds, saturating to 0; u32::MAX stays infinite).
    pub fn remaining(&self, lifetime: u32, unix: u64) -> u32 {
        if lifetime == u32::MAX {
            return u32::MAX;
        }
        let end = self.cltt.saturating_add(u64::from(lifetime));
        u32::try_from(end.saturating_sub(unix)).unwrap_or(u32::MAX - 1)
    }
}

/// One journal record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseRecord {
    /// A lease was granted, renewed or changed state.
    Upsert(Lease),
    /// A lease ended (released, expired, reclaimed).
    Remove(LeaseKey),
}
