//! A fast path for many route changes of one protocol, and for following
//! that protocol's routes, used by the RIPng service (50,000 routes within
//! a second of the first Response).
//!
//! - [`RouteBatchSocket`]: a plain blocking rtnetlink socket. Route requests
//!   are packed many to a datagram (one `sendmsg` holds ~700); only the last
//!   request of a batch asks for an acknowledgement (NLM_F_ACK): the kernel
//!   reports every failed request anyway (netlink_rcv_skb acks on error),
//!   and answers in order, so the last ack means the batch is done. Meant
//!   for a thread of its own: the kernel does the FIB work inside `sendmsg`.
//! - [`RouteListener`]: changes to one protocol's routes made by anyone
//!   else. A socket filter in the kernel passes only IPv6 route messages of
//!   that protocol that were not caused by our batch socket (a notification
//!   carries the requester's port id), so 50,000 installs of our own cost
//!   no echo to parse.
//!
//! Messages are built and read here by hand (linux/rtnetlink.h): the route
//! message is small and fixed, and the generic codec costs an allocation per
//! attribute.

use std::io;
use std::net::Ipv6Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use v6common::kernel::RT_TABLE_MAIN;
use v6common::{Ipv6Prefix, RouteFact, RouteKind};

use crate::wire::{
    self, messages, Msg, AF_INET6, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP,
    NLM_F_EXCL, NLM_F_REPLACE, RTM_DELROUTE, RTM_GETROUTE, RTM_NEWROUTE,
};

/// struct rtmsg (linux/rtnetlink.h): u8 family, dst_len, src_len, tos,
/// table, protocol, scope, type; u32 flags.
const RTMSG_LEN: usize = 12;
// linux/rtnetlink.h: enum rtattr_type_t.
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_TABLE: u16 = 15;
// linux/netlink.h: socket options.
pub(crate) const NETLINK_CAP_ACK: libc::c_int = 10;
pub(crate) const NETLINK_EXT_ACK: libc::c_int = 11;
const NETLINK_GET_STRICT_CHK: libc::c_int = 12;
/// Requests per `sendmsg` are bounded by this many bytes (well inside the
/// default socket send buffer of 208 KiB).
const CHUNK: usize = 64 * 1024;
/// Longest a batch may wait for the kernel's answers.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// One request of a batch that the kernel refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed {
    pub route: RouteFact,
    /// An install (true) or a removal.
    pub add: bool,
    /// The kernel's errno (ESRCH: no such route, ...).
    pub errno: i32,
}

impl Failed {
    pub fn error(&self) -> io::Error {
        io::Error::from_raw_os_error(self.errno)
    }
}

/// A change to a route of the followed protocol, seen by [`RouteListener`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteChange {
    New(RouteFact),
    Del(RouteFact),
}

pub(crate) fn netlink_socket(groups: u32, nonblocking: bool) -> io::Result<(OwnedFd, u32)> {
    let flags =
        libc::SOCK_RAW | libc::SOCK_CLOEXEC | if nonblocking { libc::SOCK_NONBLOCK } else { 0 };
    // SAFETY: plain socket(2); the descriptor is owned right away.
    let fd = unsafe { libc::socket(libc::AF_NETLINK, flags, libc::NETLINK_ROUTE) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: sockaddr_nl is plain data; zeroed is a valid value.
    let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    sa.nl_groups = groups;
    let len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
    // SAFETY: sa is a valid sockaddr_nl of `len` bytes.
    if unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_nl).cast(),
            len,
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    let mut got = len;
    // SAFETY: getsockname writes at most `got` bytes into sa.
    if unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut sa as *mut libc::sockaddr_nl).cast(),
            &mut got,
        )
    } < 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok((fd, sa.nl_pid))
}

/// setsockopt(2) with any plain-data option value.
pub(crate) fn setsockopt<T>(
    fd: &impl AsRawFd,
    level: libc::c_int,
    name: libc::c_int,
    v: &T,
) -> io::Result<()> {
    let len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: v points at a live T of `len` bytes for the call; the kernel copies it.
    if unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, (v as *const T).cast(), len) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A large receive buffer: SO_RCVBUFFORCE as root, else what rmem_max allows.
