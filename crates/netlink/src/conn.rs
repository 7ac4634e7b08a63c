//! The async glue: an rtnetlink request socket on tokio's `AsyncFd`, which
//! sends what the codecs build and reads the kernel's answers by sequence
//! number, and the event socket's receive loop. No message layout here.

use crate::routes::{big_rcvbuf, netlink_socket, setsockopt, NETLINK_CAP_ACK, NETLINK_EXT_ACK};
use crate::wire::{self, messages, NLMSG_DONE, NLMSG_ERROR};
use crate::Error;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// Bytes of requests per datagram in a batch.
const CHUNK: usize = 32 * 1024;
/// Receive buffer: a dump datagram is at most 32 KiB unless one message is
/// larger (a link with many VFs); a larger datagram is reported, not cut.
const RBUF: usize = 64 * 1024;

/// Register a non-blocking socket with the runtime.
pub(crate) fn async_fd(fd: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: the OwnedFd is moved into the AsyncFd, which alone closes
    // it, after deregistering.
    unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE | Interest::WRITABLE) }
        .map_err(io::Error::from)
}

/// Receive one datagram; returns its full length (MSG_TRUNC), which is
/// more than `buf.len()` when it did not fit.
pub(crate) async fn recv(fd: &AsyncFd<OwnedFd>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        let mut guard = fd.readable().await?;
        let res = guard.try_io(|fd| {
            // SAFETY: buf is valid for writes of its length.
            let n = unsafe {
                libc::recv(
                    fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_TRUNC,
                )
            };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        });
        match res {
            Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
            Ok(r) => return r,
            Err(_would_block) => continue,
        }
    }
}

/// The request socket. Requests are answered in order; answers to a
/// request whose caller went away (a dropped future) carry an old sequence
/// number and are skipped.
pub(crate) struct Conn {
    fd: AsyncFd<OwnedFd>,
    seq: u32,
    buf: Vec<u8>,
    rbuf: Vec<u8>,
}

