//! IPv6 datagrams with packet information, for the RA, DHCPv6 and RIPng
//! sockets: one `recvmsg` that reports on which interface a datagram
//! arrived, to which address and with which hop limit, and one `sendmsg`
//! that picks the outgoing interface and source address per datagram
//! (RFC 3542 §6: IPV6_PKTINFO, IPV6_HOPLIMIT). The sockets themselves are
//! opened by each protocol's `io.rs`, which turns on IPV6_RECVPKTINFO (and
//! IPV6_RECVHOPLIMIT where the protocol checks the hop limit).
//!
//! Only this file speaks to the C API; everything here works on a raw
//! descriptor so that it serves socket2 sockets behind tokio's `AsyncFd`
//! (`recv_ready`, `send_ready`) as well as blocking ones.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::os::fd::{AsRawFd, RawFd};
use tokio::io::unix::AsyncFd;

/// What the kernel said about one received datagram besides its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvMeta {
    /// Length of the datagram (it fitted the buffer: see [`recv`]).
    pub len: usize,
    /// Sender, with its port and, for a link-local address, its scope.
    pub src: SocketAddrV6,
    /// Destination address (IPV6_PKTINFO): a group we joined or one of ours.
    pub dst: Option<Ipv6Addr>,
    /// Interface it arrived on (IPV6_PKTINFO; without it, the scope of a
    /// link-local source; 0 when neither says).
    pub ifindex: u32,
    /// The IP hop limit it arrived with (IPV6_HOPLIMIT), if asked for.
    /// Callers that check it (RFC 4861 §6.1.1, RFC 2080 §2.4.2) must treat
    /// `None` as a failed check.
    pub hop_limit: Option<u8>,
}

/// Room for IPV6_PKTINFO and IPV6_HOPLIMIT, 8-byte aligned as cmsghdr needs.
#[repr(C, align(8))]
struct CmsgBuf([u8; 128]);

fn sockaddr(addr: SocketAddrV6, default_scope: u32) -> libc::sockaddr_in6 {
    // SAFETY: sockaddr_in6 is plain old data; all-zero is a valid value.
    let mut sa: libc::sockaddr_in6 = unsafe { zeroed() };
    sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
    sa.sin6_port = addr.port().to_be();
    sa.sin6_addr.s6_addr = addr.ip().octets();
    // Link-local and multicast destinations need an interface; the kernel
    // ignores the scope of any other address.
    sa.sin6_scope_id = if addr.scope_id() != 0 {
        addr.scope_id()
    } else {
        default_scope
    };
    sa
}

/// Receive one datagram into `buf`. `WouldBlock` when nothing is queued on
/// a non-blocking socket. A datagram larger than `buf` is consumed and
/// reported as `InvalidData` (never handed on cut short).
pub fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<RecvMeta> {
    // SAFETY: every pointer in `msg` refers to a live local of the length we
    // pass; the kernel writes within those lengths; the control messages are
    // walked with the libc macros inside msg_controllen and read unaligned.
    unsafe {
        let mut from: libc::sockaddr_in6 = zeroed();
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut cbuf = CmsgBuf([0; 128]);
        let mut msg: libc::msghdr = zeroed();
        msg.msg_name = (&mut from as *mut libc::sockaddr_in6).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.0.as_mut_ptr().cast();
        msg.msg_controllen = size_of::<CmsgBuf>() as _;
        // MSG_TRUNC: the return value is the datagram's real length.
        let n = libc::recvmsg(fd, &mut msg, libc::MSG_TRUNC);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        if n > buf.len() || msg.msg_flags & libc::MSG_TRUNC != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "datagram of {n} bytes larger than the {}-byte buffer",
                    buf.len()
                ),
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
            dst: None,
            ifindex: from.sin6_scope_id,
            hop_limit: None,
        };
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            let h = &*c;
            let data = libc::CMSG_DATA(c);
            let fits = |len: usize| h.cmsg_len as usize >= libc::CMSG_LEN(len as u32) as usize;
            if h.cmsg_level == libc::IPPROTO_IPV6 {
                if h.cmsg_type == libc::IPV6_PKTINFO && fits(size_of::<libc::in6_pktinfo>()) {
                    let pi: libc::in6_pktinfo = std::ptr::read_unaligned(data.cast());
                    meta.ifindex = pi.ipi6_ifindex;
                    meta.dst = Some(Ipv6Addr::from(pi.ipi6_addr.s6_addr));
                } else if h.cmsg_type == libc::IPV6_HOPLIMIT && fits(size_of::<libc::c_int>()) {
                    let hl: libc::c_int = std::ptr::read_unaligned(data.cast());
                    meta.hop_limit = u8::try_from(hl).ok();
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
        Ok(meta)
    }
}

/// The one control message a send carries: IPV6_PKTINFO with the
/// outgoing interface and source (RFC 3542 §6.1).
fn pktinfo_cmsg(
    cbuf: &mut CmsgBuf,
    msg: &mut libc::msghdr,
    ifindex: u32,
    src: Option<Ipv6Addr>,
) -> io::Result<()> {
    msg.msg_control = cbuf.0.as_mut_ptr().cast();
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(size_of::<libc::in6_pktinfo>() as u32) } as _;
    // SAFETY: msg_control points to `cbuf`, 128 bytes, 8-byte aligned; the
    // one message, CMSG_SPACE(in6_pktinfo) bytes, fits inside it.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(msg);
        if c.is_null() {
            return Err(io::Error::other("no room for IPV6_PKTINFO"));
        }
        (*c).cmsg_level = libc::IPPROTO_IPV6;
        (*c).cmsg_type = libc::IPV6_PKTINFO;
        (*c).cmsg_len = libc::CMSG_LEN(size_of::<libc::in6_pktinfo>() as u32) as _;
        let pi = libc::in6_pktinfo {
            ipi6_addr: libc::in6_addr {
                s6_addr: src.unwrap_or(Ipv6Addr::UNSPECIFIED).octets(),
            },
            ipi6_ifindex: ifindex,
        };
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast(), pi);
    }
    Ok(())
}

