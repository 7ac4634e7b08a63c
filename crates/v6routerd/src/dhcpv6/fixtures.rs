//! What the unit tests of the DHCPv6 service share: a kernel with one
//! served interface, and a configuration for it.

use v6common::{AddrFact, KernelView, LinkFact};

pub(super) fn view() -> KernelView {
    let mut k = KernelView::default();
    k.links.insert(
        3,
        LinkFact {
            index: 3,
            name: "lan0".into(),
            lladdr: Some(vec![2, 0, 0, 0, 0, 1]),
            mtu: 1500,
            admin_up: true,
            running: true,
            kind: Some("veth".into()),
            ..Default::default()
        },
    );
    k.upsert_addr(AddrFact::permanent(3, "2001:db8:1::1".parse().unwrap(), 64));
    k
}

pub(super) const CFG: &str = r#"
[router]
state_dir = "/tmp/x"
[[interface]]
name = "lan0"
[interface.ra]
managed = true
[interface.dhcpv6]
pool = "::1000-::1fff"
pd_pool = { prefix = "2001:db8:8::/56", delegated_length = 60 }
dns = ["2001:db8:1::1", "uplink"]
search = ["home.arpa"]
rapid_commit = true
preference = 10
[[interface.dhcpv6.host]]
duid = "00:01:00:01:11:f9:4b:5a:08:00:27:c5:40:c7"
address = "2001:db8:1::500"
[[interface.dhcpv6.host]]
mac = "08:00:27:00:00:01"
address = "2001:db8:1::501"
[[interface.dhcpv6.host]]
duid = "00:03:00:01:02:00:00:00:00:09"
iaid = 7
prefix = "2001:db8:9::/56"
[[interface]]
name = "gone0"
[interface.dhcpv6]
pool = "2001:db8:2::10-2001:db8:2::20"
"#;
