use super::*;

use testlab::unhex as hex;

/// A Response captured from BIRD 2.0.12 (fe80::2486:70ff:fe20:34ca) with
/// tcpdump on a veth, split horizon with poisoned reverse on: the routes
/// it learned from the peer come back at metric 16.
const BIRD_RESPONSE: &str = "02010000\
        20010db800bb000000000000000000000000 3010\
        20010db800aa000000000000000000000000 3001\
        20010db800bb000100000000000000000000 4010\
        20010db800aa000100000000000000000000 4001\
        20010db8000a000000000000000000000000 4001";

fn bird() -> Vec<u8> {
    hex(&BIRD_RESPONSE.replace([' ', '\n'], ""))
}

#[test]
fn parses_bird_response() {
    let r = Repr::parse_bytes(&bird()).unwrap();
    assert_eq!(r.command, Command::Response);
    assert_eq!(r.rtes.len(), 5);
    let checked: Vec<Rte> = r.rtes.iter().map(|e| e.check().unwrap()).collect();
    assert_eq!(
        checked[0],
        Rte::Route {
            prefix: "2001:db8:bb::/48".parse().unwrap(),
            tag: 0,
            metric: 16
        }
    );
    assert_eq!(
        checked[4],
        Rte::Route {
            prefix: "2001:db8:a::/64".parse().unwrap(),
            tag: 0,
            metric: 1
        }
    );
    // And back to the same bytes.
    assert_eq!(r.to_bytes(), bird());
}

#[test]
fn whole_table_request_golden() {
    // §2.4.1: one RTE, prefix 0, prefix length 0, metric 16.
    let r = Repr::whole_table_request();
    let b = r.to_bytes();
    assert_eq!(
        b,
        hex(&format!("01010000{}0000{}", "00".repeat(16), "0010"))
    );
    let back = Repr::parse_bytes(&b).unwrap();
    assert!(back.rtes[0].is_whole_table_request());
}

#[test]
fn next_hop_rte() {
    // Header, next hop fe80::1 (tag 0, length 0, metric 0xFF), then
    // 2001:db8:1::/64 tag 0x00ab metric 3.
    let b = hex(concat!(
        "02010000",
        "fe800000000000000000000000000001",
        "0000",
        "00",
        "ff",
        "20010db8000100000000000000000000",
        "00ab",
        "40",
        "03",
    ));
    let r = Repr::parse_bytes(&b).unwrap();
    assert_eq!(
        r.rtes[0].check(),
        Ok(Rte::NextHop("fe80::1".parse().unwrap()))
    );
    assert_eq!(
        r.rtes[1].check(),
        Ok(Rte::Route {
            prefix: "2001:db8:1::/64".parse().unwrap(),
            tag: 0xab,
            metric: 3
        })
    );
    let mut bad = r.rtes[0];
    bad.prefix_len = 64;
    assert_eq!(bad.check(), Err(RteError::BadNextHop));
}

#[test]
fn packet_errors() {
    assert_eq!(Repr::parse_bytes(&[2, 1]), Err(ParseError::Truncated(2)));
    assert_eq!(
        Repr::parse_bytes(&[2, 1, 0, 0, 1]),
        Err(ParseError::BadLength(1))
    );
    assert_eq!(
        Repr::parse_bytes(&[3, 1, 0, 0]),
        Err(ParseError::UnknownCommand(3))
    );
    assert_eq!(
        Repr::parse_bytes(&[2, 2, 0, 0]),
        Err(ParseError::BadVersion(2))
    );
    assert_eq!(
        Repr::parse_bytes(&[1, 1, 0, 0]),
        Err(ParseError::EmptyRequest)
    );
    // An empty Response is legal (nothing to say).
    assert!(Repr::parse_bytes(&[2, 1, 0, 0]).is_ok());
}

#[test]
fn rte_errors() {
    let base = RawRte {
        prefix: "2001:db8::".parse().unwrap(),
        tag: 0,
        prefix_len: 32,
        metric: 1,
    };
    assert!(base.check().is_ok());
    assert_eq!(
        RawRte { metric: 0, ..base }.check(),
        Err(RteError::BadMetric(0))
    );
    assert_eq!(
        RawRte { metric: 17, ..base }.check(),
        Err(RteError::BadMetric(17))
    );
    assert_eq!(
        RawRte {
            prefix_len: 129,
            ..base
        }
        .check(),
        Err(RteError::PrefixLenTooLong(129))
    );
    assert_eq!(
        RawRte {
            prefix_len: 16,
            ..base
        }
        .check(),
        Err(RteError::HostBitsSet)
    );
    let mc = RawRte {
        prefix: "ff02::".parse().unwrap(),
        prefix_len: 16,
        ..base
    };
    assert_eq!(mc.check(), Err(RteError::MulticastPrefix));
    let ll = RawRte {
        prefix: "fe80::".parse().unwrap(),
        prefix_len: 64,
        ..base
    };
    assert_eq!(ll.check(), Err(RteError::LinkLocalPrefix));
    // The default route is a valid RTE.
    let def = RawRte {
        prefix: Ipv6Addr::UNSPECIFIED,
        prefix_len: 0,
        ..base
    };
    assert!(def.check().is_ok());
}

#[test]
fn mtu_bound() {
    // §2.1: (1500 - 40 - 8 - 4) / 20 = 72 entries.
    assert_eq!(max_rtes(1500), 72);
    assert_eq!(max_rtes(1280), 61);
    // 9000 jumbo: 447.
    assert_eq!(max_rtes(9000), 447);
    let rtes: Vec<RawRte> = (0..200u16)
        .map(|i| RawRte {
            prefix: Ipv6Addr::new(0x2001, 0xdb8, i, 0, 0, 0, 0, 0),
            tag: 0,
            prefix_len: 48,
            metric: 1,
        })
        .collect();
    let pkts = emit_responses(&rtes, 1500);
    assert_eq!(pkts.len(), 3);
    assert!(pkts.iter().all(|p| p.len() <= 1500 - 48));
    assert_eq!(pkts[0].len(), 4 + 72 * 20);
    let n: usize = pkts
        .iter()
        .map(|p| Repr::parse_bytes(p).unwrap().rtes.len())
        .sum();
    assert_eq!(n, 200);
}

#[test]
fn next_hop_repeated_across_datagrams() {
    let nh = RawRte {
        prefix: "fe80::1".parse().unwrap(),
        tag: 0,
        prefix_len: 0,
        metric: 0xff,
    };
    let mut rtes = vec![nh];
    for i in 0..100u16 {
        rtes.push(RawRte {
            prefix: Ipv6Addr::new(0x2001, 0xdb8, i, 0, 0, 0, 0, 0),
            tag: 0,
            prefix_len: 48,
            metric: 2,
        });
    }
    let pkts = emit_responses(&rtes, 1280);
    assert_eq!(pkts.len(), 2);
    for p in &pkts {
        let r = Repr::parse_bytes(p).unwrap();
        assert_eq!(r.rtes[0], nh);
        assert!(r.rtes.len() <= 61);
    }
    let routes: usize = pkts
        .iter()
        .map(|p| Repr::parse_bytes(p).unwrap().rtes.len() - 1)
        .sum();
    assert_eq!(routes, 100);
}
