//! Address messages (RTM_NEWADDR / RTM_DELADDR): struct ifaddrmsg
//! (linux/if_addr.h) and the IFA_* attributes we read or send.

use crate::wire::{self, array, u32_attr, walk_attrs, AF_INET, AF_INET6};
use std::net::{Ipv4Addr, Ipv6Addr};
use v6common::{Addr4Fact, AddrFact};

/// struct ifaddrmsg: u8 family, u8 prefixlen, u8 flags, u8 scope,
/// u32 index.
const IFADDRMSG_LEN: usize = 8;

// linux/if_addr.h: IFA_*.
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_CACHEINFO: u16 = 6;
/// u32 flags; ifa_flags holds only their low 8 bits.
const IFA_FLAGS: u16 = 8;
// linux/if_addr.h: IFA_F_*.
const IFA_F_SECONDARY: u32 = 0x01;
const IFA_F_DADFAILED: u32 = 0x08;
const IFA_F_DEPRECATED: u32 = 0x20;
const IFA_F_TENTATIVE: u32 = 0x40;
const IFA_F_PERMANENT: u32 = 0x80;

struct Header {
    family: u8,
    prefix_len: u8,
    flags: u8,
    index: u32,
}

fn header(p: &[u8]) -> Option<Header> {
    if p.len() < IFADDRMSG_LEN {
        return None;
    }
    Some(Header {
        family: p[0],
        prefix_len: p[1],
        flags: p[2],
        index: wire::u32_at(p, 4)?,
    })
}

/// An IPv4 address message. IFA_ADDRESS is the peer on point-to-point
/// links; IFA_LOCAL is ours (as `ip addr` shows it).
pub fn addr4_fact(p: &[u8]) -> Option<Addr4Fact> {
    let h = header(p)?;
    if h.family != AF_INET {
        return None;
    }
    let (mut local, mut address) = (None, None);
    walk_attrs(&p[IFADDRMSG_LEN..], |t, d| {
        match t {
            IFA_LOCAL => local = Some(Ipv4Addr::from(array::<4>(d)?)),
            IFA_ADDRESS => address = Some(Ipv4Addr::from(array::<4>(d)?)),
            _ => {}
        }
        Some(())
    })?;
    Some(Addr4Fact {
        index: h.index,
        addr: local.or(address)?,
        prefix_len: h.prefix_len,
        secondary: u32::from(h.flags) & IFA_F_SECONDARY != 0,
    })
}

/// An IPv6 address message.
pub fn addr_fact(p: &[u8]) -> Option<AddrFact> {
    let h = header(p)?;
    if h.family != AF_INET6 {
        return None;
    }
    let mut addr = None;
    let mut flags = u32::from(h.flags);
    let (mut preferred, mut valid) = (u32::MAX, u32::MAX);
    walk_attrs(&p[IFADDRMSG_LEN..], |t, d| {
        match t {
            IFA_ADDRESS => addr = Some(Ipv6Addr::from(array::<16>(d)?)),
            IFA_FLAGS => flags = u32_attr(d)?,
            // struct ifa_cacheinfo: u32 prefered, valid, cstamp, tstamp.
            IFA_CACHEINFO if d.len() >= 16 => {
                preferred = wire::u32_at(d, 0)?;
                valid = wire::u32_at(d, 4)?;
            }
            IFA_CACHEINFO => return None,
            _ => {}
        }
        Some(())
    })?;
    Some(AddrFact {
        index: h.index,
        addr: addr?,
        prefix_len: h.prefix_len,
        preferred_lft: preferred,
        valid_lft: valid,
        tentative: flags & IFA_F_TENTATIVE != 0,
        deprecated: flags & IFA_F_DEPRECATED != 0,
        dad_failed: flags & IFA_F_DADFAILED != 0,
        permanent: flags & IFA_F_PERMANENT != 0,
    })
}

fn put_ifaddrmsg(buf: &mut Vec<u8>, family: u8, prefix_len: u8, index: u32) {
    buf.extend_from_slice(&[family, prefix_len, 0, 0]); // flags, scope
    buf.extend_from_slice(&index.to_ne_bytes());
}

/// RTM_GETADDR, dump of every address (IPv4 and IPv6: AF_UNSPEC).
pub(crate) fn put_dump(buf: &mut Vec<u8>, seq: u32) {
    let s = wire::begin(buf, wire::RTM_GETADDR, wire::NLM_F_DUMP, seq);
    put_ifaddrmsg(buf, 0, 0, 0);
    wire::finish(buf, s);
}

/// RTM_NEWADDR with NLM_F_CREATE | NLM_F_REPLACE, NLM_F_ACK:
/// `ip -6 addr replace A/L dev X [valid_lft V preferred_lft P]`. Lifetimes
/// in seconds; both u32::MAX (forever) sends no IFA_CACHEINFO.
pub(crate) fn put_set(
    buf: &mut Vec<u8>,
    index: u32,
    addr: Ipv6Addr,
    prefix_len: u8,
    preferred: u32,
    valid: u32,
    seq: u32,
) {
    let flags = wire::NLM_F_ACK | wire::NLM_F_CREATE | wire::NLM_F_REPLACE;
    let s = wire::begin(buf, wire::RTM_NEWADDR, flags, seq);
    put_ifaddrmsg(buf, AF_INET6, prefix_len, index);
    // Both, the same, as `ip addr` sends them (IFA_LOCAL != IFA_ADDRESS
    // would make IFA_ADDRESS a peer).
    wire::put_attr(buf, IFA_LOCAL, &addr.octets());
    wire::put_attr(buf, IFA_ADDRESS, &addr.octets());
    if preferred != u32::MAX || valid != u32::MAX {
        let mut ci = [0u8; 16];
        ci[..4].copy_from_slice(&preferred.to_ne_bytes());
        ci[4..8].copy_from_slice(&valid.to_ne_bytes());
        wire::put_attr(buf, IFA_CACHEINFO, &ci);
    }
    wire::finish(buf, s);
}

/// RTM_DELADDR, NLM_F_ACK: `ip -6 addr del A/L dev X`.
pub(crate) fn put_del(buf: &mut Vec<u8>, index: u32, addr: Ipv6Addr, prefix_len: u8, seq: u32) {
    let s = wire::begin(buf, wire::RTM_DELADDR, wire::NLM_F_ACK, seq);
    put_ifaddrmsg(buf, AF_INET6, prefix_len, index);
    wire::put_attr(buf, IFA_ADDRESS, &addr.octets());
    wire::finish(buf, s);
}

#[cfg(test)]
mod tests;
