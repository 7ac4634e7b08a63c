//! Relay mode's DHCPv6 relay agent (RFC 8415 §19.1), run by the RA
//! service beside the RA relay and the ND proxy, for the same (first)
//! relaying LAN: the pure `v6dhcp::relay_agent` and its two sockets.
//!
//! - The LAN socket, UDP 547 bound to the LAN (SO_BINDTODEVICE), joined to
//!   ff02::1:2, hears clients and cascaded relays; answers go out of it.
//! - The WAN socket, UDP 547 bound to the WAN and joined to nothing, sends
//!   Relay-forwards to All_DHCP_Relay_Agents_and_Servers (§7.1) from our
//!   link-local, or to the configured `dhcpv6_servers` (§19.1.1), and
//!   hears the servers' Relay-replies, which come back to the address we
//!   sent from, port 547 (§19.3). Being bound to its device, it gets
//!   them rather than the server's [::]:547 (dhcpv6/mod.rs), which does
//!   not serve a relaying LAN (dhcpv6/links.rs).
//! - Routes for prefixes delegated to LAN routers go the server's one way
//!   to the kernel (`PdRoutes`): batched, refused ones retried.

use crate::dhcpv6::routes::PdRoutes;
use crate::kernel_side::{Announce, RouteEvent};
use crate::service::{first, when_some, Either};
use std::io;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::Instant;
use tracing::{debug, info, warn};
use v6common::{Ipv6Prefix, KernelView};
use v6dhcp::io::{send_many_blocking, Outgoing, RecvMeta, ServerSocket};
use v6dhcp::relay_agent::{Action, FromLan, Lan, RelayAgent, RelayStats};
use v6dhcp::wire::{MessageType, ALL_DHCP_RELAY_AGENTS_AND_SERVERS, SERVER_PORT};

/// How long a send may wait for room in the socket, in ms.
const SEND_WAIT_MS: i32 = 50;

/// The relaying LAN and its uplink, with their sockets.
struct Link {
    lan: String,
    wan: String,
    lan_idx: u32,
    wan_idx: u32,
    lan_sock: ServerSocket,
    wan_sock: ServerSocket,
    /// Where Relay-forwards go (empty: ff02::1:2 on the WAN).
    servers: Vec<Ipv6Addr>,
}

impl Link {
    fn open(lan: &str, wan: &str, lan_idx: u32, wan_idx: u32) -> io::Result<Link> {
        let lan_sock = ServerSocket::bind_device(SERVER_PORT, lan)?;
        v6dhcp::io::join(lan_sock.socket(), lan_idx)?;
        let wan_sock = ServerSocket::bind_device(SERVER_PORT, wan)?;
        Ok(Link {
            lan: lan.into(),
            wan: wan.into(),
            lan_idx,
            wan_idx,
            lan_sock,
            wan_sock,
            servers: Vec::new(),
        })
    }
}

/// What the relay's own I/O delivers.
pub enum RelayEvent {
    /// A datagram in the LAN buffer (`wan` false) or the WAN buffer.
    Datagram {
        wan: bool,
        meta: io::Result<RecvMeta>,
    },
    Routes(RouteEvent),
}

#[derive(Default)]
pub struct DhcpRelay {
    agent: RelayAgent,
    link: Option<Link>,
    /// Opened with the first relaying LAN, kept after.
    routes: Option<PdRoutes>,
    lan_buf: Vec<u8>,
    wan_buf: Vec<u8>,
    /// Clients' MACs for RFC 6939, a few dumps a second at most.
    neighbours: crate::neighbours::Neighbours,
    /// Where the routes' writer tells `v6ctl monitor` of them.
    announce: Option<Announce>,
}

impl DhcpRelay {
    pub fn new(announce: Announce) -> DhcpRelay {
        DhcpRelay {
            announce: Some(announce),
            ..Default::default()
        }
    }

