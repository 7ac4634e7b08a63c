use super::*;
use crate::parse;
use std::path::PathBuf;

fn errs(src: &str) -> Vec<Diagnostic> {
    match parse(src, &PathBuf::from("t.toml")) {
        Ok(l) => l.warnings,
        Err(d) => d.0,
    }
}

#[test]
fn pools() {
    let r = PoolRange::parse("::1000-::1fff").unwrap();
    assert!(r.relative);
    let net: Ipv6Prefix = "2001:db8:1::/64".parse().unwrap();
    assert_eq!(
        r.on(net).first,
        "2001:db8:1::1000".parse::<Ipv6Addr>().unwrap()
    );
    assert!(PoolRange::parse("2001:db8:1::2-2001:db8:1::1").is_err());
    assert!(PoolRange::parse("2001:db8:1::2-2001:db8:2::1").is_err());
    assert!(
        !PoolRange::parse("2001:db8:1::1000-2001:db8:1::1fff")
            .unwrap()
            .relative
    );
}

#[test]
fn hex() {
    assert_eq!(parse_hex_bytes("00:01:0a").unwrap(), vec![0, 1, 10]);
    assert_eq!(parse_hex_bytes("0:1").unwrap(), vec![0, 1]);
    assert!(parse_hex_bytes("001").is_err());
    assert!(parse_hex_bytes("00:123").is_err());
    assert_eq!(parse_mac("08:00:27:c5:40:c7").unwrap()[5], 0xc7);
}

#[test]
fn host_entries_by_hostid_and_name() {
    let base = "[[interface]]\nname = \"lan\"\n[interface.ra]\nmanaged = true\n[interface.dhcpv6]\n[[interface.dhcpv6.host]]\nmac = \"08:00:27:00:00:01\"\n";
    assert!(errs(&format!("{base}hostid = \"::10\"\nname = \"laptop\"\n")).is_empty());
    assert!(
        errs(&format!("{base}name = \"laptop\"\n")).is_empty(),
        "a name alone"
    );
    let d = errs(&format!("{base}hostid = \"2001:db8::10\"\n"));
    assert!(
        d[0].message.contains("not an interface identifier") && d[0].line == 8,
        "{d:?}"
    );
    let d = errs(&format!("{base}hostid = \"::\"\n"));
    assert!(
        d[0].message.contains("not an interface identifier"),
        "{d:?}"
    );
    let d = errs(&format!(
        "{base}hostid = \"::10\"\naddress = \"2001:db8::5\"\n"
    ));
    assert!(d[0].message.contains("not both"), "{d:?}");
    let d = errs(&format!("{base}name = \"my pc\"\n"));
    assert!(
        d[0].message.contains("not a host name") && d[0].line == 8,
        "{d:?}"
    );
    assert_eq!(d[0].severity, Severity::Warning);
    let d = errs(base);
    assert!(d[0].message.contains("a host needs"), "{d:?}");
}

#[test]
fn m_flag_lint() {
    let d = errs(
        "[[interface]]\nname = \"lan\"\n[interface.ra]\n[interface.dhcpv6]\npool = \"::1-::ff\"\n",
    );
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Warning);
    assert!(d[0].help.as_deref().unwrap().contains("managed = true"));
    assert_eq!(d[0].line, 3);
}

#[test]
fn ra_ranges_with_place() {
    let d = errs("[[interface]]\nname = \"lan\"\n[interface.ra]\nmax_interval = 3\nmtu = 1000\n");
    assert!(d
        .iter()
        .any(|x| x.line == 4 && x.message.contains("4..=1800")));
    assert!(d.iter().any(|x| x.line == 5 && x.message.contains("1280")));
}

#[test]
fn relay_from_names_another_interface_and_conflicts_with_assign() {
    let d = errs("[[interface]]\nname = \"lan\"\nrelay = { from = \"wan\" }\n");
    assert!(
        d.iter().any(|x| x.line == 3
            && x.key.as_deref() == Some("interface[0].relay.from")
            && x.message.contains("no interface named `wan`")),
        "{d:?}"
    );
    let d = errs("[[interface]]\nname = \"lan\"\nrelay = { from = \"lan\" }\n");
    assert!(d.iter().any(|x| x.message.contains("itself")), "{d:?}");
    let both = "[[interface]]\nname = \"wan\"\n[interface.uplink]\n[[interface]]\nname = \"lan\"\nassign = { from = \"wan\" }\nrelay = { from = \"wan\" }\n";
    let d = errs(both);
    assert!(d.iter().any(|x| x.message.contains("conflict")), "{d:?}");
    let d = errs(&both.replace(
        "relay = { from = \"wan\" }",
        "relay = { from = \"wan\", fallback = true }",
    ));
    assert!(d.iter().all(|x| !x.is_error()), "{d:?}");
}

#[test]
fn dhcpv6_max_rt_ranges_and_ntp_servers() {
    let d = errs("[[interface]]\nname = \"lan\"\n[interface.dhcpv6]\nsol_max_rt = 30\ninf_max_rt = 90000\nntp = [\"2001:db8::123\", \"ntp.home.arpa\", \"not a name\"]\n");
    assert!(
        d.iter()
            .any(|x| x.line == 4 && x.message.contains("§21.24")),
        "{d:?}"
    );
    assert!(
        d.iter()
            .any(|x| x.line == 5 && x.message.contains("§21.25")),
        "{d:?}"
    );
    assert!(
        d.iter()
            .any(|x| x.line == 6 && x.message.contains("ntp[2]")),
        "{d:?}"
    );
    assert_eq!(d.len(), 3, "{d:?}");
}

#[test]
fn references() {
    let d = errs("[[interface]]\nname = \"lan\"\nassign = { from = \"wan\" }\n");
    assert!(d[0].message.contains("no interface named `wan`"));
    assert_eq!((d[0].line, d[0].col), (3, 12));
    let d = errs("[[tunnel]]\nname = \"he6\"\nremote = \"198.51.100.1\"\n");
    assert!(d[0].message.contains("needs `wan`"));
    let d = errs("[[tunnel]]\nname = \"he6\"\nremote = \"198.51.100.1\"\nlocal = \"192.0.2.2\"\npmtudisc = false\n");
    assert!(d[0].message.contains("needs path-MTU discovery"), "{d:?}");
    assert!(errs(
        "[[tunnel]]\nname = \"he6\"\nremote = \"198.51.100.1\"\nlocal = \"192.0.2.2\"\nttl = 0\n"
    )
    .is_empty());
}

#[test]
fn lease_file_place_and_use() {
    let served = "[[interface]]\nname = \"lan\"\n[interface.dhcpv6]\n";
    let d = errs(&format!(
        "{served}[dhcpv6_state]\nlease_file = \"hosts/odhcpd\"\nlease_trigger = \" \"\n"
    ));
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(d[0].message.contains("not an absolute file path"));
    assert_eq!(
        (d[0].line, d[0].key.as_deref()),
        (5, Some("dhcpv6_state.lease_file"))
    );
    assert!(d[1].message.contains("empty"));
    assert!(errs(&format!(
        "{served}[dhcpv6_state]\nlease_file = \"/tmp/hosts/odhcpd\"\n"
    ))
    .is_empty());
    let d = errs("[dhcpv6_state]\nlease_file = \"/tmp/hosts/odhcpd\"\n");
    assert_eq!(d[0].severity, Severity::Warning);
    assert!(d[0].message.contains("stays empty"));
    let d = errs("[dhcpv6_state]\nlease_trigger = \"/bin/true\"\n");
    assert!(d[0].message.contains("lease_file"), "{d:?}");
}
