//! Other IPv6 servers on this router ("no silent double service").
//!
//! Two RA senders on one link with different prefixes or flags give hosts
//! addresses from both (RFC 4861 §6.2.7 asks a router to log what another
//! router advertises inconsistently; the RA service does); two DHCPv6
//! servers make clients take whichever Advertise wins (RFC 8415 §18.2.1
//! picks by preference, then any); two PD clients on the WAN ask the ISP
//! for two delegations. On OpenWrt the usual cause is odhcpd and odhcp6c
//! still running after v6router was installed. `check` and the daemon's
//! start name each such program, what it does that we do, and how to
//! switch it off.
//!
//! Finding them is pure (`find`): the process table and the UDP sockets
//! bound to the DHCPv6 ports, read from /proc by `scan`.

use std::collections::BTreeSet;
use v6config::Config;

/// What v6router does that another program may do too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Router Advertisements on a LAN.
    Ra,
    /// A DHCPv6 server (or relay) on a LAN: UDP port 547.
    Dhcpv6Server,
    /// A DHCPv6 client asking the ISP for a prefix: UDP port 546.
    Dhcpv6Client,
}

impl Role {
    fn what(self) -> &'static str {
        match self {
            Role::Ra => "sends Router Advertisements",
            Role::Dhcpv6Server => "serves DHCPv6",
            Role::Dhcpv6Client => "requests addresses and prefixes from the ISP (DHCPv6 client)",
        }
    }

    /// The UDP port a program in this role binds.
    fn port(self) -> Option<u16> {
        match self {
            Role::Ra => None,
            Role::Dhcpv6Server => Some(547),
            Role::Dhcpv6Client => Some(546),
        }
    }
}

/// The roles a configuration gives v6router.
pub fn roles_of(c: &Config) -> BTreeSet<Role> {
    let mut r = BTreeSet::new();
    for i in &c.interfaces {
        if i.ra.is_some() {
            r.insert(Role::Ra);
        }
        if i.dhcpv6.is_some() {
            r.insert(Role::Dhcpv6Server);
        }
        if i.uplink.is_some() {
            r.insert(Role::Dhcpv6Client);
        }
    }
    r
}

/// Programs known to take a role whether or not they hold a port now
/// (radvd and odhcpd's RA side use raw ICMPv6 sockets), and how to switch
/// each off.
const KNOWN: &[(&str, &[Role], &str)] = &[
    (
        "odhcpd",
        &[Role::Ra, Role::Dhcpv6Server],
        "/etc/init.d/odhcpd stop; /etc/init.d/odhcpd disable",
    ),
    (
        "odhcp6c",
        &[Role::Dhcpv6Client],
        "netifd runs it for an interface with proto 'dhcpv6': set that interface's proto to 'none' (docs/openwrt.md)",
    ),
    (
        "radvd",
        &[Role::Ra],
        "systemctl disable --now radvd (or /etc/init.d/radvd stop)",
    ),
    (
        "dhcp6s",
        &[Role::Dhcpv6Server],
        "systemctl disable --now wide-dhcpv6-server",
    ),
    (
        "dhcp6c",
        &[Role::Dhcpv6Client],
        "systemctl disable --now wide-dhcpv6-client",
    ),
    // ISC dhcpd: a DHCPv6 server only with -6 (`find` adds the role).
    (
        "dhcpd",
        &[],
        "systemctl disable --now isc-dhcp-server (its DHCPv6 half)",
    ),
    (
        "kea-dhcp6",
        &[Role::Dhcpv6Server],
        "systemctl disable --now kea-dhcp6-server",
    ),
];

/// One process, as far as this module cares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proc {
    pub pid: u32,
    /// /proc/PID/comm.
    pub comm: String,
    /// /proc/PID/cmdline, split at NUL.
    pub args: Vec<String>,
    /// The UDP ports its sockets are bound to (of the ones asked about).
    pub udp_ports: Vec<u16>,
}

/// Another program doing what we do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rival {
    pub pid: u32,
    pub name: String,
    pub roles: Vec<Role>,
    /// How to switch it off.
    pub remedy: String,
}

