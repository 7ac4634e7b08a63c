use super::*;

#[test]
fn filter_passes_only_rs_and_ra() {
    let f = Icmp6Filter::pass_only(&[133, 134]);
    // 133 = 4*32 + 5, 134 = 4*32 + 6: bits 5 and 6 of word 4 clear.
    assert_eq!(f.data[4], !((1 << 5) | (1 << 6)));
    assert!(f
        .data
        .iter()
        .enumerate()
        .all(|(i, w)| i == 4 || *w == u32::MAX));
}
