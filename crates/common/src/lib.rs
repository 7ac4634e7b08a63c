//! Pure types shared by every v6router crate: IPv6 prefixes and the
//! supervisor's view of the kernel (links, addresses, routes).
//!
//! Nothing here touches the system; the `v6netlink` crate fills these types
//! from netlink and protocol engines read them.

pub mod hex;
pub mod kernel;
pub mod prefix;

pub use kernel::{AddrFact, KernelEvent, KernelView, LinkFact, RouteFact, RouteKind};
pub use prefix::{Ipv6Prefix, PrefixError};
