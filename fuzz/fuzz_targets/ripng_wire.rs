//! RIPng datagram parser: never panics, and whatever parses re-emits to
//! the same bytes (the format has no slack besides the must-be-zero field).
#![no_main]
use libfuzzer_sys::fuzz_target;
use v6ripng::wire::Repr;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Repr::parse_bytes(data) {
        for e in &r.rtes {
            let _ = e.check();
        }
        let out = r.to_bytes();
        assert_eq!(out.len(), data.len());
        assert_eq!(&out[..2], &data[..2]);
        assert_eq!(&out[4..], &data[4..]);
    }
});
