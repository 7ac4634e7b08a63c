//! The Solicit budget with virtual time.

use super::*;
use std::time::Duration;

fn addr(n: u32) -> Ipv6Addr {
    Ipv6Addr::from(0xfe80_0000_0000_0000_0000_0000_0000_0000u128 | u128::from(n))
}

#[test]
fn the_link_refills_and_a_quiet_source_is_still_answered() {
    let t0 = Instant::now();
    let mut b = SolicitBudget::new(3);
    let flood = addr(1);
    let admitted =
        |b: &mut SolicitBudget, t: Instant, n: usize| (0..n).filter(|_| b.admit(t, flood)).count();
    // The link's 3, then the source's burst of 4.
    assert_eq!(admitted(&mut b, t0, 20), 3 + 4);
    assert!(b.admit(t0, addr(2)), "another device's first Solicit");
    // Half a second later: 1.5 tokens for the link, 0.5 for the flooder.
    let t1 = t0 + Duration::from_millis(500);
    assert_eq!(admitted(&mut b, t1, 20), 1);
    // At 2 s: the link full again (3), the flooder 0.5 + 1.5 = 2.
    let t2 = t0 + Duration::from_secs(2);
    assert_eq!(admitted(&mut b, t2, 20), 3 + 2);
}

#[test]
fn the_sources_table_is_bounded() {
    let t0 = Instant::now();
    let mut b = SolicitBudget::new(0);
    let fresh = (0..2 * MAX_SOURCES as u32)
        .filter(|n| b.admit(t0, addr(*n)))
        .count();
    assert_eq!(fresh, MAX_SOURCES, "new sources past the table are refused");
    assert_eq!(b.sources.len(), MAX_SOURCES);
    // Once their buckets have refilled, quiet sources make room again.
    let later = t0 + Duration::from_secs(10);
    assert!(b.admit(later, addr(5 * MAX_SOURCES as u32)));
    assert_eq!(b.sources.len(), 1);
}
