use super::*;

#[test]
fn ints_inline_and_out_of_line() {
    let mut w = Writer::new();
    assert_eq!(w.int(0), Val(TYPE_INT));
    assert_eq!(w.int(0x0fff_ffff), Val(TYPE_INT | 0x0fff_ffff));
    let t = w.int(1_700_000_000);
    assert_eq!(t.kind(), TYPE_INT_32);
    let big = w.int(0x1_2345_6789);
    assert_eq!(big.kind(), TYPE_INT_64);
    let r = Reader::new(w.bytes()).unwrap();
    assert_eq!(r.int(t).unwrap(), Some(1_700_000_000));
    assert_eq!(r.int(big).unwrap(), Some(0x1_2345_6789));
    assert_eq!(t.offset() % 4, 0);
}

#[test]
fn blobs_dedup_align_and_size_classes() {
    let mut w = Writer::new();
    let a = w.blob(b"root");
    let b = w.blob(b"root");
    assert_eq!(a, b, "identical blobs share one copy");
    let raw = w.blob_raw(b"root");
    assert_ne!(raw, a, "raw blobs are never shared");
    assert!(w.blob(b"").is_null());
    let mid = w.blob(&[7u8; 300]);
    assert_eq!(mid.kind(), TYPE_BLOB_16);
    assert_eq!(mid.offset() % 2, 0);
    let large = w.blob(&vec![1u8; 70_000]);
    assert_eq!(large.kind(), TYPE_BLOB_32);
    assert_eq!(large.offset() % 4, 0);
    let r = Reader::new(w.bytes()).unwrap();
    assert_eq!(r.blob(a).unwrap(), Some(&b"root"[..]));
    assert_eq!(r.blob(mid).unwrap().map(|b| b.len()), Some(300));
    assert_eq!(r.blob(large).unwrap().map(|b| b.len()), Some(70_000));
}

#[test]
fn objects_trim_trailing_nulls_and_empty_is_null() {
    let mut w = Writer::new();
    assert!(w.object(&[NULL, NULL]).is_null());
    let x = w.int(5);
    let o = w.object(&[NULL, x, NULL]);
    let r = Reader::new(w.bytes()).unwrap();
    assert_eq!(r.fields(o).unwrap(), vec![NULL, x]);
}

#[test]
fn container_order_and_bounds() {
    let mut s = b"ADB.pckg".to_vec();
    push_block(&mut s, BLOCK_ADB, &[&[0u8; 8]]).unwrap();
    push_block(&mut s, BLOCK_DATA, &[b"abc"]).unwrap();
    assert_eq!(s.len() % 8, 0);
    let c = parse_container(&s).unwrap();
    assert_eq!(c.data, vec![&b"abc"[..]]);
    let mut bad = b"ADB.pckg".to_vec();
    push_block(&mut bad, BLOCK_DATA, &[b"abc"]).unwrap();
    assert!(parse_container(&bad).is_err(), "data before the ADB block");
    let mut cut = s.clone();
    cut.truncate(s.len() - 8);
    cut.extend_from_slice(&[0x13, 0, 0, 0x80]);
    assert!(parse_container(&cut).is_err(), "block past the end");
    let r = Reader::new(&[0u8; 8]).unwrap();
    assert!(r.blob(Val(TYPE_BLOB_8 | 100)).is_err());
    assert!(r.fields(Val(TYPE_OBJECT | 4)).is_err());
}
