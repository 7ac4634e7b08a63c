//! Least privilege: once the control socket is bound and state_dir exists,
//! the daemon keeps only the capabilities its protocols need and gives up the
//! rest for good.
//!
//! - CAP_NET_ADMIN: routes, addresses, SIT tunnels, and the `net.ipv6`
//!   sysctls (the kernel's `net_ctl_permissions` grants a network admin
//!   root's access to them, so this works for uid 0 and for a service user);
//! - CAP_NET_RAW: the raw ICMPv6 socket for RS/RA, SO_BINDTODEVICE;
//! - CAP_NET_BIND_SERVICE: UDP 547 (DHCPv6 server) and 521 (RIPng), bound
//!   later, when an interface comes up.
//!
//! Everything else leaves the permitted, effective, inheritable and ambient
//! sets and the bounding set, and PR_SET_NO_NEW_PRIVS stops any exec from
//! gaining privileges back. The uid stays what it was (0 when started by
//! hand or by procd; systemd's unit already runs it as a DynamicUser with
//! these three ambient capabilities, where this is a no-op check), unless
//! `[router] user` names a user: then state_dir is given to that user and
//! the process switches to it (PR_SET_KEEPCAPS, setgroups, setresgid,
//! setresuid) and raises the three capabilities again. The net.ipv6 sysctls
//! stay writable: the kernel's `net_ctl_permissions` grants a CAP_NET_ADMIN
//! holder root's access to them.
//!
//! Capabilities are per thread in Linux: this must run while the process has
//! one thread (tokio's current-thread runtime before any blocking task), so
//! that every thread started later inherits the reduced sets.

use std::io;
use std::path::Path;

/// capability.h numbers.
pub const CAP_NET_BIND_SERVICE: u32 = 10;
pub const CAP_NET_ADMIN: u32 = 12;
pub const CAP_NET_RAW: u32 = 13;
const CAP_SETPCAP: u32 = 8;
/// What we keep.
pub const KEEP: [u32; 3] = [CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE];

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The three 64-bit capability sets of this thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

fn mask(caps: &[u32]) -> u64 {
    caps.iter().fold(0, |m, c| m | 1 << c)
}

fn capget() -> io::Result<CapSets> {
    let mut h = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut d = [CapData::default(); 2];
    // SAFETY: header and a two-element data array, as capget(2) wants for v3.
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut h as *mut CapHeader, d.as_mut_ptr()) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    let join = |lo: u32, hi: u32| u64::from(lo) | u64::from(hi) << 32;
    Ok(CapSets {
        effective: join(d[0].effective, d[1].effective),
        permitted: join(d[0].permitted, d[1].permitted),
        inheritable: join(d[0].inheritable, d[1].inheritable),
    })
}

fn capset(s: CapSets) -> io::Result<()> {
    let mut h = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let split = |v: u64| (v as u32, (v >> 32) as u32);
    let (e0, e1) = split(s.effective);
    let (p0, p1) = split(s.permitted);
    let (i0, i1) = split(s.inheritable);
    let d = [
        CapData {
            effective: e0,
            permitted: p0,
            inheritable: i0,
        },
        CapData {
            effective: e1,
            permitted: p1,
            inheritable: i1,
        },
    ];
    // SAFETY: as capget; the kernel only reads `d`.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut h as *mut CapHeader, d.as_ptr()) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The highest capability number this kernel knows.
fn last_cap() -> u32 {
    if let Some(n) = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
    {
        return n;
    }
    // Probe: PR_CAPBSET_READ fails with EINVAL past the last one.
    (0..64)
        .take_while(|&c| unsafe { libc::prctl(libc::PR_CAPBSET_READ, c as libc::c_ulong) } >= 0)
        .last()
        .unwrap_or(40)
}

fn in_bounding_set(cap: u32) -> bool {
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap as libc::c_ulong) == 1 }
}

/// The capability names this daemon can log.
pub fn name(cap: u32) -> String {
    match cap {
        CAP_NET_BIND_SERVICE => "cap_net_bind_service".into(),
        CAP_NET_ADMIN => "cap_net_admin".into(),
        CAP_NET_RAW => "cap_net_raw".into(),
        n => format!("cap_{n}"),
    }
}

fn names(m: u64) -> String {
    let v: Vec<String> = (0..64).filter(|c| m & 1 << c != 0).map(name).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(",")
    }
}

/// A user from /etc/passwd (files only: no NSS modules in a router daemon).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

pub fn lookup_user(passwd: &str, name: &str) -> Option<User> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 4 || f[0] != name {
            return None;
        }
        Some(User {
            name: name.to_string(),
            uid: f[2].parse().ok()?,
            gid: f[3].parse().ok()?,
        })
    })
}

/// Give `dir` and everything under it to `u` (no symlinks followed).
fn chown_tree(dir: &Path, u: &User) -> io::Result<()> {
    std::os::unix::fs::lchown(dir, Some(u.uid), Some(u.gid))?;
    if std::fs::symlink_metadata(dir)?.is_dir() {
        for e in std::fs::read_dir(dir)? {
            chown_tree(&e?.path(), u)?;
        }
    }
    Ok(())
}

