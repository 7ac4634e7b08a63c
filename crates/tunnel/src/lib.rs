//! 6in4 (SIT, RFC 4213 §3) tunnels to a tunnel broker: the desired state
//! from the configuration, what the kernel has, and the pure decision that
//! turns the one into the other.
//!
//! What a user types today for a Hurricane Electric style broker,
//!
//! ```text
//! ip tunnel add he6 mode sit remote 198.51.100.1 local 192.0.2.2 ttl 255
//! ip link set he6 up
//! ip addr add 2001:db8:f::2/64 dev he6
//! ip route add ::/0 dev he6
//! ```
//!
//! is a [`TunnelSpec`]; [`reconcile`] compares it with an [`Observed`] view of
//! the kernel and answers a list of [`Action`]s (create, keep, re-create with
//! the reason, set up, add the address, add the routes with protocol
//! `rtprot::V6ROUTER`), and [`stop`] the clean-up at shutdown. Nothing here
//! touches the system: the tunnel service (crates/v6routerd/src/tunnel.rs)
//! fills `Observed` from netlink and executes the actions through
//! crates/netlink/src/sit.rs; the broker update command is run by
//! crates/v6routerd/src/broker_update.rs when [`BrokerUpdate`] says so.

pub mod desired;
pub mod observed;
pub mod reconcile;
pub mod update;

pub use desired::{validate_all, LocalEndpoint, SpecError, TunnelAddress, TunnelSpec};
pub use observed::{Observed, ObservedLink, ObservedRoute, SitParams, OWNER_ALIAS, PROTO_IPV6};
pub use reconcile::{differences, reconcile, resolve_local, stop, Action, Memory, SitLink};
pub use update::{BrokerUpdate, Outcome, Run};
