//! The relay agent of relay mode: any datagram from the LAN or from
//! upstream never panics; what is forwarded parses as a Relay-forward
//! carrying the datagram, what is delivered is the Relay-reply's message,
//! and every route taken out was put in.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use v6dhcp::relay_agent::{Action, FromLan, Lan, RelayAgent};
use v6dhcp::wire::{Message, MessageType};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let mut agent = RelayAgent::default();
    agent.set_lans(vec![Lan {
        ifindex: 3,
        interface_id: b"lan0".to_vec(),
        link_address: "2001:db8:ff::2".parse().unwrap(),
    }]);
    let t0 = Instant::now();
    let mut routed = BTreeSet::new();
    // The first byte picks the side; the rest is split in two datagrams.
    let (a, b) = rest.split_at(rest.len() / 2);
    for (i, d) in [a, b].into_iter().enumerate() {
        let now = t0 + Duration::from_secs(u64::from(first) * i as u64);
        let acts = if first & 1 == 0 {
            agent.from_lan(FromLan {
                data: d,
                src: "fe80::1".parse().unwrap(),
                ifindex: 3,
                client_lladdr: Some([2, 0, 0, 0, 0, 1]),
            })
        } else {
            agent.from_wan(now, d)
        };
        for act in acts.into_iter().chain(agent.on_timer(now)) {
            match act {
                Action::Forward { data: f, .. } => match Message::parse(&f) {
                    Ok(Message::Relay(r)) => {
                        assert_eq!(r.msg_type, MessageType::RelayForw);
                        assert_eq!(r.relay_msg(), Some(d));
                    }
                    other => panic!("forwarded {other:?}"),
                },
                Action::Deliver { data: inner, .. } => assert!(!inner.is_empty()),
                Action::AddRoute(r) => assert!(routed.insert(r.dst)),
                Action::DelRoute(r) => assert!(routed.remove(&r.dst)),
            }
        }
    }
});
