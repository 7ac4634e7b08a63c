use super::*;

#[test]
fn one_line_of_differences_and_none_when_idle() {
    let mut s = Summary::new(Instant::now());
    let mut st = Stats::default();
    assert_eq!(s.line(&st, 0), None);
    st.received[1] = 5; // Solicit
    st.sent[2] = 5; // Advertise
    st.drops.insert("bad", 2);
    let l = s.line(&st, 1).unwrap();
    assert_eq!(
            l,
            "in the last 10 s: received 5 SOLICIT; sent 5 ADVERTISE; 2 dropped (reasons: v6ctl show dhcpv6); 1 prefix route installs refused (retried)"
        );
    assert_eq!(s.line(&st, 1), None);
    st.received[1] = 7;
    assert_eq!(
        s.line(&st, 1).unwrap(),
        "in the last 10 s: received 2 SOLICIT"
    );
}

#[test]
fn logs_at_most_once_a_period() {
    let t0 = Instant::now();
    let mut s = Summary::new(t0);
    assert_eq!(s.due(), t0 + PERIOD);
    s.maybe_log(t0 + Duration::from_secs(1), &Stats::default(), 0);
    assert_eq!(s.due(), t0 + PERIOD);
    s.maybe_log(t0 + PERIOD, &Stats::default(), 0);
    assert_eq!(s.due(), t0 + PERIOD + PERIOD);
}