pub(crate) fn big_rcvbuf(fd: &impl AsRawFd, bytes: libc::c_int) {
    if setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &bytes).is_err() {
        let _ = setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &bytes);
    }
}

/// Classic BPF instruction.
fn bpf(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}
const BPF_LD_H_ABS: u16 = 0x28;
const BPF_LD_B_ABS: u16 = 0x30;
const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JEQ_K: u16 = 0x15;
const BPF_JEQ_X: u16 = 0x1d;
const BPF_LD_W_LEN: u16 = 0x80;
const BPF_LD_IMM: u16 = 0x00;
const BPF_LDX_IMM: u16 = 0x01;
const BPF_LSH_K: u16 = 0x64;
const BPF_OR_X: u16 = 0x4c;
const BPF_TAX: u16 = 0x07;
/// SKF_AD_OFF + SKF_AD_NLATTR (linux/filter.h): A = the offset of the
/// first attribute of type X in the attributes from offset A to the end,
/// or 0 (the kernel's nla_find).
const SKF_AD_NLATTR: u32 = (libc::SKF_AD_OFF + libc::SKF_AD_NLATTR) as u32;
const BPF_RET_K: u16 = 0x06;
const BPF_ACCEPT: u32 = 0xffff_ffff;

/// BPF absolute loads read big-endian; netlink headers are host-endian.
fn host16(v: u16) -> u32 {
    u32::from(u16::from_be_bytes(v.to_ne_bytes()))
}
fn host32(v: u32) -> u32 {
    u32::from_be_bytes(v.to_ne_bytes())
}

fn attach_filter(fd: &impl AsRawFd, prog: &mut [libc::sock_filter]) -> io::Result<()> {
    let fprog = libc::sock_fprog {
        len: prog.len() as libc::c_ushort,
        filter: prog.as_mut_ptr(),
    };
    // The kernel copies the program it points at.
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)
}

/// Socket filter for an event socket: drop IPv6 route notifications of
/// `protocol` (offsets: nlmsg_type 4, rtm_family 16, rtm_protocol 21),
/// and with `via` Some(p) those of protocol `p` that carry a gateway
/// (RTA_GATEWAY); pass everything else.
///
/// The `via` test looks at a datagram holding one message only (its
/// nlmsg_len is the datagram's length), as a notification does: the
/// kernel's attribute search (SKF_AD_NLATTR, from the attributes after
/// the rtmsg to the datagram's end) must not wander into a next message.
/// Anything else is passed, as is a datagram the kernel cannot search
/// (a non-linear one: the search answers 0).
pub(crate) fn event_filter(fd: &impl AsRawFd, protocol: u8, via: Option<u8>) -> io::Result<()> {
    attach_filter(fd, &mut event_program(protocol, via))
}

/// Where a jump of [`event_program`] goes.
#[derive(Clone, Copy)]
enum To {
    Next,
    Accept,
    Drop,
}

