//! Server engine tests, driven with virtual time and built messages.

use crate::engine::*;
use crate::lease::{LeaseKind, LeaseRecord, LeaseState};
use crate::wire::*;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::{Duration, Instant};
use v6common::kernel::rtprot;
use v6common::Ipv6Prefix;

mod flood;

const IF: u32 = 7;

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn server_duid() -> Duid {
    Duid::new_ll(1, &[2, 0, 0, 0, 0, 0x53])
}

fn client_duid(n: u8) -> Duid {
    Duid::new_llt(1, 0x11f94b5a, &[8, 0, 0x27, 0xc5, 0x40, n])
}

fn link() -> LinkConfig {
    let mut l = LinkConfig::new("lan0", IF);
    l.address_pools = vec![AddressPool {
        first: a("2001:db8:1::1000"),
        last: a("2001:db8:1::1003"),
    }];
    l.prefix_pools = vec![PrefixPool {
        prefix: "2001:db8:8::/56".parse().unwrap(),
        delegated_len: 60,
    }];
    l.dns_servers = vec![a("2001:db8:1::1")];
    l.domain_list = vec!["home.arpa".into()];
    l.preference = Some(255);
    l.information_refresh_time = Some(3600);
    l
}

fn server_with(l: LinkConfig) -> Server {
    server_of(vec![l], Limits::default())
}

/// A server of these links and limits, its randomness seeded with 1.
fn server_of(links: Vec<LinkConfig>, limits: Limits) -> Server {
    Server::new(
        ServerConfig {
            server_duid: server_duid(),
            links,
            limits,
        },
        1,
    )
}

struct Clock {
    mono: Instant,
    unix: u64,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            mono: Instant::now(),
            unix: 1_800_000_000,
        }
    }
    fn now(&self) -> Now {
        Now {
            mono: self.mono,
            unix: self.unix,
        }
    }
    fn advance(&mut self, s: u64) {
        self.mono += Duration::from_secs(s);
        self.unix += s;
    }
}

fn src(n: u8) -> SocketAddrV6 {
    SocketAddrV6::new(
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0xa00, 0x27ff, 0xfec5, u16::from(n)),
        CLIENT_PORT,
        0,
        IF,
    )
}

fn msg(t: MessageType, options: Vec<DhcpOption>) -> Vec<u8> {
    ClientServerMessage {
        msg_type: t,
        transaction_id: 0x123456,
        options,
    }
    .to_bytes()
}

/// A message from client `n`: its Client ID, then `options`.
fn from_client(t: MessageType, n: u8, options: Vec<DhcpOption>) -> Vec<u8> {
    let mut all = vec![DhcpOption::ClientId(client_duid(n))];
    all.extend(options);
    msg(t, all)
}

/// A message from client `n` to this server: Client ID, our Server ID, then `options`.
fn to_us(t: MessageType, n: u8, options: Vec<DhcpOption>) -> Vec<u8> {
    let mut all = vec![DhcpOption::ServerId(server_duid())];
    all.extend(options);
    from_client(t, n, all)
}

fn ia_na(iaid: u32, addrs: &[Ipv6Addr]) -> DhcpOption {
    DhcpOption::IaNa(IaNa {
        iaid,
        t1: 0,
        t2: 0,
        options: addrs
            .iter()
            .map(|x| {
                DhcpOption::IaAddr(IaAddr {
                    addr: *x,
                    preferred: 0,
                    valid: 0,
                    options: vec![],
                })
            })
            .collect(),
    })
}

fn ia_pd(iaid: u32, prefixes: &[Ipv6Prefix]) -> DhcpOption {
    DhcpOption::IaPd(IaPd {
        iaid,
        t1: 0,
        t2: 0,
        options: prefixes
            .iter()
            .map(|p| {
                DhcpOption::IaPrefix(IaPrefix {
                    preferred: 0,
                    valid: 0,
                    prefix_len: p.len(),
                    prefix: p.addr(),
                    options: vec![],
                })
            })
            .collect(),
    })
}

fn feed(s: &mut Server, c: &Clock, n: u8, data: &[u8], multicast: bool) -> Vec<Action> {
    s.handle(
        c.now(),
        Received {
            data,
            src: src(n),
            ifindex: IF,
            multicast,
            client_lladdr: None,
        },
    )
}

/// The single reply among the actions, parsed.
fn reply_of(actions: &[Action]) -> ClientServerMessage {
    let sends: Vec<_> = actions
        .iter()
        .filter_map(|x| match x {
            Action::Send { data, .. } => Some(data),
            _ => None,
        })
        .collect();
    assert_eq!(sends.len(), 1, "{actions:?}");
    match Message::parse(sends[0]).unwrap() {
        Message::ClientServer(m) => m,
        m => panic!("{m:?}"),
    }
}

fn status_of(opts: &[DhcpOption]) -> Option<StatusCode> {
    opts.iter().find_map(|o| match o {
        DhcpOption::StatusCode(c, _) => Some(*c),
        _ => None,
    })
}

fn ia_addrs(m: &ClientServerMessage) -> Vec<(Ipv6Addr, u32, u32)> {
    m.options
        .iter()
        .filter_map(|o| match o {
            DhcpOption::IaNa(ia) => Some(ia),
            _ => None,
        })
        .flat_map(|ia| ia.options.iter())
        .filter_map(|o| match o {
            DhcpOption::IaAddr(x) => Some((x.addr, x.preferred, x.valid)),
            _ => None,
        })
        .collect()
}

fn ia_prefixes(m: &ClientServerMessage) -> Vec<(Ipv6Prefix, u32)> {
    m.options
        .iter()
        .filter_map(|o| match o {
            DhcpOption::IaPd(ia) => Some(ia),
            _ => None,
        })
        .flat_map(|ia| ia.options.iter())
        .filter_map(|o| match o {
            DhcpOption::IaPrefix(x) => Some((Ipv6Prefix::new(x.prefix, x.prefix_len), x.valid)),
            _ => None,
        })
        .collect()
}

fn ia_status(m: &ClientServerMessage) -> Option<StatusCode> {
    m.options.iter().find_map(|o| match o {
        DhcpOption::IaNa(ia) => status_of(&ia.options),
        DhcpOption::IaPd(ia) => status_of(&ia.options),
        _ => None,
    })
}

fn four_way(s: &mut Server, c: &Clock, n: u8, iaid: u32) -> (Ipv6Addr, Vec<Action>) {
    let sol = from_client(
        MessageType::Solicit,
        n,
        vec![DhcpOption::ElapsedTime(0), ia_na(iaid, &[])],
    );
    let adv = reply_of(&feed(s, c, n, &sol, true));
    assert_eq!(adv.msg_type, MessageType::Advertise);
    let offered = ia_addrs(&adv)[0].0;
    let req = to_us(MessageType::Request, n, vec![ia_na(iaid, &[offered])]);
    let acts = feed(s, c, n, &req, true);
    let rep = reply_of(&acts);
    assert_eq!(rep.msg_type, MessageType::Reply);
    assert_eq!(
        ia_addrs(&rep)[0].0,
        offered,
        "Request gets what was advertised"
    );
    (offered, acts)
}

#[test]
fn solicit_advertise_request_reply_persists_before_reply() {
    let mut s = server_with(link());
    let c = Clock::new();
    let sol = from_client(
        MessageType::Solicit,
        1,
        vec![
            DhcpOption::Oro(vec![code::DNS_SERVERS, code::DOMAIN_LIST]),
            ia_na(5, &[]),
        ],
    );
    let acts = feed(&mut s, &c, 1, &sol, true);
    assert!(
        !acts.iter().any(|x| matches!(x, Action::Persist(_))),
        "an Advertise grants nothing"
    );
    let adv = reply_of(&acts);
    assert_eq!(adv.transaction_id, 0x123456);
    assert_eq!(adv.server_id(), Some(&server_duid()));
    assert_eq!(adv.client_id(), Some(&client_duid(1)));
    assert_eq!(
        adv.option(code::PREFERENCE),
        Some(&DhcpOption::Preference(255))
    );
    assert_eq!(
        adv.option(code::DNS_SERVERS),
        Some(&DhcpOption::DnsServers(vec![a("2001:db8:1::1")]))
    );
    assert_eq!(
        adv.option(code::DOMAIN_LIST),
        Some(&DhcpOption::DomainList(vec!["home.arpa".into()]))
    );
    let (addr, acts) = four_way(&mut s, &c, 1, 5);
    assert!(("2001:db8:1::1000".parse::<Ipv6Addr>().unwrap()
        ..="2001:db8:1::1003".parse().unwrap())
        .contains(&addr));
    // Persist comes before the Send, and records exactly this lease.
    let pi = acts
        .iter()
        .position(|x| matches!(x, Action::Persist(_)))
        .unwrap();
    let si = acts
        .iter()
        .position(|x| matches!(x, Action::Send { .. }))
        .unwrap();
    assert!(pi < si);
    let Action::Persist(recs) = &acts[pi] else {
        unreachable!()
    };
    let LeaseRecord::Upsert(l) = &recs[0] else {
        panic!()
    };
    assert_eq!(
        (l.kind, l.prefix.addr(), l.iaid, &*l.link),
        (LeaseKind::Address, addr, 5, "lan0")
    );
    assert_eq!((l.preferred, l.valid, l.cltt), (3600, 7200, c.unix));
    let rep = reply_of(&acts);
    assert!(
        rep.option(code::PREFERENCE).is_none(),
        "Preference only in Advertise (§21.8)"
    );
    let DhcpOption::IaNa(ia) = rep.option(code::IA_NA).unwrap() else {
        panic!()
    };
    assert_eq!(
        (ia.t1, ia.t2),
        (1800, 2880),
        "T1 = 0.5, T2 = 0.8 of preferred (§21.4)"
    );
    assert_eq!(s.stats().received[MessageType::Solicit as usize], 2);
    assert_eq!(s.stats().sent[MessageType::Reply as usize], 1);
    // The reply goes back to where the request came from.
    let Action::Send { dst, ifindex, .. } = &acts[si] else {
        unreachable!()
    };
    assert_eq!((*dst, *ifindex), (src(1), IF));
}

