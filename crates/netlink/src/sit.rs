//! SIT (6in4) links: what the tunnel service asks of the kernel beyond what
//! every service can (addresses, routes, link up/down, MTU, alias and
//! delete are `Kernel`'s; what the kernel has is the supervisor's view).
//!
//! [`Kernel::create_sit`] is `ip tunnel add NAME mode sit remote R local L
//! ttl T` (+ `mtu`): an RTM_NEWLINK of kind `sit` with IFLA_IPTUN_PROTO =
//! IPPROTO_IPV6 (the message: `link::put_create_sit`). `link_fact` reads
//! the same parameters back from a link message (IFLA_LINKINFO /
//! IFLA_INFO_DATA, IFLA_IPTUN_*).

use crate::Kernel;
use v6common::kernel::SitLink;

pub use crate::link::PROTO_IPV6;
pub use crate::Error;

impl Kernel {
    /// Create a SIT link (down, as `ip tunnel add` leaves it).
    pub async fn create_sit(&self, req: &SitLink) -> Result<(), Error> {
        self.request(
            || format!("create sit link {} ({req})", req.name),
            |b, seq| crate::link::put_create_sit(b, req, seq),
        )
        .await
    }
}

/// The kernel's answer, if it was one of `codes`.
fn errno_in(e: &Error, codes: &[i32]) -> bool {
    e.errno().is_some_and(|c| codes.contains(&c))
}

/// True when a netlink error is the kernel's "no such device" / "no such
/// process" / "not found": the thing to delete is gone already.
pub fn is_gone(e: &Error) -> bool {
    errno_in(
        e,
        &[libc::ENODEV, libc::ESRCH, libc::EADDRNOTAVAIL, libc::ENOENT],
    )
}

/// True for EOPNOTSUPP: the kernel does not know the link kind (no sit
/// module, as on kernels built without CONFIG_IPV6_SIT).
pub fn is_unsupported(e: &Error) -> bool {
    errno_in(e, &[libc::EOPNOTSUPP])
}

/// True for EEXIST: the link, address or route is there already.
pub fn is_exists(e: &Error) -> bool {
    errno_in(e, &[libc::EEXIST])
}

#[cfg(test)]
mod tests;
