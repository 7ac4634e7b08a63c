//! The kernel-side codecs (`v6netlink`): any datagram the event socket
//! could receive, and any payload of each rtnetlink message type we read,
//! never panics, and whatever parses is a sane fact.
#![no_main]
use libfuzzer_sys::fuzz_target;

use v6common::KernelEvent;

fuzz_target!(|data: &[u8]| {
    // The payload as each message type we follow (RTM_NEWLINK ..
    // RTM_DELROUTE) and a few we do not.
    for kind in 16u16..=30 {
        match v6netlink::event(kind, data) {
            Some(KernelEvent::NewRoute(r) | KernelEvent::DelRoute(r)) => {
                assert!(r.dst.len() <= 128);
                assert_eq!(r.table, v6common::kernel::RT_TABLE_MAIN);
            }
            _ => {}
        }
    }
    let _ = v6netlink::link_fact(data);
    let _ = v6netlink::sit_fact(data);
    let _ = v6netlink::neighbour(data);
});
