use super::*;
use crate::wire::NLMSG_HDRLEN;

fn route() -> RouteFact {
    RouteFact {
        dst: "2001:db8:aa::/48".parse().unwrap(),
        gateway: Some("fe80::1".parse().unwrap()),
        oif: Some(7),
        protocol: 189,
        metric: 20,
        table: RT_TABLE_MAIN,
        kind: RouteKind::Unicast,
    }
}

/// Without `via`, the event filter is the rip-only one it always was;
/// with it, every jump lands inside the program and both ends return.
#[test]
fn event_program_shapes() {
    let old = [
        bpf(BPF_LD_H_ABS, 0, 0, 4),
        bpf(BPF_JEQ_K, 1, 0, host16(RTM_NEWROUTE)),
        bpf(BPF_JEQ_K, 0, 4, host16(RTM_DELROUTE)),
        bpf(BPF_LD_B_ABS, 0, 0, 16),
        bpf(BPF_JEQ_K, 0, 2, u32::from(AF_INET6)),
        bpf(BPF_LD_B_ABS, 0, 0, 21),
        bpf(BPF_JEQ_K, 1, 0, 189),
        bpf(BPF_RET_K, 0, 0, BPF_ACCEPT),
        bpf(BPF_RET_K, 0, 0, 0),
    ];
    let key = |p: &[libc::sock_filter]| -> Vec<_> {
        p.iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect()
    };
    assert_eq!(key(&event_program(189, None)), key(&old));
    let p = event_program(189, Some(201));
    let n = p.len();
    for (i, ins) in p.iter().enumerate() {
        if ins.code == BPF_JEQ_K || ins.code == BPF_JEQ_X {
            assert!(i + 1 + usize::from(ins.jt.max(ins.jf)) < n, "jump at {i}");
        }
    }
    assert_eq!(key(&p[n - 2..]), key(&old[7..]));
}

#[test]
fn route_message_round_trips() {
    let mut b = Vec::new();
    put_route(&mut b, &route(), true, NLM_F_ACK, 42);
    let mut u = route();
    u.gateway = None;
    u.oif = None;
    u.kind = RouteKind::Unreachable;
    put_route(&mut b, &u, false, 0, 43);
    let ms: Vec<_> = messages(&b).collect();
    assert_eq!(ms.len(), 2);
    assert_eq!((ms[0].kind, ms[0].seq), (RTM_NEWROUTE, 42));
    assert_eq!(
        wire::u16_at(&b, 6),
        Some(wire::NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE)
    );
    assert_eq!(parse_route(ms[0].payload), Some(route()));
    assert_eq!((ms[1].kind, ms[1].seq), (RTM_DELROUTE, 43));
    assert_eq!(parse_route(ms[1].payload), Some(u));
}

/// An RTM_NEWROUTE payload from a 6.18 kernel's dump (x86_64), after
/// `ip -6 route add 2001:db8:aa::/48 via fe80::1 dev v0 proto 189
/// metric 20` (ifindex 3): RTA_TABLE, RTA_DST, RTA_PRIORITY,
/// RTA_GATEWAY, RTA_OIF, RTA_CACHEINFO, RTA_PREF.
#[test]
fn golden_kernel_route() {
    let p = include_bytes!("../../testdata/ipv6_newroute.bin");
    let mut want = route();
    want.oif = Some(3);
    assert_eq!(parse_route(p), Some(want.clone()));
    assert_eq!(route_fact(p), Some(want.clone()));
    // What we would send for it carries the same facts.
    let mut b = Vec::new();
    put_route(&mut b, &want, true, 0, 1);
    assert_eq!(parse_route(&b[NLMSG_HDRLEN..]), Some(want));
}

#[test]
fn route_fact_keeps_the_main_table_only() {
    let mut r = route();
    r.table = 255;
    let mut b = Vec::new();
    put_route(&mut b, &r, true, 0, 1);
    assert_eq!(parse_route(&b[NLMSG_HDRLEN..]), Some(r));
    assert_eq!(route_fact(&b[NLMSG_HDRLEN..]), None);
}

#[test]
fn malformed_route_messages_are_refused() {
    let mut b = Vec::new();
    put_route(&mut b, &route(), true, 0, 1);
    let p = &b[NLMSG_HDRLEN..];
    for cut in 0..RTMSG_LEN {
        assert_eq!(parse_route(&p[..cut]), None);
    }
    // An attribute that claims more than there is.
    let mut bad = p.to_vec();
    bad[RTMSG_LEN] = 200;
    assert_eq!(parse_route(&bad), None);
    // A prefix length over 128.
    let mut bad = p.to_vec();
    bad[1] = 129;
    assert_eq!(parse_route(&bad), None);
    // Not IPv6.
    let mut bad = p.to_vec();
    bad[0] = 2;
    assert_eq!(parse_route(&bad), None);
    // A message length past the datagram ends the walk.
    let mut d = b.clone();
    d[0] = 255;
    assert_eq!(messages(&d).count(), 0);
}
