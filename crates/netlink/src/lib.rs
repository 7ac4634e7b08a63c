//! The kernel side of v6routerd: dumps of links, addresses and routes, the
//! stream of RTM_NEW*/RTM_DEL* events, and requests (routes, addresses,
//! links, sysctls), over rtnetlink.
//!
//! This crate knows no protocol's rules: it translates between netlink
//! messages and the plain facts of `v6common::kernel`.
//!
//! Layout: `wire` is the netlink framing (message and attribute walkers,
//! the attribute emitter, the ack reader); `link`, `addr`, `neigh` and
//! `routes` are the codecs of one rtnetlink family each (pure: bytes in,
//! facts out, and requests out); `conn` is the tokio glue. Only the
//! attributes a fact holds are read; the rest are skipped by length.

mod addr;
mod conn;
mod link;
mod neigh;
pub mod routes;
pub mod sit;
pub mod sysctl;
mod wire;

pub use addr::{addr4_fact, addr_fact};
pub use link::{link_fact, sit_fact};
pub use neigh::neighbour;
pub use routes::route_fact;

use conn::Conn;
use link::LinkChange;
use std::fmt;
use std::io;
use std::net::Ipv6Addr;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use tokio::io::unix::AsyncFd;
use tokio::sync::{mpsc, Mutex, Notify};
use v6common::kernel::rtprot;
use v6common::{KernelEvent, KernelView, RouteFact};

/// A request the kernel refused (its errno and, when it said, its text) or
/// that could not be made (a socket error); `what` says what was asked.
#[derive(Debug)]
pub struct Error {
    what: String,
    /// The kernel's answer: errno and the extended ack's text.
    errno: Option<(i32, Option<String>)>,
    io: io::Error,
}

impl Error {
    pub(crate) fn kernel(what: String, errno: i32, text: Option<String>) -> Self {
        Error {
            what,
            errno: Some((errno, text)),
            io: io::Error::from_raw_os_error(errno),
        }
    }

    pub(crate) fn io(what: String, io: io::Error) -> Self {
        Error {
            what,
            errno: None,
            io,
        }
    }

