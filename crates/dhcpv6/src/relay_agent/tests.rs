use super::*;
use crate::wire::{code, IaPd};
use testlab::unhex;

/// The Solicit of `wire`'s golden test, as dhclient 4.4 sends it.
const SOLICIT: &str = "01 10 08 74 \
    0001 000e 0001 0001 11f94b5a 080027c540c7 \
    0006 0004 0017 0018 \
    0008 0002 0000 \
    0003 000c 27c540c7 00000000 00000000";

const LAN: u32 = 3;

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn agent() -> RelayAgent {
    let mut r = RelayAgent::default();
    assert!(r
        .set_lans(vec![Lan {
            ifindex: LAN,
            interface_id: b"lan0".to_vec(),
            link_address: a("2001:db8:ff::2"),
        }])
        .is_empty());
    r
}

fn from_lan<'a>(data: &'a [u8], src: &str, mac: Option<[u8; 6]>) -> FromLan<'a> {
    FromLan {
        data,
        src: a(src),
        ifindex: LAN,
        client_lladdr: mac,
    }
}

fn forwarded(acts: &[Action]) -> Vec<u8> {
    match acts.last() {
        Some(Action::Forward { lan: LAN, data }) => data.clone(),
        other => panic!("not forwarded: {other:?}"),
    }
}

/// RFC 8415 §9 and §19.1.1 laid out by hand: msg-type 12, hop-count 0,
/// link-address (ours in the relayed /64), peer-address (the client's
/// link-local), Interface-ID "lan0" (§21.18), the Relay Message (§21.10)
/// and the client's MAC (RFC 6939 §4: type 1, Ethernet).
#[test]
fn a_solicit_becomes_a_golden_relay_forward() {
    let mut r = agent();
    let sol = unhex(SOLICIT);
    let mac = [0x08, 0x00, 0x27, 0xc5, 0x40, 0xc7];
    let acts = r.from_lan(from_lan(&sol, "fe80::a00:27ff:fec5:40c7", Some(mac)));
    let want = unhex(&format!(
        "0c 00 20010db800ff00000000000000000002 fe800000000000000a0027fffec540c7 \
         0012 0004 6c616e30 \
         0009 0034 {SOLICIT} \
         004f 0008 0001 080027c540c7"
    ));
    assert_eq!(forwarded(&acts), want);
    assert_eq!(r.stats.forwarded, 1);
}

#[test]
fn a_cascaded_relay_forward_is_wrapped_again_up_to_the_hop_limit() {
    let mut r = agent();
    let sol = unhex(SOLICIT);
    let inner = |hops: u8| {
        Message::Relay(RelayMessage {
            msg_type: MessageType::RelayForw,
            hop_count: hops,
            link_address: a("2001:db8:5::1"),
            peer_address: a("fe80::5"),
            options: vec![DhcpOption::RelayMsg(sol.clone())],
        })
        .to_bytes()
    };
    let level = |bytes: Vec<u8>| match Message::parse(&bytes).unwrap() {
        Message::Relay(m) => m,
        m => panic!("{m:?}"),
    };
    // From a link-local source: our link-address names the link (§19.1.2);
    // no RFC 6939 option, the relay next to the client adds that.
    let m = level(forwarded(&r.from_lan(from_lan(
        &inner(2),
        "fe80::9",
        Some([2; 6]),
    ))));
    assert_eq!((m.hop_count, m.link_address), (3, a("2001:db8:ff::2")));
    assert_eq!(m.peer_address, a("fe80::9"));
    assert_eq!(m.relay_msg(), Some(&inner(2)[..]));
    assert!(!m
        .options
        .iter()
        .any(|o| o.code() == code::CLIENT_LINKLAYER_ADDR));
    // From a global source: link-address 0, the relay named its link.
    let m = level(forwarded(&r.from_lan(from_lan(
        &inner(0),
        "2001:db8:5::1",
        None,
    ))));
    assert_eq!((m.hop_count, m.link_address), (1, Ipv6Addr::UNSPECIFIED));
    // §19.1.2: HOP_COUNT_LIMIT reached: dropped and counted.
    assert!(r
        .from_lan(from_lan(&inner(HOP_COUNT_LIMIT), "fe80::9", None))
        .is_empty());
    assert!(r.from_lan(from_lan(&inner(7), "fe80::9", None)).len() == 1);
    assert_eq!(r.stats.drops.get(drop_reason::TOO_MANY_HOPS), Some(&1));
}

