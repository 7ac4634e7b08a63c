//! Types shared by every v6router crate: IPv6 prefixes and the
//! supervisor's view of the kernel (links, addresses, routes).
//!
//! Nothing here touches the system but `durable`, the one writer every
//! state file goes through; the `v6netlink` crate fills the kernel types
//! from netlink and protocol engines read them.

pub mod durable;
pub mod hex;
pub mod hostname;
pub mod kernel;
pub mod prefix;

pub use kernel::{
    Addr4Fact, AddrFact, KernelEvent, KernelView, LinkFact, RouteFact, RouteKind, SitFact,
};
pub use prefix::{Ipv6Prefix, PrefixError};
