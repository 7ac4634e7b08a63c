//! The lease journal's reader (`v6dhcp::store::replay`): any file gives the
//! intact records and a report, never a panic. Checked besides that:
//!
//! - only a file that does not start with (a prefix of) the magic is refused;
//! - every lease in the report re-encodes to a record that decodes to itself,
//!   and the compacted image of the report (what `Journal::open` writes back)
//!   replays, clean, to the same leases;
//! - a valid journal followed by any garbage keeps all its intact records:
//!   the garbage is framed from the valid journal's last record on exactly as
//!   from the magic, so the counts add up, and a lease of the valid part is
//!   only changed or gone if the garbage holds an intact record (its CRC
//!   matches) that touches it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use v6dhcp::lease::LeaseRecord;
use v6dhcp::store::{decode_payload, encode_record, replay, snapshot_image, LoadError, MAGIC};

fuzz_target!(|data: &[u8]| {
    let rep = match replay(data) {
        Ok(rep) => rep,
        Err(LoadError::BadMagic) => {
            assert!(
                !data.starts_with(MAGIC) && !MAGIC.starts_with(data),
                "a journal's magic refused"
            );
            return;
        }
        Err(e) => panic!("replay of bytes returned an I/O error: {e}"),
    };
    let live = rep.leases.len();
    assert!(
        live <= rep.records,
        "{live} leases from {} records",
        rep.records
    );
    assert!(rep.torn_tail_bytes <= data.len());

    // Every record in the report re-encodes and replays to itself.
    let mut one = vec![];
    for (key, l) in &rep.leases {
        assert_eq!(*key, l.key());
        one.clear();
        let rec = LeaseRecord::Upsert(l.clone());
        encode_record(&rec, &mut one);
        assert_eq!(decode_payload(&one[8..]).as_ref(), Some(&rec));
    }
    let valid = snapshot_image(rep.leases.values());
    let again = replay(&valid).expect("our own image has the magic");
    assert!(again.is_clean(), "{again:?}");
    assert_eq!(again.records, live);
    assert_eq!(again.leases, rep.leases);

    // The valid journal, then the input (without its magic) as garbage.
    let garbage = data.strip_prefix(MAGIC.as_slice()).unwrap_or(data);
    let mut alone = MAGIC.to_vec();
    alone.extend_from_slice(garbage);
    let g = replay(&alone).expect("magic present");
    let mut both = valid;
    both.extend_from_slice(garbage);
    let b = replay(&both).expect("magic present");
    assert_eq!(b.records, live + g.records);
    assert_eq!(b.corrupt_records, g.corrupt_records);
    assert_eq!(b.torn_tail_bytes, g.torn_tail_bytes);
    // What the garbage left as leases wins, the rest is the valid part's.
    for (k, l) in &g.leases {
        assert_eq!(b.leases.get(k), Some(l));
    }
    let mut lost = 0;
    for (k, l) in &rep.leases {
        match b.leases.get(k) {
            Some(x) if x == l || g.leases.contains_key(k) => {}
            Some(_) => panic!("lease {k:?} changed by garbage with no lease for it"),
            None => lost += 1,
        }
    }
    for k in b.leases.keys() {
        assert!(rep.leases.contains_key(k) || g.leases.contains_key(k));
    }
    // Only an intact remove record in the garbage takes a lease away.
    assert!(
        lost <= g.records,
        "{lost} leases lost to {} intact records",
        g.records
    );
    if g.records == 0 {
        assert_eq!(b.leases, rep.leases);
    }
});