fn check(r: libc::c_int, what: &str) -> io::Result<()> {
    if r != 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("{what}: {e}")));
    }
    Ok(())
}

/// Become `u`, keeping the permitted set across the uid change.
fn switch_user(u: &User) -> io::Result<()> {
    // SAFETY: prctl/setgroups/setresgid/setresuid with plain integer
    // arguments; glibc applies the id changes to every thread.
    unsafe {
        check(
            libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0),
            "PR_SET_KEEPCAPS",
        )?;
        check(libc::setgroups(0, std::ptr::null()), "setgroups")?;
        check(libc::setresgid(u.gid, u.gid, u.gid), "setresgid")?;
        check(libc::setresuid(u.uid, u.uid, u.uid), "setresuid")?;
        check(
            libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0),
            "PR_SET_KEEPCAPS",
        )?;
    }
    Ok(())
}

/// What `restrict` did, for the log.
#[derive(Debug)]
pub struct Report {
    pub kept: u64,
    pub missing: u64,
    pub bounding_dropped: u32,
    /// Left in the bounding set for want of CAP_SETPCAP.
    pub bounding_left: u64,
    pub threads: usize,
}

/// Drop every capability but [`KEEP`] from all sets (bounding included),
/// clear the ambient set and set no_new_privs. Errors only when the kernel
/// refuses to lower a set, which must not happen; the caller stops then.
pub fn restrict(user: Option<(&User, &Path, &[&Path])>) -> io::Result<Report> {
    let keep = mask(&KEEP);
    let before = capget()?;
    let threads = std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(1);
    // Bounding set (PR_CAPBSET_DROP needs CAP_SETPCAP in the effective set,
    // which we still hold when started as root; under systemd the unit has
    // already bounded it, checked below).
    let mut dropped = 0;
    let mut bounding_left = 0u64;
    let setpcap = before.effective & 1 << CAP_SETPCAP != 0;
    for cap in 0..=last_cap() {
        if keep & 1 << cap != 0 || !in_bounding_set(cap) {
            continue;
        }
        if !setpcap {
            // Without CAP_SETPCAP (a non-root user given ambient caps by
            // hand) it cannot be lowered; no_new_privs below still keeps an
            // exec from gaining anything through it.
            bounding_left |= 1 << cap;
            continue;
        }
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        dropped += 1;
    }
    // Ambient capabilities would survive an execve (a tunnel's
    // update_command): it gets none.
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        );
    }
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if let Some((u, state_dir, also)) = user {
        // SAFETY: getuid cannot fail.
        if unsafe { libc::getuid() } != u.uid {
            // Still holding CAP_CHOWN: the user must own its state, and the
            // directories it must remove files from at exit (the control
            // socket's, when v6routerd made it).
            chown_tree(state_dir, u).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot give {} to {}: {e}", state_dir.display(), u.name),
                )
            })?;
            for p in also {
                std::os::unix::fs::lchown(p, Some(u.uid), Some(u.gid)).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("cannot give {} to {}: {e}", p.display(), u.name),
                    )
                })?;
            }
            switch_user(u)?;
        }
    }
    let kept = before.permitted & keep;
    capset(CapSets {
        effective: kept,
        permitted: kept,
        inheritable: 0,
    })?;
    let after = capget()?;
    if after.permitted & !keep != 0 || after.effective & !keep != 0 {
        return Err(io::Error::other(format!(
            "capabilities still held after capset: {}",
            names(after.permitted & !keep)
        )));
    }
    Ok(Report {
        kept: after.effective,
        missing: keep & !after.effective,
        bounding_dropped: dropped,
        bounding_left,
        threads,
    })
}

/// Restrict and log what was kept. A failure to lower privileges is fatal:
/// a daemon that said it dropped them and did not would be worse.
pub fn restrict_and_log(
    user: Option<&str>,
    state_dir: &Path,
    also: &[&Path],
) -> Result<(), String> {
    let user = match user {
        None => None,
        Some(name) => {
            let passwd = std::fs::read_to_string("/etc/passwd")
                .map_err(|e| format!("cannot read /etc/passwd for user {name}: {e}"))?;
            Some(lookup_user(&passwd, name).ok_or_else(|| {
                format!("[router] user = \"{name}\": no such user in /etc/passwd")
            })?)
        }
    };
    let r = restrict(user.as_ref().map(|u| (u, state_dir, also)))
        .map_err(|e| format!("cannot drop privileges: {e}"))?;
    tracing::info!(
        "privileges: kept {} (bounding set: {} others dropped), no_new_privs set, uid {} gid {}",
        names(r.kept),
        r.bounding_dropped,
        // SAFETY: getuid/getgid cannot fail.
        unsafe { libc::getuid() },
        unsafe { libc::getgid() }
    );
    if r.missing != 0 {
        tracing::warn!(
            "started without {}: the services that need it will fail",
            names(r.missing)
        );
    }
    if r.bounding_left != 0 {
        tracing::warn!(
            "no CAP_SETPCAP: the bounding set still holds {} (no_new_privs is set)",
            names(r.bounding_left)
        );
    }
    if r.threads > 1 {
        tracing::warn!(
            "{} threads existed when capabilities were dropped; only this one is restricted",
            r.threads
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
