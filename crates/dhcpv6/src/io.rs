//! The server's UDP socket: [::]:547 with packet info, so each datagram is
//! known by the interface it arrived on and the address it was sent to, and
//! each reply leaves by the interface its request came in on (RFC 8415 §7.2,
//! §18.4: multicast vs unicast).

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsRawFd, RawFd};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use v6sock::setsockopt_int;
pub use v6sock::Outgoing;

use crate::wire::ALL_DHCP_RELAY_AGENTS_AND_SERVERS;

/// What recvmsg told us besides the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvMeta {
    pub len: usize,
    pub src: SocketAddrV6,
    /// The destination address (IPV6_PKTINFO): ff02::1:2 or one of ours.
    pub dst: Ipv6Addr,
    pub ifindex: u32,
}

impl RecvMeta {
    pub fn multicast(&self) -> bool {
        self.dst.is_multicast()
    }
}

/// A non-blocking UDP socket bound to [::]:port with IPV6_RECVPKTINFO.
pub fn server_socket(port: u16) -> io::Result<Socket> {
    socket_on(port, None)
}

/// [`server_socket`], or one that hears only `device` (SO_BINDTODEVICE):
/// the relay agent's, beside the server's [::]:547 in the same process.
/// Both set SO_REUSEADDR; a unicast datagram goes to the socket bound to
/// its interface, multicast to every socket of the group.
fn socket_on(port: u16, device: Option<&str>) -> io::Result<Socket> {
    let s = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    if let Some(d) = device {
        s.bind_device(Some(d.as_bytes()))?;
    }
    s.set_only_v6(true)?;
    setsockopt_int(s.as_raw_fd(), libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)?;
    // Replies to link-local clients must not loop back to ourselves.
    s.set_multicast_loop_v6(false)?;
    // A burst of Solicits (a LAN powering up, perfdhcp) must not overflow
    // the default 208 KiB receive buffer while a batch is being committed.
    // SO_RCVBUFFORCE (root) goes past net.core.rmem_max; else take what we may.
    if setsockopt_int(
        s.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_RCVBUFFORCE,
        4 << 20,
    )
    .is_err()
    {
        let _ = s.set_recv_buffer_size(4 << 20);
    }
    s.set_nonblocking(true)?;
    s.bind(&SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0)).into())?;
    Ok(s)
}

/// Join All_DHCP_Relay_Agents_and_Servers on one interface.
pub fn join(s: &Socket, ifindex: u32) -> io::Result<()> {
    s.join_multicast_v6(&ALL_DHCP_RELAY_AGENTS_AND_SERVERS, ifindex)
}

pub fn leave(s: &Socket, ifindex: u32) -> io::Result<()> {
    s.leave_multicast_v6(&ALL_DHCP_RELAY_AGENTS_AND_SERVERS, ifindex)
}

/// One recvmsg with IPV6_PKTINFO. `WouldBlock` when nothing is queued.
pub fn recv_pktinfo(fd: RawFd, buf: &mut [u8]) -> io::Result<RecvMeta> {
    with_pktinfo(v6sock::recv(fd, buf)?)
}

/// A datagram without its interface and destination cannot be answered.
fn with_pktinfo(m: v6sock::RecvMeta) -> io::Result<RecvMeta> {
    match m.dst {
        Some(dst) if m.ifindex != 0 => Ok(RecvMeta {
            len: m.len,
            src: m.src,
            dst,
            ifindex: m.ifindex,
        }),
        _ => Err(io::Error::new(io::ErrorKind::InvalidData, "no packet info")),
    }
}

/// Room for the control messages of one datagram (IPV6_PKTINFO), 8-byte
/// aligned as cmsghdr needs.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct CmsgBuf([u8; 64]);

/// Buffers for up to `slots` datagrams received by one `recvmmsg`
/// ([`recv_many`]): under load a batch of datagrams costs one system call
/// instead of one each (8,000 a second at 4,000 exchanges/s). Each slot
/// holds a datagram of any size (64 KiB); only the pages the kernel
/// writes become resident.
pub struct RecvMany {
    slot_len: usize,
    bufs: Vec<u8>,
    names: Vec<libc::sockaddr_in6>,
    cmsgs: Vec<CmsgBuf>,
    got: Vec<io::Result<RecvMeta>>,
}

/// Most slots a [`RecvMany`] has (its headers live on the stack).
pub const RECV_MANY_MAX: usize = 32;

impl RecvMany {
    /// Up to RECV_MANY_MAX slots.
    pub fn new(slots: usize) -> RecvMany {
        let slots = slots.min(RECV_MANY_MAX);
        let slot_len = 65536;
        RecvMany {
            slot_len,
            bufs: vec![0; slots * slot_len],
            // SAFETY: sockaddr_in6 and mmsghdr are plain data; zeroed is valid.
            names: vec![unsafe { std::mem::zeroed() }; slots],
            cmsgs: vec![CmsgBuf([0; 64]); slots],
            got: Vec::with_capacity(slots),
        }
    }

    /// How many datagrams one call takes at most.
    pub fn slots(&self) -> usize {
        self.names.len()
    }

    /// The datagrams of the last [`recv_many`]: each its metadata (or why
    /// it cannot be answered) and its slot, to `meta.len`.
    pub fn get(&self, i: usize) -> (io::Result<RecvMeta>, &[u8]) {
        let r = match &self.got[i] {
            Ok(m) => Ok(*m),
            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
        };
        (r, &self.bufs[i * self.slot_len..(i + 1) * self.slot_len])
    }
}

