use super::*;

#[test]
fn delegated_routes_are_kernel_rows_and_not_twice() {
    let mut kv = crate::testkit::view_with_lan0();
    let r = crate::testkit::route("2001:db8:8:10::/60", Some("fe80::2"), rtprot::V6ROUTER);
    let rows = delegated_rows(&kv, [(r.clone(), 5_000)].into_iter());
    let (p, row) = &rows[0];
    assert_eq!(*p, r.dst);
    assert_eq!(
        (row.proto.as_str(), row.kind.as_str(), row.since_ms),
        (KERNEL_NAME, "unicast", 5_000)
    );
    assert_eq!(row.via.as_deref(), Some("fe80::2"));
    assert_eq!(row.iface.as_deref(), Some("lan0"));
    // In the view too (kept for RIPng's export): not a second row.
    kv.upsert_route(r);
    assert!(kernel_rows(&kv, &FirstSeen::default()).is_empty());
}
