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
mod tests {
    use super::*;

    /// Loopback round trip through recvmsg/sendmsg with packet info (no root
    /// needed: an ephemeral port on ::1).
    #[tokio::test(flavor = "current_thread")]
    async fn pktinfo_round_trip_on_loopback() {
        let Ok(a) = ServerSocket::bind(0) else { return }; // no IPv6 in this sandbox
        let port = a.socket().local_addr().unwrap().as_socket().unwrap().port();
        let b = ServerSocket::bind(0).unwrap();
        let bport = b.socket().local_addr().unwrap().as_socket().unwrap().port();
        let lo = 1; // the loopback interface is index 1 on Linux
        let hello = Outgoing {
            data: b"hello",
            dst: SocketAddrV6::new(Ipv6Addr::LOCALHOST, port, 0, 0),
            ifindex: lo,
        };
        assert_eq!(send_many_blocking(b.raw_fd(), &[hello], 50), 0);
        let mut buf = [0u8; 64];
        let m = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..m.len], b"hello");
        assert_eq!(m.dst, Ipv6Addr::LOCALHOST);
        assert_eq!(m.src.port(), bport);
        assert_eq!(m.ifindex, lo);
        assert!(!m.multicast());
        assert_eq!(a.try_recv(&mut buf).unwrap(), None);
    }
}
