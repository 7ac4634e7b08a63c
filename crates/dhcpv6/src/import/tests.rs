use super::*;

#[test]
fn isc_dates() {
    assert_eq!(
        isc_date(&["4", "2026/11/26", "01:02:03"]),
        Some(Some(1_795_654_923))
    );
    assert_eq!(
        isc_date(&["epoch", "1764118923"]),
        Some(Some(1_764_118_923))
    );
    assert_eq!(isc_date(&["never"]), Some(None));
    assert_eq!(isc_date(&["4", "2026/13/26", "01:02:03"]), None);
    assert_eq!(isc_date(&["4"]), None);
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
}

#[test]
fn isc_blocks_later_entries_win_and_states_filter() {
    // IAID 1 little-endian, then a DUID-LLT; the same IA written twice
    // (renewed), a released prefix, an expired address, garbage.
    let text = include_str!("../../testdata/isc-dhcpd6.leases");
    let now = 1_795_654_800; // 2026-11-26 01:00:00 UTC
    let imp = parse_isc(text, now, true);
    assert_eq!(imp.leases.len(), 2, "{imp:?}");
    let a = &imp.leases[0];
    assert_eq!(a.kind, LeaseKind::Address);
    assert_eq!(a.prefix, "2001:db8:1::1000/128".parse().unwrap());
    assert_eq!(a.iaid, 1);
    assert_eq!(a.duid.to_hex(), "00:01:00:01:11:f9:4b:5a:08:00:27:c5:40:c7");
    assert_eq!((a.cltt, a.preferred, a.valid), (now + 1800, 3000, 4000));
    let p = &imp.leases[1];
    assert_eq!((p.kind, p.iaid), (LeaseKind::Prefix, 8));
    assert_eq!(p.prefix, "2001:db8:8:20::/60".parse().unwrap());
    assert_eq!((imp.not_bound, imp.expired), (1, 1));
    assert_eq!(imp.skipped.len(), 1);
    assert_eq!(
        imp.server_duid.map(|d| d.to_hex()),
        Some("00:01:00:01:1e:30:dc:50:02:00:00:00:00:01".to_string())
    );
    // The file says little-endian, whatever the default; without that
    // line a big-endian default gives IAID 0x01000000.
    assert_eq!(parse_isc(text, now, false).leases[0].iaid, 1);
    let unsaid = text.replace("authoring-byte-order little-endian;", "");
    assert_eq!(parse_isc(&unsaid, now, false).leases[0].iaid, 0x0100_0000);
    // Broken input is reported, never a panic.
    assert_eq!(parse_isc("ia-na \"abc", now, true).skipped.len(), 1);
    assert_eq!(parse_isc("}", now, true).skipped.len(), 1);
    assert_eq!(parse_isc("ia-na \"x\" {", now, true).skipped.len(), 1);
}

#[test]
fn kea_csv() {
    // Two bound leases (one a prefix), a released one (valid 0), a
    // declined one (state 1), an expired one, garbage.
    let text = include_str!("../../testdata/kea-leases6.csv");
    let now = 1_764_118_800;
    let imp = parse_kea_csv(text, now);
    assert_eq!(imp.leases.len(), 2, "{imp:?}");
    assert_eq!(imp.leases[0].cltt, 1_764_118_800);
    assert_eq!(imp.leases[0].name.as_deref(), Some("laptop"));
    assert_eq!(imp.leases[1].name, None);
    assert_eq!(imp.leases[1].kind, LeaseKind::Prefix);
    assert_eq!(imp.leases[1].prefix, "2001:db8:8:20::/60".parse().unwrap());
    assert_eq!((imp.not_bound, imp.expired, imp.skipped.len()), (2, 1, 1));
    assert_eq!(parse_kea_csv("a,b\n", now).skipped.len(), 1);
}
