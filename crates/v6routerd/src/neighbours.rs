//! Clients' MACs from the kernel's neighbour cache: for the DHCPv6 server's
//! bindings by MAC when the client's DUID carries none and no relay sent RFC
//! 6939's Client Link-Layer Address, and for the option the relay agent
//! adds. Each lookup used to dump the neighbour table: one
//! client sending from many link-local addresses (or a flood) made one
//! netlink dump per datagram. Now a link's table is dumped at most every
//! `REDUMP` and kept for `FRESH`.

use std::collections::HashMap;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

/// Short enough that a client's Request, which follows its Solicit by at
/// least the Advertise's round trip and usually by SOL_TIMEOUT (1 s, RFC
/// 8415 §15), finds the entry the kernel made to send that Advertise.
const REDUMP: Duration = Duration::from_millis(200);
/// How long a dumped table answers hits without asking the kernel again.
const FRESH: Duration = Duration::from_secs(10);

/// One link's copy of the kernel's table, and when it was made.
struct Table {
    dumped: Instant,
    macs: HashMap<Ipv6Addr, [u8; 6]>,
}

#[derive(Default)]
pub(crate) struct Neighbours {
    links: HashMap<u32, Table>,
}

impl Neighbours {
    /// The MAC of `addr` on `ifindex`, dumping the kernel's table when the
    /// copy cannot answer.
    pub(crate) async fn mac(
        &mut self,
        netlink: &v6netlink::Kernel,
        ifindex: u32,
        addr: Ipv6Addr,
    ) -> Option<[u8; 6]> {
        let now = Instant::now();
        match self.cached(ifindex, addr, now) {
            Lookup::Known(mac) => mac,
            Lookup::Dump => {
                self.refresh(ifindex, netlink.neighbour_macs(ifindex).await, now);
                self.get(ifindex, addr)
            }
        }
    }

    /// What the copy says of `addr` on `ifindex` at `now`, or that it needs
    /// a new dump.
    fn cached(&self, ifindex: u32, addr: Ipv6Addr, now: Instant) -> Lookup {
        let Some(t) = self.links.get(&ifindex) else {
            return Lookup::Dump;
        };
        let age = now.saturating_duration_since(t.dumped);
        match t.macs.get(&addr) {
            Some(mac) if age < FRESH => Lookup::Known(Some(*mac)),
            _ if age < REDUMP => Lookup::Known(None),
            _ => Lookup::Dump,
        }
    }

    /// A fresh dump of `ifindex`'s table.
    fn refresh(&mut self, ifindex: u32, macs: Vec<(Ipv6Addr, [u8; 6])>, now: Instant) {
        let macs = macs.into_iter().collect();
        self.links.insert(ifindex, Table { dumped: now, macs });
    }

    /// The MAC for `addr` in `ifindex`'s table as last dumped.
    fn get(&self, ifindex: u32, addr: Ipv6Addr) -> Option<[u8; 6]> {
        self.links.get(&ifindex)?.macs.get(&addr).copied()
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Lookup {
    Known(Option<[u8; 6]>),
    Dump,
}

#[cfg(test)]
mod tests;
