//! DHCPv6 message parser: arbitrary bytes never panic, and whatever parses
//! re-emits to bytes that parse to the same message (parse ∘ emit is the
//! identity on parsed messages).
#![no_main]
use libfuzzer_sys::fuzz_target;
use v6dhcp::wire::{Message, RelayMessage};

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Message::parse(data) else { return };
    let again = Message::parse(&m.to_bytes()).expect("our own emit parses");
    assert_eq!(again, m);
    // Relayed messages: the inner message goes through the same parser.
    if let Message::Relay(r) = &m {
        let mut r: &RelayMessage = r;
        let mut owned;
        for _ in 0..8 {
            let Some(inner) = r.relay_msg() else { break };
            match Message::parse(inner) {
                Ok(Message::Relay(x)) => {
                    owned = x;
                    r = &owned;
                }
                _ => break,
            }
        }
    }
});
