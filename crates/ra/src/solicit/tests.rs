use super::*;

#[test]
fn three_solicitations_four_seconds_apart_after_the_delay() {
    let t0 = Instant::now();
    let mut s = Solicitor::new(t0, Duration::from_millis(300));
    assert!(!s.due(t0));
    let mut sent = Vec::new();
    let mut t = t0;
    while let Some(d) = s.deadline() {
        t = d;
        assert!(s.due(t));
        sent.push(t - t0);
    }
    assert_eq!(sent, [300, 4300, 8300].map(Duration::from_millis).to_vec());
    assert!(!s.due(t + Duration::from_secs(60)));
    // The delay is bounded by MAX_RTR_SOLICITATION_DELAY.
    let s = Solicitor::new(t0, Duration::from_secs(5));
    assert_eq!(s.deadline(), Some(t0 + MAX_RTR_SOLICITATION_DELAY));
}

#[test]
fn rs_bytes_carry_the_source_lladdr() {
    let mac = [2, 0, 0, 0, 0, 1];
    let rs = router_solicitation(Some(&mac)).unwrap();
    assert_eq!(rs, [133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 0, 0, 0, 0, 1]);
    assert_eq!(
        router_solicitation(None).unwrap(),
        [133, 0, 0, 0, 0, 0, 0, 0]
    );
    // What we send is what our own parser accepts (RFC 4861 §6.1.1).
    let parsed = crate::wire::parse_rs(&rs, "fe80::1".parse().unwrap()).unwrap();
    assert_eq!(parsed.source_lladdr(), Some(&mac[..]));
}