/// Receive the datagrams queued now, up to `m.slots()`, in one
/// `recvmmsg`; returns how many (0: none queued). A datagram cut short
/// (larger than 64 KiB) or without packet info is reported in its slot,
/// as [`recv_pktinfo`] does.
pub fn recv_many(fd: RawFd, m: &mut RecvMany) -> io::Result<usize> {
    let n = m.slots();
    m.got.clear();
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: iovec and mmsghdr are plain data; zeroed is valid.
    let mut iovs: [libc::iovec; RECV_MANY_MAX] = unsafe { std::mem::zeroed() };
    let mut hdrs: [libc::mmsghdr; RECV_MANY_MAX] = unsafe { std::mem::zeroed() };
    for (i, b) in m.bufs.chunks_exact_mut(m.slot_len).enumerate() {
        iovs[i] = libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: b.len(),
        };
    }
    for i in 0..n {
        // Every pointer refers to a slot of m's vectors or to iovs, which
        // stay put until the call returns.
        let h = &mut hdrs[i].msg_hdr;
        h.msg_name = (&mut m.names[i] as *mut libc::sockaddr_in6).cast();
        h.msg_namelen = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        h.msg_iov = &mut iovs[i];
        h.msg_iovlen = 1;
        h.msg_control = m.cmsgs[i].0.as_mut_ptr().cast();
        h.msg_controllen = std::mem::size_of::<CmsgBuf>() as _;
    }
    // SAFETY: hdrs holds n valid headers (see above).
    let got = unsafe {
        libc::recvmmsg(
            fd,
            hdrs.as_mut_ptr(),
            n as libc::c_uint,
            // flags: c_int on glibc, c_uint on musl (OpenWrt targets)
            (libc::MSG_DONTWAIT | libc::MSG_TRUNC) as _,
            std::ptr::null_mut(),
        )
    };
    if got < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
            _ => Err(e),
        };
    }
    for (h, from) in hdrs.iter().zip(&m.names).take(got as usize) {
        let len = h.msg_len as usize;
        if len > m.slot_len || h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
            m.got.push(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "datagram of {len} bytes larger than the {}-byte buffer",
                    m.slot_len
                ),
            )));
            continue;
        }
        let src = SocketAddrV6::new(
            Ipv6Addr::from(from.sin6_addr.s6_addr),
            u16::from_be(from.sin6_port),
            0,
            from.sin6_scope_id,
        );
        let mut meta = v6sock::RecvMeta {
            len,
            src,
            dst: None,
            ifindex: from.sin6_scope_id,
            hop_limit: None,
        };
        // SAFETY: the control messages are walked with the libc macros
        // inside msg_controllen (set by the kernel) and read unaligned.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&h.msg_hdr);
            while !c.is_null() {
                let ch = &*c;
                let fits = ch.cmsg_len as usize
                    >= libc::CMSG_LEN(std::mem::size_of::<libc::in6_pktinfo>() as u32) as usize;
                if ch.cmsg_level == libc::IPPROTO_IPV6 && ch.cmsg_type == libc::IPV6_PKTINFO && fits
                {
                    let pi: libc::in6_pktinfo = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    meta.ifindex = pi.ipi6_ifindex;
                    meta.dst = Some(Ipv6Addr::from(pi.ipi6_addr.s6_addr));
                }
                c = libc::CMSG_NXTHDR(&h.msg_hdr, c);
            }
        }
        m.got.push(with_pktinfo(meta));
    }
    Ok(got as usize)
}

/// Send a batch (sendmmsg, 64 per call), waiting up to `timeout_ms` for
/// room each time the socket says EAGAIN. A datagram the kernel refuses
/// (no route to that client, say) is skipped, logged at debug, so that it
/// does not hold back the others. Returns how many were not sent.
pub fn send_many_blocking(fd: RawFd, out: &[Outgoing<'_>], timeout_ms: i32) -> usize {
    let mut done = 0;
    let mut failed = 0;
    while done < out.len() {
        match v6sock::send_many(fd, &out[done..]) {
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let mut p = libc::pollfd {
                    fd,
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                if unsafe { libc::poll(&mut p, 1, timeout_ms) } <= 0 {
                    tracing::debug!("dhcpv6: no room to send {} replies", out.len() - done);
                    return failed + out.len() - done;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // sendmmsg fails only when the first of the call fails.
            Err(e) => {
                tracing::debug!("dhcpv6: reply to {} failed: {e}", out[done].dst);
                failed += 1;
                done += 1;
            }
        }
    }
    failed
}

/// The socket registered with tokio.
pub struct ServerSocket {
    inner: AsyncFd<Socket>,
}

impl ServerSocket {
    pub fn bind(port: u16) -> io::Result<ServerSocket> {
        ServerSocket::register(server_socket(port)?)
    }

    /// Bound to `port` on `device` only (see [`socket_on`]).
    pub fn bind_device(port: u16, device: &str) -> io::Result<ServerSocket> {
        ServerSocket::register(socket_on(port, Some(device))?)
    }

    fn register(s: Socket) -> io::Result<ServerSocket> {
        // SAFETY: the Socket owns its fd and we never close or replace it
        // while the AsyncFd holds it.
        let inner = unsafe { AsyncFd::register_with_interest(s, Interest::READABLE) }
            .map_err(io::Error::from)?;
        Ok(ServerSocket { inner })
    }

    pub fn socket(&self) -> &Socket {
        self.inner.get_ref()
    }

    pub fn raw_fd(&self) -> RawFd {
        self.inner.get_ref().as_raw_fd()
    }

    /// Wait for one datagram.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<RecvMeta> {
        with_pktinfo(v6sock::recv_ready(&self.inner, buf).await?)
    }

    /// A datagram if one is queued now.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<Option<RecvMeta>> {
        match recv_pktinfo(self.raw_fd(), buf) {
            Ok(m) => Ok(Some(m)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests;