impl std::fmt::Display for Rival {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what: Vec<&str> = self.roles.iter().map(|r| r.what()).collect();
        write!(
            f,
            "{} (pid {}) is running and {}, as v6router does: hosts would get answers from both; {}",
            self.name,
            self.pid,
            what.join(" and "),
            self.remedy
        )
    }
}

/// The programs among `procs` that take one of `ours`. Known programs count
/// by name; any other by the DHCPv6 port it holds. v6routerd itself (this
/// process, or the running daemon when `check` asks) is not a rival.
pub fn find(procs: &[Proc], ours: &BTreeSet<Role>) -> Vec<Rival> {
    let mut out = Vec::new();
    for p in procs.iter().filter(|p| p.comm != "v6routerd") {
        let known = KNOWN.iter().find(|(n, _, _)| *n == p.comm);
        let mut roles: BTreeSet<Role> = known
            .map(|(_, r, _)| r.iter().copied().collect())
            .unwrap_or_default();
        // ISC dhcpd is a DHCPv6 server only with -6.
        if p.comm == "dhcpd" && p.args.iter().any(|a| a == "-6") {
            roles.insert(Role::Dhcpv6Server);
        }
        for r in ours {
            if r.port().is_some_and(|port| p.udp_ports.contains(&port)) {
                roles.insert(*r);
            }
        }
        let roles: Vec<Role> = roles.intersection(ours).copied().collect();
        if roles.is_empty() {
            continue;
        }
        let remedy = match known {
            Some((_, _, how)) => format!("to switch it off: {how}"),
            None => format!(
                "stop it or keep it off the links v6router serves ({})",
                p.comm
            ),
        };
        out.push(Rival {
            pid: p.pid,
            name: p.comm.clone(),
            roles,
            remedy,
        });
    }
    out
}

/// The socket inodes bound to `port` in a /proc/net/udp6 (or udp) table.
/// Lines: `sl local_address rem_address st tx_queue:rx_queue tr:tm->when
/// retrnsmt uid timeout inode ...`, the local address `HEX:PORT` in hex.
pub fn bound_inodes(table: &str, port: u16) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let local_port = f.get(1)?.rsplit(':').next()?;
            let inode = f.get(9)?.parse().ok()?;
            (u16::from_str_radix(local_port, 16).ok()? == port).then_some(inode)
        })
        .collect()
}

/// Read the process table and the DHCPv6 ports from /proc (what the
/// running user may see: as root, everything). Only processes in our own
/// network namespace: one in another cannot serve our links.
pub fn scan() -> Vec<Proc> {
    let netns = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/net")).ok();
    let ours = netns("self");
    let mut inodes: Vec<(u64, u16)> = Vec::new();
    for table in ["/proc/net/udp6", "/proc/net/udp"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for port in [546, 547] {
            inodes.extend(bound_inodes(&text, port).into_iter().map(|i| (i, port)));
        }
    }
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| ours.is_some() && netns(&pid.to_string()) == ours)
        .filter_map(|pid| read_proc(pid, &inodes))
        .collect()
}

fn read_proc(pid: u32, inodes: &[(u64, u16)]) -> Option<Proc> {
    let base = format!("/proc/{pid}");
    let comm = std::fs::read_to_string(format!("{base}/comm")).ok()?;
    let args = std::fs::read(format!("{base}/cmdline"))
        .unwrap_or_default()
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let mut udp_ports = Vec::new();
    if !inodes.is_empty() {
        for fd in std::fs::read_dir(format!("{base}/fd"))
            .into_iter()
            .flatten()
        {
            let Ok(target) = fd.and_then(|fd| std::fs::read_link(fd.path())) else {
                continue;
            };
            let t = target.to_string_lossy();
            let inode = t
                .strip_prefix("socket:[")
                .and_then(|s| s.strip_suffix(']'))
                .and_then(|s| s.parse::<u64>().ok());
            udp_ports.extend(
                inodes
                    .iter()
                    .filter(|(i, _)| Some(*i) == inode)
                    .map(|(_, p)| *p),
            );
        }
    }
    Some(Proc {
        pid,
        comm: comm.trim_end().to_string(),
        args,
        udp_ports,
    })
}

#[cfg(test)]
mod tests;