impl Conn {
    pub fn open() -> io::Result<Self> {
        let (fd, _) = netlink_socket(0, true)?;
        // Error answers with the kernel's text (extended ack), without a
        // copy of the request.
        let _ = setsockopt(&fd, libc::SOL_NETLINK, NETLINK_EXT_ACK, &1);
        let _ = setsockopt(&fd, libc::SOL_NETLINK, NETLINK_CAP_ACK, &1);
        // Room for the error reports of a batch of refusals.
        big_rcvbuf(&fd, 1 << 20);
        Ok(Conn {
            fd: async_fd(fd)?,
            seq: 1,
            buf: Vec::with_capacity(CHUNK + 512),
            rbuf: vec![0; RBUF],
        })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    async fn send(&mut self) -> io::Result<()> {
        let buf = &self.buf;
        loop {
            let mut guard = self.fd.writable().await?;
            let res = guard.try_io(|fd| {
                // SAFETY: buf is valid for reads of its length.
                let n = unsafe { libc::send(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len(), 0) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(())
                }
            });
            match res {
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(r) => return r,
                Err(_would_block) => continue,
            }
        }
    }

    /// Read answers until `each` says the exchange is over. `each` sees
    /// every message of the datagrams (old ones too: it checks the seq).
    async fn read_until(&mut self, mut each: impl FnMut(&wire::Msg<'_>) -> bool) -> io::Result<()> {
        loop {
            let n = recv(&self.fd, &mut self.rbuf).await?;
            if n > self.rbuf.len() {
                // A datagram we could not hold: its messages are lost, and
                // with them maybe the end of a dump.
                return Err(io::Error::other(format!(
                    "netlink answer of {n} bytes truncated to {}",
                    self.rbuf.len()
                )));
            }
            let mut done = false;
            let mut it = messages(&self.rbuf[..n]);
            for m in &mut it {
                done |= each(&m);
            }
            if it.rest() != 0 {
                tracing::debug!("netlink: malformed answer, {} bytes dropped", it.rest());
            }
            if done {
                return Ok(());
            }
        }
    }

    /// One request (built with NLM_F_ACK by `build` for the given seq);
    /// Ok when the kernel acknowledges it.
    pub async fn request(
        &mut self,
        what: impl FnOnce() -> String,
        build: impl FnOnce(&mut Vec<u8>, u32),
    ) -> Result<(), Error> {
        let seq = self.next_seq();
        self.buf.clear();
        build(&mut self.buf, seq);
        if let Err(e) = self.send().await {
            return Err(Error::io(what(), e));
        }
        let mut answer = None;
        let r = self
            .read_until(|m| {
                if m.seq != seq || m.kind != NLMSG_ERROR {
                    return false;
                }
                answer = Some(wire::ack(m));
                true
            })
            .await;
        match (r, answer) {
            (Err(e), _) => Err(Error::io(what(), e)),
            (Ok(()), Some(Some((0, _)))) => Ok(()),
            (Ok(()), Some(Some((errno, text)))) => Err(Error::kernel(what(), errno, text)),
            (Ok(()), _) => Err(Error::io(what(), malformed())),
        }
    }

    /// A dump (built with NLM_F_DUMP by `build`): `each` gets every
    /// message's type and payload until NLMSG_DONE.
    pub async fn dump(
        &mut self,
        what: &str,
        build: impl FnOnce(&mut Vec<u8>, u32),
        mut each: impl FnMut(u16, &[u8]),
    ) -> Result<(), Error> {
        let seq = self.next_seq();
        self.buf.clear();
        build(&mut self.buf, seq);
        if let Err(e) = self.send().await {
            return Err(Error::io(what.into(), e));
        }
        let mut failed = None;
        let r = self
            .read_until(|m| {
                if m.seq != seq {
                    return false;
                }
                match m.kind {
                    // NLMSG_DONE carries the dump's status (0, or -errno).
                    NLMSG_DONE => {
                        let e = wire::u32_at(m.payload, 0).map_or(0, |e| -(e as i32));
                        if e > 0 {
                            failed = Some((e, None));
                        }
                        true
                    }
                    NLMSG_ERROR => {
                        failed = Some(wire::ack(m).unwrap_or((libc::EBADMSG, None)));
                        true
                    }
                    k => {
                        each(k, m.payload);
                        false
                    }
                }
            })
            .await;
        match (r, failed) {
            (Err(e), _) => Err(Error::io(what.into(), e)),
            (Ok(()), Some((0, _))) | (Ok(()), None) => Ok(()),
            (Ok(()), Some((errno, text))) => Err(Error::kernel(what.into(), errno, text)),
        }
    }

    /// `n` requests (request `i` built without NLM_F_ACK by `build(buf,
    /// i, seq)`), many to a datagram. As `RouteBatchSocket::apply`: only
    /// the last request of a datagram asks for an acknowledgement (the
    /// kernel reports every refused request anyway, netlink_rcv_skb, and
    /// answers in order), so 10,000 successes cost no 10,000 acks in the
    /// receive buffer. Returns the refused ones: (i, errno, the kernel's
    /// text), and when an I/O error ended the batch, the first request
    /// without an answer and the error.
    pub async fn batch(
        &mut self,
        n: usize,
        mut build: impl FnMut(&mut Vec<u8>, usize, u32),
    ) -> (
        Vec<(usize, i32, Option<String>)>,
        Option<(usize, io::Error)>,
    ) {
        let mut failed = Vec::new();
        let mut i = 0;
        while i < n {
            let first = i;
            let base = self.seq.wrapping_add(1);
            self.buf.clear();
            let mut last_at = 0;
            while i < n && self.buf.len() < CHUNK {
                last_at = self.buf.len();
                let seq = self.next_seq();
                build(&mut self.buf, i, seq);
                i += 1;
            }
            // nlmsg_flags of the last request: NLM_F_ACK.
            let f = wire::u16_at(&self.buf, last_at + 6).unwrap_or(0) | wire::NLM_F_ACK;
            self.buf[last_at + 6..last_at + 8].copy_from_slice(&f.to_ne_bytes());
            let last = (i - first - 1) as u32;
            if let Err(e) = self.send().await {
                return (failed, Some((first, e)));
            }
            let r = self.read_until(|m| {
                let k = m.seq.wrapping_sub(base);
                if m.kind != NLMSG_ERROR || k > last {
                    return false;
                }
                match wire::ack(m) {
                    Some((0, _)) => {}
                    Some((errno, text)) => failed.push((first + k as usize, errno, text)),
                    None => failed.push((first + k as usize, libc::EBADMSG, None)),
                }
                k == last
            });
            if let Err(e) = r.await {
                return (failed, Some((first, e)));
            }
        }
        (failed, None)
    }
}

fn malformed() -> io::Error {
    io::Error::from_raw_os_error(libc::EBADMSG)
}