#[test]
fn what_no_client_sends_is_dropped_by_reason() {
    let mut r = agent();
    let mut adv = unhex(SOLICIT);
    adv[0] = MessageType::Advertise as u8;
    assert!(r.from_lan(from_lan(&adv, "fe80::1", None)).is_empty());
    assert!(r.from_lan(from_lan(&[], "fe80::1", None)).is_empty());
    assert!(r.from_lan(from_lan(&[1, 2], "fe80::1", None)).is_empty());
    assert!(r
        .from_lan(from_lan(&[0xfe, 0, 0, 0], "fe80::1", None))
        .is_empty());
    let mut elsewhere = from_lan(&adv, "fe80::1", None);
    elsewhere.ifindex = 9;
    assert!(r.from_lan(elsewhere).is_empty());
    let d = &r.stats.drops;
    assert_eq!(d.get(drop_reason::NOT_FROM_CLIENT), Some(&1));
    assert_eq!(d.get("truncated"), Some(&2));
    assert_eq!(d.get("unknown-message-type"), Some(&1));
    assert_eq!(d.get(drop_reason::UNKNOWN_INTERFACE), Some(&1));
    assert_eq!((r.stats.forwarded, r.stats.dropped()), (0, 5));
}

/// A Relay-reply as Kea sends it back (§19.3): our level's hop count,
/// link- and peer-address, the Interface-ID repeated and the Advertise.
const ADVERTISE: &str = "02 10 08 74 \
    0001 000e 0001 0001 11f94b5a 080027c540c7 \
    0002 000a 0003 0001 020000000001";

fn relay_reply(hop: u8, iface: &str, inner: &[u8]) -> Vec<u8> {
    let mut v = unhex(&format!(
        "0d {hop:02x} 20010db800ff00000000000000000002 fe800000000000000a0027fffec540c7"
    ));
    let id = iface.as_bytes();
    v.extend_from_slice(&[0, 18, 0, id.len() as u8]);
    v.extend_from_slice(id);
    v.extend_from_slice(&[0, 9, 0, inner.len() as u8]);
    v.extend_from_slice(inner);
    v
}

#[test]
fn a_relay_reply_goes_to_the_peer_it_names() {
    let mut r = agent();
    let now = Instant::now();
    let adv = unhex(ADVERTISE);
    let acts = r.from_wan(now, &relay_reply(0, "lan0", &adv));
    assert_eq!(
        acts,
        vec![Action::Deliver {
            ifindex: LAN,
            dst: SocketAddrV6::new(a("fe80::a00:27ff:fec5:40c7"), 546, 0, LAN),
            data: adv.clone(),
        }]
    );
    // A Relay-reply for a relay behind us: to its port 547 (§19.2).
    let nested = relay_reply(0, "eth1", &adv);
    let acts = r.from_wan(now, &relay_reply(1, "lan0", &nested));
    assert!(
        matches!(&acts[..], [Action::Deliver { dst, data, .. }] if dst.port() == 547 && *data == nested)
    );
    assert_eq!(r.stats.delivered, 2);
}

#[test]
fn relay_replies_that_are_not_ours_are_dropped_by_reason() {
    let mut r = agent();
    let now = Instant::now();
    let adv = unhex(ADVERTISE);
    let nested = relay_reply(0, "eth1", &adv);
    let mut no_peer = relay_reply(0, "lan0", &adv);
    no_peer[18..34].copy_from_slice(&[0; 16]);
    let mut fwd = relay_reply(0, "lan0", &adv);
    fwd[0] = MessageType::RelayForw as u8;
    let sol = unhex(SOLICIT);
    for (bytes, reason) in [
        (relay_reply(0, "lan9", &adv), drop_reason::UNKNOWN_LINK),
        (relay_reply(1, "lan0", &adv), drop_reason::HOP_MISMATCH),
        (relay_reply(0, "lan0", &nested), drop_reason::HOP_MISMATCH),
        (relay_reply(0, "lan0", &sol), drop_reason::NOT_FOR_CLIENT),
        (no_peer, drop_reason::BAD_PEER),
        (fwd, drop_reason::NOT_RELAY_REPLY),
        (adv.clone(), drop_reason::NOT_RELAY_REPLY),
        (vec![0x0d, 0], "truncated"),
    ] {
        assert!(r.from_wan(now, &bytes).is_empty(), "{reason}");
        assert!(
            r.stats.drops.get(reason).is_some_and(|n| *n > 0),
            "{reason}"
        );
    }
    assert_eq!((r.stats.delivered, r.stats.dropped()), (0, 8));
}

