//! The kernel side of v6routerd: dumps of links, IPv6 addresses and routes,
//! the stream of RTM_NEW*/RTM_DEL* events, and requests (routes, addresses,
//! links, sysctls), over rtnetlink.
//!
//! This crate knows no protocol's rules: it translates between netlink
//! messages and the plain facts of `v6common::kernel`.

mod convert;
pub mod routes;
pub mod sit;
pub mod sysctl;

pub use convert::{addr4_fact, addr_fact, link_fact, route_fact, sit_fact};

use futures::stream::{StreamExt, TryStreamExt};
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::address::{AddressAttribute, CacheInfo};
use netlink_packet_route::link::LinkFlags;
use netlink_packet_route::route::{RouteProtocol, RouteType};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::AsyncSocket;
use rtnetlink::{MulticastGroup, RouteMessageBuilder};
use std::net::{IpAddr, Ipv6Addr};
use tokio::sync::mpsc;
use v6common::kernel::rtprot;
use v6common::{KernelEvent, KernelView, RouteFact, RouteKind};

pub use rtnetlink::Error;
pub use rtnetlink::Handle;

/// Our netlink connection: requests go through `handle`, events arrive on the
/// receiver returned by [`open`].
#[derive(Clone)]
pub struct Kernel {
    handle: Handle,
    overrun: std::sync::Arc<tokio::sync::Notify>,
}

/// Open a connection subscribed to link, IPv6 address and IPv6 route events.
/// Events that arrive while [`Kernel::dump`] runs are delivered too; applying
/// them after the dump is idempotent.
pub fn open() -> std::io::Result<(Kernel, mpsc::UnboundedReceiver<KernelEvent>)> {
    // Two sockets: the kernel never sends a change's notification back to the
    // socket that asked for it (nlmsg_notify excludes the requester's port),
    // so requests go out on one connection and the other only listens. This
    // way our own routes and addresses show up in the kernel view like
    // everyone else's.
    let (mut conn, _listen_handle, mut messages) = rtnetlink::new_multicast_connection(&[
        MulticastGroup::Link,
        // IPv4 addresses: a tunnel's `local = "auto"` follows its WAN's.
        MulticastGroup::Ipv4Ifaddr,
        MulticastGroup::Ipv6Ifaddr,
        MulticastGroup::Ipv6Route,
    ])?;
    let (req_conn, handle, _) = rtnetlink::new_connection()?;
    tokio::spawn(req_conn);
    // A burst of route events (a RIPng table of 10,000 routes) must not
    // overflow the socket: ask for a large receive buffer (needs CAP_NET_ADMIN
    // for more than rmem_max; the plain request is still honoured up to it).
    let sock = conn.socket_mut().socket_mut();
    let _ = sock.set_rx_buf_sz(8 * 1024 * 1024);
    // Routes of protocol rip are the RIPng service's, which follows them on
    // a socket of its own (routes.rs): tens of thousands of them in the
    // shared view would cost every service a copy. The kernel drops their
    // notifications here, before we parse them.
    if let Err(e) = routes::drop_protocol_filter(sock, rtprot::RIP) {
        tracing::warn!(
            "netlink: no socket filter for rip routes ({e}); they are dropped after parsing"
        );
    }
    tokio::spawn(conn);
    let (tx, rx) = mpsc::unbounded_channel();
    let overrun = std::sync::Arc::new(tokio::sync::Notify::new());
    let lost = overrun.clone();
    tokio::spawn(async move {
        while let Some((msg, _)) = messages.next().await {
            match msg.payload {
                NetlinkPayload::InnerMessage(m) => {
                    if let Some(ev) = event(m).filter(|ev| !is_rip_route(ev)) {
                        if tx.send(ev).is_err() {
                            break;
                        }
                    }
                }
                // The socket's buffer overflowed (ENOBUFS, netlink(7)):
                // notifications were dropped, the view must be dumped again.
                NetlinkPayload::Overrun(_) => lost.notify_one(),
                _ => {}
            }
        }
    });
    Ok((Kernel { handle, overrun }, rx))
}