    /// The errno of the kernel's answer (None: no answer, a socket error).
    pub fn errno(&self) -> Option<i32> {
        self.errno.as_ref().map(|(e, _)| *e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.io)?;
        if let Some((_, Some(text))) = &self.errno {
            write!(f, " ({text})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Our netlink connection: requests go out on one socket, events arrive on
/// the receiver returned by [`open`].
#[derive(Clone)]
pub struct Kernel {
    conn: Arc<Mutex<Conn>>,
    overrun: Arc<Notify>,
    /// The event socket (a duplicate descriptor), for its filter.
    events: Arc<OwnedFd>,
}

/// linux/rtnetlink.h: RTMGRP_* (the legacy group bits of sockaddr_nl).
const RTMGRP_LINK: u32 = 0x1;
const RTMGRP_IPV4_IFADDR: u32 = 0x10;
const RTMGRP_IPV6_IFADDR: u32 = 0x100;
const RTMGRP_IPV6_ROUTE: u32 = 0x400;

/// Open a connection subscribed to link, IPv4/IPv6 address and IPv6 route
/// events. Events that arrive while [`Kernel::dump`] runs are delivered
/// too; applying them after the dump is idempotent. Needs a tokio runtime.
pub fn open() -> io::Result<(Kernel, mpsc::UnboundedReceiver<KernelEvent>)> {
    // Two sockets: the kernel never sends a change's notification back to the
    // socket that asked for it (nlmsg_notify excludes the requester's port),
    // so requests go out on one socket and the other only listens. This
    // way our own routes and addresses show up in the kernel view like
    // everyone else's.
    let groups = RTMGRP_LINK
        // IPv4 addresses: a tunnel's `local = "auto"` follows its WAN's.
        | RTMGRP_IPV4_IFADDR
        | RTMGRP_IPV6_IFADDR
        | RTMGRP_IPV6_ROUTE;
    let (sock, _) = routes::netlink_socket(groups, true)?;
    // A burst of route events (a RIPng table of 10,000 routes) must not
    // overflow the socket: ask for a large receive buffer (SO_RCVBUFFORCE
    // with CAP_NET_ADMIN, else up to rmem_max).
    routes::big_rcvbuf(&sock, 8 * 1024 * 1024);
    // Routes of protocol rip are the RIPng service's, which follows them on
    // a socket of its own (routes.rs): tens of thousands of them in the
    // shared view would cost every service a copy. The kernel drops their
    // notifications here, before we parse them.
    if let Err(e) = routes::event_filter(&sock, rtprot::RIP, None) {
        tracing::warn!(
            "netlink: no socket filter for rip routes ({e}); they are dropped after parsing"
        );
    }
    let events = Arc::new(sock.try_clone()?);
    let sock = conn::async_fd(sock)?;
    let conn = Conn::open()?;
    let (tx, rx) = mpsc::unbounded_channel();
    let overrun = Arc::new(Notify::new());
    tokio::spawn(listen(sock, tx, overrun.clone()));
    Ok((
        Kernel {
            conn: Arc::new(Mutex::new(conn)),
            overrun,
            events,
        },
        rx,
    ))
}

/// The event socket's loop: datagrams to events, until the receiver goes.
async fn listen(sock: AsyncFd<OwnedFd>, tx: mpsc::UnboundedSender<KernelEvent>, lost: Arc<Notify>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match conn::recv(&sock, &mut buf).await {
            Ok(n) => n,
            // The socket's buffer overflowed (ENOBUFS, netlink(7)):
            // notifications were dropped, the view must be dumped again.
            Err(e) if routes::is_overrun(&e) => {
                lost.notify_one();
                continue;
            }
            Err(e) => {
                tracing::warn!("netlink: reading events failed: {e}");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        if n > buf.len() {
            // Cut short: whatever it held is lost, as with an overrun.
            tracing::warn!("netlink: an event datagram of {n} bytes was cut; reading again");
            lost.notify_one();
        }
        let mut it = wire::messages(&buf[..n.min(buf.len())]);
        for m in &mut it {
            match event(m.kind, m.payload) {
                Some(ev) if is_rip_route(&ev) => {}
                Some(ev) => {
                    let Ok(()) = tx.send(ev) else { return };
                }
                // Every link and address message the kernel sends reads;
                // one that does not is malformed (a route may just be of
                // another table).
                None if is_link_or_addr(m.kind) => tracing::debug!(
                    "netlink: unreadable message of type {} ({} bytes) dropped",
                    m.kind,
                    m.payload.len()
                ),
                None => {}
            }
        }
        if it.rest() != 0 && n <= buf.len() {
            tracing::debug!(
                "netlink: malformed event datagram, {} bytes dropped",
                it.rest()
            );
        }
    }
}

fn is_link_or_addr(kind: u16) -> bool {
    matches!(
        kind,
        wire::RTM_NEWLINK | wire::RTM_DELLINK | wire::RTM_NEWADDR | wire::RTM_DELADDR
    )
}

/// Routes of protocol rip are left out of the shared view (see [`open`]).
fn is_rip_route(ev: &KernelEvent) -> bool {
    matches!(ev, KernelEvent::NewRoute(r) | KernelEvent::DelRoute(r) if r.protocol == rtprot::RIP)
}

/// Translate one rtnetlink message (its nlmsg_type and payload) into an
/// event of ours (None: not something we follow: another table, a nameless
/// link, a malformed message).
pub fn event(kind: u16, p: &[u8]) -> Option<KernelEvent> {
    match kind {
        wire::RTM_NEWLINK => link_fact(p).map(KernelEvent::NewLink),
        wire::RTM_DELLINK => link::header(p).map(|h| KernelEvent::DelLink(h.index)),
        wire::RTM_NEWADDR => addr_fact(p)
            .map(KernelEvent::NewAddr)
            .or_else(|| addr4_fact(p).map(KernelEvent::NewAddr4)),
        wire::RTM_DELADDR => match addr_fact(p) {
            Some(f) => Some(KernelEvent::DelAddr {
                index: f.index,
                addr: f.addr,
            }),
            None => addr4_fact(p).map(|f| KernelEvent::DelAddr4 {
                index: f.index,
                addr: f.addr,
            }),
        },
        wire::RTM_NEWROUTE => route_fact(p).map(KernelEvent::NewRoute),
        wire::RTM_DELROUTE => route_fact(p).map(KernelEvent::DelRoute),
        _ => None,
    }
}

impl Kernel {
    /// Returns when the event socket has overflowed since the last call
    /// (events were lost: dump again). Netlink either delivers every
    /// notification or reports ENOBUFS, so with this a periodic dump is
    /// only a safety net.
    pub async fn overrun(&self) {
        self.overrun.notified().await
    }

    /// With `Some(protocol)`, the kernel drops the notifications of IPv6
    /// routes of `protocol` that carry a gateway before they reach the
    /// event socket (routes of rip stay dropped); `None` passes them again.
    /// For routes a caller leaves out of its view anyway: the DHCPv6
    /// server's delegated prefixes, one route per requesting router, were
    /// a receive, a parse and a wake-up each, 4,000 a second under load.
    /// On error the filter is as it was.
    pub fn drop_routes_via(&self, protocol: Option<u8>) -> io::Result<()> {
        routes::event_filter(&*self.events, rtprot::RIP, protocol)
    }

    /// One acknowledged request.
    async fn request(
        &self,
        what: impl FnOnce() -> String,
        build: impl FnOnce(&mut Vec<u8>, u32),
    ) -> Result<(), Error> {
        self.conn.lock().await.request(what, build).await
    }

    /// A dump: `each` gets every answer's type and payload.
    async fn dump_raw(
        &self,
        what: &str,
        build: impl FnOnce(&mut Vec<u8>, u32),
        each: impl FnMut(u16, &[u8]),
    ) -> Result<(), Error> {
        self.conn.lock().await.dump(what, build, each).await
    }

    /// The Ethernet MACs the kernel's neighbour cache holds for IPv6
    /// neighbours on interface `ifindex`: one dump of the IPv6 neighbour
    /// table (the DHCPv6 server rate-limits how often it asks).
    pub async fn neighbour_macs(&self, ifindex: u32) -> Vec<(Ipv6Addr, [u8; 6])> {
        let mut out = Vec::new();
        let r = self
            .dump_raw("dump the IPv6 neighbours", neigh::put_dump, |k, p| {
                if k != wire::RTM_NEWNEIGH {
                    return;
                }
                match neighbour(p) {
                    Some((i, a, m)) if i == ifindex => out.push((a, m)),
                    _ => {}
                }
            })
            .await;
        if let Err(e) = r {
            tracing::debug!("netlink: {e}");
        }
        out
    }

    /// Every link (`ip -d link show`).
    pub async fn links(&self) -> Result<Vec<v6common::LinkFact>, Error> {
        let mut out = Vec::new();
        self.dump_raw("dump the links", link::put_dump, |k, p| {
            if k == wire::RTM_NEWLINK {
                out.extend(link_fact(p));
            }
        })
        .await?;
        Ok(out)
    }

    /// Everything we follow, as it is now (routes of protocol rip aside:
    /// see [`open`]).
    pub async fn dump(&self) -> Result<KernelView, Error> {
        let mut view = KernelView::default();
        for l in self.links().await? {
            view.links.insert(l.index, l);
        }
        self.dump_raw("dump the addresses", addr::put_dump, |k, p| {
            if k != wire::RTM_NEWADDR {
                return;
            }
            if let Some(f) = addr_fact(p) {
                view.upsert_addr(f);
            } else if let Some(f) = addr4_fact(p) {
                view.upsert_addr4(f);
            }
        })
        .await?;
        // Routes by a plain socket on a thread of its own: a table of 50,000
        // rip routes (which the view leaves out) is skipped by a header
        // byte instead of decoded, and does not hold up the runtime. Not the
        // blocking pool: the first dump runs before v6routerd drops its
        // capabilities (privs.rs), capabilities are per thread, and a pool
        // thread made then would stay with all of them. This one ends here.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let raw = std::thread::Builder::new()
            .name("route-dump".into())
            .spawn(move || {
                let r =
                    routes::RouteBatchSocket::open().and_then(|mut s| s.dump_except(rtprot::RIP));
                let _ = tx.send(r);
            });
        let raw = match raw {
            Ok(_) => rx.await.map_err(io::Error::other).and_then(|r| r),
            Err(e) => Err(e),
        };
        match raw {
            Ok(rs) => rs.into_iter().for_each(|r| view.upsert_route(r)),
            Err(e) => {
                tracing::debug!(
                    "netlink: plain route dump failed ({e}); dumping on the shared socket"
                );
                let build = |b: &mut Vec<u8>, seq| routes::put_route_dump(b, 0, seq);
                self.dump_raw("dump the IPv6 routes", build, |k, p| {
                    if k != wire::RTM_NEWROUTE {
                        return;
                    }
                    if let Some(f) = route_fact(p).filter(|f| f.protocol != rtprot::RIP) {
                        view.upsert_route(f);
                    }
                })
                .await?;
            }
        }
        view.forwarding = sysctl::forwarding().unwrap_or(false);
        Ok(view)
    }

    /// Add (or with `replace`, add or change) one route.
    pub async fn add_route(&self, r: &RouteFact, replace: bool) -> Result<(), Error> {
        let (kind, flags) = routes::route_request_flags(true, replace);
        self.request(
            || format!("add route {} (protocol {})", r.dst, r.protocol),
            |b, seq| routes::put_route_msg(b, r, kind, flags, seq),
        )
        .await
    }

    pub async fn del_route(&self, r: &RouteFact) -> Result<(), Error> {
        let (kind, flags) = routes::route_request_flags(false, false);
        self.request(
            || format!("remove route {} (protocol {})", r.dst, r.protocol),
            |b, seq| routes::put_route_msg(b, r, kind, flags, seq),
        )
        .await
    }

    /// Replace many routes and delete others, many requests to a datagram
    /// (10,000 routes must not cost 10,000 round trips). Returns the
    /// routes that failed with their error.
    pub async fn sync_routes(
        &self,
        add: &[RouteFact],
        del: &[RouteFact],
    ) -> Vec<(RouteFact, Error)> {
        // Removals first, as RouteBatchSocket::apply: a route in both
        // lists ends installed.
        let pick = |i: usize| {
            if i < del.len() {
                (&del[i], false)
            } else {
                (&add[i - del.len()], true)
            }
        };
        let what = |r: &RouteFact, is_add: bool| {
            let verb = if is_add { "replace" } else { "remove" };
            format!("{verb} route {} (protocol {})", r.dst, r.protocol)
        };
        let n = add.len() + del.len();
        let (failed, broken) = self
            .conn
            .lock()
            .await
            .batch(n, |b, i, seq| {
                let (r, is_add) = pick(i);
                let (kind, flags) = routes::route_request_flags(is_add, true);
                routes::put_route_msg(b, r, kind, flags & !wire::NLM_F_ACK, seq);
            })
            .await;
        let mut out: Vec<(RouteFact, Error)> = failed
            .into_iter()
            .map(|(i, errno, text)| {
                let (r, is_add) = pick(i);
                (r.clone(), Error::kernel(what(r, is_add), errno, text))
            })
            .collect();
        // No answers from `from` on (a socket error): those count as failed.
        if let Some((from, e)) = broken {
            out.extend((from..n).map(|i| {
                let (r, is_add) = pick(i);
                let io = io::Error::new(e.kind(), e.to_string());
                (r.clone(), Error::io(what(r, is_add), io))
            }));
        }
        out
    }

    /// Add or update an address with lifetimes (seconds; u32::MAX = forever),
    /// like `ip -6 addr replace A/L dev X valid_lft V preferred_lft P`.
    pub async fn set_address(
        &self,
        index: u32,
        addr: Ipv6Addr,
        prefix_len: u8,
        preferred: u32,
        valid: u32,
    ) -> Result<(), Error> {
        self.request(
            || format!("set address {addr}/{prefix_len} on link {index}"),
            |b, seq| addr::put_set(b, index, addr, prefix_len, preferred, valid, seq),
        )
        .await
    }

    pub async fn del_address(
        &self,
        index: u32,
        addr: Ipv6Addr,
        prefix_len: u8,
    ) -> Result<(), Error> {
        self.request(
            || format!("remove address {addr}/{prefix_len} from link {index}"),
            |b, seq| addr::put_del(b, index, addr, prefix_len, seq),
        )
        .await
    }

    pub async fn set_link_up(&self, index: u32) -> Result<(), Error> {
        self.set_link(index, LinkChange::Up).await
    }

    /// `ip link set mtu`.
    pub async fn set_mtu(&self, index: u32, mtu: u32) -> Result<(), Error> {
        self.set_link(index, LinkChange::Mtu(mtu)).await
    }

    /// `ip link set alias` (IFLA_IFALIAS), the owner tag that survives
    /// restarts.
    pub async fn set_alias(&self, index: u32, alias: &str) -> Result<(), Error> {
        self.set_link(index, LinkChange::Alias(alias)).await
    }

    async fn set_link(&self, index: u32, c: LinkChange<'_>) -> Result<(), Error> {
        self.request(
            || match c {
                LinkChange::Up => format!("set link {index} up"),
                LinkChange::Mtu(m) => format!("set mtu {m} on link {index}"),
                LinkChange::Alias(a) => format!("set alias {a:?} on link {index}"),
            },
            |b, seq| link::put_set(b, index, c, seq),
        )
        .await
    }

    pub async fn del_link(&self, index: u32) -> Result<(), Error> {
        self.request(
            || format!("delete link {index}"),
            |b, seq| link::put_del(b, index, seq),
        )
        .await
    }
}

/// True for IFF_UP in a link's flags (ifinfomsg.ifi_flags).
pub fn is_up(flags: u32) -> bool {
    flags & link::IFF_UP != 0
}

#[cfg(test)]
mod live_tests;
