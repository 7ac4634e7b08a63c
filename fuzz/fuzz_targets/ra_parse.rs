//! RS/RA parser: arbitrary bytes from an arbitrary source and hop limit never
//! panic; whatever parses re-emits, and emitting is idempotent
//! (emit(parse(emit(m))) == emit(m)).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::net::Ipv6Addr;
use v6ra::wire::{parse, RouterDiscovery};

fuzz_target!(|data: &[u8]| {
    // First byte picks the source (link-local, unspecified, global) and
    // whether the hop limit is 255; the rest is the ICMPv6 message.
    let Some((&sel, msg)) = data.split_first() else {
        return;
    };
    let src: Ipv6Addr = match sel & 3 {
        0 | 1 => Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
        2 => Ipv6Addr::UNSPECIFIED,
        _ => Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
    };
    let hop = if sel & 4 == 0 { 255 } else { sel };
    let Ok(m) = parse(msg, src, hop) else { return };
    let first = match &m {
        RouterDiscovery::Solicitation(rs) => rs.to_bytes(),
        RouterDiscovery::Advertisement(ra) => ra.to_bytes(),
    }
    .expect("a parsed message must re-emit");
    assert_eq!(first.len() % 8, 0);
    let again = parse(&first, src, 255).expect("our own bytes must parse");
    let second = match &again {
        RouterDiscovery::Solicitation(rs) => rs.to_bytes(),
        RouterDiscovery::Advertisement(ra) => ra.to_bytes(),
    }
    .expect("re-emit");
    assert_eq!(first, second);
});
