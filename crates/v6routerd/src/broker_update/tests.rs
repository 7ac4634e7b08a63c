use super::*;

fn a(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, last)
}

#[tokio::test(flavor = "current_thread")]
async fn environment_output_and_exit_status() {
    let r = Run {
        local: a(11),
        previous: Some(a(1)),
    };
    let out = run(
        "echo \"$V6_TUNNEL $V6_LOCAL $V6_PREVIOUS_LOCAL $V6_REMOTE\"; echo second",
        "he6",
        Ipv4Addr::new(198, 51, 100, 1),
        &r,
    )
    .await;
    assert_eq!(out, Ok("he6 192.0.2.11 192.0.2.1 198.51.100.1".into()));
    let first = Run {
        local: a(2),
        previous: None,
    };
    let out = run("echo \"[$V6_PREVIOUS_LOCAL]\"", "he6", a(9), &first).await;
    assert_eq!(out, Ok("[]".into()));
    let out = run("echo badauth >&2; exit 3", "he6", a(9), &first).await;
    assert_eq!(out, Err("exit status: 3: badauth".into()));
    let out = run("exit 1", "he6", a(9), &first).await;
    assert_eq!(out, Err("exit status: 1".into()));
}

#[test]
fn status_lines() {
    let t0 = Instant::now();
    let mut u = BrokerUpdate::default();
    assert_eq!(describe(&u, t0, 0), "not told yet");
    u.poll(t0, Some(a(2)));
    u.finished(t0, a(2), Ok("good 192.0.2.2".into()));
    assert_eq!(
        describe(&u, t0 + Duration::from_secs(5), 1_795_992_608),
        "told 192.0.2.2 at 2026-11-29 22:50:03 (good 192.0.2.2)"
    );
    u.poll(t0, Some(a(7)));
    u.finished(t0, a(7), Err("exit status: 1: badauth".into()));
    assert_eq!(
        describe(&u, t0 + Duration::from_secs(10), 1_795_992_613),
        "telling 192.0.2.7 failed at 2026-11-29 22:50:03: exit status: 1: badauth; \
             last told 192.0.2.2; next try in 20 s"
    );
}