    /// Relay for `pair` (lan, wan) or for nothing, to `servers` (empty:
    /// ff02::1:2); `relayed` are the prefixes the uplink's RA gives, in
    /// which our link-address is taken.
    pub fn sync(
        &mut self,
        view: &KernelView,
        pair: Option<(&str, &str)>,
        servers: &[Ipv6Addr],
        relayed: &[Ipv6Prefix],
    ) {
        let idx = |n: &str| view.link_by_name(n).map(|l| l.index);
        let want = pair.and_then(|(l, w)| Some((l, w, idx(l)?, idx(w)?)));
        let same = match (&self.link, want) {
            (Some(k), Some((l, w, li, wi))) => {
                k.lan == l && k.wan == w && k.lan_idx == li && k.wan_idx == wi
            }
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.link = want.and_then(|(l, w, li, wi)| match Link::open(l, w, li, wi) {
                Ok(k) => {
                    info!("{l}: DHCPv6 relay agent towards {w} (RFC 8415 §19)");
                    Some(k)
                }
                Err(e) => {
                    warn!("{l}: cannot open the DHCPv6 relay's sockets: {e}");
                    None
                }
            });
            if self.link.is_some() && self.routes.is_none() {
                self.routes = Some(PdRoutes::open(self.announce.clone()));
                self.lan_buf = vec![0; 65536];
                self.wan_buf = vec![0; 65536];
            }
        }
        if let Some(k) = &mut self.link {
            k.servers = servers.to_vec();
        }
        let lans: Vec<Lan> = self
            .link
            .iter()
            .map(|k| Lan {
                ifindex: k.lan_idx,
                interface_id: k.lan.as_bytes().to_vec(),
                link_address: link_address(view, k.lan_idx, k.wan_idx, relayed),
            })
            .collect();
        for (l, k) in lans.iter().zip(&self.link) {
            if !self.agent.lans().contains(l) {
                info!("{}: relaying with link-address {}", k.lan, l.link_address);
            }
        }
        let acts = self.agent.set_lans(lans);
        self.execute(acts);
    }

    /// The next datagram or route report. Cancel-safe; pending while
    /// nothing relays.
    pub async fn next(&mut self) -> RelayEvent {
        let DhcpRelay {
            link,
            routes,
            lan_buf,
            wan_buf,
            ..
        } = self;
        let routes = when_some(routes.as_mut().map(|r| r.next()));
        let datagram = when_some(
            link.as_ref()
                .map(|k| first(k.lan_sock.recv(lan_buf), k.wan_sock.recv(wan_buf))),
        );
        match first(datagram, routes).await {
            Either::A(Either::A(meta)) => RelayEvent::Datagram { wan: false, meta },
            Either::A(Either::B(meta)) => RelayEvent::Datagram { wan: true, meta },
            Either::B(ev) => RelayEvent::Routes(ev),
        }
    }

    pub async fn on_event(&mut self, netlink: &v6netlink::Kernel, ev: RelayEvent) {
        let (wan, meta) = match ev {
            RelayEvent::Routes(ev) => {
                if let Some(r) = &mut self.routes {
                    r.on_event(ev);
                }
                return;
            }
            RelayEvent::Datagram { wan, meta } => (wan, meta),
        };
        let meta = match meta {
            Ok(m) => m,
            Err(e) => {
                debug!("DHCPv6 relay: receive: {e}");
                return;
            }
        };
        let acts = if wan {
            let data = &self.wan_buf[..meta.len.min(self.wan_buf.len())];
            self.agent.from_wan(Instant::now(), data)
        } else {
            self.heard_on_lan(netlink, meta).await
        };
        self.execute(acts);
    }

    /// A LAN datagram; the client's MAC is looked up for RFC 6939 when it
    /// is a client's own message (a cascaded relay adds its own).
    async fn heard_on_lan(&mut self, netlink: &v6netlink::Kernel, meta: RecvMeta) -> Vec<Action> {
        let src = *meta.src.ip();
        let relayed = self.lan_buf.first() == Some(&(MessageType::RelayForw as u8));
        let client_lladdr = match relayed {
            true => None,
            false => self.neighbours.mac(netlink, meta.ifindex, src).await,
        };
        self.agent.from_lan(FromLan {
            data: &self.lan_buf[..meta.len.min(self.lan_buf.len())],
            src,
            ifindex: meta.ifindex,
            client_lladdr,
        })
    }

