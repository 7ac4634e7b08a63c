use super::*;
use v6common::kernel::rtprot;

use crate::testkit::{route, view_with_lan0};

#[test]
fn delegated_routes_are_ours_via_a_router() {
    let v6r = rtprot::V6ROUTER;
    assert!(is_delegated(&route(
        "2001:db8:8::/60",
        Some("fe80::2"),
        v6r
    )));
    // A tunnel's or a relayed host's route: ours, no gateway.
    assert!(!is_delegated(&route("::/0", None, v6r)));
    assert!(!is_delegated(&route(
        "2001:db8:8::/60",
        Some("fe80::2"),
        rtprot::STATIC
    )));
}

#[test]
fn the_writer_announces_what_the_kernel_did_only_while_watched() {
    let bus = crate::events::bus();
    let view = view_with_lan0();
    let a = Announce {
        bus: bus.clone(),
        kernel: watch::channel(Arc::new(view)).1,
    };
    let del = [route(
        "2001:db8:8:10::/60",
        Some("fe80::2"),
        rtprot::V6ROUTER,
    )];
    let add = [
        route("2001:db8:8:20::/60", Some("fe80::2"), rtprot::V6ROUTER),
        route("2001:db8:8:30::/60", Some("fe80::2"), rtprot::V6ROUTER),
    ];
    // Nobody watches: nothing is made.
    a.batch(&del, &add, &HashSet::new());
    let mut rx = bus.subscribe();
    let refused: HashSet<_> = [(add[1].dst, true)].into_iter().collect();
    a.batch(&del, &add, &refused);
    let mut got = Vec::new();
    while let Ok(e) = rx.try_recv() {
        got.push((
            e.topic.clone(),
            e.action.clone(),
            e.lease.clone(),
            e.interface.clone(),
        ));
    }
    let want = |action: &str, p: &str| ("routes".into(), action.into(), p.into(), "lan0".into());
    assert_eq!(
        got,
        vec![
            want("removed", "2001:db8:8:10::/60"),
            want("installed", "2001:db8:8:20::/60"),
        ]
    );
}
