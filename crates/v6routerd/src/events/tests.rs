use super::*;

#[test]
fn route_events_are_ours_appearing_and_leaving() {
    let route = |protocol| crate::testkit::route("2001:db8:100::/60", Some("fe80::2"), protocol);
    let mut view = crate::testkit::view_with_lan0();
    let ours = KernelEvent::NewRoute(route(rtprot::V6ROUTER));
    let e = route_event(&view, &ours, 7).expect("a new route of ours");
    assert_eq!(
        (e.topic.as_str(), e.action.as_str(), e.lease.as_str()),
        ("routes", "installed", "2001:db8:100::/60")
    );
    assert_eq!((e.kind.as_str(), e.interface.as_str()), ("route", "lan0"));
    let theirs = KernelEvent::NewRoute(route(rtprot::STATIC));
    assert_eq!(route_event(&view, &theirs, 7), None);
    view.apply(&ours);
    assert_eq!(route_event(&view, &ours, 8), None, "a replace is no event");
    let gone = KernelEvent::DelRoute(route(rtprot::V6ROUTER));
    assert_eq!(
        route_event(&view, &gone, 9).map(|e| e.action),
        Some("removed".into())
    );
    view.apply(&gone);
    assert_eq!(route_event(&view, &gone, 9), None);
}

#[test]
fn prefix_events_say_what_changed() {
    let p = |s: &str| s.parse::<Ipv6Prefix>().unwrap();
    let d = |s: &str| Delegation {
        uplink: "wan".into(),
        value: p(s),
        preferred_until: std::time::Instant::now(),
        valid_until: std::time::Instant::now(),
    };
    let old = UplinkFacts {
        delegations: vec![d("2001:db8:100::/56")],
        assigned: vec![p("2001:db8:100:1::/64")],
        ..Default::default()
    };
    let new = UplinkFacts {
        delegations: vec![d("2001:db8:200::/56")],
        assigned: vec![p("2001:db8:200:1::/64")],
        ..Default::default()
    };
    let got: Vec<(String, String, String)> = prefix_events(&old, &new, 7)
        .into_iter()
        .map(|e| (e.action, e.lease, e.interface))
        .collect();
    let want = [
        ("gained", "2001:db8:200::/56", "wan"),
        ("lost", "2001:db8:100::/56", "wan"),
        ("assigned", "2001:db8:200:1::/64", ""),
        ("deprecated", "2001:db8:100:1::/64", ""),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, l, i)| (a.to_string(), l.to_string(), i.to_string()))
        .collect();
    assert_eq!(got, want);
    // A renewal (same prefixes, new lifetimes) says nothing.
    assert!(prefix_events(&new, &new.clone(), 7).is_empty());
}

fn ev(topic: &str, n: u64) -> Event {
    Event {
        topic: topic.into(),
        time_ms: n,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_slow_reader_is_cut_off_and_the_sender_never_waits() {
    let (tx, mut rx) = broadcast::channel(4);
    // The sender goes on whatever the reader does.
    for n in 0..10 {
        let _ = tx.send(ev("leases", n));
    }
    match next_line(&mut rx, "all").await {
        StreamLine::End(why) => assert!(why.contains("fell 6 events behind"), "{why}"),
        other => panic!("not cut off: {other:?}"),
    }
}

#[tokio::test]
async fn a_reader_that_keeps_up_gets_its_topic_only() {
    let (tx, mut rx) = broadcast::channel(4);
    let _ = tx.send(ev("routes", 1));
    let _ = tx.send(ev("leases", 2));
    assert_eq!(
        next_line(&mut rx, "leases").await,
        StreamLine::Event(ev("leases", 2))
    );
    drop(tx);
    assert!(matches!(
        next_line(&mut rx, "all").await,
        StreamLine::End(_)
    ));
}