fn event_program(protocol: u8, via: Option<u8>) -> Vec<libc::sock_filter> {
    // (code, jump if true, jump if false, k); jumps resolved at the end.
    let mut p: Vec<(u16, To, To, u32)> = Vec::new();
    let op = |p: &mut Vec<_>, code, k| p.push((code, To::Next, To::Next, k));
    op(&mut p, BPF_LD_H_ABS, 4);
    // NEWROUTE: skip the DELROUTE test.
    p.push((BPF_JEQ_K, To::Next, To::Next, host16(RTM_NEWROUTE)));
    let skip = p.len() - 1;
    p.push((BPF_JEQ_K, To::Next, To::Accept, host16(RTM_DELROUTE)));
    let family = p.len();
    op(&mut p, BPF_LD_B_ABS, 16);
    p.push((BPF_JEQ_K, To::Next, To::Accept, u32::from(AF_INET6)));
    op(&mut p, BPF_LD_B_ABS, 21);
    match via {
        None => p.push((BPF_JEQ_K, To::Drop, To::Accept, u32::from(protocol))),
        Some(v) => {
            p.push((BPF_JEQ_K, To::Drop, To::Next, u32::from(protocol)));
            p.push((BPF_JEQ_K, To::Next, To::Accept, u32::from(v)));
            // X = nlmsg_len (host order, from its bytes: BPF loads are
            // big-endian), A = the datagram's length.
            if cfg!(target_endian = "little") {
                for (i, at) in [3u32, 2, 1, 0].into_iter().enumerate() {
                    op(&mut p, BPF_LD_B_ABS, at);
                    if i > 0 {
                        op(&mut p, BPF_OR_X, 0);
                    }
                    if at > 0 {
                        op(&mut p, BPF_LSH_K, 8);
                        op(&mut p, BPF_TAX, 0);
                    }
                }
            } else {
                op(&mut p, BPF_LD_W_ABS, 0);
            }
            op(&mut p, BPF_TAX, 0);
            op(&mut p, BPF_LD_W_LEN, 0);
            p.push((BPF_JEQ_X, To::Next, To::Accept, 0));
            // A = offset of the first RTA_GATEWAY after the rtmsg, or 0.
            op(&mut p, BPF_LD_IMM, (wire::NLMSG_HDRLEN + RTMSG_LEN) as u32);
            op(&mut p, BPF_LDX_IMM, u32::from(RTA_GATEWAY));
            op(&mut p, BPF_LD_W_ABS, SKF_AD_NLATTR);
            p.push((BPF_JEQ_K, To::Accept, To::Drop, 0));
        }
    }
    let accept = p.len();
    let drop = accept + 1;
    let mut out: Vec<libc::sock_filter> = p
        .iter()
        .enumerate()
        .map(|(i, &(code, jt, jf, k))| {
            let off = |t: To| match t {
                To::Next => 0,
                To::Accept => (accept - i - 1) as u8,
                To::Drop => (drop - i - 1) as u8,
            };
            bpf(code, off(jt), off(jf), k)
        })
        .collect();
    // A NEWROUTE jumps over the DELROUTE test to the family's.
    out[skip].jt = (family - skip - 1) as u8;
    out.push(bpf(BPF_RET_K, 0, 0, BPF_ACCEPT));
    out.push(bpf(BPF_RET_K, 0, 0, 0));
    out
}

/// Socket filter for [`RouteListener`]: only IPv6 route notifications of
/// `protocol` not caused by port id `exclude`.
fn only_protocol_filter(fd: &impl AsRawFd, protocol: u8, exclude: u32) -> io::Result<()> {
    let mut prog = [
        bpf(BPF_LD_H_ABS, 0, 0, 4),
        bpf(BPF_JEQ_K, 1, 0, host16(RTM_NEWROUTE)),
        bpf(BPF_JEQ_K, 0, 7, host16(RTM_DELROUTE)),
        bpf(BPF_LD_B_ABS, 0, 0, 16),
        bpf(BPF_JEQ_K, 0, 5, u32::from(AF_INET6)),
        bpf(BPF_LD_B_ABS, 0, 0, 21),
        bpf(BPF_JEQ_K, 0, 3, u32::from(protocol)),
        bpf(BPF_LD_W_ABS, 0, 0, 12),
        bpf(BPF_JEQ_K, 1, 0, host32(exclude)),
        bpf(BPF_RET_K, 0, 0, BPF_ACCEPT),
        bpf(BPF_RET_K, 0, 0, 0),
    ];
    attach_filter(fd, &mut prog)
}

fn rtn_type(k: RouteKind) -> u8 {
    match k {
        RouteKind::Unicast | RouteKind::Other => 1,
        RouteKind::Blackhole => 6,
        RouteKind::Unreachable => 7,
        RouteKind::Prohibit => 8,
    }
}

/// Append one RTM_NEWROUTE (replace) or RTM_DELROUTE for `r`.
fn put_route(buf: &mut Vec<u8>, r: &RouteFact, add: bool, flags: u16, seq: u32) {
    let (kind, flags) = if add {
        (RTM_NEWROUTE, flags | NLM_F_CREATE | NLM_F_REPLACE)
    } else {
        (RTM_DELROUTE, flags)
    };
    put_route_msg(buf, r, kind, flags, seq);
}