/// A Reply delegating `prefix` with `valid` (preferred half of it).
fn reply_pd(mt: MessageType, prefix: &str, valid: u32) -> Vec<u8> {
    let p: Ipv6Prefix = prefix.parse().unwrap();
    Message::ClientServer(ClientServerMessage {
        msg_type: mt,
        transaction_id: 7,
        options: vec![DhcpOption::IaPd(IaPd {
            iaid: 1,
            t1: 0,
            t2: 0,
            options: vec![DhcpOption::IaPrefix(IaPrefix {
                preferred: valid / 2,
                valid,
                prefix_len: p.len(),
                prefix: p.addr(),
                options: vec![],
            })],
        })],
    })
    .to_bytes()
}

#[test]
fn a_prefix_delegated_to_a_lan_router_is_routed_until_it_ends() {
    let mut r = agent();
    let t0 = Instant::now();
    let via = a("fe80::a00:27ff:fec5:40c7");
    let route = crate::engine::delegated_route("2001:db8:100::/56".parse().unwrap(), via, LAN);
    let reply = |valid| {
        relay_reply(
            0,
            "lan0",
            &reply_pd(MessageType::Reply, "2001:db8:100::/56", valid),
        )
    };
    let routes = |acts: Vec<Action>| -> Vec<Action> {
        acts.into_iter()
            .filter(|a| !matches!(a, Action::Deliver { .. }))
            .collect()
    };
    assert_eq!(
        routes(r.from_wan(t0, &reply(40))),
        vec![Action::AddRoute(route.clone())]
    );
    // A Renew's Reply: the route stays, its end moves.
    assert!(routes(r.from_wan(t0, &reply(40))).is_empty());
    // The prefix now granted to another router: the route moves to it.
    let mut other = reply(40);
    other[18..34].copy_from_slice(&a("fe80::2").octets());
    let moved = crate::engine::delegated_route(route.dst, a("fe80::2"), LAN);
    assert_eq!(
        routes(r.from_wan(t0, &other)),
        vec![
            Action::DelRoute(route.clone()),
            Action::AddRoute(moved.clone())
        ]
    );
    assert_eq!(
        routes(r.from_wan(t0, &reply(40))),
        vec![Action::DelRoute(moved), Action::AddRoute(route.clone())]
    );
    assert_eq!(r.next_timer(), Some(t0 + Duration::from_secs(40)));
    // An Advertise grants nothing.
    let adv = relay_reply(
        0,
        "lan0",
        &reply_pd(MessageType::Advertise, "2001:db8:200::/56", 40),
    );
    assert!(routes(r.from_wan(t0, &adv)).is_empty());
    // Lifetime 0 (§18.3.4): gone.
    assert_eq!(
        routes(r.from_wan(t0, &reply(0))),
        vec![Action::DelRoute(route.clone())]
    );
    // The valid lifetime runs out.
    r.from_wan(t0, &reply(40));
    assert!(r.on_timer(t0 + Duration::from_secs(39)).is_empty());
    assert_eq!(
        r.on_timer(t0 + Duration::from_secs(40)),
        vec![Action::DelRoute(route.clone())]
    );
    // The router releases it: the route goes with the Release.
    r.from_wan(t0, &reply(40));
    let release = reply_pd(MessageType::Release, "2001:db8:100::/56", 0);
    let acts = r.from_lan(from_lan(&release, "fe80::a00:27ff:fec5:40c7", None));
    assert_eq!(acts[0], Action::DelRoute(route.clone()));
    assert!(matches!(acts[1], Action::Forward { .. }));
    // The LAN stops relaying (fallback to routed mode): its routes go.
    r.from_wan(t0, &reply(40));
    assert_eq!(r.set_lans(vec![]), vec![Action::DelRoute(route)]);
    assert_eq!(r.routes().count(), 0);
}

#[test]
fn a_delegation_too_short_to_route_is_not_routed() {
    let mut r = agent();
    let reply = relay_reply(0, "lan0", &reply_pd(MessageType::Reply, "2000::/8", 40));
    let acts = r.from_wan(Instant::now(), &reply);
    assert!(matches!(&acts[..], [Action::Deliver { .. }]));
}
