//! Resident memory of the server engine holding N leases granted through
//! the normal Solicit/Request path: `cargo run --release --example
//! lease_memory -- 100000`. Prints the RSS growth per lease.

use std::net::{Ipv6Addr, SocketAddrV6};
use std::time::Instant;
use v6dhcp::engine::*;
use v6dhcp::wire::*;

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut link = LinkConfig::new("lan0", 2);
    link.address_pools = vec![AddressPool {
        first: "2001:db8:1::".parse().unwrap(),
        last: "2001:db8:1::ffff:ffff:ffff".parse().unwrap(),
    }];
    let server_duid = Duid::new_ll(1, &[2, 0, 0, 0, 0, 1]);
    let mut s = Server::new(
        ServerConfig {
            server_duid: server_duid.clone(),
            links: vec![link],
            limits: Limits::default(),
        },
        1,
    );
    let before = rss_kib();
    let t = Instant::now();
    let src = SocketAddrV6::new(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1), 546, 0, 2);
    for i in 0..n {
        let b = i.to_be_bytes();
        let duid = Duid::new_llt(1, 0x2a2a2a2a, &[0, 0x16, b[0], b[1], b[2], b[3]]);
        let m = ClientServerMessage {
            msg_type: MessageType::Request,
            transaction_id: i & 0xffffff,
            options: vec![
                DhcpOption::ClientId(duid),
                DhcpOption::ServerId(server_duid.clone()),
                DhcpOption::IaNa(IaNa {
                    iaid: 1,
                    t1: 0,
                    t2: 0,
                    options: vec![],
                }),
            ],
        }
        .to_bytes();
        let now = Now {
            mono: Instant::now(),
            unix: 1_800_000_000,
        };
        s.handle(
            now,
            Received {
                data: &m,
                src,
                ifindex: 2,
                multicast: true,
                client_lladdr: None,
            },
        );
    }
    let el = t.elapsed();
    let after = rss_kib();
    println!(
        "{} leases: RSS {} KiB -> {} KiB, {:.0} bytes/lease; {:.0} Requests/s in one thread",
        s.lease_count(),
        before,
        after,
        (after - before) as f64 * 1024.0 / f64::from(n),
        f64::from(n) / el.as_secs_f64()
    );
}