/// Routes of protocol rip are left out of the shared view (see [`open`]).
fn is_rip_route(ev: &KernelEvent) -> bool {
    matches!(ev, KernelEvent::NewRoute(r) | KernelEvent::DelRoute(r) if r.protocol == rtprot::RIP)
}

/// Translate one rtnetlink message into an event of ours (None: not IPv6, not
/// the main table, or not something we follow).
pub fn event(m: RouteNetlinkMessage) -> Option<KernelEvent> {
    match m {
        RouteNetlinkMessage::NewLink(l) => link_fact(&l).map(KernelEvent::NewLink),
        RouteNetlinkMessage::DelLink(l) => Some(KernelEvent::DelLink(l.header.index)),
        RouteNetlinkMessage::NewAddress(a) => addr_fact(&a)
            .map(KernelEvent::NewAddr)
            .or_else(|| addr4_fact(&a).map(KernelEvent::NewAddr4)),
        RouteNetlinkMessage::DelAddress(a) => match addr_fact(&a) {
            Some(f) => Some(KernelEvent::DelAddr {
                index: f.index,
                addr: f.addr,
            }),
            None => addr4_fact(&a).map(|f| KernelEvent::DelAddr4 {
                index: f.index,
                addr: f.addr,
            }),
        },
        RouteNetlinkMessage::NewRoute(r) => route_fact(&r).map(KernelEvent::NewRoute),
        RouteNetlinkMessage::DelRoute(r) => route_fact(&r).map(KernelEvent::DelRoute),
        _ => None,
    }
}

fn route_type(k: RouteKind) -> RouteType {
    match k {
        RouteKind::Unicast | RouteKind::Other => RouteType::Unicast,
        RouteKind::Unreachable => RouteType::Unreachable,
        RouteKind::Blackhole => RouteType::BlackHole,
        RouteKind::Prohibit => RouteType::Prohibit,
    }
}

fn route_message(r: &RouteFact) -> netlink_packet_route::route::RouteMessage {
    let mut b = RouteMessageBuilder::<Ipv6Addr>::new()
        .destination_prefix(r.dst.addr(), r.dst.len())
        .protocol(RouteProtocol::from(r.protocol))
        .kind(route_type(r.kind))
        .table_id(if r.table == 0 {
            v6common::kernel::RT_TABLE_MAIN
        } else {
            r.table
        })
        .priority(r.metric);
    if let Some(g) = r.gateway {
        b = b.gateway(g);
    }
    if let Some(o) = r.oif {
        b = b.output_interface(o);
    }
    b.build()
}

impl Kernel {
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Returns when the event socket has overflowed since the last call
    /// (events were lost: dump again). Netlink either delivers every
    /// notification or reports ENOBUFS, so with this a periodic dump is
    /// only a safety net.
    pub async fn overrun(&self) {
        self.overrun.notified().await
    }

    /// The Ethernet MACs the kernel's neighbour cache holds for IPv6
    /// neighbours on interface `ifindex`: one dump of the IPv6 neighbour
    /// table (the DHCPv6 server rate-limits how often it asks).
    pub async fn neighbour_macs(&self, ifindex: u32) -> Vec<(Ipv6Addr, [u8; 6])> {
        use netlink_packet_route::neighbour::{NeighbourAddress, NeighbourAttribute};
        let mut dump = self
            .handle
            .neighbours()
            .get()
            .set_address_family(AddressFamily::Inet6)
            .execute();
        let mut out = Vec::new();
        while let Ok(Some(n)) = dump.try_next().await {
            if n.header.ifindex != ifindex {
                continue;
            }
            let addr = n.attributes.iter().find_map(|a| match a {
                NeighbourAttribute::Destination(NeighbourAddress::Inet6(d)) => Some(*d),
                _ => None,
            });
            let mac = n.attributes.iter().find_map(|a| match a {
                NeighbourAttribute::LinkLayerAddress(l) => <[u8; 6]>::try_from(l.as_slice()).ok(),
                _ => None,
            });
            if let (Some(addr), Some(mac)) = (addr, mac) {
                out.push((addr, mac));
            }
        }
        out
    }

