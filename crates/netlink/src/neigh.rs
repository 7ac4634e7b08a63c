//! Neighbour messages (RTM_NEWNEIGH): struct ndmsg (linux/neighbour.h) and
//! the two NDA_* attributes the DHCPv6 server asks for.

use crate::wire::{self, array, walk_attrs, AF_INET6};
use std::net::Ipv6Addr;

/// struct ndmsg: u8 family, u8 pad1, u16 pad2, i32 ifindex, u16 state,
/// u8 flags, u8 type.
const NDMSG_LEN: usize = 12;
// linux/neighbour.h: NDA_*.
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;

/// An IPv6 neighbour entry: (ifindex, address, Ethernet MAC). None when not
/// IPv6, without an address or a 6-byte link-layer address, or malformed.
pub fn neighbour(p: &[u8]) -> Option<(u32, Ipv6Addr, [u8; 6])> {
    if p.len() < NDMSG_LEN || p[0] != AF_INET6 {
        return None;
    }
    let index = wire::u32_at(p, 4)?;
    let (mut dst, mut mac) = (None, None);
    walk_attrs(&p[NDMSG_LEN..], |t, d| {
        match t {
            NDA_DST => dst = Some(Ipv6Addr::from(array::<16>(d)?)),
            // Not Ethernet (a SIT neighbour's 4 bytes): no MAC.
            NDA_LLADDR => mac = array::<6>(d),
            _ => {}
        }
        Some(())
    })?;
    Some((index, dst?, mac?))
}

/// RTM_GETNEIGH, dump of the IPv6 neighbour table.
pub(crate) fn put_dump(buf: &mut Vec<u8>, seq: u32) {
    let s = wire::begin(buf, wire::RTM_GETNEIGH, wire::NLM_F_DUMP, seq);
    buf.extend_from_slice(&[AF_INET6, 0, 0, 0]);
    buf.extend_from_slice(&[0; NDMSG_LEN - 4]);
    wire::finish(buf, s);
}

#[cfg(test)]
mod tests;