/// Append one route request of type `kind` with nlmsg flags `flags`
/// (NLM_F_REQUEST added): rtmsg, RTA_DST, RTA_GATEWAY, RTA_OIF,
/// RTA_PRIORITY, RTA_TABLE, as `ip -6 route` sends them.
pub(crate) fn put_route_msg(buf: &mut Vec<u8>, r: &RouteFact, kind: u16, flags: u16, seq: u32) {
    let start = wire::begin(buf, kind, flags, seq);
    let table = if r.table == 0 { RT_TABLE_MAIN } else { r.table };
    buf.extend_from_slice(&[
        AF_INET6,
        r.dst.len(),
        0,
        0,
        u8::try_from(table).unwrap_or(0), // RT_TABLE_UNSPEC + RTA_TABLE
        r.protocol,
        0, // RT_SCOPE_UNIVERSE
        rtn_type(r.kind),
    ]);
    buf.extend_from_slice(&0u32.to_ne_bytes()); // rtm_flags
    wire::put_attr(buf, RTA_DST, &r.dst.addr().octets());
    if let Some(g) = r.gateway {
        wire::put_attr(buf, RTA_GATEWAY, &g.octets());
    }
    if let Some(o) = r.oif {
        wire::put_attr(buf, RTA_OIF, &o.to_ne_bytes());
    }
    wire::put_attr(buf, RTA_PRIORITY, &r.metric.to_ne_bytes());
    wire::put_attr(buf, RTA_TABLE, &table.to_ne_bytes());
    wire::finish(buf, start);
}

/// Flags of a single route request: add (NLM_F_CREATE plus NLM_F_REPLACE
/// or NLM_F_EXCL) or delete, acknowledged.
pub(crate) fn route_request_flags(add: bool, replace: bool) -> (u16, u16) {
    match (add, replace) {
        (true, true) => (RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE),
        (true, false) => (RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL),
        (false, _) => (RTM_DELROUTE, NLM_F_ACK),
    }
}

/// RTM_GETROUTE, dump of the IPv6 routes; `protocol` non-zero filters by
/// it when the socket has NETLINK_GET_STRICT_CHK.
pub(crate) fn put_route_dump(buf: &mut Vec<u8>, protocol: u8, seq: u32) {
    let start = wire::begin(buf, RTM_GETROUTE, NLM_F_DUMP, seq);
    buf.extend_from_slice(&[AF_INET6, 0, 0, 0, 0, protocol, 0, 0]);
    buf.extend_from_slice(&0u32.to_ne_bytes());
    wire::finish(buf, start);
}

/// A route message's payload as a RouteFact (None: not IPv6, or malformed).
/// Unlike [`crate::route_fact`] this keeps every table.
pub fn parse_route(p: &[u8]) -> Option<RouteFact> {
    if p.len() < RTMSG_LEN || p[0] != AF_INET6 {
        return None;
    }
    let mut dst = Ipv6Addr::UNSPECIFIED;
    let mut gateway = None;
    let mut oif = None;
    let mut metric = 0;
    let mut table = u32::from(p[4]);
    wire::walk_attrs(&p[RTMSG_LEN..], |t, data| {
        let v6 = || wire::array::<16>(data).map(Ipv6Addr::from);
        match t {
            RTA_DST => dst = v6()?,
            RTA_GATEWAY => gateway = Some(v6()?),
            RTA_OIF => oif = Some(wire::u32_attr(data)?),
            RTA_PRIORITY => metric = wire::u32_attr(data)?,
            RTA_TABLE => table = wire::u32_attr(data)?,
            _ => {}
        }
        Some(())
    })?;
    let kind = match p[7] {
        1 => RouteKind::Unicast,
        6 => RouteKind::Blackhole,
        7 => RouteKind::Unreachable,
        8 => RouteKind::Prohibit,
        _ => RouteKind::Other,
    };
    if p[1] > 128 {
        return None;
    }
    Some(RouteFact {
        dst: Ipv6Prefix::new(dst, p[1]),
        gateway,
        oif,
        protocol: p[5],
        metric,
        table,
        kind,
    })
}

/// A route message's payload as a fact of the kernel view: main table only
/// (local and multicast routes live in `local`, 255).
pub fn route_fact(p: &[u8]) -> Option<RouteFact> {
    parse_route(p).filter(|r| r.table == RT_TABLE_MAIN)
}

