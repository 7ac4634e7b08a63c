//! The setup the DHCPv6 tests start from: the router serving DHCPv6 on
//! `lan0` and one host on the other end of the link.
//!
//! ```text
//! rtr: lan0 (2001:db8:1::1/64) -- HOST_IF [host]
//! ```

use std::time::Duration;

use crate::{wait_for, Daemon, Lab, Netns};

/// The lab, router and host, and v6routerd `r` on the router.
pub struct Setup {
    pub lab: Lab,
    pub rtr: Netns,
    pub host: Netns,
    pub d: Daemon,
}

impl Setup {
    /// Lab `tag` with the host's end of the link called `host_if`;
    /// `prepare` runs on (router, host) before v6routerd starts with
    /// `config`. Returns once `show dhcpv6` lists lan0 (within 5 s): a
    /// client started then is served.
    pub fn dhcpv6(
        tag: &str,
        host_if: &str,
        config: &str,
        prepare: impl FnOnce(&Netns, &Netns),
    ) -> Setup {
        let (lab, rtr, host) = Lab::pair(tag, ("rtr", "lan0"), ("host", host_if));
        rtr.sh("ip -6 addr add 2001:db8:1::1/64 dev lan0 nodad");
        prepare(&rtr, &host);
        let d = lab.daemon(&rtr, "r", config);
        let ok = wait_for(Duration::from_secs(5), || {
            d.ctl(&["show", "dhcpv6"]).contains("lan0 (").then_some(())
        });
        assert!(ok.is_some(), "{}", d.report(&["show", "dhcpv6"]));
        Setup { lab, rtr, host, d }
    }
}
