use super::*;

#[test]
fn masks_and_names() {
    assert_eq!(mask(&KEEP), 1 << 10 | 1 << 12 | 1 << 13);
    assert_eq!(
        names(mask(&KEEP)),
        "cap_net_bind_service,cap_net_admin,cap_net_raw"
    );
    assert_eq!(names(0), "none");
}

#[test]
fn passwd_lookup() {
    let p = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nbad:x:zz:1::/:\n";
    assert_eq!(
        lookup_user(p, "nobody"),
        Some(User {
            name: "nobody".into(),
            uid: 65534,
            gid: 65534
        })
    );
    assert_eq!(lookup_user(p, "nobod"), None);
    assert_eq!(lookup_user(p, "bad"), None);
}

#[test]
fn capget_reads_this_thread() {
    let s = capget().expect("capget works on any Linux");
    // Effective is always a subset of permitted.
    assert_eq!(s.effective & !s.permitted, 0);
    assert!(last_cap() >= CAP_NET_RAW);
}

/// Run in a child thread: capabilities are per thread, so the test
/// process's other threads are untouched (the bounding set is per thread
/// too). Needs root to be meaningful; as a user it checks the refusal.
#[test]
fn restrict_keeps_exactly_three() {
    let h = std::thread::spawn(|| {
        let root = capget().unwrap().effective & 1 << CAP_SETPCAP != 0;
        let r = restrict(None);
        (root, r.map(|r| r.kept), capget().unwrap())
    });
    let (root, r, after) = h.join().unwrap();
    if root {
        assert_eq!(r.unwrap(), mask(&KEEP));
        assert_eq!(after.permitted, mask(&KEEP));
        assert_eq!(after.effective, mask(&KEEP));
        assert_eq!(after.inheritable, 0);
    } else {
        // An unprivileged test run: nothing beyond the three is left.
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(after.permitted & !mask(&KEEP), 0);
    }
}
