//! The RIPng socket: UDP [::]:521, the ff02::9 group on each RIPng
//! interface, packet info and hop limit of every datagram received, and
//! datagrams sent from a chosen interface's link-local address with hop
//! limit 255 (RFC 2080 §2.4.2 checks it on the other side).

use crate::wire::{ALL_RIP_ROUTERS, RIPNG_PORT};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::AsRawFd;
use tokio::io::unix::AsyncFd;

/// Receive buffer asked for: a full table of 50,000 routes is ~700
/// datagrams of 1.5 kB; leave room for several such bursts.
pub const RCVBUF: usize = 8 * 1024 * 1024;
pub const SNDBUF: usize = 2 * 1024 * 1024;

/// What the kernel tells about one received datagram.
pub use v6sock::RecvMeta;

pub struct RipSocket {
    fd: AsyncFd<Socket>,
}

fn setsockopt_int(
    s: &Socket,
    level: libc::c_int,
    name: libc::c_int,
    v: libc::c_int,
) -> io::Result<()> {
    v6sock::setsockopt_int(s.as_raw_fd(), level, name, v)
}

impl RipSocket {
    /// Bind [::]:521 (needs CAP_NET_BIND_SERVICE) with everything RIPng needs.
    pub fn open() -> io::Result<RipSocket> {
        Self::open_port(RIPNG_PORT)
    }

    /// As `open`, on another port (tests).
    pub fn open_port(port: u16) -> io::Result<RipSocket> {
        let s = Socket::new(
            Domain::IPV6,
            Type::DGRAM.nonblocking().cloexec(),
            Some(Protocol::UDP),
        )?;
        s.set_only_v6(true)?;
        s.set_reuse_address(true)?;
        // As root, SO_RCVBUFFORCE goes past net.core.rmem_max; else ask
        // for what rmem_max allows.
        if setsockopt_int(
            &s,
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            RCVBUF as libc::c_int,
        )
        .is_err()
        {
            let _ = s.set_recv_buffer_size(RCVBUF);
        }
        if setsockopt_int(
            &s,
            libc::SOL_SOCKET,
            libc::SO_SNDBUFFORCE,
            SNDBUF as libc::c_int,
        )
        .is_err()
        {
            let _ = s.set_send_buffer_size(SNDBUF);
        }
        setsockopt_int(&s, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)?;
        setsockopt_int(&s, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, 1)?;
        // §2.4.2: neighbours check that our datagrams have hop limit 255.
        s.set_multicast_hops_v6(255)?;
        s.set_unicast_hops_v6(255)?;
        // We must not hear ourselves (the engine drops them anyway).
        s.set_multicast_loop_v6(false)?;
        s.bind(&SockAddr::from(SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::UNSPECIFIED,
            port,
            0,
            0,
        ))))?;
        // SAFETY: the socket is owned by the AsyncFd from here on and is
        // closed only when it is dropped.
        let fd = unsafe { AsyncFd::register(s) }.map_err(|e| e.into_parts().1)?;
        Ok(RipSocket { fd })
    }

    /// Join ff02::9 on an interface (idempotent).
    pub fn join(&self, ifindex: u32) -> io::Result<()> {
        match self
            .fd
            .get_ref()
            .join_multicast_v6(&ALL_RIP_ROUTERS, ifindex)
        {
            Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => Ok(()),
            r => r,
        }
    }

    /// Leave ff02::9 on an interface (errors ignored: it may be gone).
    pub fn leave(&self, ifindex: u32) {
        let _ = self
            .fd
            .get_ref()
            .leave_multicast_v6(&ALL_RIP_ROUTERS, ifindex);
    }

    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<RecvMeta> {
        v6sock::recv_ready(&self.fd, buf).await
    }

    /// Send one datagram out of `ifindex` from `src` (the interface's
    /// link-local address, via IPV6_PKTINFO).
    pub async fn send(
        &self,
        bytes: &[u8],
        dst: SocketAddrV6,
        ifindex: u32,
        src: Ipv6Addr,
    ) -> io::Result<()> {
        v6sock::send_ready(&self.fd, bytes, dst, ifindex, Some(src))
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests;
