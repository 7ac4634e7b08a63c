use super::*;

/// An RTM_NEWNEIGH payload from a 6.18 kernel's dump (x86_64), after
/// `ip -6 neigh add fe80::1 lladdr 02:00:00:00:00:01 dev v0 nud
/// permanent` (ifindex 3): NDA_DST, NDA_LLADDR, NDA_PROBES,
/// NDA_CACHEINFO.
#[test]
fn golden_kernel_neighbour() {
    let p = include_bytes!("../../testdata/ipv6_newneigh.bin");
    let (i, a, m) = neighbour(p).unwrap();
    assert_eq!((i, a), (3, "fe80::1".parse().unwrap()));
    assert_eq!(m, [2, 0, 0, 0, 0, 1]);
    // Cut anywhere: never a panic, never a wrong entry.
    for cut in 0..p.len() {
        assert!(neighbour(&p[..cut]).is_none_or(|n| n == (i, a, m)));
    }
}
