//! Golden text in odhcpd's format: the lines below are what odhcpd 24.10's
//! `dhcpv6_ia_write_statefile` prints for the same bindings (its format
//! string `"# %s %s %x %s%s %"PRId64" "` then `"%"PRIx64" %u "` for an
//! IA_NA, `"%"PRIx32" %u "` for an IA_PD, `"%s/%d "` per address, hosts
//! lines `"%s\t%s.%s\t%s\n"` before the binding's line), with hostname
//! escaping as in odhcpd 68f3826 (`statefiles_escape_hostname`).

use super::super::fixtures::view;
use super::super::links::build_links;
use super::*;
use crate::service::UplinkFacts;
use std::path::Path;
use std::sync::Arc;
use v6dhcp::wire::Duid;

const CFG: &str = r#"
[[interface]]
name = "lan0"
[interface.dhcpv6]
pool = "::1000-::1fff"
pd_pool = { prefix = "2001:db8:100::/48", delegated_length = 60 }
search = ["lan.", "home.arpa"]
[[interface.dhcpv6.host]]
name = "laptop"
mac = "02:00:00:00:00:01"
address = "2001:db8:1::1a2b"
[[interface.dhcpv6.host]]
name = "printer"
duid = "00:03:00:01:02:00:00:00:00:05"
iaid = 5
address = "2001:db8:1::10"
[[interface.dhcpv6.host]]
name = "bad name"
duid = "00:03:00:01:02:00:00:00:00:06"
address = "2001:db8:1::1066"
[[interface.dhcpv6.host]]
name = "cpe"
duid = "00:03:00:01:02:00:00:00:00:07"
prefix = "2001:db8:100:70::/60"
"#;

pub(in crate::dhcpv6) const UNIX: u64 = 1_764_900_000;

pub(in crate::dhcpv6) fn lease(
    kind: LeaseKind,
    prefix: &str,
    duid: &[u8],
    iaid: u32,
    valid: u32,
) -> Lease {
    Lease {
        kind,
        prefix: prefix.parse().unwrap(),
        duid: Duid::from_bytes(duid).unwrap(),
        iaid,
        link: Arc::from("lan0"),
        cltt: UNIX - 100,
        preferred: valid / 2,
        valid,
        state: LeaseState::Bound,
        is_static: false,
        via: None,
        name: None,
        reconfigure: None,
    }
}

/// DUID-LLT of MAC 02:00:00:00:00:NN.
pub(in crate::dhcpv6) fn llt(n: u8) -> Vec<u8> {
    vec![0, 1, 0, 1, 0x2e, 0xb5, 0x3c, 0x0a, 2, 0, 0, 0, 0, n]
}

/// DUID-LL of MAC 02:00:00:00:00:NN.
pub(in crate::dhcpv6) fn ll(n: u8) -> Vec<u8> {
    vec![0, 3, 0, 1, 2, 0, 0, 0, 0, n]
}

pub(in crate::dhcpv6) fn naming() -> Naming {
    let cfg = v6config::parse(CFG, Path::new("t.toml")).unwrap().config;
    let (links, _, _) = build_links(&cfg, &view(), &UplinkFacts::default());
    Naming::new(&cfg, &links)
}

#[test]
fn odhcpd_lines_for_named_unnamed_delegated_and_broken() {
    use LeaseKind::{Address as Na, Prefix as Pd};
    let mut declined = lease(Na, "2001:db8:1::1999/128", &ll(9), 9, 3600);
    declined.state = LeaseState::Declined;
    let mut expired = lease(Na, "2001:db8:1::1998/128", &ll(8), 8, 3600);
    expired.cltt = UNIX - 4000;
    let leases = vec![
        // laptop: two addresses in one IA_NA, named by its MAC.
        lease(Na, "fd00:1:2:3::1a2b/128", &llt(1), 0x0a0b0c0d, 3600),
        lease(Na, "2001:db8:1::1a2b/128", &llt(1), 0x0a0b0c0d, 3600),
        // No host entry: no name, no hosts line.
        lease(Na, "2001:db8:1::1234/128", &ll(2), 1, 7200),
        // printer: its reservation, never expiring.
        lease(Na, "2001:db8:1::10/128", &ll(5), 5, u32::MAX),
        // A name odhcpd would call broken.
        lease(Na, "2001:db8:1::1066/128", &ll(6), 6, 3600),
        // cpe: a delegated /60 of the /48 pool (subnet id 0x70).
        lease(Pd, "2001:db8:100:70::/60", &ll(7), 7, 3600),
        declined,
        expired,
    ];
    let n = naming();
    let b = bindings(&leases, UNIX, &n);
    let r = render(&b);
    let want = "\
2001:db8:1::10\tprinter.lan\tprinter
# lan0 00030001020000000005 5 printer -1 10 128 2001:db8:1::10/128
# lan0 00030001020000000006 6 broken\\x20bad\\x20name 1764903500 1066 128 2001:db8:1::1066/128
# lan0 00030001020000000002 1 - 1764907100 1234 128 2001:db8:1::1234/128
2001:db8:1::1a2b\tlaptop.lan\tlaptop
fd00:1:2:3::1a2b\tlaptop.lan\tlaptop
# lan0 000100012eb53c0a020000000001 a0b0c0d laptop 1764903500 1a2b 128 2001:db8:1::1a2b/128 fd00:1:2:3::1a2b/128
# lan0 00030001020000000007 7 cpe 1764903500 70 60 2001:db8:100:70::/60
";
    assert_eq!(r.text, want, "\n{}", r.text);
    assert_eq!(
        r.hosts,
        "2001:db8:1::10\tprinter.lan\tprinter\n\
         2001:db8:1::1a2b\tlaptop.lan\tlaptop\n\
         fd00:1:2:3::1a2b\tlaptop.lan\tlaptop\n"
    );
}

