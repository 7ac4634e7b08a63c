//! Shared by the RIPng fuzz targets (included with `#[path]`; not a
//! target itself): an engine running RIPng on eth0 (index 2, link-local
//! fe80::1), as the daemon sets it up from the kernel view.
use std::net::Ipv6Addr;
use std::time::Instant;
use v6common::{AddrFact, KernelView, LinkFact};
use v6ripng::engine::{Config, Engine, IfaceConfig};

pub fn engine_on_eth0(now: Instant) -> Engine {
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
            ..Default::default()
        },
    );
    kv.addrs.push(AddrFact::permanent(
        2,
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
        64,
    ));
    let cfg = Config {
        interfaces: vec![IfaceConfig {
            name: "eth0".into(),
            cost: 1,
        }],
        ..Config::default()
    };
    let mut e = Engine::new(cfg, 1);
    let _ = e.set_kernel(now, &kv);
    e
}