#[test]
fn validation_drops_per_section_16() {
    let mut s = server_with(link());
    let c = Clock::new();
    let other = Duid::new_ll(1, &[2, 0, 0, 0, 0, 0x99]);
    // (what, with its RFC 8415 rule; the message; the interface it came in
    // on; the drop counted). Each from client 1's address, multicast.
    let dropped = [
        (
            "§16.2: a Solicit without Client ID",
            msg(MessageType::Solicit, vec![ia_na(1, &[])]),
            IF,
            drop_reason::NO_CLIENT_ID,
        ),
        (
            "§16.2: a Solicit with a Server ID",
            to_us(MessageType::Solicit, 1, vec![]),
            IF,
            drop_reason::UNEXPECTED_SERVER_ID,
        ),
        (
            "§16.4: a Request for another server",
            from_client(
                MessageType::Request,
                1,
                vec![DhcpOption::ServerId(other), ia_na(1, &[])],
            ),
            IF,
            drop_reason::OTHER_SERVER_ID,
        ),
        (
            "§16.4: a Request without Server ID",
            from_client(MessageType::Request, 1, vec![ia_na(1, &[])]),
            IF,
            drop_reason::NO_SERVER_ID,
        ),
        ("malformed", vec![1, 0, 0], IF, "truncated"),
        (
            "§16.10: a server-to-client type",
            from_client(MessageType::Reply, 1, vec![]),
            IF,
            drop_reason::NOT_FOR_SERVER,
        ),
        (
            "an interface we do not serve",
            from_client(MessageType::Solicit, 1, vec![]),
            IF + 1,
            drop_reason::UNKNOWN_INTERFACE,
        ),
        (
            "§16.12: an Information-request carrying an IA",
            msg(MessageType::InformationRequest, vec![ia_na(1, &[])]),
            IF,
            drop_reason::IA_IN_INFORMATION_REQUEST,
        ),
    ];
    for (what, data, ifindex, _) in &dropped {
        let acts = s.handle(
            c.now(),
            Received {
                data,
                src: src(1),
                ifindex: *ifindex,
                multicast: true,
                client_lladdr: None,
            },
        );
        assert!(acts.is_empty(), "{what}: {acts:?}");
    }
    let d = &s.stats().drops;
    for (what, _, _, reason) in &dropped {
        assert_eq!(d.get(*reason), Some(&1), "{what}: {reason}: {d:?}");
    }
    assert_eq!(s.lease_count(), 0);
}

#[test]
fn unicast_without_permission_gets_use_multicast() {
    let mut s = server_with(link());
    let c = Clock::new();
    let m = to_us(MessageType::Request, 1, vec![ia_na(1, &[])]);
    let acts = feed(&mut s, &c, 1, &m, false);
    let rep = reply_of(&acts);
    assert_eq!(status_of(&rep.options), Some(StatusCode::UseMulticast));
    assert!(
        rep.option(code::IA_NA).is_none(),
        "only IDs and the status (§18.4)"
    );
    assert_eq!(s.lease_count(), 0);
    // With a Unicast option configured the same message is served.
    let mut l = link();
    l.unicast = Some(a("2001:db8:1::1"));
    let mut s = server_with(l);
    let rep = reply_of(&feed(&mut s, &c, 1, &m, false));
    assert_eq!(ia_addrs(&rep).len(), 1);
    assert_eq!(
        rep.option(code::UNICAST),
        Some(&DhcpOption::Unicast(a("2001:db8:1::1")))
    );
}

#[test]
fn rapid_commit_only_when_configured_and_asked() {
    let c = Clock::new();
    let sol = from_client(
        MessageType::Solicit,
        1,
        vec![DhcpOption::RapidCommit, ia_na(1, &[])],
    );
    let mut s = server_with(link());
    assert_eq!(
        reply_of(&feed(&mut s, &c, 1, &sol, true)).msg_type,
        MessageType::Advertise
    );
    assert_eq!(s.lease_count(), 0);
    let mut l = link();
    l.rapid_commit = true;
    let mut s = server_with(l);
    let acts = feed(&mut s, &c, 1, &sol, true);
    assert!(matches!(acts[0], Action::Persist(_)));
    let rep = reply_of(&acts);
    assert_eq!(rep.msg_type, MessageType::Reply);
    assert!(rep.has(code::RAPID_COMMIT));
    assert_eq!(s.lease_count(), 1);
    // Without the client's Rapid Commit option: a normal Advertise.
    let sol = from_client(MessageType::Solicit, 2, vec![ia_na(1, &[])]);
    assert_eq!(
        reply_of(&feed(&mut s, &c, 2, &sol, true)).msg_type,
        MessageType::Advertise
    );
}

#[test]
fn prefix_delegation_adds_and_removes_route_via_client_link_local() {
    let mut s = server_with(link());
    let c = Clock::new();
    let req = to_us(MessageType::Request, 1, vec![ia_pd(9, &[])]);
    let acts = feed(&mut s, &c, 1, &req, true);
    let rep = reply_of(&acts);
    let (p, valid) = ia_prefixes(&rep)[0];
    assert_eq!(p.len(), 60);
    assert!("2001:db8:8::/56".parse::<Ipv6Prefix>().unwrap().covers(&p));
    assert_eq!(valid, 7200);
    let route = acts
        .iter()
        .find_map(|x| match x {
            Action::AddRoute(r) => Some(r.clone()),
            _ => None,
        })
        .expect("route for the delegated prefix");
    assert_eq!(route.dst, p);
    assert_eq!(route.gateway, Some(*src(1).ip()));
    assert_eq!(route.oif, Some(IF));
    assert_eq!(route.protocol, rtprot::V6ROUTER);
    // Persist before route and reply.
    assert!(matches!(acts[0], Action::Persist(_)));
    // Release removes lease and route.
    let rel = to_us(MessageType::Release, 1, vec![ia_pd(9, &[p])]);
    let acts = feed(&mut s, &c, 1, &rel, true);
    assert!(acts.contains(&Action::DelRoute(route)));
    assert!(acts.contains(&Action::Persist(vec![LeaseRecord::Remove((
        LeaseKind::Prefix,
        p
    ))])));
    assert_eq!(
        status_of(&reply_of(&acts).options),
        Some(StatusCode::Success)
    );
    assert_eq!(s.lease_count(), 0);
}

#[test]
fn renew_extends_unknown_renew_is_nobinding_rebind_recreates() {
    let mut s = server_with(link());
    let mut c = Clock::new();
    let (addr, _) = four_way(&mut s, &c, 1, 1);
    c.advance(1000);
    let renew = to_us(MessageType::Renew, 1, vec![ia_na(1, &[addr])]);
    let acts = feed(&mut s, &c, 1, &renew, true);
    let Action::Persist(recs) = &acts[0] else {
        panic!("renewal is persisted first: {acts:?}")
    };
    let LeaseRecord::Upsert(l) = &recs[0] else {
        panic!()
    };
    assert_eq!(l.cltt, c.unix);
    assert_eq!(ia_addrs(&reply_of(&acts)), vec![(addr, 3600, 7200)]);
    // Renew for an IA the server does not know: NoBinding (§18.3.4).
    let renew = to_us(
        MessageType::Renew,
        2,
        vec![ia_na(1, &[a("2001:db8:1::1003")])],
    );
    let rep = reply_of(&feed(&mut s, &c, 2, &renew, true));
    assert_eq!(ia_status(&rep), Some(StatusCode::NoBinding));
    // Rebind for a free in-pool address re-creates the binding (§18.3.5).
    let free = (0..4u128)
        .map(|i| Ipv6Addr::from(u128::from(a("2001:db8:1::1000")) + i))
        .find(|x| *x != addr)
        .unwrap();
    let rebind = from_client(MessageType::Rebind, 2, vec![ia_na(1, &[free])]);
    let rep = reply_of(&feed(&mut s, &c, 2, &rebind, true));
    assert_eq!(ia_addrs(&rep), vec![(free, 3600, 7200)]);
    // Rebind for an address not on this link: lifetimes 0.
    let rebind = from_client(
        MessageType::Rebind,
        3,
        vec![ia_na(1, &[a("2001:db8:99::1")])],
    );
    let rep = reply_of(&feed(&mut s, &c, 3, &rebind, true));
    assert_eq!(ia_addrs(&rep), vec![(a("2001:db8:99::1"), 0, 0)]);
}