/// See the module documentation. Blocking: use it from a thread of its own.
pub struct RouteBatchSocket {
    fd: OwnedFd,
    portid: u32,
    seq: u32,
    buf: Vec<u8>,
    rbuf: Vec<u8>,
}

impl RouteBatchSocket {
    pub fn open() -> io::Result<Self> {
        let (fd, portid) = netlink_socket(0, false)?;
        // Error reports without a copy of the request; replies of a large
        // batch of failures must fit meanwhile.
        let _ = setsockopt(&fd, libc::SOL_NETLINK, NETLINK_CAP_ACK, &1);
        let _ = setsockopt(&fd, libc::SOL_NETLINK, NETLINK_GET_STRICT_CHK, &1);
        big_rcvbuf(&fd, 4 << 20);
        let tv = libc::timeval {
            tv_sec: REPLY_TIMEOUT.as_secs() as _, // time_t: i64 on glibc, deprecated alias on musl
            tv_usec: 0,
        };
        let _ = setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv);
        Ok(RouteBatchSocket {
            fd,
            portid,
            seq: 1,
            buf: Vec::with_capacity(CHUNK + 256),
            rbuf: vec![0; 256 * 1024],
        })
    }

    /// The kernel's port id of this socket (notifications of our requests
    /// carry it).
    pub fn portid(&self) -> u32 {
        self.portid
    }

    fn send_buf(&mut self) -> io::Result<()> {
        let mut off = 0;
        while off < self.buf.len() {
            // SAFETY: the slice is valid for its length.
            let n = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    self.buf[off..].as_ptr().cast(),
                    self.buf.len() - off,
                    0,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            // A netlink datagram is taken whole.
            off = self.buf.len();
        }
        self.buf.clear();
        Ok(())
    }

    /// Read replies; with `wait`, block until one arrives. Returns false
    /// when nothing was there (without `wait`).
    fn recv_some(&mut self, wait: bool, mut each: impl FnMut(Msg<'_>)) -> io::Result<bool> {
        let flags = if wait { 0 } else { libc::MSG_DONTWAIT };
        loop {
            // SAFETY: rbuf is valid for its length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.rbuf.as_mut_ptr().cast(),
                    self.rbuf.len(),
                    flags,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::Interrupted => continue,
                    io::ErrorKind::WouldBlock if !wait => return Ok(false),
                    _ => return Err(e),
                }
            }
            for m in messages(&self.rbuf[..n as usize]) {
                each(m);
            }
            return Ok(true);
        }
    }

    /// Remove `del`, then add or replace `add` (NLM_F_CREATE|NLM_F_REPLACE),
    /// in as few datagrams as fit. Returns the requests the kernel refused.
    pub fn apply(&mut self, del: &[RouteFact], add: &[RouteFact]) -> io::Result<Vec<Failed>> {
        let total = del.len() + add.len();
        let mut failed = Vec::new();
        if total == 0 {
            return Ok(failed);
        }
        let base = self.seq;
        self.seq = self.seq.wrapping_add(total as u32 + 1);
        let last = base.wrapping_add(total as u32 - 1);
        let mut done = false;
        let mut error: Option<io::Error> = None;
        let note = |m: Msg<'_>, failed: &mut Vec<Failed>, done: &mut bool| {
            if m.kind != NLMSG_ERROR {
                return;
            }
            let errno = wire::ack(&m).map_or(0, |(e, _)| e);
            let i = m.seq.wrapping_sub(base) as usize;
            if errno != 0 && i < total {
                let (route, add) = if i < del.len() {
                    (del[i].clone(), false)
                } else {
                    (add[i - del.len()].clone(), true)
                };
                failed.push(Failed { route, add, errno });
            }
            if m.seq == last {
                *done = true;
            }
        };
        let all = del
            .iter()
            .map(|r| (r, false))
            .chain(add.iter().map(|r| (r, true)));
        for (i, (r, is_add)) in all.enumerate() {
            let seq = base.wrapping_add(i as u32);
            let flags = if seq == last { NLM_F_ACK } else { 0 };
            put_route(&mut self.buf, r, is_add, flags, seq);
            if self.buf.len() >= CHUNK || seq == last {
                if let Err(e) = self.send_buf() {
                    self.buf.clear();
                    error = Some(e);
                    break;
                }
                // Keep the receive queue short: error reports of a
                // batch of failures must not overflow it.
                while self.recv_some(false, |m| note(m, &mut failed, &mut done))? {}
            }
        }
        if let Some(e) = error {
            return Err(e);
        }
        while !done {
            self.recv_some(true, |m| note(m, &mut failed, &mut done))?;
        }
        Ok(failed)
    }

    /// The IPv6 routes of `protocol` in the main table, as they are now.
    pub fn dump_protocol(&mut self, protocol: u8) -> io::Result<Vec<RouteFact>> {
        // With NETLINK_GET_STRICT_CHK the kernel filters by protocol itself.
        self.dump_main(protocol, |p| p == protocol)
    }

    /// The IPv6 routes of the main table except those of `protocol`. Those
    /// are skipped by their header byte, before any parsing: 50,000 rip
    /// routes cost the kernel's walk, not 50,000 decodes.
    pub fn dump_except(&mut self, protocol: u8) -> io::Result<Vec<RouteFact>> {
        self.dump_main(0, |p| p != protocol)
    }

    fn dump_main(&mut self, filter: u8, keep: impl Fn(u8) -> bool) -> io::Result<Vec<RouteFact>> {
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        self.buf.clear();
        put_route_dump(&mut self.buf, filter, seq);
        self.send_buf()?;
        let mut out = Vec::new();
        let mut done = false;
        let mut err = 0;
        while !done {
            self.recv_some(true, |m| {
                if m.seq != seq {
                    return;
                }
                match m.kind {
                    NLMSG_DONE => done = true,
                    NLMSG_ERROR => {
                        err = wire::ack(&m).map_or(libc::EBADMSG, |(e, _)| e);
                        done = true;
                    }
                    RTM_NEWROUTE if m.payload.get(5).is_some_and(|p| keep(*p)) => {
                        if let Some(r) = parse_route(m.payload) {
                            if r.table == RT_TABLE_MAIN {
                                out.push(r);
                            }
                        }
                    }
                    _ => {}
                }
            })?;
        }
        if err != 0 {
            return Err(io::Error::from_raw_os_error(err));
        }
        Ok(out)
    }
}

