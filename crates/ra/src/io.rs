//! The raw ICMPv6 socket that carries RS and RA for every served interface.
//!
//! One socket for all interfaces: packet info (RFC 3542 §6) tells on which
//! interface a message arrived and with which hop limit, and picks the
//! outgoing interface and source address per message. The kernel computes and
//! verifies the ICMPv6 checksum of raw ICMPv6 sockets (RFC 3542 §3.1).

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::mem::{size_of, zeroed};
use std::net::Ipv6Addr;
use std::os::fd::AsRawFd;
use tokio::io::unix::AsyncFd;

use crate::wire::{ICMPV6_ROUTER_ADVERTISEMENT, ICMPV6_ROUTER_SOLICITATION, ND_HOP_LIMIT};

/// ff02::1, where unsolicited RAs go (RFC 4861 §6.2.4).
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// ff02::2, where hosts send RSs (RFC 4861 §6.3.7).
pub const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

/// <netinet/icmp6.h>: ICMP6_FILTER at level IPPROTO_ICMPV6 (RFC 3542 §3.2).
const ICMP6_FILTER: libc::c_int = 1;

/// `struct icmp6_filter`: a set bit blocks that ICMPv6 type (Linux semantics).
#[repr(C)]
struct Icmp6Filter {
    data: [u32; 8],
}

impl Icmp6Filter {
    fn pass_only(types: &[u8]) -> Icmp6Filter {
        let mut f = Icmp6Filter {
            data: [u32::MAX; 8],
        };
        for &t in types {
            f.data[usize::from(t >> 5)] &= !(1u32 << (t & 31));
        }
        f
    }
}

/// One received message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub len: usize,
    pub src: Ipv6Addr,
    /// Interface it arrived on (IPV6_PKTINFO); 0 if the kernel did not say.
    pub ifindex: u32,
    /// IP Hop Limit (IPV6_HOPLIMIT); None if the kernel did not say, which
    /// the caller must treat as invalid (RFC 4861 §6.1).
    pub hop_limit: Option<u8>,
}

pub struct RaSocket {
    fd: AsyncFd<Socket>,
}

fn setsockopt<T>(s: &Socket, level: libc::c_int, name: libc::c_int, val: &T) -> io::Result<()> {
    // SAFETY: `val` points to a live T of the size passed.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            level,
            name,
            (val as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl RaSocket {
    /// Open the socket (needs CAP_NET_RAW). Must be called inside a tokio runtime.
    pub fn open() -> io::Result<RaSocket> {
        let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
        s.set_nonblocking(true)?;
        s.set_cloexec(true)?;
        // Only RS and RA reach us (RFC 3542 §3.2).
        let filter =
            Icmp6Filter::pass_only(&[ICMPV6_ROUTER_SOLICITATION, ICMPV6_ROUTER_ADVERTISEMENT]);
        setsockopt(&s, libc::IPPROTO_ICMPV6, ICMP6_FILTER, &filter)?;
        let one: libc::c_int = 1;
        setsockopt(&s, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, &one)?;
        setsockopt(&s, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, &one)?;
        // RFC 4861 §6.1: ND messages leave with hop limit 255.
        s.set_multicast_hops_v6(u32::from(ND_HOP_LIMIT))?;
        s.set_unicast_hops_v6(u32::from(ND_HOP_LIMIT))?;
        // Our own multicast RAs must not come back to us as "another router".
        s.set_multicast_loop_v6(false)?;
        // SAFETY: `s` is an open socket owned by the AsyncFd for its whole
        // life and its descriptor never changes.
        let fd = unsafe { AsyncFd::register(s) }.map_err(|e| e.into_parts().1)?;
        Ok(RaSocket { fd })
    }

    /// Join ff02::2 on an interface so RSs reach us even with forwarding off.
    pub fn join(&self, ifindex: u32) -> io::Result<()> {
        match self.fd.get_ref().join_multicast_v6(&ALL_ROUTERS, ifindex) {
            Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => Ok(()),
            r => r,
        }
    }

    pub fn leave(&self, ifindex: u32) -> io::Result<()> {
        self.fd.get_ref().leave_multicast_v6(&ALL_ROUTERS, ifindex)
    }

    /// Receive one message into `buf` (the ICMPv6 part, starting at its type).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|s| recvmsg(s.get_ref(), buf)) {
                Ok(r) => return r,
                Err(_would_block) => continue,
            }
        }
    }

    /// Send `bytes` to `dst` out of `ifindex` from `src` (its link-local).
    pub async fn send(
        &self,
        bytes: &[u8],
        dst: Ipv6Addr,
        ifindex: u32,
        src: Ipv6Addr,
    ) -> io::Result<()> {
        loop {
            let mut guard = self.fd.writable().await?;
            match guard.try_io(|s| sendmsg(s.get_ref(), bytes, dst, ifindex, src)) {
                Ok(r) => return r,
                Err(_would_block) => continue,
            }
        }
    }
}

