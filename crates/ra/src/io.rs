//! The raw ICMPv6 socket that carries RS and RA for every served interface.
//!
//! One socket for all interfaces: packet info (RFC 3542 §6) tells on which
//! interface a message arrived and with which hop limit, and picks the
//! outgoing interface and source address per message. The kernel computes and
//! verifies the ICMPv6 checksum of raw ICMPv6 sockets (RFC 3542 §3.1).

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{Ipv6Addr, SocketAddrV6};
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
    v6sock::setsockopt(s.as_raw_fd(), level, name, val)
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
        let m = v6sock::recv_ready(&self.fd, buf).await?;
        Ok(Received {
            len: m.len,
            src: *m.src.ip(),
            ifindex: m.ifindex,
            hop_limit: m.hop_limit,
        })
    }

    /// Send `bytes` to `dst` out of `ifindex` from `src` (its link-local).
    pub async fn send(
        &self,
        bytes: &[u8],
        dst: Ipv6Addr,
        ifindex: u32,
        src: Ipv6Addr,
    ) -> io::Result<()> {
        let dst = SocketAddrV6::new(dst, 0, 0, ifindex);
        v6sock::send_ready(&self.fd, bytes, dst, ifindex, Some(src))
            .await
            .map(|_| ())
    }
}

/// Send one Router Solicitation (`bytes`, [`crate::solicit`]) out of
/// `ifindex` to all-routers, from a one-off raw socket: a WAN solicits a few
/// times after it comes up, not worth a socket kept open. Hop limit 255
/// (RFC 4861 §4.1); the kernel fills in the checksum and the link-local
/// source.
pub fn send_rs(bytes: &[u8], ifindex: u32) -> io::Result<()> {
    let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
    s.set_multicast_hops_v6(u32::from(ND_HOP_LIMIT))?;
    s.set_multicast_if_v6(ifindex)?;
    s.send_to(bytes, &SocketAddrV6::new(ALL_ROUTERS, 0, 0, ifindex).into())?;
    Ok(())
}

/// ND proxy's receive side (relay mode, `ndproxy`): an AF_PACKET socket
/// on one interface that gets every IPv6 NS and NA on the link, also those
/// to solicited-node groups the router never joined (hosts' DAD, the ISP's
/// NS for a LAN host), as odhcpd does. A classic BPF filter keeps all other
/// traffic in the kernel: IPv6 next header 58 (no extension headers, as
/// RFC 4861 ND packets have none in practice) and ICMPv6 type 135 or 136.
pub struct NdSocket {
    fd: AsyncFd<Socket>,
}

const ETH_P_IPV6: u16 = 0x86dd;

impl NdSocket {
    pub fn open(ifindex: u32) -> io::Result<NdSocket> {
        let proto = ETH_P_IPV6.to_be();
        let s = Socket::new(
            Domain::PACKET,
            Type::DGRAM,
            Some(Protocol::from(i32::from(proto))),
        )?;
        // ldb [6]; jeq #58 ? next : drop; ldb [40]; jeq #135 ? ok : next;
        // jeq #136 ? ok : drop; ok: ret #65535; drop: ret #0
        let code = [
            libc::sock_filter {
                code: 0x30,
                jt: 0,
                jf: 0,
                k: 6,
            },
            libc::sock_filter {
                code: 0x15,
                jt: 0,
                jf: 4,
                k: 58,
            },
            libc::sock_filter {
                code: 0x30,
                jt: 0,
                jf: 0,
                k: 40,
            },
            libc::sock_filter {
                code: 0x15,
                jt: 1,
                jf: 0,
                k: 135,
            },
            libc::sock_filter {
                code: 0x15,
                jt: 0,
                jf: 1,
                k: 136,
            },
            libc::sock_filter {
                code: 0x06,
                jt: 0,
                jf: 0,
                k: 0xffff,
            },
            libc::sock_filter {
                code: 0x06,
                jt: 0,
                jf: 0,
                k: 0,
            },
        ];
        let prog = libc::sock_fprog {
            len: code.len() as u16,
            filter: code.as_ptr() as *mut libc::sock_filter,
        };
        setsockopt(&s, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &prog)?;
        // SAFETY: a zeroed sockaddr_ll is valid; the fields set are plain data.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto;
        sll.sll_ifindex = i32::try_from(ifindex).map_err(|_| io::ErrorKind::InvalidInput)?;
        // SAFETY: sll is a valid sockaddr_ll of the size passed.
        let rc = unsafe {
            libc::bind(
                s.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        // A burst of DAD NS (a host or a switch port coming up with many
        // addresses) must not overflow the default ~200 KiB: 1,000 NS
        // lost two thirds of them in tests/bench/relay.sh. A host missed
        // is still found by probing when the ISP asks.
        s.set_recv_buffer_size(1 << 20)?;
        s.set_nonblocking(true)?;
        // SAFETY: as RaSocket's: `s` is owned by the AsyncFd for its life.
        let fd = unsafe { AsyncFd::register(s) }.map_err(|e| e.into_parts().1)?;
        Ok(NdSocket { fd })
    }

    /// One IPv6 packet (from its IPv6 header on); its length.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.fd.readable().await?;
            let r = guard.try_io(|fd| std::io::Read::read(&mut fd.get_ref(), buf));
            match r {
                Ok(res) => return res,
                Err(_would_block) => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests;