    /// Everything we follow, as it is now (routes of protocol rip aside:
    /// see [`open`]).
    pub async fn dump(&self) -> Result<KernelView, Error> {
        let mut view = KernelView::default();
        let mut links = self.handle.link().get().execute();
        while let Some(l) = links.try_next().await? {
            if let Some(f) = link_fact(&l) {
                view.links.insert(f.index, f);
            }
        }
        let mut addrs = self.handle.address().get().execute();
        while let Some(a) = addrs.try_next().await? {
            if let Some(f) = addr_fact(&a) {
                view.upsert_addr(f);
            } else if let Some(f) = addr4_fact(&a) {
                view.upsert_addr4(f);
            }
        }
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
            Ok(_) => rx.await.map_err(std::io::Error::other).and_then(|r| r),
            Err(e) => Err(e),
        };
        match raw {
            Ok(rs) => rs.into_iter().for_each(|r| view.upsert_route(r)),
            Err(e) => {
                tracing::debug!("netlink: plain route dump failed ({e}); using rtnetlink");
                let filter = RouteMessageBuilder::<Ipv6Addr>::new().build();
                let mut routes = self.handle.route().get(filter).execute();
                while let Some(r) = routes.try_next().await? {
                    if let Some(f) = route_fact(&r).filter(|f| f.protocol != rtprot::RIP) {
                        view.upsert_route(f);
                    }
                }
            }
        }
        view.forwarding = sysctl::forwarding().unwrap_or(false);
        Ok(view)
    }

    /// Add (or with `replace`, add or change) one route.
    pub async fn add_route(&self, r: &RouteFact, replace: bool) -> Result<(), Error> {
        let req = self.handle.route().add(route_message(r));
        if replace {
            req.replace().execute().await
        } else {
            req.execute().await
        }
    }

    pub async fn del_route(&self, r: &RouteFact) -> Result<(), Error> {
        self.handle.route().del(route_message(r)).execute().await
    }

    /// Replace many routes and delete others, with up to 256 requests in flight
    /// at once (10,000 routes must not cost 10,000 round trips). Returns the
    /// routes that failed with their error.
    pub async fn sync_routes(
        &self,
        add: &[RouteFact],
        del: &[RouteFact],
    ) -> Vec<(RouteFact, Error)> {
        let adds = futures::stream::iter(add.iter().cloned())
            .map(|r| async move {
                let res = self.add_route(&r, true).await;
                (r, res)
            })
            .buffer_unordered(256);
        let dels = futures::stream::iter(del.iter().cloned())
            .map(|r| async move {
                let res = self.del_route(&r).await;
                (r, res)
            })
            .buffer_unordered(256);
        let mut failed = Vec::new();
        let mut s = futures::stream::select(adds, dels);
        while let Some((r, res)) = s.next().await {
            if let Err(e) = res {
                failed.push((r, e));
            }
        }
        failed
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
        let mut req = self
            .handle
            .address()
            .add(index, IpAddr::V6(addr), prefix_len)
            .replace();
        if preferred != u32::MAX || valid != u32::MAX {
            let mut ci = CacheInfo::default();
            ci.ifa_preferred = preferred;
            ci.ifa_valid = valid;
            req.message_mut()
                .attributes
                .push(AddressAttribute::CacheInfo(ci));
        }
        req.execute().await
    }

    pub async fn del_address(
        &self,
        index: u32,
        addr: Ipv6Addr,
        prefix_len: u8,
    ) -> Result<(), Error> {
        let mut msg = netlink_packet_route::address::AddressMessage::default();
        msg.header.family = AddressFamily::Inet6;
        msg.header.index = index;
        msg.header.prefix_len = prefix_len;
        msg.attributes
            .push(AddressAttribute::Address(IpAddr::V6(addr)));
        self.handle.address().del(msg).execute().await
    }

    pub async fn set_link_up(&self, index: u32) -> Result<(), Error> {
        let msg = rtnetlink::LinkUnspec::new_with_index(index).up().build();
        self.handle.link().set(msg).execute().await
    }

    pub async fn del_link(&self, index: u32) -> Result<(), Error> {
        self.handle.link().del(index).execute().await
    }
}

/// True for IFF_UP.
pub fn is_up(flags: LinkFlags) -> bool {
    flags.contains(LinkFlags::Up)
}