/// Send `data` to `dst` out of interface `ifindex`, from `src` (or, with
/// `None`, from whatever address the kernel picks on that interface).
/// `dst`'s own scope, if set, wins over `ifindex` for the destination's
/// scope. A short send is an error (datagram sockets never send part).
pub fn send(
    fd: RawFd,
    data: &[u8],
    dst: SocketAddrV6,
    ifindex: u32,
    src: Option<Ipv6Addr>,
) -> io::Result<usize> {
    let mut to = sockaddr(dst, ifindex);
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    let mut cbuf = CmsgBuf([0; 128]);
    // SAFETY: msghdr is plain old data; all-zero is a valid value.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut to as *mut libc::sockaddr_in6).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    pktinfo_cmsg(&mut cbuf, &mut msg, ifindex, src)?;
    // SAFETY: every pointer in `msg` points to a local that outlives the
    // call; `data` is only read.
    let n = unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if n as usize != data.len() {
        return Err(io::Error::new(io::ErrorKind::WriteZero, "short send"));
    }
    Ok(n as usize)
}

/// Wait until the socket behind `fd` is readable, then [`recv`] (a wake-up
/// that finds nothing queued waits again).
pub async fn recv_ready<T: AsRawFd>(fd: &AsyncFd<T>, buf: &mut [u8]) -> io::Result<RecvMeta> {
    loop {
        let mut guard = fd.readable().await?;
        if let Ok(r) = guard.try_io(|s| recv(s.as_raw_fd(), buf)) {
            return r;
        }
    }
}

/// Wait until the socket behind `fd` is writable, then [`send`].
pub async fn send_ready<T: AsRawFd>(
    fd: &AsyncFd<T>,
    data: &[u8],
    dst: SocketAddrV6,
    ifindex: u32,
    src: Option<Ipv6Addr>,
) -> io::Result<usize> {
    loop {
        let mut guard = fd.writable().await?;
        if let Ok(r) = guard.try_io(|s| send(s.as_raw_fd(), data, dst, ifindex, src)) {
            return r;
        }
    }
}

/// One datagram for [`send_many`].
#[derive(Clone, Copy, Debug)]
pub struct Outgoing<'a> {
    pub data: &'a [u8],
    pub dst: SocketAddrV6,
    pub ifindex: u32,
}

/// Most datagrams per sendmmsg(2) call.
const SEND_MANY_MAX: usize = 64;

/// Send several datagrams with one sendmmsg(2) per up to 64, each out of
/// its own interface (IPV6_PKTINFO, source picked by the kernel): for a
/// batch of replies, one system call instead of one per reply. Returns how
/// many were sent, from the front; fewer than `out.len()` when the socket
/// had no room (or an error stopped it) after at least one went; an error
/// when the first could not be sent.
pub fn send_many(fd: RawFd, out: &[Outgoing<'_>]) -> io::Result<usize> {
    let mut sent = 0;
    for chunk in out.chunks(SEND_MANY_MAX) {
        let n = chunk.len();
        let mut to: Vec<libc::sockaddr_in6> =
            chunk.iter().map(|o| sockaddr(o.dst, o.ifindex)).collect();
        let mut iov: Vec<libc::iovec> = chunk
            .iter()
            .map(|o| libc::iovec {
                iov_base: o.data.as_ptr() as *mut libc::c_void,
                iov_len: o.data.len(),
            })
            .collect();
        let mut cbufs: Vec<CmsgBuf> = (0..n).map(|_| CmsgBuf([0; 128])).collect();
        // SAFETY: mmsghdr is plain old data; all-zero is a valid value.
        let mut hdrs: Vec<libc::mmsghdr> = (0..n).map(|_| unsafe { zeroed() }).collect();
        for (i, o) in chunk.iter().enumerate() {
            let m = &mut hdrs[i].msg_hdr;
            m.msg_name = (&mut to[i] as *mut libc::sockaddr_in6).cast();
            m.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            m.msg_iov = &mut iov[i];
            m.msg_iovlen = 1;
            pktinfo_cmsg(&mut cbufs[i], m, o.ifindex, None)?;
        }
        // SAFETY: `hdrs` holds n headers whose pointers all point into the
        // vectors above, alive and not moved until after the call.
        let r = unsafe {
            libc::sendmmsg(
                fd,
                hdrs.as_mut_ptr(),
                n as libc::c_uint,
                // flags: c_int on glibc, c_uint on musl (OpenWrt targets)
                libc::MSG_NOSIGNAL as _,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            return if sent == 0 { Err(e) } else { Ok(sent) };
        }
        sent += r as usize;
        if (r as usize) < n {
            break;
        }
    }
    Ok(sent)
}

/// setsockopt(2) with a value of any plain type.
pub fn setsockopt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, val: &T) -> io::Result<()> {
    // SAFETY: `val` points to a live T of the size passed.
    let r = unsafe {
        libc::setsockopt(
            fd,
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

/// setsockopt(2) with an int, the usual case (IPV6_RECVPKTINFO, ...).
pub fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    v: libc::c_int,
) -> io::Result<()> {
    setsockopt(fd, level, name, &v)
}

#[cfg(test)]
mod tests;
