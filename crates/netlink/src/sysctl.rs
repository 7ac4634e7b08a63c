//! IPv6 sysctls through /proc/sys (what `sysctl -w` does).

use std::io;
use std::path::PathBuf;

fn path(iface: &str, key: &str) -> PathBuf {
    PathBuf::from(format!("/proc/sys/net/ipv6/conf/{iface}/{key}"))
}

pub fn read(iface: &str, key: &str) -> io::Result<String> {
    Ok(std::fs::read_to_string(path(iface, key))?
        .trim()
        .to_string())
}

pub fn write(iface: &str, key: &str, value: &str) -> io::Result<()> {
    std::fs::write(path(iface, key), value)
}

/// net.ipv6.conf.all.forwarding.
pub fn forwarding() -> io::Result<bool> {
    Ok(read("all", "forwarding")? != "0")
}