#[test]
fn renew_after_restore_keeps_address() {
    let mut s = server_with(link());
    let c = Clock::new();
    let (addr, _) = four_way(&mut s, &c, 1, 1);
    let saved: Vec<_> = s.leases().collect();
    // A new process: same config, leases from the store.
    let mut s2 = server_with(link());
    s2.restore(saved);
    let renew = to_us(MessageType::Renew, 1, vec![ia_na(1, &[addr])]);
    let rep = reply_of(&feed(&mut s2, &c, 1, &renew, true));
    assert_eq!(ia_status(&rep), None);
    assert_eq!(ia_addrs(&rep), vec![(addr, 3600, 7200)]);
    // And a fresh Solicit from another client never gets that address.
    for n in 2..5 {
        let (other, _) = four_way(&mut s2, &c, n, 1);
        assert_ne!(other, addr);
    }
}

#[test]
fn static_bindings_by_duid_iaid_and_mac() {
    let mut l = link();
    l.hosts = vec![
        Host {
            id: HostId::Mac([8, 0, 0x27, 0xc5, 0x40, 3]),
            name: None,
            hostid: None,
            address: Some(a("2001:db8:1::300")),
            prefix: None,
            preferred: None,
            valid: None,
        },
        Host {
            id: HostId::Duid(client_duid(1)),
            name: None,
            hostid: None,
            address: Some(a("2001:db8:1::500")),
            prefix: Some("2001:db8:9::/56".parse().unwrap()),
            preferred: Some(2000),
            valid: Some(3000),
        },
        Host {
            id: HostId::DuidIaid(client_duid(1), 77),
            name: None,
            hostid: None,
            address: Some(a("2001:db8:1::577")),
            prefix: None,
            preferred: None,
            valid: None,
        },
    ];
    let mut s = server_with(l);
    let c = Clock::new();
    let req = |n: u8, ias: Vec<DhcpOption>| to_us(MessageType::Request, n, ias);
    let rep = reply_of(&feed(
        &mut s,
        &c,
        1,
        &req(1, vec![ia_na(1, &[]), ia_pd(2, &[])]),
        true,
    ));
    assert_eq!(
        ia_addrs(&rep),
        vec![(a("2001:db8:1::500"), 2000, 3000)],
        "WIDE prefer-life-time/valid-life-time"
    );
    assert_eq!(
        ia_prefixes(&rep),
        vec![("2001:db8:9::/56".parse().unwrap(), 3000)]
    );
    let rep = reply_of(&feed(&mut s, &c, 1, &req(1, vec![ia_na(77, &[])]), true));
    assert_eq!(
        ia_addrs(&rep)[0].0,
        a("2001:db8:1::577"),
        "DUID+IAID wins over DUID"
    );
    let rep = reply_of(&feed(&mut s, &c, 3, &req(3, vec![ia_na(1, &[])]), true));
    assert_eq!(
        ia_addrs(&rep)[0].0,
        a("2001:db8:1::300"),
        "MAC from the DUID-LLT"
    );
    assert!(s.leases().all(|l| l.is_static));
}

#[test]
fn pool_exhaustion_limits_and_decline() {
    let mut s = server_with(link());
    let c = Clock::new();
    let mut got = vec![];
    for n in 1..=4 {
        got.push(four_way(&mut s, &c, n, 1).0);
    }
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 4, "four distinct addresses");
    // A fifth client: Advertise with only NoAddrsAvail (§18.3.1).
    let sol = from_client(MessageType::Solicit, 5, vec![ia_na(1, &[])]);
    let adv = reply_of(&feed(&mut s, &c, 5, &sol, true));
    assert_eq!(status_of(&adv.options), Some(StatusCode::NoAddrsAvail));
    assert!(adv.option(code::IA_NA).is_none());
    // A Request instead: the IA carries NoAddrsAvail.
    let req = to_us(MessageType::Request, 5, vec![ia_na(1, &[])]);
    assert_eq!(
        ia_status(&reply_of(&feed(&mut s, &c, 5, &req, true))),
        Some(StatusCode::NoAddrsAvail)
    );
    // Client 1 declines its address: it is not handed out again.
    let mine = s
        .leases()
        .find(|l| l.duid == client_duid(1))
        .unwrap()
        .prefix
        .addr();
    let dec = to_us(MessageType::Decline, 1, vec![ia_na(1, &[mine])]);
    let acts = feed(&mut s, &c, 1, &dec, true);
    assert_eq!(
        status_of(&reply_of(&acts).options),
        Some(StatusCode::Success)
    );
    assert!(s
        .leases()
        .any(|l| l.prefix.addr() == mine && l.state == LeaseState::Declined));
    assert_eq!(
        ia_status(&reply_of(&feed(&mut s, &c, 5, &req, true))),
        Some(StatusCode::NoAddrsAvail)
    );
    // Per-client limit: one client asking for many IA_PDs gets at most the limit.
    let mut s = server_with(link());
    let ias: Vec<_> = (0..10).map(|i| ia_pd(i, &[])).collect();
    let req = to_us(MessageType::Request, 1, ias);
    let rep = reply_of(&feed(&mut s, &c, 1, &req, true));
    assert_eq!(
        ia_prefixes(&rep).len(),
        Limits::default().prefixes_per_client
    );
}

#[test]
fn confirm_and_information_request() {
    let mut s = server_with(link());
    let c = Clock::new();
    let conf = |x: &str| from_client(MessageType::Confirm, 1, vec![ia_na(1, &[a(x)])]);
    let rep = reply_of(&feed(&mut s, &c, 1, &conf("2001:db8:1::1234"), true));
    assert_eq!(status_of(&rep.options), Some(StatusCode::Success));
    let rep = reply_of(&feed(&mut s, &c, 1, &conf("2001:db8:2::1"), true));
    assert_eq!(status_of(&rep.options), Some(StatusCode::NotOnLink));
    let empty = from_client(MessageType::Confirm, 1, vec![ia_na(1, &[])]);
    assert!(feed(&mut s, &c, 1, &empty, true).is_empty());
    let info = from_client(
        MessageType::InformationRequest,
        1,
        vec![DhcpOption::Oro(vec![code::DNS_SERVERS, code::DOMAIN_LIST])],
    );
    let rep = reply_of(&feed(&mut s, &c, 1, &info, true));
    assert_eq!(rep.msg_type, MessageType::Reply);
    assert!(rep.has(code::DNS_SERVERS) && rep.has(code::DOMAIN_LIST));
    assert_eq!(
        rep.option(code::INFORMATION_REFRESH_TIME),
        Some(&DhcpOption::InformationRefreshTime(3600))
    );
    assert!(rep.option(code::PREFERENCE).is_none());
}

#[test]
fn expiry_reclaims_leases_and_routes() {
    let mut s = server_with(link());
    let mut c = Clock::new();
    let req = to_us(MessageType::Request, 1, vec![ia_pd(1, &[]), ia_na(2, &[])]);
    feed(&mut s, &c, 1, &req, true);
    assert_eq!(s.lease_count(), 2);
    let d = s.next_deadline(c.now()).unwrap();
    assert_eq!(d, c.mono + Duration::from_secs(7200));
    c.advance(7199);
    assert!(s.on_timer(c.now()).is_empty());
    c.advance(1);
    let acts = s.on_timer(c.now());
    let Action::Persist(recs) = &acts[0] else {
        panic!("{acts:?}")
    };
    assert_eq!(recs.len(), 2);
    assert_eq!(
        acts.iter()
            .filter(|x| matches!(x, Action::DelRoute(_)))
            .count(),
        1
    );
    assert_eq!(s.lease_count(), 0);
    assert_eq!(s.next_deadline(c.now()), None);
    // And the address can be handed out again.
    assert_eq!(four_way(&mut s, &c, 2, 1).0.segments()[0], 0x2001);
}

#[test]
fn ia_ta_is_answered_without_addresses() {
    let mut s = server_with(link());
    let c = Clock::new();
    let m = from_client(
        MessageType::Solicit,
        1,
        vec![
            DhcpOption::IaTa(IaTa {
                iaid: 1,
                options: vec![],
            }),
            ia_na(2, &[]),
        ],
    );
    let adv = reply_of(&feed(&mut s, &c, 1, &m, true));
    let DhcpOption::IaTa(ta) = adv.option(code::IA_TA).unwrap() else {
        panic!()
    };
    assert_eq!(status_of(&ta.options), Some(StatusCode::NoAddrsAvail));
    assert_eq!(ia_addrs(&adv).len(), 1);
}

