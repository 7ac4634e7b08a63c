/// The pieces join into the TOML a test would write by hand.
#[test]
fn pieces_join_into_one_config() {
    const C: &str = concat!(
        router_toml!("off"),
        wan_uplink!(56),
        "solicit_max_rt = 60\n",
        lan_from_wan!("lan0", 1),
        "managed = true\n"
    );
    assert_eq!(
            C,
            "[router]\nstate_dir = \"STATE\"\nula = \"off\"\n\n[control]\nsocket = \"SOCK\"\n\
             \n[[interface]]\nname = \"wan0\"\n[interface.uplink]\nprefix_length = 56\n\
             solicit_max_rt = 60\n\
             \n[[interface]]\nname = \"lan0\"\nassign = { from = \"wan0\", length = 64, subnet = 1 }\n\
             [interface.ra]\nmax_interval = 4\nmanaged = true\n"
        );
}

/// The cascaded LAN is the TOML the cascade tests wrote by hand.
#[test]
fn cascade_lan_is_the_hand_written_config() {
    assert_eq!(
        cascade_lan!(20, 40, 4, 6),
        concat!(
            lan_from_wan!("lan0", 1),
            r#"managed = true
[[interface.ra.prefix]]
prefix = "::/64"
[interface.dhcpv6]
pool = "::1000-::1fff"
pd_pool = { from = "wan0", delegated_length = 60 }
preferred_lifetime = 20
valid_lifetime = 40
renew_time = 4
rebind_time = 6
"#
        )
    );
}
