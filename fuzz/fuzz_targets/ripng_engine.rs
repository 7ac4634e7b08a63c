//! RIPng engine entry point: arbitrary datagrams from arbitrary sources,
//! ports and hop limits, interleaved with timer ticks, never panic and never
//! install a route that is not a valid unicast prefix.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};
use v6common::{AddrFact, KernelView, LinkFact};
use v6ripng::engine::{Action, Config, Engine, IfaceConfig, Received};

fuzz_target!(|data: &[u8]| {
    let now0 = Instant::now();
    let mut kv = KernelView::default();
    kv.links.insert(
        2,
        LinkFact {
            index: 2,
            name: "eth0".into(),
            lladdr: None,
            mtu: 1500,
            admin_up: true,
            running: true,
            kind: None,
        },
    );
    kv.addrs.push(AddrFact {
        index: 2,
        addr: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
        prefix_len: 64,
        preferred_lft: u32::MAX,
        valid_lft: u32::MAX,
        tentative: false,
        deprecated: false,
        dad_failed: false,
        permanent: true,
    });
    let cfg = Config {
        interfaces: vec![IfaceConfig {
            name: "eth0".into(),
            cost: 1,
        }],
        ..Config::default()
    };
    let mut e = Engine::new(cfg, 1);
    let _ = e.set_kernel(now0, &kv);
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
