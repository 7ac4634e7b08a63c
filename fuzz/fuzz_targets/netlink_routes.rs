//! The route messages the RIPng service reads from the kernel
//! (`v6netlink::routes::parse_route`: dumps and notifications) and what the
//! engine does with them (`kernel_rip_routes` / `_added` / `_deleted`):
//! arbitrary rtmsg payloads never panic, a parsed route is a valid prefix,
//! and the engine only ever installs its own learned routes (protocol rip,
//! via its neighbour) and removes only what it was shown or installed.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "ripng_common.rs"]
mod ripng_common;

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};
use v6common::kernel::rtprot;
use v6common::RouteFact;
use v6netlink::routes::parse_route;
use v6ripng::engine::{Action, Received};
use v6ripng::wire::{Command, RawRte, Repr};

fuzz_target!(|data: &[u8]| {
    let now0 = Instant::now();
    let mut e = ripng_common::engine_on_eth0(now0);
    // A few learned routes, so the kernel's view of them can disagree.
    let nb = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
    let rtes: Vec<RawRte> = (0..4u16)
        .map(|i| RawRte {
            prefix: Ipv6Addr::new(0x2001, 0xdb8, i, 0, 0, 0, 0, 0),
            tag: 0,
            prefix_len: 48,
            metric: 1,
        })
        .collect();
    let pkt = Repr {
        command: Command::Response,
        rtes,
    }
    .to_bytes();
    let _ = e.handle_packet(
        now0,
        Received {
            src: nb,
            src_port: 521,
            ifindex: 2,
            hop_limit: Some(255),
            payload: &pkt,
        },
    );
    // Records: [op, len, payload of len bytes]; op picks dump / added /
    // deleted / a timer step / an install refusal.
    let mut rest = data;
    let mut now = now0;
    let mut dump: Vec<RouteFact> = Vec::new();
    while rest.len() >= 2 {
        let (op, len) = (rest[0], usize::from(rest[1]));
        let body = &rest[2..(2 + len).min(rest.len())];
        rest = &rest[(2 + len).min(rest.len())..];
        let parsed = parse_route(body);
        if let Some(r) = &parsed {
            assert!(r.dst.len() <= 128);
            assert_eq!(
                r.dst.addr(),
                v6common::Ipv6Prefix::new(r.dst.addr(), r.dst.len()).addr()
            );
        }
        let shown: Vec<RouteFact> = parsed.iter().cloned().collect();
        let acts = match (op % 5, parsed) {
            (0, Some(r)) => {
                dump.push(r);
                e.kernel_rip_routes(now, &dump)
            }
            (1, Some(r)) => e.kernel_rip_added(now, &r),
            (2, Some(r)) => e.kernel_rip_deleted(now, &r),
            (3, Some(r)) => {
                e.kernel_install_failed(now, &[r]);
                Vec::new()
            }
            _ => {
                now += Duration::from_millis(u64::from(op) * 250);
                e.on_timer(now)
            }
        };
        for a in acts {
            match a {
                Action::InstallRoutes(v) => {
                    for r in v {
                        assert_eq!(r.protocol, rtprot::RIP);
                        assert_eq!(r.gateway, Some(nb));
                        assert_eq!(r.oif, Some(2));
                        assert!(e.route(&r.dst).is_some_and(|t| t.installed));
                    }
                }
                Action::RemoveRoutes(v) => {
                    for r in v {
                        let ours = e.route(&r.dst).is_some();
                        assert!(ours || shown.contains(&r) || dump.contains(&r), "{r:?}");
                    }
                }
                Action::Send { .. } => {}
            }
        }
    }
});