#[test]
fn luci_reads_each_binding_and_skips_hosts_lines() {
    // rpcd-mod-luci's lease_next: strtok on " \t\n"; fields 3 (duid), 4
    // (iaid), 5 (name), 6 (expiry), then addresses after 8; a line whose
    // 4th field is missing (a hosts line) is skipped.
    let leases = vec![lease(
        LeaseKind::Address,
        "2001:db8:1::1a2b/128",
        &llt(1),
        1,
        3600,
    )];
    let n = naming();
    let text = render(&bindings(&leases, UNIX, &n)).text;
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split([' ', '\t']).collect::<Vec<_>>())
        .filter(|f| f.len() > 3)
        .collect();
    assert_eq!(rows.len(), 1);
    let f = &rows[0];
    assert_eq!(
        (f[2], f[4], f[5]),
        ("000100012eb53c0a020000000001", "laptop", "1764903500")
    );
    assert_eq!(f[8], "2001:db8:1::1a2b/128");
    // duid2ea: a 28-digit DUID-LLT gives LuCI the MAC.
    assert!(f[2].starts_with("00010001") && f[2].len() == 28);
}

#[test]
fn without_a_domain_the_hosts_line_has_the_name_alone() {
    let cfg = v6config::parse(
        "[[interface]]\nname = \"lan0\"\n[interface.dhcpv6]\npool = \"::1000-::1fff\"\n\
         [[interface.dhcpv6.host]]\nname = \"nas\"\nmac = \"02:00:00:00:00:03\"\n\
         address = \"2001:db8:1::1003\"\n",
        Path::new("t.toml"),
    )
    .unwrap()
    .config;
    let (links, _, _) = build_links(&cfg, &view(), &UplinkFacts::default());
    let n = Naming::new(&cfg, &links);
    let leases = vec![lease(
        LeaseKind::Address,
        "2001:db8:1::1003/128",
        &ll(3),
        3,
        600,
    )];
    let r = render(&bindings(&leases, UNIX, &n));
    assert!(
        r.text.starts_with("2001:db8:1::1003\tnas\n# lan0 "),
        "{}",
        r.text
    );
}

/// A client's own name (Client FQDN, recorded with the lease) reaches the
/// hosts line without any host entry; the lease's name wins over one.
#[test]
fn the_lease_s_own_name_is_used() {
    let mut l = lease(LeaseKind::Address, "2001:db8:1::1234/128", &llt(9), 1, 600);
    l.name = Some(Arc::from("laptop"));
    let r = render(&bindings(&[l], UNIX, &naming()));
    assert!(r.text.contains("2001:db8:1::1234\tlaptop"), "{}", r.text);
}

#[test]
fn empty_when_nothing_is_leased() {
    assert_eq!(render(&bindings(&[], UNIX, &naming())), Rendered::default());
}

#[test]
fn escaping_and_host_name_rules() {
    assert_eq!(escape("a b\nc\\d.e_f-g"), "a\\x20b\\x0ac\\x5cd.e_f-g");
    assert_eq!(escape("é"), "\\xc3\\xa9");
    for ok in ["laptop", "a-b.lan", "x_y", "A1", "a.b.c"] {
        assert!(valid_hostname(ok), "{ok}");
    }
    let long = "a".repeat(64);
    for bad in ["", "-a", "a-", "_a", "a..b", "a b", "a.", long.as_str()] {
        assert!(!valid_hostname(bad), "{bad}");
    }
}