/// The fuzz targets' properties (fuzz/fuzz_targets/dhcpv6_*.rs) on a
/// deterministic corpus of mutated valid messages, so plain `cargo test`
/// exercises them too: no panic, parse ∘ emit identity, replies parse,
/// leases stay inside pools.
#[test]
fn mutated_messages_keep_invariants() {
    let mut rng = fastrand::Rng::with_seed(0x6d686370);
    let seeds: Vec<Vec<u8>> = vec![
        from_client(
            MessageType::Solicit,
            1,
            vec![DhcpOption::RapidCommit, ia_na(1, &[]), ia_pd(2, &[])],
        ),
        to_us(
            MessageType::Request,
            2,
            vec![ia_na(1, &[a("2001:db8:1::1001")])],
        ),
        to_us(
            MessageType::Renew,
            1,
            vec![ia_pd(2, &["2001:db8:8::/60".parse().unwrap()])],
        ),
        from_client(
            MessageType::Confirm,
            3,
            vec![ia_na(1, &[a("2001:db8:1::1")])],
        ),
        msg(
            MessageType::InformationRequest,
            vec![
                DhcpOption::Oro(vec![23, 24]),
                DhcpOption::DomainList(vec!["a.b".into()]),
            ],
        ),
    ];
    let mut l = link();
    l.rapid_commit = true;
    let mut s = server_with(l);
    let mut c = Clock::new();
    let mut granting_replies = 0;
    for i in 0..20_000 {
        let mut m = seeds[rng.usize(..seeds.len())].clone();
        for _ in 0..rng.usize(0..4) {
            match rng.u8(0..4) {
                0 if !m.is_empty() => {
                    let at = rng.usize(..m.len());
                    m[at] = rng.u8(..);
                }
                1 if !m.is_empty() => m.truncate(rng.usize(..m.len())),
                2 => {
                    let at = rng.usize(..=m.len());
                    m.insert(at, rng.u8(..));
                }
                _ => {
                    let at = rng.usize(..=m.len());
                    m.splice(at..at, [0u8, 0]);
                }
            }
        }
        if let Ok(p) = Message::parse(&m) {
            assert_eq!(
                Message::parse(&p.to_bytes()).as_ref(),
                Ok(&p),
                "round trip of {m:02x?}"
            );
        }
        if i % 1000 == 0 {
            c.advance(3000);
            s.on_timer(c.now());
        }
        let acts = s.handle(
            c.now(),
            Received {
                data: &m,
                src: src(rng.u8(1..5)),
                ifindex: IF,
                multicast: rng.bool(),
                client_lladdr: None,
            },
        );
        let mut persisted = false;
        for a in &acts {
            match a {
                Action::Persist(_) => persisted = true,
                Action::Send { data, .. } => {
                    let r = Message::parse(data).expect("our replies parse");
                    let Message::ClientServer(r) = r else {
                        panic!()
                    };
                    // A Reply that hands out a lifetime was persisted first.
                    let grants = r.options.iter().any(|o| match o {
                        DhcpOption::IaNa(ia) => ia
                            .options
                            .iter()
                            .any(|x| matches!(x, DhcpOption::IaAddr(x) if x.valid > 0)),
                        DhcpOption::IaPd(ia) => ia
                            .options
                            .iter()
                            .any(|x| matches!(x, DhcpOption::IaPrefix(x) if x.valid > 0)),
                        _ => false,
                    });
                    if r.msg_type == MessageType::Reply && grants {
                        assert!(
                            persisted,
                            "a granting Reply without a Persist before it: {acts:?}"
                        );
                        granting_replies += 1;
                    }
                }
                _ => {}
            }
        }
    }
    for l in s.leases() {
        match l.kind {
            LeaseKind::Address => assert!(
                (u128::from(a("2001:db8:1::1000"))..=u128::from(a("2001:db8:1::1003")))
                    .contains(&u128::from(l.prefix.addr())),
                "{l:?}"
            ),
            LeaseKind::Prefix => assert!(
                "2001:db8:8::/56"
                    .parse::<Ipv6Prefix>()
                    .unwrap()
                    .covers(&l.prefix)
                    && l.prefix.len() == 60
            ),
        }
    }
    assert!(
        s.stats().dropped_total() > 0 && granting_replies > 100,
        "{granting_replies}"
    );
}

#[test]
fn offers_are_forgotten_once_requested_or_stale() {
    let mut l = link();
    l.address_pools[0].last = a("2001:db8:1::1fff");
    let mut s = server_with(l);
    let mut c = Clock::new();
    for n in 1..=50 {
        four_way(&mut s, &c, n, 1);
    }
    assert_eq!(s.pending_offers(), 0, "each Request consumed its offer");
    // Solicits never followed by a Request are held for offer_hold, then dropped.
    for n in 51..=60 {
        let sol = from_client(MessageType::Solicit, n, vec![ia_na(1, &[])]);
        feed(&mut s, &c, n, &sol, true);
        feed(&mut s, &c, n, &sol, true); // a retransmission refreshes, not duplicates
    }
    assert_eq!(s.pending_offers(), 10);
    c.advance(Limits::default().offer_hold);
    assert!(s.on_timer(c.now()).is_empty());
    assert_eq!(s.pending_offers(), 0);
}

#[test]
fn rollback_forgets_grants_that_were_not_stored() {
    let mut s = server_with(link());
    let c = Clock::new();
    let req = to_us(MessageType::Request, 1, vec![ia_na(1, &[]), ia_pd(2, &[])]);
    let acts = feed(&mut s, &c, 1, &req, true);
    let Action::Persist(recs) = &acts[0] else {
        panic!()
    };
    assert_eq!(s.lease_count(), 2);
    // A lease stored earlier survives a later failed batch of someone else.
    let (kept, _) = four_way(&mut s, &c, 2, 1);
    let undo = s.rollback(recs);
    assert_eq!(
        undo.iter()
            .filter(|a| matches!(a, Action::DelRoute(_)))
            .count(),
        1
    );
    assert_eq!(s.lease_count(), 1);
    assert_eq!(s.leases().next().unwrap().prefix.addr(), kept);
    s.note_persist_failed(1);
    assert_eq!(s.stats().drops.get(drop_reason::PERSIST_FAILED), Some(&1));
    // The client's retransmitted Request is served afresh.
    let acts = feed(&mut s, &c, 1, &req, true);
    assert!(matches!(acts[0], Action::Persist(_)));
    assert_eq!(s.lease_count(), 3);
}

#[test]
fn renew_after_renumbering_zeroes_the_old_and_grants_a_new_one() {
    // The uplink's prefix changed: the pools moved. A Renew gets the old
    // prefix and address at lifetime 0 and new ones in the same Reply.
    let mut s = server_with(link());
    let c = Clock::new();
    let req = to_us(MessageType::Request, 1, vec![ia_pd(9, &[]), ia_na(3, &[])]);
    let rep = reply_of(&feed(&mut s, &c, 1, &req, true));
    let (old_p, _) = ia_prefixes(&rep)[0];
    let (old_a, _, _) = ia_addrs(&rep)[0];
    let mut moved = link();
    moved.address_pools = vec![AddressPool {
        first: a("2001:db8:2::1000"),
        last: a("2001:db8:2::1003"),
    }];
    moved.prefix_pools = vec![PrefixPool {
        prefix: "2001:db8:9::/56".parse().unwrap(),
        delegated_len: 60,
    }];
    s.set_links(vec![moved]);
    let renew = to_us(
        MessageType::Renew,
        1,
        vec![ia_pd(9, &[old_p]), ia_na(3, &[old_a])],
    );
    let acts = feed(&mut s, &c, 1, &renew, true);
    assert!(
        matches!(acts[0], Action::Persist(_)),
        "the new grants are stored before the Reply"
    );
    let rep = reply_of(&acts);
    let prefixes = ia_prefixes(&rep);
    assert!(prefixes.contains(&(old_p, 0)), "{prefixes:?}");
    let new_p = prefixes
        .iter()
        .find(|(_, v)| *v > 0)
        .expect("a new prefix")
        .0;
    assert!("2001:db8:9::/56"
        .parse::<Ipv6Prefix>()
        .unwrap()
        .covers(&new_p));
    let addrs = ia_addrs(&rep);
    assert!(
        addrs.iter().any(|(x, _, v)| *x == old_a && *v == 0),
        "{addrs:?}"
    );
    assert!(
        addrs.iter().any(|(x, _, v)| x.segments()[2] == 2 && *v > 0),
        "{addrs:?}"
    );
    // The new prefix is routed to the client.
    assert!(acts
        .iter()
        .any(|x| matches!(x, Action::AddRoute(r) if r.dst == new_p)));
}

