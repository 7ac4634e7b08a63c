use super::*;

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// A whole IPv6 packet around `m`'s ICMPv6 body, checksum filled in.
fn packet(m: &Ndp, hop_limit: u8) -> Vec<u8> {
    let mut icmp = m.emit();
    let c = checksum(m.src, m.dst, &icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&u16::try_from(icmp.len()).unwrap().to_be_bytes());
    p.extend_from_slice(&[NEXT_ICMPV6, hop_limit]);
    p.extend_from_slice(&m.src.octets());
    p.extend_from_slice(&m.dst.octets());
    p.extend_from_slice(&icmp);
    p
}

fn ns(src: &str, target: &str) -> Ndp {
    Ndp {
        kind: NS,
        src: a(src),
        dst: solicited_node(a(target)),
        target: a(target),
        router: false,
        solicited: false,
        override_: false,
        lladdr: (!a(src).is_unspecified()).then(|| vec![2, 0, 0, 0, 0, 1]),
    }
}

fn na(target: &str) -> Ndp {
    Ndp {
        kind: NA,
        src: a(target),
        dst: a("fe80::1"),
        target: a(target),
        router: false,
        solicited: true,
        override_: true,
        lladdr: Some(vec![2, 0, 0, 0, 0, 2]),
    }
}

#[test]
fn ns_and_na_round_trip_through_a_whole_packet() {
    for m in [
        ns("fe80::1", "2001:db8:ff::10"),
        ns("::", "2001:db8:ff::10"),
        na("2001:db8:ff::10"),
    ] {
        assert_eq!(Ndp::parse(&packet(&m, 255)), Ok(m));
    }
    assert_eq!(
        solicited_node(a("2001:db8:ff::aa:bbcc")),
        a("ff02::1:ffaa:bbcc")
    );
}

#[test]
fn receive_checks_of_rfc4861_7_1() {
    let m = ns("fe80::1", "2001:db8:ff::10");
    assert_eq!(Ndp::parse(&packet(&m, 254)), Err(Drop::HopLimit));
    let mut p = packet(&m, 255);
    let last = p.len() - 1;
    p[last] ^= 1;
    assert_eq!(Ndp::parse(&p), Err(Drop::Checksum));
    assert_eq!(Ndp::parse(&p[..50]), Err(Drop::Truncated));
    let mut mc = m.clone();
    mc.target = a("ff02::1");
    assert_eq!(Ndp::parse(&packet(&mc, 255)), Err(Drop::MulticastTarget));
    let mut zero = m.clone();
    zero.lladdr = Some(vec![]);
    let mut p = packet(&zero, 255);
    // An option of length 0: fix the checksum so only the option is wrong.
    let icmp_start = 40;
    let opt = icmp_start + 24;
    p[opt + 1] = 0;
    p[icmp_start + 2..icmp_start + 4].copy_from_slice(&[0, 0]);
    let c = checksum(m.src, m.dst, &p[icmp_start..]);
    p[icmp_start + 2..icmp_start + 4].copy_from_slice(&c.to_be_bytes());
    assert_eq!(Ndp::parse(&p), Err(Drop::BadOption));
}

fn proxy() -> Proxy {
    Proxy {
        prefixes: vec!["2001:db8:ff::/64".parse().unwrap()],
        own: vec![a("2001:db8:ff::2")],
        ..Default::default()
    }
}

#[test]
fn a_host_learned_from_dad_is_answered_for_on_the_wan() {
    let t = Instant::now();
    let mut p = proxy();
    assert_eq!(
        p.on_lan(t, &ns("::", "2001:db8:ff::10")),
        vec![Action::AddRoute(a("2001:db8:ff::10"))]
    );
    // Again: nothing new.
    assert!(p.on_lan(t, &ns("::", "2001:db8:ff::10")).is_empty());
    assert_eq!(
        p.on_wan(t, &ns("fe80::1", "2001:db8:ff::10")),
        vec![Action::AnswerWan {
            dst: a("fe80::1"),
            target: a("2001:db8:ff::10"),
            solicited: true
        }]
    );
}

