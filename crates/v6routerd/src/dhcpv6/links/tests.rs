use super::super::fixtures::{view, CFG};
use super::*;
use std::path::Path;
use v6common::AddrFact;

#[test]
fn config_to_engine_links() {
    let cfg = v6config::parse(CFG, Path::new("t.toml")).unwrap().config;
    let (links, notes, limits) = build_links(&cfg, &view(), &UplinkFacts::default());
    assert_eq!(links.len(), 1);
    let l = &links[0];
    assert_eq!((l.name.as_str(), l.ifindex), ("lan0", 3));
    assert_eq!(
        l.address_pools,
        vec![AddressPool {
            first: "2001:db8:1::1000".parse().unwrap(),
            last: "2001:db8:1::1fff".parse().unwrap()
        }]
    );
    assert_eq!(l.prefix_pools[0].delegated_len, 60);
    assert_eq!(
        l.dns_servers,
        vec!["2001:db8:1::1".parse::<Ipv6Addr>().unwrap()]
    );
    assert!(l.rapid_commit);
    assert_eq!(l.preference, Some(10));
    assert_eq!(l.hosts.len(), 3);
    assert!(matches!(l.hosts[1].id, HostId::Mac([8, 0, 0x27, 0, 0, 1])));
    assert!(
        matches!(&l.hosts[2].id, HostId::DuidIaid(d, 7) if d.mac() == Some([2, 0, 0, 0, 0, 9]))
    );
    assert_eq!(l.hosts[2].prefix, Some("2001:db8:9::/56".parse().unwrap()));
    assert_eq!(
        notes,
        vec!["lan0 (3)".to_string(), "gone0 (absent)".to_string()]
    );
    assert_eq!(limits.addresses_per_client, 8);
    assert_eq!(limits.solicits_per_second, 2000);
}

#[test]
fn hostid_is_served_in_the_preferred_64s_and_names_go_along() {
    let toml = r#"
[[interface]]
name = "lan0"
[interface.dhcpv6]
pool = "::1000-::1fff"
[[interface.dhcpv6.host]]
mac = "08:00:27:00:00:01"
hostid = "::10"
name = "laptop"
"#;
    let cfg = v6config::parse(toml, Path::new("t.toml")).unwrap().config;
    let mut k = view();
    // Renumbered: the old /64 deprecated, a new one and a ULA besides,
    // and a /48 address that is no /64.
    let fact = |a: &str, len: u8, preferred: u32| AddrFact {
        index: 3,
        addr: a.parse().unwrap(),
        prefix_len: len,
        preferred_lft: preferred,
        valid_lft: 600,
        tentative: false,
        deprecated: preferred == 0,
        dad_failed: false,
        permanent: false,
    };
    k.upsert_addr(fact("2001:db8:1::1", 64, 0));
    k.upsert_addr(fact("2001:db8:2::1", 64, 300));
    k.upsert_addr(fact("fd00:1::1", 64, u32::MAX));
    k.upsert_addr(fact("fd00:9::1", 48, u32::MAX));
    let (links, _, _) = build_links(&cfg, &k, &UplinkFacts::default());
    let l = &links[0];
    assert_eq!(
        l.served_prefixes,
        vec![
            "2001:db8:2::/64".parse().unwrap(),
            "fd00:1::/64".parse().unwrap()
        ]
    );
    assert_eq!(
        l.address_pools[0].first,
        "2001:db8:2::1000".parse::<Ipv6Addr>().unwrap()
    );
    let h = &l.hosts[0];
    assert_eq!((h.hostid, h.name.as_deref()), (Some(0x10), Some("laptop")));
    assert!(matches!(h.id, HostId::Mac([8, 0, 0x27, 0, 0, 1])));
}

#[test]
fn relayed_links_unicast_and_information_refresh_time() {
    let toml = r#"
[[interface]]
name = "lan0"
[interface.dhcpv6]
pool = "2001:db8:1::1000-2001:db8:1::1fff"
unicast = "2001:db8:1::1"
information_refresh_time = 7200
sol_max_rt = 600
ntp = ["2001:db8:1::123"]
preferred_lifetime = 1000
valid_lifetime = 2000
dns = ["2001:db8:1::1"]
[[interface.dhcpv6.host]]
mac = "08:00:27:00:00:01"
address = "2001:db8:2::500"
[[interface.dhcpv6.host]]
mac = "08:00:27:00:00:02"
address = "2001:db8:1::500"
[[interface.dhcpv6.relayed]]
link = "2001:db8:2::/64"
name = "shed"
interface_id = "eth1"
pool = "2001:db8:2::100-2001:db8:2::1ff"
pd_pool = { prefix = "2001:db8:20::/56", delegated_length = 60 }
[[interface.dhcpv6.relayed]]
link = "2001:db8:3::/64"
pool = "::100-::1ff"
"#;
    let cfg = v6config::parse(toml, Path::new("t.toml")).unwrap().config;
    let (links, notes, _) = build_links(&cfg, &view(), &UplinkFacts::default());
    assert_eq!(links.len(), 3);
    assert_eq!(links[0].unicast, Some("2001:db8:1::1".parse().unwrap()));
    assert_eq!(links[0].information_refresh_time, Some(7200));
    assert!(!links[0].relayed);
    let shed = &links[1];
    assert_eq!(
        (shed.name.as_str(), shed.ifindex, shed.relayed),
        ("shed", 3, true)
    );
    assert_eq!(shed.interface_id.as_deref(), Some(&b"eth1"[..]));
    assert_eq!(shed.on_link, vec!["2001:db8:2::/64".parse().unwrap()]);
    assert_eq!(
        shed.address_pools[0].first,
        "2001:db8:2::100".parse::<Ipv6Addr>().unwrap()
    );
    assert_eq!(shed.prefix_pools[0].delegated_len, 60);
    assert_eq!((shed.preferred, shed.valid), (1000, 2000));
    assert_eq!(shed.dns_servers, links[0].dns_servers);
    assert_eq!(shed.information_refresh_time, Some(7200));
    // Options 82 and 56 on the remote link as on the local one.
    for l in [&links[0], shed] {
        assert_eq!((l.sol_max_rt, l.inf_max_rt), (Some(600), None));
        assert_eq!(
            l.ntp_servers,
            vec![NtpSuboption::ServerAddr("2001:db8:1::123".parse().unwrap())]
        );
    }
    assert_eq!(shed.unicast, None);
    // Only the binding on the remote link goes with it.
    assert_eq!(shed.hosts.len(), 1);
    assert_eq!(
        shed.hosts[0].address,
        Some("2001:db8:2::500".parse().unwrap())
    );
    assert_eq!(links[2].name, "2001:db8:3::/64");
    assert!(links[2].address_pools.is_empty());
    assert_eq!(
        notes,
        vec![
            "lan0 (3), relayed shed, relayed 2001:db8:3::/64 (a relayed pool must be absolute)"
                .to_string()
        ]
    );
}