/// A remote link behind relays on IF: 2001:db8:2::/64, pool ::100-::1ff,
/// prefixes of /60 from 2001:db8:20::/56, Interface-ID "ge-0/0/2".
fn relayed_link() -> LinkConfig {
    let mut l = LinkConfig::new("remote2", IF);
    l.relayed = true;
    l.on_link = vec!["2001:db8:2::/64".parse().unwrap()];
    l.address_pools = vec![AddressPool {
        first: a("2001:db8:2::100"),
        last: a("2001:db8:2::1ff"),
    }];
    l.prefix_pools = vec![PrefixPool {
        prefix: "2001:db8:20::/56".parse().unwrap(),
        delegated_len: 60,
    }];
    l.interface_id = Some(b"ge-0/0/2".to_vec());
    l
}

const RELAY: &str = "2001:db8:1::99";

/// `inner` wrapped in one Relay-forward per (link-address, Interface-ID),
/// the first pair being the relay closest to the client.
fn relayed(inner: Vec<u8>, levels: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
    let mut data = inner;
    for (hop, (la, iid)) in levels.iter().enumerate() {
        let mut options = vec![DhcpOption::RelayMsg(data)];
        if let Some(i) = iid {
            options.push(DhcpOption::InterfaceId(i.to_vec()));
        }
        data = Message::Relay(RelayMessage {
            msg_type: MessageType::RelayForw,
            hop_count: hop as u8,
            link_address: a(la),
            peer_address: if hop == 0 {
                src(1).ip().to_owned()
            } else {
                a("2001:db8:2::fe")
            },
            options,
        })
        .to_bytes();
    }
    data
}

fn feed_relay(s: &mut Server, c: &Clock, data: &[u8]) -> Vec<Action> {
    s.handle(
        c.now(),
        Received {
            data,
            src: SocketAddrV6::new(a(RELAY), SERVER_PORT, 0, IF),
            ifindex: IF,
            multicast: false,
            client_lladdr: None,
        },
    )
}

/// The Relay-reply chain of the single Send: (levels outermost first, client message).
fn unwrap_relay(actions: &[Action]) -> (Vec<RelayMessage>, ClientServerMessage) {
    let sends: Vec<_> = actions
        .iter()
        .filter_map(|x| match x {
            Action::Send { data, dst, .. } => Some((data, dst)),
            _ => None,
        })
        .collect();
    assert_eq!(sends.len(), 1, "{actions:?}");
    assert_eq!(*sends[0].1, SocketAddrV6::new(a(RELAY), SERVER_PORT, 0, IF));
    let mut levels = vec![];
    let mut data = sends[0].0.clone();
    loop {
        match Message::parse(&data).unwrap() {
            Message::Relay(r) => {
                assert_eq!(r.msg_type, MessageType::RelayRepl);
                data = r.relay_msg().unwrap().to_vec();
                levels.push(r);
            }
            Message::ClientServer(m) => return (levels, m),
        }
    }
}

#[test]
fn relayed_client_gets_address_and_prefix_of_the_relays_link() {
    let mut s = server_of(vec![link(), relayed_link()], Limits::default());
    let c = Clock::new();
    let sol = from_client(MessageType::Solicit, 1, vec![ia_na(1, &[]), ia_pd(2, &[])]);
    let fwd = relayed(sol, &[("2001:db8:2::1", Some(b"ge-0/0/2"))]);
    let (levels, adv) = unwrap_relay(&feed_relay(&mut s, &c, &fwd));
    assert_eq!(adv.msg_type, MessageType::Advertise);
    // §19.3: the Relay-reply repeats the relay's fields and its Interface-ID.
    assert_eq!(levels.len(), 1);
    assert_eq!(levels[0].hop_count, 0);
    assert_eq!(levels[0].link_address, a("2001:db8:2::1"));
    assert_eq!(levels[0].peer_address, *src(1).ip());
    assert_eq!(levels[0].interface_id(), Some(&b"ge-0/0/2"[..]));
    let addr = ia_addrs(&adv)[0].0;
    assert!(relayed_link().address_pools[0].first <= addr && addr <= a("2001:db8:2::1ff"));
    let pfx = ia_prefixes(&adv)[0].0;
    assert!("2001:db8:20::/56"
        .parse::<Ipv6Prefix>()
        .unwrap()
        .covers(&pfx));
    let req = to_us(
        MessageType::Request,
        1,
        vec![ia_na(1, &[addr]), ia_pd(2, &[pfx])],
    );
    // Relayed messages are unicast by nature: no UseMulticast (§18.4).
    let acts = feed_relay(&mut s, &c, &relayed(req, &[("2001:db8:2::1", None)]));
    assert!(
        matches!(acts[0], Action::Persist(_)),
        "durable before the reply"
    );
    // The delegated prefix is routed via the relay that forwarded the request.
    let route = acts.iter().find_map(|x| match x {
        Action::AddRoute(r) => Some(r.clone()),
        _ => None,
    });
    assert_eq!(
        route.map(|r| (r.dst, r.gateway)),
        Some((pfx, Some(a(RELAY))))
    );
    let (levels, rep) = unwrap_relay(&acts);
    assert_eq!(levels[0].interface_id(), None, "none sent, none returned");
    assert_eq!(rep.msg_type, MessageType::Reply);
    assert_eq!(ia_addrs(&rep)[0].0, addr);
    let l = s.leases().find(|l| l.kind == LeaseKind::Address).unwrap();
    assert_eq!(&*l.link, "remote2");
    assert_eq!(s.stats().received[MessageType::RelayForw as usize], 2);
    assert_eq!(s.stats().sent[MessageType::RelayRepl as usize], 2);
    // A Confirm from there is judged against the remote link's prefix.
    let conf = from_client(MessageType::Confirm, 1, vec![ia_na(1, &[addr])]);
    let (_, rep) = unwrap_relay(&feed_relay(
        &mut s,
        &c,
        &relayed(conf, &[("2001:db8:2::1", None)]),
    ));
    assert_eq!(status_of(&rep.options), Some(StatusCode::Success));
}

#[test]
fn relay_link_by_interface_id_nested_relays_and_drops() {
    let mut s = server_of(vec![link(), relayed_link()], Limits::default());
    let c = Clock::new();
    let sol = || from_client(MessageType::Solicit, 1, vec![ia_na(1, &[])]);
    // An LDRA (RFC 6221) next to the client: link-address unspecified, its
    // Interface-ID names the link; a second relay outside it.
    let fwd = relayed(sol(), &[("::", Some(b"ge-0/0/2")), ("::", Some(b"uplink"))]);
    let (levels, adv) = unwrap_relay(&feed_relay(&mut s, &c, &fwd));
    assert_eq!(levels.len(), 2);
    assert_eq!(levels[0].hop_count, 1, "outermost first");
    assert_eq!(levels[0].interface_id(), Some(&b"uplink"[..]));
    assert_eq!(levels[1].interface_id(), Some(&b"ge-0/0/2"[..]));
    assert!(ia_addrs(&adv)[0].0 >= a("2001:db8:2::100"));
    // The innermost non-zero link-address wins over an outer one.
    let fwd = relayed(sol(), &[("::", None), ("2001:db8:1::5", None)]);
    let (_, adv) = unwrap_relay(&feed_relay(&mut s, &c, &fwd));
    assert!(
        ia_addrs(&adv)[0].0 <= a("2001:db8:1::1003"),
        "the local link's pool"
    );
    // Unknown link, no message, too many hops, a relay on another interface.
    let before = s.stats().dropped_total();
    assert!(feed_relay(&mut s, &c, &relayed(sol(), &[("2001:db8:77::1", None)])).is_empty());
    let empty = Message::Relay(RelayMessage {
        msg_type: MessageType::RelayForw,
        hop_count: 0,
        link_address: a("2001:db8:2::1"),
        peer_address: *src(1).ip(),
        options: vec![],
    })
    .to_bytes();
    assert!(feed_relay(&mut s, &c, &empty).is_empty());
    let deep: Vec<(&str, Option<&[u8]>)> = vec![("2001:db8:2::1", None); 10];
    assert!(feed_relay(&mut s, &c, &relayed(sol(), &deep)).is_empty());
    let d = &s.stats().drops;
    assert_eq!(d.get(drop_reason::RELAY_UNKNOWN_LINK), Some(&1));
    assert_eq!(d.get(drop_reason::RELAY_WITHOUT_MESSAGE), Some(&1));
    assert_eq!(d.get(drop_reason::RELAY_TOO_MANY_HOPS), Some(&1));
    assert_eq!(s.stats().dropped_total(), before + 3);
    let other_if = s.handle(
        c.now(),
        Received {
            data: &relayed(sol(), &[("2001:db8:2::1", None)]),
            src: SocketAddrV6::new(a(RELAY), SERVER_PORT, 0, IF + 1),
            ifindex: IF + 1,
            multicast: false,
            client_lladdr: None,
        },
    );
    assert!(other_if.is_empty());
    // Clients on an interface that only has relayed links are not served.
    let mut only = relayed_link();
    only.ifindex = 9;
    let mut s2 = server_with(only);
    let direct = s2.handle(
        c.now(),
        Received {
            data: &sol(),
            src: src(1),
            ifindex: 9,
            multicast: true,
            client_lladdr: None,
        },
    );
    assert!(direct.is_empty());
}