#[test]
fn an_unknown_target_is_probed_on_the_lan_and_answered_once_it_replies() {
    let t = Instant::now();
    let mut p = proxy();
    // A nodad or privacy address the host never announced.
    let q = ns("fe80::1", "2001:db8:ff::abcd:1234");
    assert_eq!(
        p.on_wan(t, &q),
        vec![Action::ProbeLan {
            target: a("2001:db8:ff::abcd:1234")
        }]
    );
    // The ISP's retransmission within RETRANS does not probe again.
    assert!(p.on_wan(t + Duration::from_millis(500), &q).is_empty());
    assert_eq!(
        p.on_lan(t, &na("2001:db8:ff::abcd:1234")),
        vec![Action::AddRoute(a("2001:db8:ff::abcd:1234"))]
    );
    assert!(matches!(
        p.on_wan(t + RETRANS, &q)[..],
        [Action::AnswerWan { .. }]
    ));
}

#[test]
fn never_answers_outside_the_prefix_or_for_our_own_address() {
    let t = Instant::now();
    let mut p = proxy();
    assert!(p.on_lan(t, &ns("::", "2001:db8:1::10")).is_empty());
    assert!(p.on_wan(t, &ns("fe80::1", "2001:db8:1::10")).is_empty());
    assert!(p.on_lan(t, &ns("::", "2001:db8:ff::2")).is_empty());
    assert!(p.on_wan(t, &ns("fe80::1", "2001:db8:ff::2")).is_empty());
    // An NA on the WAN is not a question.
    assert!(p.on_wan(t, &na("2001:db8:ff::10")).is_empty());
}

#[test]
fn a_silent_host_is_probed_then_its_route_goes() {
    let t = Instant::now();
    let mut p = proxy();
    let h = a("2001:db8:ff::10");
    p.on_lan(t, &na("2001:db8:ff::10"));
    assert!(p
        .on_timer(t + REACHABLE - Duration::from_secs(1))
        .is_empty());
    let mut now = t + REACHABLE;
    for _ in 0..MAX_PROBES {
        assert_eq!(p.on_timer(now), vec![Action::ProbeLan { target: h }]);
        now += RETRANS;
    }
    assert_eq!(p.on_timer(now), vec![Action::DelRoute(h)]);
    assert_eq!(p.hosts().count(), 0);
    // A host that answers a probe stays.
    p.on_lan(now, &na("2001:db8:ff::10"));
    let later = now + REACHABLE;
    assert_eq!(p.on_timer(later), vec![Action::ProbeLan { target: h }]);
    p.on_lan(later, &na("2001:db8:ff::10"));
    assert!(p.on_timer(later + RETRANS).is_empty());
    assert_eq!(p.next_timer(), Some(later + REACHABLE));
}

#[test]
fn a_lan_host_asking_for_an_off_lan_address_of_the_slash64_is_answered() {
    let t = Instant::now();
    let mut p = proxy();
    p.on_lan(t, &ns("::", "2001:db8:ff::10"));
    p.on_lan(t, &ns("::", "2001:db8:ff::11"));
    // ::10 asks for the ISP's router: answered, ::10 stays known.
    assert_eq!(
        p.on_lan(t, &ns("2001:db8:ff::10", "2001:db8:ff::1")),
        vec![Action::AnswerLan {
            dst: a("2001:db8:ff::10"),
            target: a("2001:db8:ff::1")
        }]
    );
    // ::10 asks for ::11, a LAN host: not ours to answer.
    assert!(p
        .on_lan(t, &ns("2001:db8:ff::10", "2001:db8:ff::11"))
        .is_empty());
    // Outside the /64: nothing.
    assert!(p
        .on_lan(t, &ns("2001:db8:ff::10", "2001:db8:1::1"))
        .is_empty());
}