/// Room for IPV6_PKTINFO and IPV6_HOPLIMIT control messages.
const CMSG_BUF: usize = 128;

#[repr(C, align(8))]
struct CmsgBuf([u8; CMSG_BUF]);

fn recvmsg(s: &Socket, buf: &mut [u8]) -> io::Result<Received> {
    // SAFETY: all pointers refer to locals that outlive the call; the kernel
    // writes at most the lengths given; cmsgs are walked with the libc macros
    // within msg_controllen.
    unsafe {
        let mut from: libc::sockaddr_in6 = zeroed();
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut cbuf = CmsgBuf([0; CMSG_BUF]);
        let mut msg: libc::msghdr = zeroed();
        msg.msg_name = (&mut from as *mut libc::sockaddr_in6).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.0.as_mut_ptr().cast();
        msg.msg_controllen = CMSG_BUF as _;
        let n = libc::recvmsg(s.as_raw_fd(), &mut msg, 0);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut r = Received {
            len: n as usize,
            src: Ipv6Addr::from(from.sin6_addr.s6_addr),
            ifindex: 0,
            hop_limit: None,
        };
        if msg.msg_flags & libc::MSG_TRUNC != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "message larger than the buffer",
            ));
        }
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            let h = &*c;
            if h.cmsg_level == libc::IPPROTO_IPV6 {
                let data = libc::CMSG_DATA(c);
                if h.cmsg_type == libc::IPV6_PKTINFO
                    && h.cmsg_len as usize
                        >= libc::CMSG_LEN(size_of::<libc::in6_pktinfo>() as u32) as usize
                {
                    let pi: libc::in6_pktinfo = std::ptr::read_unaligned(data.cast());
                    r.ifindex = pi.ipi6_ifindex;
                } else if h.cmsg_type == libc::IPV6_HOPLIMIT
                    && h.cmsg_len as usize
                        >= libc::CMSG_LEN(size_of::<libc::c_int>() as u32) as usize
                {
                    let hl: libc::c_int = std::ptr::read_unaligned(data.cast());
                    r.hop_limit = u8::try_from(hl).ok();
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
        Ok(r)
    }
}

fn sendmsg(s: &Socket, bytes: &[u8], dst: Ipv6Addr, ifindex: u32, src: Ipv6Addr) -> io::Result<()> {
    // SAFETY: as in recvmsg; the one control message is written within the
    // buffer, whose size CMSG_SPACE(in6_pktinfo) is well under CMSG_BUF.
    unsafe {
        let mut to: libc::sockaddr_in6 = zeroed();
        to.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        to.sin6_addr.s6_addr = dst.octets();
        // Link-local and multicast destinations need the interface.
        to.sin6_scope_id = ifindex;
        let mut iov = libc::iovec {
            iov_base: bytes.as_ptr() as *mut libc::c_void,
            iov_len: bytes.len(),
        };
        let mut cbuf = CmsgBuf([0; CMSG_BUF]);
        let space = libc::CMSG_SPACE(size_of::<libc::in6_pktinfo>() as u32) as usize;
        let mut msg: libc::msghdr = zeroed();
        msg.msg_name = (&mut to as *mut libc::sockaddr_in6).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.0.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        let c = libc::CMSG_FIRSTHDR(&msg);
        if c.is_null() {
            return Err(io::Error::other("no room for IPV6_PKTINFO"));
        }
        (*c).cmsg_level = libc::IPPROTO_IPV6;
        (*c).cmsg_type = libc::IPV6_PKTINFO;
        (*c).cmsg_len = libc::CMSG_LEN(size_of::<libc::in6_pktinfo>() as u32) as _;
        let pi = libc::in6_pktinfo {
            ipi6_addr: libc::in6_addr {
                s6_addr: src.octets(),
            },
            ipi6_ifindex: ifindex,
        };
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast(), pi);
        let n = libc::sendmsg(s.as_raw_fd(), &msg, 0);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if n as usize != bytes.len() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short send"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_passes_only_rs_and_ra() {
        let f = Icmp6Filter::pass_only(&[133, 134]);
        // 133 = 4*32 + 5, 134 = 4*32 + 6: bits 5 and 6 of word 4 clear.
        assert_eq!(f.data[4], !((1 << 5) | (1 << 6)));
        assert!(f
            .data
            .iter()
            .enumerate()
            .all(|(i, w)| i == 4 || *w == u32::MAX));
    }
}
