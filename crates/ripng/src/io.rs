//! The RIPng socket: UDP [::]:521, the ff02::9 group on each RIPng
//! interface, packet info and hop limit of every datagram received, and
//! datagrams sent from a chosen interface's link-local address with hop
//! limit 255 (RFC 2080 §2.4.2 checks it on the other side).

use crate::wire::{ALL_RIP_ROUTERS, RIPNG_PORT};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::AsRawFd;
use tokio::io::unix::AsyncFd;

/// Receive buffer asked for: a full table of 50,000 routes is ~700
/// datagrams of 1.5 kB; leave room for several such bursts.
pub const RCVBUF: usize = 8 * 1024 * 1024;
pub const SNDBUF: usize = 2 * 1024 * 1024;

/// What the kernel tells about one received datagram.
#[derive(Clone, Copy, Debug)]
pub struct RecvMeta {
    pub len: usize,
    pub src: SocketAddrV6,
    /// Interface it arrived on (IPV6_PKTINFO).
    pub ifindex: u32,
    /// Destination address (IPV6_PKTINFO): ff02::9 or one of ours.
    pub dst: Option<Ipv6Addr>,
    /// IPV6_HOPLIMIT.
    pub hop_limit: Option<u8>,
}

pub struct RipSocket {
    fd: AsyncFd<Socket>,
}

fn setsockopt_int(
    s: &Socket,
    level: libc::c_int,
    name: libc::c_int,
    v: libc::c_int,
) -> io::Result<()> {
    // SAFETY: a valid fd and a pointer to a c_int of the given length.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            level,
            name,
            &v as *const libc::c_int as *const libc::c_void,
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
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
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|s| recvmsg(s.get_ref(), buf)) {
                Ok(r) => return r,
                Err(_would_block) => continue,
            }
        }
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
        loop {
            let mut guard = self.fd.writable().await?;
            match guard.try_io(|s| sendmsg(s.get_ref(), bytes, dst, ifindex, src)) {
                Ok(r) => return r,
                Err(_would_block) => continue,
            }
        }
    }
}

const CMSG_SPACE: usize = 128;

fn recvmsg(s: &Socket, buf: &mut [u8]) -> io::Result<RecvMeta> {
    // SAFETY: all pointers refer to live, correctly sized local buffers;
    // the cmsg walk uses the libc macros on the msghdr the kernel filled.
    unsafe {
        let mut from: libc::sockaddr_in6 = zeroed();
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr() as *mut libc::c_void,
            iov_len: buf.len(),
        };
        let mut cbuf = [0u64; CMSG_SPACE / 8];
        let mut msg: libc::msghdr = zeroed();
        msg.msg_name = &mut from as *mut _ as *mut libc::c_void;
        msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = CMSG_SPACE as _;
        let n = libc::recvmsg(s.as_raw_fd(), &mut msg, libc::MSG_TRUNC);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        if n > buf.len() || msg.msg_flags & libc::MSG_TRUNC != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("datagram of {n} bytes truncated"),
            ));
        }
        let src = SocketAddrV6::new(
            Ipv6Addr::from(from.sin6_addr.s6_addr),
            u16::from_be(from.sin6_port),
            0,
            from.sin6_scope_id,
        );
        let mut meta = RecvMeta {
            len: n,
            src,
            ifindex: from.sin6_scope_id,
            dst: None,
            hop_limit: None,
        };
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            let h = &*c;
            if h.cmsg_level == libc::IPPROTO_IPV6 && h.cmsg_type == libc::IPV6_PKTINFO {
                let pi: libc::in6_pktinfo =
                    std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::in6_pktinfo);
                meta.ifindex = pi.ipi6_ifindex;
                meta.dst = Some(Ipv6Addr::from(pi.ipi6_addr.s6_addr));
            } else if h.cmsg_level == libc::IPPROTO_IPV6 && h.cmsg_type == libc::IPV6_HOPLIMIT {
                let hl: libc::c_int =
                    std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::c_int);
                meta.hop_limit = u8::try_from(hl).ok();
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
        Ok(meta)
    }
}

fn sendmsg(
    s: &Socket,
    bytes: &[u8],
    dst: SocketAddrV6,
    ifindex: u32,
    src: Ipv6Addr,
) -> io::Result<()> {
    // SAFETY: as in recvmsg; the control buffer is large enough for one
    // in6_pktinfo (CMSG_SPACE checked below).
    unsafe {
        let mut to: libc::sockaddr_in6 = zeroed();
        to.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        to.sin6_port = dst.port().to_be();
        to.sin6_addr.s6_addr = dst.ip().octets();
        to.sin6_scope_id = if dst.scope_id() != 0 {
            dst.scope_id()
        } else {
            ifindex
        };
        let mut iov = libc::iovec {
            iov_base: bytes.as_ptr() as *mut libc::c_void,
            iov_len: bytes.len(),
        };
        let mut cbuf = [0u64; CMSG_SPACE / 8];
        let space = libc::CMSG_SPACE(size_of::<libc::in6_pktinfo>() as u32) as usize;
        debug_assert!(space <= CMSG_SPACE);
        let mut msg: libc::msghdr = zeroed();
        msg.msg_name = &mut to as *mut _ as *mut libc::c_void;
        msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = space as _;
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::IPPROTO_IPV6;
        (*c).cmsg_type = libc::IPV6_PKTINFO;
        (*c).cmsg_len = libc::CMSG_LEN(size_of::<libc::in6_pktinfo>() as u32) as _;
        let pi = libc::in6_pktinfo {
            ipi6_addr: libc::in6_addr {
                s6_addr: src.octets(),
            },
            ipi6_ifindex: ifindex,
        };
        std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut libc::in6_pktinfo, pi);
        let n = libc::sendmsg(s.as_raw_fd(), &msg, 0);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loopback round trip on an unprivileged port: packet info and hop
    /// limit come back (unicast hop limit 255 as we set it).
    #[tokio::test(flavor = "current_thread")]
    async fn loopback_meta() {
        let a = match RipSocket::open_port(0) {
            Ok(s) => s,
            Err(e) => {
                // No IPv6 in this sandbox: nothing to test.
                eprintln!("skipping: {e}");
                return;
            }
        };
        let port =
            a.fd.get_ref()
                .local_addr()
                .unwrap()
                .as_socket_ipv6()
                .unwrap()
                .port();
        let b = RipSocket::open_port(0).unwrap();
        let dst = SocketAddrV6::new(Ipv6Addr::LOCALHOST, port, 0, 0);
        b.send(&[2, 1, 0, 0], dst, 0, Ipv6Addr::LOCALHOST)
            .await
            .unwrap();
        let mut buf = [0u8; 64];
        let m = a.recv(&mut buf).await.unwrap();
        assert_eq!(m.len, 4);
        assert_eq!(&buf[..4], &[2, 1, 0, 0]);
        assert_eq!(m.hop_limit, Some(255));
        assert_eq!(m.dst, Some(Ipv6Addr::LOCALHOST));
        assert_eq!(*m.src.ip(), Ipv6Addr::LOCALHOST);
        assert!(m.ifindex > 0, "loopback has an index");
    }
}