/// After a restart the allocation cursor is back at the pool's start. With
/// more than MAX_PROBES (4096) leases in a row there, every Solicit used
/// to find nothing in its window and the cursor never moved: no new client
/// got an address in a pool with room (found by tests/faults/power-cut.sh).
/// A window that finds nothing now moves the cursor past it.
#[test]
fn a_restart_in_front_of_many_leases_still_allocates() {
    let mut l = link();
    l.address_pools = vec![AddressPool {
        first: a("2001:db8:1::1:0"),
        last: a("2001:db8:1::1:ffff"),
    }];
    let mut c = Clock::new();
    let duid = |i: u32| Duid::new_llt(1, 0x11f94b5a, &[8, 0, 0x27, 0, (i >> 8) as u8, i as u8]);
    let mut first = server_with(l.clone());
    let mut leases = Vec::new();
    for i in 0..5000u32 {
        // Within the link's Solicit budget (crate::budget).
        if i % 1000 == 999 {
            c.advance(1);
        }
        let solicit = msg(
            MessageType::Solicit,
            vec![DhcpOption::ClientId(duid(i)), ia_na(1, &[])],
        );
        let offered = ia_addrs(&reply_of(&feed(&mut first, &c, 1, &solicit, true)))[0].0;
        let request = msg(
            MessageType::Request,
            vec![
                DhcpOption::ClientId(duid(i)),
                DhcpOption::ServerId(server_duid()),
                ia_na(1, &[offered]),
            ],
        );
        for act in feed(&mut first, &c, 1, &request, true) {
            if let Action::Persist(recs) = act {
                leases.extend(recs.into_iter().filter_map(|r| match r {
                    LeaseRecord::Upsert(l) => Some(l),
                    _ => None,
                }));
            }
        }
    }
    assert_eq!(leases.len(), 5000);
    let mut restarted = server_with(l);
    restarted.restore(leases);
    // Each Solicit looks at 4096 members at most: the second one at the
    // latest finds room.
    let new_client = duid(60000);
    let granted = (0..2).find_map(|_| {
        let solicit = msg(
            MessageType::Solicit,
            vec![DhcpOption::ClientId(new_client.clone()), ia_na(1, &[])],
        );
        ia_addrs(&reply_of(&feed(&mut restarted, &c, 2, &solicit, true)))
            .first()
            .map(|x| x.0)
    });
    let got = granted.expect("an address within two Solicits");
    assert!(
        u128::from(got) >= u128::from(a("2001:db8:1::1:0")) + 5000,
        "{got}"
    );
}

// ----- hostid bindings, MAC from elsewhere, Client FQDN (issue 17) -----

/// A binding by DUID of client 1 to interface identifier ::10.
fn hostid_host(name: Option<&str>) -> Host {
    Host {
        id: HostId::Duid(client_duid(1)),
        name: name.map(std::sync::Arc::from),
        address: None,
        hostid: Some(0x10),
        prefix: None,
        preferred: None,
        valid: None,
    }
}

/// `link()` served from `net` (a /64 as "2001:db8:N"): its pool there and
/// a ULA /64 besides, both served; client 1 has hostid ::10.
fn link_on(net: &str) -> LinkConfig {
    let mut l = link();
    l.hosts = vec![hostid_host(None)];
    l.address_pools = vec![AddressPool {
        first: a(&format!("{net}::1000")),
        last: a(&format!("{net}::1003")),
    }];
    l.served_prefixes = vec!["fd00:1:2:3::/64".parse().unwrap()];
    l
}

fn request(n: u8, extra: Vec<DhcpOption>) -> Vec<u8> {
    to_us(MessageType::Request, n, extra)
}

#[test]
fn hostid_follows_renumbering() {
    let mut s = server_with(link_on("2001:db8:1"));
    let mut c = Clock::new();
    // Solicit: offered ::10 in each served /64 (the pool's and the ULA).
    let sol = from_client(MessageType::Solicit, 1, vec![ia_na(5, &[])]);
    let mut offered: Vec<Ipv6Addr> = ia_addrs(&reply_of(&feed(&mut s, &c, 1, &sol, true)))
        .into_iter()
        .map(|x| x.0)
        .collect();
    offered.sort();
    assert_eq!(offered, vec![a("2001:db8:1::10"), a("fd00:1:2:3::10")]);
    let rep = reply_of(&feed(
        &mut s,
        &c,
        1,
        &request(1, vec![ia_na(5, &offered)]),
        true,
    ));
    assert_eq!(ia_addrs(&rep).len(), 2, "{rep:?}");
    assert!(s.leases().all(|l| l.is_static));
    // The ISP renumbers: the pool and the served /64 move to 2001:db8:2::/64.
    c.advance(100);
    s.set_links(vec![link_on("2001:db8:2")]);
    // §18.3.4: the Renew gets the new ::10 and the old at lifetime 0.
    let renew = to_us(MessageType::Renew, 1, vec![ia_na(5, &offered)]);
    let acts = feed(&mut s, &c, 1, &renew, true);
    assert!(
        matches!(acts[0], Action::Persist(_)),
        "stored before the Reply"
    );
    let moved = vec![
        (a("2001:db8:1::10"), 0, 0),
        (a("2001:db8:2::10"), 3600, 7200),
        (a("fd00:1:2:3::10"), 3600, 7200),
    ];
    let mut got = ia_addrs(&reply_of(&acts));
    got.sort();
    assert_eq!(got, moved);
    // §18.3.5: a client that lost its binding (a server restarted on an
    // empty journal) and Rebinds with the old address gets the same.
    let mut s2 = server_with(link_on("2001:db8:2"));
    let rebind = from_client(
        MessageType::Rebind,
        1,
        vec![ia_na(5, &[a("2001:db8:1::10")])],
    );
    let mut got = ia_addrs(&reply_of(&feed(&mut s2, &c, 1, &rebind, true)));
    got.sort();
    assert_eq!(got, moved);
}

#[test]
fn hostid_addresses_are_never_pool_leases() {
    // A pool of two, ::10 and ::11; ::10 is client 1's by hostid.
    let mut l = link();
    l.address_pools = vec![AddressPool {
        first: a("2001:db8:1::10"),
        last: a("2001:db8:1::11"),
    }];
    l.hosts = vec![hostid_host(None)];
    let mut s = server_with(l);
    let c = Clock::new();
    let (second, _) = four_way(&mut s, &c, 2, 1);
    assert_eq!(second, a("2001:db8:1::11"));
    // Client 3 hints at ::10: not given, and nothing is left.
    let rep = reply_of(&feed(
        &mut s,
        &c,
        3,
        &request(3, vec![ia_na(1, &[a("2001:db8:1::10")])]),
        true,
    ));
    assert_eq!(ia_status(&rep), Some(StatusCode::NoAddrsAvail), "{rep:?}");
    let (own, _) = four_way(&mut s, &c, 1, 1);
    assert_eq!(own, a("2001:db8:1::10"));
}

/// A client whose DUID carries no MAC (DUID-EN), by MAC.
fn en_client() -> Duid {
    Duid::new_en(43793, &[9, 9, 9])
}

fn mac_host(address: &str) -> Host {
    Host {
        id: HostId::Mac([8, 0, 0x27, 0xc5, 0x40, 0x99]),
        name: Some("printer".into()),
        address: Some(a(address)),
        hostid: None,
        prefix: None,
        preferred: None,
        valid: None,
    }
}

#[test]
fn mac_binding_from_the_neighbour_cache() {
    let mut l = link();
    l.hosts = vec![mac_host("2001:db8:1::300")];
    let mut s = server_with(l);
    let c = Clock::new();
    let req = msg(
        MessageType::Request,
        vec![
            DhcpOption::ClientId(en_client()),
            DhcpOption::ServerId(server_duid()),
            ia_na(1, &[]),
        ],
    );
    let mut rx = Received {
        data: &req,
        src: src(9),
        ifindex: IF,
        multicast: true,
        client_lladdr: None,
    };
    assert!(
        s.wants_client_lladdr(&rx),
        "a MAC binding on a client's link"
    );
    // Not found in the neighbour cache: a pool address.
    let rep = reply_of(&s.handle(c.now(), rx));
    assert_ne!(ia_addrs(&rep)[0].0, a("2001:db8:1::300"));
    rx.client_lladdr = Some([8, 0, 0x27, 0xc5, 0x40, 0x99]);
    let rep = reply_of(&s.handle(c.now(), rx));
    assert_eq!(ia_addrs(&rep)[0].0, a("2001:db8:1::300"));
    let l = s.leases().find(|l| l.is_static).expect("static lease");
    assert_eq!(l.name.as_deref(), Some("printer"));
    // No lookup for a relay's message, a global source, or a link
    // without MAC bindings.
    let fwd = relayed(req.clone(), &[("2001:db8:1::1", None)]);
    rx.data = &fwd;
    assert!(!s.wants_client_lladdr(&rx));
    rx.data = &req;
    rx.src = SocketAddrV6::new(a("2001:db8:1::77"), CLIENT_PORT, 0, IF);
    assert!(!s.wants_client_lladdr(&rx));
    let plain = server_with(link());
    rx.src = src(9);
    assert!(!plain.wants_client_lladdr(&rx));
}

