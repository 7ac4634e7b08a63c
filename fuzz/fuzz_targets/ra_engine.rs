//! RA engine entry points: arbitrary RS/RA (parsed first, as the glue does),
//! link changes and timer ticks never panic, and every RA the engine sends
//! parses back with our own parser.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};
use v6ra::engine::{Action, Advertiser, HomePrefix, LinkAddr, LinkInput, Params, PrefixParams};
use v6ra::wire::{parse, parse_ra, RouterDiscovery};

fuzz_target!(|data: &[u8]| {
    let t0 = Instant::now();
    let mut p = Params::with_max_interval(Duration::from_secs(30));
    p.prefixes.push(PrefixParams {
        prefix: "::/64".parse().unwrap(),
        on_link: true,
        autonomous: true,
        valid_lifetime: 3600,
        preferred_lifetime: 1800,
    });
    p.prefixes.push(PrefixParams {
        prefix: "2001:db8:1::/64".parse().unwrap(),
        on_link: true,
        autonomous: true,
        valid_lifetime: 86400,
        preferred_lifetime: 14400,
    });
    // RFC 7084 G-4 mode on for odd-length inputs.
    p.require_default_route = data.len() % 2 == 1;
    // RFC 7084 L-3 home routes from the link facts below.
    p.home_routes = true;
    let mut a = Advertiser::new(t0, p, 1);
    let ll = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    let mut link = LinkInput {
        usable: true,
        lladdr: Some(vec![2, 0, 0, 0, 0, 1]),
        link_local: Some(ll),
        mtu: 1500,
        addrs: vec![],
        forwarding: true,
        default_route: false,
        home_prefixes: vec![],
    };
    let mut now = t0;
    let mut out = a.update_link(now, link.clone());
    // Records: [op, len, bytes...]
    let mut rest = data;
    while let Some((&op, tail)) = rest.split_first() {
        let Some((&len, tail)) = tail.split_first() else {
            break;
        };
        let n = usize::from(len).min(tail.len());
        let (chunk, tail) = tail.split_at(n);
        rest = tail;
        now += Duration::from_millis(u64::from(op) * 97);
        match op % 5 {
            0 | 1 => {
                let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(op));
                match parse(chunk, src, 255) {
                    Ok(RouterDiscovery::Solicitation(rs)) => out.extend(a.on_rs(now, src, &rs)),
                    Ok(RouterDiscovery::Advertisement(ra)) => out.extend(a.on_ra(now, src, &ra)),
                    Err(_) => {}
                }
            }
            2 => {
                // Link facts from the bytes: up/down, addresses coming and going.
                link.usable = chunk.first().is_none_or(|b| b & 1 == 0);
                link.forwarding = chunk.get(1).is_none_or(|b| b & 1 == 0);
                link.default_route = chunk.get(1).is_some_and(|b| b & 2 != 0);
                link.addrs = chunk
                    .chunks(4)
                    .map(|c| LinkAddr {
                        prefix: v6common::Ipv6Prefix::new(
                            Ipv6Addr::new(0x2001, 0xdb8, u16::from(c[0]), 0, 0, 0, 0, 1),
                            if c.len() > 1 && c[1] & 1 == 1 { 56 } else { 64 },
                        ),
                        deprecated: c.len() > 2 && c[2] & 1 == 1,
                        preferred_lft: c.get(3).map_or(u32::MAX, |x| u32::from(*x) * 10),
                        valid_lft: c.get(3).map_or(u32::MAX, |x| u32::from(*x) * 20),
                    })
                    .collect();
                // Home prefixes (the ULA and delegations) coming, going
                // and running out.
                link.home_prefixes = chunk
                    .chunks(4)
                    .map(|c| HomePrefix {
                        prefix: v6common::Ipv6Prefix::new(
                            Ipv6Addr::new(0x2001, 0xdb8, 0x100 + u16::from(c[0]), 0, 0, 0, 0, 0),
                            48,
                        ),
                        valid_until: c.get(1).map(|x| now + Duration::from_secs(u64::from(*x))),
                    })
                    .collect();
                out.extend(a.update_link(now, link.clone()));
            }
            3 => {
                if let Some(t) = a.next_timer() {
                    now = now.max(t);
                }
                out.extend(a.on_timer(now));
            }
            _ => out.extend(a.on_timer(now)),
        }
    }
    out.extend(a.shutdown(now));
    for act in out {
        if let Action::SendMulticast(b) | Action::SendUnicast { bytes: b, .. } = act {
            parse_ra(&b, ll).expect("our RA parses");
        }
    }
});
