//! The home most uplink tests start from: an ISP, the router under test and
//! one LAN host, each in its own namespace.
//!
//! ```text
//! isp: isp0 (2001:db8:ff::1/64) -- wan0 [rtr] LAN -- eth0 [host]
//! ```

use crate::{Daemon, Lab, Netns};

/// ISP, router and host, with the ISP forwarding and the host accepting
/// RAs while it forwards nothing itself.
pub struct Home {
    pub lab: Lab,
    pub isp: Netns,
    pub rtr: Netns,
    pub host: Netns,
}

impl Home {
    /// The home, with the router's LAN interface called `lan`.
    pub fn new(tag: &str, lan: &str) -> Home {
        let lab = Lab::new(tag);
        let isp = lab.netns("isp");
        let rtr = lab.netns("rtr");
        let host = lab.netns("host");
        lab.veth(&isp, "isp0", &rtr, "wan0");
        lab.veth(&rtr, lan, &host, "eth0");
        isp.sh("sysctl -qw net.ipv6.conf.all.forwarding=1");
        isp.sh("ip addr add 2001:db8:ff::1/64 dev isp0 nodad");
        host.sh("sysctl -qw net.ipv6.conf.eth0.accept_ra=2");
        Home {
            lab,
            isp,
            rtr,
            host,
        }
    }

    /// v6routerd `name` on the router with `config` (see [`Lab::daemon`]).
    pub fn router(&self, name: &str, config: &str) -> Daemon {
        self.lab.daemon(&self.rtr, name, config)
    }

    /// Kea delegating /56s of `pool` (a /40) on isp0, and radvd for the
    /// WAN's default route: [`Lab::kea_isp`].
    pub fn kea(&self, pool: &str, option_data: &str) -> u32 {
        self.lab.kea_isp(&self.isp, "isp0", pool, option_data)
    }
}
