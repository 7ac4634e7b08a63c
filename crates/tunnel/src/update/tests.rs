use super::*;

fn a(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, last)
}

#[test]
fn runs_once_per_address_and_tells_the_previous_one() {
    let t0 = Instant::now();
    let mut u = BrokerUpdate::default();
    assert_eq!(u.poll(t0, None), None, "no tunnel yet");
    let r = u.poll(t0, Some(a(2))).unwrap();
    assert_eq!(
        r,
        Run {
            local: a(2),
            previous: None
        }
    );
    assert_eq!(u.poll(t0, Some(a(2))), None, "one run at a time");
    u.finished(t0, a(2), Ok("good 192.0.2.2".into()));
    assert_eq!(u.poll(t0, Some(a(2))), None, "done for this address");
    assert_eq!(u.announced(), Some(a(2)));
    let r = u.poll(t0, Some(a(7))).unwrap();
    assert_eq!(
        r,
        Run {
            local: a(7),
            previous: Some(a(2))
        }
    );
    u.finished(t0, a(7), Ok(String::new()));
    assert_eq!(u.poll(t0, Some(a(7))), None);
    assert!(u.last().is_some_and(|o| o.ok && o.local == a(7)));
}

#[test]
fn failures_back_off_and_a_new_address_goes_at_once() {
    let t0 = Instant::now();
    let mut u = BrokerUpdate::default();
    u.poll(t0, Some(a(2))).unwrap();
    u.finished(t0, a(2), Err("exit status 1: badauth".into()));
    assert_eq!(u.next_wakeup(t0), Some(t0 + Duration::from_secs(30)));
    assert_eq!(u.poll(t0 + Duration::from_secs(29), Some(a(2))), None);
    let t1 = t0 + Duration::from_secs(30);
    assert!(u.poll(t1, Some(a(2))).is_some());
    assert_eq!(u.next_wakeup(t1), None, "running: no timer");
    u.finished(t1, a(2), Err("timed out".into()));
    assert_eq!(u.next_wakeup(t1), Some(t1 + Duration::from_secs(60)));
    let o = u.last().unwrap();
    assert!(!o.ok && o.detail == "timed out");
    // The WAN address changes meanwhile: no waiting for the old retry.
    let r = u.poll(t1 + Duration::from_secs(1), Some(a(9))).unwrap();
    assert_eq!(r.previous, None, "nothing was announced yet");
    u.finished(t1, a(9), Err("x".into()));
    assert_eq!(
        u.next_wakeup(t1),
        Some(t1 + Duration::from_secs(30)),
        "count restarts"
    );
    // The tunnel goes away with the retry due: no timer in the past
    // (it would spin), the retry waits for the tunnel.
    let late = t1 + Duration::from_secs(31);
    assert_eq!(u.poll(late, None), None);
    assert_eq!(u.next_wakeup(late), None);
    assert!(u.poll(late, Some(a(9))).is_some(), "back: tried at once");
}

#[test]
fn retries_are_capped() {
    assert_eq!(retry_after(1), Duration::from_secs(30));
    assert_eq!(retry_after(2), Duration::from_secs(60));
    assert_eq!(retry_after(5), Duration::from_secs(480));
    assert_eq!(retry_after(6), RETRY_MAX);
    assert_eq!(retry_after(u32::MAX), RETRY_MAX);
}