/// See the module documentation.
pub struct RouteListener {
    fd: AsyncFd<OwnedFd>,
    buf: Vec<u8>,
}

impl RouteListener {
    /// Follow IPv6 routes of `protocol` changed by anyone but the socket
    /// with port id `exclude`. Needs a tokio runtime.
    pub fn open(protocol: u8, exclude: u32) -> io::Result<Self> {
        let (fd, _) = netlink_socket(libc::RTMGRP_IPV6_ROUTE as u32, true)?;
        only_protocol_filter(&fd, protocol, exclude)?;
        big_rcvbuf(&fd, 1 << 20);
        Ok(RouteListener {
            fd: crate::conn::async_fd(fd)?,
            buf: vec![0; 64 * 1024],
        })
    }

    /// The next changes. An error of kind `OutOfMemory`-like ENOBUFS means
    /// notifications were lost: dump again.
    pub async fn recv(&mut self) -> io::Result<Vec<RouteChange>> {
        loop {
            let n = crate::conn::recv(&self.fd, &mut self.buf).await?;
            if n > self.buf.len() {
                // Cut short: what it held is lost, as at an overrun.
                return Err(io::Error::from_raw_os_error(libc::ENOBUFS));
            }
            let out: Vec<RouteChange> = messages(&self.buf[..n])
                .filter_map(|m| {
                    let r = parse_route(m.payload)?;
                    match m.kind {
                        RTM_NEWROUTE => Some(RouteChange::New(r)),
                        RTM_DELROUTE => Some(RouteChange::Del(r)),
                        _ => None,
                    }
                })
                .collect();
            if !out.is_empty() {
                return Ok(out);
            }
        }
    }
}

/// True for the error a netlink socket reports after it dropped messages.
pub fn is_overrun(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENOBUFS)
}

#[cfg(test)]
mod tests;
