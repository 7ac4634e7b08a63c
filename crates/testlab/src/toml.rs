//! The pieces most e2e router configs are made of, as TOML text to join with
//! `concat!` (so a test's config stays a `const` that reads top to bottom).
//! Each piece leaves its last table open, so the test adds its own keys
//! right after it. `STATE` and `SOCK` are filled in by [`crate::Lab::daemon`].

/// `[router]` with the lab's state directory and the ULA setting `ula`
/// (`"auto"`, `"off"` or a /48), and `[control]` with the lab's socket.
#[macro_export]
macro_rules! router_toml {
    ($ula:literal) => {
        concat!(
            "[router]\nstate_dir = \"STATE\"\nula = \"",
            $ula,
            "\"\n\n[control]\nsocket = \"SOCK\"\n"
        )
    };
}

/// `wan0` as the uplink, asking the ISP to delegate a /`len`; the table
/// `[interface.uplink]` stays open.
#[macro_export]
macro_rules! wan_uplink {
    ($len:literal) => {
        concat!(
            "\n[[interface]]\nname = \"wan0\"\n[interface.uplink]\nprefix_length = ",
            $len,
            "\n"
        )
    };
}

/// `lan`, numbered with the /64 number `subnet` of wan0's delegation and
/// advertised at least every 4 s; the table `[interface.ra]` stays open.
#[macro_export]
macro_rules! lan_from_wan {
    ($lan:literal, $subnet:literal) => {
        concat!(
            "\n[[interface]]\nname = \"",
            $lan,
            "\"\nassign = { from = \"wan0\", length = 64, subnet = ",
            $subnet,
            " }\n[interface.ra]\nmax_interval = 4\n"
        )
    };
}

/// `lan0` towards a cascaded router: numbered as [`lan_from_wan!`]'s
/// subnet 1 with M set and its /64 advertised, serving addresses and
/// sub-delegating /60s of wan0's delegation over DHCPv6 with the
/// lifetimes `preferred`, `valid` and the timers `renew` (T1), `rebind`
/// (T2); the table `[interface.dhcpv6]` stays open.
#[macro_export]
macro_rules! cascade_lan {
    ($preferred:literal, $valid:literal, $renew:literal, $rebind:literal) => {
        concat!(
            $crate::lan_from_wan!("lan0", 1),
            "managed = true\n[[interface.ra.prefix]]\nprefix = \"::/64\"\n\
             [interface.dhcpv6]\npool = \"::1000-::1fff\"\n\
             pd_pool = { from = \"wan0\", delegated_length = 60 }\n",
            "preferred_lifetime = ",
            $preferred,
            "\nvalid_lifetime = ",
            $valid,
            "\nrenew_time = ",
            $renew,
            "\nrebind_time = ",
            $rebind,
            "\n"
        )
    };
}

#[cfg(test)]
mod tests;
