//! The control socket's request side: any line -> a `Request` or a JSON error
//! (what the daemon reads, bounded by MAX_REQUEST), and v6ctl's command-line
//! grammar on any words. A parsed request survives a JSON round trip.
#![no_main]
use libfuzzer_sys::fuzz_target;
use v6control::{parse_command, Request};

fuzz_target!(|data: &[u8]| {
    if data.len() <= v6control::MAX_REQUEST {
        if let Ok(req) = serde_json::from_slice::<Request>(data) {
            let line = serde_json::to_vec(&req).expect("a Request serializes");
            let back: Request = serde_json::from_slice(&line).expect("our own line parses");
            assert_eq!(back, req);
            let _ = req.service();
        }
    }
    let text = String::from_utf8_lossy(data);
    let words: Vec<&str> = text.split_whitespace().collect();
    if let Ok(req) = parse_command(&words) {
        // What v6ctl sends must be what the daemon accepts.
        let line = serde_json::to_vec(&req).expect("a Request serializes");
        let back: Request = serde_json::from_slice(&line).expect("v6ctl's line parses");
        assert_eq!(back, req);
    }
});