    fn execute(&mut self, acts: Vec<Action>) {
        for a in acts {
            match a {
                Action::Forward { data, .. } => self.forward(&data),
                Action::Deliver { dst, data, .. } => self.send(false, &data, Some(dst)),
                Action::AddRoute(r) => {
                    info!(
                        "route {} via {} (delegated through the relay)",
                        r.dst,
                        via(&r)
                    );
                    self.routes.iter_mut().for_each(|k| k.add(r.clone()));
                }
                Action::DelRoute(r) => {
                    info!("route {} via {} removed", r.dst, via(&r));
                    self.routes.iter_mut().for_each(|k| k.del(r.clone()));
                }
            }
        }
        if let Some(r) = &mut self.routes {
            r.flush();
        }
    }

    /// A Relay-forward to each configured server, else to ff02::1:2.
    fn forward(&self, data: &[u8]) {
        let Some(k) = &self.link else { return };
        if k.servers.is_empty() {
            return self.send(true, data, None);
        }
        for s in &k.servers {
            // A link-local server is on the WAN; the scope is ignored else.
            let dst = SocketAddrV6::new(*s, SERVER_PORT, 0, k.wan_idx);
            self.send(true, data, Some(dst));
        }
    }

    /// Send on the WAN (to ff02::1:2 when `dst` is None) or on the LAN.
    fn send(&self, wan: bool, data: &[u8], dst: Option<SocketAddrV6>) {
        let Some(k) = &self.link else { return };
        let (sock, ifindex) = match wan {
            true => (&k.wan_sock, k.wan_idx),
            false => (&k.lan_sock, k.lan_idx),
        };
        let dst = dst.unwrap_or_else(|| {
            SocketAddrV6::new(ALL_DHCP_RELAY_AGENTS_AND_SERVERS, SERVER_PORT, 0, ifindex)
        });
        let out = Outgoing { data, dst, ifindex };
        if send_many_blocking(sock.raw_fd(), &[out], SEND_WAIT_MS) > 0 {
            debug!("DHCPv6 relay: sending to {dst} failed");
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        let retry = self.routes.as_ref().and_then(|r| r.retries.due());
        [self.agent.next_timer(), retry].into_iter().flatten().min()
    }

    pub fn on_deadline(&mut self, now: Instant) {
        let acts = self.agent.on_timer(now);
        self.execute(acts);
        let live = self.agent.routes().cloned().collect();
        if let Some(r) = &mut self.routes {
            r.retry_of(live, now);
        }
    }

    /// Routes out, writer ended.
    pub async fn stop(self) {
        if let Some(r) = self.routes {
            r.close_with(self.agent.routes().cloned().collect()).await;
        }
    }

    /// `show route`'s rows for the routes of prefixes delegated through
    /// the relay (the view leaves them out: supervisor.rs).
    pub fn rows(&self, kv: &KernelView) -> crate::rt_show::Contributed {
        let Some(routes) = &self.routes else {
            return Vec::new();
        };
        let (now, now_ms) = (Instant::now(), crate::service::unix_ms());
        let live = self.agent.routes_seen().map(|(r, seen)| {
            let ago = now.saturating_duration_since(seen).as_millis();
            let ago = u64::try_from(ago).unwrap_or(u64::MAX);
            (r.clone(), now_ms.saturating_sub(ago))
        });
        routes.rows(kv, live)
    }

    /// (LAN, counters) while relaying.
    pub fn status(&self) -> Option<(&str, &RelayStats, usize)> {
        let k = self.link.as_ref()?;
        Some((&k.lan, &self.agent.stats, self.agent.routes().count()))
    }
}

fn via(r: &v6common::RouteFact) -> String {
    r.gateway.map_or_else(|| "-".into(), |g| g.to_string())
}

/// §19.1.1: a global address of ours naming the client's link, i.e. in the
/// prefix relayed onto it: on the LAN if it has one, else on the WAN (in
/// relay mode the uplink's /64 spans both links); else :: (the server
/// then has the Interface-ID).
fn link_address(view: &KernelView, lan: u32, wan: u32, relayed: &[Ipv6Prefix]) -> Ipv6Addr {
    let in_relayed = |i: u32| {
        view.globals(i)
            .map(|a| a.addr)
            .find(|a| relayed.iter().any(|p| p.contains(*a)))
    };
    in_relayed(lan)
        .or_else(|| in_relayed(wan))
        .unwrap_or(Ipv6Addr::UNSPECIFIED)
}

#[cfg(test)]
mod tests;
