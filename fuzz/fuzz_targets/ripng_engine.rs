//! RIPng engine entry point: arbitrary datagrams from arbitrary sources,
//! ports and hop limits, interleaved with timer ticks, never panic and never
//! install a route that is not a valid unicast prefix.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "ripng_common.rs"]
mod ripng_common;

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use v6ripng::engine::{Action, Received};

fuzz_target!(|data: &[u8]| {
    let now0 = Instant::now();
    let mut e = ripng_common::engine_on_eth0(now0);
    // Records: [len, src last byte, port hi/lo, hop limit, time step, payload...]
    let mut rest = data;
    let mut now = now0;
    while rest.len() >= 6 {
        let len = rest[0] as usize;
        let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, u16::from(rest[1]));
        let port = u16::from_be_bytes([rest[2], rest[3]]);
        let hl = rest[4];
        now += Duration::from_millis(u64::from(rest[5]) * 500);
        let body = &rest[6..(6 + len * 4).min(rest.len())];
        rest = &rest[(6 + len * 4).min(rest.len())..];
        let acts = e
            .handle_packet(
                now,
                Received {
                    src,
                    src_port: port,
                    ifindex: 2,
                    hop_limit: Some(hl),
                    payload: body,
                },
            )
            .unwrap_or_default();
        let acts = [acts, e.on_timer(now)].concat();
        for a in acts {
            if let Action::InstallRoutes(v) = a {
                for r in v {
                    assert!(!r.dst.is_link_local() && !r.dst.addr().is_multicast());
                }
            }
        }
    }
});
