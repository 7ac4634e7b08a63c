use super::*;

#[test]
fn writes_settle_and_are_a_second_apart() {
    let t0 = Instant::now();
    assert_eq!(next_due(t0, None), t0 + SETTLE);
    // Just after a write: the next waits out the gap, no longer.
    let last = t0 - Duration::from_millis(100);
    assert_eq!(next_due(t0, Some(last)), last + MIN_GAP);
    assert!(next_due(t0, Some(last)) <= t0 + MIN_GAP);
    assert_eq!(next_due(t0, Some(t0 - MIN_GAP)), t0 + SETTLE);
    let cfg = Dhcpv6State {
        lease_file: "/nonexistent/x".into(),
        lease_trigger: None,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut p = Publisher::start(&cfg);
        let first = p.due().expect("due at start");
        p.changed(first + Duration::from_secs(5));
        assert_eq!(p.due(), Some(first), "a pending write is not postponed");
        assert!(!p.take_due(first - Duration::from_millis(1)));
        assert!(p.take_due(first));
        assert!(!p.take_due(first), "once");
        p.changed(first);
        assert_eq!(p.due(), Some(first + MIN_GAP));
    });
}

/// A trigger that takes 300 ms, three snapshots 50 ms apart: the
/// second adds a name (one more run, after the first ends), the third
/// only renews (no run); the file holds the third.
#[tokio::test(flavor = "current_thread")]
async fn trigger_after_name_changes_one_at_a_time() {
    use super::super::leasefile::tests::{lease, ll, llt, naming, UNIX};
    use v6dhcp::lease::LeaseKind::Address;
    let dir = std::env::temp_dir().join(format!("v6publish-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let log = dir.join("trigger.log");
    let file = dir.join("hosts/odhcpd");
    let w = Worker {
        path: file.clone(),
        trigger: Some(format!(
            "echo start >>{0}; sleep 0.3; echo end >>{0}",
            log.display()
        )),
        written: None,
        last_error: None,
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let worker = tokio::spawn(w.run(rx));
    let laptop = lease(Address, "2001:db8:1::1a2b/128", &llt(1), 1, 3600);
    let printer = lease(Address, "2001:db8:1::10/128", &ll(5), 5, 3600);
    let mut renewed = printer.clone();
    renewed.cltt += 60;
    let snaps = [
        vec![laptop.clone()],
        vec![laptop.clone(), printer],
        vec![laptop, renewed],
    ];
    let mut last = String::new();
    for leases in snaps {
        last = render(&bindings(&leases, UNIX, &naming())).text;
        let naming = naming();
        tx.send(Snapshot {
            leases,
            naming,
            unix: UNIX,
        })
        .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(std::fs::read_to_string(&file).unwrap(), last);
    assert!(last.contains("printer") && last.contains(" 1764903560 "));
    let runs = std::fs::read_to_string(&log).unwrap();
    assert_eq!(runs, "start\nend\nstart\nend\n");
    assert!(
        !dir.join("hosts/.odhcpd").exists(),
        "the temporary is renamed"
    );
    drop(tx);
    worker.await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