#[test]
fn mac_binding_from_a_relays_client_link_layer_address() {
    let mut remote = relayed_link();
    remote.hosts = vec![mac_host("2001:db8:2::300")];
    let mut s = server_of(vec![link(), remote], Limits::default());
    let c = Clock::new();
    let sol = msg(
        MessageType::Solicit,
        vec![DhcpOption::ClientId(en_client()), ia_na(1, &[])],
    );
    // The relay next to the client adds RFC 6939's option; the outer one
    // does not, and the Relay-reply does not repeat it.
    let inner = Message::Relay(RelayMessage {
        msg_type: MessageType::RelayForw,
        hop_count: 0,
        link_address: a("2001:db8:2::1"),
        peer_address: src(9).ip().to_owned(),
        options: vec![
            DhcpOption::RelayMsg(sol),
            DhcpOption::ClientLinkLayerAddr(ClientLinkLayerAddr {
                hw_type: HWTYPE_ETHERNET,
                addr: vec![8, 0, 0x27, 0xc5, 0x40, 0x99],
            }),
        ],
    })
    .to_bytes();
    let fwd = Message::Relay(RelayMessage {
        msg_type: MessageType::RelayForw,
        hop_count: 1,
        link_address: a("2001:db8:1::99"),
        peer_address: a("2001:db8:2::fe"),
        options: vec![DhcpOption::RelayMsg(inner)],
    })
    .to_bytes();
    let (levels, adv) = unwrap_relay(&feed_relay(&mut s, &c, &fwd));
    assert_eq!(ia_addrs(&adv)[0].0, a("2001:db8:2::300"));
    assert!(levels.iter().all(|r| r
        .options
        .iter()
        .all(|o| o.code() != code::CLIENT_LINKLAYER_ADDR)));
}

fn fqdn(flags: u8, name: &str, fully_qualified: bool) -> DhcpOption {
    DhcpOption::ClientFqdn(ClientFqdn {
        flags,
        name: name.into(),
        fully_qualified,
    })
}

fn fqdn_of(m: &ClientServerMessage) -> Option<&ClientFqdn> {
    m.options.iter().find_map(|o| match o {
        DhcpOption::ClientFqdn(f) => Some(f),
        _ => None,
    })
}

/// Client `n` Requests an address with `name` (a Client FQDN option or
/// something in its place), the option asked for in its ORO.
fn request_named(s: &mut Server, c: &Clock, n: u8, name: DhcpOption) -> ClientServerMessage {
    let oro = DhcpOption::Oro(vec![code::CLIENT_FQDN]);
    reply_of(&feed(
        s,
        c,
        n,
        &request(n, vec![oro, name, ia_na(1, &[])]),
        true,
    ))
}

#[test]
fn client_fqdn_is_answered_with_no_update_flags_and_recorded() {
    let mut s = server_with(link());
    let c = Clock::new();
    // S set and asked for in the ORO (RFC 4704 §6): N, S clear, O (§4.1).
    let rep = request_named(
        &mut s,
        &c,
        2,
        fqdn(fqdn_flag::S, "laptop.example.org", true),
    );
    let f = fqdn_of(&rep).expect("answered");
    assert_eq!(f.flags, fqdn_flag::N | fqdn_flag::O);
    assert_eq!(
        (f.name.as_str(), f.fully_qualified),
        ("laptop.example.org", true)
    );
    let l = s.leases().next().unwrap();
    assert_eq!(
        l.name.as_deref(),
        Some("laptop"),
        "the host label, as odhcpd"
    );
    // Not in the ORO: recorded, not answered. S clear: no O.
    let rep = reply_of(&feed(
        &mut s,
        &c,
        3,
        &request(3, vec![fqdn(0, "tablet", false), ia_na(1, &[])]),
        true,
    ));
    assert!(fqdn_of(&rep).is_none());
    assert_eq!(no_update_flags(0), fqdn_flag::N);
    // A Renew without the option keeps the name.
    let addr = ia_addrs(&rep)[0].0;
    let renew = to_us(MessageType::Renew, 3, vec![ia_na(1, &[addr])]);
    reply_of(&feed(&mut s, &c, 3, &renew, true));
    let l = s.leases().find(|l| l.prefix.addr() == addr).unwrap();
    assert_eq!(l.name.as_deref(), Some("tablet"));
}

#[test]
fn a_static_hosts_name_wins_over_the_clients() {
    let mut l = link();
    l.hosts = vec![hostid_host(Some("nas"))];
    let mut s = server_with(l);
    let c = Clock::new();
    let rep = request_named(&mut s, &c, 1, fqdn(0, "whatever", false));
    let f = fqdn_of(&rep).unwrap();
    assert_eq!(
        (f.flags, f.name.as_str(), f.fully_qualified),
        (fqdn_flag::N, "nas", false)
    );
    assert_eq!(ia_addrs(&rep)[0].0, a("2001:db8:1::10"));
    assert!(s.leases().all(|l| l.name.as_deref() == Some("nas")));
}

#[test]
fn malformed_client_fqdn_is_counted_and_ignored() {
    let mut s = server_with(link());
    let c = Clock::new();
    let bad = [
        DhcpOption::Unknown {
            code: code::CLIENT_FQDN,
            data: vec![1, 0xc0, 0x0c], // a compression pointer
        },
        // Well-formed but no host name: answered, nothing recorded.
        fqdn(0, "my_pc", false),
    ];
    for (n, o) in bad.into_iter().enumerate() {
        let rep = request_named(&mut s, &c, 4 + n as u8, o);
        assert_eq!(ia_addrs(&rep).len(), 1, "still served");
        assert_eq!(fqdn_of(&rep).is_some(), n == 1);
    }
    assert_eq!(s.stats().bad_client_fqdn, 1);
    assert!(s.leases().all(|l| l.name.is_none()));
}

/// SOL_MAX_RT, INF_MAX_RT (RFC 8415 §21.24, §21.25) and the NTP server
/// option (RFC 5908 §4) go to clients that ask for them in their ORO, in
/// an Advertise as in a Reply to an Information-request; nobody gets what
/// was not asked for or is not configured.
#[test]
fn max_rt_and_ntp_options_when_configured_and_asked_for() {
    let mut l = link();
    l.sol_max_rt = Some(600);
    l.inf_max_rt = Some(1200);
    l.ntp_servers = vec![
        NtpSuboption::from_server("2001:db8:1::123"),
        NtpSuboption::from_server("ntp.home.arpa"),
    ];
    let mut s = server_with(l);
    let c = Clock::new();
    let asks = |t: MessageType, ias: Vec<DhcpOption>, oro: Vec<u16>| {
        let mut o = vec![DhcpOption::Oro(oro)];
        o.extend(ias);
        from_client(t, 1, o)
    };
    let all = vec![code::SOL_MAX_RT, code::INF_MAX_RT, code::NTP_SERVER];
    let solicit = asks(MessageType::Solicit, vec![ia_na(1, &[])], all.clone());
    let adv = reply_of(&feed(&mut s, &c, 1, &solicit, true));
    assert_eq!(adv.msg_type, MessageType::Advertise);
    assert_eq!(
        adv.option(code::SOL_MAX_RT),
        Some(&DhcpOption::SolMaxRt(600))
    );
    assert_eq!(
        adv.option(code::INF_MAX_RT),
        Some(&DhcpOption::InfMaxRt(1200))
    );
    assert_eq!(
        adv.option(code::NTP_SERVER),
        Some(&DhcpOption::NtpServer(vec![
            NtpSuboption::ServerAddr(a("2001:db8:1::123")),
            NtpSuboption::ServerFqdn("ntp.home.arpa".into()),
        ]))
    );
    let info = asks(MessageType::InformationRequest, vec![], all);
    let rep = reply_of(&feed(&mut s, &c, 2, &info, true));
    assert!(rep.has(code::INF_MAX_RT) && rep.has(code::NTP_SERVER));
    // Not asked for: not sent.
    let plain = asks(
        MessageType::InformationRequest,
        vec![],
        vec![code::DNS_SERVERS],
    );
    let rep = reply_of(&feed(&mut s, &c, 3, &plain, true));
    assert!(!rep.has(code::SOL_MAX_RT) && !rep.has(code::INF_MAX_RT) && !rep.has(code::NTP_SERVER));
    // Asked for but not configured: not sent.
    let mut s = server_with(link());
    let info = asks(
        MessageType::InformationRequest,
        vec![],
        vec![code::SOL_MAX_RT, code::NTP_SERVER],
    );
    let rep = reply_of(&feed(&mut s, &c, 4, &info, true));
    assert!(!rep.has(code::SOL_MAX_RT) && !rep.has(code::NTP_SERVER));
}

/// Request with Reconfigure Accept from client `n` (an IA_PD).
fn request_accepting_reconfigure(s: &mut Server, c: &Clock, n: u8) -> ClientServerMessage {
    let req = to_us(
        MessageType::Request,
        n,
        vec![DhcpOption::ReconfAccept, ia_pd(9, &[])],
    );
    reply_of(&feed(s, c, n, &req, true))
}

fn key_of(m: &ClientServerMessage) -> Option<[u8; 16]> {
    m.options.iter().find_map(|o| match o {
        DhcpOption::Auth(a) => a.key(),
        _ => None,
    })
}

fn sends(actions: &[Action]) -> Vec<(ClientServerMessage, Vec<u8>, SocketAddrV6)> {
    actions
        .iter()
        .filter_map(|x| match x {
            Action::Send { data, dst, .. } => match Message::parse(data) {
                Ok(Message::ClientServer(m)) => Some((m, data.clone(), *dst)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn moved_link() -> LinkConfig {
    let mut moved = link();
    moved.prefix_pools = vec![PrefixPool {
        prefix: "2001:db8:9::/56".parse().unwrap(),
        delegated_len: 60,
    }];
    moved
}

#[test]
fn reconfigure_key_is_given_stored_and_kept_only_to_clients_that_accept() {
    let mut s = server_with(link());
    let c = Clock::new();
    let rep = request_accepting_reconfigure(&mut s, &c, 1);
    let key = key_of(&rep).expect("§20.4.2: the Reply carries the key");
    let lease = s.leases().next().unwrap();
    let r = lease.reconfigure.expect("stored with the lease");
    assert_eq!((r.key, r.client_addr), (key, *src(1).ip()));
    // The records persisted before the Reply carry it too (journal).
    let acts = feed(
        &mut s,
        &c,
        1,
        &to_us(
            MessageType::Renew,
            1,
            vec![DhcpOption::ReconfAccept, ia_pd(9, &[lease.prefix])],
        ),
        true,
    );
    let Action::Persist(recs) = &acts[0] else {
        panic!("{acts:?}")
    };
    assert!(matches!(&recs[0], LeaseRecord::Upsert(l) if l.reconfigure == Some(r)));
    assert_eq!(key_of(&reply_of(&acts)), Some(key), "the same key again");
    // A client that does not accept gets no key, and a link that does not
    // reconfigure gives none.
    let req = to_us(MessageType::Request, 2, vec![ia_pd(9, &[])]);
    assert_eq!(key_of(&reply_of(&feed(&mut s, &c, 2, &req, true))), None);
    let mut off = link();
    off.reconfigure = false;
    let mut s = server_with(off);
    assert_eq!(key_of(&request_accepting_reconfigure(&mut s, &c, 1)), None);
}

#[test]
fn served_prefix_change_sends_signed_reconfigures_until_the_client_renews() {
    let mut s = server_with(link());
    let mut c = Clock::new();
    let key1 = key_of(&request_accepting_reconfigure(&mut s, &c, 1)).unwrap();
    let key2 = key_of(&request_accepting_reconfigure(&mut s, &c, 2)).unwrap();
    assert_ne!(key1, key2);
    // A client without a key is not reconfigured.
    let req = to_us(MessageType::Request, 3, vec![ia_pd(9, &[])]);
    feed(&mut s, &c, 3, &req, true);
    // The same links again: nothing to do.
    s.set_links(vec![link()]);
    assert_eq!(s.pending_reconfigures(), 0);
    s.set_links(vec![moved_link()]);
    assert_eq!(s.pending_reconfigures(), 2);
    assert!(s.next_deadline(c.now()).unwrap() <= c.mono);
    let out = sends(&s.on_timer(c.now()));
    assert_eq!(out.len(), 2);
    let mut last_replay = 0;
    for (m, data, dst) in &out {
        assert_eq!(m.msg_type, MessageType::Reconfigure);
        assert_eq!(m.transaction_id, 0);
        assert_eq!(m.server_id(), Some(&server_duid()));
        assert_eq!(
            m.option(code::RECONF_MSG),
            Some(&DhcpOption::ReconfMsg(MessageType::Renew))
        );
        let (n, key) = if m.client_id() == Some(&client_duid(1)) {
            (1, key1)
        } else {
            (2, key2)
        };
        assert_eq!(*dst.ip(), *src(n).ip());
        assert_eq!(dst.port(), CLIENT_PORT);
        let r = verify_reconfigure(data, &key, None).expect("signed with the client's key");
        assert!(r > last_replay);
        last_replay = r;
        assert_eq!(
            verify_reconfigure(data, &[0; 16], None),
            Err(auth_error::BAD_DIGEST)
        );
    }
    // Nothing more before REC_TIMEOUT (with RAND: at least 1.8 s).
    c.mono += Duration::from_millis(1700);
    assert!(sends(&s.on_timer(c.now())).is_empty());
    // Client 1 renews: its retransmissions stop; client 2's go on.
    let renew = to_us(
        MessageType::Renew,
        1,
        vec![DhcpOption::ReconfAccept, ia_pd(9, &[])],
    );
    feed(&mut s, &c, 1, &renew, true);
    assert_eq!(s.pending_reconfigures(), 1);
    c.mono += Duration::from_millis(600);
    let again = sends(&s.on_timer(c.now()));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].0.client_id(), Some(&client_duid(2)));
    let r = verify_reconfigure(&again[0].1, &key2, Some(last_replay)).unwrap();
    assert!(r > last_replay, "each transmission a fresh replay value");
    // REC_MAX_RC transmissions in all, doubling, then given up.
    let mut n = 2; // the first transmission and `again`
    for _ in 0..200 {
        let Some(t) = s.next_deadline(c.now()) else {
            break;
        };
        if t > c.mono + Duration::from_secs(3600) {
            break;
        }
        c.mono = t.max(c.mono);
        n += sends(&s.on_timer(c.now())).len();
    }
    assert_eq!(n, 8, "REC_MAX_RC");
    assert_eq!(s.pending_reconfigures(), 0);
    assert_eq!(s.stats().reconfigures_unanswered, 1);
}

/// A renumbering reaches the server in steps (the delegation's prefix
/// pool, then the LAN's new /64): each step wakes only the clients whose
/// bindings it touches, so a client that renewed after the first is not
/// told to Renew again for the second (seen as two Reconfigures in
/// reconfigure_e2e when the second step came a millisecond after the Renew).
#[test]
fn only_clients_whose_bindings_a_change_touches_are_reconfigured() {
    let mut s = server_with(link());
    let c = Clock::new();
    // Client 1 holds a prefix, client 2 an address; both accept Reconfigure.
    request_accepting_reconfigure(&mut s, &c, 1);
    let req = to_us(
        MessageType::Request,
        2,
        vec![DhcpOption::ReconfAccept, ia_na(7, &[])],
    );
    reply_of(&feed(&mut s, &c, 2, &req, true));
    // The served /64s changed: the address client only.
    let mut renumbered = link();
    renumbered.served_prefixes = vec!["2001:db8:9:1::/64".parse().unwrap()];
    s.set_links(vec![renumbered.clone()]);
    assert_eq!(s.pending_reconfigures(), 1);
    let out = sends(&s.on_timer(c.now()));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.client_id(), Some(&client_duid(2)));
    // The prefix pool moved: now the prefix client too.
    let mut moved = moved_link();
    moved.served_prefixes = renumbered.served_prefixes;
    s.set_links(vec![moved]);
    assert_eq!(s.pending_reconfigures(), 2);
    // The address pool moved: a client already queued keeps its place.
    let mut pool = link();
    pool.address_pools[0].first = a("2001:db8:1::2000");
    pool.address_pools[0].last = a("2001:db8:1::2003");
    s.set_links(vec![pool]);
    assert_eq!(s.pending_reconfigures(), 2);
}

#[test]
fn reconfigures_of_many_clients_are_paced() {
    let mut l = link();
    l.prefix_pools = vec![PrefixPool {
        prefix: "2001:db8:8::/48".parse().unwrap(),
        delegated_len: 60,
    }];
    let mut s = server_with(l);
    let c = Clock::new();
    for n in 1..=100u8 {
        request_accepting_reconfigure(&mut s, &c, n);
    }
    s.set_links(vec![moved_link()]);
    assert_eq!(s.pending_reconfigures(), 100);
    let first = sends(&s.on_timer(c.now())).len();
    assert!(first <= 20, "{first}");
    assert!(sends(&s.on_timer(c.now())).is_empty(), "paced");
    let next = s.next_deadline(c.now()).unwrap();
    assert!(next >= c.mono + Duration::from_millis(100));
}
